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
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Headers from "./internal/headers.js"
import { describeValue } from "./internal/options.js"
import * as RateLimits from "./internal/rateLimits/snapshot.js"
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
 * @since 0.1.0
 * @category schemas
 */
export const ApiError = Schema.Union(Retryable, Fatal)

/**
 * @since 0.1.0
 * @category models
 */
export type ApiError = Retryable | Fatal

/**
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

const hasTagIn = (tags: ReadonlySet<string>) => (u: unknown): boolean =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && tags.has(u._tag)

const isRetryableTag = hasTagIn(retryableTags)
const isFatalTag = hasTagIn(fatalTags)

/**
 * @since 0.1.0
 * @category guards
 */
export const isRetryable = (u: unknown): u is Retryable => isRetryableTag(u)

/**
 * @since 0.1.0
 * @category guards
 */
export const isFatal = (u: unknown): u is Fatal => isFatalTag(u)

/**
 * @since 0.1.0
 * @category guards
 */
export const isApiError = (u: unknown): u is ApiError => isRetryableTag(u) || isFatalTag(u)

/**
 * The wait the server asked for, if the error carries one.
 *
 * @since 0.1.0
 * @category getters
 */
export const retryAfter = (error: Retryable) =>
  error._tag === "TransportError" ? Option.none() : error.retryAfter

/**
 * The `x-should-retry` header, if the error carries one.
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

/**
 * What the caller should do about each error (the seeds' actions).
 *
 * @since 0.1.0
 * @category classification
 */
export const actions: { readonly [K in Tag]: string } = {
  InvalidRequestError: "Do not retry; fix the request, alert in code.",
  AuthenticationError: "Do not retry; refresh credentials, alert ops.",
  BillingError: "Do not retry; fix billing in the Console.",
  PermissionError: "Do not retry; check the organisation's permissions.",
  NotFoundError: "Do not retry; fix the URL or resource id.",
  RequestTooLargeError: "Do not retry; reduce the payload (truncate, Files API).",
  UnprocessableEntityError: "Do not retry; fix the request.",
  SpendLimitError: "Do not retry; waiting does not help: raise the spend limit.",
  UnexpectedStatusError: "Do not retry; log and alert.",
  ClientRequestError: "Do not retry; fix the request's body or URL.",
  RateLimitError: "Retry: honour retry-after, backoff with jitter, within budget.",
  InternalServerError: "Retry once with delay; report if persistent.",
  BadGatewayError: "Retry: backoff with full jitter.",
  ServiceUnavailableError: "Retry: backoff with full jitter.",
  GatewayTimeoutError: "Retry: backoff; if long contexts, stream or chunk.",
  OverloadedError: "Retry with discipline: backoff, budget, circuit breaker.",
  RequestTimeoutError: "Retry: backoff with full jitter.",
  UnexpectedServerError: "Retry: backoff with full jitter; log the status, report if persistent.",
  ServerRetryableError: "Retry: the server asked for it (x-should-retry: true); backoff with full jitter.",
  TransportError: "Retry: backoff with full jitter."
}

const spendLimit = /spend limit|usage limit/i

const MAX_SERVER_MESSAGE = 2000

// ---------------------------------------------------------------------------
// decoding
// ---------------------------------------------------------------------------

interface ParsedBody {
  readonly errorType: Option.Option<string>
  readonly serverMessage: Option.Option<string>
  readonly requestId: Option.Option<string>
  readonly shape: "envelope" | "flat" | "json" | "text" | "empty"
}

const decodeJson = Schema.decodeUnknownOption(Schema.parseJson())

const nonEmptyString = (u: unknown): Option.Option<string> =>
  typeof u === "string" && u.length > 0 ? Option.some(u) : Option.none()

const cleanMessage = (message: string): string => {
  // strip control characters a hostile body could use to forge log lines
  // eslint-disable-next-line no-control-regex
  const clean = message.replace(/[\u0000-\u001f\u007f]+/g, " ").trim()
  return clean.length > MAX_SERVER_MESSAGE ? `${clean.slice(0, MAX_SERVER_MESSAGE)}…` : clean
}

// a request id is echoed into messages and logs: no control characters, and
// one that is nothing but control characters is no request id
const cleanRequestId = (u: unknown): Option.Option<string> =>
  nonEmptyString(u).pipe(Option.map(cleanMessage), Option.filter((id) => id.length > 0))

const parseBody = (body: string): ParsedBody => {
  if (body.trim().length === 0) {
    return { errorType: Option.none(), serverMessage: Option.none(), requestId: Option.none(), shape: "empty" }
  }
  const json = decodeJson(body)
  if (Option.isNone(json)) {
    return { errorType: Option.none(), serverMessage: Option.none(), requestId: Option.none(), shape: "text" }
  }
  const value = json.value
  if (Predicate.isRecord(value) && Predicate.isRecord(value.error)) {
    // the documented envelope (or the same without its `type: "error"`)
    return {
      errorType: nonEmptyString(value.error.type),
      serverMessage: nonEmptyString(value.error.message).pipe(Option.map(cleanMessage)),
      requestId: cleanRequestId(value.request_id),
      shape: "envelope"
    }
  }
  if (Predicate.isRecord(value) && typeof value.type === "string" && value.type !== "error") {
    // wrapper-less: the edge's `{"type":"request_too_large","message":…}`
    return {
      errorType: nonEmptyString(value.type),
      serverMessage: nonEmptyString(value.message).pipe(Option.map(cleanMessage)),
      requestId: cleanRequestId(value.request_id),
      shape: "flat"
    }
  }
  return { errorType: Option.none(), serverMessage: Option.none(), requestId: Option.none(), shape: "json" }
}

const parseShouldRetry = (value: string): Option.Option<boolean> => {
  const lower = value.toLowerCase()
  return lower === "true" ? Option.some(true) : lower === "false" ? Option.some(false) : Option.none()
}

// ---------------------------------------------------------------------------
// the excerpt of a page that is not JSON
// ---------------------------------------------------------------------------

/** How much of a non-JSON body the excerpt is taken from, and its longest length. */
const EXCERPT_SCAN = 16 * 1024
const EXCERPT_LENGTH = 200

// C0 and C1 controls, DEL, and the invisible format characters a hostile page
// could use to hide or reorder text in a log line: zero-width marks, bidi
// embeddings, overrides and isolates, line and paragraph separators, BOM
// eslint-disable-next-line no-control-regex
const unsafeText = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]+/g

const namedEntities: { readonly [name: string]: string } = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: "\"",
  apos: "'",
  nbsp: " "
}

const decodeEntities = (text: string): string =>
  text.replace(/&(?:#(\d{1,7})|#x([0-9a-f]{1,6})|([a-z]{2,5}));/gi, (entity, dec?: string, hex?: string, name?: string) => {
    if (name !== undefined) return namedEntities[name.toLowerCase()] ?? entity
    const code = dec !== undefined ? Number(dec) : parseInt(hex!, 16)
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity
  })

const tagStart = /[a-z/!?]/i

/**
 * The text of an HTML fragment: tags, comments, scripts and styles removed.
 * Linear in its input: every search starts where the last one ended.
 */
const stripTags = (html: string): string => {
  let out = ""
  let i = 0
  while (i < html.length) {
    const open = html.indexOf("<", i)
    if (open < 0 || open + 1 >= html.length) {
      out += html.slice(i)
      break
    }
    if (!tagStart.test(html[open + 1]!)) {
      // "a < b" in plain text is no tag
      out += html.slice(i, open + 1)
      i = open + 1
      continue
    }
    out += `${html.slice(i, open)} `
    let end: number
    const head = html.slice(open, open + 8)
    const raw = /^<(script|style)\b/i.exec(head)
    if (head.startsWith("<!--")) {
      const close = html.indexOf("-->", open + 4)
      end = close < 0 ? html.length : close + 3
    } else if (raw !== null) {
      const closing = new RegExp(`</${raw[1]}\\s*>`, "gi")
      closing.lastIndex = open + raw[0].length
      const close = closing.exec(html)
      end = close === null ? html.length : close.index + close[0].length
    } else {
      const close = html.indexOf(">", open + 1)
      end = close < 0 ? html.length : close + 1
    }
    i = end
  }
  return out
}

/** The content of the first `<title>…</title>`, if there is one. */
const titleOf = (html: string): Option.Option<string> => {
  const open = /<title\b/i.exec(html)
  if (open === null) return Option.none()
  const start = html.indexOf(">", open.index)
  if (start < 0) return Option.none()
  const closing = /<\/title\s*>/gi
  closing.lastIndex = start + 1
  const close = closing.exec(html)
  return close === null ? Option.none() : Option.some(html.slice(start + 1, close.index))
}

// a surrogate without its pair (a body cut in the middle of a character)
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

const sanitize = (text: string): string =>
  decodeEntities(text).replace(unsafeText, " ").replace(loneSurrogate, "\ufffd").replace(/\s+/g, " ").trim()

/**
 * A short, readable excerpt of a body that is not JSON (an HTML error page,
 * a proxy's plain text): the page's `<title>` if it has a non-empty one,
 * else the start of its text, tags removed; entities decoded, control and
 * invisible format characters removed, whitespace collapsed, at most 200
 * characters. Read from the body's first 16 KiB only.
 */
const excerpt = (body: string): Option.Option<string> => {
  const head = body.slice(0, EXCERPT_SCAN)
  const text = titleOf(head).pipe(
    Option.map((title) => sanitize(stripTags(title))),
    Option.filter((title) => title.length > 0),
    Option.getOrElse(() => sanitize(stripTags(head)))
  )
  if (text.length === 0) return Option.none()
  // count and cut in code points, never inside a surrogate pair; 2 code
  // units per point at most, so this head holds more than 200 points when the text does
  const points = Array.from(text.slice(0, 2 * EXCERPT_LENGTH + 2))
  return Option.some(
    points.length > EXCERPT_LENGTH ? `${points.slice(0, EXCERPT_LENGTH).join("")}…` : points.join("")
  )
}

// ---------------------------------------------------------------------------
// classification
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

const describe = (
  head: string,
  errorType: Option.Option<string>,
  requestId: Option.Option<string>,
  serverMessage: Option.Option<string>,
  parsed: ParsedBody,
  body: string,
  problems: ReadonlyArray<string>
): string => {
  // the raw type is kept on the error; the message gets a clean copy
  const type = Option.map(errorType, cleanMessage).pipe(Option.filter((t) => t.length > 0))
  const typePart = Option.getOrElse(type, () => "(no error type)")
  const id = Option.match(requestId, { onNone: () => "", onSome: (id) => ` (request ${id})` })
  const detail = Option.match(serverMessage, {
    onSome: (message) => `: ${message}`,
    onNone: () =>
      parsed.shape === "empty"
        ? ": empty body"
        : parsed.shape === "text"
        ? `: non-JSON body of ${body.length} characters${
          Option.match(excerpt(body), { onNone: () => "", onSome: (text) => `: "${text}"` })
        }`
        : parsed.shape === "json"
        ? `: JSON body not in the Claude error format`
        : ""
  })
  const ignored = problems.length === 0 ? "" : ` [input ignored: ${problems.join("; ")}]`
  return `${head} ${typePart}${id}${detail}${ignored}`
}

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

const shown = (value: unknown): string => {
  const text = describeValue(value)
  return text.length > 80 ? `${text.slice(0, 80)}…` : text
}

interface ReadInput {
  readonly status: Either.Either<number, string>
  readonly headers: ReturnType<typeof Headers.normalize>
  readonly body: string
  readonly now: number
  readonly problems: ReadonlyArray<string>
}

/** Reads `fromResponse`'s input from whatever it is given, never throwing. */
const readInput = (input: unknown): ReadInput => {
  const problems: Array<string> = []
  const isRecord = Predicate.isRecord(input)
  if (!isRecord) problems.push(`the input is not an object (got ${shown(input)})`)
  const field = (name: string): unknown =>
    isRecord
      ? Either.getOrElse(Either.try(() => (input as { readonly [key: string]: unknown })[name]), () => {
        problems.push(`${name} threw when read`)
        return undefined
      })
      : undefined
  const rawStatus = field("status")
  const status: Either.Either<number, string> = typeof rawStatus === "number" && Number.isSafeInteger(rawStatus)
    ? Either.right(rawStatus === 0 ? 0 : rawStatus) // never -0
    : typeof rawStatus === "string" && /^\s*\d{1,15}\s*$/.test(rawStatus)
    ? Either.right(Number(rawStatus.trim()))
    : Either.left(shown(rawStatus))
  const headers = Either.getOrElse(Headers.read(field("headers")), (problem) => {
    problems.push(`headers: ${problem}`)
    return Headers.normalize(undefined)
  })
  const rawBody = field("body")
  if (rawBody !== undefined && rawBody !== null && typeof rawBody !== "string") {
    problems.push(`body: not a string (got ${shown(rawBody)})`)
  }
  const rawNow = field("now")
  if (rawNow !== undefined && !(typeof rawNow === "number" && Number.isFinite(rawNow))) {
    problems.push(`now: not a finite number (got ${shown(rawNow)}), the system clock was read`)
  }
  return {
    status,
    headers,
    body: typeof rawBody === "string" ? rawBody : "",
    now: typeof rawNow === "number" && Number.isFinite(rawNow) ? rawNow : Date.now(),
    problems
  }
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
  const { body, headers, now, problems, status: readStatus } = readInput(input)
  const parsed = parseBody(body)
  const status = Either.getOrElse(readStatus, () => 0)
  const requestId = Option.orElse(parsed.requestId, () =>
    Headers.get(headers, "request-id").pipe(Option.flatMap(cleanRequestId))
  )
  const shouldRetry = Option.flatMap(Headers.get(headers, "x-should-retry"), parseShouldRetry)
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
    message: describe(head, parsed.errorType, requestId, parsed.serverMessage, parsed, body, problems),
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

const sanitizeUrl = (url: string): string => {
  if (!URL.canParse(url)) return cleanMessage(url).slice(0, 200)
  const parsed = new URL(url)
  parsed.username = ""
  parsed.password = ""
  return parsed.toString()
}

const causeMessage = (cause: unknown): string => {
  if (Predicate.hasProperty(cause, "message") && typeof cause.message === "string") {
    const code = Predicate.hasProperty(cause, "code") && typeof cause.code === "string" ? `${cause.code}: ` : ""
    return cleanMessage(`${code}${cause.message}`)
  }
  return "no detail"
}

/**
 * Builds a {@link TransportError} for a request that got no (complete)
 * response.
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
  const url = sanitizeUrl(options.url)
  return new TransportError({
    reason: options.reason,
    method: options.method,
    url,
    message: `${options.reason} failure on ${options.method} ${url}: ${cleanMessage(options.detail)}`
  }, true)
}

/**
 * Reads at most {@link maxErrorBodyBytes} of a response's body and decodes it
 * with {@link fromResponse}, taking `now` from `Clock`. A body that breaks off
 * while it is read is a {@link TransportError}.
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
          detail: `the error body broke off: ${causeMessage(error.cause)}`
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
        detail: causeMessage(error.cause)
      }))
    }
    const url = sanitizeUrl(error.request.url)
    return Effect.fail(
      new ClientRequestError({
        reason: error.reason,
        method: error.request.method,
        url,
        message: `${error.reason === "Encode" ? "The request body could not be encoded" : "The request URL is invalid"} (${error.request.method} ${url}): ${causeMessage(error.cause)}`
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
    detail: causeMessage(error.cause)
  }))
}

// ---------------------------------------------------------------------------
// the decision table
// ---------------------------------------------------------------------------

/**
 * One row of the {@link decisionTable}.
 *
 * @since 0.1.0
 * @category classification
 */
export interface Decision {
  readonly status: number | "other 5xx" | "other"
  readonly errorType: Option.Option<string>
  readonly tag: Tag | "Success"
  readonly retryable: boolean
  readonly action: string
}

/**
 * The statuses the API documents, in order, with 408, 501 and 505 (which the
 * transient-status rule names); "other 5xx" stands for any other 5xx (520 is
 * decoded for it) and "other" for any other status (418 is decoded for it).
 *
 * @since 0.1.0
 * @category classification
 */
export const documentedStatuses = [
  200,
  400,
  401,
  402,
  403,
  404,
  408,
  413,
  422,
  429,
  500,
  501,
  502,
  503,
  504,
  505,
  529,
  "other 5xx",
  "other"
] as const

/**
 * The documented `error.type` a status is sent with, if any: the type whose
 * tag is the status's tag.
 *
 * @since 0.1.0
 * @category classification
 */
export const canonicalErrorType = (status: number): Option.Option<string> => {
  const tag = tagByStatus[status]
  return Option.fromNullable(Object.keys(tagByErrorType).find((type) => tagByErrorType[type] === tag))
}

/**
 * The canonical wire body for a status: the documented envelope with its
 * documented `error.type`, or an HTML page where the API documents none.
 *
 * @since 0.1.0
 * @category classification
 */
export const canonicalBody = (status: number, message = `Canonical ${status} body`): string =>
  Option.match(canonicalErrorType(status), {
    onNone: () => `<html><head><title>${status}</title></head><body><h1>${status}</h1></body></html>`,
    onSome: (type) =>
      JSON.stringify({ type: "error", error: { type, message }, request_id: `req_canonical_${status}` })
  })

/**
 * The decision table, generated by decoding each documented status's
 * canonical body with {@link fromResponse}: the tag it decodes to, whether it
 * is retried, and what to do. `npm start` prints it.
 *
 * @since 0.1.0
 * @category classification
 */
export const decisionTable = (): ReadonlyArray<Decision> =>
  documentedStatuses.map((status): Decision => {
    if (status === 200) {
      return { status, errorType: Option.none(), tag: "Success", retryable: false, action: "Use the response." }
    }
    const code = status === "other" ? 418 : status === "other 5xx" ? 520 : status
    const error = fromResponse({ status: code, headers: {}, body: canonicalBody(code), now: 0 })
    return {
      status,
      errorType: error.errorType,
      tag: error._tag,
      retryable: isRetryable(error),
      action: actions[error._tag]
    }
  })
