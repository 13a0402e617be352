/**
 * Checks made before anything is sent: the params against their schema
 * (total, whatever a JavaScript caller passes), the body's size against the
 * endpoint's byte limit, and the 10-minute rule for non-streaming requests.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as ApiError from "./ApiError.js"
import { describeValue, formatPath } from "./internal/text.js"

// ---------------------------------------------------------------------------
// params
// ---------------------------------------------------------------------------

/**
 * The call a check is made for: its name (`messages.create`), its method and
 * URL, as a {@link ApiError.ClientRequestError} reports them.
 *
 * @since 0.1.0
 * @category models
 */
export interface Call {
  readonly operation: string
  readonly method: string
  readonly url: string
}

/** What a thrown value says, read without trusting it (its getters may throw too). */
const thrownText = (thrown: unknown): string => {
  try {
    if (thrown instanceof Error) return `${thrown.name}: ${thrown.message}`.slice(0, 200)
    return typeof thrown === "string" ? thrown.slice(0, 200) : `a thrown ${typeof thrown}`
  } catch {
    return "a value that could not be read"
  }
}

/**
 * The most specific problem of a parse error: the issue with the deepest path
 * (a union reports one issue per member it tried; the deepest is the one that
 * got furthest), its path written like `messages[0].content[1].text`.
 */
const describeParseError = (error: ParseResult.ParseError): string => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const issue = issues.reduce<ParseResult.ArrayFormatterIssue | undefined>(
    (best, next) => best === undefined || next.path.length > best.path.length ? next : best,
    undefined
  )
  if (issue === undefined) return ParseResult.TreeFormatter.formatErrorSync(error)
  if (issue.path.length === 0) return issue.message
  const where = formatPath(issue.path)
  if (issue._tag === "Missing") return `${where} is required but missing`
  const last = issue.path[issue.path.length - 1]
  // a message that already names its field reads better without the prefix
  return issue.path.length === 1 && typeof last === "string" &&
      (issue.message.startsWith(last) || issue.message.startsWith(JSON.stringify(last)))
    ? issue.message
    : `${where}: ${issue.message}`
}

const maxProblemLength = 1000

const invalid = (call: Call, problem: string): ApiError.ClientRequestError =>
  new ApiError.ClientRequestError({
    reason: "Encode",
    method: call.method,
    url: call.url,
    // a parse issue may quote the value at fault, which can be megabytes long
    message: `Invalid params for ${call.operation}, nothing was sent: ${
      problem.length > maxProblemLength ? `${problem.slice(0, maxProblemLength)}…` : problem
    }`
  })

/**
 * Checks `params` against `schema` and gives their wire form (a fresh plain
 * object), or a {@link ApiError.ClientRequestError} (`reason: "Encode"`)
 * whose message names the field at fault. Total: `null`, a number, a Proxy
 * whose traps throw or an object whose getter throws each become the error,
 * never a throw or a defect.
 *
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { Messages, Preflight } from "claude-resilience"
 *
 * const call = { operation: "messages.create", method: "POST", url: "https://api.anthropic.com/v1/messages" }
 * const wire = Preflight.encodeParams(Messages.MessageCreateParams, { model: "claude-sonnet-5-5", max_tokens: -1, messages: [] }, call)
 * if (Either.isLeft(wire)) wire.left.message // "Invalid params for messages.create, nothing was sent: …"
 * ```
 *
 * @since 0.1.0
 * @category checks
 */
export const encodeParams = <A, I>(
  schema: Schema.Schema<A, I>,
  params: unknown,
  call: Call
): Either.Either<I, ApiError.ClientRequestError> => {
  try {
    if (typeof params !== "object" || params === null || Array.isArray(params)) {
      return Either.left(invalid(call, `the params must be an object; got ${describeValue(params)}`))
    }
    return Either.mapLeft(
      Schema.encodeUnknownEither(schema)(params),
      (error) => invalid(call, describeParseError(error))
    )
  } catch (thrown) {
    return Either.left(
      invalid(call, `reading the params threw (${thrownText(thrown)}); pass plain data (no throwing getters or Proxies)`)
    )
  }
}

/**
 * The JSON text of an encoded body, or a {@link ApiError.ClientRequestError}
 * when it has none (a `bigint`, a cycle or a throwing `toJSON` in a value
 * kept as given, such as a tool's input).
 *
 * @example
 * ```ts
 * import { Preflight } from "claude-resilience"
 *
 * const call = { operation: "messages.create", method: "POST", url: "https://api.anthropic.com/v1/messages" }
 * Preflight.toJson({ input: BigInt(1) }, call) // Either.left(ClientRequestError): a bigint has no JSON
 * ```
 *
 * @since 0.1.0
 * @category checks
 */
export const toJson = (body: unknown, call: Call): Either.Either<string, ApiError.ClientRequestError> => {
  try {
    return Either.right(JSON.stringify(body))
  } catch (thrown) {
    return Either.left(invalid(call, `the body could not be written as JSON (${thrownText(thrown)})`))
  }
}

/**
 * The query string of `batches.list` (without its `?`), or a
 * {@link ApiError.ClientRequestError} (`reason: "InvalidUrl"`): `options` is
 * an object or `undefined`, `limit` an integer from 1 to 1000, `afterId` and
 * `beforeId` strings. Total, like {@link encodeParams}.
 *
 * @example
 * ```ts
 * import { Preflight } from "claude-resilience"
 *
 * const call = { operation: "batches.list", method: "GET", url: "https://api.anthropic.com/v1/messages/batches" }
 * Preflight.listQuery({ limit: 20, afterId: "msgbatch_01" }, call) // Either.right("limit=20&after_id=msgbatch_01")
 * ```
 *
 * @since 0.1.0
 * @category checks
 */
export const listQuery = (options: unknown, call: Call): Either.Either<string, ApiError.ClientRequestError> => {
  const fail = (problem: string) =>
    Either.left(
      new ApiError.ClientRequestError({
        reason: "InvalidUrl",
        method: call.method,
        url: call.url,
        message: `${call.operation} ${problem}: nothing was sent`
      })
    )
  try {
    if (options === undefined) return Either.right("")
    if (typeof options !== "object" || options === null || Array.isArray(options)) {
      return fail(`options must be an object ({ limit?, afterId?, beforeId? }), got ${describeValue(options)}`)
    }
    const { afterId, beforeId, limit } = options as {
      readonly limit?: unknown
      readonly afterId?: unknown
      readonly beforeId?: unknown
    }
    if (limit !== undefined && (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > 1000)) {
      return fail(`limit must be an integer from 1 to 1000, got ${describeValue(limit)}`)
    }
    for (const [name, value] of [["afterId", afterId], ["beforeId", beforeId]] as const) {
      if (value !== undefined && (typeof value !== "string" || value.length === 0)) {
        return fail(`${name} must be a batch id (a non-empty string), got ${describeValue(value)}`)
      }
    }
    const query = new URLSearchParams()
    if (limit !== undefined) query.set("limit", String(limit))
    if (typeof afterId === "string") query.set("after_id", afterId)
    if (typeof beforeId === "string") query.set("before_id", beforeId)
    return Either.right(query.toString())
  } catch (thrown) {
    return fail(`options could not be read (${thrownText(thrown)})`)
  }
}

// ---------------------------------------------------------------------------
// size
// ---------------------------------------------------------------------------

const MiB = 1024 * 1024

/**
 * The request-size limits per endpoint, in bytes (the documented "MB" read as
 * 2^20 bytes): Messages 32 MB, Token Counting 32 MB, Batches 256 MB, Files
 * 500 MB.
 *
 * @since 0.1.0
 * @category constants
 */
export const limits = {
  messages: 32 * MiB,
  countTokens: 32 * MiB,
  batches: 256 * MiB,
  files: 500 * MiB
} as const

/**
 * An endpoint with a request-size limit: a key of {@link limits}.
 *
 * @since 0.1.0
 * @category models
 */
export type Endpoint = keyof typeof limits

const endpointNames: { readonly [K in Endpoint]: string } = {
  messages: "Messages API",
  countTokens: "Token Counting API",
  batches: "Message Batches API",
  files: "Files API"
}

const formatBytes = (bytes: number): string =>
  bytes >= MiB ? `${(bytes / MiB).toFixed(1)} MB (${bytes} bytes)` : `${bytes} bytes`

/**
 * The size of a body as sent: its UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { Preflight } from "claude-resilience"
 *
 * Preflight.byteLength("héllo") // 6
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const byteLength = (body: string): number => new TextEncoder().encode(body).byteLength

/**
 * Fails with a {@link ApiError.RequestTooLargeError} (status 413, no request
 * id: nothing was sent) when `body` is over the endpoint's limit.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Preflight } from "claude-resilience"
 *
 * declare const body: string
 * const checked = Preflight.checkSize("messages", body).pipe(
 *   Effect.catchTag("RequestTooLargeError", (e) => Effect.logWarning(e.message))
 * )
 * ```
 *
 * @since 0.1.0
 * @category checks
 */
export const checkSize = (
  endpoint: Endpoint,
  body: string
): Effect.Effect<void, ApiError.RequestTooLargeError> => {
  // a UTF-16 code unit is at most 3 UTF-8 bytes: a short body needs no encoding
  if (body.length * 3 <= limits[endpoint]) return Effect.void
  const size = byteLength(body)
  if (size <= limits[endpoint]) return Effect.void
  const serverMessage = `The request body is ${formatBytes(size)}, over the ${endpointNames[endpoint]} limit of ${
    formatBytes(limits[endpoint])
  }. Nothing was sent: reduce the payload (truncate the context, downsample images, or use the Files API for large attachments).`
  return Effect.fail(
    new ApiError.RequestTooLargeError({
      status: 413,
      message: `Preflight 413 request_too_large: ${serverMessage}`,
      requestId: Option.none(),
      errorType: Option.some("request_too_large"),
      serverMessage: Option.some(serverMessage),
      shouldRetry: Option.some(false)
    })
  )
}

/**
 * A non-streaming request whose `max_tokens` could keep the connection open
 * past 10 minutes, with the option `longRequests: "fail"`: stream it, or send
 * it as a batch.
 *
 * @since 0.1.0
 * @category errors
 */
export class LongRequestError extends Schema.TaggedError<LongRequestError>()("LongRequestError", {
  maxTokens: Schema.Number,
  expectedSeconds: Schema.Number,
  message: Schema.String
}) {}

/**
 * The longest a non-streaming request may be expected to run: 10 minutes.
 *
 * @since 0.1.0
 * @category constants
 */
export const nonStreamingLimitSeconds = 600

/**
 * The output rate used to estimate a request's duration from its
 * `max_tokens`: 128 000 tokens per hour, the same conservative figure the
 * official SDKs use.
 *
 * @since 0.1.0
 * @category constants
 */
export const tokensPerHour = 128_000

/**
 * How long a non-streaming request with this `max_tokens` may run, in
 * seconds, at {@link tokensPerHour}.
 *
 * @example
 * ```ts
 * import { Preflight } from "claude-resilience"
 *
 * Preflight.expectedSeconds(32_000) // 900: 15 minutes at 128 000 tokens an hour
 * ```
 *
 * @since 0.1.0
 * @category checks
 */
export const expectedSeconds = (maxTokens: number): number => (3600 * maxTokens) / tokensPerHour

/**
 * Whether a non-streaming request with this `max_tokens` could run past
 * {@link nonStreamingLimitSeconds} (more than 21 333 tokens).
 *
 * @example
 * ```ts
 * import { Preflight } from "claude-resilience"
 *
 * Preflight.isLongRequest(16_000) // false
 * Preflight.isLongRequest(32_000) // true: stream it, or send it as a batch
 * ```
 *
 * @since 0.1.0
 * @category checks
 */
export const isLongRequest = (maxTokens: number): boolean => expectedSeconds(maxTokens) > nonStreamingLimitSeconds

/**
 * The error for a long non-streaming request, with a message that says what
 * to do instead.
 *
 * @example
 * ```ts
 * import { Preflight } from "claude-resilience"
 *
 * Preflight.longRequestError(32_000).message
 * // "max_tokens 32000 could keep a non-streaming request open for 900 s, past the 600 s limit: …"
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const longRequestError = (maxTokens: number): LongRequestError => {
  const seconds = expectedSeconds(maxTokens)
  return new LongRequestError({
    maxTokens,
    expectedSeconds: seconds,
    message: `max_tokens ${maxTokens} could keep a non-streaming request open for ${
      Math.round(seconds)
    } s, past the ${nonStreamingLimitSeconds} s limit: use messages.stream or messages.finalMessage, or the Message Batches API.`
  })
}
