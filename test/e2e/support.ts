/**
 * Shared helpers of the end-to-end tests: the emulator-wired client with
 * pinned randomness, and exits checked to be exactly one success or exactly
 * one typed failure.
 */
import { expect } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Random from "effect/Random"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import type * as MessageStream from "../../src/MessageStream.js"
import { Emulator } from "../../src/testing/index.js"
import { runVirtual } from "../support/virtualTime.js"

/** A short request and its Token Counting prompt (see test/support/messages.ts). */
export { countParams, params } from "../support/messages.js"

/**
 * Provides `Emulator | Claude` over loopback and pins every random draw to
 * 0.5, so that the policy's full-jitter waits are exactly half their
 * ceilings: 500, 1000, 2000, 4000, 4000 ms.
 */
export const withClaude = (options: Parameters<typeof Emulator.layerClaude>[0] = {}) =>
<A, E, R>(
  effect: Effect.Effect<A, E, R>
) => effect.pipe(Effect.provide(Emulator.layerClaude(options)), Effect.withRandom(Random.fixed([0.5])))

/** The waits of the default policy with every draw 0.5. */
export const halfWaits = [500, 1000, 2000, 4000, 4000] as const

/** The arrival instants the policy promises for `n` attempts with no time spent in the attempts. */
export const instants = (n: number, waits: ReadonlyArray<number> = halfWaits): ReadonlyArray<number> => {
  const out: Array<number> = [0]
  for (let i = 1; i < n; i++) out.push(out[i - 1]! + waits[i - 1]!)
  return out
}

/** The exit is exactly one typed failure (no defect, no interruption, no second failure): returns it. */
export const oneFailure = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) {
    expect.fail(`expected one typed failure, got a success: ${JSON.stringify(exit.value)}`)
    throw new Error("unreachable")
  }
  const failures = Chunk.toReadonlyArray(Cause.failures(exit.cause))
  expect(Chunk.size(Cause.defects(exit.cause)), Cause.pretty(exit.cause)).toBe(0)
  expect(Cause.isInterrupted(exit.cause), Cause.pretty(exit.cause)).toBe(false)
  expect(failures, Cause.pretty(exit.cause)).toHaveLength(1)
  return failures[0]!
}

/** {@link runVirtual}, its giving up (a string) made a defect, so that the error type stays the call's. */
export const virtual = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, Exclude<E, string>, R> =>
  runVirtual(effect).pipe(
    Effect.catchIf((e): e is string => typeof e === "string", (message) => Effect.die(message))
  ) as Effect.Effect<A, Exclude<E, string>, R>

/** Runs a call under virtual time and returns its only typed failure. */
export const failureOf = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<Exclude<E, string>, never, R> =>
  Effect.map(Effect.exit(virtual(effect)), oneFailure)

/**
 * Runs a stream under virtual time, keeping every element the consumer
 * received, and returns them with the stream's exit.
 */
export const consume = <A, E, R>(
  stream: Stream.Stream<A, E, R>
): Effect.Effect<{ readonly received: ReadonlyArray<A>; readonly exit: Exit.Exit<void, Exclude<E, string>> }, never, R> =>
  Effect.gen(function*() {
    const received = yield* Ref.make<ReadonlyArray<A>>([])
    const exit = yield* Effect.exit(
      virtual(Stream.runForEach(stream, (a) => Ref.update(received, (all) => [...all, a])))
    )
    return { received: yield* Ref.get(received), exit }
  })

/** The type of each event, as the consumer saw it. */
export const types = (events: ReadonlyArray<MessageStream.MessageStreamEvent>): ReadonlyArray<string> =>
  events.map((event) => event.type === "unknown" ? event.raw.type : event.type)

/** The `Clock` instants at which the emulator received each request. */
export const arrivals = Effect.map(
  Emulator.Emulator,
  (emulator) => Effect.map(emulator.requests, (requests) => requests.map((r) => r.receivedAt))
).pipe(Effect.flatten)

/** The SSE events of a message with one text block, as the emulator sends them. */
export const textStreamTypes = (deltas: number): ReadonlyArray<string> => [
  "message_start",
  "ping",
  "content_block_start",
  ...Array.from({ length: deltas }, () => "content_block_delta"),
  "content_block_stop",
  "message_delta",
  "message_stop"
]

/** The emulator's default reply text (split into 16-character deltas). */
export const defaultText = "Hello from the claude-resilience emulator."

// the capturing Tracer and `render` live in test/support/capture.ts, shared
// with the hardening suites
export { makeTracer, render } from "../support/capture.js"
export type { RecordedSpan } from "../support/capture.js"
