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

/** @internal */
export const events = (maxEventSize: number) =>
<E, R>(text: Stream.Stream<string, E, R>): Stream.Stream<Event, E | EventTooLarge, R> =>
  Stream.suspend(() => {
    let out: Array<Event> = []
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
        else out.push({ event: message.event, data: message.data })
      }
      // onRetry, onError (an unknown field), onComment: ignored
    })
    const feed = (chunk: string): void => {
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
    const emit = (chunk: string) => {
      if (chunk.length > 0) endsWithCr = chunk.charCodeAt(chunk.length - 1) === 13
      feed(chunk)
      const parsed = Stream.fromIterable(out)
      out = []
      return tooLarge ? Stream.concat(parsed, Stream.fail(new EventTooLarge(maxEventSize))) : parsed
    }
    return Stream.concat(
      Stream.flatMap(text, emit),
      Stream.suspend(() => endsWithCr && !tooLarge ? emit("\n") : Stream.empty)
    )
  })
