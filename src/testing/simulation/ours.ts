/**
 * The one place where the simulation uses the library's policy: "ours" is
 * `Resilience.protect` (retry with full jitter around the circuit breaker,
 * drawing on the retry budget) over a `Resilience.layer` of its own per
 * client, as a process of a fleet would run it. Nothing here re-implements
 * the policy; every use of its public API (`RetryPolicy.make`,
 * `RetryPolicy.retry`, `Resilience.protect`, `Resilience.layer`) is in this
 * file, so that a change of those names is a change of this file only.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as CircuitBreaker from "../../CircuitBreaker.js"
import * as Retrying from "../../internal/resilience.js"
import * as Resilience from "../../Resilience.js"
import * as RetryBudget from "../../RetryBudget.js"
import * as RetryPolicy from "../../RetryPolicy.js"
import * as StatusPage from "../../StatusPage.js"

/**
 * What the scenario asks of the backoff: `undefined` fields keep the
 * library's defaults.
 *
 * @internal
 */
export interface OursOptions {
  /** The first backoff ceiling, ms. */
  readonly baseMillis?: number | undefined
  /** The largest backoff ceiling, ms. */
  readonly capMillis?: number | undefined
  /** The most retries of one call. */
  readonly maxRetries?: number | undefined
  /** Wall clock allowed from the first failure, ms. */
  readonly maxElapsedMillis?: number | undefined
  /**
   * Whether the breaker and the retry budget are in play (the whole policy,
   * as `Resilience.protect` runs it) or the retry schedule alone (for the
   * contention experiment, whose conflicts are not an outage).
   */
  readonly withBreakerAndBudget: boolean
}

/**
 * A client's policy: wraps one logical request's call.
 *
 * @internal
 */
export type Wrap = <A, E>(call: Effect.Effect<A, E>) => Effect.Effect<A, unknown>

/**
 * The library's policy, built once: its options are checked by
 * `RetryPolicy.make`, the one validating entry point. Invalid options are a
 * bug of the scenario and fail with the library's own error.
 *
 * @internal
 */
export const policy = (options: OursOptions) => {
  const given = {
    ...(options.baseMillis === undefined ? {} : { base: options.baseMillis }),
    ...(options.capMillis === undefined ? {} : { cap: options.capMillis }),
    ...(options.maxRetries === undefined ? {} : { maxRetries: options.maxRetries }),
    ...(options.maxElapsedMillis === undefined ? {} : { maxElapsed: options.maxElapsedMillis })
  }
  return RetryPolicy.make(given)
}

/**
 * One client's copy of "ours", made in the client's scope: its own circuit
 * breaker and retry budget (a client is a process of the fleet), with the
 * library's defaults.
 *
 * @internal
 */
export const client = (options: OursOptions): Effect.Effect<Wrap, unknown, Scope.Scope> =>
  Effect.gen(function*() {
    const built = policy(options)
    if (Either.isLeft(built)) return yield* Effect.fail(built.left)
    const retryPolicy = built.right
    if (!options.withBreakerAndBudget) {
      return <A, E>(call: Effect.Effect<A, E>) => RetryPolicy.retry(call, retryPolicy)
    }
    const context = yield* Layer.build(Resilience.layer())
    const breaker = Context.get(context, CircuitBreaker.CircuitBreaker)
    // Resilience.protect on this client's breaker and budget, without providing them per call
    const run = Retrying.retrier(retryPolicy, breaker, Context.get(context, RetryBudget.RetryBudget))
    return <A, E>(call: Effect.Effect<A, E>) =>
      Effect.flatMap(StatusPage.StatusPage, (page) => run(breaker.protect(call), page))
  })
