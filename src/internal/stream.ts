/**
 * The client's streams: the typed events of an SSE reply, the JSONL lines
 * of a batch's results, and the two ways a stream is retried.
 *
 * - {@link Streams.events}: SSE decoded to `MessageStreamEvent`s (an
 *   `error` event to its `ApiError`, a stream that ends early to
 *   `IncompleteStreamError`), `message_start` and `ping` held back until
 *   the first other event when asked;
 * - {@link Streams.results}: a batch's results, one decoded line at a time;
 * - {@link Streams.resilient}: a stream retried until its first chunk reaches
 *   the consumer (`messages.stream`, `batches.results`);
 * - {@link Streams.whole}: a stream the client consumes itself, retried as
 *   one attempt (`messages.finalMessage`, a long `messages.create`).
 *
 * Every wait on the server is bounded by `streamIdleTimeout`: for the
 * response headers, and between two chunks.
 *
 * @internal
 */
import * as Headers from "@effect/platform/Headers"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as ApiError from "../ApiError.js"
import type { BatchResult, CallError, StreamError } from "../Claude.js"
import * as Messages from "../Messages.js"
import * as MessageAccumulator from "../MessageAccumulator.js"
import * as MessageBatches from "../MessageBatches.js"
import * as MessageStream from "../MessageStream.js"
import * as Body from "./body.js"
import * as Call from "./call.js"
import type * as RateLimits from "../RateLimits.js"
import * as Decode from "./decode.js"
import * as Events from "./events.js"
import { describeCause, type Method, type Transport } from "./transport.js"

/** @internal */
export interface Streams {
  readonly events: (
    hold: boolean
  ) => (response: HttpClientResponse.HttpClientResponse) => Stream.Stream<MessageStream.MessageStreamEvent, StreamError>
  readonly results: (response: HttpClientResponse.HttpClientResponse) => Stream.Stream<BatchResult, CallError>
  readonly resilient: <A, E extends StreamError>(
    endpoint: string,
    method: Method,
    path: string,
    body: Option.Option<string>,
    open: (response: HttpClientResponse.HttpClientResponse) => Stream.Stream<A, E>,
    /** A call against the Messages rate limits: its cost, for the client's limiter (if any). */
    cost?: RateLimits.Cost
  ) => Stream.Stream<A, E | CallError>
  readonly whole: (
    endpoint: string,
    path: string,
    body: string,
    open: (response: HttpClientResponse.HttpClientResponse) => Stream.Stream<MessageStream.MessageStreamEvent, StreamError>,
    cost?: RateLimits.Cost
  ) => Effect.Effect<Messages.Message, StreamError>
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

const decodeResultLine = Decode.json(MessageBatches.MessageBatchIndividualResponse)

/** @internal */
export const make = (transport: Transport, resilient: Call.Resilient): Streams => {
  const { settings } = transport

  const cut = (response: HttpClientResponse.HttpClientResponse, detail: string) =>
    ApiError.transportError({
      reason: "ResponseBody",
      method: response.request.method,
      url: response.request.url,
      detail
    })

  /**
   * The typed events of an SSE response. With `hold`, the `message_start`
   * and `ping` events that open a stream are held back and released with
   * the first other event (content, `message_delta`, `message_stop`): the
   * API sends `message_start` first, so an `error` event right after it
   * comes before anything reached the consumer, and is retried.
   */
  const events: Streams["events"] = (hold) => (response) =>
    Stream.suspend((): Stream.Stream<MessageStream.MessageStreamEvent, StreamError> => {
      const contentType = Headers.get(response.headers, "content-type")
      if (Option.isSome(contentType) && !/^text\/event-stream\b/i.test(contentType.value)) {
        // a JSON (or HTML) 2xx to a stream request: the same request gets
        // the same body, so it is malformed, not a transport failure
        return Stream.unwrap(Effect.as(
          transport.release(response),
          Stream.fail(transport.malformed(
            response,
            `a stream request got ${JSON.stringify(contentType.value.slice(0, 100))} instead of text/event-stream`
          ))
        ))
      }
      const decoder = new Events.Decoder(hold, settings.maxEventSize)
      type Decoding = Channel.Channel<
        Chunk.Chunk<MessageStream.MessageStreamEvent>,
        Chunk.Chunk<Uint8Array>,
        StreamError,
        ApiError.TransportError,
        unknown,
        unknown
      >
      const failWith = (failure: Events.Failure): Decoding => {
        switch (failure._tag) {
          case "Malformed":
            return Channel.fail(transport.malformed(response, failure.detail))
          case "TooLarge":
            return Channel.fail(transport.malformed(response, `an SSE event exceeded ${settings.maxEventSize} characters`))
          case "ErrorEvent":
            return Channel.fromEffect(Effect.flatMap(Clock.currentTimeMillis, (now) =>
              Effect.fail(ApiError.fromResponse({
                status: response.status,
                headers: response.headers,
                body: failure.data,
                now
              }))))
        }
      }
      const emit = (events: Array<MessageStream.MessageStreamEvent>, then: Decoding): Decoding =>
        events.length === 0 ? then : Channel.zipRight(Channel.write(Chunk.unsafeFromArray(events)), then)
      // the end of the body: a clean end after message_stop, or the reason it is incomplete
      const ended = (): Decoding =>
        decoder.failure !== undefined
          ? failWith(decoder.failure)
          : decoder.stopped
          ? Channel.void
          : decoder.count === 0
          // a body that closes before its first event delivered nothing:
          // a transport failure, retried like a reset before headers
          ? Channel.fail(cut(response, "the stream ended before its first event"))
          : Channel.fail(MessageAccumulator.incompleteStreamError({
            events: decoder.count,
            missing: "message_stop",
            lastEventType: decoder.lastType
          }))
      // each chunk of bytes decoded at once, its events written as one chunk;
      // reading stops at message_stop or at the first failure
      const decode: Decoding = Channel.readWithCause({
        onInput: (bytes: Chunk.Chunk<Uint8Array>) => {
          const events = decoder.push(bytes)
          return emit(events, decoder.done ? ended() : Channel.suspend(() => decode))
        },
        onFailure: (cause) => Channel.failCause(cause),
        onDone: () => emit(decoder.end(), ended())
      })
      return response.stream.pipe(
        Stream.mapError((error) =>
          cut(
            response,
            `the connection was cut mid-stream after ${plural(decoder.count, "event")}: ${describeCause(error)}`
          )
        ),
        Stream.pipeThroughChannel(decode)
      )
    })

  const results: Streams["results"] = (response) =>
    response.stream.pipe(
      Stream.mapError((error) => cut(response, `the results broke off: ${describeCause(error)}`)),
      Body.lines(settings.maxResponseBytes),
      Stream.mapError((error) => error instanceof Body.TooLarge ? transport.tooLarge(response, "line") : error),
      Stream.filter((line) => line.trim().length > 0),
      Stream.mapEffect((line) =>
        Effect.gen(function*() {
          const decoded = yield* Either.match(decodeResultLine(line), {
            onLeft: (detail) => Effect.fail(transport.malformed(response, detail)),
            onRight: Effect.succeed
          })
          const customId = decoded.custom_id
          const result = decoded.result
          switch (result.type) {
            case "succeeded":
              return { _tag: "Succeeded", customId, message: result.message } as const
            case "errored":
              return {
                _tag: "Errored",
                customId,
                // an error from the wire, like any other: scrubbed
                error: transport.scrub(ApiError.fromResponse({
                  status: response.status,
                  headers: {},
                  body: JSON.stringify(result.error),
                  now: yield* Clock.currentTimeMillis
                }))
              } as const
            case "canceled":
              return { _tag: "Canceled", customId } as const
            case "expired":
              return { _tag: "Expired", customId } as const
            default:
              return { _tag: "Unknown", customId, raw: result.raw } as const
          }
        })
      )
    )

  /** A pull bounded by the idle timeout: silence longer than it is a `TransportError` (`Idle`). */
  const idle = (method: string, path: string) =>
  <X, Y>(pull: Effect.Effect<X, Option.Option<Y>>): Effect.Effect<X, Option.Option<Y | ApiError.TransportError>> =>
    Effect.timeoutFail(pull, {
      duration: settings.streamIdleTimeout,
      onTimeout: () =>
        Option.some<Y | ApiError.TransportError>(ApiError.transportError({
          reason: "Idle",
          method,
          url: transport.url(path),
          detail: `no event for ${Duration.format(settings.streamIdleTimeout)}`
        }))
    })

  /** The request of a stream: its headers come at once, so waiting for them is bounded by the idle timeout. */
  const send = (method: Method, path: string, body: Option.Option<string>, limiter?: RateLimits.Service) =>
    transport.send(transport.request(method, path, body), limiter).pipe(
      Effect.timeoutFail({
        duration: settings.streamIdleTimeout,
        onTimeout: () =>
          ApiError.transportError({
            reason: "Idle",
            method,
            url: transport.url(path),
            detail: `no response headers for ${Duration.format(settings.streamIdleTimeout)}`
          })
      })
    )

  /**
   * Opens a stream with retries: an attempt is the request plus the first
   * non-empty chunk of elements (an `open` that holds elements back, as
   * `messages.stream` holds `message_start` and `ping`, extends the
   * attempt until it releases them). Once a chunk is handed to the
   * consumer, a failure ends the stream with its typed error. The breaker
   * records the outcome of the whole stream, when it ends.
   */
  const resilientStream: Streams["resilient"] = <A, E extends StreamError>(
    endpoint: string,
    method: Method,
    path: string,
    body: Option.Option<string>,
    open: (response: HttpClientResponse.HttpClientResponse) => Stream.Stream<A, E>,
    cost?: RateLimits.Cost
  ): Stream.Stream<A, E | CallError> =>
    Stream.unwrapScoped(
      Effect.gen(function*() {
        const observed = yield* Call.attempts(endpoint)
        const limiter = cost === undefined ? undefined : Option.getOrUndefined(resilient.limiter)
        const admit = limiter === undefined ? Option.none() : yield* resilient.admission(cost!)
        const bounded = idle(method, path)
        const outcome = yield* Ref.make<Exit.Exit<unknown, unknown>>(Exit.interrupt(Option.none() as never))
        // the first non-empty chunk, or an empty one when the stream ends first
        const first = (pull: Effect.Effect<Chunk.Chunk<A>, Option.Option<E>>) => {
          const loop: Effect.Effect<Chunk.Chunk<A>, E | ApiError.TransportError> = bounded(pull).pipe(
            Effect.matchEffect({
              onFailure: Option.match({
                onNone: () => Effect.succeed(Chunk.empty<A>()),
                onSome: (error: E | ApiError.TransportError) => Effect.fail(error)
              }),
              onSuccess: (chunk) => Chunk.isEmpty(chunk) ? Effect.suspend(() => loop) : Effect.succeed(chunk)
            })
          )
          return loop
        }
        // Admission and the hand-over of what it holds (the breaker's permit,
        // the attempt's scope) are uninterruptible: an interruption at any
        // point either completes the permit and closes the scope, or finds
        // them owned by the stream's finalizer, never in between.
        const attempt = Effect.uninterruptibleMask((restore) =>
          Effect.gen(function*() {
            // the limiter first (its wait interruptible): a stream waiting for the quota holds no probe slot
            if (Option.isSome(admit)) yield* restore(admit.value)
            const permit = yield* resilient.breaker.permit
            const scope = yield* Scope.make()
            const opened = yield* restore(Effect.gen(function*() {
              const response = yield* send(method, path, body, limiter)
              const pull = yield* Stream.toPull(open(response)).pipe(Scope.extend(scope))
              return { first: yield* first(pull), pull }
            })).pipe(
              Effect.onError((cause) =>
                Effect.zipRight(permit.complete(Exit.failCause(cause)), Scope.close(scope, Exit.failCause(cause)))
              )
            )
            // from here the stream's scope owns the permit and the attempt's scope
            yield* Effect.addFinalizer((exit) =>
              Effect.gen(function*() {
                const recorded = yield* Ref.get(outcome)
                // a consumer that stops early (take, interrupt) leaves no outcome
                yield* permit.complete(Exit.isSuccess(exit) || Exit.isInterrupted(exit) ? recorded : exit)
                yield* Scope.close(scope, exit)
              })
            )
            return opened
          })
        ).pipe(Effect.mapError(transport.scrub), observed)
        const opened = yield* resilient.retry(attempt)
        const rest = Stream.repeatEffectChunkOption(
          bounded(opened.pull).pipe(
            Effect.mapError(Option.map(transport.scrub)),
            Effect.tapError(Option.match({
              onNone: () => Ref.set(outcome, Exit.void),
              onSome: (error) => Ref.set(outcome, Exit.fail(error))
            }))
          )
        )
        return Chunk.isEmpty(opened.first)
          ? Stream.fromEffect(Ref.set(outcome, Exit.void)).pipe(Stream.drain)
          : Stream.concat(Stream.fromChunk(opened.first), rest)
      })
    ).pipe(Stream.withSpan(...Call.spanOf(endpoint, method, path)))

  /**
   * A stream consumed whole by the client (`finalMessage`, and `create`
   * past the 10-minute rule): the caller sees nothing until the end, so an
   * attempt is the request and its whole stream, and a retryable failure
   * at any point (an `overloaded_error` event after `message_start`, a
   * connection cut) retries the whole request under the policy, through
   * the breaker, like an HTTP 529 would be.
   */
  const whole: Streams["whole"] = (endpoint, path, body, open, cost) =>
    Effect.flatMap(Call.attempts(endpoint), (observed) => {
      const bounded = idle("POST", path)
      const limiter = cost === undefined ? undefined : Option.getOrUndefined(resilient.limiter)
      const attempt = send("POST", path, Option.some(body), limiter).pipe(
        Effect.flatMap((response) =>
          Stream.run(
            Stream.unwrapScoped(
              Effect.map(Stream.toPull(open(response)), (pull) => Stream.repeatEffectChunkOption(bounded(pull)))
            ),
            MessageAccumulator.sink
          )
        ),
        Effect.mapError(transport.scrub),
        observed
      )
      return limiter === undefined
        ? resilient.protect(attempt)
        : Effect.flatMap(resilient.admission(cost!), (admit) => resilient.protect(attempt, admit))
    }).pipe(Effect.withSpan(...Call.spanOf(endpoint, "POST", path)))

  return { events, results, resilient: resilientStream, whole }
}
