/**
 * The helpers of `Fallback`: the stream events of a whole `Message` (a
 * cached or degraded answer served to a stream's consumer), and the first
 * chunk of a stream pulled before the stream is handed on (so that a path
 * that fails before emitting anything can be replaced by the next).
 *
 * @internal
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as Messages from "../Messages.js"
import type * as MessageStream from "../MessageStream.js"

/**
 * The events a stream of `message` would carry: `message_start` (the
 * message without its content, `stop_reason: null`), each block whole in
 * its `content_block_start` then its `content_block_stop`, `message_delta`
 * (the stop reason, sequence, details and usage), `message_stop`.
 * `MessageAccumulator` folds them back into `message`.
 *
 * @internal
 */
export const eventsOf = (message: Messages.Message): ReadonlyArray<MessageStream.MessageStreamEvent> => {
  const start = {
    type: "message_start",
    message: { ...message, content: [], stop_reason: null, stop_sequence: null }
  } as MessageStream.MessageStreamEvent
  const blocks = message.content.flatMap((block, index) => [
    { type: "content_block_start", index, content_block: block } as MessageStream.MessageStreamEvent,
    { type: "content_block_stop", index } as MessageStream.MessageStreamEvent
  ])
  const delta = {
    type: "message_delta",
    delta: {
      stop_reason: message.stop_reason,
      stop_sequence: message.stop_sequence,
      ...(message.stop_details !== undefined ? { stop_details: message.stop_details } : {})
    },
    usage: message.usage
  } as MessageStream.MessageStreamEvent
  return [start, ...blocks, delta, { type: "message_stop" } as MessageStream.MessageStreamEvent]
}

/**
 * A stream opened as far as its first non-empty chunk: `Right` with the
 * whole stream (that chunk, then the rest, pulled in the scope), or `Left`
 * with the error it failed with before emitting anything. A stream that
 * ends empty is `Right` (an empty stream).
 *
 * @internal
 */
export const firstChunk = <A, E, R>(
  stream: Stream.Stream<A, E, R>
): Effect.Effect<Either.Either<Stream.Stream<A, E, R>, E>, never, R | Scope.Scope> =>
  Effect.flatMap(Stream.toPull(stream), (pull) => {
    const first: Effect.Effect<Either.Either<Stream.Stream<A, E, R>, E>, never, R> = Effect.matchEffect(pull, {
      onFailure: (error: Option.Option<E>) =>
        Effect.succeed(Option.match(error, {
          onNone: (): Either.Either<Stream.Stream<A, E, R>, E> => Either.right(Stream.empty),
          onSome: (e): Either.Either<Stream.Stream<A, E, R>, E> => Either.left(e)
        })),
      onSuccess: (chunk) =>
        Chunk.isEmpty(chunk)
          ? first
          : Effect.succeed(Either.right(Stream.concat(Stream.fromChunk(chunk), Stream.repeatEffectChunkOption(pull))))
    })
    return first
  })
