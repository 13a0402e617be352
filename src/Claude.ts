/**
 * The Claude client: Messages (JSON and streaming), Token Counting and
 * Message Batches, every call through the preflight, the circuit breaker and
 * the retry policy.
 *
 * The wiring is in the types: {@link layer} (and {@link make},
 * {@link layerConfig}) needs an `HttpClient`, a `CircuitBreaker` and a
 * `RetryBudget`. Provide the two policy services once per process with
 * `Resilience.layer()`, so that every client of the process shares one
 * breaker and one budget:
 *
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import { Claude, Resilience } from "claude-resilience"
 *
 * const ClaudeLive = Claude.layerConfig().pipe(
 *   Layer.provide(Layer.mergeAll(FetchHttpClient.layer, Resilience.layer()))
 * )
 *
 * const program = Effect.flatMap(Claude.Claude, (claude) =>
 *   claude.messages.create({
 *     model: "claude-sonnet-5-5",
 *     max_tokens: 1024,
 *     messages: [{ role: "user", content: "Hello" }]
 *   })
 * ).pipe(Effect.provide(ClaudeLive))
 * ```
 *
 * Inside, one configured `HttpClient` (`HttpClient.mapRequest` for the base
 * URL and the headers, then your `transformClient`) serves every endpoint,
 * each described once (method, path, request and response Schemas, size
 * limit).
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { identity } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as ApiError from "./ApiError.js"
import type * as CircuitBreaker from "./CircuitBreaker.js"
import * as Call from "./internal/call.js"
import * as Fields from "./internal/clientOptions.js"
import * as Endpoint from "./internal/endpoint.js"
import {
  decodeOptions,
  describeValue,
  duration,
  literals,
  number,
  optional,
  satisfying,
  withDefault
} from "./internal/options.js"
import * as Streams from "./internal/stream.js"
import * as Transport from "./internal/transport.js"
import * as Messages from "./Messages.js"
import * as MessageAccumulator from "./MessageAccumulator.js"
import * as MessageBatches from "./MessageBatches.js"
import * as MessageStream from "./MessageStream.js"
import { InvalidOptionsError, type Problem } from "./Options.js"
import * as Preflight from "./Preflight.js"
import * as RateLimits from "./RateLimits.js"
import type * as RetryBudget from "./RetryBudget.js"
import * as RetryPolicy from "./RetryPolicy.js"

// ---------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------

const OptionsFields = Schema.Struct({
  apiKey: Schema.propertySignature(Fields.ApiKey).annotations({
    missingMessage: () => `must be a Redacted value, got undefined: ${Fields.wrapTheKey}`
  }),
  baseUrl: withDefault(Fields.BaseUrl, () => ({ url: Fields.defaultBaseUrl, basicAuth: Option.none() })),
  apiVersion: withDefault(Fields.Token("2023-06-01"), () => "2023-06-01"),
  beta: withDefault(Fields.Beta, () => []),
  retry: withDefault(Fields.Policy, () => RetryPolicy.defaults),
  requestTimeout: withDefault(duration({ positive: true, finite: true }), () => Duration.minutes(10)),
  streamIdleTimeout: withDefault(duration({ positive: true, finite: true }), () => Duration.seconds(60)),
  longRequests: withDefault(literals("stream", "fail"), () => "stream" as const),
  maxEventSize: withDefault(number({ min: 1, integer: true }), () => 16 * 1024 * 1024),
  maxResponseBytes: withDefault(
    number({ min: 1, max: Fields.maxResponseBytesLimit, integer: true }),
    () => 64 * 1024 * 1024
  ),
  transformClient: optional(satisfying("a function (client: HttpClient) => HttpClient", Fields.isTransform))
})

/**
 * The client's options as a Schema: what a user writes, decoded into
 * {@link Settings}. Every problem is listed, each at its path, in one
 * `Options.InvalidOptionsError` (module `"Claude"`); unknown keys are
 * refused.
 *
 * - `apiKey` (required): a `Redacted<string>` of visible ASCII, sent as
 *   `x-api-key` and never printed (a plain string is refused, unprinted).
 * - `baseUrl`: an `http(s)` URL, default `https://api.anthropic.com`;
 *   trailing slashes dropped. A user name and password in it
 *   (`https://user:pass@gateway.example/`) are taken out of it and sent as
 *   an `authorization: Basic` header instead, redacted like the key.
 * - `apiVersion`: the `anthropic-version` header, default `2023-06-01`.
 * - `beta`: `anthropic-beta` flags, a string or a list, sent comma-separated.
 * - `retry`: the retry policy, `RetryPolicy.Options` (problems at
 *   `retry.maxRetries`, …) or a `RetryPolicy` built by `RetryPolicy.make`.
 *   Default `RetryPolicy.defaults`.
 * - `requestTimeout`: the longest one non-streaming attempt may take, a
 *   finite duration above zero. Default 10 minutes.
 * - `streamIdleTimeout`: the longest silence of a stream (before its
 *   headers, between two events), a finite duration above zero. Default
 *   60 seconds.
 * - `longRequests`: what `messages.create` does with a request whose
 *   `max_tokens` could run past 10 minutes, `"stream"` (default: it is
 *   streamed and accumulated) or `"fail"` (`Preflight.LongRequestError`).
 * - `maxEventSize`: the largest SSE event accepted, in characters, an
 *   integer ≥ 1. Default 16 MiB.
 * - `maxResponseBytes`: the largest response body read (a JSON reply, a line
 *   of a batch's results), an integer from 1 to 256 MiB. Default 64 MiB.
 * - `transformClient`: a function applied once to the client's
 *   `HttpClient`, after the base URL and the headers are set: it sees every
 *   request complete (add a header, a proxy's middleware, tracing).
 *
 * The circuit breaker and the retry budget are not options: they are
 * services, provided once per process by `Resilience.layer()`.
 *
 * @example
 * ```ts
 * import { Either, Redacted } from "effect"
 * import { Claude } from "claude-resilience"
 *
 * const result = Claude.settings({ apiKey: Redacted.make("sk-ant-…"), requestTimeout: -1, retry: { maxRetries: 1.5 } })
 * if (Either.isLeft(result)) {
 *   // [ "retry.maxRetries", "requestTimeout" ]
 *   console.log(result.left.problems.map((problem) => problem.path))
 * }
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export const Options: Schema.Schema<Settings, typeof OptionsFields.Encoded> = Schema.transform(
  OptionsFields,
  Schema.declare((u: unknown): u is Settings => Predicate.isRecord(u), { identifier: "Claude.Settings" }),
  {
    strict: false,
    decode: ({ baseUrl, transformClient, ...rest }): Settings => ({
      ...rest,
      baseUrl: baseUrl.url,
      basicAuth: baseUrl.basicAuth,
      transformClient: transformClient ?? identity
    }),
    encode: ({ basicAuth, baseUrl, ...rest }) => ({ ...rest, baseUrl: { url: baseUrl, basicAuth } })
  }
)

/**
 * What {@link make} and {@link layer} take: `apiKey`, and every other
 * option optional (see {@link Options} for each one's meaning, range and
 * default).
 *
 * @example
 * ```ts
 * import { Redacted } from "effect"
 * import { Claude } from "claude-resilience"
 *
 * declare const key: string
 *
 * const options: Claude.Options = {
 *   apiKey: Redacted.make(key),
 *   beta: ["token-efficient-tools-2025-02-19"],
 *   retry: { maxRetries: 3, maxElapsed: "30 seconds" },
 *   streamIdleTimeout: "2 minutes"
 * }
 * ```
 *
 * @since 0.1.0
 * @category options
 */
export interface Options {
  readonly apiKey: Redacted.Redacted<string>
  readonly baseUrl?: string | undefined
  readonly apiVersion?: string | undefined
  readonly beta?: string | ReadonlyArray<string> | undefined
  readonly retry?: RetryPolicy.Options | RetryPolicy.RetryPolicy | undefined
  readonly requestTimeout?: Duration.DurationInput | undefined
  readonly streamIdleTimeout?: Duration.DurationInput | undefined
  readonly longRequests?: "stream" | "fail" | undefined
  readonly maxEventSize?: number | undefined
  readonly maxResponseBytes?: number | undefined
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

/**
 * The user name and password a base URL carried, sent as `authorization:
 * Basic` (the password redacted).
 *
 * @example
 * ```ts
 * import { Either, Option, Redacted } from "effect"
 * import { Claude } from "claude-resilience"
 *
 * const settings = Either.getOrThrow(
 *   Claude.settings({ apiKey: Redacted.make("sk-ant-…"), baseUrl: "https://me:pa55@gateway.example" })
 * )
 * const user = Option.map(settings.basicAuth, (auth: Claude.BasicAuth) => auth.user) // Some("me")
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export interface BasicAuth {
  readonly user: string
  readonly password: Redacted.Redacted<string>
}

/**
 * What the client runs on: {@link Options} checked, defaults filled in,
 * durations as `Duration`s, the retry policy built, and the base URL split
 * into the URL without credentials (`baseUrl`) and its credentials
 * (`basicAuth`).
 *
 * @example
 * ```ts
 * import { Duration, Either, Redacted } from "effect"
 * import { Claude } from "claude-resilience"
 *
 * const settings: Claude.Settings = Either.getOrThrow(Claude.settings({ apiKey: Redacted.make("sk-ant-…") }))
 * Duration.toSeconds(settings.streamIdleTimeout) // 60
 * settings.baseUrl // "https://api.anthropic.com"
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export interface Settings {
  readonly apiKey: Redacted.Redacted<string>
  /** Without credentials (they are in {@link Settings.basicAuth}) and without a trailing slash. */
  readonly baseUrl: string
  readonly basicAuth: Option.Option<BasicAuth>
  readonly apiVersion: string
  readonly beta: ReadonlyArray<string>
  readonly retry: RetryPolicy.RetryPolicy
  readonly requestTimeout: Duration.Duration
  readonly streamIdleTimeout: Duration.Duration
  readonly longRequests: "stream" | "fail"
  readonly maxEventSize: number
  readonly maxResponseBytes: number
  /** `identity` when none was given. */
  readonly transformClient: (client: HttpClient.HttpClient) => HttpClient.HttpClient
}

const decodeSettings = decodeOptions("Claude", Options)

/** The options of the breaker and the budget moved to `Resilience.layer`: say so. */
const movedToResilience = (problem: Problem): Problem =>
  (problem.path === "breaker" || problem.path === "budget") && problem.message.startsWith("is not an option")
    ? {
      path: problem.path,
      message: `is not an option of the client: the circuit breaker and the retry budget are services shared by every client of the process; provide Resilience.layer({ ${problem.path}: … }) once, under the client`
    }
    : problem

/**
 * Validates {@link Options} into {@link Settings}, listing every problem in
 * one `Options.InvalidOptionsError` (module `"Claude"`), each at its path:
 * options that are not an object, an unknown key, a key that is not a
 * clean `Redacted` string (never printed), a base URL that does not parse or
 * is not `http(s)` (its credentials never printed), a `beta` flag or
 * `apiVersion` that is not a header-safe token, a timeout that is not a
 * finite duration above zero, an unknown `longRequests`, a `maxEventSize`
 * or `maxResponseBytes` out of range, bad `retry` options (at
 * `retry.maxRetries`, …), a `transformClient` that is not a function, a
 * getter that throws. Never throws, whatever it is given.
 *
 * @example
 * ```ts
 * import { Either, Redacted } from "effect"
 * import { Claude } from "claude-resilience"
 *
 * const result = Claude.settings({ apiKey: Redacted.make("sk-ant-…"), longRequests: "fail" })
 * const ok = Either.isRight(result) // true
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const settings = (options: Options): Either.Either<Settings, InvalidOptionsError> =>
  typeof options === "string"
    // perhaps the key itself: never printed
    ? Either.left(InvalidOptionsError.of("Claude", [{
      path: "",
      message: "options must be an object, got a string (not shown: it may be the key); pass { apiKey: Redacted.make(key) }"
    }]))
    : Either.mapLeft(
      decodeSettings(options),
      (error) => InvalidOptionsError.of("Claude", error.problems.map(movedToResilience))
    )

// ---------------------------------------------------------------------------
// errors
// ---------------------------------------------------------------------------

/**
 * A 2xx response whose body is not what the endpoint sends (not JSON, JSON
 * of the wrong shape, an SSE event that does not decode or is over
 * `maxEventSize`, a JSON reply to a stream request). Not retried: the same
 * request gets the same body. Its message names what was wrong (the path to
 * the first bad field, the kind and size of what was there), never the
 * value, in at most 500 characters.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { Claude } from "claude-resilience"
 *
 * declare const call: Effect.Effect<string, Claude.CallError>
 *
 * const handled = call.pipe(
 *   Effect.catchTag("MalformedResponseError", (error) => Effect.succeed(`a bad reply (${error.status})`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const MalformedResponseError: typeof Transport.MalformedResponseError = Transport.MalformedResponseError

/**
 * @example
 * ```ts
 * import { Claude } from "claude-resilience"
 *
 * const isMalformed = (u: unknown): u is Claude.MalformedResponseError => u instanceof Claude.MalformedResponseError
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type MalformedResponseError = Transport.MalformedResponseError

/**
 * A 2xx response whose body (or one line of a batch's results) is larger
 * than the client's `maxResponseBytes`. The read stopped at the limit and
 * the connection was closed; memory stays bounded by the limit. Not retried.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { Claude } from "claude-resilience"
 *
 * declare const call: Effect.Effect<string, Claude.CallError>
 *
 * const handled = call.pipe(
 *   Effect.catchTag("ResponseTooLargeError", (error) => Effect.succeed(`over ${error.maxResponseBytes} bytes`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const ResponseTooLargeError: typeof Transport.ResponseTooLargeError = Transport.ResponseTooLargeError

/**
 * @example
 * ```ts
 * import { Claude } from "claude-resilience"
 *
 * const limitOf = (error: Claude.ResponseTooLargeError) => error.maxResponseBytes
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type ResponseTooLargeError = Transport.ResponseTooLargeError

/**
 * A 3xx reply. The client never follows a redirect: the request carries the
 * API key, and a redirect can point anywhere. `location` is the target's
 * origin only (scheme, host, port; never a path or credentials). Not
 * retried.
 *
 * @example
 * ```ts
 * import { Effect, Option } from "effect"
 * import type { Claude } from "claude-resilience"
 *
 * declare const call: Effect.Effect<string, Claude.CallError>
 *
 * const handled = call.pipe(
 *   Effect.catchTag("RedirectError", (error) =>
 *     Effect.succeed(`redirected to ${Option.getOrElse(error.location, () => "?")}: check baseUrl`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const RedirectError: typeof Transport.RedirectError = Transport.RedirectError

/**
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { Claude } from "claude-resilience"
 *
 * const target = (error: Claude.RedirectError) => Option.getOrUndefined(error.location)
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type RedirectError = Transport.RedirectError

/**
 * Why a non-streaming call failed.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { Claude } from "claude-resilience"
 *
 * declare const call: Effect.Effect<string, Claude.CallError>
 *
 * const tags = call.pipe(Effect.mapError((error: Claude.CallError) => error._tag))
 * ```
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
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { Claude } from "claude-resilience"
 *
 * declare const answer: Effect.Effect<string, Claude.StreamError>
 *
 * const partial = answer.pipe(Effect.catchTag("IncompleteStreamError", (error) => Effect.succeed(`cut after ${error.events} events`)))
 * ```
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
 * @example
 * ```ts
 * import type { Claude } from "claude-resilience"
 *
 * const summary = (result: Claude.BatchResult): string =>
 *   result._tag === "Errored" ? `${result.customId}: ${result.error._tag}` : `${result.customId}: ${result._tag}`
 * ```
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
 * Paging for `batches.list`: `limit` an integer from 1 to 1000, `afterId`
 * and `beforeId` batch ids.
 *
 * @example
 * ```ts
 * import type { Claude } from "claude-resilience"
 *
 * const nextPage: Claude.ListOptions = { limit: 20, afterId: "msgbatch_01" }
 * ```
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
 * The client's methods. Each call ends in exactly one success or exactly
 * one typed failure.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { Claude, Messages } from "claude-resilience"
 *
 * declare const claude: Claude.Service
 * declare const params: Messages.MessageCreateParams
 *
 * const tokens = Effect.map(claude.messages.countTokens(params), (count) => count.input_tokens)
 * ```
 *
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
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import { Claude, Resilience } from "claude-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const claude = yield* Claude.Claude
 *   const message = yield* claude.messages.create({
 *     model: "claude-sonnet-5-5",
 *     max_tokens: 1024,
 *     messages: [{ role: "user", content: "Hello" }]
 *   })
 *   return message.content
 * }).pipe(
 *   Effect.provide(Claude.layerConfig()),
 *   Effect.provide(Layer.mergeAll(FetchHttpClient.layer, Resilience.layer()))
 * )
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
 * Attempts sent, by endpoint (`claude_resilience_attempts_total`, tag
 * `endpoint`: `messages.create`, `messages.stream`, …).
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { Claude } from "claude-resilience"
 *
 * const attempts = Metric.value(Metric.tagged(Claude.attemptsTotal, "endpoint", "messages.create"))
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const attemptsTotal = Call.attemptsTotal

/**
 * Attempt outcomes, by endpoint and outcome (`claude_resilience_outcomes_total`,
 * tags `endpoint` and `outcome`: `Success` or the error's tag).
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { Claude } from "claude-resilience"
 *
 * const overloaded = Metric.value(
 *   Metric.tagged(Metric.tagged(Claude.outcomesTotal, "endpoint", "messages.create"), "outcome", "OverloadedError")
 * )
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const outcomesTotal = Call.outcomesTotal

// ---------------------------------------------------------------------------
// construction
// ---------------------------------------------------------------------------

const batchesPath = "/v1/messages/batches"

/** Every endpoint of the client, described once. */
const endpoints = {
  create: {
    name: "messages.create",
    method: "POST",
    path: "/v1/messages",
    request: Messages.MessageCreateParams,
    limit: "messages",
    response: Messages.Message
  },
  countTokens: {
    name: "messages.countTokens",
    method: "POST",
    path: "/v1/messages/count_tokens",
    request: Messages.CountTokensParams,
    limit: "countTokens",
    response: Messages.CountTokensResponse
  },
  batchCreate: {
    name: "batches.create",
    method: "POST",
    path: batchesPath,
    request: MessageBatches.BatchCreateParams,
    limit: "batches",
    response: MessageBatches.MessageBatch
  },
  batchRetrieve: { name: "batches.retrieve", method: "GET", path: batchesPath, response: MessageBatches.MessageBatch },
  batchList: { name: "batches.list", method: "GET", path: batchesPath, response: MessageBatches.MessageBatchList },
  batchCancel: { name: "batches.cancel", method: "POST", path: batchesPath, response: MessageBatches.MessageBatch },
  batchDelete: { name: "batches.delete", method: "DELETE", path: batchesPath, response: MessageBatches.DeletedMessageBatch }
} as const

const batchId = /^[A-Za-z0-9_-]{1,256}$/

/**
 * Builds the client from its options and the three services its type
 * names: the `HttpClient` it sends with, and the `CircuitBreaker` and
 * `RetryBudget` its calls share with every other client of the process
 * (provide `Resilience.layer()` once). Fails with
 * `Options.InvalidOptionsError` (module `"Claude"`) for bad options, before
 * anything is sent.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer, Redacted } from "effect"
 * import { Claude, Resilience } from "claude-resilience"
 *
 * declare const key: string
 *
 * const program = Effect.gen(function*() {
 *   const claude = yield* Claude.make({ apiKey: Redacted.make(key), requestTimeout: "2 minutes" })
 *   return yield* claude.batches.list({ limit: 10 })
 * }).pipe(Effect.provide(Layer.mergeAll(FetchHttpClient.layer, Resilience.layer())))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<
  Service,
  InvalidOptionsError,
  HttpClient.HttpClient | CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget
> =>
  Effect.gen(function*() {
    const checked = yield* settings(options)
    const client = yield* Transport.configure(checked, yield* HttpClient.HttpClient)
    // the RequestInit in the context the client is built in (FetchHttpClient
    // only): kept, with `redirect: "manual"` forced over it, for each request
    const transport = Transport.make(checked, client, yield* Effect.serviceOption(FetchHttpClient.RequestInit))
    const resilient = yield* Call.resilient(checked.retry)
    const calls = Endpoint.endpoints(transport, resilient)
    const streams = Streams.make(transport, resilient)
    const { create: createEndpoint } = endpoints

    /**
     * The body of a stream request: the params with `stream: true`, checked
     * and sized, and the call's cost for the rate limiter (estimated from
     * the params, see `RateLimits.estimate`).
     */
    const streamBody = (params: Messages.MessageCreateParams, operation: string) => {
      const site = calls.site(createEndpoint, operation)
      return Effect.flatMap(
        calls.encode(createEndpoint, params, site),
        (wire) =>
          Effect.map(
            calls.body(createEndpoint, { ...wire, stream: true }, site),
            (body) => ({ body, cost: RateLimits.estimate(wire) })
          )
      )
    }

    /** A stream the client consumes whole, retried as one attempt. */
    const whole = ({ body, cost }: { readonly body: string; readonly cost: RateLimits.Cost }) =>
      streams.whole("messages.stream", createEndpoint.path, body, streams.events(false), cost)

    const create = (
      params: Messages.MessageCreateParams
    ): Effect.Effect<Messages.Message, StreamError | Preflight.LongRequestError> =>
      Effect.gen(function*() {
        const site = calls.site(createEndpoint)
        const wire = yield* calls.encode(createEndpoint, params, site)
        const maxTokens = typeof wire.max_tokens === "number" ? wire.max_tokens : 0
        if (Preflight.isLongRequest(maxTokens)) {
          return checked.longRequests === "fail"
            ? yield* Effect.fail(Preflight.longRequestError(maxTokens))
            : yield* Effect.flatMap(
              calls.body(createEndpoint, { ...wire, stream: true }, site),
              (body) => whole({ body, cost: RateLimits.estimate(wire) })
            )
        }
        const { stream: _stream, ...rest } = wire
        return yield* calls.call(createEndpoint, {
          body: yield* calls.body(createEndpoint, rest, site),
          cost: RateLimits.estimate(rest)
        })
      })

    /** A batch id goes into the URL path: it must be a plain id, never `..` or empty. */
    const batchPath = (id: string, suffix = ""): Effect.Effect<string, ApiError.ClientRequestError> =>
      // `typeof` first: a JavaScript caller's null, number or Proxy is never read
      typeof id === "string" && batchId.test(id)
        ? Effect.succeed(`${batchesPath}/${id}${suffix}`)
        : Effect.fail(
          new ApiError.ClientRequestError({
            reason: "InvalidUrl",
            method: "GET",
            url: transport.url(batchesPath),
            message: `A batch id is a string of letters, digits, "_" and "-" (like "msgbatch_01…"); got ${
              typeof id === "string"
                ? describeValue(id.slice(0, 100))
                : id === null || typeof id !== "object" && typeof id !== "function"
                ? String(id)
                : `a value of type ${typeof id}`
            }: nothing was sent`
          })
        )

    const byId = <A>(endpoint: Endpoint.Endpoint<A>, suffix = "") => (id: string) =>
      Effect.flatMap(batchPath(id, suffix), (path) => calls.call(endpoint, { path }))

    return {
      messages: {
        create,
        stream: (params) =>
          Stream.unwrap(Effect.map(
            streamBody(params, "messages.stream"),
            ({ body, cost }) =>
              streams.resilient(
                "messages.stream",
                "POST",
                createEndpoint.path,
                Option.some(body),
                streams.events(true),
                cost
              )
          )),
        finalMessage: (params) => Effect.flatMap(streamBody(params, "messages.finalMessage"), whole),
        countTokens: (params) => calls.run(endpoints.countTokens, params)
      },
      batches: {
        create: (params) => calls.run(endpoints.batchCreate, params),
        retrieve: byId(endpoints.batchRetrieve),
        list: (options) =>
          Effect.flatMap(
            Effect.suspend(() => Preflight.listQuery(options, calls.site(endpoints.batchList))),
            (search) => calls.call(endpoints.batchList, { path: `${batchesPath}${search.length > 0 ? `?${search}` : ""}` })
          ),
        cancel: byId(endpoints.batchCancel, "/cancel"),
        delete: byId(endpoints.batchDelete),
        results: (id) =>
          Stream.unwrap(Effect.map(
            batchPath(id, "/results"),
            (path) => streams.resilient("batches.results", "GET", path, Option.none(), streams.results)
          ))
      }
    } satisfies Service
  })

/**
 * The client as a Layer. Its type names what it needs: an `HttpClient`
 * (`NodeHttpClient.layer`, `FetchHttpClient.layer`, …) and the
 * `CircuitBreaker` and `RetryBudget` that every client of the process
 * shares, which `Resilience.layer()` provides.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Layer, Redacted } from "effect"
 * import { Claude, Resilience } from "claude-resilience"
 *
 * declare const key: string
 *
 * const ClaudeLive = Claude.layer({ apiKey: Redacted.make(key), retry: { maxRetries: 3 } }).pipe(
 *   Layer.provide(Layer.mergeAll(FetchHttpClient.layer, Resilience.layer()))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<
  Claude,
  InvalidOptionsError,
  HttpClient.HttpClient | CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget
> => Layer.effect(Claude, make(options))

const isPlainObject = (u: unknown): u is Record<string, unknown> =>
  Fields.safely(() =>
    typeof u === "object" && u !== null && !Array.isArray(u) &&
    [Object.prototype, null].includes(Object.getPrototypeOf(u))
  )

/**
 * `Config.unwrap`, total: a `Config` is read, a plain object is read key by
 * key (`Config.all` of an empty record throws: `{}` is read as `{}`), and
 * any other value is taken as it is (a JavaScript caller's plain value,
 * `null`, a function): the options' own check judges it.
 */
const unwrap = (wrapped: unknown, depth = 0): Config.Config<unknown> => {
  if (Config.isConfig(wrapped)) return wrapped
  if (depth >= 3 || !isPlainObject(wrapped)) return Config.succeed(wrapped)
  const keys = Object.keys(wrapped)
  return keys.length === 0
    ? Config.succeed({})
    : Config.all(Object.fromEntries(keys.map((key) => [key, unwrap(wrapped[key], depth + 1)])))
}

const apiKeyConfig = Effect.catchIf(
  Config.redacted("ANTHROPIC_API_KEY"),
  ConfigError.isMissingDataOnly,
  // Config redacts the message of a secret's error ("<redacted>"), which
  // reads as if a key were there: say that none is set, and how to set one
  () =>
    Effect.fail(ConfigError.MissingData(
      ["ANTHROPIC_API_KEY"],
      "ANTHROPIC_API_KEY is not set: export ANTHROPIC_API_KEY=<your API key from the Claude Console> before starting, or build the client with Claude.layer({ apiKey: Redacted.make(key) })"
    ))
)

// an empty ANTHROPIC_BASE_URL (exported but blank) means "unset"
const baseUrlConfig = Config.option(Config.string("ANTHROPIC_BASE_URL")).pipe(
  Config.map((url) => Option.getOrUndefined(Option.filter(url, (u) => u.trim().length > 0)))
)

/**
 * Reads the options from `Config`: each option given as a `Config` (or a
 * nested record of them); `apiKey` and `baseUrl`, when not given (or read
 * as `undefined`), from `ANTHROPIC_API_KEY` and `ANTHROPIC_BASE_URL`.
 */
const readConfig = (options: unknown): Effect.Effect<unknown, ConfigError.ConfigError | InvalidOptionsError> =>
  Effect.suspend((): Effect.Effect<unknown, ConfigError.ConfigError | InvalidOptionsError> => {
    let config: Config.Config<unknown>
    try {
      config = unwrap(options === undefined ? {} : options)
    } catch {
      return Effect.fail(
        InvalidOptionsError.of("Claude", [{ path: "", message: "could not be read (a getter or a Proxy threw)" }])
      )
    }
    return Effect.gen(function*() {
      const loaded = yield* config
      if (!isPlainObject(loaded)) return loaded
      return {
        ...loaded,
        apiKey: loaded.apiKey === undefined ? yield* apiKeyConfig : loaded.apiKey,
        baseUrl: loaded.baseUrl === undefined ? yield* baseUrlConfig : loaded.baseUrl
      }
    })
  })

/**
 * The client as a Layer configured from `Config`, as `@effect/ai-anthropic`'s
 * `AnthropicClient.layerConfig` is: each option may be given as a `Config`
 * (`Config.Config.Wrap<Options>`). `apiKey` defaults to
 * `Config.redacted("ANTHROPIC_API_KEY")` (a missing one is a `ConfigError`
 * that says how to set it) and `baseUrl` to the optional
 * `ANTHROPIC_BASE_URL` (blank means unset). Needs what {@link layer} needs.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Config, Layer } from "effect"
 * import { Claude, Resilience } from "claude-resilience"
 *
 * // ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL, and two options of our own
 * const ClaudeLive = Claude.layerConfig({
 *   retry: { maxRetries: Config.integer("CLAUDE_MAX_RETRIES").pipe(Config.withDefault(5)) },
 *   requestTimeout: Config.duration("CLAUDE_TIMEOUT").pipe(Config.withDefault("2 minutes"))
 * }).pipe(Layer.provide(Layer.mergeAll(FetchHttpClient.layer, Resilience.layer())))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options?: Config.Config.Wrap<Partial<Options>>
): Layer.Layer<
  Claude,
  ConfigError.ConfigError | InvalidOptionsError,
  HttpClient.HttpClient | CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget
> => Layer.effect(Claude, Effect.flatMap(readConfig(options), (loaded) => make(loaded as Options)))
