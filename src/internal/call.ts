/**
 * One call of the client: each attempt observed (a `claude.attempt` span,
 * the attempt and outcome metrics), the attempts retried by
 * `Resilience.retry` under the client's policy, through the process's
 * `CircuitBreaker` and on its `RetryBudget`, and the whole call in a
 * `claude.<endpoint>` span. The retry decisions annotate that span
 * (`retry.wait_ms`, `retry.give_up`, …) and record
 * `RetryPolicy.retryWaitMillis`; nothing here measures waits.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import type * as ApiError from "../ApiError.js"
import * as CircuitBreaker from "../CircuitBreaker.js"
import * as RateLimits from "../RateLimits.js"
import * as RetryBudget from "../RetryBudget.js"
import type * as RetryPolicy from "../RetryPolicy.js"
import * as StatusPage from "../StatusPage.js"
import * as Retrying from "./resilience.js"

/**
 * Attempts sent, by endpoint (`Claude.attemptsTotal`).
 *
 * @internal
 */
export const attemptsTotal = Metric.counter("claude_resilience_attempts_total", {
  description: "HTTP attempts sent to the Claude API",
  incremental: true
})

/**
 * Attempt outcomes, by endpoint and outcome (`Claude.outcomesTotal`).
 *
 * @internal
 */
export const outcomesTotal = Metric.counter("claude_resilience_outcomes_total", {
  description: "Outcomes of attempts, by tag",
  incremental: true
})

const failureOf = (exit: Exit.Exit<unknown, unknown>): Option.Option<unknown> =>
  Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()

const outcomeTag = (exit: Exit.Exit<unknown, unknown>): string =>
  Exit.isSuccess(exit)
    ? "Success"
    : Option.match(failureOf(exit), {
      onNone: () => Cause.isInterruptedOnly(exit.cause) ? "Interrupted" : "Defect",
      onSome: (error) =>
        Predicate.hasProperty(error, "_tag") && typeof error._tag === "string" ? error._tag : "Unknown"
    })

const requestIdOf = (exit: Exit.Exit<unknown, unknown>): Option.Option<string> =>
  Option.flatMap(failureOf(exit), (error) =>
    Predicate.hasProperty(error, "requestId") && Option.isOption(error.requestId)
      ? (error.requestId as Option.Option<string>)
      : Option.none())

/**
 * `metric` tagged `endpoint` (and `outcome`), built once per tag value: a
 * tagged metric is a new key, hashed again at each registry lookup.
 */
const taggedOnce = () => {
  const cache = new Map<string, Metric.Metric.Counter<number>>()
  return (metric: Metric.Metric.Counter<number>, tags: ReadonlyArray<readonly [string, string]>) => {
    const id = tags.map(([key, value]) => `${key}=${value}`).join("\u0000")
    let tagged = cache.get(id)
    if (tagged === undefined) {
      tagged = tags.reduce((m, [key, value]) => Metric.tagged(m, key, value), metric)
      // the outcome is a tag from the wire (an error's _tag): bounded all the same
      if (cache.size < 1024) cache.set(id, tagged)
    }
    return tagged
  }
}
const attemptsOf = taggedOnce()
const outcomesOf = taggedOnce()

/**
 * Spans of a call: no stack trace captured per span (Effect captures one
 * per `withSpan` unless told not to, about 4 µs a span).
 */
const spanOptions = { captureStackTrace: false } as const

/**
 * The attempts of one call, numbered: each runs in a `claude.attempt` span
 * (`claude.endpoint`, `claude.attempt`, `claude.outcome`,
 * `claude.request_id`) and counts in {@link attemptsTotal} and
 * {@link outcomesTotal}.
 *
 * @internal
 */
export const attempts = (endpoint: string) =>
  Effect.sync(() => {
    // the attempts of one call run one after the other
    let count = 0
    return <A, E, R>(attempt: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.suspend(() => {
        const n = ++count
        return Effect.zipRight(
          Metric.increment(attemptsOf(attemptsTotal, [["endpoint", endpoint]])),
          attempt.pipe(
            Effect.onExit((exit) => {
              const tag = outcomeTag(exit)
              return Effect.zipRight(
                Effect.annotateCurrentSpan({
                  "claude.outcome": tag,
                  ...Option.match(requestIdOf(exit), { onNone: () => ({}), onSome: (id) => ({ "claude.request_id": id }) })
                }),
                Metric.increment(outcomesOf(outcomesTotal, [["endpoint", endpoint], ["outcome", tag]]))
              )
            }),
            Effect.withSpan("claude.attempt", {
              ...spanOptions,
              attributes: { "claude.endpoint": endpoint, "claude.attempt": n }
            })
          )
        )
      })
  })

/** The attributes of a call's span. @internal */
export const spanOf = (endpoint: string, method: string, path: string) =>
  [`claude.${endpoint}`, { ...spanOptions, attributes: { "claude.method": method, "claude.path": path } }] as const

/**
 * What a call is retried with: the policy, the breaker and the budget the
 * client was built with, and the rate limiter when one was provided.
 *
 * @internal
 */
export interface Resilient {
  readonly breaker: CircuitBreaker.Service
  /** The `RateLimits.Limiter` of the context the client was built in, if any. */
  readonly limiter: Option.Option<RateLimits.Service>
  /** `Resilience.retry` with the client's policy, breaker and budget. */
  readonly retry: <A, E, R>(attempt: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /**
   * {@link Resilient.retry} around the breaker: each attempt through
   * `breaker.protect`, after `admit` (the limiter's admission, see
   * {@link Resilient.admission}) when there is one.
   */
  readonly protect: <A, E, R>(
    attempt: Effect.Effect<A, E, R>,
    admit?: Option.Option<Effect.Effect<void, ApiError.RateLimitError>>
  ) => Effect.Effect<A, E | CircuitBreaker.CircuitOpenError | ApiError.RateLimitError, R>
  /**
   * The admission of each attempt of a call of `cost`, when the client has
   * a limiter: it waits for the quota, and fails at once with the
   * `RateLimitError` the attempt would have met when the wait would end
   * after the call's wall-clock limit (the policy's `maxElapsed` from the
   * call's start, read when this runs). `None` without a limiter.
   */
  readonly admission: (cost: RateLimits.Cost) => Effect.Effect<Option.Option<Effect.Effect<void, ApiError.RateLimitError>>>
}

/**
 * The {@link Resilient} of a client: the services its constructor required,
 * and the optional limiter, captured once, so that its calls need nothing
 * from the caller's context.
 *
 * @internal
 */
export const resilient = (
  policy: RetryPolicy.RetryPolicy
): Effect.Effect<Resilient, never, CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget> =>
  Effect.gen(function*() {
    const services = yield* Effect.context<CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget>()
    const limiter = yield* Effect.serviceOption(RateLimits.Limiter)
    const breaker = Context.get(services, CircuitBreaker.CircuitBreaker)
    const maxElapsed = Duration.toMillis(policy.maxElapsed)
    const run = Retrying.retrier(policy, breaker, Context.get(services, RetryBudget.RetryBudget))
    // the status page of the context the client was built in, when it had
    // one; the caller's otherwise (a Context.Reference: "unknown" unless provided)
    const builtPage = services.unsafeMap.has(StatusPage.StatusPage.key)
      ? Option.some(Context.get(services, StatusPage.StatusPage))
      : Option.none()
    // only the services captured: nothing else of the build context covers the caller's
    const retry = <A, E, R>(attempt: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Option.isSome(builtPage)
        ? run(attempt, builtPage.value)
        : Effect.flatMap(StatusPage.StatusPage, (page) => run(attempt, page))
    return {
      breaker,
      limiter,
      retry,
      protect: (attempt, admit = Option.none()) =>
        Option.match(admit, {
          onNone: () => retry(breaker.protect(attempt)),
          // the limiter before the breaker: a call waiting for the quota holds no probe slot
          onSome: (admitted) => retry(Effect.zipRight(admitted, breaker.protect(attempt)))
        }),
      admission: (cost) =>
        Option.match(limiter, {
          onNone: () => Effect.succeed(Option.none()),
          onSome: (limiter) =>
            Effect.map(Clock.currentTimeMillis, (start) =>
              Option.some(Effect.flatMap(Clock.currentTimeMillis, (now) =>
                limiter.admit(cost, { maxWait: Math.max(0, start + maxElapsed - now) }))))
        })
    } satisfies Resilient
  })
