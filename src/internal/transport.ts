/**
 * The client's transport: one configured `HttpClient` and one request sent
 * over it, with every failure of the exchange typed and scrubbed.
 *
 * - The client is the `HttpClient` from the context with one
 *   `HttpClient.mapRequest` (the base URL, the fixed headers, the key, the
 *   user agent), then the user's `transformClient`.
 * - A request is sent with redirects never followed (`redirect: "manual"`
 *   over any `FetchHttpClient.RequestInit`), the key's and the credentials'
 *   headers redacted in the platform's spans and logs, and every attribute
 *   of those spans scrubbed of the client's secrets.
 * - A non-2xx reply becomes its typed error: a 3xx a `RedirectError` (its
 *   body released), a `101` an `UnexpectedStatusError` (its socket closed),
 *   anything else its `ApiError`. A 2xx body is read under
 *   `maxResponseBytes` and decoded by a Schema: `ResponseTooLargeError`,
 *   `MalformedResponseError`.
 * - {@link Transport.scrub} takes the client's secrets out of every string
 *   of an error.
 *
 * @internal
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { flow } from "effect/Function"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as ApiError from "../ApiError.js"
import type { Settings } from "../Claude.js"
import * as RateLimits from "../RateLimits.js"
import * as Body from "./body.js"
import { InvalidOptionsError } from "../Options.js"
import * as Decode from "./decode.js"
import { describeValue } from "./options.js"
import * as Secrets from "./secrets.js"
import { userAgent } from "./version.js"

// ---------------------------------------------------------------------------
// errors (exported from Claude)
// ---------------------------------------------------------------------------

/** @internal */
export class MalformedResponseError extends Schema.TaggedError<MalformedResponseError>()(
  "MalformedResponseError",
  {
    status: Schema.Number,
    requestId: Schema.Option(Schema.String),
    message: Schema.String
  }
) {}

/** @internal */
export class ResponseTooLargeError extends Schema.TaggedError<ResponseTooLargeError>()(
  "ResponseTooLargeError",
  {
    status: Schema.Number,
    requestId: Schema.Option(Schema.String),
    /** The limit that was exceeded, in bytes. */
    maxResponseBytes: Schema.Number,
    message: Schema.String
  }
) {}

/** @internal */
export class RedirectError extends Schema.TaggedError<RedirectError>()(
  "RedirectError",
  {
    status: Schema.Number,
    requestId: Schema.Option(Schema.String),
    /** The origin of the `location` header, if it has one that parses. */
    location: Schema.Option(Schema.String),
    message: Schema.String
  }
) {}

// ---------------------------------------------------------------------------
// the configured client
// ---------------------------------------------------------------------------

/**
 * The headers every request carries but the key: the API version, `accept`,
 * the beta flags and, for a base URL that had credentials, `authorization:
 * Basic`.
 */
const fixedHeaders = (settings: Settings): Record<string, string> => ({
  "anthropic-version": settings.apiVersion,
  "accept": "application/json",
  ...(settings.beta.length > 0 ? { "anthropic-beta": settings.beta.join(",") } : {}),
  ...Option.match(basicToken(settings), {
    onNone: () => ({}),
    onSome: (token) => ({ authorization: `Basic ${token}` })
  })
})

const basicToken = (settings: Settings): Option.Option<string> =>
  Option.map(
    settings.basicAuth,
    ({ password, user }) => Buffer.from(`${user}:${Redacted.value(password)}`, "utf8").toString("base64")
  )

/**
 * The strings that must never leave a call: the key, and the base URL's
 * password and Basic token. A password of a character or two would redact
 * every occurrence of it in every message: only one long enough to be a
 * secret is scrubbed.
 *
 * @internal
 */
export const secretsOf = (settings: Settings): ReadonlyArray<string> => {
  const password = Option.map(settings.basicAuth, ({ password }) => Redacted.value(password))
  return [
    Redacted.value(settings.apiKey),
    ...Option.toArray(basicToken(settings)),
    ...Option.match(password, {
      onNone: () => [],
      onSome: (p) => p.length >= 4 ? [p, encodeURIComponent(p)] : []
    })
  ]
}

/**
 * The configured client: every request gets the base URL prepended and the
 * client's headers (the version, `accept`, the beta flags, the Basic
 * credentials, `x-api-key`, `user-agent`), then passes through the user's
 * `transformClient`, which sees it complete. A transform that throws, or
 * that returns something other than an `HttpClient`, is a problem with the
 * `transformClient` option, never a throw.
 *
 * @internal
 */
export const configure = (
  settings: Settings,
  client: HttpClient.HttpClient
): Either.Either<HttpClient.HttpClient, InvalidOptionsError> => {
  const mapped = HttpClient.mapRequest(
    client,
    flow(
      HttpClientRequest.prependUrl(settings.baseUrl),
      HttpClientRequest.setHeaders(fixedHeaders(settings)),
      HttpClientRequest.setHeader("x-api-key", Redacted.value(settings.apiKey)),
      HttpClientRequest.setHeader("user-agent", userAgent)
    )
  )
  const problem = (message: string) =>
    Either.left(InvalidOptionsError.of("Claude", [{ path: "transformClient", message }]))
  try {
    const transformed: unknown = settings.transformClient(mapped)
    return Predicate.hasProperty(transformed, HttpClient.TypeId)
      ? Either.right(transformed as HttpClient.HttpClient)
      : problem(`must return an HttpClient, got ${describeValue(transformed)}`)
  } catch (thrown) {
    let text: string
    try {
      text = Predicate.hasProperty(thrown, "message") && typeof thrown.message === "string"
        ? thrown.message
        : `a thrown ${typeof thrown}`
    } catch {
      text = "a value that could not be read"
    }
    return problem(`threw when given the client: ${Secrets.make(secretsOf(settings)).string(text).slice(0, 200)}`)
  }
}

// ---------------------------------------------------------------------------
// the transport
// ---------------------------------------------------------------------------

/** @internal */
export type Method = "GET" | "POST" | "DELETE"

/** @internal */
export interface Transport {
  readonly settings: Settings
  /** The URL of a path, as errors report it (never with credentials). */
  readonly url: (path: string) => string
  /** A request for `path`, with a JSON body or none. */
  readonly request: (method: Method, path: string, body: Option.Option<string>) => HttpClientRequest.HttpClientRequest
  /**
   * Sends one request; a non-2xx status becomes its typed error. With a
   * `limiter`, every response's rate-limit snapshot is fed to it, and a
   * 429's `retry-after` blocks it (see `RateLimits.Service.record`).
   */
  readonly send: (
    request: HttpClientRequest.HttpClientRequest,
    limiter?: RateLimits.Service | undefined
  ) => Effect.Effect<HttpClientResponse.HttpClientResponse, ApiError.ApiError | RedirectError>
  /** Reads a 2xx body under `maxResponseBytes` and decodes it with `schema`. */
  readonly readJson: <A, I>(
    schema: Schema.Schema<A, I>
  ) => (
    response: HttpClientResponse.HttpClientResponse
  ) => Effect.Effect<A, ApiError.ApiError | MalformedResponseError | ResponseTooLargeError>
  readonly malformed: (response: HttpClientResponse.HttpClientResponse, detail: string) => MalformedResponseError
  readonly tooLarge: (response: HttpClientResponse.HttpClientResponse, what: "body" | "line") => ResponseTooLargeError
  /** Ends the reading of a body the client does not want, which closes its connection. */
  readonly release: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<void>
  /**
   * An error with the client's secrets (the key, the base URL's
   * credentials) replaced by "[redacted]" in every string field: a server
   * or proxy may echo them into a message, a `request-id`, a body excerpt,
   * an SSE `error` event or a platform error's message.
   */
  readonly scrub: <X>(error: X) => X
}

/**
 * A 101 Switching Protocols: Node's client hands the socket to an
 * `upgrade` listener and nobody closes it (one socket left open on both
 * sides per call). Close it: the platform's Node response keeps the
 * `IncomingMessage` as `source`.
 */
const closeUpgraded = (response: HttpClientResponse.HttpClientResponse) =>
  Effect.sync(() => {
    let current: unknown = response
    for (let i = 0; i < 3 && Predicate.isObject(current); i++) {
      const source: unknown = Predicate.hasProperty(current, "source") ? current.source : undefined
      const socket: unknown = Predicate.hasProperty(source, "socket") ? source.socket : undefined
      if (Predicate.hasProperty(socket, "destroy") && typeof socket.destroy === "function") {
        socket.destroy()
        return
      }
      current = Predicate.hasProperty(current, "original") ? current.original : undefined
    }
  })

/** undici (fetch, `layerUndici`) refuses an unasked-for upgrade itself, as a transport failure. */
const isRefusedUpgrade = (error: unknown): boolean => {
  let cause: unknown = Predicate.hasProperty(error, "cause") ? error.cause : undefined
  for (let i = 0; i < 4 && Predicate.isObject(cause); i++) {
    if (Predicate.hasProperty(cause, "message") && cause.message === "bad upgrade") return true
    cause = Predicate.hasProperty(cause, "cause") ? cause.cause : undefined
  }
  return false
}

const switchedProtocols = (headers: Headers.Headers) =>
  Effect.flatMap(
    Clock.currentTimeMillis,
    // a status the API never sends: UnexpectedStatusError, not retried
    (now) => Effect.fail(ApiError.fromResponse({ status: 101, headers, body: "", now }))
  )

const cleanId = (id: string) =>
  // eslint-disable-next-line no-control-regex
  id.replace(/[\u0000-\u001f\u007f]+/g, " ").trim().slice(0, 200)

const requestIdOfResponse = (response: HttpClientResponse.HttpClientResponse) =>
  Headers.get(response.headers, "request-id").pipe(Option.map(cleanId), Option.filter((id) => id.length > 0))

const where = (response: HttpClientResponse.HttpClientResponse) =>
  `HTTP ${response.status} from ${response.request.method} ${new URL(response.request.url).pathname}`

const redirectError = (response: HttpClientResponse.HttpClientResponse) => {
  const location = Headers.get(response.headers, "location").pipe(
    Option.flatMap((target) =>
      URL.canParse(target, response.request.url)
        ? Option.some(new URL(target, response.request.url).origin)
        : Option.none()
    ),
    Option.filter((origin) => origin !== "null")
  )
  return new RedirectError({
    status: response.status,
    requestId: requestIdOfResponse(response),
    location,
    message: `${where(response)}: a redirect${
      Option.match(location, { onNone: () => "", onSome: (origin) => ` to ${origin}` })
    }, not followed (the request carries the API key); check baseUrl and any proxy in between`
  })
}

/**
 * A cause's code and message, walking `cause` links: the platform's own
 * message ("Decode error") says nothing.
 *
 * @internal
 */
export const describeCause = (error: { readonly cause?: unknown; readonly reason?: string }): string => {
  const parts: Array<string> = []
  let cause: unknown = error.cause
  for (let i = 0; i < 4 && Predicate.isObject(cause); i++) {
    const code = Predicate.hasProperty(cause, "code") && typeof cause.code === "string" ? `${cause.code}: ` : ""
    const message = Predicate.hasProperty(cause, "message") && typeof cause.message === "string" ? cause.message : ""
    if (code !== "" || message !== "") parts.push(`${code}${message}`.slice(0, 200))
    cause = Predicate.hasProperty(cause, "cause") ? cause.cause : undefined
  }
  return parts.length > 0 ? parts.join(" (") + ")".repeat(parts.length - 1) : (error.reason ?? "no detail")
}

/**
 * The transport over `client` (the configured client, see
 * {@link configure}). `buildInit` is the `FetchHttpClient.RequestInit` of
 * the context the client was built in: kept under each request's own, with
 * `redirect: "manual"` forced over both.
 *
 * @internal
 */
export const make = (
  settings: Settings,
  client: HttpClient.HttpClient,
  buildInit: Option.Option<RequestInit>
): Transport => {
  const secrets = Secrets.make(secretsOf(settings))

  const execute = (request: HttpClientRequest.HttpClientRequest) =>
    Effect.flatMap(Effect.serviceOption(FetchHttpClient.RequestInit), (init) =>
      Effect.tracerWith((tracer) =>
        client.execute(request).pipe(
          // the platform's spans record the URL and every response header,
          // which a server controls: scrub every attribute
          Effect.withTracer(secrets.tracer(tracer)),
          // FetchHttpClient follows redirects unless told not to; the Node clients do not
          Effect.provideService(FetchHttpClient.RequestInit, {
            ...Option.getOrElse(buildInit, () => ({})),
            ...Option.getOrElse(init, () => ({})),
            redirect: "manual"
          })
        )
      )).pipe(
        // the platform redacts these names in its spans and logs; make sure
        // the key's header is among them whatever the user configured
        Effect.locallyWith(Headers.currentRedactedNames, (names) => [...names, "x-api-key", "authorization"])
      )

  const release = (response: HttpClientResponse.HttpClientResponse) =>
    // started, then interrupted at once: its finalizer (the abort) runs, which
    // closes the connection (a redirect's body may be endless)
    Stream.runDrain(Stream.interruptWhen(response.stream, Effect.void)).pipe(Effect.ignore)

  const send: Transport["send"] = (request, limiter) =>
    execute(request).pipe(
      Effect.catchAll((error) =>
        isRefusedUpgrade(error) ? switchedProtocols(Headers.empty) : ApiError.fromHttpClientError(error)
      ),
      Effect.flatMap((response): Effect.Effect<HttpClientResponse.HttpClientResponse, ApiError.ApiError | RedirectError> =>
        response.status >= 200 && response.status < 300
          ? Effect.succeed(response)
          : (response.status >= 300 && response.status < 400) || response.status === 0
          // status 0: a browser's opaque redirect under `redirect: "manual"`
          ? Effect.zipRight(release(response), Effect.fail(redirectError(response)))
          : response.status < 200
          ? Effect.zipRight(
            Effect.zipRight(closeUpgraded(response), release(response)),
            switchedProtocols(response.headers)
          )
          : ApiError.fromHttpResponse(response)
      ),
      (sent) =>
        limiter === undefined ? sent : sent.pipe(
          Effect.tap((response) => limiter.observe(RateLimits.parse(response.headers))),
          Effect.tapError((error) => limiter.record(error))
        )
    )

  const malformed: Transport["malformed"] = (response, detail) =>
    new MalformedResponseError({
      status: response.status,
      requestId: requestIdOfResponse(response),
      message: `${where(response)}: the body is not what the endpoint sends: ${detail.slice(0, 500)}`
    })

  const tooLarge: Transport["tooLarge"] = (response, what) =>
    new ResponseTooLargeError({
      status: response.status,
      requestId: requestIdOfResponse(response),
      maxResponseBytes: settings.maxResponseBytes,
      message: `${where(response)}: ${
        what === "body" ? "the body" : "a line of the results"
      } exceeded maxResponseBytes (${settings.maxResponseBytes} bytes); the connection was closed`
    })

  const readJson: Transport["readJson"] = (schema) => {
    const decode = Decode.json(schema)
    return (response) =>
      Body.text(response, settings.maxResponseBytes).pipe(
        Effect.catchAll((error): Effect.Effect<never, ApiError.ApiError | ResponseTooLargeError> =>
          error._tag === "TooLarge" ? Effect.fail(tooLarge(response, "body")) : ApiError.fromHttpClientError(error)
        ),
        Effect.flatMap((text) =>
          Either.match(decode(text), {
            onLeft: (detail) => Effect.fail(malformed(response, detail)),
            onRight: Effect.succeed
          })
        )
      )
  }

  return {
    settings,
    url: (path) => `${settings.baseUrl}${path}`,
    request: (method, path, body) => {
      const request = HttpClientRequest.make(method)(path)
      return Option.match(body, {
        onNone: () => request,
        onSome: (text) => HttpClientRequest.bodyText(request, text, "application/json")
      })
    },
    send,
    readJson,
    malformed,
    tooLarge,
    release,
    scrub: (error) => secrets.error(error)
  }
}
