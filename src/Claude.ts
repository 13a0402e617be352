/**
 * The Claude client: Messages (JSON and streaming), Token Counting and
 * Message Batches over a Layer-provided `HttpClient`, every call through the
 * preflight, the circuit breaker and the retry policy.
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as ApiError from "./ApiError.js"
import * as CircuitBreaker from "./CircuitBreaker.js"
import * as Body from "./internal/body.js"
import * as Decode from "./internal/decode.js"
import { decodeDuration, describeValue } from "./internal/options.js"
import * as Secrets from "./internal/secrets.js"
import * as Sse from "./internal/sse.js"
import { userAgent } from "./internal/version.js"
import * as MessageAccumulator from "./MessageAccumulator.js"
import * as MessageBatches from "./MessageBatches.js"
import * as Messages from "./Messages.js"
import * as MessageStream from "./MessageStream.js"
import type { InvalidOptionsError } from "./Options.js"
import * as Preflight from "./Preflight.js"
import * as Resilience from "./Resilience.js"
import * as RetryBudget from "./RetryBudget.js"
import * as RetryPolicy from "./RetryPolicy.js"

// ---------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------

/**
 * The client's settings.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The API key, sent as `x-api-key` and never printed. */
  readonly apiKey: Redacted.Redacted<string>
  /**
   * Default `https://api.anthropic.com`. A user name and password in the
   * URL (`https://user:pass@gateway.example/`) are taken out of it and sent
   * as an `authorization: Basic` header instead, redacted like the key: no
   * error, log line or span carries them.
   */
  readonly baseUrl?: string | undefined
  /** The `anthropic-version` header. Default `2023-06-01`. */
  readonly apiVersion?: string | undefined
  /** `anthropic-beta` flags, sent comma-separated. */
  readonly beta?: string | ReadonlyArray<string> | undefined
  /** The retry policy: a built {@link RetryPolicy.RetryPolicy} or its options. Default: `RetryPolicy.defaults`. */
  readonly retry?: RetryPolicy.RetryPolicy | RetryPolicy.Options | undefined
  /**
   * Options of the client's own breaker, made when no
   * {@link CircuitBreaker.CircuitBreaker} service is provided.
   */
  readonly breaker?: CircuitBreaker.Options | undefined
  /** The longest one non-streaming attempt may take. Default 10 minutes. */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /**
   * The longest silence of a stream: before its response headers and between
   * two of its events. Default 60 seconds.
   */
  readonly streamIdleTimeout?: Duration.DurationInput | undefined
  /**
   * What `messages.create` does with a request whose `max_tokens` could run
   * past 10 minutes: `"stream"` (default) sends it as a stream and
   * accumulates the message; `"fail"` fails with
   * {@link Preflight.LongRequestError}.
   */
  readonly longRequests?: "stream" | "fail" | undefined
  /** The largest SSE event accepted, in characters. Default 16 MiB. */
  readonly maxEventSize?: number | undefined
  /**
   * The largest response body read, in bytes: a JSON reply, or one line of
   * a batch's results. Past it the call fails with
   * {@link ResponseTooLargeError} and the connection is closed. Default
   * 64 MiB (a real `Message` is a few MiB at most); at most 256 MiB.
   */
  readonly maxResponseBytes?: number | undefined
}

/**
 * The client's options are not valid (a base URL that does not parse, a
 * negative timeout, …).
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidClientOptionsError extends Schema.TaggedError<InvalidClientOptionsError>()(
  "InvalidClientOptionsError",
  { option: Schema.String, message: Schema.String }
) {}

/**
 * A 2xx response whose body is not what the endpoint sends (not JSON, or JSON
 * of the wrong shape). Not retried: the same request gets the same body.
 *
 * @since 0.1.0
 * @category errors
 */
export class MalformedResponseError extends Schema.TaggedError<MalformedResponseError>()(
  "MalformedResponseError",
  {
    status: Schema.Number,
    requestId: Schema.Option(Schema.String),
    message: Schema.String
  }
) {}

/**
 * A 2xx response whose body (or one line of a batch's results) is larger
 * than the client's `maxResponseBytes`. The read stopped at the limit and
 * the connection was closed; memory stays bounded by the limit. Not retried.
 *
 * @since 0.1.0
 * @category errors
 */
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

/**
 * A 3xx reply. The client never follows a redirect: the request carries the
 * API key, and a redirect can point anywhere. `location` is the target's
 * origin only (scheme, host, port; never a path or credentials). Not
 * retried.
 *
 * @since 0.1.0
 * @category errors
 */
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

/**
 * Why a non-streaming call failed.
 *
 * @since 0.1.0
 * @category models
 */
export type CallError =
  | ApiError.ApiError
  | CircuitBreaker.CircuitOpenError
  | MalformedResponseError
  | ResponseTooLargeError
  | RedirectError

/**
 * Why a stream failed: the call's errors, or a stream that ended before it
 * was complete or broke the event grammar.
 *
 * @since 0.1.0
 * @category models
 */
export type StreamError = CallError | MessageAccumulator.AccumulateError

// ---------------------------------------------------------------------------
// the service
// ---------------------------------------------------------------------------

/**
 * One line of a batch's results, its error decoded to an {@link ApiError}.
 *
 * @since 0.1.0
 * @category models
 */
export type BatchResult =
  | { readonly _tag: "Succeeded"; readonly customId: string; readonly message: Messages.Message }
  | { readonly _tag: "Errored"; readonly customId: string; readonly error: ApiError.ApiError }
  | { readonly _tag: "Canceled"; readonly customId: string }
  | { readonly _tag: "Expired"; readonly customId: string }
  | { readonly _tag: "Unknown"; readonly customId: string; readonly raw: Messages.UnknownObject }

/**
 * Paging for `batches.list`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ListOptions {
  readonly limit?: number | undefined
  readonly afterId?: string | undefined
  readonly beforeId?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly messages: {
    /**
     * `POST /v1/messages`. A request whose `max_tokens` could run past 10
     * minutes is streamed and accumulated like `finalMessage` (or fails,
     * with `longRequests: "fail"`).
     */
    readonly create: (
      params: Messages.MessageCreateParams
    ) => Effect.Effect<Messages.Message, StreamError | Preflight.LongRequestError>
    /**
     * `POST /v1/messages` with `stream: true`: the typed events. Retried only
     * until the first event reaches the consumer; after that a failure ends
     * the stream with its typed error. `message_start` and `ping` are held
     * back and handed over with the first other event, so an `error` event
     * right after them is retried; the consumer sees each event once.
     */
    readonly stream: (params: Messages.MessageCreateParams) => Stream.Stream<MessageStream.MessageStreamEvent, StreamError>
    /**
     * A stream accumulated to its final `Message`. Nothing reaches the
     * caller before the end, so a retryable failure at any point of the
     * stream retries the whole request under the policy.
     */
    readonly finalMessage: (params: Messages.MessageCreateParams) => Effect.Effect<Messages.Message, StreamError>
    /** `POST /v1/messages/count_tokens`. */
    readonly countTokens: (
      params: Messages.CountTokensParams
    ) => Effect.Effect<Messages.CountTokensResponse, CallError>
  }
  readonly batches: {
    readonly create: (params: MessageBatches.BatchCreateParams) => Effect.Effect<MessageBatches.MessageBatch, CallError>
    readonly retrieve: (id: string) => Effect.Effect<MessageBatches.MessageBatch, CallError>
    readonly list: (options?: ListOptions) => Effect.Effect<MessageBatches.MessageBatchList, CallError>
    readonly cancel: (id: string) => Effect.Effect<MessageBatches.MessageBatch, CallError>
    readonly delete: (id: string) => Effect.Effect<MessageBatches.DeletedMessageBatch, CallError>
    /** The results, one decoded JSONL line at a time. */
    readonly results: (id: string) => Stream.Stream<BatchResult, CallError>
  }
}

/**
 * The Claude client.
 *
 * @example
 * ```ts
 * import { Effect, Redacted } from "effect"
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Claude } from "claude-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const claude = yield* Claude.Claude
 *   const message = yield* claude.messages.create({
 *     model: "claude-sonnet-5-5",
 *     max_tokens: 1024,
 *     messages: [{ role: "user", content: "Hello" }]
 *   })
 *   return message.content
 * }).pipe(Effect.provide(Claude.layerConfig()), Effect.provide(NodeHttpClient.layer))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class Claude extends Context.Tag("claude-resilience/Claude")<Claude, Service>() {}

// ---------------------------------------------------------------------------
// metrics
// ---------------------------------------------------------------------------

/**
 * Attempts sent, by endpoint.
 *
 * @since 0.1.0
 * @category metrics
 */
export const attemptsTotal = Metric.counter("claude_resilience_attempts_total", {
  description: "HTTP attempts sent to the Claude API",
  incremental: true
})

/**
 * Attempt outcomes, by endpoint and outcome (`Success` or the error's tag).
 *
 * @since 0.1.0
 * @category metrics
 */
export const outcomesTotal = Metric.counter("claude_resilience_outcomes_total", {
  description: "Outcomes of attempts, by tag",
  incremental: true
})

// ---------------------------------------------------------------------------
// construction
// ---------------------------------------------------------------------------

const defaultBaseUrl = "https://api.anthropic.com"

const failureOf = (exit: Exit.Exit<unknown, unknown>): Option.Option<unknown> =>
  Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()

const outcomeTag = (exit: Exit.Exit<unknown, unknown>): string =>
  Exit.isSuccess(exit)
    ? "Success"
    : Option.match(failureOf(exit), {
      onNone: () => Cause.isInterruptedOnly(exit.cause) ? "Interrupted" : "Defect",
      onSome: (error) =>
        Predicate.hasProperty(error, "_tag") && typeof error._tag === "string" ? error._tag : "Unknown"
    })

const requestIdOf = (exit: Exit.Exit<unknown, unknown>): Option.Option<string> =>
  Option.flatMap(failureOf(exit), (error) =>
    Predicate.hasProperty(error, "requestId") && Option.isOption(error.requestId)
      ? (error.requestId as Option.Option<string>)
      : Option.none())

const durationOption = (
  option: string,
  input: Duration.DurationInput | undefined,
  fallback: Duration.Duration
): Either.Either<Duration.Duration, InvalidClientOptionsError> => {
  if (input === undefined) return Either.right(fallback)
  const decoded = decodeDuration(input)
  return Option.isSome(decoded) && Duration.isFinite(decoded.value) && Duration.toMillis(decoded.value) > 0
    ? Either.right(decoded.value)
    : Either.left(
      new InvalidClientOptionsError({
        option,
        message: `${option} must be a finite duration above zero, got ${describeValue(input)}`
      })
    )
}

const apiKeyValue = /^[\x21-\x7e]+$/
const batchId = /^[A-Za-z0-9_-]{1,256}$/
const token = /^[A-Za-z0-9._-]+$/

interface Settings {
  /** Without credentials: they are in {@link Settings.headers}, as `authorization: Basic`. */
  readonly baseUrl: string
  readonly headers: Readonly<Record<string, string>>
  /** The strings that must never leave a call: the key, the base URL's credentials. */
  readonly secrets: ReadonlyArray<string>
  readonly policy: RetryPolicy.RetryPolicy
  readonly requestTimeout: Duration.Duration
  readonly idleTimeout: Duration.Duration
  readonly longRequests: "stream" | "fail"
  readonly maxEventSize: number
  readonly maxResponseBytes: number
}

/** A URL that did not parse, for a message: anything before an `@` (user info) hidden, clipped. */
const describeUrl = (raw: string): string =>
  // up to the last "@": a password may hold "/", "?" or "#" unescaped
  JSON.stringify(raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)?.*@/is, "$1[redacted]@").slice(0, 200))

/** The largest `maxResponseBytes` allowed: its text must stay well below V8's longest string. */
const maxResponseBytesLimit = 256 * 1024 * 1024

/**
 * The base URL without user info, and that user info as Basic credentials.
 * `URL` keeps user name and password percent-encoded: decode them for the
 * header (a malformed escape is kept as written).
 */
const splitCredentials = (url: URL): { readonly url: string; readonly basic: Option.Option<readonly [string, string]> } => {
  if (url.username === "" && url.password === "") return { url: url.toString(), basic: Option.none() }
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s)
    } catch {
      return s
    }
  }
  const basic = [decode(url.username), decode(url.password)] as const
  url.username = ""
  url.password = ""
  return { url: url.toString(), basic: Option.some(basic) }
}

const settingsFrom = (
  options: Options
): Either.Either<Settings, InvalidClientOptionsError | InvalidOptionsError> =>
  Either.gen(function*() {
    const rawBaseUrl = options.baseUrl ?? defaultBaseUrl
    if (typeof rawBaseUrl !== "string" || !URL.canParse(rawBaseUrl) || !/^https?:$/.test(new URL(rawBaseUrl).protocol)) {
      return yield* Either.left(
        new InvalidClientOptionsError({
          option: "baseUrl",
          message: `baseUrl must be an http(s) URL, got ${
            typeof rawBaseUrl === "string" ? describeUrl(rawBaseUrl) : describeValue(rawBaseUrl)
          }`
        })
      )
    }
    const split = splitCredentials(new URL(rawBaseUrl))
    const baseUrl = split.url.replace(/\/+$/, "")
    const policy = options.retry === undefined
      ? RetryPolicy.defaults
      : RetryPolicy.isRetryPolicy(options.retry)
      ? options.retry
      : yield* RetryPolicy.make(options.retry)
    const requestTimeout = yield* durationOption("requestTimeout", options.requestTimeout, Duration.minutes(10))
    const idleTimeout = yield* durationOption("streamIdleTimeout", options.streamIdleTimeout, Duration.seconds(60))
    const maxEventSize = options.maxEventSize ?? 16 * 1024 * 1024
    if (!Number.isInteger(maxEventSize) || maxEventSize < 1) {
      return yield* Either.left(
        new InvalidClientOptionsError({ option: "maxEventSize", message: "maxEventSize must be a positive integer" })
      )
    }
    const maxResponseBytes = options.maxResponseBytes ?? 64 * 1024 * 1024
    if (!Number.isInteger(maxResponseBytes) || maxResponseBytes < 1 || maxResponseBytes > maxResponseBytesLimit) {
      return yield* Either.left(
        new InvalidClientOptionsError({
          option: "maxResponseBytes",
          message: `maxResponseBytes must be an integer from 1 to ${maxResponseBytesLimit} (256 MiB), got ${
            describeValue(maxResponseBytes)
          }`
        })
      )
    }
    // header values: visible ASCII only, checked here so that a stray
    // newline or control character is a clear typed error (never echoing the
    // key), not a defect or a transport failure quoting the header
    // a JavaScript caller may pass the key as a plain string (or nothing):
    // say so, without printing it, instead of dying in `Redacted.value`
    if (!Redacted.isRedacted(options.apiKey)) {
      return yield* Either.left(
        new InvalidClientOptionsError({
          option: "apiKey",
          message: `apiKey must be a Redacted value, got ${
            typeof options.apiKey === "string"
              ? "a plain string"
              : options.apiKey === null
              ? "null"
              : typeof options.apiKey === "object"
              ? "an object that is not Redacted"
              : typeof options.apiKey
          }: wrap the key with Redacted.make(key) (or use Claude.layerConfig, which reads ANTHROPIC_API_KEY), so that it is never printed`
        })
      )
    }
    const apiKey: unknown = Redacted.value(options.apiKey)
    if (typeof apiKey !== "string" || !apiKeyValue.test(apiKey)) {
      return yield* Either.left(
        new InvalidClientOptionsError({
          option: "apiKey",
          message:
            "apiKey must be non-empty visible ASCII (no spaces, newlines or control characters); check how the key was pasted or loaded"
        })
      )
    }
    const beta = typeof options.beta === "string" ? [options.beta] : options.beta ?? []
    const badBeta = beta.find((flag) => !token.test(flag))
    if (badBeta !== undefined) {
      return yield* Either.left(
        new InvalidClientOptionsError({
          option: "beta",
          message: `each beta flag must be a non-empty token of letters, digits and - _ . ; got ${describeValue(badBeta)}`
        })
      )
    }
    const apiVersion = options.apiVersion ?? "2023-06-01"
    if (!token.test(apiVersion)) {
      return yield* Either.left(
        new InvalidClientOptionsError({
          option: "apiVersion",
          message: `apiVersion must be a token such as "2023-06-01", got ${describeValue(apiVersion)}`
        })
      )
    }
    const basic = Option.map(split.basic, ([user, password]) => ({
      password,
      token: Buffer.from(`${user}:${password}`, "utf8").toString("base64")
    }))
    const headers: Record<string, string> = {
      "anthropic-version": apiVersion,
      "accept": "application/json",
      "user-agent": userAgent,
      ...(beta.length > 0 ? { "anthropic-beta": beta.join(",") } : {}),
      ...Option.match(basic, { onNone: () => ({}), onSome: ({ token }) => ({ authorization: `Basic ${token}` }) })
    }
    const secrets = [
      Redacted.value(options.apiKey),
      // a password of a character or two would redact every occurrence of
      // it in every message: only one long enough to be a secret is scrubbed
      ...Option.match(basic, {
        onNone: () => [],
        onSome: ({ password, token }) => [token, ...(password.length >= 4 ? [password, encodeURIComponent(password)] : [])]
      })
    ]
    return {
      baseUrl,
      headers,
      secrets,
      policy,
      requestTimeout,
      idleTimeout,
      longRequests: options.longRequests ?? "stream",
      maxEventSize,
      maxResponseBytes
    }
  })

/**
 * A budget that never refuses and keeps nothing, for a client built without
 * a `RetryBudget` service: such a client runs unbudgeted, as it always has.
 */
const unbudgeted: RetryBudget.Service = {
  settings: RetryBudget.defaults,
  deposit: Effect.void,
  tryWithdraw: Effect.succeed(true),
  tryWithdrawFor: () => Effect.succeed(true),
  balance: Effect.succeed({ deposits: 0, reserve: Number.POSITIVE_INFINITY, total: Number.POSITIVE_INFINITY })
}

/**
 * Builds the client. Uses the {@link CircuitBreaker.CircuitBreaker} and
 * {@link RetryBudget.RetryBudget} services when they are in the context (so
 * one of each serves every client of a process); otherwise makes a breaker
 * of its own and runs unbudgeted.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<
  Service,
  InvalidClientOptionsError | InvalidOptionsError,
  HttpClient.HttpClient | Scope.Scope
> =>
  Effect.gen(function*() {
    const settings = yield* settingsFrom(options)
    const httpClient = yield* HttpClient.HttpClient
    const breaker = yield* Effect.serviceOption(CircuitBreaker.CircuitBreaker).pipe(
      Effect.flatMap(Option.match({
        onSome: Effect.succeed,
        onNone: () => CircuitBreaker.make(options.breaker)
      }))
    )
    // without a RetryBudget in the context the client runs unbudgeted, as it always has
    const budget = Option.getOrElse(yield* Effect.serviceOption(RetryBudget.RetryBudget), () => unbudgeted)
    /**
     * `Resilience.retry` with this client's breaker (it ends the retries
     * without sleeping when the breaker would refuse the next attempt) and
     * the process's budget, if there is one.
     */
    const retried = <A, E, R>(attempt: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Resilience.retry(attempt, settings.policy).pipe(
        Effect.provideService(CircuitBreaker.CircuitBreaker, breaker),
        Effect.provideService(RetryBudget.RetryBudget, budget)
      )
    const apiKey = options.apiKey
    const secrets = Secrets.make(settings.secrets)
    // the RequestInit in the context the client is built in (FetchHttpClient
    // only): kept, with `redirect: "manual"` forced over it, for each request
    const buildInit = yield* Effect.serviceOption(FetchHttpClient.RequestInit)

    // -- one HTTP attempt ----------------------------------------------------

    /**
     * Every failure of an attempt passes here before anything else sees it
     * (the attempt's span, the retry policy's log line and span attributes,
     * the caller): a secret (the key, the base URL's credentials) that a
     * server or proxy echoed into `error.message`, a `request-id`, a body
     * excerpt, an SSE `error` event or a platform error's message is
     * replaced by "[redacted]" in every string field.
     */
    const scrub = <X>(error: X): X => secrets.error(error)

    const request = (method: "GET" | "POST" | "DELETE", path: string, body: Option.Option<string>) => {
      const base = HttpClientRequest.make(method)(`${settings.baseUrl}${path}`).pipe(
        HttpClientRequest.setHeaders(settings.headers),
        HttpClientRequest.setHeader("x-api-key", Redacted.value(apiKey))
      )
      return Option.match(body, {
        onNone: () => base,
        onSome: (text) => HttpClientRequest.bodyText(base, text, "application/json")
      })
    }

    /**
     * Runs the platform client: redirects never followed (`FetchHttpClient`
     * follows them unless told `redirect: "manual"`; the Node clients do not
     * follow), the key's and the credentials' headers redacted in the
     * platform's spans, and every attribute of those spans scrubbed (they
     * record the URL and every response header, which a server controls).
     */
    const execute = (req: HttpClientRequest.HttpClientRequest) =>
      Effect.flatMap(Effect.serviceOption(FetchHttpClient.RequestInit), (init) =>
        Effect.tracerWith((tracer) =>
          httpClient.execute(req).pipe(
            Effect.withTracer(secrets.tracer(tracer)),
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

    /**
     * Ends the reading of a body the client does not want: the platform's
     * response stream aborts its request when its consumption ends, which
     * closes the connection (a redirect's body may be endless).
     */
    const release = (response: HttpClientResponse.HttpClientResponse) =>
      // started, then interrupted at once: its finalizer (the abort) runs
      Stream.runDrain(Stream.interruptWhen(response.stream, Effect.void)).pipe(Effect.ignore)

    /**
     * A `101 Switching Protocols`: Node's client hands the socket to an
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

    const switchedProtocols = (headers: Headers.Headers, now: number) =>
      // a status the API never sends: UnexpectedStatusError, not retried
      ApiError.fromResponse({ status: 101, headers, body: "", now })

    const cleanId = (id: string) =>
      // eslint-disable-next-line no-control-regex
      id.replace(/[\u0000-\u001f\u007f]+/g, " ").trim().slice(0, 200)

    const requestIdOfResponse = (response: HttpClientResponse.HttpClientResponse) =>
      Headers.get(response.headers, "request-id").pipe(Option.map(cleanId), Option.filter((id) => id.length > 0))

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
        message: `HTTP ${response.status} from ${response.request.method} ${
          new URL(response.request.url).pathname
        }: a redirect${
          Option.match(location, { onNone: () => "", onSome: (origin) => ` to ${origin}` })
        }, not followed (the request carries the API key); check baseUrl and any proxy in between`
      })
    }

    /** Sends one request; a non-2xx status becomes its typed error. */
    const send = (
      method: "GET" | "POST" | "DELETE",
      path: string,
      body: Option.Option<string>
    ): Effect.Effect<HttpClientResponse.HttpClientResponse, ApiError.ApiError | RedirectError> =>
      execute(request(method, path, body)).pipe(
        Effect.catchAll((error) =>
          isRefusedUpgrade(error)
            ? Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.fail(switchedProtocols(Headers.empty, now)))
            : ApiError.fromHttpClientError(error)
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
              Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.fail(switchedProtocols(response.headers, now)))
            )
            : ApiError.fromHttpResponse(response)
        )
      )

    const malformed = (response: HttpClientResponse.HttpClientResponse, detail: string) =>
      new MalformedResponseError({
        status: response.status,
        requestId: requestIdOfResponse(response),
        message: `HTTP ${response.status} from ${response.request.method} ${
          new URL(response.request.url).pathname
        }: the body is not what the endpoint sends: ${detail.slice(0, 500)}`
      })

    const tooLarge = (response: HttpClientResponse.HttpClientResponse, what: "body" | "line") =>
      new ResponseTooLargeError({
        status: response.status,
        requestId: requestIdOfResponse(response),
        maxResponseBytes: settings.maxResponseBytes,
        message: `HTTP ${response.status} from ${response.request.method} ${
          new URL(response.request.url).pathname
        }: ${what === "body" ? "the body" : "a line of the results"} exceeded maxResponseBytes (${settings.maxResponseBytes} bytes); the connection was closed`
      })

    /** A cause's code and message, walking `cause` links: the platform's own message ("Decode error") says nothing. */
    const describeCause = (error: { readonly cause?: unknown; readonly reason?: string }): string => {
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

    const readJson = <A, I>(schema: Schema.Schema<A, I>) => {
      const decode = Decode.json(schema)
      return (
        response: HttpClientResponse.HttpClientResponse
      ): Effect.Effect<A, ApiError.ApiError | MalformedResponseError | ResponseTooLargeError> =>
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

    /** Observes one attempt: a span, the attempt and outcome metrics, the wait before it. */
    const observeAttempt = (endpoint: string, counter: Ref.Ref<{ n: number; lastEnd: Option.Option<number> }>) =>
    <A, E, R>(attempt: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const { lastEnd, n } = yield* Ref.updateAndGet(counter, (c) => ({ ...c, n: c.n + 1 }))
        const wait = Option.map(lastEnd, (end) => now - end)
        yield* Metric.increment(Metric.tagged(attemptsTotal, "endpoint", endpoint))
        return yield* attempt.pipe(
          Effect.onExit((exit) =>
            Effect.gen(function*() {
              const tag = outcomeTag(exit)
              yield* Effect.annotateCurrentSpan({
                "claude.outcome": tag,
                ...Option.match(requestIdOf(exit), {
                  onNone: () => ({}),
                  onSome: (id) => ({ "claude.request_id": id })
                })
              })
              yield* Metric.increment(
                Metric.tagged(Metric.tagged(outcomesTotal, "endpoint", endpoint), "outcome", tag)
              )
              const end = yield* Clock.currentTimeMillis
              yield* Ref.update(counter, (c) => ({ ...c, lastEnd: Option.some(end) }))
            })
          ),
          Effect.withSpan("claude.attempt", {
            attributes: {
              "claude.endpoint": endpoint,
              "claude.attempt": n,
              ...Option.match(wait, { onNone: () => ({}), onSome: (ms) => ({ "claude.wait_ms": ms }) })
            }
          })
        )
      })

    /** A whole non-streaming call: attempts through the breaker, retried by the policy. */
    const call = <A>(
      endpoint: string,
      method: "GET" | "POST" | "DELETE",
      path: string,
      body: Option.Option<string>,
      decode: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<A, CallError>
    ): Effect.Effect<A, CallError> =>
      Effect.gen(function*() {
        const counter = yield* Ref.make({ n: 0, lastEnd: Option.none<number>() })
        const attempt = send(method, path, body).pipe(
          Effect.flatMap(decode),
          Effect.timeoutFail({
            duration: settings.requestTimeout,
            onTimeout: () =>
              ApiError.transportError({
                reason: "Timeout",
                method,
                url: `${settings.baseUrl}${path}`,
                detail: `no complete response within ${Duration.format(settings.requestTimeout)}`
              })
          }),
          Effect.mapError(scrub),
          observeAttempt(endpoint, counter)
        )
        return yield* retried(breaker.protect(attempt))
      }).pipe(Effect.withSpan(`claude.${endpoint}`, { attributes: { "claude.method": method, "claude.path": path } }))

    // -- streams -----------------------------------------------------------------

    /** A pull bounded by the idle timeout: silence longer than it is a `TransportError` (`Idle`). */
    const idle = (method: string, path: string) =>
    <X, Y>(pull: Effect.Effect<X, Option.Option<Y>>): Effect.Effect<X, Option.Option<Y | ApiError.TransportError>> =>
      Effect.timeoutFail(pull, {
        duration: settings.idleTimeout,
        onTimeout: () =>
          Option.some<Y | ApiError.TransportError>(ApiError.transportError({
            reason: "Idle",
            method,
            url: `${settings.baseUrl}${path}`,
            detail: `no event for ${Duration.format(settings.idleTimeout)}`
          }))
      })

    /** The request of a stream: its headers come at once, so waiting for them is bounded by the idle timeout. */
    const sendStream = (method: "GET" | "POST", path: string, body: Option.Option<string>) =>
      send(method, path, body).pipe(
        Effect.timeoutFail({
          duration: settings.idleTimeout,
          onTimeout: () =>
            ApiError.transportError({
              reason: "Idle",
              method,
              url: `${settings.baseUrl}${path}`,
              detail: `no response headers for ${Duration.format(settings.idleTimeout)}`
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
    const resilientStream = <A, E extends CallError | MessageAccumulator.AccumulateError>(
      endpoint: string,
      path: string,
      open: (response: HttpClientResponse.HttpClientResponse) => Stream.Stream<A, E>,
      method: "GET" | "POST",
      body: Option.Option<string>
    ): Stream.Stream<A, E | CallError> =>
      Stream.unwrapScoped(
        Effect.gen(function*() {
          const counter = yield* Ref.make({ n: 0, lastEnd: Option.none<number>() })
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
              const permit = yield* breaker.permit
              const scope = yield* Scope.make()
              const opened = yield* restore(Effect.gen(function*() {
                const response = yield* sendStream(method, path, body)
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
          ).pipe(Effect.mapError(scrub), observeAttempt(endpoint, counter))
          const opened = yield* retried(attempt)
          const rest = Stream.repeatEffectChunkOption(
            bounded(opened.pull).pipe(
              Effect.mapError(Option.map(scrub)),
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
      ).pipe(Stream.withSpan(`claude.${endpoint}`, { attributes: { "claude.method": method, "claude.path": path } }))

    /**
     * A stream consumed whole by the client (`finalMessage`, and `create`
     * past the 10-minute rule): the caller sees nothing until the end, so an
     * attempt is the request and its whole stream, and a retryable failure
     * at any point (an `overloaded_error` event after `message_start`, a
     * connection cut) retries the whole request under the policy, through
     * the breaker, like an HTTP 529 would be.
     */
    const wholeStream = (
      endpoint: string,
      path: string,
      open: (response: HttpClientResponse.HttpClientResponse) => Stream.Stream<MessageStream.MessageStreamEvent, StreamError>,
      body: Option.Option<string>
    ): Effect.Effect<Messages.Message, StreamError> =>
      Effect.gen(function*() {
        const counter = yield* Ref.make({ n: 0, lastEnd: Option.none<number>() })
        const bounded = idle("POST", path)
        const attempt = sendStream("POST", path, body).pipe(
          Effect.flatMap((response) =>
            Stream.run(
              Stream.unwrapScoped(
                Effect.map(Stream.toPull(open(response)), (pull) => Stream.repeatEffectChunkOption(bounded(pull)))
              ),
              MessageAccumulator.sink
            )
          ),
          Effect.mapError(scrub),
          observeAttempt(endpoint, counter)
        )
        return yield* retried(breaker.protect(attempt))
      }).pipe(Effect.withSpan(`claude.${endpoint}`, { attributes: { "claude.method": "POST", "claude.path": path } }))

    // -- encoding and preflight -----------------------------------------------

    // every entry point checks what it is given before anything else, totally:
    // a JavaScript caller may pass null, a number or a throwing Proxy

    const siteOf = (operation: string, method: string, path: string): Preflight.Call => ({
      operation,
      method,
      url: `${settings.baseUrl}${path}`
    })

    const checkedParams = <A, I>(schema: Schema.Schema<A, I>, params: unknown, site: Preflight.Call) =>
      Effect.suspend(() => Preflight.encodeParams(schema, params, site))

    const bodyOf = (wire: unknown, endpoint: Preflight.Endpoint, site: Preflight.Call) =>
      Effect.flatMap(Preflight.toJson(wire, site), (body) => Effect.as(Preflight.checkSize(endpoint, body), body))

    const decodeEvent = Decode.json(MessageStream.MessageStreamEvent)

    /**
     * The typed events of an SSE response. With `hold`, the `message_start`
     * and `ping` events that open a stream are held back and released with
     * the first other event (content, `message_delta`, `message_stop`): the
     * API sends `message_start` first, so an `error` event right after it
     * comes before anything reached the consumer, and is retried.
     */
    const streamEvents = (hold: boolean) => (response: HttpClientResponse.HttpClientResponse) =>
      Stream.suspend((): Stream.Stream<MessageStream.MessageStreamEvent, StreamError> => {
        let events = 0
        let stopped = false
        let lastType: string | undefined
        let held: Array<MessageStream.MessageStreamEvent> | undefined = hold ? [] : undefined
        const url = response.request.url
        const contentType = Headers.get(response.headers, "content-type")
        if (Option.isSome(contentType) && !/^text\/event-stream\b/i.test(contentType.value)) {
          // a JSON (or HTML) 2xx to a stream request: the same request gets
          // the same body, so it is malformed, not a transport failure
          return Stream.unwrap(Effect.as(
            release(response),
            Stream.fail(malformed(
              response,
              `a stream request got ${JSON.stringify(contentType.value.slice(0, 100))} instead of text/event-stream`
            ))
          ))
        }
        return response.stream.pipe(
          Stream.mapError((error) =>
            ApiError.transportError({
              reason: "ResponseBody",
              method: response.request.method,
              url,
              detail: `the connection was cut mid-stream after ${events} event${events === 1 ? "" : "s"}: ${
                describeCause(error)
              }`
            })
          ),
          Stream.decodeText(),
          Sse.events(settings.maxEventSize),
          Stream.mapError((error) =>
            error instanceof Sse.EventTooLarge
              ? malformed(response, `an SSE event exceeded ${error.maxEventSize} characters`)
              : error
          ),
          Stream.mapEffect((event) =>
            Effect.gen(function*() {
              const decoded = yield* Either.match(decodeEvent(event.data), {
                onLeft: (detail) => Effect.fail(malformed(response, `event ${events + 1}: ${detail}`)),
                onRight: Effect.succeed
              })
              events++
              lastType = MessageAccumulator.eventType(decoded)
              if (decoded.type === "error") {
                return yield* Effect.fail(
                  ApiError.fromResponse({
                    status: response.status,
                    headers: response.headers,
                    body: event.data,
                    now: yield* Clock.currentTimeMillis
                  })
                )
              }
              if (decoded.type === "message_stop") stopped = true
              return decoded
            })
          ),
          Stream.takeUntil((event) => event.type === "message_stop"),
          Stream.mapChunks((chunk) => {
            if (held === undefined) return chunk
            const out: Array<MessageStream.MessageStreamEvent> = []
            for (const event of chunk) {
              if (held === undefined) out.push(event)
              else if (event.type === "message_start" || event.type === "ping") held.push(event)
              else {
                out.push(...held, event)
                held = undefined
              }
            }
            return Chunk.unsafeFromArray(out)
          }),
          Stream.concat(
            Stream.suspend((): Stream.Stream<never, ApiError.TransportError | MessageAccumulator.IncompleteStreamError> =>
              stopped
                ? Stream.empty
                : events === 0
                // a body that closes before its first event delivered nothing:
                // a transport failure, retried like a reset before headers
                ? Stream.fail(ApiError.transportError({
                  reason: "ResponseBody",
                  method: response.request.method,
                  url,
                  detail: "the stream ended before its first event"
                }))
                : Stream.fail(MessageAccumulator.incompleteStreamError({
                  events,
                  missing: "message_stop",
                  lastEventType: lastType
                }))
            )
          )
        )
      })

    const messagesPath = "/v1/messages"

    const streamWire = (
      wire: Readonly<Record<string, unknown>>,
      site: Preflight.Call
    ): Stream.Stream<MessageStream.MessageStreamEvent, StreamError> =>
      Stream.unwrap(
        Effect.map(
          bodyOf({ ...wire, stream: true }, "messages", site),
          (body) => resilientStream("messages.stream", messagesPath, streamEvents(true), "POST", Option.some(body))
        )
      )

    /**
     * A stream the client consumes whole (`finalMessage`, and `create` past
     * the 10-minute rule): retried as one attempt, see {@link wholeStream}.
     */
    const wholeWire = (
      wire: Readonly<Record<string, unknown>>,
      site: Preflight.Call
    ): Effect.Effect<Messages.Message, StreamError> =>
      Effect.flatMap(
        bodyOf({ ...wire, stream: true }, "messages", site),
        (body) => wholeStream("messages.stream", messagesPath, streamEvents(false), Option.some(body))
      )

    const stream = (params: Messages.MessageCreateParams): Stream.Stream<MessageStream.MessageStreamEvent, StreamError> => {
      const site = siteOf("messages.stream", "POST", messagesPath)
      return Stream.unwrap(
        Effect.map(checkedParams(Messages.MessageCreateParams, params, site), (wire) => streamWire(wire, site))
      )
    }

    const finalMessage = (params: Messages.MessageCreateParams): Effect.Effect<Messages.Message, StreamError> => {
      const site = siteOf("messages.finalMessage", "POST", messagesPath)
      return Effect.flatMap(checkedParams(Messages.MessageCreateParams, params, site), (wire) => wholeWire(wire, site))
    }

    const create = (
      params: Messages.MessageCreateParams
    ): Effect.Effect<Messages.Message, StreamError | Preflight.LongRequestError> =>
      Effect.gen(function*() {
        const site = siteOf("messages.create", "POST", messagesPath)
        const wire = yield* checkedParams(Messages.MessageCreateParams, params, site)
        const maxTokens = typeof wire.max_tokens === "number" ? wire.max_tokens : 0
        if (Preflight.isLongRequest(maxTokens)) {
          return settings.longRequests === "fail"
            ? yield* Effect.fail(Preflight.longRequestError(maxTokens))
            : yield* wholeWire(wire, site)
        }
        const { stream: _stream, ...rest } = wire
        const body = yield* bodyOf(rest, "messages", site)
        return yield* call("messages.create", "POST", messagesPath, Option.some(body), readJson(Messages.Message))
      })

    const countTokens = (params: Messages.CountTokensParams) =>
      Effect.gen(function*() {
        const path = "/v1/messages/count_tokens"
        const site = siteOf("messages.countTokens", "POST", path)
        const wire = yield* checkedParams(Messages.CountTokensParams, params, site)
        const body = yield* bodyOf(wire, "countTokens", site)
        return yield* call("messages.countTokens", "POST", path, Option.some(body), readJson(Messages.CountTokensResponse))
      })

    /** A batch id goes into the URL path: it must be a plain id, never `..` or empty. */
    const batchPath = (id: string, suffix = ""): Effect.Effect<string, ApiError.ClientRequestError> =>
      // `typeof` first: a JavaScript caller's null, number or Proxy is never read
      typeof id === "string" && batchId.test(id)
        ? Effect.succeed(`/v1/messages/batches/${id}${suffix}`)
        : Effect.fail(
          new ApiError.ClientRequestError({
            reason: "InvalidUrl",
            method: "GET",
            url: `${settings.baseUrl}/v1/messages/batches`,
            message: `A batch id is a string of letters, digits, "_" and "-" (like "msgbatch_01…"); got ${
              typeof id === "string"
                ? describeValue(id.slice(0, 100))
                : id === null || typeof id !== "object" && typeof id !== "function"
                ? String(id)
                : `a value of type ${typeof id}`
            }: nothing was sent`
          })
        )

    const decodeResultLine = Decode.json(MessageBatches.MessageBatchIndividualResponse)

    const batchResults = (response: HttpClientResponse.HttpClientResponse): Stream.Stream<BatchResult, CallError> =>
      response.stream.pipe(
        Stream.mapError((error) =>
          ApiError.transportError({
            reason: "ResponseBody",
            method: response.request.method,
            url: response.request.url,
            detail: `the results broke off: ${describeCause(error)}`
          })
        ),
        Body.lines(settings.maxResponseBytes),
        Stream.mapError((error) => error instanceof Body.TooLarge ? tooLarge(response, "line") : error),
        Stream.filter((line) => line.trim().length > 0),
        Stream.mapEffect((line) =>
          Effect.gen(function*() {
            const decoded = yield* Either.match(decodeResultLine(line), {
              onLeft: (detail) => Effect.fail(malformed(response, detail)),
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
                  error: scrub(ApiError.fromResponse({
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

    const batches: Service["batches"] = {
      create: (params) =>
        Effect.gen(function*() {
          const path = "/v1/messages/batches"
          const site = siteOf("batches.create", "POST", path)
          const wire = yield* checkedParams(MessageBatches.BatchCreateParams, params, site)
          const body = yield* bodyOf(wire, "batches", site)
          return yield* call("batches.create", "POST", path, Option.some(body), readJson(MessageBatches.MessageBatch))
        }),
      retrieve: (id) =>
        Effect.flatMap(
          batchPath(id),
          (path) => call("batches.retrieve", "GET", path, Option.none(), readJson(MessageBatches.MessageBatch))
        ),
      list: (options) =>
        Effect.flatMap(
          Effect.suspend(() =>
            Preflight.listQuery(options, siteOf("batches.list", "GET", "/v1/messages/batches"))
          ),
          (search) =>
            call(
              "batches.list",
              "GET",
              `/v1/messages/batches${search.length > 0 ? `?${search}` : ""}`,
              Option.none(),
              readJson(MessageBatches.MessageBatchList)
            )
        ),
      cancel: (id) =>
        Effect.flatMap(
          batchPath(id, "/cancel"),
          (path) => call("batches.cancel", "POST", path, Option.none(), readJson(MessageBatches.MessageBatch))
        ),
      delete: (id) =>
        Effect.flatMap(
          batchPath(id),
          (path) => call("batches.delete", "DELETE", path, Option.none(), readJson(MessageBatches.DeletedMessageBatch))
        ),
      results: (id) =>
        Stream.unwrap(
          Effect.map(
            batchPath(id, "/results"),
            (path) => resilientStream("batches.results", path, batchResults, "GET", Option.none())
          )
        )
    }

    return {
      messages: { create, stream, finalMessage, countTokens },
      batches
    } satisfies Service
  })

/**
 * The client as a Layer over an `HttpClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<
  Claude,
  InvalidClientOptionsError | InvalidOptionsError,
  HttpClient.HttpClient
> => Layer.scoped(Claude, make(options))

/**
 * The client as a Layer, configured from `Config`: `ANTHROPIC_API_KEY`
 * (required, read as `Redacted`) and `ANTHROPIC_BASE_URL` (optional). Every
 * other option may be given.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Omit<Options, "apiKey" | "baseUrl"> = {}
): Layer.Layer<
  Claude,
  | ConfigError.ConfigError
  | InvalidClientOptionsError
  | InvalidOptionsError,
  HttpClient.HttpClient
> =>
  Layer.scoped(
    Claude,
    Effect.gen(function*() {
      const apiKey = yield* Config.redacted("ANTHROPIC_API_KEY").pipe(
        // Config redacts the message of a secret's error ("<redacted>"), which
        // reads as if a key were there: say that none is set, and how to set one
        Effect.catchIf(ConfigError.isMissingDataOnly, () =>
          Effect.fail(ConfigError.MissingData(
            ["ANTHROPIC_API_KEY"],
            "ANTHROPIC_API_KEY is not set: export ANTHROPIC_API_KEY=<your API key from the Claude Console> before starting, or build the client with Claude.layer({ apiKey: Redacted.make(key) })"
          )))
      )
      // an empty ANTHROPIC_BASE_URL (exported but blank) means "unset"
      const baseUrl = yield* Config.option(Config.string("ANTHROPIC_BASE_URL")).pipe(
        Effect.map(Option.filter((url) => url.trim().length > 0))
      )
      return yield* make({ ...options, apiKey, baseUrl: Option.getOrUndefined(baseUrl) })
    })
  )
