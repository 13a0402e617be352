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
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Ref from "effect/Ref"
import * as CircuitBreaker from "../CircuitBreaker.js"
import * as Resilience from "../Resilience.js"
import type * as RetryBudget from "../RetryBudget.js"
import type * as RetryPolicy from "../RetryPolicy.js"

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
 * The attempts of one call, numbered: each runs in a `claude.attempt` span
 * (`claude.endpoint`, `claude.attempt`, `claude.outcome`,
 * `claude.request_id`) and counts in {@link attemptsTotal} and
 * {@link outcomesTotal}.
 *
 * @internal
 */
export const attempts = (endpoint: string) =>
  Effect.map(Ref.make(0), (counter) =>
  <A, E, R>(attempt: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.flatMap(Ref.updateAndGet(counter, (n) => n + 1), (n) =>
      Effect.zipRight(
        Metric.increment(Metric.tagged(attemptsTotal, "endpoint", endpoint)),
        attempt.pipe(
          Effect.onExit((exit) => {
            const tag = outcomeTag(exit)
            return Effect.zipRight(
              Effect.annotateCurrentSpan({
                "claude.outcome": tag,
                ...Option.match(requestIdOf(exit), { onNone: () => ({}), onSome: (id) => ({ "claude.request_id": id }) })
              }),
              Metric.increment(Metric.tagged(Metric.tagged(outcomesTotal, "endpoint", endpoint), "outcome", tag))
            )
          }),
          Effect.withSpan("claude.attempt", { attributes: { "claude.endpoint": endpoint, "claude.attempt": n } })
        )
      )))

/** The attributes of a call's span. @internal */
export const spanOf = (endpoint: string, method: string, path: string) =>
  [`claude.${endpoint}`, { attributes: { "claude.method": method, "claude.path": path } }] as const

/**
 * What a call is retried with: the policy, the breaker and the budget the
 * client was built with.
 *
 * @internal
 */
export interface Resilient {
  readonly breaker: CircuitBreaker.Service
  /** `Resilience.retry` with the client's policy, breaker and budget. */
  readonly retry: <A, E, R>(attempt: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** {@link Resilient.retry} around the breaker: each attempt through `breaker.protect`. */
  readonly protect: <A, E, R>(
    attempt: Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | CircuitBreaker.CircuitOpenError, R>
}

/**
 * The {@link Resilient} of a client: the services its constructor required,
 * captured once, so that its calls need nothing from the caller's context.
 *
 * @internal
 */
export const resilient = (
  policy: RetryPolicy.RetryPolicy
): Effect.Effect<Resilient, never, CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget> =>
  Effect.map(Effect.context<CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget>(), (services) => ({
    breaker: Context.get(services, CircuitBreaker.CircuitBreaker),
    retry: (attempt) => Effect.provide(Resilience.retry(attempt, policy), services),
    protect: (attempt) => Effect.provide(Resilience.protect(attempt, policy), services)
  }))
