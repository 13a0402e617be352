/**
 * The retry loop shared by `RetryPolicy.retry` (the policy alone) and
 * `Resilience.retry` (the policy, a retry budget and a circuit breaker's
 * look-ahead): errors split by tag, the policy's schedule, an optional gate
 * that may refuse a `Retry` decision before its wait, and the report of
 * each decision (debug log, span annotations, the retry-wait metric).
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ApiError from "../ApiError.js"
import type { GiveUpReason, Retry, RetryDecision } from "../RetryPolicy.js"

/**
 * The wait of each retry decided, in milliseconds (`RetryPolicy.retryWaitMillis`).
 *
 * @internal
 */
export const retryWaitMillis = Metric.histogram(
  "claude_resilience_retry_wait_ms",
  MetricBoundaries.exponential({ start: 100, factor: 2, count: 10 }),
  "The wait before each retry"
)

/**
 * Asked about each `Retry` decision before its wait, with the instant it
 * was taken: `Some(reason)` turns it into a `GiveUp` with that reason (and
 * nothing is waited), `None` lets it stand.
 *
 * @internal
 */
export type Gate<R> = (decision: Retry, now: number) => Effect.Effect<Option.Option<GiveUpReason>, never, R>

const report = (decision: RetryDecision, error: ApiError.Retryable): Effect.Effect<void> => {
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
    Effect.zipRight(
      // a stop the status page decided is news for whoever watches the logs
      (decision._tag === "GiveUp" && decision.reason === "StatusPageIncident" ? Effect.logInfo : Effect.logDebug)(
        message
      ).pipe(Effect.annotateLogs(annotations)),
      decision._tag === "Retry" ? Metric.update(retryWaitMillis, Duration.toMillis(decision.wait)) : Effect.void
    )
  )
}

/**
 * The policy's schedule with the gate asked about each `Retry` decision and
 * every final decision reported (only the decision that stands is logged,
 * annotated and, for a `Retry`, recorded in {@link retryWaitMillis}).
 */
const reported = <R>(
  inner: Schedule.Schedule<RetryDecision, ApiError.Retryable>,
  gate: Gate<R> | undefined
): Schedule.Schedule<RetryDecision, ApiError.Retryable, R> =>
  Schedule.makeWithState(inner.initial, (now, error, state) =>
    Effect.flatMap(inner.step(now, error, state), ([nextState, decision, scheduleDecision]) => {
      const refusal: Effect.Effect<Option.Option<GiveUpReason>, never, R> = decision._tag === "Retry" &&
          gate !== undefined
        ? gate(decision, now)
        : Effect.succeedNone
      return Effect.flatMap(refusal, (refused) => {
        const final: RetryDecision = Option.isSome(refused) && decision._tag === "Retry"
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

/** A predicate, not a refinement: the error type stays `E` on both sides. */
const isRetryable: (e: unknown) => boolean = ApiError.isRetryable

/**
 * Retries `self` under `schedule`: only `Retryable` failures reach it; any
 * other failure leaves unchanged, never retried. Defects and interruptions
 * are not retried. The first attempt runs alone: the schedule's driver (and
 * its reporting) is made only after a `Retryable` failure, so that a call
 * whose first attempt succeeds pays nothing for its retries. From there it
 * is `Effect.retry`'s loop: each failure is a step of the schedule, which
 * waits before the next attempt or ends the call with that failure.
 *
 * @internal
 */
export const retrying = <A, E, R, R2>(
  self: Effect.Effect<A, E, R>,
  schedule: Schedule.Schedule<RetryDecision, ApiError.Retryable>,
  gate?: Gate<R2>
): Effect.Effect<A, E, R | R2> =>
  Effect.catchIf(self, isRetryable, (first) =>
    Effect.flatMap(Schedule.driver(reported(schedule, gate)), (driver) => {
      // as Effect.retry does: each attempt sees the schedule's iteration
      const again = Effect.provideServiceEffect(self, Schedule.CurrentIterationMetadata, Ref.get(driver.iterationMeta))
      const loop = (error: E): Effect.Effect<A, E, R | R2> =>
        Effect.matchEffect(driver.next(error as ApiError.Retryable), {
          onFailure: () => Effect.fail(error),
          onSuccess: () => Effect.catchIf(again, isRetryable, loop)
        })
      return loop(first)
    }))
