/**
 * The one helper every JSON endpoint of the client goes through: an
 * {@link Endpoint} names the call, its method and path, the Schema of its
 * params and the preflight limit of its body, and the Schema of its reply.
 *
 * - {@link Endpoints.encode}: the params checked against the request
 *   Schema, totally (a JavaScript caller may pass `null`, a number or a
 *   throwing Proxy), into their wire form;
 * - {@link Endpoints.body}: the wire form as JSON text, measured against
 *   the endpoint's limit before anything is sent;
 * - {@link Endpoints.call}: the request sent, each attempt bounded by
 *   `requestTimeout`, scrubbed and observed, through the breaker, retried
 *   under the policy, its reply decoded by the response Schema; a call
 *   given a `cost` (one against the Messages rate limits) is admitted by
 *   the client's limiter, when it has one, before each attempt, and each
 *   response feeds it;
 * - {@link Endpoints.run}: the three in a row.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Schema from "effect/Schema"
import * as ApiError from "../ApiError.js"
import type { CallError } from "../Claude.js"
import * as Preflight from "../Preflight.js"
import type * as RateLimits from "../RateLimits.js"
import * as Call from "./call.js"
import type { Method, Transport } from "./transport.js"

/**
 * An endpoint whose reply is JSON of type `A`.
 *
 * @internal
 */
export interface Endpoint<A> {
  /** The call's name, in spans and metrics: `messages.create`, `batches.list`, … */
  readonly name: string
  readonly method: Method
  /** The path, or the path a call's own path starts with (`/v1/messages/batches`). */
  readonly path: string
  readonly response: Schema.Schema<A, any>
}

/**
 * An endpoint that sends a JSON body: `P` the params a caller passes, `W`
 * their wire form, checked by `request`; the body is at most `limit`'s size.
 *
 * @internal
 */
export interface BodyEndpoint<P, W, A> extends Endpoint<A> {
  readonly request: Schema.Schema<P, W>
  readonly limit: Preflight.Endpoint
}

/** @internal */
export interface Endpoints {
  /** Where a call is, for the errors of checks made before anything is sent. */
  readonly site: (endpoint: Endpoint<any>, name?: string) => Preflight.Call
  readonly encode: <P, W>(
    endpoint: BodyEndpoint<P, W, any>,
    params: P,
    site?: Preflight.Call
  ) => Effect.Effect<W, ApiError.ClientRequestError>
  readonly body: (
    endpoint: BodyEndpoint<any, any, any>,
    wire: unknown,
    site?: Preflight.Call
  ) => Effect.Effect<string, ApiError.ClientRequestError | ApiError.RequestTooLargeError>
  readonly call: <A>(
    endpoint: Endpoint<A>,
    options?: {
      readonly path?: string | undefined
      readonly body?: string | undefined
      /** For a call against the Messages rate limits: its cost, for the client's limiter (if any). */
      readonly cost?: RateLimits.Cost | undefined
    }
  ) => Effect.Effect<A, CallError>
  readonly run: <P, A>(endpoint: BodyEndpoint<P, any, A>, params: P) => Effect.Effect<A, CallError>
}

/**
 * The endpoint helpers of one client.
 *
 * @internal
 */
export const endpoints = (transport: Transport, resilient: Call.Resilient): Endpoints => {
  const { settings } = transport

  const site: Endpoints["site"] = (endpoint, name = endpoint.name) => ({
    operation: name,
    method: endpoint.method,
    url: transport.url(endpoint.path)
  })

  const encode: Endpoints["encode"] = (endpoint, params, at = site(endpoint)) =>
    Effect.suspend(() => Preflight.encodeParams(endpoint.request, params, at))

  const body: Endpoints["body"] = (endpoint, wire, at = site(endpoint)) =>
    Effect.flatMap(
      Preflight.toJson(wire, at),
      (text) => Effect.as(Preflight.checkSize(endpoint.limit, text), text)
    )

  const call: Endpoints["call"] = (endpoint, options = {}) => {
    const path = options.path ?? endpoint.path
    const request = transport.request(endpoint.method, path, Option.fromNullable(options.body))
    const decode = transport.readJson(endpoint.response)
    const limiter = options.cost === undefined ? undefined : Option.getOrUndefined(resilient.limiter)
    return Effect.flatMap(Call.attempts(endpoint.name), (observed) =>
      Effect.flatMap(limiter === undefined ? Effect.succeed(Option.none()) : resilient.admission(options.cost!), (admit) =>
      resilient.protect(
        transport.send(request, limiter).pipe(
          Effect.flatMap(decode),
          Effect.timeoutFail({
            duration: settings.requestTimeout,
            onTimeout: () =>
              ApiError.transportError({
                reason: "Timeout",
                method: endpoint.method,
                url: transport.url(path),
                detail: `no complete response within ${Duration.format(settings.requestTimeout)}`
              })
          }),
          Effect.mapError(transport.scrub),
          observed
        ),
        admit
      ))).pipe(Effect.withSpan(...Call.spanOf(endpoint.name, endpoint.method, path)))
  }

  return {
    site,
    encode,
    body,
    call,
    run: (endpoint, params) =>
      Effect.flatMap(encode(endpoint, params), (wire) =>
        Effect.flatMap(body(endpoint, wire), (text) => call(endpoint, { body: text })))
  }
}
