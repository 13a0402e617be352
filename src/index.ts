/**
 * claude-resilience: calls to the Claude API that fail correctly.
 *
 * @since 0.1.0
 */

/**
 * The one error for options that cannot be used: the module, and every
 * problem at its path.
 *
 * @since 0.2.0
 */
export * as Options from "./Options.js"

/**
 * The transport-layer errors, `Retryable | Fatal`, and their total decoder.
 *
 * @since 0.1.0
 */
export * as ApiError from "./ApiError.js"

/**
 * The `anthropic-ratelimit-*` headers as a typed snapshot, and the limiter
 * that acts on them (`RateLimits.Limiter`: in memory, or shared through
 * Redis).
 *
 * @since 0.1.0
 */
export * as RateLimits from "./RateLimits.js"

/**
 * `retry-after-ms` / `retry-after` parsing.
 *
 * @since 0.1.0
 */
export * as RetryAfter from "./RetryAfter.js"

/**
 * The circuit breaker: a pure state machine over a rolling window of
 * outcomes, behind a shared service.
 *
 * @since 0.1.0
 */
export * as CircuitBreaker from "./CircuitBreaker.js"

/**
 * The retry policy, as a value: a `Schedule` over `ApiError.Retryable` only,
 * and the `retry` combinator (split by tag, backoff, the `maxElapsed`
 * wall-clock limit), which needs nothing from the context.
 *
 * @since 0.1.0
 */
export * as RetryPolicy from "./RetryPolicy.js"

/**
 * The process-wide retry budget: a token bucket that keeps retries a bounded
 * fraction of traffic.
 *
 * @since 0.1.0
 */
export * as RetryBudget from "./RetryBudget.js"

/**
 * The Messages wire format: content blocks, the request params of
 * `POST /v1/messages` and `/v1/messages/count_tokens`, and the `Message`
 * response.
 *
 * @since 0.1.0
 */
export * as Messages from "./Messages.js"

/**
 * The events of a streamed `POST /v1/messages`.
 *
 * @since 0.2.0
 */
export * as MessageStream from "./MessageStream.js"

/**
 * Folding a stream's events into its `Message`, and the errors of a stream
 * that does not add up to one.
 *
 * @since 0.2.0
 */
export * as MessageAccumulator from "./MessageAccumulator.js"

/**
 * The Message Batches wire format: the batch request, the batch objects and
 * the results lines.
 *
 * @since 0.2.0
 */
export * as MessageBatches from "./MessageBatches.js"

/**
 * The Claude client service and its layers.
 *
 * @since 0.1.0
 */
export * as Claude from "./Claude.js"

/**
 * Checks made before a request is sent: size limits and the 10-minute rule.
 *
 * @since 0.1.0
 */
export * as Preflight from "./Preflight.js"

/**
 * The semantic layer over a successful `Message`: stop-reason outcomes,
 * semantic errors (disjoint from `ApiError`), and `requireComplete`. Pure:
 * it sends nothing.
 *
 * @since 0.1.0
 */
export * as Semantic from "./Semantic.js"

/**
 * Continuing paused and truncated turns: the part of the semantic layer that
 * sends follow-up requests through `Claude`.
 *
 * @since 0.2.0
 */
export * as Continuation from "./Continuation.js"

/**
 * Tool inputs decoded and checked against the caller's `Schema`.
 *
 * @since 0.2.0
 */
export * as ToolInput from "./ToolInput.js"

/**
 * The whole policy in one line: the retry policy, the circuit breaker and
 * the process-wide retry budget, wired together (`Resilience.retry`,
 * `Resilience.protect`, `Resilience.layer`).
 *
 * @since 0.1.0
 */
export * as Resilience from "./Resilience.js"

/**
 * One connection to Redis for the state a fleet of processes shares (the
 * breaker, the retry budget, the rate limiter), with a fall-back to local
 * state while Redis cannot be reached. Loads `ioredis` (an optional peer)
 * only when its layer is built.
 *
 * @since 0.2.0
 */
export * as Redis from "./Redis.js"

/**
 * The upstream's status page (Statuspage v2 JSON), read when a retry of a
 * 529 or a 503 is decided: a `major` or `critical` incident stops the
 * retries at once (`StatusPage.layer`; a `Context.Reference` whose default
 * reads `unknown` and changes nothing).
 *
 * @since 0.2.0
 */
export * as StatusPage from "./StatusPage.js"

/**
 * A typed fallback chain for `messages.create` and `messages.stream`:
 * another model, or a cached or degraded answer, when the primary is red
 * (its breaker open, its retries ended on a 529 or a 503, or stopped by the
 * status page); a breaker and a retry budget per model.
 *
 * @since 0.2.0
 */
export * as Fallback from "./Fallback.js"

/**
 * When to wake a human: a pure classifier over call outcomes and the status
 * page's changes (`page`, `ticket` or `none`, each with its reason, one page
 * per condition until it clears), and its live `Stream`/`Sink` adapters.
 *
 * @since 0.2.0
 */
export * as Alerts from "./Alerts.js"
