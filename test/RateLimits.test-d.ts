/**
 * The types of the limiter and of the Redis layers: what each adds to the
 * error and requirement channels, and what each refuses.
 */
import type { Effect, Layer } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import {
  type ApiError,
  CircuitBreaker,
  type Options,
  RateLimits,
  type Redis,
  Resilience,
  RetryBudget
} from "../src/index.js"

declare const call: Effect.Effect<string, ApiError.ApiError, "Env">
declare const cost: RateLimits.Cost

describe("RateLimits.limit", () => {
  it("adds RateLimitError to E and Limiter to R, data-first and data-last", () => {
    expectTypeOf(call.pipe(RateLimits.limit(cost))).toEqualTypeOf<
      Effect.Effect<string, ApiError.ApiError | ApiError.RateLimitError, "Env" | RateLimits.Limiter>
    >()
    expectTypeOf(RateLimits.limit(call, cost, { maxWait: "1 second" })).toEqualTypeOf<
      Effect.Effect<string, ApiError.ApiError | ApiError.RateLimitError, "Env" | RateLimits.Limiter>
    >()
  })

  it("takes a cost, not raw params", () => {
    // @ts-expect-error: params go through RateLimits.estimate first
    RateLimits.limit({ max_tokens: 5 })
  })
})

describe("the Redis layers", () => {
  it("Resilience.layerRedis provides the three services and the connection, and needs nothing", () => {
    expectTypeOf(Resilience.layerRedis({ url: "redis://127.0.0.1:6379", namespace: "n" })).toEqualTypeOf<
      Layer.Layer<
        CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget | RateLimits.Limiter | Redis.Redis,
        Options.InvalidOptionsError | Redis.RedisClientError
      >
    >()
  })

  it("each part's layerRedis needs the Redis connection", () => {
    expectTypeOf(CircuitBreaker.layerRedis({ namespace: "n" })).toEqualTypeOf<
      Layer.Layer<CircuitBreaker.CircuitBreaker, Options.InvalidOptionsError, Redis.Redis>
    >()
    expectTypeOf(RetryBudget.layerRedis({ namespace: "n" })).toEqualTypeOf<
      Layer.Layer<RetryBudget.RetryBudget, Options.InvalidOptionsError, Redis.Redis>
    >()
    expectTypeOf(RateLimits.layerRedis({ namespace: "n" })).toEqualTypeOf<
      Layer.Layer<RateLimits.Limiter, Options.InvalidOptionsError, Redis.Redis>
    >()
  })

  it("a namespace is required, and a store is not an option (the store is Redis)", () => {
    // @ts-expect-error: no namespace
    RateLimits.layerRedis({ headroom: 0.2 })
    // @ts-expect-error: no namespace
    Resilience.layerRedis({ url: "redis://127.0.0.1:6379" })
    const store = null as unknown as CircuitBreaker.Store
    // @ts-expect-error: the breaker's store is Redis
    CircuitBreaker.layerRedis({ namespace: "n", store })
  })
})
