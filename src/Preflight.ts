/**
 * Checks made before anything is sent: the body's size against the
 * endpoint's byte limit, and the 10-minute rule for non-streaming requests.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as ApiError from "./ApiError.js"

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
 * @since 0.1.0
 * @category utils
 */
export const byteLength = (body: string): number => new TextEncoder().encode(body).byteLength

/**
 * Fails with a {@link ApiError.RequestTooLargeError} (status 413, no request
 * id: nothing was sent) when `body` is over the endpoint's limit.
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
 * @since 0.1.0
 * @category checks
 */
export const expectedSeconds = (maxTokens: number): number => (3600 * maxTokens) / tokensPerHour

/**
 * Whether a non-streaming request with this `max_tokens` could run past
 * {@link nonStreamingLimitSeconds} (more than 21 333 tokens).
 *
 * @since 0.1.0
 * @category checks
 */
export const isLongRequest = (maxTokens: number): boolean => expectedSeconds(maxTokens) > nonStreamingLimitSeconds

/**
 * The error for a long non-streaming request, with a message that says what
 * to do instead.
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
