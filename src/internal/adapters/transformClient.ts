/**
 * `Resilience.transformClient`: the whole policy as an `HttpClient =>
 * HttpClient` middleware, for `AnthropicClient.layer({ transformClient })`
 * of `@effect/ai-anthropic` (or any client built on `@effect/platform`).
 *
 * @internal
 */
import * as Headers from "@effect/platform/Headers"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as ApiError from "../../ApiError.js"
import * as CircuitBreaker from "../../CircuitBreaker.js"
import * as RetryBudget from "../../RetryBudget.js"
import type * as RetryPolicy from "../../RetryPolicy.js"
import {
  concatBounded,
  decodeTransformClientOptions,
  type Exchange,
  type Inspected,
  once,
  policyOf,
  rebuildable,
  secretsOf,
  send,
  utf8
} from "./policy.js"

/**
 * What `Resilience.transformClient` takes. Every field is optional.
 *
 * @since 0.2.0
 * @category options
 */
export interface TransformClientOptions {
  /** The retry policy's options (`RetryPolicy.Options`); the defaults otherwise. */
  readonly retry?: RetryPolicy.Options | undefined
  /** Options of the breaker it builds when the caller's context has none (`CircuitBreaker.Options`). */
  readonly breaker?: CircuitBreaker.Options | undefined
  /** Options of the budget it builds when the caller's context has none (`RetryBudget.Options`). */
  readonly budget?: RetryBudget.Options | undefined
}

/**
 * Buffers a `Stream` body once, so that the request can be sent again; a
 * body that fails while it is read fails the request (`Encode`), as the
 * platform would.
 */
const replayable = (
  request: HttpClientRequest.HttpClientRequest
): Effect.Effect<HttpClientRequest.HttpClientRequest, HttpClientError.RequestError> => {
  const body = request.body
  if (body._tag !== "Stream") return Effect.succeed(request)
  return Stream.runCollect(body.stream).pipe(
    Effect.map((chunks) =>
      HttpClientRequest.setBody(
        request,
        HttpBody.uint8Array(concatAll(Chunk.toReadonlyArray(chunks)), body.contentType)
      )
    ),
    Effect.mapError((cause) => new HttpClientError.RequestError({ request, reason: "Encode", cause }))
  )
}

const concatAll = (chunks: ReadonlyArray<Uint8Array>): Uint8Array => {
  const bytes = new Uint8Array(chunks.reduce((n, chunk) => n + chunk.length, 0))
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.length
  }
  return bytes
}

/**
 * Reads a non-2xx response's body, at most `ApiError.maxErrorBodyBytes`
 * (reading stops there and the connection is closed), and rebuilds the
 * response with it: same request, status, headers and body. A response
 * whose status a web `Response` cannot carry a body with is handed back
 * unread.
 */
const inspect = (
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<Inspected<HttpClientResponse.HttpClientResponse>, HttpClientError.ResponseError> => {
  if (!rebuildable(response.status)) {
    return Effect.succeed({ body: "", headers: response.headers, handBack: response })
  }
  return response.stream.pipe(
    Stream.runFoldWhile(
      { chunks: [] as Array<Uint8Array>, size: 0 },
      (acc) => acc.size < ApiError.maxErrorBodyBytes,
      (acc, chunk) => {
        acc.chunks.push(chunk)
        return { chunks: acc.chunks, size: acc.size + chunk.length }
      }
    ),
    // a response without a body (a bare 503) is an empty body
    Effect.catchIf(
      (error) => error.reason === "EmptyBody",
      () => Effect.succeed({ chunks: [] as Array<Uint8Array>, size: 0 })
    ),
    Effect.map(({ chunks }) => {
      const bytes = concatBounded(chunks)
      const handBack = HttpClientResponse.fromWeb(
        response.request,
        new Response(bytes, { status: response.status, headers: { ...response.headers } })
      )
      return { body: utf8(bytes), headers: response.headers, handBack }
    })
  )
}

/** The breaker and the budget: the caller's, or else the transform's own. */
interface Services {
  readonly breaker: CircuitBreaker.Service
  readonly budget: RetryBudget.Service
}

/**
 * Builds the middleware. Its own breaker and budget are built once, on the
 * first request that needs them, in that request's fiber (so under its
 * `Clock`), and shared by every client it transforms.
 *
 * @internal
 */
export const make = (
  options?: TransformClientOptions
): (client: HttpClient.HttpClient) => HttpClient.HttpClient => {
  const decoded = decodeTransformClientOptions(options)
  const lock = Effect.unsafeMakeSemaphore(1)
  let own: Services | undefined
  const ownServices = (settings: { readonly breaker?: CircuitBreaker.Options; readonly budget?: RetryBudget.Options }) =>
    lock.withPermits(1)(Effect.suspend(() =>
      own !== undefined
        ? Effect.succeed(own)
        : Effect.gen(function*() {
          // the breaker's scope owns its `changes` hub: it lives as long as the transform
          const scope = yield* Scope.make()
          const breaker = yield* Scope.extend(CircuitBreaker.make(settings.breaker), scope)
          const budget = yield* RetryBudget.make(settings.budget)
          own = { breaker, budget }
          return own
        })
    ))

  return (client) =>
    client.pipe(
      HttpClient.mapRequestEffect(replayable),
      HttpClient.transform((effect, request) => {
        const refuse = (cause: { readonly message: string }) =>
          Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause, description: cause.message }))
        if (Either.isLeft(decoded)) return refuse(decoded.left)
        const settings = decoded.right
        const policy = policyOf(settings.retry)
        return Effect.gen(function*() {
          const inContext = {
            breaker: yield* Effect.serviceOption(CircuitBreaker.CircuitBreaker),
            budget: yield* Effect.serviceOption(RetryBudget.RetryBudget)
          }
          const services: Services = Option.isSome(inContext.breaker) && Option.isSome(inContext.budget)
            ? { breaker: inContext.breaker.value, budget: inContext.budget.value }
            : yield* Effect.map(ownServices(settings), (own) => ({
              breaker: Option.getOrElse(inContext.breaker, () => own.breaker),
              budget: Option.getOrElse(inContext.budget, () => own.budget)
            }))
          const secrets = secretsOf((name) => Option.getOrUndefined(Headers.get(request.headers, name)))
          const exchange: Exchange<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> = {
            // the platform redacts these headers in its spans; make sure the key's are among them
            send: Effect.locallyWith(effect, Headers.currentRedactedNames, (names) => [...names, "x-api-key", "authorization"]),
            status: (response) => response.status,
            inspect,
            transport: (failure) => Effect.flip(ApiError.fromHttpClientError(failure))
          }
          // a body the platform would read from a source once (Raw) is sent once
          const applied: RetryPolicy.RetryPolicy = request.body._tag === "Raw" ? once(policy) : policy
          return yield* Effect.tracerWith((tracer) =>
            send(exchange, applied, secrets).pipe(
              Effect.provideService(CircuitBreaker.CircuitBreaker, services.breaker),
              Effect.provideService(RetryBudget.RetryBudget, services.budget),
              // the parent of the platform's client span of each attempt
              Effect.withSpan("Resilience.transformClient", {
                kind: "internal",
                attributes: { "http.request.method": request.method }
              }),
              Effect.withTracer(secrets.tracer(tracer))
            )
          )
        }).pipe(
          Effect.catchAll((error) =>
            error instanceof CircuitBreaker.CircuitOpenError || error._tag === "InvalidOptionsError"
              ? refuse(error)
              : Effect.fail(error)
          )
        )
      })
    )
}
