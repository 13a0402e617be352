/**
 * The retry policy: a `Schedule` over {@link ApiError.Retryable} only (so a
 * 4xx cannot reach it, and the compiler proves it), and the {@link retry}
 * combinator that splits errors by tag, consults the process-wide
 * {@link RetryBudget.RetryBudget} and gives up with the last error, unchanged.
 *
 * The defaults are the seeds': exponential backoff from 1 s, doubling, each
 * wait capped at 8 s, full jitter, never sooner than `retry-after`, at most 5
 * retries, 15 s of wall clock from the first failure (a wait that would end
 * past it is not taken), a 500 retried once, and `x-should-retry: false`
 * obeyed (its `true` is obeyed by the decoder: such a response is a
 * `ServerRetryableError`). Every wait is bounded: the wall-clock budget is at
 * most {@link limits}`.budget`, one hour, whatever the options.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { dual } from "effect/Function"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Random from "effect/Random"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleInterval from "effect/ScheduleInterval"
import * as Schema from "effect/Schema"
import * as ApiError from "./ApiError.js"
import * as CircuitBreaker from "./CircuitBreaker.js"
import { decodeDuration, describeValue } from "./internal/options.js"
import * as RetryBudget from "./RetryBudget.js"

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
 * @since 0.1.0
 * @category models
 */
export type Jitter = "full" | "equal" | "decorrelated" | "none"

/**
 * The policy's settings, every one optional (see {@link defaults}). Durations
 * accept any `Duration.DurationInput` (`"2 seconds"`, `Duration.millis(500)`,
 * a number of milliseconds).
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The first backoff ceiling. Between 0 and 1 hour. Default 1 second. */
  readonly base?: Duration.DurationInput | undefined
  /** The ceiling's growth per retry. Between 1 and 100. Default 2. */
  readonly factor?: number | undefined
  /**
   * The largest backoff ceiling (a `retry-after` may still ask for more). ≥ 0,
   * may be infinite (every wait is still bounded by `budget`). Default 8
   * seconds.
   */
  readonly cap?: Duration.DurationInput | undefined
  /** How each backoff is randomised. Default `"full"`. */
  readonly jitter?: Jitter | undefined
  /** The most retries in one call (so `maxRetries + 1` attempts). An integer from 0 to 1000. Default 5. */
  readonly maxRetries?: number | undefined
  /**
   * Wall clock allowed from the first failure: a wait that would end past it
   * is not taken, so no single wait is longer either. Between 0 and
   * {@link limits}`.budget` (1 hour): never infinite. Default 15 seconds.
   */
  readonly budget?: Duration.DurationInput | undefined
  /** How many `InternalServerError`s (500) one call may retry. An integer from 0 to 1000. Default 1. */
  readonly internalServerErrorRetries?: number | undefined
  /** Whether `x-should-retry: false` ends the retries. Default `true`. */
  readonly respectShouldRetry?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("claude-resilience/RetryPolicy")

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * A validated policy: every option resolved and checked. Only {@link make}
 * (and {@link defaults}) build one, so a `RetryPolicy` in hand is always
 * valid.
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
  readonly budget: Duration.Duration
  readonly internalServerErrorRetries: number
  readonly respectShouldRetry: boolean
}

/**
 * @since 0.1.0
 * @category guards
 */
export const isRetryPolicy = (u: unknown): u is RetryPolicy =>
  typeof u === "object" && u !== null && TypeId in u

/**
 * The seeds' policy: base 1 s, factor 2, cap 8 s (ceilings 1, 2, 4, 8, 8 s),
 * full jitter, 5 retries, a 15 s budget, one retry after a 500, and
 * `x-should-retry: false` obeyed.
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
  budget: Duration.seconds(15),
  internalServerErrorRetries: 1,
  respectShouldRetry: true
}

/**
 * The largest value each option accepts. Every wait of a call is bounded:
 * a wait that would end past the wall-clock `budget` is not taken, and the
 * `budget` is at most `limits.budget` (1 hour), so no call waits longer
 * than that in all, and no single wait either, whatever the options or the
 * server's `retry-after`.
 *
 * @since 0.1.0
 * @category constants
 */
export const limits = {
  /** The longest wall-clock `budget`, hence the longest single wait: 1 hour. */
  budget: Duration.hours(1),
  /** The longest `base`: 1 hour. */
  base: Duration.hours(1),
  /** The largest `factor`: 100. */
  factor: 100,
  /** The most `maxRetries` (and `internalServerErrorRetries`): 1000. */
  retries: 1000
} as const

/**
 * The options given to {@link make} (or to {@link retry}) are not valid.
 * Every problem found is listed, each naming its option.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidRetryOptionsError extends Schema.TaggedError<InvalidRetryOptionsError>()(
  "InvalidRetryOptionsError",
  {
    message: Schema.String,
    problems: Schema.Array(Schema.Struct({ option: Schema.String, reason: Schema.String }))
  }
) {}

const jitters: ReadonlyArray<Jitter> = ["full", "equal", "decorrelated", "none"]

/**
 * Validates options and fills in the {@link defaults}. Never throws, whatever
 * it is given: every problem (options that are not an object, a negative,
 * unparsable or out-of-range duration, an infinite `base` or `budget`, a
 * `factor` outside 1–100, a non-integer `maxRetries`, an unknown `jitter`,
 * an option that throws when read, …) is listed in one
 * {@link InvalidRetryOptionsError}. See {@link limits} for the ranges.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RetryPolicy } from "claude-resilience"
 *
 * Effect.gen(function*() {
 *   const policy = yield* RetryPolicy.make({ base: "500 millis", jitter: "equal" })
 *   // policy.cap: 8 seconds (the default)
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Either.Either<RetryPolicy, InvalidRetryOptionsError> => {
  const problems: Array<{ readonly option: string; readonly reason: string }> = []
  const fail = () =>
    Either.left(
      new InvalidRetryOptionsError({
        message: `Invalid RetryPolicy options: ${problems.map((p) => `${p.option} ${p.reason}`).join("; ")}`,
        problems
      })
    )
  // untyped callers: `make(null)`, `make("fast")`
  if (!Predicate.isRecord(options)) {
    problems.push({ option: "options", reason: `must be an object, got ${describeValue(options)}` })
    return fail()
  }
  const read = (option: keyof Options): unknown =>
    Either.getOrElse(Either.try(() => options[option] as unknown), () => {
      problems.push({ option, reason: "threw when read" })
      return undefined
    })
  const duration = (option: "base" | "cap" | "budget", max: Option.Option<Duration.Duration>): Duration.Duration => {
    const input = read(option)
    if (input === undefined) return defaults[option]
    const decoded = decodeDuration(input)
    if (Option.isNone(decoded)) {
      problems.push({ option, reason: `must be a non-negative duration, got ${describeValue(input)}` })
      return defaults[option]
    }
    if (Option.isSome(max) && !Duration.lessThanOrEqualTo(decoded.value, max.value)) {
      problems.push({
        option,
        reason: `must be finite and at most ${Duration.format(max.value)}, got ${describeValue(input)}`
      })
      return defaults[option]
    }
    return decoded.value
  }
  const integer = (option: "maxRetries" | "internalServerErrorRetries"): number => {
    const value = read(option)
    if (value === undefined) return defaults[option]
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0 || value > limits.retries) {
      problems.push({ option, reason: `must be an integer from 0 to ${limits.retries}, got ${describeValue(value)}` })
      return defaults[option]
    }
    return value
  }
  const base = duration("base", Option.some(limits.base))
  const cap = duration("cap", Option.none())
  const budget = duration("budget", Option.some(limits.budget))
  const maxRetries = integer("maxRetries")
  const internalServerErrorRetries = integer("internalServerErrorRetries")
  const factor: unknown = read("factor") ?? defaults.factor
  if (typeof factor !== "number" || !Number.isFinite(factor) || factor < 1 || factor > limits.factor) {
    problems.push({
      option: "factor",
      reason: `must be a finite number ≥ 1 and ≤ ${limits.factor}, got ${describeValue(factor)}`
    })
  }
  const jitter: unknown = read("jitter") ?? defaults.jitter
  if (!(jitters as ReadonlyArray<unknown>).includes(jitter)) {
    problems.push({ option: "jitter", reason: `must be one of ${jitters.join(", ")}, got ${describeValue(jitter)}` })
  }
  const respectShouldRetry: unknown = read("respectShouldRetry") ?? defaults.respectShouldRetry
  if (typeof respectShouldRetry !== "boolean") {
    problems.push({ option: "respectShouldRetry", reason: `must be a boolean, got ${describeValue(respectShouldRetry)}` })
  }
  if (problems.length > 0) return fail()
  return Either.right({
    [TypeId]: TypeId,
    base,
    factor: factor as number,
    cap,
    jitter: jitter as Jitter,
    maxRetries,
    budget,
    internalServerErrorRetries,
    respectShouldRetry: respectShouldRetry as boolean
  })
}

// ---------------------------------------------------------------------------
// the schedule
// ---------------------------------------------------------------------------

/**
 * Why the schedule stopped.
 *
 * - `"ShouldRetryFalse"`: the server sent `x-should-retry: false`;
 * - `"InternalServerErrorLimit"`: one 500 more than `internalServerErrorRetries`;
 * - `"MaxRetries"`: `maxRetries` retries were taken already;
 * - `"RetryAfterExceedsBudget"`: the server's `retry-after` is longer than
 *   what is left of the wall-clock budget;
 * - `"Budget"`: the next wait would end past the wall-clock budget;
 * - `"CircuitOpen"`: the {@link CircuitBreaker.CircuitBreaker} in the
 *   context is open and will still be open when the retry would be sent, so
 *   the retry could only be refused (only from {@link retry});
 * - `"RetryBudgetEmpty"`: the process-wide {@link RetryBudget.RetryBudget}
 *   refused the retry (only from {@link retry}; {@link schedule} alone is
 *   unbudgeted).
 *
 * @since 0.1.0
 * @category models
 */
export type GiveUpReason =
  | "ShouldRetryFalse"
  | "InternalServerErrorLimit"
  | "MaxRetries"
  | "RetryAfterExceedsBudget"
  | "Budget"
  | "CircuitOpen"
  | "RetryBudgetEmpty"

/**
 * The schedule decided to retry.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryDecision {
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
 * @since 0.1.0
 * @category models
 */
export interface GiveUpDecision {
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
 * The schedule's output: one decision per failed attempt.
 *
 * @since 0.1.0
 * @category models
 */
export type Decision = RetryDecision | GiveUpDecision

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
 * is the {@link Decision} taken for each failure.
 *
 * For the failure of attempt `n + 1` (`n` retries taken so far), in order:
 * `x-should-retry: false` stops (if `respectShouldRetry`); a 500 beyond
 * `internalServerErrorRetries` stops; `n = maxRetries` stops; a `retry-after`
 * longer than what is left of the budget stops; otherwise the wait is
 * `max(ceil(retryAfter), backoff)` in whole milliseconds, and a wait that
 * would end past the budget (counted from the first failure, by `Clock`)
 * stops at once, with no sleep. Jitter draws `Random.next` once per retry
 * (none for `"none"`), and only when the checks before it pass.
 *
 * Unbudgeted: the process-wide {@link RetryBudget.RetryBudget} is consulted
 * by {@link retry} only.
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
export const schedule = (policy: RetryPolicy = defaults): Schedule.Schedule<Decision, ApiError.Retryable> => {
  // a policy from make is within limits already; this bounds a hand-built one too
  const budget = Math.min(Duration.toMillis(policy.budget), Duration.toMillis(limits.budget))
  const initial: State = {
    firstFailureAt: undefined,
    retries: 0,
    internalServerErrors: 0,
    previousBackoff: Duration.toMillis(policy.base)
  }
  return Schedule.makeWithState<State, ApiError.Retryable, Decision>(initial, (now, error, state) => {
    const firstFailureAt = state.firstFailureAt ?? now
    const elapsedMillis = now - firstFailureAt
    const elapsed = Duration.millis(elapsedMillis)
    const attempt = state.retries + 1
    const internalServerErrors = state.internalServerErrors + (error._tag === "InternalServerError" ? 1 : 0)
    const next: State = { ...state, firstFailureAt, internalServerErrors }
    type Step = readonly [State, Decision, ScheduleDecision.ScheduleDecision]
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
    if (elapsedMillis + retryAfterMillis > budget) return giveUp("RetryAfterExceedsBudget")
    return Effect.flatMap(backoffMillis(policy, state.retries, state.previousBackoff), (backoff): Effect.Effect<Step> => {
      const wait = Math.max(retryAfterMillis, backoff)
      if (elapsedMillis + wait > budget) return giveUp("Budget")
      const decision: RetryDecision = {
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
 * Wraps the policy's schedule for {@link retry}. A retry the policy allows is
 * refused at once, before any sleep, when the circuit breaker in the context
 * will still be open at the instant the retry would be sent (it would only be
 * rejected), or when the retry budget (if one is provided) cannot pay for it.
 * Each decision is logged at debug level and annotated on the current span
 * (attempt, wait, error tag, status, request id; never a header).
 */
const instrumented = (
  inner: Schedule.Schedule<Decision, ApiError.Retryable>,
  budget: Option.Option<RetryBudget.Service>,
  breaker: Option.Option<CircuitBreaker.Service>
): Schedule.Schedule<Decision, ApiError.Retryable> =>
  Schedule.makeWithState(inner.initial, (now, error, state) =>
    Effect.flatMap(inner.step(now, error, state), ([nextState, decision, scheduleDecision]) => {
      const refusal: Effect.Effect<Option.Option<GiveUpReason>> = decision._tag !== "Retry"
        ? Effect.succeedNone
        : Effect.gen(function*() {
          if (Option.isSome(breaker)) {
            const current = yield* breaker.value.state
            const sendAt = now + Duration.toMillis(decision.wait)
            if (current._tag === "Open" && current.halfOpenAt > sendAt) return Option.some("CircuitOpen" as const)
          }
          if (Option.isSome(budget) && !(yield* budget.value.tryWithdrawFor(decision.wait))) {
            return Option.some("RetryBudgetEmpty" as const)
          }
          return Option.none()
        })
      return Effect.flatMap(refusal, (refused) => {
        const final: Decision = Option.isSome(refused) && decision._tag === "Retry"
          ? {
            _tag: "GiveUp",
            reason: refused.value,
            attempt: decision.attempt,
            error: decision.error,
            elapsed: decision.elapsed
          }
          : decision
        return Effect.as(
          report(final, error),
          [nextState, final, Option.isSome(refused) ? ScheduleDecision.done : scheduleDecision] as const
        )
      })
    })
  )

const report = (decision: Decision, error: ApiError.Retryable): Effect.Effect<void> => {
  const common = {
    "retry.attempt": decision.attempt,
    "retry.error": decision.error,
    "retry.elapsed_ms": Duration.toMillis(decision.elapsed),
    ...("status" in error ? { "http.status": error.status } : {}),
    ...("requestId" in error && Option.isOption(error.requestId) && Option.isSome(error.requestId)
      ? { "request.id": error.requestId.value }
      : {})
  }
  const annotations = decision._tag === "Retry"
    ? { ...common, "retry.wait_ms": Duration.toMillis(decision.wait) }
    : { ...common, "retry.give_up": decision.reason }
  const message = decision._tag === "Retry"
    ? `retrying after ${decision.error} (attempt ${decision.attempt}), waiting ${Duration.toMillis(decision.wait)} ms`
    : `giving up after ${decision.error} (attempt ${decision.attempt}): ${decision.reason}`
  return Effect.zipRight(
    Effect.annotateCurrentSpan(annotations),
    Effect.logDebug(message).pipe(Effect.annotateLogs(annotations))
  )
}

const isCircuitOpen = (u: unknown): boolean => Predicate.isTagged(u, "CircuitOpenError")

const retryWith = <A, E, R>(self: Effect.Effect<A, E, R>, policy: RetryPolicy): Effect.Effect<A, E, R> =>
  Effect.flatMap(
    Effect.all([
      Effect.serviceOption(RetryBudget.RetryBudget),
      Effect.serviceOption(CircuitBreaker.CircuitBreaker),
      // the last Retryable error of this call: the error a real request got
      Ref.make(Option.none<E>())
    ]),
    ([budget, breaker, lastRetryable]) => {
      // split by tag: only Retryable errors reach the schedule; any other
      // failure rides out in the success channel, so it is never retried
      const attempt = Effect.matchEffect(self, {
        onFailure: (e) =>
          ApiError.isRetryable(e)
            ? Effect.zipRight(Ref.set(lastRetryable, Option.some(e)), Effect.fail(e))
            : isCircuitOpen(e)
            // a retry the breaker refused sent nothing: a call that did send
            // requests ends with the last error one of them got
            ? Effect.map(Ref.get(lastRetryable), (last) => Either.left(Option.getOrElse(last, () => e)))
            : Effect.succeed(Either.left(e) as Either.Either<A, E>),
        onSuccess: (a) => Effect.succeed(Either.right(a) as Either.Either<A, E>)
      })
      const deposit = Option.match(budget, { onNone: () => Effect.void, onSome: (b) => b.deposit })
      return deposit.pipe(
        Effect.zipRight(Effect.retry(attempt, instrumented(schedule(policy), budget, breaker))),
        Effect.flatMap(Either.match({ onLeft: (e) => Effect.fail(e), onRight: (a) => Effect.succeed(a) }))
      )
    }
  )

/**
 * Retries an effect under the policy. Errors are split by tag before the
 * schedule: only {@link ApiError.Retryable} errors are retried; a
 * {@link ApiError.Fatal} error, any other failure (a `CircuitOpenError`, your
 * own errors) and defects leave at once, unretried. When it gives up it fails
 * with the last error, unchanged.
 *
 * With a {@link RetryBudget.RetryBudget} in the context, the call's first
 * attempt deposits and each retry withdraws (before any sleep); an empty
 * budget ends the call at once with its last error. Without one, unbudgeted.
 * With a {@link CircuitBreaker.CircuitBreaker} in the context, a retry that
 * would reach the breaker while it is still open is not taken: the call ends
 * at once with its last error, without sleeping first. A retry that the
 * breaker refuses all the same (it opened during the wait) ends the call
 * with the last error a real request got, not with the breaker's
 * `CircuitOpenError`: that one is kept for calls that sent nothing.
 *
 * Pass nothing for the {@link defaults}, a {@link RetryPolicy} from
 * {@link make}, or raw {@link Options}: raw options are validated when the
 * effect runs, and invalid ones fail it with {@link InvalidRetryOptionsError}
 * (before any attempt), which is why that form (or a value typed
 * `RetryPolicy | Options`) adds it to the error type.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ApiError, RetryPolicy } from "claude-resilience"
 *
 * declare const call: Effect.Effect<string, ApiError.ApiError>
 *
 * // Effect<string, ApiError>
 * const a = call.pipe(RetryPolicy.retry())
 * // Effect<string, ApiError | InvalidRetryOptionsError>
 * const b = RetryPolicy.retry(call, { jitter: "equal", maxRetries: 3 })
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const retry: {
  (policy?: RetryPolicy): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  (options: Options): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | InvalidRetryOptionsError, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, policy?: RetryPolicy): Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, options: Options): Effect.Effect<A, E | InvalidRetryOptionsError, R>
  (
    options?: RetryPolicy | Options
  ): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | InvalidRetryOptionsError, R>
  <A, E, R>(
    self: Effect.Effect<A, E, R>,
    options?: RetryPolicy | Options
  ): Effect.Effect<A, E | InvalidRetryOptionsError, R>
} = dual(
  (args) => Effect.isEffect(args[0]),
  <A, E, R>(
    self: Effect.Effect<A, E, R>,
    options?: RetryPolicy | Options
  ): Effect.Effect<A, E | InvalidRetryOptionsError, R> => {
    if (options === undefined) return retryWith(self, defaults)
    if (isRetryPolicy(options)) return retryWith(self, options)
    return Effect.suspend((): Effect.Effect<A, E | InvalidRetryOptionsError, R> =>
      Either.match(make(options), {
        onLeft: (error) => Effect.fail(error),
        onRight: (policy) => retryWith(self, policy)
      })
    )
  }
)
