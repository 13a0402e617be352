/**
 * SSE framing with `eventsource-parser`: linear in the bytes read (it keeps
 * the fragments of an unfinished line and joins them once, when the line
 * ends), conformant to the WHATWG event stream grammar (CRLF, LF and CR line
 * endings, mixed in one stream; a leading BOM; comments), with the two
 * behaviours a client needs on top:
 *
 * - the size cap holds while reading: the parser's unfinished state (the
 *   current line and the event being built) is bounded by the characters fed
 *   since the last event it dispatched, and those are counted as they arrive,
 *   so a hostile 16 MiB line without a newline fails after about
 *   `maxEventSize` characters, not after buffering it whole;
 * - a `retry:` field and unknown fields are ignored (they never restart or
 *   fail the stream);
 * - a stream whose last byte is a CR ends that line (the parser would wait
 *   for a possible LF forever).
 *
 * @internal
 */
import { createParser } from "eventsource-parser"
import * as Stream from "effect/Stream"

/** One dispatched event: its `event:` type, if any, and its data lines joined by LF. @internal */
export interface Event {
  readonly event: string | undefined
  readonly data: string
}

/** @internal */
export class EventTooLarge {
  readonly _tag = "EventTooLarge"
  constructor(readonly maxEventSize: number) {}
}

/**
 * Text is fed to the parser in pieces of at most this many characters, so
 * that the count of what it holds is exact to within one piece.
 */
const pieceSize = 64 * 1024

/**
 * The framing of one stream, synchronous: text in, each event (its type
 * and data) handed to `onEvent` as the parser dispatches it. Once an event over the cap is seen
 * (`tooLarge`), nothing more is dispatched.
 *
 * @internal
 */
export interface Framer {
  /** Parses a piece of the stream's text. */
  readonly feed: (text: string) => void
  /** The end of the stream: a CR that ended the last piece ends its line. */
  readonly end: () => void
  /** An event over the cap was seen. */
  readonly tooLarge: () => boolean
}

/** @internal */
export const framer = (
  maxEventSize: number,
  onEvent: (type: string | undefined, data: string) => void
): Framer => {
  let tooLarge = false
  let dispatched = false
  // characters fed since the last piece in which an event was dispatched
  // (from that piece, only what follows its last line break): an upper
  // bound, within one piece, of what the parser holds
  let held = 0
  const parser = createParser({
    onEvent: (message) => {
      dispatched = true
      if (tooLarge) return
      if (message.data.length > maxEventSize) tooLarge = true
      else onEvent(message.event, message.data)
    }
    // onRetry, onError (an unknown field), onComment: ignored
  })
  const parse = (chunk: string): void => {
    for (let start = 0; start < chunk.length && !tooLarge; start += pieceSize) {
      const piece = chunk.length <= pieceSize ? chunk : chunk.slice(start, start + pieceSize)
      dispatched = false
      parser.feed(piece)
      if (dispatched) {
        const lastBreak = Math.max(piece.lastIndexOf("\n"), piece.lastIndexOf("\r"))
        held = piece.length - lastBreak - 1
      } else {
        held += piece.length
      }
      if (held > maxEventSize) tooLarge = true
    }
  }
  // the parser keeps a CR that ends a chunk until it sees whether an LF
  // follows; at the end of the stream that CR is a line end
  let endsWithCr = false
  return {
    feed: (chunk) => {
      if (chunk.length > 0) endsWithCr = chunk.charCodeAt(chunk.length - 1) === 13
      parse(chunk)
    },
    end: () => {
      if (endsWithCr && !tooLarge) {
        endsWithCr = false
        parse("\n")
      }
    },
    tooLarge: () => tooLarge
  }
}

/**
 * The events of a stream of text, as a `Stream` (each piece of text framed
 * at once, its events emitted together); fails with {@link EventTooLarge}
 * after the events before the one over the cap.
 *
 * @internal
 */
export const events = (maxEventSize: number) =>
<E, R>(text: Stream.Stream<string, E, R>): Stream.Stream<Event, E | EventTooLarge, R> =>
  Stream.suspend(() => {
    let out: Array<Event> = []
    const framing = framer(maxEventSize, (event, data) => {
      out.push({ event, data })
    })
    const emit = (): Stream.Stream<Event, EventTooLarge> => {
      const parsed = Stream.fromIterable(out)
      out = []
      return framing.tooLarge() ? Stream.concat(parsed, Stream.fail(new EventTooLarge(maxEventSize))) : parsed
    }
    return Stream.concat(
      Stream.flatMap(text, (chunk) => {
        framing.feed(chunk)
        return emit()
      }),
      Stream.suspend(() => {
        framing.end()
        return out.length > 0 ? emit() : Stream.empty
      })
    )
  })
