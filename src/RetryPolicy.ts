/**
 * The retry policy, as a value: a `Schedule` over {@link ApiError.Retryable}
 * only (so a 4xx cannot reach it, and the compiler proves it), and the
 * {@link retry} combinator that splits errors by tag, follows the schedule
 * and gives up with the last error, unchanged.
 *
 * The defaults follow the Claude API's guidance on errors and rate limits
 * (https://docs.anthropic.com/en/api/errors,
 * https://docs.anthropic.com/en/api/rate-limits): exponential backoff from
 * 1 s, doubling, each wait capped at 8 s, full jitter, never sooner than
 * `retry-after`, at most 5 retries, 15 s of wall clock from the first failure
 * (`maxElapsed`: a wait that would end past it is not taken), a 500 retried
 * once, and `x-should-retry: false` obeyed (its `true` is obeyed by the
 * decoder: such a response is a `ServerRetryableError`). Every wait is
 * bounded: `maxElapsed` is at most {@link limits}`.maxElapsed`, one hour,
 * whatever the options.
 *
 * The wiring is explicit. {@link retry} is the policy alone: it uses nothing
 * from the context, so its type is its input's. The process-wide
 * `RetryBudget` and the `CircuitBreaker`'s look-ahead (do not sleep towards a
 * retry the breaker would refuse) are `Resilience.retry`'s, whose type
 * requires both services; `Resilience.protect` adds the breaker around each
 * attempt.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { dual } from "effect/Function"
import type * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleInterval from "effect/ScheduleInterval"
import * as Schema from "effect/Schema"
import * as ApiError from "./ApiError.js"
import { boolean, decodeOptions, describeValue, duration, type Input, literals, number, withDefault } from "./internal/options.js"
import * as internal from "./internal/retry.js"
import { InvalidOptionsError } from "./Options.js"

// ---------------------------------------------------------------------------
// options and the validated policy
// ---------------------------------------------------------------------------

/**
 * How each backoff is randomised. With `n` the retry's index (0 for the first
 * retry), `ceiling = min(cap, base · factorⁿ)` and `r` a draw of
 * `Random.next` in `[0, 1)`:
 *
 * - `"full"`: `r · ceiling`, uniform in `[0, ceiling]` (the default);
 * - `"equal"`: `ceiling / 2 + r · ceiling / 2`;
 * - `"decorrelated"`: `min(cap, base + r · (3 · previous − base))`, where
 *   `previous` is the previous backoff (`base` before the first);
 * - `"none"`: `ceiling`.
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "claude-resilience"
 *
 * const jitter: RetryPolicy.Jitter = "equal"
 * const policy = RetryPolicy.make({ jitter })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Jitter = "full" | "equal" | "decorrelated" | "none"

/**
 * The largest value each option accepts. Every wait of a call is bounded:
 * a wait that would end past `maxElapsed` is not taken, and `maxElapsed` is
 * at most `limits.maxElapsed` (1 hour), so no call waits longer than that
 * in all, and no single wait either, whatever the options or the server's
 * `retry-after`.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import { RetryPolicy } from "claude-resilience"
 *
 * Duration.toMillis(RetryPolicy.limits.maxElapsed) // 3 600 000
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const limits = {
  /** The longest `maxElapsed`, hence the longest single wait: 1 hour. */
  maxElapsed: Duration.hours(1),
  /** The longest `base`: 1 hour. */
  base: Duration.hours(1),
  /** The largest `factor`: 100. */
  factor: 100,
  /** The most `maxRetries` (and `internalServerErrorRetries`): 1000. */
  retries: 1000
} as const

/**
 * The policy's options as a Schema: what a user writes (every field
 * optional, durations any `Duration.DurationInput`) decoded into the fields
 * of a {@link RetryPolicy}. Unknown keys are refused.
 *
 * - `base`: the first backoff ceiling. From 0 to 1 hour. Default 1 second.
 * - `factor`: the ceiling's growth per retry. From 1 to 100. Default 2.
 * - `cap`: the largest backoff ceiling (a `retry-after` may still ask for
 *   more). ≥ 0, may be infinite (every wait is still bounded by
 *   `maxElapsed`). Default 8 seconds.
 * - `jitter`: how each backoff is randomised (see {@link Jitter}). Default
 *   `"full"`.
 * - `maxRetries`: the most retries in one call (so `maxRetries + 1`
 *   attempts). An integer from 0 to 1000. Default 5.
 * - `maxElapsed`: wall clock allowed from the first failure: a wait that
 *   would end past it is not taken, so no single wait is longer either.
 *   From 0 to {@link limits}`.maxElapsed` (1 hour): never infinite. Default
 *   15 seconds.
 * - `internalServerErrorRetries`: how many `InternalServerError`s (500) one
 *   call may retry. An integer from 0 to 1000. Default 1.
 * - `respectShouldRetry`: whether `x-should-retry: false` ends the retries.
 *   Default `true`.
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "claude-resilience"
 *
 * const options: RetryPolicy.Options = { base: "500 millis", maxRetries: 3, maxElapsed: "10 seconds" }
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export const Options = Schema.Struct({
  base: withDefault(duration({ max: limits.base }), () => Duration.seconds(1)),
  factor: withDefault(number({ min: 1, max: limits.factor }), () => 2),
  cap: withDefault(duration(), () => Duration.seconds(8)),
  jitter: withDefault(literals("full", "equal", "decorrelated", "none"), () => "full" as const),
  maxRetries: withDefault(number({ min: 0, max: limits.retries, integer: true }), () => 5),
  maxElapsed: withDefault(duration({ max: limits.maxElapsed }), () => Duration.seconds(15)),
  internalServerErrorRetries: withDefault(number({ min: 0, max: limits.retries, integer: true }), () => 1),
  respectShouldRetry: withDefault(boolean, () => true)
})

/**
 * What {@link make} takes: every field optional (see {@link Options} for
 * each one's range and default).
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "claude-resilience"
 *
 * // every field optional; durations as any Duration.DurationInput
 * const patient: RetryPolicy.Options = { maxRetries: 8, maxElapsed: "1 minute", cap: "20 seconds" }
 * ```
 *
 * @since 0.1.0
 * @category options
 */
export type Options = Input<typeof Options.Encoded>

/**
 * The mark of a validated {@link RetryPolicy}: only {@link make} and
 * {@link defaults} carry it.
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "claude-resilience"
 *
 * const isPolicy = (u: object) => RetryPolicy.TypeId in u
 * ```
 *
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("claude-resilience/RetryPolicy")

/**
 * @example
 * ```ts
 * import { RetryPolicy } from "claude-resilience"
 *
 * const id: RetryPolicy.TypeId = RetryPolicy.TypeId
 * ```
 *
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * A validated policy: every option resolved and checked. Only {@link make}
 * (and {@link defaults}) build one, so a `RetryPolicy` in hand is always
 * valid.
 *
 * @example
 * ```ts
 * import { Duration, Either } from "effect"
 * import { RetryPolicy } from "claude-resilience"
 *
 * const policy: RetryPolicy.RetryPolicy = Either.getOrThrow(RetryPolicy.make({ maxElapsed: "30 seconds" }))
 * Duration.toSeconds(policy.maxElapsed) // 30
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryPolicy {
  readonly [TypeId]: TypeId
  readonly base: Duration.Duration
  readonly factor: number
  readonly cap: Duration.Duration
  readonly jitter: Jitter
  readonly maxRetries: number
  readonly maxElapsed: Duration.Duration
  readonly internalServerErrorRetries: number
  readonly respectShouldRetry: boolean
}

/**
 * Whether a value is a {@link RetryPolicy} (built by {@link make}).
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "claude-resilience"
 *
 * RetryPolicy.isRetryPolicy(RetryPolicy.defaults) // true
 * RetryPolicy.isRetryPolicy({ maxRetries: 3 }) // false: raw options
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isRetryPolicy = (u: unknown): u is RetryPolicy => {
  try {
    return typeof u === "object" && u !== null && TypeId in u
  } catch {
    // a Proxy whose `has` trap throws is no policy
    return false
  }
}

/**
 * The default policy: base 1 s, factor 2, cap 8 s (ceilings 1, 2, 4, 8, 8 s),
 * full jitter, 5 retries, 15 s of wall clock (`maxElapsed`), one retry after
 * a 500, and `x-should-retry: false` obeyed.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { type ApiError, RetryPolicy } from "claude-resilience"
 *
 * declare const call: Effect.Effect<string, ApiError.ApiError>
 * // the same as RetryPolicy.retry()
 * const retried = call.pipe(RetryPolicy.retry(RetryPolicy.defaults))
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults: RetryPolicy = {
  [TypeId]: TypeId,
  base: Duration.seconds(1),
  factor: 2,
  cap: Duration.seconds(8),
  jitter: "full",
  maxRetries: 5,
  maxElapsed: Duration.seconds(15),
  internalServerErrorRetries: 1,
  respectShouldRetry: true
}

const decodePolicy = decodeOptions("RetryPolicy", Options)

/**
 * The one validating entry point: checks options and fills in the
 * {@link defaults}. Never throws, whatever it is given: every problem
 * (options that are not an object, an unknown key, a negative, unparsable
 * or out-of-range duration, an infinite `base` or `maxElapsed`, a `factor`
 * outside 1–100, a non-integer `maxRetries`, an unknown `jitter`, an option
 * that throws when read, …) is listed, at its path, in one
 * `Options.InvalidOptionsError` (module `"RetryPolicy"`). See {@link limits}
 * for the ranges. {@link retry}, {@link schedule}, `Resilience.retry` and
 * `Resilience.protect` take the policy it builds.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { type ApiError, RetryPolicy } from "claude-resilience"
 *
 * declare const call: Effect.Effect<string, ApiError.ApiError>
 *
 * const program = Effect.gen(function*() {
 *   // an Either is an Effect: a bad option fails here, with InvalidOptionsError
 *   const policy = yield* RetryPolicy.make({ base: "500 millis", jitter: "equal" })
 *   return yield* call.pipe(RetryPolicy.retry(policy))
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Either.Either<RetryPolicy, InvalidOptionsError> =>
  Either.map(decodePolicy(options), (settings): RetryPolicy => ({ [TypeId]: TypeId, ...settings }))

// ---------------------------------------------------------------------------
// the schedule
// ---------------------------------------------------------------------------

/**
 * Why the schedule stopped.
 *
 * - `"ShouldRetryFalse"`: the server sent `x-should-retry: false`;
 * - `"InternalServerErrorLimit"`: one 500 more than `internalServerErrorRetries`;
 * - `"MaxRetries"`: `maxRetries` retries were taken already;
 * - `"RetryAfterExceedsMaxElapsed"`: the server's `retry-after` is longer
 *   than what is left of `maxElapsed`;
 * - `"MaxElapsed"`: the next wait would end past `maxElapsed`;
 * - `"CircuitOpen"`: the circuit breaker would refuse the retry at the
 *   instant it would be sent (only from `Resilience.retry`, which asks the
 *   breaker's `admitsAt`);
 * - `"RetryBudgetEmpty"`: the process-wide retry budget refused the retry
 *   (only from `Resilience.retry`);
 * - `"StatusPageIncident"`: an `OverloadedError` (529) or a
 *   `ServiceUnavailableError` (503) while the status page shows a `major`
 *   or `critical` incident (only from `Resilience.retry`, with a
 *   `StatusPage.layer` provided): the retries would only compete with every
 *   other client's, so the call ends at once and can go to its fallback.
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "claude-resilience"
 *
 * const outOfTime = (reason: RetryPolicy.GiveUpReason) =>
 *   reason === "MaxElapsed" || reason === "RetryAfterExceedsMaxElapsed"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type GiveUpReason =
  | "ShouldRetryFalse"
  | "InternalServerErrorLimit"
  | "MaxRetries"
  | "RetryAfterExceedsMaxElapsed"
  | "MaxElapsed"
  | "CircuitOpen"
  | "RetryBudgetEmpty"
  | "StatusPageIncident"

/**
 * The schedule decided to retry.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import type { RetryPolicy } from "claude-resilience"
 *
 * const describe = (retry: RetryPolicy.Retry) =>
 *   `attempt ${retry.attempt} failed with ${retry.error}; next in ${Duration.format(retry.wait)}`
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Retry {
  readonly _tag: "Retry"
  /** The attempt that just failed, 1 for the first. */
  readonly attempt: number
  /** Its error's tag. */
  readonly error: ApiError.Retryable["_tag"]
  /** The wait before the next attempt: `max(retryAfter, backoff)`, in whole milliseconds. */
  readonly wait: Duration.Duration
  /** The jittered backoff alone. */
  readonly backoff: Duration.Duration
  /** The server's `retry-after`, if it sent one. */
  readonly retryAfter: Option.Option<Duration.Duration>
  /** Time since the first failure, when the decision was taken. */
  readonly elapsed: Duration.Duration
}

/**
 * The schedule decided to stop.
 *
 * @example
 * ```ts
 * import type { RetryPolicy } from "claude-resilience"
 *
 * const describe = (giveUp: RetryPolicy.GiveUp) => `gave up after attempt ${giveUp.attempt}: ${giveUp.reason}`
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface GiveUp {
  readonly _tag: "GiveUp"
  readonly reason: GiveUpReason
  /** The attempt that just failed (and is the last), 1 for the first. */
  readonly attempt: number
  /** Its error's tag. */
  readonly error: ApiError.Retryable["_tag"]
  /** Time since the first failure. */
  readonly elapsed: Duration.Duration
}

/**
 * The schedule's output: what the policy decided after one failed attempt,
 * {@link Retry} (and after how long) or {@link GiveUp} (and why).
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import type { RetryPolicy } from "claude-resilience"
 *
 * const line = (decision: RetryPolicy.RetryDecision) =>
 *   decision._tag === "Retry" ? `retry in ${Duration.format(decision.wait)}` : `give up: ${decision.reason}`
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export type RetryDecision = Retry | GiveUp

interface State {
  readonly firstFailureAt: number | undefined
  readonly retries: number
  readonly internalServerErrors: number
  readonly previousBackoff: number
}

const safeRetryAfter = (error: ApiError.Retryable): Option.Option<Duration.Duration> => {
  const value: unknown = ApiError.retryAfter(error)
  return Option.isOption(value) ? (value as Option.Option<Duration.Duration>) : Option.none()
}

const safeShouldRetry = (error: ApiError.Retryable): Option.Option<boolean> => {
  const value: unknown = ApiError.shouldRetry(error)
  return Option.isOption(value) ? (value as Option.Option<boolean>) : Option.none()
}

const backoffMillis = (policy: RetryPolicy, n: number, previous: number): Effect.Effect<number> => {
  const base = Duration.toMillis(policy.base)
  const cap = Duration.toMillis(policy.cap)
  const ceiling = Math.min(cap, base * policy.factor ** n)
  const round = (x: number) => (Number.isFinite(x) ? Math.round(x) : x)
  switch (policy.jitter) {
    case "none":
      return Effect.succeed(round(ceiling))
    case "full":
      return Effect.map(Random.next, (r) => (Number.isFinite(ceiling) ? round(r * ceiling) : ceiling))
    case "equal":
      return Effect.map(Random.next, (r) => (Number.isFinite(ceiling) ? round(ceiling / 2 + (r * ceiling) / 2) : ceiling))
    case "decorrelated":
      return Effect.map(Random.next, (r) => {
        const high = Math.max(base, 3 * previous)
        return round(Math.min(cap, base + r * (high - base)))
      })
  }
}

/**
 * The policy as a `Schedule` whose input is exactly
 * {@link ApiError.Retryable}: passing it to `Effect.retry` on an effect that
 * can fail with a {@link ApiError.Fatal} error does not compile. Its output
 * is the {@link RetryDecision} taken for each failure.
 *
 * For the failure of attempt `n + 1` (`n` retries taken so far), in order:
 * `x-should-retry: false` stops (if `respectShouldRetry`); a 500 beyond
 * `internalServerErrorRetries` stops; `n = maxRetries` stops; a `retry-after`
 * longer than what is left of `maxElapsed` stops; otherwise the wait is
 * `max(ceil(retryAfter), backoff)` in whole milliseconds, and a wait that
 * would end past `maxElapsed` (counted from the first failure, by `Clock`)
 * stops at once, with no sleep. Jitter draws `Random.next` once per retry
 * (none for `"none"`), and only when the checks before it pass.
 *
 * Needs nothing and consults nothing but the policy: the retry budget and
 * the circuit breaker come in with `Resilience.retry`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ApiError, RetryPolicy } from "claude-resilience"
 *
 * declare const call: Effect.Effect<string, ApiError.Retryable>
 * const retried = Effect.retry(call, RetryPolicy.schedule())
 *
 * declare const any: Effect.Effect<string, ApiError.ApiError>
 * // @ts-expect-error a Fatal error cannot reach the schedule: use RetryPolicy.retry
 * Effect.retry(any, RetryPolicy.schedule())
 * ```
 *
 * @since 0.1.0
 * @category schedules
 */
export const schedule = (policy: RetryPolicy = defaults): Schedule.Schedule<RetryDecision, ApiError.Retryable> => {
  // a policy from make is within limits already; this bounds a hand-built one too
  const maxElapsed = Math.min(Duration.toMillis(policy.maxElapsed), Duration.toMillis(limits.maxElapsed))
  const initial: State = {
    firstFailureAt: undefined,
    retries: 0,
    internalServerErrors: 0,
    previousBackoff: Duration.toMillis(policy.base)
  }
  return Schedule.makeWithState<State, ApiError.Retryable, RetryDecision>(initial, (now, error, state) => {
    const firstFailureAt = state.firstFailureAt ?? now
    const elapsedMillis = now - firstFailureAt
    const elapsed = Duration.millis(elapsedMillis)
    const attempt = state.retries + 1
    const internalServerErrors = state.internalServerErrors + (error._tag === "InternalServerError" ? 1 : 0)
    const next: State = { ...state, firstFailureAt, internalServerErrors }
    type Step = readonly [State, RetryDecision, ScheduleDecision.ScheduleDecision]
    const giveUp = (reason: GiveUpReason): Effect.Effect<Step> =>
      Effect.succeed([next, { _tag: "GiveUp", reason, attempt, error: error._tag, elapsed }, ScheduleDecision.done])
    if (policy.respectShouldRetry && Option.contains(safeShouldRetry(error), false)) {
      return giveUp("ShouldRetryFalse")
    }
    if (internalServerErrors > policy.internalServerErrorRetries) return giveUp("InternalServerErrorLimit")
    if (state.retries >= policy.maxRetries) return giveUp("MaxRetries")
    const retryAfter = safeRetryAfter(error)
    const retryAfterMillis = Option.match(retryAfter, {
      onNone: () => 0,
      onSome: (d) => Math.ceil(Duration.toMillis(d))
    })
    if (elapsedMillis + retryAfterMillis > maxElapsed) return giveUp("RetryAfterExceedsMaxElapsed")
    return Effect.flatMap(backoffMillis(policy, state.retries, state.previousBackoff), (backoff): Effect.Effect<Step> => {
      const wait = Math.max(retryAfterMillis, backoff)
      if (elapsedMillis + wait > maxElapsed) return giveUp("MaxElapsed")
      const decision: Retry = {
        _tag: "Retry",
        attempt,
        error: error._tag,
        wait: Duration.millis(wait),
        backoff: Duration.millis(backoff),
        retryAfter,
        elapsed
      }
      return Effect.succeed([
        { ...next, retries: state.retries + 1, previousBackoff: backoff },
        decision,
        ScheduleDecision.continueWith(ScheduleInterval.after(now + wait))
      ])
    })
  })
}

// ---------------------------------------------------------------------------
// the combinator
// ---------------------------------------------------------------------------

/**
 * Histogram of the wait of each retry decided, in milliseconds
 * (`claude_resilience_retry_wait_ms`; buckets from 100 ms to about 51 s,
 * doubling). Recorded from the policy's own `Retry` decision, when it is
 * reported, by {@link retry} and `Resilience.retry` (so by every call of
 * the Claude client): a retry refused by the breaker or the retry budget
 * waits for nothing and is not recorded.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { RetryPolicy } from "claude-resilience"
 *
 * const waited = Effect.map(Metric.value(RetryPolicy.retryWaitMillis), (state) => state.sum)
 * ```
 *
 * @since 0.2.0
 * @category metrics
 */
export const retryWaitMillis: Metric.Metric.Histogram<number> = internal.retryWaitMillis

/**
 * The policy's own check of a value from untyped code: `undefined` is the
 * defaults, a `RetryPolicy` is itself, anything else (raw options, `null`)
 * is refused, since raw options go through {@link make}.
 */
const policyOf = (u: unknown): Either.Either<RetryPolicy, InvalidOptionsError> =>
  u === undefined
    ? Either.right(defaults)
    : isRetryPolicy(u)
    ? Either.right(u)
    : Either.left(
      InvalidOptionsError.of("RetryPolicy", [{
        path: "",
        message: `expected a policy built by RetryPolicy.make (raw options go through it), got ${describeValue(u)}`
      }])
    )

/**
 * Retries an effect under the policy, and under nothing else. Errors are
 * split by tag before the schedule: only {@link ApiError.Retryable} errors
 * are retried; a {@link ApiError.Fatal} error, any other failure (a
 * `CircuitOpenError`, your own errors) and defects leave at once, unretried.
 * When it gives up it fails with the last error, unchanged. Each decision is
 * logged at debug level and annotated on the current span (`retry.attempt`,
 * `retry.error`, `retry.elapsed_ms`, `retry.wait_ms` or `retry.give_up`,
 * `http.status`, `request.id`; never a header), and each `Retry` decision's
 * wait is recorded in {@link retryWaitMillis}.
 *
 * It uses nothing from the context, so its type is exactly its input's:
 * `A`, `E` and `R` unchanged. For the process-wide retry budget and the
 * circuit breaker's look-ahead, use `Resilience.retry` (whose type requires
 * both services). Pass nothing for the {@link defaults}, or a policy from
 * {@link make}; raw options do not type-check (from untyped code, a value
 * that is not a policy fails the effect with `Options.InvalidOptionsError`
 * before any attempt).
 *
 * @example
 * ```ts
 * import { Effect, Either } from "effect"
 * import { type ApiError, RetryPolicy } from "claude-resilience"
 *
 * declare const call: Effect.Effect<string, ApiError.ApiError>
 *
 * // Effect<string, ApiError>: the defaults
 * const a = call.pipe(RetryPolicy.retry())
 * // Effect<string, ApiError>: a policy built once, up front
 * const policy = Either.getOrThrow(RetryPolicy.make({ jitter: "equal", maxRetries: 3 }))
 * const b = RetryPolicy.retry(call, policy)
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const retry: {
  (policy?: RetryPolicy): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, policy?: RetryPolicy): Effect.Effect<A, E, R>
} = dual(
  (args) => Effect.isEffect(args[0]),
  <A, E, R>(self: Effect.Effect<A, E, R>, policy?: RetryPolicy): Effect.Effect<A, E, R> =>
    Either.match(policyOf(policy), {
      // only untyped code gets here: the type admits a policy or nothing
      onLeft: (error) => Effect.fail(error as E),
      onRight: (valid) => internal.retrying(self, schedule(valid))
    })
)
