/**
 * The seeds' unified policy in one line: retry (full-jitter backoff,
 * `retry-after` floor, 15 s budget, 500 once) around a circuit breaker, with
 * a process-wide retry budget.
 *
 * ```ts
 * effect.pipe(Resilience.protect())                  // the seeds' defaults
 * Effect.provide(program, Resilience.layer())        // one breaker and one budget per process
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { dual } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Predicate from "effect/Predicate"
import * as CircuitBreaker from "./CircuitBreaker.js"
import * as RetryBudget from "./RetryBudget.js"
import * as RetryPolicy from "./RetryPolicy.js"

/**
 * The shared parts, made once per process: the breaker and the budget.
 *
 * @since 0.1.0
 * @category models
 */
export interface LayerOptions {
  readonly breaker?: CircuitBreaker.Options | undefined
  readonly budget?: RetryBudget.Options | undefined
}

/**
 * One {@link CircuitBreaker.CircuitBreaker} and one
 * {@link RetryBudget.RetryBudget}, with the seeds' defaults unless
 * overridden: the breaker opens at ≥ 30 % server-side failures over the last
 * 30 s with at least 10 calls, half-opens after 30 s with 3 probes; retries
 * stay ≤ 20 % of first attempts plus 10 per second, plus the budget's
 * starting reserve of 100.
 *
 * Options that are not an object (`null` from untyped code) fail the layer
 * with an `InvalidRetryBudgetOptionsError` naming `options`; each part's
 * own options are validated by its module.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: LayerOptions = {}
): Layer.Layer<
  CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget,
  CircuitBreaker.InvalidCircuitBreakerOptionsError | RetryBudget.InvalidRetryBudgetOptionsError
> => {
  const invalid = (reason: string) =>
    Layer.fail(
      new RetryBudget.InvalidRetryBudgetOptionsError({
        message: `Invalid Resilience.layer options: options ${reason}`,
        problems: [{ option: "options", reason }]
      })
    )
  const given: unknown = options
  if (!Predicate.isRecord(given)) {
    return invalid(`must be an object with optional breaker and budget, got ${given === null ? "null" : typeof given}`)
  }
  return Either.match(Either.try(() => ({ breaker: options.breaker, budget: options.budget })), {
    onLeft: () => invalid("threw when read"),
    onRight: ({ breaker, budget }) => Layer.merge(CircuitBreaker.layer(breaker), RetryBudget.layer(budget))
  })
}

/**
 * Wraps `self` in the unified policy: each attempt passes through the
 * {@link CircuitBreaker.CircuitBreaker} of the context (an open breaker ends
 * the call at once with `CircuitOpenError`), and failed attempts are retried
 * by {@link RetryPolicy.retry} (only `Retryable` errors; Fatal ones and
 * anything else leave at once), drawing on the {@link RetryBudget.RetryBudget}
 * when one is provided. Pass a built policy, or its options (validated when
 * the effect runs).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ApiError, Resilience } from "claude-resilience"
 *
 * declare const call: Effect.Effect<string, ApiError.ApiError>
 *
 * // the seeds' defaults, in one line
 * const safe = call.pipe(Resilience.protect(), Effect.provide(Resilience.layer()))
 *
 * // every option overridden
 * const tuned = call.pipe(
 *   Resilience.protect({ base: "500 millis", cap: "4 seconds", jitter: "equal", maxRetries: 3, budget: "10 seconds" }),
 *   Effect.provide(Resilience.layer({
 *     breaker: { failureRateThreshold: 0.5, window: "1 minute", minimumCalls: 20, openDuration: "10 seconds" },
 *     budget: { percent: 0.1, minRetriesPerSecond: 5, ttl: "30 seconds" }
 *   }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const protect: {
  (
    policy?: RetryPolicy.RetryPolicy
  ): <A, E, R>(
    self: Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | CircuitBreaker.CircuitOpenError, R | CircuitBreaker.CircuitBreaker>
  (
    options: RetryPolicy.Options
  ): <A, E, R>(
    self: Effect.Effect<A, E, R>
  ) => Effect.Effect<
    A,
    E | CircuitBreaker.CircuitOpenError | RetryPolicy.InvalidRetryOptionsError,
    R | CircuitBreaker.CircuitBreaker
  >
  <A, E, R>(
    self: Effect.Effect<A, E, R>,
    policy?: RetryPolicy.RetryPolicy
  ): Effect.Effect<A, E | CircuitBreaker.CircuitOpenError, R | CircuitBreaker.CircuitBreaker>
  <A, E, R>(
    self: Effect.Effect<A, E, R>,
    options: RetryPolicy.Options
  ): Effect.Effect<
    A,
    E | CircuitBreaker.CircuitOpenError | RetryPolicy.InvalidRetryOptionsError,
    R | CircuitBreaker.CircuitBreaker
  >
} = dual(
  (args) => Effect.isEffect(args[0]),
  <A, E, R>(
    self: Effect.Effect<A, E, R>,
    options?: RetryPolicy.RetryPolicy | RetryPolicy.Options
  ): Effect.Effect<
    A,
    E | CircuitBreaker.CircuitOpenError | RetryPolicy.InvalidRetryOptionsError,
    R | CircuitBreaker.CircuitBreaker
  > =>
    RetryPolicy.retry(CircuitBreaker.protect(self), options)
)
