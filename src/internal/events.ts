/**
 * The events of one SSE response, decoded chunk by chunk in one synchronous
 * pass: bytes to text (UTF-8, streaming), text to SSE events
 * (`eventsource-parser`, the size cap held while reading), each event's data
 * to a typed `MessageStreamEvent`. A stream of thousands of events costs a
 * few effects per chunk of bytes, not per event.
 *
 * Decoding an event: `JSON.parse`, then the common small events checked by
 * hand (a `content_block_delta` whose delta is a `text_delta`,
 * `input_json_delta`, `thinking_delta` or `signature_delta`; `ping`,
 * `content_block_stop`, `message_stop`), every field the Schema would check
 * checked the same way (the `type`s, the index a non-negative safe integer,
 * the delta's text a string), and the parsed object kept as it is (the
 * Schema would copy it, field by field, into an equal one). Anything else,
 * and anything that fails those checks, goes through the full
 * `MessageStreamEvent` Schema, so that a bad event gets the Schema's own
 * message.
 *
 * @internal
 */
import type * as Chunk from "effect/Chunk"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as MessageAccumulator from "../MessageAccumulator.js"
import * as MessageStream from "../MessageStream.js"
import * as Decode from "./decode.js"
import * as Sse from "./sse.js"

const decodeValue = Decode.value(MessageStream.MessageStreamEvent)

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const isIndex = (u: unknown): boolean => typeof u === "number" && Number.isSafeInteger(u) && u >= 0

/** The field of each delta type the fast path knows, which must be a string. */
const deltaFields: Readonly<Record<string, string>> = {
  text_delta: "text",
  input_json_delta: "partial_json",
  thinking_delta: "thinking",
  signature_delta: "signature"
}

/**
 * The event, when it is one of the common small events and the Schema
 * would decode it to an equal value; `undefined` otherwise (the Schema
 * decides).
 *
 * @internal
 */
export const fast = (u: unknown): MessageStream.MessageStreamEvent | undefined => {
  if (!isRecord(u)) return undefined
  switch (u.type) {
    case "content_block_delta": {
      const delta = u.delta
      if (!isIndex(u.index) || !isRecord(delta) || typeof delta.type !== "string") return undefined
      const field = Object.hasOwn(deltaFields, delta.type) ? deltaFields[delta.type] : undefined
      return field !== undefined && typeof delta[field] === "string"
        ? u as unknown as MessageStream.MessageStreamEvent
        : undefined
    }
    case "content_block_stop":
      return isIndex(u.index) ? u as unknown as MessageStream.MessageStreamEvent : undefined
    case "ping":
    case "message_stop":
      return u as unknown as MessageStream.MessageStreamEvent
    default:
      return undefined
  }
}

/**
 * The data of one SSE event decoded: parsed, then {@link fast} or the
 * Schema. Total, like `Decode.json`, with the same messages.
 *
 * @internal
 */
export const decode = (data: string): Either.Either<MessageStream.MessageStreamEvent, string> => {
  const parsed = Decode.parseJson(data)
  if (Either.isLeft(parsed)) return Either.left(`not JSON (${parsed.left})`)
  const event = fast(parsed.right)
  return event !== undefined ? Either.right(event) : decodeValue(parsed.right)
}

/** Why an event does not decode. */
class Problem {
  constructor(readonly detail: string) {}
}

/** {@link decode} without an allocation on the fast path: the event, or why it does not decode. */
const decodeData = (data: string): MessageStream.MessageStreamEvent | Problem => {
  let parsed: unknown
  try {
    parsed = JSON.parse(data)
  } catch {
    return new Problem(Option.getOrElse(Either.getLeft(decode(data)), () => "not JSON"))
  }
  const event = fast(parsed)
  if (event !== undefined) return event
  const decoded = decodeValue(parsed)
  return Either.isRight(decoded) ? decoded.right : new Problem(decoded.left)
}

/**
 * Why a stream of events ends early: an event that does not decode
 * (`Malformed`, with the detail), an `error` event (`ErrorEvent`, its data),
 * an event over the size cap (`TooLarge`).
 *
 * @internal
 */
export type Failure =
  | { readonly _tag: "Malformed"; readonly detail: string }
  | { readonly _tag: "ErrorEvent"; readonly data: string }
  | { readonly _tag: "TooLarge" }

/**
 * One response's decoding state. {@link Decoder.push} takes the bytes that
 * arrived and returns the events they completed, in order; after a
 * `message_stop` (`stopped`) or a failure (`failure`) nothing more is
 * decoded. With `hold`, `message_start` and `ping` events are held back and
 * released with the first other event.
 *
 * @internal
 */
export class Decoder {
  /** Events decoded (an `error` event included). */
  count = 0
  /** `message_stop` arrived. */
  stopped = false
  /** The `type` of the last event decoded. */
  lastType: string | undefined = undefined
  failure: Failure | undefined = undefined
  private held: Array<MessageStream.MessageStreamEvent> | undefined
  private out: Array<MessageStream.MessageStreamEvent> = []
  private readonly text = new TextDecoder()
  private readonly framing: Sse.Framer

  constructor(hold: boolean, maxEventSize: number) {
    this.held = hold ? [] : undefined
    this.framing = Sse.framer(maxEventSize, (_type, data) => this.onEvent(data))
  }

  /** Whether nothing more will be decoded. */
  get done(): boolean {
    return this.stopped || this.failure !== undefined
  }

  private onEvent(data: string): void {
    if (this.done) return
    const value = decodeData(data)
    if (value instanceof Problem) {
      this.failure = { _tag: "Malformed", detail: `event ${this.count + 1}: ${value.detail}` }
      return
    }
    this.count++
    this.lastType = MessageAccumulator.eventType(value)
    if (value.type === "error") {
      this.failure = { _tag: "ErrorEvent", data }
      return
    }
    if (value.type === "message_stop") this.stopped = true
    const held = this.held
    if (held === undefined) {
      this.out.push(value)
    } else if (value.type === "message_start" || value.type === "ping") {
      held.push(value)
    } else {
      for (const e of held) this.out.push(e)
      this.out.push(value)
      this.held = undefined
    }
  }

  private take(): Array<MessageStream.MessageStreamEvent> {
    const out = this.out
    this.out = []
    return out
  }

  private checkSize(): void {
    if (!this.done && this.framing.tooLarge()) this.failure = { _tag: "TooLarge" }
  }

  /** The events the bytes completed. */
  push(bytes: Chunk.Chunk<Uint8Array>): Array<MessageStream.MessageStreamEvent> {
    for (const piece of bytes) {
      if (this.done) break
      this.framing.feed(this.text.decode(piece, { stream: true }))
      this.checkSize()
    }
    return this.take()
  }

  /** The events the end of the stream completed (a last line ended by a CR). */
  end(): Array<MessageStream.MessageStreamEvent> {
    if (!this.done) {
      this.framing.end()
      this.checkSize()
    }
    return this.take()
  }
}
