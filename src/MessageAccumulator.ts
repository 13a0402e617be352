/**
 * Folding the events of a streamed `POST /v1/messages` into its final
 * `Message`: a pure fold over plain data ({@link initial},
 * {@link accumulate}, {@link finish}), the same as a `Sink` ({@link sink}),
 * and the errors of a stream that does not add up to a message
 * ({@link AccumulateError}). The client accumulates its streams with it;
 * use it to fold events you hold yourself.
 *
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { MessageAccumulator, MessageStream } from "claude-resilience"
 *
 * declare const events: ReadonlyArray<MessageStream.MessageStreamEvent>
 * const message = MessageAccumulator.fromEvents(events)
 * if (Either.isRight(message)) console.log(message.right.content)
 * ```
 *
 * @since 0.2.0
 */
import type * as Chunk from "effect/Chunk"
import * as Either from "effect/Either"
import { dual } from "effect/Function"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Sink from "effect/Sink"
import { parseJson } from "./internal/decode.js"
import { plural } from "./internal/text.js"
import type { ContentBlock, Message, UnknownObject, Usage } from "./Messages.js"
import type { ContentBlockDelta, MessageDeltaUsage, MessageStreamEvent } from "./MessageStream.js"
import { ErrorObject } from "./MessageStream.js"

// ---------------------------------------------------------------------------
// errors
// ---------------------------------------------------------------------------

/**
 * A stream ended (or stopped with an `error` event) before it was complete:
 * `missing` says which event never came, `events` how many did arrive. The
 * client fails a stream with it when the body ends before `message_stop`.
 *
 * @since 0.1.0
 * @category errors
 */
export class IncompleteStreamError extends Schema.TaggedError<IncompleteStreamError>()("IncompleteStreamError", {
  message: Schema.String,
  /** How many events arrived. */
  events: Schema.Number,
  /** The event that never came. */
  missing: Schema.Literal("message_start", "message_stop"),
  /** The `type` of the last event that arrived. */
  lastEventType: Schema.Option(Schema.String),
  /** The `error` event that ended the stream, if one did. */
  streamError: Schema.Option(ErrorObject)
}) {}

/**
 * Builds an {@link IncompleteStreamError} with its message.
 *
 * @example
 * ```ts
 * import { MessageAccumulator } from "claude-resilience"
 *
 * MessageAccumulator.incompleteStreamError({ events: 7, missing: "message_stop", lastEventType: "content_block_delta" }).message
 * // "The stream ended after 7 events (last event: content_block_delta) without message_stop"
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const incompleteStreamError = (options: {
  readonly events: number
  readonly missing: "message_start" | "message_stop"
  readonly lastEventType?: string | undefined
  readonly streamError?: ErrorObject | undefined
}): IncompleteStreamError => {
  const last = options.lastEventType === undefined ? "" : ` (last event: ${options.lastEventType})`
  const head = options.events === 0
    ? `The stream ended before any event arrived, without ${options.missing}`
    : `The stream ended after ${plural(options.events, "event")}${last} without ${options.missing}`
  const error = options.streamError === undefined
    ? ""
    : `: it carried an error event (${options.streamError.type}: ${options.streamError.message})`
  return new IncompleteStreamError({
    message: `${head}${error}`,
    events: options.events,
    missing: options.missing,
    lastEventType: Option.fromNullable(options.lastEventType),
    streamError: Option.fromNullable(options.streamError)
  })
}

/**
 * The `input_json_delta` pieces of a tool call did not concatenate to valid
 * JSON.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidToolInputError extends Schema.TaggedError<InvalidToolInputError>()("InvalidToolInputError", {
  message: Schema.String,
  /** The content block's index. */
  index: Schema.Number,
  /** The block's type (`tool_use`, `server_tool_use`, …). */
  blockType: Schema.String,
  /** The block's `id`. */
  toolUseId: Schema.Option(Schema.String),
  /** The tool's `name`. */
  toolName: Schema.Option(Schema.String),
  /** How many characters of JSON arrived. */
  length: Schema.Number,
  /** Why the JSON did not parse. */
  reason: Schema.String
}) {}

/**
 * The events broke the stream's grammar: a delta for a block that never
 * started, a delta of the wrong kind for its block, content before
 * `message_start`, …
 *
 * @since 0.1.0
 * @category errors
 */
export class StreamProtocolError extends Schema.TaggedError<StreamProtocolError>()("StreamProtocolError", {
  message: Schema.String,
  /** The offending event's position in the stream, from 1. */
  event: Schema.Number,
  eventType: Schema.String,
  reason: Schema.String
}) {}

/**
 * Why a stream did not accumulate to a `Message`.
 *
 * @since 0.1.0
 * @category errors
 */
export type AccumulateError = IncompleteStreamError | InvalidToolInputError | StreamProtocolError

// ---------------------------------------------------------------------------
// the fold
// ---------------------------------------------------------------------------

/**
 * A content block being streamed: the block so far, the JSON of its input so
 * far (parsed at its `content_block_stop`) and whether it stopped.
 *
 * @since 0.1.0
 * @category accumulator
 */
export interface PartialBlock {
  readonly block: ContentBlock
  readonly json: string
  readonly stopped: boolean
}

/**
 * The state of the fold over a stream's events. Plain data: each step returns
 * a new state and never mutates the old one.
 *
 * @since 0.1.0
 * @category accumulator
 */
export interface Accumulator {
  /** How many events arrived. */
  readonly events: number
  /** The `type` of the last event applied (the wire type, for unknown events). */
  readonly lastEventType: Option.Option<string>
  /** `message_start`'s message, `message_delta`s applied (content is in `blocks`). */
  readonly message: Option.Option<Message>
  readonly blocks: ReadonlyArray<PartialBlock>
  /** `message_stop` arrived. */
  readonly stopped: boolean
  /** An `error` event arrived; later events are ignored. */
  readonly streamError: Option.Option<ErrorObject>
  /** The stream cannot accumulate; later events are ignored. */
  readonly failure: Option.Option<InvalidToolInputError | StreamProtocolError>
}

/**
 * The state before any event.
 *
 * @since 0.1.0
 * @category accumulator
 */
export const initial: Accumulator = {
  events: 0,
  lastEventType: Option.none(),
  message: Option.none(),
  blocks: [],
  stopped: false,
  streamError: Option.none(),
  failure: Option.none()
}

/**
 * The wire `type` of an event (an unknown event's own type).
 *
 * @example
 * ```ts
 * import { MessageAccumulator, type MessageStream } from "claude-resilience"
 *
 * declare const event: MessageStream.MessageStreamEvent
 * // "message_start", …, or the wire type of an event this version does not know
 * const type = MessageAccumulator.eventType(event)
 * ```
 *
 * @since 0.1.0
 * @category accumulator
 */
export const eventType = (event: MessageStreamEvent): string => event.type === "unknown" ? event.raw.type : event.type

const blockType = (block: ContentBlock): string => block.type === "unknown" ? block.raw.type : block.type

const withRaw = (p: PartialBlock, raw: UnknownObject): PartialBlock => ({
  ...p,
  block: { type: "unknown", raw }
})

const appendRawString = (
  p: PartialBlock,
  raw: UnknownObject,
  field: string,
  text: string,
  replace: boolean
): Either.Either<PartialBlock, string> => {
  const current = raw[field]
  if (current !== undefined && current !== null && typeof current !== "string") {
    return Either.left(`its ${field} is not a string`)
  }
  return Either.right(withRaw(p, { ...raw, [field]: replace || current == null ? text : current + text }))
}

const applyDelta = (p: PartialBlock, delta: ContentBlockDelta): Either.Either<PartialBlock, string> => {
  const block = p.block
  switch (delta.type) {
    case "text_delta":
      if (block.type === "text") return Either.right({ ...p, block: { ...block, text: block.text + delta.text } })
      if (block.type === "unknown") return appendRawString(p, block.raw, "text", delta.text, false)
      break
    case "thinking_delta":
      if (block.type === "thinking") {
        return Either.right({ ...p, block: { ...block, thinking: block.thinking + delta.thinking } })
      }
      if (block.type === "unknown") return appendRawString(p, block.raw, "thinking", delta.thinking, false)
      break
    case "signature_delta":
      if (block.type === "thinking") return Either.right({ ...p, block: { ...block, signature: delta.signature } })
      if (block.type === "unknown") return appendRawString(p, block.raw, "signature", delta.signature, true)
      break
    case "citations_delta":
      if (block.type === "text") {
        return Either.right({ ...p, block: { ...block, citations: [...(block.citations ?? []), delta.citation] } })
      }
      if (block.type === "unknown") {
        const current = block.raw.citations
        if (current !== undefined && current !== null && !Array.isArray(current)) {
          return Either.left("its citations are not an array")
        }
        return Either.right(withRaw(p, { ...block.raw, citations: [...(current ?? []), delta.citation] }))
      }
      break
    case "input_json_delta":
      if (block.type === "tool_use" || block.type === "server_tool_use" || block.type === "unknown") {
        return Either.right({ ...p, json: p.json + delta.partial_json })
      }
      break
    case "unknown":
      // a newer kind of delta: nothing this version can apply
      return Either.right(p)
  }
  return Either.left(`a ${delta.type} cannot apply to a ${blockType(block)} block`)
}

const stringField = (raw: UnknownObject, field: string): Option.Option<string> => {
  const value = raw[field]
  return typeof value === "string" ? Option.some(value) : Option.none()
}

/** Parses a block's input JSON, if any arrived, into its `input`. */
const finalizeBlock = (p: PartialBlock, index: number): Either.Either<PartialBlock, InvalidToolInputError> => {
  if (p.json.length === 0) return Either.right(p.stopped ? p : { ...p, stopped: true })
  const block = p.block
  return Either.match(parseJson(p.json), {
    onLeft: (reason) => {
      const id = block.type === "unknown" ? stringField(block.raw, "id") : "id" in block ? Option.some(block.id) : Option.none()
      const name = block.type === "unknown"
        ? stringField(block.raw, "name")
        : "name" in block
        ? Option.some(block.name)
        : Option.none()
      const who = [Option.getOrUndefined(name), Option.getOrUndefined(id)].filter((s) => s !== undefined).join(", ")
      return Either.left(
        new InvalidToolInputError({
          message: `The input of ${blockType(block)} block ${index}${who ? ` (${who})` : ""} is not valid JSON after ${
            plural(p.json.length, "character")
          } of input_json_delta: ${reason}`,
          index,
          blockType: blockType(block),
          toolUseId: id,
          toolName: name,
          length: p.json.length,
          reason
        })
      )
    },
    onRight: (input): Either.Either<PartialBlock, InvalidToolInputError> => {
      const done = { json: "", stopped: true }
      if (block.type === "tool_use" || block.type === "server_tool_use") {
        return Either.right({ ...done, block: { ...block, input } })
      }
      if (block.type === "unknown") return Either.right({ ...done, block: { type: "unknown", raw: { ...block.raw, input } } })
      return Either.right({ ...p, ...done })
    }
  })
}

const mergeUsage = (usage: Usage, delta: MessageDeltaUsage): Usage => {
  const merged: Record<string, unknown> = { ...usage }
  // message_delta counts are cumulative: a present count replaces the earlier one
  for (const [key, value] of Object.entries(delta)) {
    if (value !== null && value !== undefined) merged[key] = value
  }
  return merged as Usage
}

const replaceAt = <A>(items: ReadonlyArray<A>, index: number, item: A): ReadonlyArray<A> => {
  const copy = items.slice()
  copy[index] = item
  return copy
}

const step = (self: Accumulator, event: MessageStreamEvent): Accumulator => {
  if (Option.isSome(self.failure) || Option.isSome(self.streamError) || self.stopped) {
    return { ...self, events: self.events + 1 }
  }
  const type = eventType(event)
  const counted: Accumulator = { ...self, events: self.events + 1, lastEventType: Option.some(type) }
  const violation = (reason: string): Accumulator => ({
    ...counted,
    failure: Option.some(
      new StreamProtocolError({
        message: `Stream protocol violation at event ${counted.events} (${type}): ${reason}`,
        event: counted.events,
        eventType: type,
        reason
      })
    )
  })
  switch (event.type) {
    case "message_start":
      if (Option.isSome(self.message)) return violation("a second message_start")
      return {
        ...counted,
        message: Option.some(event.message),
        blocks: event.message.content.map((block) => ({ block, json: "", stopped: true }))
      }
    case "content_block_start": {
      if (Option.isNone(self.message)) return violation("content_block_start before message_start")
      if (event.index > self.blocks.length) {
        return violation(
          `content_block_start for index ${event.index} while ${plural(self.blocks.length, "block")} exist: blocks start in order`
        )
      }
      return {
        ...counted,
        blocks: replaceAt(self.blocks, event.index, { block: event.content_block, json: "", stopped: false })
      }
    }
    case "content_block_delta": {
      const current = self.blocks[event.index]
      if (current === undefined) return violation(`a delta for block ${event.index}, which never started`)
      if (current.stopped) return violation(`a delta for block ${event.index} after its content_block_stop`)
      return Either.match(applyDelta(current, event.delta), {
        onLeft: (reason) => violation(`block ${event.index}: ${reason}`),
        onRight: (block) => ({ ...counted, blocks: replaceAt(self.blocks, event.index, block) })
      })
    }
    case "content_block_stop": {
      const current = self.blocks[event.index]
      if (current === undefined) return violation(`content_block_stop for block ${event.index}, which never started`)
      return Either.match(finalizeBlock(current, event.index), {
        onLeft: (error) => ({ ...counted, failure: Option.some(error) }),
        onRight: (block) => ({ ...counted, blocks: replaceAt(self.blocks, event.index, block) })
      })
    }
    case "message_delta": {
      if (Option.isNone(self.message)) return violation("message_delta before message_start")
      const message = self.message.value
      return {
        ...counted,
        message: Option.some({ ...message, ...event.delta, usage: mergeUsage(message.usage, event.usage) })
      }
    }
    case "message_stop":
      if (Option.isNone(self.message)) return violation("message_stop before message_start")
      return { ...counted, stopped: true }
    case "error":
      return { ...counted, streamError: Option.some(event.error) }
    case "ping":
    case "unknown":
      return counted
  }
}

/**
 * One step of the fold: the state after `event`. Pure. Once the state has a
 * `failure`, a `streamError` or has `stopped`, later events are only counted
 * (in `events`, not in `lastEventType`).
 *
 * - `message_start` sets the message; `content_block_start` opens block
 *   `index` (in order); deltas apply to their block: `text_delta` appends to
 *   `text`, `thinking_delta` to `thinking`, `signature_delta` sets
 *   `signature`, `citations_delta` appends to `citations`, `input_json_delta`
 *   pieces concatenate and are parsed into `input` at `content_block_stop`;
 *   deltas of unknown kinds are skipped, and unknown blocks take deltas into
 *   their `raw` fields.
 * - `message_delta` sets `stop_reason`, `stop_sequence`, `stop_details` (and
 *   any other field it carries) and replaces the usage counts it carries
 *   (they are cumulative).
 *
 * @example
 * ```ts
 * import { pipe } from "effect"
 * import { MessageAccumulator, type MessageStream } from "claude-resilience"
 *
 * declare const first: MessageStream.MessageStreamEvent
 * declare const second: MessageStream.MessageStreamEvent
 *
 * const state = MessageAccumulator.accumulate(MessageAccumulator.initial, first)
 * const next = pipe(state, MessageAccumulator.accumulate(second))
 * ```
 *
 * @since 0.1.0
 * @category accumulator
 */
export const accumulate: {
  (event: MessageStreamEvent): (self: Accumulator) => Accumulator
  (self: Accumulator, event: MessageStreamEvent): Accumulator
} = dual(2, step)

/**
 * The message so far: `message_start`'s message with the blocks streamed so
 * far (tool inputs still as they started). `None` before `message_start`.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { MessageAccumulator } from "claude-resilience"
 *
 * declare const state: MessageAccumulator.Accumulator
 * // what a consumer holds when a stream fails midway
 * const partial = Option.map(MessageAccumulator.snapshot(state), (message) => message.content)
 * ```
 *
 * @since 0.1.0
 * @category accumulator
 */
export const snapshot = (self: Accumulator): Option.Option<Message> =>
  Option.map(self.message, (message) => ({ ...message, content: self.blocks.map((p) => p.block) }))

/**
 * The final `Message`, or why there is none: the stream's `failure`, else an
 * {@link IncompleteStreamError} when `message_start` or `message_stop` never
 * came (an `error` event included), else an {@link InvalidToolInputError} if
 * a block that never stopped holds invalid input JSON.
 *
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { MessageAccumulator, type MessageStream } from "claude-resilience"
 *
 * declare const events: ReadonlyArray<MessageStream.MessageStreamEvent>
 * const state = events.reduce(MessageAccumulator.accumulate, MessageAccumulator.initial)
 * const result = MessageAccumulator.finish(state)
 * if (Either.isLeft(result)) console.error(result.left._tag) // "IncompleteStreamError", …
 * ```
 *
 * @since 0.1.0
 * @category accumulator
 */
export const finish = (self: Accumulator): Either.Either<Message, AccumulateError> => {
  if (Option.isSome(self.failure)) return Either.left(self.failure.value)
  const incomplete = (missing: "message_start" | "message_stop") =>
    Either.left(incompleteStreamError({
      events: self.events,
      missing,
      lastEventType: Option.getOrUndefined(self.lastEventType),
      streamError: Option.getOrUndefined(self.streamError)
    }))
  if (Option.isNone(self.message)) return incomplete("message_start")
  if (!self.stopped) return incomplete("message_stop")
  const content: Array<ContentBlock> = []
  for (let index = 0; index < self.blocks.length; index++) {
    const done = finalizeBlock(self.blocks[index]!, index)
    if (Either.isLeft(done)) return Either.left(done.left)
    content.push(done.right.block)
  }
  return Either.right({ ...self.message.value, content })
}

/**
 * The fold of a whole stream, for {@link fromEvents} and {@link sink}: the
 * same states as {@link accumulate}, with the common case made cheap. A
 * text delta to a text block, or an input JSON delta to a tool's block, only
 * appends to that block: those appends are gathered per block and applied
 * at once, when any other event arrives or the stream ends, instead of a
 * new state (and a new block) per delta. Every other event goes through
 * {@link accumulate} itself.
 */
class Folding {
  private state: Accumulator = initial
  /** Deltas gathered since `state`. */
  private gathered = 0
  /** Per block index, the text (or JSON) gathered since `state`. */
  private appended: Array<string | undefined> = []

  get failed(): boolean {
    return Option.isSome(this.state.failure)
  }

  add(event: MessageStreamEvent): void {
    if (event.type === "content_block_delta" && this.gather(event.index, event.delta)) return
    this.state = step(this.current(), event)
  }

  private gather(index: number, delta: ContentBlockDelta): boolean {
    const state = this.state
    if (Option.isSome(state.failure) || Option.isSome(state.streamError) || state.stopped) return false
    const partial = state.blocks[index]
    if (partial === undefined || partial.stopped) return false
    const type = partial.block.type
    let text: string
    if (delta.type === "text_delta" && type === "text") text = delta.text
    else if (
      delta.type === "input_json_delta" && (type === "tool_use" || type === "server_tool_use" || type === "unknown")
    ) text = delta.partial_json
    else return false
    const before = this.appended[index]
    this.appended[index] = before === undefined ? text : before + text
    this.gathered++
    return true
  }

  /** The state with the gathered deltas applied, as `accumulate` would have made it, one delta at a time. */
  current(): Accumulator {
    if (this.gathered === 0) return this.state
    const state = this.state
    const blocks = state.blocks.slice()
    this.appended.forEach((text, index) => {
      const partial = blocks[index]!
      const block = partial.block
      blocks[index] = block.type === "text"
        ? { ...partial, block: { ...block, text: block.text + text } }
        : { ...partial, json: partial.json + text }
    })
    this.state = {
      ...state,
      events: state.events + this.gathered,
      lastEventType: Option.some("content_block_delta"),
      blocks
    }
    this.gathered = 0
    this.appended = []
    return this.state
  }
}

/**
 * Folds a whole sequence of events: `finish` of every `accumulate`.
 *
 * @example
 * ```ts
 * import { MessageAccumulator, type MessageStream } from "claude-resilience"
 *
 * declare const events: ReadonlyArray<MessageStream.MessageStreamEvent>
 * const message = MessageAccumulator.fromEvents(events) // Either<Message, AccumulateError>
 * ```
 *
 * @since 0.1.0
 * @category accumulator
 */
export const fromEvents = (events: Iterable<MessageStreamEvent>): Either.Either<Message, AccumulateError> => {
  const folding = new Folding()
  for (const event of events) {
    folding.add(event)
    if (folding.failed) break
  }
  return finish(folding.current())
}

/**
 * The fold as a `Sink`: consumes events until the end of the stream (or the
 * first failure) and gives the final `Message`. Each chunk of events is
 * folded in one pass; text and input JSON deltas are appended in place (see
 * {@link fromEvents}), so that the work and the memory per event stay small
 * and constant, however long the stream.
 *
 * @example
 * ```ts
 * import { Stream } from "effect"
 * import { MessageAccumulator, MessageStream } from "claude-resilience"
 *
 * declare const events: Stream.Stream<MessageStream.MessageStreamEvent>
 * const message = Stream.run(events, MessageAccumulator.sink)
 * ```
 *
 * @since 0.1.0
 * @category accumulator
 */
export const sink: Sink.Sink<Message, MessageStreamEvent, MessageStreamEvent, AccumulateError> = Sink.suspend(() =>
  Sink.foldChunks(
    new Folding(),
    (folding) => !folding.failed,
    (folding, events: Chunk.Chunk<MessageStreamEvent>) => {
      for (const event of events) {
        folding.add(event)
        if (folding.failed) break
      }
      return folding
    }
  ).pipe(Sink.mapEffect((folding) => finish(folding.current())))
)
