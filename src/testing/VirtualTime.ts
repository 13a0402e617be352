/**
 * Virtual time over real sockets: run an effect whose waits are on the
 * `TestClock` while real loopback I/O (the {@link Emulator}) carries its
 * bytes.
 *
 * `TestClock.adjust` alone races the I/O: moving the clock while a reply is
 * still on the wire can fire a timeout or a retry that real time never would,
 * and a test that adjusts too little hangs. {@link run} lets real I/O settle
 * first: it yields in real time until the set of pending `TestClock` sleeps
 * has stayed the same for a few polls (nothing is moving but virtual timers),
 * then moves the clock to the earliest pending wake-up, and repeats until the
 * effect is done. Retry waits, backoff, `retry-after` floors and timeouts
 * then happen at their exact virtual instants, and a test of a 15-second
 * retry budget runs in milliseconds.
 *
 * @since 0.1.0
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { dual } from "effect/Function"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import * as TestServices from "effect/TestServices"

/**
 * How {@link run} watches the effect.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Real milliseconds between two polls (default 5; a positive number). */
  readonly pollMillis?: number | undefined
  /** Polls with an unchanged set of sleeps before the clock moves (default 4; a positive integer). */
  readonly stablePolls?: number | undefined
  /** The most clock moves before giving up (default 10 000; a positive integer). */
  readonly maxSteps?: number | undefined
}

/**
 * {@link run} could not drive the effect to its end:
 *
 * - `NoTestClock`: the clock in use is not a `TestClock`. Run under
 *   `it.effect` from `@effect/vitest`, or provide `TestContext.TestContext`.
 * - `StepLimit`: the clock moved `maxSteps` times and the effect was still
 *   running (a schedule that never ends, e.g. `Schedule.forever`); the effect
 *   was interrupted.
 * - `InvalidOptions`: an option is out of range.
 *
 * @since 0.1.0
 * @category errors
 */
export class VirtualTimeError extends Schema.TaggedError<VirtualTimeError>()("VirtualTimeError", {
  reason: Schema.Literal("NoTestClock", "StepLimit", "InvalidOptions"),
  message: Schema.String
}) {}

const liveSleep = (millis: number) => TestServices.provideLive(Effect.sleep(millis))

const snapshot = Effect.map(TestClock.sleeps(), (sleeps) => Chunk.toReadonlyArray(sleeps).join(","))

const isTestClock = Effect.clockWith((clock) =>
  Effect.succeed(typeof (clock as Partial<TestClock.TestClock>).setTime === "function" &&
    Effect.isEffect((clock as Partial<TestClock.TestClock>).sleeps))
)

const checkOption = (name: keyof Options, value: number | undefined, fallback: number, integer: boolean) =>
  value === undefined
    ? Effect.succeed(fallback)
    : Number.isFinite(value) && value > 0 && (!integer || Number.isInteger(value))
    ? Effect.succeed(value)
    : Effect.fail(
      new VirtualTimeError({
        reason: "InvalidOptions",
        message: `VirtualTime.run: ${name} must be a positive ${integer ? "integer" : "number"}, got ${String(value)}`
      })
    )

const runImpl = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  options: Options = {}
): Effect.Effect<A, E | VirtualTimeError, R> =>
  Effect.gen(function*() {
    const pollMillis = yield* checkOption("pollMillis", options.pollMillis, 5, false)
    const stablePolls = yield* checkOption("stablePolls", options.stablePolls, 4, true)
    const maxSteps = yield* checkOption("maxSteps", options.maxSteps, 10_000, true)
    if (!(yield* isTestClock)) {
      return yield* new VirtualTimeError({
        reason: "NoTestClock",
        message: "VirtualTime.run: the clock is not a TestClock; run under it.effect from @effect/vitest, " +
          "or provide TestContext.TestContext"
      })
    }
    const fiber = yield* Effect.fork(effect)
    for (let step = 0; step < maxSteps; step++) {
      let stable = 0
      let last = yield* snapshot
      while (true) {
        yield* liveSleep(pollMillis)
        const exit = yield* Fiber.poll(fiber)
        if (Option.isSome(exit)) {
          return yield* Exit.matchEffect(exit.value, { onFailure: Effect.failCause, onSuccess: Effect.succeed })
        }
        const now = yield* snapshot
        if (now !== "" && now === last) {
          stable++
          if (stable >= stablePolls) break
        } else {
          stable = 0
          last = now
        }
      }
      const sleeps = Chunk.toReadonlyArray(yield* TestClock.sleeps())
      yield* TestClock.setTime(Math.min(...sleeps))
    }
    yield* Fiber.interrupt(fiber)
    return yield* new VirtualTimeError({
      reason: "StepLimit",
      message: `VirtualTime.run: the effect was still running after ${maxSteps} clock moves; it was interrupted`
    })
  })

/**
 * Runs `effect` to its end, moving the `TestClock` only while real I/O is
 * quiet: each time the pending `TestClock` sleeps have stayed the same for
 * `stablePolls` polls, `pollMillis` real milliseconds apart, the clock moves
 * to the earliest of them. The result is the effect's own (its success, or
 * its failure unchanged); `VirtualTimeError` is added for a run that cannot
 * be driven (no `TestClock`, `maxSteps` moves reached, bad options).
 *
 * Needs the `TestClock` (`it.effect` from `@effect/vitest` provides it).
 * Time the effect spends waiting on real I/O is not virtual: a reply that
 * never comes keeps the run waiting in real time, so give such calls a
 * timeout (the client's own timeouts are on the `Clock`).
 *
 * @example
 * ```ts
 * import { describe, expect, it } from "@effect/vitest"
 * import { Effect, Random } from "effect"
 * import { Claude } from "claude-resilience"
 * import { Emulator, VirtualTime } from "claude-resilience/testing"
 *
 * describe("retries", () => {
 *   it.effect("529, 529, then 200: waits of 500 ms and 1 s", () =>
 *     Effect.gen(function*() {
 *       const claude = yield* Claude.Claude
 *       yield* VirtualTime.run(claude.messages.create({
 *         model: "claude-sonnet-5-5",
 *         max_tokens: 1024,
 *         messages: [{ role: "user", content: "Hello, Claude" }]
 *       }))
 *       const requests = yield* (yield* Emulator.Emulator).requests
 *       expect(requests.map((r) => r.receivedAt)).toEqual([0, 500, 1500])
 *     }).pipe(
 *       Effect.provide(Emulator.layerClaude({
 *         script: Emulator.sequence([Emulator.Reply.Error({ status: 529 }), Emulator.Reply.Error({ status: 529 })])
 *       })),
 *       Effect.withRandom(Random.fixed([0.5]))
 *     ))
 * })
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const run: {
  (options?: Options): <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | VirtualTimeError, R>
  <A, E, R>(effect: Effect.Effect<A, E, R>, options?: Options): Effect.Effect<A, E | VirtualTimeError, R>
} = dual((args) => Effect.isEffect(args[0]), runImpl)
