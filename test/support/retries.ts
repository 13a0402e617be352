/**
 * Fixtures of the retry tests (`RetryPolicy`, `Resilience`): decoded error
 * responses, a scripted call that records when each attempt starts, and a
 * driver that runs an effect to its end under the TestClock, moving the
 * clock only to the next pending wake-up.
 */
import { expect } from "@effect/vitest"
import { Cause, Chunk, Clock, Duration, Effect, Exit, Fiber, Option, Ref, TestClock } from "effect"
import { ApiError } from "../../src/index.js"
import { canonicalBody } from "../../src/internal/statusTable.js"

export type Headers = Record<string, string>

/** A decoded error response, exactly as the client would see it. */
export const response = (status: number, headers: Headers = {}, body?: string) =>
  ApiError.fromResponse({ status, headers, body: body ?? canonicalBody(status), now: 0 })

/** A decoded error response that must be Retryable (the test fails if it is not). */
export const retryable = (status: number, headers: Headers = {}): ApiError.Retryable => {
  const error = response(status, headers)
  expect(ApiError.isRetryable(error)).toBe(true)
  return error as ApiError.Retryable
}

export type Outcome<E> = E | "ok"

/**
 * A call that answers `outcomes[i]` on its i-th attempt (the last outcome
 * repeats) and records the virtual instant each attempt starts. Each attempt
 * takes `duration` ms of virtual time.
 */
export const scripted = <E>(outcomes: ReadonlyArray<Outcome<E>>, duration = 0) =>
  Effect.gen(function*() {
    const starts = yield* Ref.make<ReadonlyArray<number>>([])
    const call: Effect.Effect<string, E> = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const n = (yield* Ref.getAndUpdate(starts, (s) => [...s, now])).length
      if (duration > 0) yield* Effect.sleep(Duration.millis(duration))
      const outcome = outcomes[Math.min(n, outcomes.length - 1)]!
      if (outcome === "ok") return "ok"
      return yield* Effect.fail(outcome)
    })
    return { call, starts: Ref.get(starts) }
  })

/**
 * Runs an effect to its end under the TestClock, moving the clock from one
 * pending wake-up to the next, never past the end. The effect runs in one
 * fiber, so once it is neither done nor running it has exactly one pending
 * sleep, and that sleep is the next instant anything happens: the clock is
 * moved only then (a bare `TestClock.adjust` could move it while the fiber is
 * still computing its next wait). Returns the exit and the virtual instant it
 * ended, relative to when it started.
 */
export const runTimed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const t0 = yield* Clock.currentTimeMillis
    const fiber = yield* Effect.fork(Effect.zip(Effect.exit(effect), Clock.currentTimeMillis))
    for (let step = 0; step < 1_000_000; step++) {
      const done = yield* Fiber.poll(fiber)
      if (Option.isSome(done)) {
        const [exit, endedAt] = yield* done.value
        return { exit, endedAt: endedAt - t0, t0 }
      }
      const pending = Chunk.toReadonlyArray(yield* TestClock.sleeps())
      if (pending.length === 0) {
        yield* Effect.yieldNow()
      } else {
        yield* TestClock.setTime(Math.min(...pending))
      }
    }
    return yield* Effect.dieMessage("the effect neither ended nor slept")
  })

/** The typed failure of an exit, if it has one. */
export const failureOf = <A, E>(exit: Exit.Exit<A, E>): Option.Option<E> =>
  Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
