/**
 * RateLimits.Limiter in memory, under TestClock: every wait is exact.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { DateTime, Duration, Effect, Either, Exit, FastCheck as fc, Fiber, Option, Ref, TestClock } from "effect"
import { ApiError, RateLimits } from "../src/index.js"

const iso = (millis: number) => DateTime.formatIso(DateTime.unsafeMake(millis))

/** A snapshot of one quota family, `prefix` e.g. "anthropic-ratelimit-requests". */
const snapshot = (
  quotas: ReadonlyArray<{ readonly prefix: string; readonly limit?: number; readonly remaining: number; readonly reset: number }>
) =>
  RateLimits.parse(Object.fromEntries(quotas.flatMap(({ limit, prefix, remaining, reset }) => [
    ...(limit !== undefined ? [[`${prefix}-limit`, String(limit)]] : []),
    [`${prefix}-remaining`, String(remaining)],
    [`${prefix}-reset`, iso(reset)]
  ])))

const requests = (remaining: number, reset: number, limit = 50) =>
  snapshot([{ prefix: "anthropic-ratelimit-requests", limit, remaining, reset }])

const oneRequest: RateLimits.Cost = { requests: 1, inputTokens: 0, outputTokens: 0, tokens: 0 }

/** A call through the limiter that records the virtual instant it was sent at. */
const sendAt = (sent: Ref.Ref<ReadonlyArray<number>>, cost: RateLimits.Cost = oneRequest, maxWait?: Duration.DurationInput) =>
  Effect.flatMap(TestClock.currentTimeMillis, (now) => Ref.update(sent, (all) => [...all, now])).pipe(
    RateLimits.limit(cost, maxWait === undefined ? undefined : { maxWait })
  )

const withLimiter = RateLimits.layerMemory({ headroom: 0 })

describe("RateLimits.Limiter", () => {
  it.effect("0 requests remaining until an instant: the next call's request is sent at that instant, not before", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimits.Limiter
      const sent = yield* Ref.make<ReadonlyArray<number>>([])
      yield* TestClock.setTime(1_000_000)
      yield* limiter.observe(requests(0, 1_007_250))
      const call = yield* Effect.fork(sendAt(sent))
      yield* TestClock.adjust(7_249)
      expect(yield* Ref.get(sent)).toEqual([])
      yield* TestClock.adjust(1)
      yield* Fiber.join(call)
      expect(yield* Ref.get(sent)).toEqual([1_007_250])
    }).pipe(Effect.provide(withLimiter)))

  it.effect("n requests remaining: n calls go at once; each moves the reset later by its share of the period (a token bucket), and the next goes at that reset", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimits.Limiter
      const sent = yield* Ref.make<ReadonlyArray<number>>([])
      // 50 a minute: each request takes 1.2 s to come back
      yield* limiter.observe(requests(3, 4_000, 50))
      const fibers = yield* Effect.forEach([1, 2, 3, 4], () => Effect.fork(sendAt(sent)))
      yield* TestClock.adjust(7_599)
      expect(yield* Ref.get(sent)).toEqual([0, 0, 0])
      yield* TestClock.adjust(1)
      yield* Fiber.joinAll(fibers)
      expect(yield* Ref.get(sent)).toEqual([0, 0, 0, 4_000 + 3 * 1_200])
    }).pipe(Effect.provide(withLimiter)))

  it.effect("50 concurrent calls against 10 remaining: exactly 10 sent before the reset", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimits.Limiter
      const sent = yield* Ref.make<ReadonlyArray<number>>([])
      // 10 a second: the 10 calls move the reset by 1 s
      yield* limiter.observe(requests(10, 5_000, 10))
      const fibers = yield* Effect.forEach(Array.from({ length: 50 }), () => Effect.fork(sendAt(sent)), {
        concurrency: "unbounded"
      })
      yield* TestClock.adjust(5_999)
      expect((yield* Ref.get(sent)).length).toBe(10)
      yield* TestClock.adjust(1)
      // after the reset the quota is full again: another 10 (its size), then a wait of one period
      expect((yield* Ref.get(sent)).filter((at) => at === 6_000).length).toBe(10)
      yield* Effect.forEach(fibers, Fiber.interrupt)
    }).pipe(Effect.provide(RateLimits.layerMemory({ headroom: 0, period: "1 second" }))))

  it.effect("a response that arrives late (more remaining, an earlier reset) never raises what is left", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimits.Limiter
      const sent = yield* Ref.make<ReadonlyArray<number>>([])
      yield* limiter.observe(requests(2, 10_000))
      yield* sendAt(sent)
      yield* sendAt(sent)
      // an older response: 5 left, full at 8 s
      yield* limiter.observe(requests(5, 8_000))
      const third = yield* Effect.fork(sendAt(sent))
      // the reset the limiter knows, moved by its own two calls (1.2 s each at 50 a minute)
      yield* TestClock.adjust(12_399)
      expect(yield* Ref.get(sent)).toEqual([0, 0])
      yield* TestClock.adjust(1)
      yield* Fiber.join(third)
      expect(yield* Ref.get(sent)).toEqual([0, 0, 12_400])
    }).pipe(Effect.provide(withLimiter)))

  it.effect("calls admitted before the first response count against the quota it reports", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimits.Limiter
      const sent = yield* Ref.make<ReadonlyArray<number>>([])
      // nothing known: 5 calls go at once
      yield* Effect.forEach([1, 2, 3, 4, 5], () => sendAt(sent))
      // the first response: limit 6 a minute, 5 left, full at 30 s (it counted only its own call)
      yield* limiter.observe(requests(5, 30_000, 6))
      // one left (6 - 5 sent); the reset is no earlier than what the 5 calls take to come back (50 s)
      yield* sendAt(sent)
      const seventh = yield* Effect.fork(sendAt(sent))
      yield* TestClock.adjust(59_999)
      expect((yield* Ref.get(sent)).length).toBe(6)
      yield* TestClock.adjust(1)
      yield* Fiber.join(seventh)
      expect((yield* Ref.get(sent)).at(-1)).toBe(60_000)
    }).pipe(Effect.provide(withLimiter)))

  it.effect("a 429's retry-after blocks every call of the organisation until that instant, from any fiber", () =>
    Effect.gen(function*() {
      const sent = yield* Ref.make<ReadonlyArray<number>>([])
      yield* TestClock.setTime(5_000)
      const error = ApiError.fromResponse({
        status: 429,
        headers: { "retry-after": "3" },
        body: JSON.stringify({ type: "error", error: { type: "rate_limit_error", message: "slow down" } })
      })
      assert(error._tag === "RateLimitError")
      // the 429 is seen by one fiber ...
      yield* Effect.fork(Effect.fail(error).pipe(RateLimits.limit(oneRequest), Effect.ignore))
      yield* Effect.yieldNow()
      // ... and blocks the others
      const others = yield* Effect.forEach([1, 2, 3], () => Effect.fork(sendAt(sent)))
      yield* TestClock.adjust(2_999)
      expect(yield* Ref.get(sent)).toEqual([])
      yield* TestClock.adjust(1)
      yield* Fiber.joinAll(others)
      expect(yield* Ref.get(sent)).toEqual([8_000, 8_000, 8_000])
    }).pipe(Effect.provide(withLimiter)))

  it.effect("a reset a year away (a clock far off, a hostile proxy) holds the calls for two periods, not a year", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimits.Limiter
      const sent = yield* Ref.make<ReadonlyArray<number>>([])
      yield* TestClock.setTime(1_000_000)
      yield* limiter.observe(requests(0, 1_000_000 + 365 * 86_400_000))
      const call = yield* Effect.fork(sendAt(sent))
      yield* TestClock.adjust(119_999)
      expect(yield* Ref.get(sent)).toEqual([])
      yield* TestClock.adjust(1)
      yield* Fiber.join(call)
      expect(yield* Ref.get(sent)).toEqual([1_120_000])
    }).pipe(Effect.provide(withLimiter)))

  it.effect("a 429's retry-after of a day blocks the organisation for two periods (the retry policy decides for its own call)", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimits.Limiter
      const sent = yield* Ref.make<ReadonlyArray<number>>([])
      yield* limiter.block("1 day")
      const call = yield* Effect.fork(sendAt(sent))
      yield* TestClock.adjust(119_999)
      expect(yield* Ref.get(sent)).toEqual([])
      yield* TestClock.adjust(1)
      yield* Fiber.join(call)
      expect(yield* Ref.get(sent)).toEqual([120_000])
    }).pipe(Effect.provide(withLimiter)))

  it.effect("a wait longer than maxWait fails at once with the RateLimitError the call would have met; nothing is sent or counted", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimits.Limiter
      const sent = yield* Ref.make<ReadonlyArray<number>>([])
      yield* limiter.observe(requests(0, 20_000))
      const exit = yield* Effect.exit(sendAt(sent, oneRequest, "15 seconds"))
      expect(yield* TestClock.currentTimeMillis).toBe(0)
      expect(yield* Ref.get(sent)).toEqual([])
      assert(Exit.isFailure(exit))
      const error = Option.getOrThrow(Exit.causeOption(exit).pipe(Option.flatMap((c) => Option.fromNullable(c._tag === "Fail" ? c.error : undefined))))
      assert(error._tag === "RateLimitError")
      expect(error.status).toBe(429)
      expect(ApiError.isRetryable(error)).toBe(true)
      expect(Option.map(error.retryAfter, Duration.toMillis)).toEqual(Option.some(20_000))
      expect(error.message).toContain("requests quota is spent until 1970-01-01T00:00:20.000Z")
      expect(error.message).toContain("not sent")
      expect(Option.getOrNull(error.rateLimits.requests.remaining)).toBe(0)
      // a wait that fits is taken
      const fits = yield* Effect.fork(sendAt(sent, oneRequest, "20 seconds"))
      yield* TestClock.adjust(20_000)
      yield* Fiber.join(fits)
      expect(yield* Ref.get(sent)).toEqual([20_000])
    }).pipe(Effect.provide(withLimiter)))

  it.effect("input tokens: the estimate plus the headroom must fit what is left", () =>
    Effect.gen(function*() {
      const cost: RateLimits.Cost = { requests: 1, inputTokens: 950, outputTokens: 0, tokens: 950 }
      const inputs = snapshot([{ prefix: "anthropic-ratelimit-input-tokens", limit: 10_000, remaining: 1_000, reset: 6_000 }])
      const admittedAt = (headroom: number) =>
        Effect.gen(function*() {
          const limiter = yield* RateLimits.make({ headroom })
          yield* limiter.observe(inputs)
          const fiber = yield* Effect.fork(Effect.zipRight(limiter.admit(cost), TestClock.currentTimeMillis))
          yield* TestClock.adjust(6_000)
          return yield* Fiber.join(fiber)
        })
      expect(yield* admittedAt(0)).toBe(0)
      // 950 × 1.1 = 1045 > 1000: wait for the input-token reset
      expect(yield* admittedAt(0.1)).toBe(6_000)
    }))

  it.effect("output tokens are max_tokens; the latest reset of the spent quotas is the wait", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimits.Limiter
      yield* limiter.observe(snapshot([
        { prefix: "anthropic-ratelimit-output-tokens", limit: 8_000, remaining: 1_000, reset: 9_000 },
        { prefix: "anthropic-ratelimit-requests", limit: 50, remaining: 0, reset: 4_000 }
      ]))
      const fiber = yield* Effect.fork(Effect.zipRight(
        limiter.admit(RateLimits.estimate({ max_tokens: 2_048, messages: [] })),
        TestClock.currentTimeMillis
      ))
      yield* TestClock.adjust(10_000)
      expect(yield* Fiber.join(fiber)).toBe(9_000)
    }).pipe(Effect.provide(withLimiter)))

  it.effect("a call larger than the whole quota goes when the quota is full, rather than waiting for ever", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimits.Limiter
      yield* limiter.observe(snapshot([{ prefix: "anthropic-ratelimit-input-tokens", limit: 1_000, remaining: 400, reset: 2_000 }]))
      const big: RateLimits.Cost = { requests: 1, inputTokens: 5_000, outputTokens: 0, tokens: 5_000 }
      const fiber = yield* Effect.fork(Effect.zipRight(limiter.admit(big), TestClock.currentTimeMillis))
      yield* TestClock.adjust(2_000)
      expect(yield* Fiber.join(fiber)).toBe(2_000)
    }).pipe(Effect.provide(withLimiter)))

  it.effect("a quota spent since its reset, before any response said when it refills, waits one period after the last call, or until a response's later reset", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimits.Limiter
      const sent = yield* Ref.make<ReadonlyArray<number>>([])
      yield* limiter.observe(requests(0, 1_000, 2))
      yield* TestClock.adjust(1_000)
      // full again: its limit of 2 go
      yield* sendAt(sent)
      yield* sendAt(sent)
      const third = yield* Effect.fork(sendAt(sent))
      yield* TestClock.adjust(59_999)
      expect(yield* Ref.get(sent)).toEqual([1_000, 1_000])
      yield* TestClock.adjust(1)
      yield* Fiber.join(third)
      expect(yield* Ref.get(sent)).toEqual([1_000, 1_000, 61_000])
      // the same, but a response says the quota refills later than the limiter's own bound (61 s + 2 × 30 s)
      yield* sendAt(sent)
      const fifth = yield* Effect.fork(sendAt(sent))
      yield* limiter.observe(requests(0, 130_000, 2))
      yield* TestClock.adjust(68_999)
      expect((yield* Ref.get(sent)).length).toBe(4)
      yield* TestClock.adjust(1)
      yield* Fiber.join(fifth)
      expect((yield* Ref.get(sent)).slice(3)).toEqual([61_000, 130_000])
    }).pipe(Effect.provide(withLimiter)))

  it.effect("state reads what is left after the calls admitted", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimits.Limiter
      yield* limiter.observe(requests(7, 5_000, 10))
      yield* limiter.admit(oneRequest)
      const state = yield* limiter.state
      expect(Option.getOrNull(state.requests.remaining)).toBe(6)
      expect(Option.getOrNull(state.requests.limit)).toBe(10)
      // the call's share of the minute: 6 s later
      expect(Option.map(state.requests.reset, DateTime.toEpochMillis)).toEqual(Option.some(11_000))
    }).pipe(Effect.provide(withLimiter)))
})

describe("RateLimits.estimate", () => {
  it("a quarter of the JSON's UTF-8 bytes, max_tokens as output, a base64 block as 1,600 tokens", () => {
    const params = { model: "m", max_tokens: 300, messages: [{ role: "user", content: "é".repeat(100) }] }
    const bytes = new TextEncoder().encode(JSON.stringify(params)).length
    expect(RateLimits.estimate(params)).toEqual({
      requests: 1,
      inputTokens: Math.ceil(bytes / 4),
      outputTokens: 300,
      tokens: Math.ceil(bytes / 4) + 300
    })
    const image = {
      max_tokens: 10,
      messages: [{
        role: "user",
        content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: "A".repeat(4_000_000) } }]
      }]
    }
    const withoutData = JSON.stringify({
      max_tokens: 10,
      messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: "" } }] }]
    })
    expect(RateLimits.estimate(image).inputTokens).toBe(Math.ceil(withoutData.length / 4) + 1_600)
  })

  it("is total: any value estimates to non-negative integers (1 000 runs)", () => {
    fc.assert(fc.property(fc.anything({ withBigInt: true, withMap: true, withSet: true, withTypedArray: true }), (value) => {
      const cost = RateLimits.estimate(value)
      return [cost.inputTokens, cost.outputTokens, cost.tokens].every((n) => Number.isSafeInteger(n) && n >= 0) &&
        cost.requests === 1
    }), { numRuns: 1_000 })
    const cyclic: Record<string, unknown> = { max_tokens: 5 }
    cyclic.self = cyclic
    expect(RateLimits.estimate(cyclic)).toEqual({ requests: 1, inputTokens: 0, outputTokens: 5, tokens: 5 })
  })
})

describe("RateLimits options", () => {
  it("every problem at its path, in one InvalidOptionsError", () => {
    const result = RateLimits.settings({ headroom: -1, period: "soon", stor: 1 } as never)
    assert(Either.isLeft(result))
    expect(result.left.module).toBe("RateLimits")
    expect(result.left.problems.map((p) => p.path).sort()).toEqual(["headroom", "period", "stor"])
    expect(result.left.problems.find((p) => p.path === "stor")?.message).toContain(`did you mean "store"`)
  })

  it.effect("layerMemory fails with it, nothing built", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.provide(RateLimits.Limiter, RateLimits.layerMemory(null as never)))
      assert(Exit.isFailure(exit))
      expect(String(exit.cause)).toContain("InvalidOptionsError")
    }))
})
