/**
 * Issue 9, item 10: a call can no longer wait forever. `retry: { maxElapsed:
 * Infinity }` is refused (typed), every wall-clock limit is at most
 * `RetryPolicy.limits.maxElapsed` (1 hour), and no single wait is longer
 * than the limit, so a `retry-after-ms` of 400 digits ends the call at once,
 * typed, without sleeping. (Issue 11 named the wall-clock limit `maxElapsed`;
 * it was `budget`.)
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Cause, Duration, Effect, Either, Exit, FastCheck as fc, Option, Random, TestClock } from "effect"
import { ApiError, Claude, RetryPolicy } from "../../../src/index.js"
import { runVirtual } from "../../support/virtualTime.js"
import { errorBody, ourClient, params, scriptedServer } from "../../support/scripted.js"

const HUGE = "9".repeat(400)

/** The call's exit under virtual time (giving up after a few clock moves rather than hanging). */
const exitOf = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.exit(runVirtual(effect, { maxSteps: 20 }))

const onlyFailure = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) return assert.fail("expected a typed failure, got a success")
  expect(Cause.isDie(exit.cause), Cause.pretty(exit.cause)).toBe(false)
  expect(Cause.isInterrupted(exit.cause), Cause.pretty(exit.cause)).toBe(false)
  return Option.getOrThrow(Cause.failureOption(exit.cause))
}

describe("the wall-clock limit is finite", () => {
  it("an infinite (or over an hour) maxElapsed is refused, naming it", () => {
    for (const maxElapsed of [Number.POSITIVE_INFINITY, Duration.infinity, "2 hours"] as const) {
      const result = RetryPolicy.make({ maxElapsed })
      assert.isTrue(Either.isLeft(result), `maxElapsed ${String(maxElapsed)}`)
      const error = Either.getLeft(result).pipe(Option.getOrThrow)
      expect(error.problems.map((p) => p.path)).toEqual(["maxElapsed"])
      expect(error.message).toContain("maxElapsed: must be a duration from zero to 1h")
    }
  })

  it.effect("a client given retry: { maxElapsed: Infinity } fails typed and sends nothing", () =>
    Effect.gen(function*() {
      const server = yield* scriptedServer([{ status: 429, headers: { "retry-after-ms": HUGE }, body: errorBody("rate_limit_error", "slow down") }])
      const call = Effect.flatMap(Claude.Claude, (claude) => claude.messages.create(params)).pipe(
        Effect.provide(ourClient(server.url, { retry: { maxElapsed: Number.POSITIVE_INFINITY } }))
      )
      const error = onlyFailure(yield* exitOf(call))
      expect(typeof error === "string" ? error : error._tag).toBe("InvalidOptionsError")
      expect(server.requests).toHaveLength(0)
      expect(yield* TestClock.currentTimeMillis).toBe(0)
    }).pipe(Effect.scoped))
})

describe("a 400-digit retry-after ends the call at once, typed, without sleeping", () => {
  const replies = [
    ["retry-after-ms of 400 digits", { "retry-after-ms": HUGE }],
    ["retry-after of 400 digits", { "retry-after": HUGE }],
    ["retry-after in the year 9999", { "retry-after": "Fri, 31 Dec 9999 23:59:59 GMT" }]
  ] as const
  for (const [name, headers] of replies) {
    it.effect(`${name}, under the longest maxElapsed allowed (1 hour)`, () =>
      Effect.gen(function*() {
        const server = yield* scriptedServer([{ status: 429, headers, body: errorBody("rate_limit_error", "slow down") }])
        const call = Effect.flatMap(Claude.Claude, (claude) => claude.messages.create(params)).pipe(
          Effect.provide(ourClient(server.url, { retry: { maxElapsed: RetryPolicy.limits.maxElapsed } }))
        )
        const error = onlyFailure(yield* exitOf(call))
        if (typeof error === "string") return assert.fail(error)
        assert.strictEqual(error._tag, "RateLimitError")
        assert.isTrue(ApiError.isRetryable(error))
        // one request, and no virtual time passed: runVirtual moves the clock to
        // any sleep the call is in, so a call that slept would end later than 0
        expect(server.requests).toHaveLength(1)
        expect(yield* TestClock.currentTimeMillis).toBe(0)
      }).pipe(Effect.scoped, Effect.withRandom(Random.fixed([0.5]))))
  }
})

describe("property: whatever the options and the retry-after, no wait exceeds maxElapsed's ceiling", () => {
  const ceiling = Duration.toMillis(RetryPolicy.limits.maxElapsed)

  it.effect("every wait, and their sum, is at most 1 hour (2 000 runs)", () =>
    Effect.sync(() => {
      fc.assert(
        fc.property(
          fc.record({
            base: fc.oneof(fc.nat(), fc.double({ min: 0, max: 1e12, noNaN: true })),
            cap: fc.oneof(fc.nat(), fc.constant(Duration.infinity)),
            maxElapsed: fc.oneof(fc.nat({ max: 4_000_000 }), fc.constant(Number.POSITIVE_INFINITY)),
            factor: fc.double({ min: 0.5, max: 1e6, noNaN: true }),
            maxRetries: fc.nat({ max: 2_000 }),
            jitter: fc.constantFrom<RetryPolicy.Jitter>("full", "equal", "decorrelated", "none")
          }, { requiredKeys: [] }),
          fc.oneof(fc.nat().map(String), fc.constant(HUGE), fc.constant("1e400")),
          fc.integer(),
          (options, retryAfterMs, seed) => {
            const policy = RetryPolicy.make(options)
            if (Either.isLeft(policy)) return
            const error = ApiError.fromResponse({ status: 529, headers: { "retry-after-ms": retryAfterMs }, body: "", now: 0 })
            if (!ApiError.isRetryable(error)) return assert.fail("529 is Retryable")
            const schedule = RetryPolicy.schedule(policy.right)
            Effect.runSync(Effect.gen(function*() {
              let state = schedule.initial
              let now = 0
              for (let i = 0; i <= policy.right.maxRetries; i++) {
                const [next, decision] = yield* schedule.step(now, error, state)
                if (decision._tag === "GiveUp") return
                const wait = Duration.toMillis(decision.wait)
                assert.isTrue(wait <= ceiling, `wait ${wait}`)
                now += wait
                assert.isTrue(now <= ceiling, `total ${now}`)
                state = next
              }
            }).pipe(Effect.withRandom(Random.make(seed))))
          }
        ),
        { numRuns: 2_000 }
      )
    }))
})
