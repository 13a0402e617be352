/**
 * The events of a streamed `POST /v1/messages` (`stream: true`) as
 * `effect/Schema`: one schema per server-sent event (`message_start`,
 * `content_block_start`, `content_block_delta` with its deltas,
 * `content_block_stop`, `message_delta`, `message_stop`, `ping`, `error`),
 * and {@link MessageStreamEvent}, their union. The forward-compatibility
 * rules of `Messages` hold here too: an event or a delta of a type this
 * version does not know decodes to `{ type: "unknown", raw }`. See
 * https://docs.anthropic.com/en/api/messages-streaming for the wire format;
 * `MessageAccumulator` folds the events into their `Message`.
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"
import { Count, open, optNull, typeUnion, unknownMember } from "./internal/schema.js"
import type { Unknown, UnknownObject } from "./Messages.js"
import { Citation, ContentBlock, Message, ServerToolUsage, StopDetails, StopReason } from "./Messages.js"


/**
 * `{ type: "text_delta", text }`: text to append to a text block.
 *
 * @since 0.1.0
 * @category deltas
 */
export const TextDelta = open({ type: Schema.Literal("text_delta"), text: Schema.String }).annotations({
  identifier: "TextDelta"
})

/**
 * A piece of a tool input's JSON; the pieces concatenate to the input.
 *
 * @since 0.1.0
 * @category deltas
 */
export const InputJsonDelta = open({ type: Schema.Literal("input_json_delta"), partial_json: Schema.String })
  .annotations({ identifier: "InputJsonDelta" })

/**
 * `{ type: "thinking_delta", thinking }`: thinking to append to a thinking block.
 *
 * @since 0.1.0
 * @category deltas
 */
export const ThinkingDelta = open({ type: Schema.Literal("thinking_delta"), thinking: Schema.String }).annotations({
  identifier: "ThinkingDelta"
})

/**
 * `{ type: "signature_delta", signature }`: a thinking block's signature, sent
 * before its `content_block_stop`.
 *
 * @since 0.1.0
 * @category deltas
 */
export const SignatureDelta = open({ type: Schema.Literal("signature_delta"), signature: Schema.String })
  .annotations({ identifier: "SignatureDelta" })

/**
 * One citation to append to a text block's `citations`.
 *
 * @since 0.1.0
 * @category deltas
 */
export const CitationsDelta = open({ type: Schema.Literal("citations_delta"), citation: Citation }).annotations({
  identifier: "CitationsDelta"
})

/**
 * A delta of a type this version does not know: `{ type: "unknown", raw }`.
 *
 * @since 0.1.0
 * @category deltas
 */
export const UnknownDelta: Schema.Schema<Unknown, UnknownObject> = unknownMember(
  ["text_delta", "input_json_delta", "thinking_delta", "signature_delta", "citations_delta"],
  "delta",
  "UnknownDelta"
)

/**
 * A delta of `content_block_delta`: text, tool input JSON, thinking,
 * signature, citation, or one this version does not know.
 *
 * @since 0.1.0
 * @category deltas
 */
export const ContentBlockDelta = typeUnion(
  TextDelta,
  InputJsonDelta,
  ThinkingDelta,
  SignatureDelta,
  CitationsDelta,
  UnknownDelta
).annotations({ identifier: "ContentBlockDelta" })

/**
 * @since 0.1.0
 * @category deltas
 */
export type ContentBlockDelta = typeof ContentBlockDelta.Type

const Index = Schema.NonNegativeInt.annotations({ arbitrary: () => (fc) => fc.nat(16) })

/**
 * `message_start`: the message with empty content and `stop_reason: null`.
 *
 * @since 0.1.0
 * @category events
 */
export const MessageStartEvent = open({ type: Schema.Literal("message_start"), message: Message }).annotations({
  identifier: "MessageStartEvent"
})

/**
 * `content_block_start`: block `index` begins, with its first state (a text
 * block's `text` is `""`, a tool call's `input` is `{}`).
 *
 * @since 0.1.0
 * @category events
 */
export const ContentBlockStartEvent = open({
  type: Schema.Literal("content_block_start"),
  index: Index,
  content_block: ContentBlock
}).annotations({ identifier: "ContentBlockStartEvent" })

/**
 * `content_block_delta`: a {@link ContentBlockDelta} for block `index`.
 *
 * @since 0.1.0
 * @category events
 */
export const ContentBlockDeltaEvent = open({
  type: Schema.Literal("content_block_delta"),
  index: Index,
  delta: ContentBlockDelta
}).annotations({ identifier: "ContentBlockDeltaEvent" })

/**
 * `content_block_stop`: block `index` is complete.
 *
 * @since 0.1.0
 * @category events
 */
export const ContentBlockStopEvent = open({ type: Schema.Literal("content_block_stop"), index: Index }).annotations({
  identifier: "ContentBlockStopEvent"
})

/**
 * `usage` of a `message_delta`: cumulative counts, `output_tokens` always.
 *
 * @since 0.1.0
 * @category events
 */
export const MessageDeltaUsage = open({
  output_tokens: Count,
  input_tokens: optNull(Count),
  cache_creation_input_tokens: optNull(Count),
  cache_read_input_tokens: optNull(Count),
  server_tool_use: optNull(ServerToolUsage)
}).annotations({ identifier: "MessageDeltaUsage" })

/**
 * @since 0.1.0
 * @category events
 */
export type MessageDeltaUsage = typeof MessageDeltaUsage.Type

/**
 * `message_delta`: the final `stop_reason`, `stop_sequence`, `stop_details`
 * and the cumulative usage.
 *
 * @since 0.1.0
 * @category events
 */
export const MessageDeltaEvent = open({
  type: Schema.Literal("message_delta"),
  delta: open({
    stop_reason: optNull(StopReason),
    stop_sequence: optNull(Schema.String),
    stop_details: optNull(StopDetails)
  }),
  usage: MessageDeltaUsage
}).annotations({ identifier: "MessageDeltaEvent" })

/**
 * `message_stop`: the stream is complete.
 *
 * @since 0.1.0
 * @category events
 */
export const MessageStopEvent = open({ type: Schema.Literal("message_stop") }).annotations({
  identifier: "MessageStopEvent"
})

/**
 * `ping`: sent to keep the connection alive; it carries nothing.
 *
 * @since 0.1.0
 * @category events
 */
export const PingEvent = open({ type: Schema.Literal("ping") }).annotations({ identifier: "PingEvent" })

/**
 * The `error` object of an error event or error body: `{ type, message }`.
 *
 * @since 0.1.0
 * @category events
 */
export const ErrorObject = open({ type: Schema.String, message: Schema.String }).annotations({
  identifier: "ErrorObject"
})

/**
 * @since 0.1.0
 * @category events
 */
export type ErrorObject = typeof ErrorObject.Type

/**
 * `error`: the API failed mid-stream (e.g. `overloaded_error`). The client
 * turns it into the same `ApiError` tags as an HTTP error.
 *
 * @since 0.1.0
 * @category events
 */
export const ErrorEvent = open({ type: Schema.Literal("error"), error: ErrorObject }).annotations({
  identifier: "ErrorEvent"
})

/**
 * The `type`s of the documented stream events.
 *
 * @since 0.1.0
 * @category constants
 */
export const knownEventTypes = [
  "message_start",
  "content_block_start",
  "content_block_delta",
  "content_block_stop",
  "message_delta",
  "message_stop",
  "ping",
  "error"
] as const

/**
 * An event of a type this version does not know: `{ type: "unknown", raw }`.
 *
 * @since 0.1.0
 * @category events
 */
export const UnknownEvent: Schema.Schema<Unknown, UnknownObject> = unknownMember(
  knownEventTypes,
  "stream event",
  "UnknownEvent"
)

/**
 * One server-sent event of `POST /v1/messages` with `stream: true` (the
 * `data` field, parsed).
 *
 * @since 0.1.0
 * @category events
 */
export const MessageStreamEvent = typeUnion(
  MessageStartEvent,
  ContentBlockStartEvent,
  ContentBlockDeltaEvent,
  ContentBlockStopEvent,
  MessageDeltaEvent,
  MessageStopEvent,
  PingEvent,
  ErrorEvent,
  UnknownEvent
).annotations({ identifier: "MessageStreamEvent" })

/**
 * @since 0.1.0
 * @category events
 */
export type MessageStreamEvent = typeof MessageStreamEvent.Type

// ---------------------------------------------------------------------------
// decoders (total: a malformed input is a ParseError, never a throw)
// ---------------------------------------------------------------------------


/**
 * Decodes a parsed stream event to a {@link MessageStreamEvent}.
 *
 * @example
 * ```ts
 * import { MessageStream } from "claude-resilience"
 *
 * const event = MessageStream.decodeMessageStreamEvent({ type: "ping" })
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeMessageStreamEvent = Schema.decodeUnknown(MessageStreamEvent)

/**
 * Decodes an SSE `data` field (JSON text) to a {@link MessageStreamEvent}.
 *
 * @example
 * ```ts
 * import { MessageStream } from "claude-resilience"
 *
 * const event = MessageStream.decodeMessageStreamEventJson(`{"type":"content_block_stop","index":0}`)
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeMessageStreamEventJson = Schema.decodeUnknown(Schema.parseJson(MessageStreamEvent))
