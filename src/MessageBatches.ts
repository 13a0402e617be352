/**
 * The Message Batches API's wire format as `effect/Schema`: the body of
 * `POST /v1/messages/batches` (at most {@link maxBatchRequests} requests,
 * each `custom_id` valid and unique), the batch objects, and the lines of a
 * batch's results (JSONL). See
 * https://docs.anthropic.com/en/api/creating-message-batches.
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"
import * as ApiError from "./ApiError.js"
import { Count, open, typeUnion, unknownMember } from "./internal/schema.js"
import { describeValue } from "./internal/text.js"
import type { Unknown, UnknownObject } from "./Messages.js"
import { Message, MessageCreateParams } from "./Messages.js"

// ---------------------------------------------------------------------------
// the request
// ---------------------------------------------------------------------------

/**
 * The most requests one Message Batch may hold.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxBatchRequests = 100_000

/**
 * A batch request's `custom_id`: 1 to 64 letters, digits, `_` or `-`.
 *
 * @since 0.1.0
 * @category params
 */
export const CustomId = Schema.String.pipe(
  Schema.pattern(/^[a-zA-Z0-9_-]{1,64}$/, {
    message: (issue) =>
      `custom_id must be 1 to 64 characters, each a letter, a digit, "_" or "-"; got ${describeValue(issue.actual)}`
  })
).annotations({ identifier: "CustomId" })

/**
 * One request of a batch: `{ custom_id, params }`.
 *
 * @since 0.1.0
 * @category params
 */
export const BatchRequest = open({
  custom_id: CustomId,
  params: MessageCreateParams
}).annotations({ identifier: "BatchRequest" })

/**
 * @since 0.1.0
 * @category params
 */
export type BatchRequest = typeof BatchRequest.Type


const firstDuplicate = (requests: ReadonlyArray<BatchRequest>): string | undefined => {
  const seen = new Map<string, number>()
  for (let i = 0; i < requests.length; i++) {
    const id = requests[i]!.custom_id
    const first = seen.get(id)
    if (first !== undefined) {
      return `custom_id ${describeValue(id)} is used by requests ${first} and ${i}: each custom_id must be unique within a batch`
    }
    seen.set(id, i)
  }
  return undefined
}

/**
 * Checks the number of requests before any of them is decoded, so an
 * over-size batch fails at once.
 */
const AtMostMaxBatchRequests = Schema.declare(
  (u: unknown): u is ReadonlyArray<typeof BatchRequest.Encoded> =>
    Array.isArray(u) && u.length <= maxBatchRequests,
  {
    identifier: "AtMostMaxBatchRequests",
    message: (issue) =>
      Array.isArray(issue.actual)
        ? `a Message Batch holds at most ${maxBatchRequests} requests; got ${issue.actual.length}: split them into several batches`
        : `requests must be an array; got ${describeValue(issue.actual)}`
  }
)

/**
 * The requests of a batch: at most {@link maxBatchRequests} (on decode,
 * checked before any request is decoded), each `custom_id` valid and unique.
 *
 * @since 0.1.0
 * @category params
 */
export const BatchRequests = Schema.compose(AtMostMaxBatchRequests, Schema.Array(BatchRequest)).pipe(
  // encoding checks the type side first: the count again, before uniqueness
  Schema.maxItems(maxBatchRequests, {
    message: (issue) =>
      `a Message Batch holds at most ${maxBatchRequests} requests; got ${
        Array.isArray(issue.actual) ? issue.actual.length : "more"
      }: split them into several batches`
  }),
  Schema.filter((requests) => firstDuplicate(requests) ?? true)
).annotations({ identifier: "BatchRequests" })

/**
 * The body of `POST /v1/messages/batches`: `{ requests }`.
 *
 * @since 0.1.0
 * @category params
 */
export const BatchCreateParams = open({ requests: BatchRequests }).annotations({ identifier: "BatchCreateParams" })

/**
 * @since 0.1.0
 * @category params
 */
export type BatchCreateParams = typeof BatchCreateParams.Type

// ---------------------------------------------------------------------------
// the batch objects and results
// ---------------------------------------------------------------------------

/**
 * `processing_status`: `in_progress`, `canceling`, `ended`, or a newer value.
 *
 * @since 0.1.0
 * @category batches
 */
export const ProcessingStatus = Schema.Union(Schema.Literal("in_progress", "canceling", "ended"), Schema.String)

/**
 * Requests of a batch by status.
 *
 * @since 0.1.0
 * @category batches
 */
export const RequestCounts = open({
  processing: Count,
  succeeded: Count,
  errored: Count,
  canceled: Count,
  expired: Count
}).annotations({ identifier: "RequestCounts" })

const nullableTime = Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null })

/**
 * A Message Batch. Times are RFC 3339 strings; those not reached yet are
 * `null` (also when absent).
 *
 * @since 0.1.0
 * @category batches
 */
export const MessageBatch = open({
  id: Schema.String,
  type: Schema.Literal("message_batch"),
  processing_status: ProcessingStatus,
  request_counts: RequestCounts,
  created_at: Schema.String,
  expires_at: Schema.String,
  ended_at: nullableTime,
  archived_at: nullableTime,
  cancel_initiated_at: nullableTime,
  results_url: nullableTime
}).annotations({ identifier: "MessageBatch" })

/**
 * @since 0.1.0
 * @category batches
 */
export type MessageBatch = typeof MessageBatch.Type

/**
 * A page of `GET /v1/messages/batches`.
 *
 * @since 0.1.0
 * @category batches
 */
export const MessageBatchList = open({
  data: Schema.Array(MessageBatch),
  has_more: Schema.Boolean,
  first_id: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  last_id: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null })
}).annotations({ identifier: "MessageBatchList" })

/**
 * @since 0.1.0
 * @category batches
 */
export type MessageBatchList = typeof MessageBatchList.Type

/**
 * The response of `DELETE /v1/messages/batches/{id}`.
 *
 * @since 0.1.0
 * @category batches
 */
export const DeletedMessageBatch = open({
  id: Schema.String,
  type: Schema.Literal("message_batch_deleted")
}).annotations({ identifier: "DeletedMessageBatch" })

/**
 * @since 0.1.0
 * @category batches
 */
export type DeletedMessageBatch = typeof DeletedMessageBatch.Type

/**
 * `{ type: "succeeded", message }`: the request's `Message`.
 *
 * @since 0.1.0
 * @category batches
 */
export const SucceededResult = open({ type: Schema.Literal("succeeded"), message: Message }).annotations({
  identifier: "SucceededResult"
})

/**
 * `error` is the API's error body, `{ type: "error", error: { type, message },
 * request_id? }` (see `ApiError.ErrorBody`).
 *
 * @since 0.1.0
 * @category batches
 */
export const ErroredResult = open({ type: Schema.Literal("errored"), error: ApiError.ErrorBody }).annotations({
  identifier: "ErroredResult"
})

/**
 * `{ type: "canceled" }`: the batch was canceled before the request was
 * processed.
 *
 * @since 0.1.0
 * @category batches
 */
export const CanceledResult = open({ type: Schema.Literal("canceled") }).annotations({ identifier: "CanceledResult" })

/**
 * `{ type: "expired" }`: the batch ended (after 24 hours) before the
 * request was processed.
 *
 * @since 0.1.0
 * @category batches
 */
export const ExpiredResult = open({ type: Schema.Literal("expired") }).annotations({ identifier: "ExpiredResult" })

/**
 * A result of a type this version does not know: `{ type: "unknown", raw }`.
 *
 * @since 0.1.0
 * @category batches
 */
export const UnknownResult: Schema.Schema<Unknown, UnknownObject> = unknownMember(
  ["succeeded", "errored", "canceled", "expired"],
  "batch result",
  "UnknownResult"
)

/**
 * How one request of a batch ended: succeeded, errored, canceled, expired,
 * or a kind this version does not know.
 *
 * @since 0.1.0
 * @category batches
 */
export const MessageBatchResult = typeUnion(
  SucceededResult,
  ErroredResult,
  CanceledResult,
  ExpiredResult,
  UnknownResult
).annotations({ identifier: "MessageBatchResult" })

/**
 * @since 0.1.0
 * @category batches
 */
export type MessageBatchResult = typeof MessageBatchResult.Type

/**
 * One line of a batch's results (JSONL): `{ custom_id, result }`.
 *
 * @since 0.1.0
 * @category batches
 */
export const MessageBatchIndividualResponse = open({
  custom_id: Schema.String,
  result: MessageBatchResult
}).annotations({ identifier: "MessageBatchIndividualResponse" })

/**
 * @since 0.1.0
 * @category batches
 */
export type MessageBatchIndividualResponse = typeof MessageBatchIndividualResponse.Type

// ---------------------------------------------------------------------------
// decoders (total: a malformed input is a ParseError, never a throw)
// ---------------------------------------------------------------------------


/**
 * Decodes one line of a batch's results JSONL to a
 * {@link MessageBatchIndividualResponse}.
 *
 * @example
 * ```ts
 * import { MessageBatches } from "claude-resilience"
 *
 * const line = MessageBatches.decodeMessageBatchIndividualResponseJson(`{"custom_id":"q1","result":{"type":"expired"}}`)
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeMessageBatchIndividualResponseJson = Schema.decodeUnknown(
  Schema.parseJson(MessageBatchIndividualResponse)
)
