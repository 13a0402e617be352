/**
 * The body of `Resilience.retry`, given its services: the policy's retries
 * with the breaker's look-ahead, the retry budget and the status page at
 * the gate of each `Retry` decision, and the last real error of a call the
 * breaker ends. `Resilience.retry` reads the services from the context per
 * call; a client (`Call.resilient`) and the simulation's clients capture
 * them once, so that a call neither provides a context nor looks services up.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as ApiError from "../ApiError.js"
import type * as CircuitBreaker from "../CircuitBreaker.js"
import type * as RetryBudget from "../RetryBudget.js"
import * as RetryPolicy from "../RetryPolicy.js"
import * as StatusPage from "../StatusPage.js"
import * as internal from "./retry.js"

const isCircuitOpen = (u: unknown): boolean => Predicate.isTagged(u, "CircuitOpenError")

/**
 * A `Retry` decision the breaker or the budget refuses before its wait:
 * the breaker first (a retry it would refuse must not spend a token), then
 * the budget, which pays for the retry as of its sending.
 */
const gate = (breaker: CircuitBreaker.Service, budget: RetryBudget.Service): internal.Gate<never> => (decision, now) =>
  Effect.flatMap(breaker.admitsAt(now + Duration.toMillis(decision.wait)), (admitted) =>
    admitted
      ? Effect.map(
        budget.tryWithdrawFor(decision.wait),
        (paid) => paid ? Option.none() : Option.some("RetryBudgetEmpty" as const)
      )
      : Effect.succeed(Option.some("CircuitOpen" as const)))

/** The errors whose retries a status page incident stops: an overload (529) and an unavailability (503). */
const incidentErrors: ReadonlySet<string> = new Set(["OverloadedError", "ServiceUnavailableError"])

/**
 * The status page before the breaker and the budget: a retry of a 529 or a
 * 503 while the page shows a `major` or `critical` incident is not taken
 * (nor paid for). Any other error, and any other indicator (`unknown`
 * included), goes on to `next`; the page is read only for those two errors.
 */
const statusPageGate = (page: StatusPage.Service, next: internal.Gate<never>): internal.Gate<never> =>
(decision, now) =>
  incidentErrors.has(decision.error)
    ? Effect.flatMap(page.indicator, (indicator) =>
      StatusPage.isIncident(indicator)
        ? Effect.as(
          Effect.annotateCurrentSpan("status_page.indicator", indicator),
          Option.some("StatusPageIncident" as const)
        )
        : next(decision, now))
    : next(decision, now)

/**
 * `Resilience.retry` under `policy` with `breaker` and `budget`: the
 * schedule and the gate are built once, here; each call deposits into the
 * budget, runs its attempts (the retry machinery only after a `Retryable`
 * failure) and, when the breaker ends it, fails with the last error a sent
 * request got. `page` is the status page of the call.
 *
 * @internal
 */
export const retrier = (
  policy: RetryPolicy.RetryPolicy | undefined,
  breaker: CircuitBreaker.Service,
  budget: RetryBudget.Service
) => {
  const schedule = RetryPolicy.schedule(policy)
  const gated = gate(breaker, budget)
  return <A, E, R>(self: Effect.Effect<A, E, R>, page: StatusPage.Service): Effect.Effect<A, E, R> =>
    Effect.suspend(() => {
      // the last Retryable error of this call: the error a real request got
      let last = Option.none<E>()
      const attempt = Effect.tapError(self, (e) => {
        if (ApiError.isRetryable(e)) last = Option.some(e)
        return Effect.void
      })
      return Effect.zipRight(
        budget.deposit,
        Effect.catchIf(
          // the policy alone, as in RetryPolicy.retry, with the breaker and the budget at its gate
          internal.retrying(attempt, schedule, page === StatusPage.unconfigured ? gated : statusPageGate(page, gated)),
          isCircuitOpen,
          // a retry the breaker refused sent nothing: a call that did send
          // requests ends with the last error one of them got
          (e) => Effect.fail(Option.getOrElse(last, () => e))
        )
      )
    })
}
