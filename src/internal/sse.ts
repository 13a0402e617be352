/**
 * SSE framing over `@effect/experimental/Sse`'s parser, without the two
 * behaviours of `Sse.makeChannel` a client cannot accept: an over-size event
 * is a typed failure here (there, a defect), and a `retry:` field is ignored
 * (there, a sleep that restarts the channel).
 *
 * @internal
 */
import * as Sse from "@effect/experimental/Sse"
import * as Stream from "effect/Stream"

/** @internal */
export class EventTooLarge {
  readonly _tag = "EventTooLarge"
  constructor(readonly maxEventSize: number) {}
}

/** @internal */
export const events = (maxEventSize: number) =>
<E, R>(text: Stream.Stream<string, E, R>): Stream.Stream<Sse.Event, E | EventTooLarge, R> =>
  Stream.suspend(() => {
    let pending: Array<Sse.Event> = []
    // the parser bounds only the event still pending at the end of a chunk;
    // an over-size event that arrives whole in one chunk is caught here
    let tooLarge = false
    const parser = Sse.makeParser((event) => {
      if (event._tag !== "Event" || tooLarge) return
      if (event.data.length > maxEventSize) tooLarge = true
      else pending.push(event)
    }, { maxEventSize })
    return text.pipe(
      Stream.flatMap((chunk) => {
        const error = parser.feed(chunk)
        const out = pending
        pending = []
        const parsed = Stream.fromIterable(out)
        return error === undefined && !tooLarge
          ? parsed
          : Stream.concat(parsed, Stream.fail(new EventTooLarge(maxEventSize)))
      })
    )
  })
