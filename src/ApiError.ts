/**
 * Every way a call to the Claude API can fail at the transport layer, as one
 * tagged union split into {@link Retryable} and {@link Fatal}, and the total
 * decoder that turns a response (status, headers, body) into exactly one of
 * them.
 *
 * @since 0.1.0
 */
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Response from "./internal/errorResponse.js"
import * as Headers from "./internal/headers.js"
import * as RateLimits from "./internal/rateLimits/snapshot.js"
import { hasTagIn } from "./internal/tags.js"
import * as RetryAfter from "./RetryAfter.js"

// ---------------------------------------------------------------------------
// wire format
// ---------------------------------------------------------------------------

/**
 * The error body the Claude API sends:
 * `{"type":"error","error":{"type","message"},"request_id"}`. Extra fields
 * are allowed (and ignored).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ErrorBody = Schema.Struct({
  type: Schema.Literal("error"),
  error: Schema.Struct({
    type: Schema.String,
    message: Schema.String
  }),
  request_id: Schema.optional(Schema.NullOr(Schema.String))
})

/**
 * @since 0.1.0
 * @category schemas
 */
export type ErrorBody = typeof ErrorBody.Type

// ---------------------------------------------------------------------------
// errors
// ---------------------------------------------------------------------------

const httpFields = {
  /** The HTTP status of the response (200 for an `error` event inside a stream). */
  status: Schema.Number,
  /** A readable summary: status, error type, request id and the server's message. */
  message: Schema.String,
  /** The body's `request_id`, else the `request-id` header. */
  requestId: Schema.Option(Schema.String),
  /** The body's raw `error.type`, known or not. */
  errorType: Schema.Option(Schema.String),
  /** The body's `error.message`, as the server wrote it. */
  serverMessage: Schema.Option(Schema.String),
  /** The `x-should-retry` header. */
  shouldRetry: Schema.Option(Schema.Boolean)
}

const retryableFields = {
  ...httpFields,
  /** From `retry-after-ms` or `retry-after`: the least the client must wait. */
  retryAfter: Schema.Option(Schema.Duration),
  /** The `anthropic-ratelimit-*` headers of the response. */
  rateLimits: RateLimits.Snapshot
}

/**
 * 400 `invalid_request_error`: the request is malformed. Fix the request.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidRequestError extends Schema.TaggedError<InvalidRequestError>()(
  "InvalidRequestError",
  httpFields
) {}

/**
 * 401 `authentication_error`: the API key is missing or wrong.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthenticationError extends Schema.TaggedError<AuthenticationError>()(
  "AuthenticationError",
  httpFields
) {}

/**
 * 402 `billing_error`: a billing or payment problem.
 *
 * @since 0.1.0
 * @category errors
 */
export class BillingError extends Schema.TaggedError<BillingError>()("BillingError", httpFields) {}

/**
 * 403 `permission_error`: the key is valid but lacks the permission.
 *
 * @since 0.1.0
 * @category errors
 */
export class PermissionError extends Schema.TaggedError<PermissionError>()("PermissionError", httpFields) {}

/**
 * 404 `not_found_error`: wrong endpoint or unknown resource.
 *
 * @since 0.1.0
 * @category errors
 */
export class NotFoundError extends Schema.TaggedError<NotFoundError>()("NotFoundError", httpFields) {}

/**
 * 413 `request_too_large`: the body is over the endpoint's byte limit (on the
 * direct API the edge answers, often with HTML). Also raised locally, with no
 * request sent, by the client's preflight.
 *
 * @since 0.1.0
 * @category errors
 */
export class RequestTooLargeError extends Schema.TaggedError<RequestTooLargeError>()(
  "RequestTooLargeError",
  httpFields
) {}

/**
 * 422: the request is well formed but semantically invalid.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnprocessableEntityError extends Schema.TaggedError<UnprocessableEntityError>()(
  "UnprocessableEntityError",
  httpFields
) {}

/**
 * A 429 or 400 whose message says a spend or usage limit was reached. Waiting
 * does not fix it: raise the limit or wait for the period to end.
 *
 * @since 0.1.0
 * @category errors
 */
export class SpendLimitError extends Schema.TaggedError<SpendLimitError>()("SpendLimitError", httpFields) {}

/**
 * Any status the API does not document and that is not transient (a 3xx, a
 * 409, a 418, a 501, a 505, …), or a status that is not an integer at all
 * (then `status` is 0 and the message says what was given). Log it, alert,
 * do not retry.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnexpectedStatusError extends Schema.TaggedError<UnexpectedStatusError>()(
  "UnexpectedStatusError",
  httpFields
) {}

/**
 * The request could not be built: its body would not encode or its URL is
 * invalid. The caller's mistake; nothing was sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class ClientRequestError extends Schema.TaggedError<ClientRequestError>()("ClientRequestError", {
  reason: Schema.Literal("Encode", "InvalidUrl"),
  message: Schema.String,
  method: Schema.String,
  url: Schema.String
}) {}

/**
 * 429 `rate_limit_error`: this organisation's quota is spent for now. Honour
 * `retryAfter`.
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimitError extends Schema.TaggedError<RateLimitError>()("RateLimitError", retryableFields) {}

/**
 * 500 `api_error`: an unexpected error inside the API. Retried once.
 *
 * @since 0.1.0
 * @category errors
 */
export class InternalServerError extends Schema.TaggedError<InternalServerError>()(
  "InternalServerError",
  retryableFields
) {}

/**
 * 502: bad gateway, a routing problem.
 *
 * @since 0.1.0
 * @category errors
 */
export class BadGatewayError extends Schema.TaggedError<BadGatewayError>()("BadGatewayError", retryableFields) {}

/**
 * 503: service unavailable (deploys, edge issues).
 *
 * @since 0.1.0
 * @category errors
 */
export class ServiceUnavailableError extends Schema.TaggedError<ServiceUnavailableError>()(
  "ServiceUnavailableError",
  retryableFields
) {}

/**
 * 504 `timeout_error`: the gateway timed out. If it follows your longest
 * contexts, stream or shorten them.
 *
 * @since 0.1.0
 * @category errors
 */
export class GatewayTimeoutError extends Schema.TaggedError<GatewayTimeoutError>()(
  "GatewayTimeoutError",
  retryableFields
) {}

/**
 * 529 `overloaded_error`: the API is overloaded for everyone.
 *
 * @since 0.1.0
 * @category errors
 */
export class OverloadedError extends Schema.TaggedError<OverloadedError>()("OverloadedError", retryableFields) {}

/**
 * 408: the server (usually a proxy or the edge) timed out waiting for the
 * request. Not in the API's table, but transient: the official SDK retries
 * it, and so does the policy.
 *
 * @since 0.1.0
 * @category errors
 */
export class RequestTimeoutError extends Schema.TaggedError<RequestTimeoutError>()(
  "RequestTimeoutError",
  retryableFields
) {}

/**
 * A 5xx the API's table does not name (501 and 505 excepted): a Cloudflare
 * 520–527, a proxy's 507 or 599. The server failed, not the request: retried
 * with backoff as the official SDK does, and counted by the circuit breaker.
 * `status` says which.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnexpectedServerError extends Schema.TaggedError<UnexpectedServerError>()(
  "UnexpectedServerError",
  retryableFields
) {}

/**
 * The tags a response marked `x-should-retry: true` can stand in for: every
 * Fatal error decoded from a response but a spend limit.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ServerRetryableOriginalTag = Schema.Literal(
  "InvalidRequestError",
  "AuthenticationError",
  "BillingError",
  "PermissionError",
  "NotFoundError",
  "RequestTooLargeError",
  "UnprocessableEntityError",
  "UnexpectedStatusError"
)

/**
 * A response that would be Fatal (a 400, a 409, a 501, …) but that the
 * server marked `x-should-retry: true`: the server knows better than the
 * status, so it is retried, as the official SDK does. `originalTag` is what
 * it would have decoded to without the header; `status`, `errorType` and
 * `serverMessage` are the response's. A spend limit is never turned into
 * one: waiting does not raise a limit, whatever the header says.
 *
 * @since 0.1.0
 * @category errors
 */
export class ServerRetryableError extends Schema.TaggedError<ServerRetryableError>()("ServerRetryableError", {
  ...retryableFields,
  /** The tag the response decodes to without its `x-should-retry: true`. */
  originalTag: ServerRetryableOriginalTag
}) {}

/**
 * No response: the connection was refused or reset, DNS failed, the request
 * timed out, the body broke off, or a stream stalled. It carries the
 * request's method and URL, never its headers.
 *
 * @since 0.1.0
 * @category errors
 */
export class TransportError extends Schema.TaggedError<TransportError>()("TransportError", {
  reason: Schema.Literal("Transport", "ResponseBody", "Timeout", "Idle"),
  message: Schema.String,
  method: Schema.String,
  url: Schema.String
}) {}

/**
 * The errors worth retrying: waiting (with backoff) can make them succeed.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Retryable = Schema.Union(
  RateLimitError,
  InternalServerError,
  BadGatewayError,
  ServiceUnavailableError,
  GatewayTimeoutError,
  OverloadedError,
  RequestTimeoutError,
  UnexpectedServerError,
  ServerRetryableError,
  TransportError
)

/**
 * @since 0.1.0
 * @category models
 */
export type Retryable = typeof Retryable.Type

/**
 * The errors that retrying never fixes: change the request, the key, the
 * permissions or the billing.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Fatal = Schema.Union(
  InvalidRequestError,
  AuthenticationError,
  BillingError,
  PermissionError,
  NotFoundError,
  RequestTooLargeError,
  UnprocessableEntityError,
  SpendLimitError,
  UnexpectedStatusError,
  ClientRequestError
)

/**
 * @since 0.1.0
 * @category models
 */
export type Fatal = typeof Fatal.Type

/**
 * Every transport-layer error, as a Schema: {@link Retryable} and {@link Fatal}.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ApiError = Schema.Union(Retryable, Fatal)

/**
 * Every way a call can fail at the transport layer: `Retryable | Fatal`.
 *
 * @since 0.1.0
 * @category models
 */
export type ApiError = Retryable | Fatal

/**
 * The tag of any {@link ApiError}.
 *
 * @since 0.1.0
 * @category models
 */
export type Tag = ApiError["_tag"]

/**
 * The tags of {@link Retryable}, for splitting errors by tag.
 *
 * @since 0.1.0
 * @category constants
 */
export const retryableTags: ReadonlySet<Retryable["_tag"]> = new Set(
  Retryable.members.map((member) => member._tag)
)

/**
 * The tags of {@link Fatal}.
 *
 * @since 0.1.0
 * @category constants
 */
export const fatalTags: ReadonlySet<Fatal["_tag"]> = new Set(Fatal.members.map((member) => member._tag))

const isRetryableTag = hasTagIn(retryableTags)
const isFatalTag = hasTagIn(fatalTags)

/**
 * Whether a value is one of the {@link Retryable} errors (by its tag).
 *
 * @example
 * ```ts
 * import { ApiError } from "claude-resilience"
 *
 * const error = ApiError.fromResponse({ status: 529, body: "" })
 * ApiError.isRetryable(error) // true
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isRetryable = (u: unknown): u is Retryable => isRetryableTag(u)

/**
 * Whether a value is one of the {@link Fatal} errors (by its tag).
 *
 * @example
 * ```ts
 * import { ApiError } from "claude-resilience"
 *
 * const error = ApiError.fromResponse({ status: 401, body: "" })
 * ApiError.isFatal(error) // true
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isFatal = (u: unknown): u is Fatal => isFatalTag(u)

/**
 * Whether a value is any {@link ApiError} (by its tag).
 *
 * @example
 * ```ts
 * import { ApiError } from "claude-resilience"
 *
 * ApiError.isApiError(ApiError.fromResponse({ status: 500, body: "" })) // true
 * ApiError.isApiError(new Error("boom")) // false
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isApiError = (u: unknown): u is ApiError => isRetryableTag(u) || isFatalTag(u)

/**
 * The wait the server asked for, if the error carries one.
 *
 * @example
 * ```ts
 * import { Duration, Option } from "effect"
 * import { ApiError } from "claude-resilience"
 *
 * const error = ApiError.fromResponse({ status: 429, headers: { "retry-after": "20" }, body: "" })
 * if (ApiError.isRetryable(error)) {
 *   Option.map(ApiError.retryAfter(error), Duration.toSeconds) // Option.some(20)
 * }
 * ```
 *
 * @since 0.1.0
 * @category getters
 */
export const retryAfter = (error: Retryable) =>
  error._tag === "TransportError" ? Option.none() : error.retryAfter

/**
 * The `x-should-retry` header, if the error carries one.
 *
 * @example
 * ```ts
 * import { ApiError } from "claude-resilience"
 *
 * const error = ApiError.fromResponse({ status: 409, headers: { "x-should-retry": "true" }, body: "" })
 * ApiError.shouldRetry(error) // Option.some(true)
 * error._tag // "ServerRetryableError"
 * ```
 *
 * @since 0.1.0
 * @category getters
 */
export const shouldRetry = (error: ApiError): Option.Option<boolean> =>
  error._tag === "TransportError" || error._tag === "ClientRequestError" ? Option.none() : error.shouldRetry

// ---------------------------------------------------------------------------
// classification: the single table the decoder, the docs and the lab use
// ---------------------------------------------------------------------------

type HttpTag = Exclude<Tag, "TransportError" | "ClientRequestError">

/**
 * `error.type` → tag. When a body carries one of these types, the type
 * decides, whatever the status.
 *
 * @since 0.1.0
 * @category classification
 */
export const tagByErrorType: { readonly [type: string]: HttpTag } = {
  invalid_request_error: "InvalidRequestError",
  authentication_error: "AuthenticationError",
  billing_error: "BillingError",
  permission_error: "PermissionError",
  not_found_error: "NotFoundError",
  request_too_large: "RequestTooLargeError",
  rate_limit_error: "RateLimitError",
  api_error: "InternalServerError",
  timeout_error: "GatewayTimeoutError",
  overloaded_error: "OverloadedError"
}

/**
 * Status → tag, used when the body has no known `error.type`. Any other 5xx
 * but 501 and 505 is an `UnexpectedServerError` (see {@link classify}); any
 * other status an `UnexpectedStatusError`.
 *
 * @since 0.1.0
 * @category classification
 */
export const tagByStatus: { readonly [status: number]: HttpTag } = {
  400: "InvalidRequestError",
  401: "AuthenticationError",
  402: "BillingError",
  403: "PermissionError",
  404: "NotFoundError",
  408: "RequestTimeoutError",
  413: "RequestTooLargeError",
  422: "UnprocessableEntityError",
  429: "RateLimitError",
  500: "InternalServerError",
  502: "BadGatewayError",
  503: "ServiceUnavailableError",
  504: "GatewayTimeoutError",
  529: "OverloadedError"
}

const spendLimit = /spend limit|usage limit/i

// ---------------------------------------------------------------------------
// the classification rule
// ---------------------------------------------------------------------------

/** 501 Not Implemented and 505 HTTP Version Not Supported: the same request cannot fare better. */
const permanentServerStatuses: ReadonlySet<number> = new Set([501, 505])

const overridableTags: ReadonlySet<string> = new Set(ServerRetryableOriginalTag.literals)

const tagOfStatus = (status: number): HttpTag =>
  Object.hasOwn(tagByStatus, status)
    ? tagByStatus[status]!
    : status >= 500 && status <= 599 && !permanentServerStatuses.has(status)
    ? "UnexpectedServerError"
    : "UnexpectedStatusError"

/**
 * Which tag a response decodes to, from its status, `error.type`, the
 * server's message and its `x-should-retry` header. This is the
 * classification rule itself; `fromResponse` applies it.
 *
 * - A known `error.type` decides; otherwise the status ({@link tagByStatus});
 *   otherwise a 5xx other than 501 and 505 is `UnexpectedServerError`
 *   (Retryable) and any other status `UnexpectedStatusError` (Fatal).
 * - Override: a spend or usage limit ("spend limit" / "usage limit", any case,
 *   in the server's message) on a 400 or a 429, or on an
 *   `invalid_request_error` / `rate_limit_error` (as in a stream's `error`
 *   event), is a `SpendLimitError`, whatever the headers say.
 * - Override: any other Fatal tag on a response marked `x-should-retry: true`
 *   is a `ServerRetryableError` (Retryable): the server asked for a retry.
 *   `x-should-retry: false` does not change the tag; the retry policy obeys
 *   it.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { ApiError } from "claude-resilience"
 *
 * ApiError.classify(429, Option.some("rate_limit_error"), Option.some("Number of requests has exceeded your rate limit"))
 * // "RateLimitError"
 * ApiError.classify(429, Option.none(), Option.some("You have reached your monthly spend limit"))
 * // "SpendLimitError"
 * ```
 *
 * @since 0.1.0
 * @category classification
 */
export const classify = (
  status: number,
  errorType: Option.Option<string>,
  serverMessage: Option.Option<string>,
  shouldRetry: Option.Option<boolean> = Option.none()
): HttpTag => {
  const byType = Option.flatMap(errorType, (type) =>
    Object.hasOwn(tagByErrorType, type) ? Option.fromNullable(tagByErrorType[type]) : Option.none()
  )
  const tag: HttpTag = Option.getOrElse(byType, () => tagOfStatus(status))
  const spendContext = status === 400 || status === 429 || tag === "InvalidRequestError" || tag === "RateLimitError"
  if (spendContext && Option.exists(serverMessage, (message) => spendLimit.test(message))) {
    return "SpendLimitError"
  }
  if (Option.getOrElse(shouldRetry, () => false) && overridableTags.has(tag)) return "ServerRetryableError"
  return tag
}

// ---------------------------------------------------------------------------
// decoding (reading the response: internal/errorResponse)
// ---------------------------------------------------------------------------

/**
 * The input of {@link fromResponse}.
 *
 * @since 0.1.0
 * @category models
 */
export interface ResponseInput {
  /**
   * The HTTP status. From untyped code, a string of digits (`"429"`) is
   * read as its number; anything else that is not a safe integer decodes to
   * an `UnexpectedStatusError` with status 0.
   */
  readonly status: number
  readonly headers?: RetryAfter.HeadersInput | undefined
  readonly body: string
  /** Epoch milliseconds, for an HTTP-date `retry-after`. Defaults to `Date.now()`. */
  readonly now?: number | undefined
}

/**
 * Decodes an error response into exactly one {@link ApiError}. Total over any
 * input: an HTML page, an empty body, truncated JSON, JSON of the wrong shape
 * or an unknown `error.type` all become a typed error; so does input of the
 * wrong type from untyped code (headers that are `null`, a string or throw
 * when read are ignored, and the message says so; a status that is no integer
 * is an `UnexpectedStatusError` with status 0). Pure when `now` is given.
 *
 * @example
 * ```ts
 * import { ApiError } from "claude-resilience"
 *
 * const error = ApiError.fromResponse({
 *   status: 529,
 *   headers: { "request-id": "req_1" },
 *   body: `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`
 * })
 * error._tag // "OverloadedError"
 * ApiError.isRetryable(error) // true
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const fromResponse = (input: ResponseInput): Exclude<ApiError, TransportError | ClientRequestError> => {
  const { body, headers, now, problems, status: readStatus } = Response.readInput(input)
  const parsed = Response.parseBody(body)
  const status = Either.getOrElse(readStatus, () => 0)
  const requestId = Option.orElse(parsed.requestId, () =>
    Headers.get(headers, "request-id").pipe(Option.flatMap(Response.cleanRequestId))
  )
  const shouldRetry = Option.flatMap(Headers.get(headers, "x-should-retry"), Response.parseShouldRetry)
  // a status that is no integer says nothing trustworthy: Fatal, whatever the body or headers
  const original: HttpTag = Either.isLeft(readStatus)
    ? "UnexpectedStatusError"
    : classify(status, parsed.errorType, parsed.serverMessage)
  const tag: HttpTag = Either.isLeft(readStatus)
    ? "UnexpectedStatusError"
    : classify(status, parsed.errorType, parsed.serverMessage, shouldRetry)
  const head = Either.match(readStatus, {
    onLeft: (given) => `Invalid HTTP status ${given} (read as 0)`,
    onRight: (status) => `HTTP ${status}`
  })
  const fields = {
    status,
    message: Response.describe(head, parsed.errorType, requestId, parsed.serverMessage, parsed, body, problems),
    requestId,
    errorType: parsed.errorType,
    serverMessage: parsed.serverMessage,
    shouldRetry
  }
  const retryable = () => ({
    ...fields,
    retryAfter: RetryAfter.parse(headers, now),
    rateLimits: RateLimits.parse(headers)
  })
  // validation is skipped: every field is built to its schema above
  switch (tag) {
    case "InvalidRequestError":
      return new InvalidRequestError(fields, true)
    case "AuthenticationError":
      return new AuthenticationError(fields, true)
    case "BillingError":
      return new BillingError(fields, true)
    case "PermissionError":
      return new PermissionError(fields, true)
    case "NotFoundError":
      return new NotFoundError(fields, true)
    case "RequestTooLargeError":
      return new RequestTooLargeError(fields, true)
    case "UnprocessableEntityError":
      return new UnprocessableEntityError(fields, true)
    case "SpendLimitError":
      return new SpendLimitError(fields, true)
    case "UnexpectedStatusError":
      return new UnexpectedStatusError(fields, true)
    case "RateLimitError":
      return new RateLimitError(retryable(), true)
    case "InternalServerError":
      return new InternalServerError(retryable(), true)
    case "BadGatewayError":
      return new BadGatewayError(retryable(), true)
    case "ServiceUnavailableError":
      return new ServiceUnavailableError(retryable(), true)
    case "GatewayTimeoutError":
      return new GatewayTimeoutError(retryable(), true)
    case "OverloadedError":
      return new OverloadedError(retryable(), true)
    case "RequestTimeoutError":
      return new RequestTimeoutError(retryable(), true)
    case "UnexpectedServerError":
      return new UnexpectedServerError(retryable(), true)
    case "ServerRetryableError":
      return new ServerRetryableError(
        { ...retryable(), originalTag: original as ServerRetryableError["originalTag"] },
        true
      )
  }
}

/**
 * How much of an error body {@link fromHttpResponse} reads: 1 MiB.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxErrorBodyBytes = 1024 * 1024

/**
 * Builds a {@link TransportError} for a request that got no (complete)
 * response.
 *
 * @example
 * ```ts
 * import { ApiError } from "claude-resilience"
 *
 * const error = ApiError.transportError({
 *   reason: "Transport",
 *   method: "POST",
 *   url: "https://api.anthropic.com/v1/messages",
 *   detail: "ECONNRESET"
 * })
 * error.message // "Transport failure on POST https://api.anthropic.com/v1/messages: ECONNRESET"
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const transportError = (options: {
  readonly reason: TransportError["reason"]
  readonly method: string
  readonly url: string
  readonly detail: string
}): TransportError => {
  const url = Response.sanitizeUrl(options.url)
  return new TransportError({
    reason: options.reason,
    method: options.method,
    url,
    message: `${options.reason} failure on ${options.method} ${url}: ${Response.cleanMessage(options.detail)}`
  }, true)
}

/**
 * Reads at most {@link maxErrorBodyBytes} of a response's body and decodes it
 * with {@link fromResponse}, taking `now` from `Clock`. A body that breaks off
 * while it is read is a {@link TransportError}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HttpClient } from "@effect/platform"
 * import { ApiError } from "claude-resilience"
 *
 * // any endpoint of the API, sent with the platform's client
 * const call = Effect.flatMap(HttpClient.HttpClient, (client) => client.get("https://api.anthropic.com/v1/models")).pipe(
 *   Effect.flatMap((response) => response.status >= 400 ? ApiError.fromHttpResponse(response) : Effect.succeed(response)),
 *   Effect.scoped
 * )
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const fromHttpResponse = (
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<never, ApiError> =>
  response.stream.pipe(
    Stream.runFoldWhile(
      { chunks: [] as Array<Uint8Array>, size: 0 },
      (acc) => acc.size < maxErrorBodyBytes,
      (acc, chunk) => {
        acc.chunks.push(chunk)
        return { chunks: acc.chunks, size: acc.size + chunk.length }
      }
    ),
    Effect.catchAll((error) =>
      // a response without a body (e.g. a bare 503) is an empty body, not a transport failure
      error.reason === "EmptyBody"
        ? Effect.succeed({ chunks: [] as Array<Uint8Array>, size: 0 })
        : Effect.fail(transportError({
          reason: "ResponseBody",
          method: response.request.method,
          url: response.request.url,
          detail: `the error body broke off: ${Response.causeMessage(error.cause)}`
        }))
    ),
    Effect.zip(Clock.currentTimeMillis),
    Effect.flatMap(([{ chunks, size }, now]) => {
      const bytes = new Uint8Array(Math.min(size, maxErrorBodyBytes))
      let offset = 0
      for (const chunk of chunks) {
        const part = chunk.subarray(0, bytes.length - offset)
        bytes.set(part, offset)
        offset += part.length
        if (offset >= bytes.length) break
      }
      const body = new TextDecoder("utf-8", { fatal: false }).decode(bytes)
      return Effect.fail(fromResponse({ status: response.status, headers: response.headers, body, now }))
    })
  )

/**
 * Maps an `@effect/platform` client failure to an {@link ApiError}. A
 * transport failure, or a body that could not be read, is a
 * {@link TransportError}; a body that would not encode or an invalid URL is a
 * {@link ClientRequestError}; a status error is decoded from its response.
 * The platform's error is not kept as a cause: its request holds the API key.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HttpClient } from "@effect/platform"
 * import { ApiError } from "claude-resilience"
 *
 * const call = Effect.flatMap(HttpClient.HttpClient, (client) => client.get("https://api.anthropic.com/v1/models")).pipe(
 *   Effect.catchTags({ RequestError: ApiError.fromHttpClientError, ResponseError: ApiError.fromHttpClientError }),
 *   Effect.scoped
 * )
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const fromHttpClientError = (error: HttpClientError.HttpClientError): Effect.Effect<never, ApiError> => {
  if (error._tag === "RequestError") {
    if (error.reason === "Transport") {
      return Effect.fail(transportError({
        reason: "Transport",
        method: error.request.method,
        url: error.request.url,
        detail: Response.causeMessage(error.cause)
      }))
    }
    const url = Response.sanitizeUrl(error.request.url)
    return Effect.fail(
      new ClientRequestError({
        reason: error.reason,
        method: error.request.method,
        url,
        message: `${error.reason === "Encode" ? "The request body could not be encoded" : "The request URL is invalid"} (${error.request.method} ${url}): ${Response.causeMessage(error.cause)}`
      }, true)
    )
  }
  if (error.reason === "StatusCode") {
    return fromHttpResponse(error.response)
  }
  return Effect.fail(transportError({
    reason: "ResponseBody",
    method: error.request.method,
    url: error.request.url,
    detail: Response.causeMessage(error.cause)
  }))
}
