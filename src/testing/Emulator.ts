/**
 * A real HTTP server on a free loopback port that speaks the Claude API's wire
 * format (JSON, SSE, the edge's HTML, rate-limit headers, request ids) and
 * replies as a fault script says. Tests, the lab and users' own suites start
 * it as a scoped Layer; its own times come from `Clock`, so `TestClock`
 * drives it together with the client.
 *
 * Each request is answered in this order:
 *
 * 1. a body over 300 MiB gets the edge's HTML 413;
 * 2. a request that carries no key gets the API's 401 `authentication_error`
 *    ("x-api-key header is required"), and one with the wrong key, when
 *    `apiKey` is set, a 401 ("invalid x-api-key");
 * 3. the fault script decides: any reply it scripts is sent as scripted;
 * 4. an `Ok` reply is first checked as the API checks the request (unless
 *    `validate: false`): invalid params get the API's 400
 *    `invalid_request_error`, a model not in `models` its 404
 *    `not_found_error`;
 * 5. the endpoint is served.
 *
 * It also serves a status page, as Statuspage v2 JSON: `GET
 * /api/v2/status.json` and `/api/v2/components.json` (no key needed, not
 * counted among `requests`), showing the indicator the `status` option (or
 * `setStatus`) sets, for `StatusPage.layer({ url: emulator.statusPageUrl })`.
 *
 * @since 0.1.0
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as Headers from "@effect/platform/Headers"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { NodeInspectSymbol } from "effect/Inspectable"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Http from "node:http"
import type * as CircuitBreaker from "../CircuitBreaker.js"
import * as Claude from "../Claude.js"
import { parseJson } from "../internal/decode.js"
import * as Replies from "../internal/emulator/replies.js"
import * as StatusPageReplies from "../internal/emulator/statusPage.js"
import * as Validation from "../internal/emulator/validation.js"
import * as StatusTable from "../internal/statusTable.js"
import type { InvalidOptionsError } from "../Options.js"
import * as Resilience from "../Resilience.js"
import type * as RetryBudget from "../RetryBudget.js"
import * as StatusPage from "../StatusPage.js"

// ---------------------------------------------------------------------------
// the fault script
// ---------------------------------------------------------------------------

/**
 * Extra response headers a reply may carry (`retry-after`, `retry-after-ms`,
 * `x-should-retry`, rate-limit headers, …). They override the emulator's own.
 *
 * @since 0.1.0
 * @category models
 */
export type ExtraHeaders = Readonly<Record<string, string>>

/**
 * What the emulator does with one request.
 *
 * - `Ok`: serve the endpoint normally (a `Message` as JSON or SSE as the
 *   request asks; batches, token counting). `text`, `content`, `stopReason`,
 *   `stopDetails` shape the message.
 * - `Error`: the API's error envelope for `status`, with its documented
 *   `error.type` unless `type` is given (`type: null` sends the envelope
 *   with no known type). A status with no documented type gets the edge's
 *   HTML page.
 * - `Html`: an HTML page (the edge's 413, a 502 from a proxy).
 * - `Raw`: any status with any body (an empty 520, wrapper-less JSON 413).
 * - `Reset`: the connection is destroyed before any header is sent.
 * - `Stall`: the request is accepted and never answered.
 * - `StreamError`: SSE that sends `afterEvents` events, then `event: error`.
 * - `StreamCut`: SSE that ends after `afterEvents` events, without
 *   `message_stop` (`abrupt`: the socket is destroyed instead of ending).
 * - `StreamStall`: SSE that sends `afterEvents` events, then nothing.
 * - `Delayed`: `reply`, after `delay` (measured by `Clock`).
 *
 * @since 0.1.0
 * @category models
 */
export type Reply = Data.TaggedEnum<{
  Ok: {
    readonly text?: string | undefined
    readonly content?: ReadonlyArray<Readonly<Record<string, unknown>>> | undefined
    readonly stopReason?: string | null | undefined
    readonly stopDetails?: Readonly<Record<string, unknown>> | undefined
    readonly headers?: ExtraHeaders | undefined
  }
  Error: {
    readonly status: number
    readonly type?: string | null | undefined
    readonly message?: string | undefined
    readonly requestIdInBody?: boolean | undefined
    readonly headers?: ExtraHeaders | undefined
  }
  Html: { readonly status: number; readonly html?: string | undefined; readonly headers?: ExtraHeaders | undefined }
  Raw: {
    readonly status: number
    readonly body: string
    readonly contentType?: string | undefined
    readonly headers?: ExtraHeaders | undefined
  }
  Reset: {}
  Stall: {}
  StreamError: {
    readonly afterEvents: number
    readonly type: string
    readonly message?: string | undefined
  }
  StreamCut: { readonly afterEvents: number; readonly abrupt?: boolean | undefined }
  StreamStall: { readonly afterEvents: number }
  Delayed: { readonly delay: Duration.DurationInput; readonly reply: Reply }
}>

/**
 * Constructors and matchers for {@link Reply}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const Reply = Data.taggedEnum<Reply>()

/**
 * One request as the emulator received it. `headers` are `@effect/platform`
 * `Headers` whose credentials (`x-api-key`, `authorization`, cookies) print
 * as `"<redacted>"` wherever the request is rendered: Effect's loggers,
 * `JSON.stringify` (of the request or of its headers) and Node's
 * `util.inspect`. Read `headers["x-api-key"]` only to assert on it.
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordedRequest {
  /** 1-based, in order of arrival since the last reset. */
  readonly attempt: number
  readonly method: string
  readonly path: string
  /** The query string, without its `?` (empty when there is none). */
  readonly query: string
  readonly headers: Headers.Headers
  readonly body: string
  readonly json: Option.Option<unknown>
  /** `Clock` time of arrival, epoch milliseconds. */
  readonly receivedAt: number
}

/**
 * Decides each reply from the request and its 1-based arrival number.
 *
 * @since 0.1.0
 * @category models
 */
export type Script = (request: RecordedRequest) => Reply

/**
 * A script that serves every request normally.
 *
 * @example
 * ```ts
 * import { Emulator } from "claude-resilience/testing"
 *
 * const TestLive = Emulator.layer({ script: Emulator.healthy })
 * ```
 *
 * @since 0.1.0
 * @category scripts
 */
export const healthy: Script = () => Reply.Ok({})

/**
 * A script that replies `replies[n - 1]` to the n-th request and `otherwise`
 * (default: a normal reply) after the list runs out.
 *
 * @example
 * ```ts
 * import { Emulator } from "claude-resilience/testing"
 *
 * const script = Emulator.sequence([
 *   Emulator.Reply.Error({ status: 529 }),
 *   Emulator.Reply.Error({ status: 529 })
 * ]) // then 200
 * ```
 *
 * @since 0.1.0
 * @category scripts
 */
export const sequence = (replies: ReadonlyArray<Reply>, otherwise: Reply = Reply.Ok({})): Script => (request) =>
  replies[request.attempt - 1] ?? otherwise

/**
 * What the emulated status page shows: the page's `status.indicator`, and
 * the API's component (`Claude API (api.anthropic.com)`) as `operational`,
 * `degraded_performance`, `partial_outage` or `major_outage`.
 *
 * @since 0.2.0
 * @category models
 */
export type PageIndicator = StatusPageReplies.PageIndicator

/**
 * Decides each reply of the status page (`/api/v2/status.json`,
 * `/api/v2/components.json`) from the request (its `receivedAt`, its
 * `path`; `attempt` counts the status page's requests): an indicator to
 * serve, or any {@link Reply} (a `Stall` for a page that never answers, a
 * `Raw` for one that sends something else, an `Error` for one that is
 * down).
 *
 * @example
 * ```ts
 * import { Emulator } from "claude-resilience/testing"
 *
 * // a major incident from the 10th second to the 70th
 * const incident: Emulator.StatusScript = (request) =>
 *   request.receivedAt >= 10_000 && request.receivedAt < 70_000 ? "major" : "none"
 * ```
 *
 * @since 0.2.0
 * @category scripts
 */
export type StatusScript = (request: RecordedRequest) => PageIndicator | Reply

/**
 * The edge's HTML page for a 413.
 *
 * @since 0.1.0
 * @category constants
 */
export const edgeHtml413: string = Replies.edgeHtml413

// ---------------------------------------------------------------------------
// the service
// ---------------------------------------------------------------------------

/**
 * How a batch's requests end, per request. Default: every one succeeds.
 *
 * @since 0.1.0
 * @category models
 */
export type BatchOutcome =
  | "succeeded"
  | "canceled"
  | "expired"
  | { readonly errored: { readonly type: string; readonly message?: string | undefined } }

/**
 * How the emulator is started: its fault script, the key it expects, the
 * models it serves, whether it checks requests, its rate limits and how
 * its batches end.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The fault script (default {@link healthy}). */
  readonly script?: Script | undefined
  /**
   * When set, requests must carry this `x-api-key` (or `authorization:
   * Bearer`); others get a 401 `authentication_error` ("invalid x-api-key").
   * A request with no key at all always gets a 401 ("x-api-key header is
   * required").
   */
  readonly apiKey?: string | undefined
  /**
   * The models the emulator serves (default {@link defaultModels}): a request
   * for any other gets the API's 404 `not_found_error` (`"model: <name>"`).
   */
  readonly models?: ReadonlyArray<string> | undefined
  /**
   * Whether a request the script answers with `Ok` is first checked as the
   * API checks it (default `true`): a missing or invalid `model`,
   * `max_tokens` or `messages`, an out-of-range `temperature`, `top_p` or
   * `top_k`, an unknown top-level param ⇒ 400 `invalid_request_error` with
   * the API's message; an unknown model ⇒ 404 `not_found_error`. A batch's
   * envelope is checked when it is created; each request's params when its
   * results are read (an invalid one ends `errored`), as the API validates
   * them asynchronously. `false` serves every request.
   */
  readonly validate?: boolean | undefined
  /** Requests per minute reported in the rate-limit headers (default 50). */
  readonly requestsPerMinute?: number | undefined
  /** Tokens per minute reported in the rate-limit headers (default 100 000). */
  readonly tokensPerMinute?: number | undefined
  /** How long a batch stays `in_progress` after creation (default 0). */
  readonly batchProcessingTime?: Duration.DurationInput | undefined
  /** How each request of a batch ends (default: succeeded). */
  readonly batchOutcome?: ((customId: string, params: unknown) => BatchOutcome) | undefined
  /** The loopback port to listen on (default 0: a free port, which `url` names). */
  readonly port?: number | undefined
  /** Called with each request as it is received, before it is answered (the CLI's `emulate` prints them). */
  readonly onRequest?: ((request: RecordedRequest) => Effect.Effect<void>) | undefined
  /**
   * What the status page shows (default `"none"`): an indicator, or a
   * {@link StatusScript} that decides each of its replies.
   */
  readonly status?: PageIndicator | StatusScript | undefined
}

/**
 * A running emulator: its URL, the requests it received, and control of
 * its script.
 *
 * @since 0.1.0
 * @category models
 */
export interface EmulatorShape {
  /** `http://127.0.0.1:PORT`, the base URL to give a client. */
  readonly url: string
  /** Every request received since the last reset, in order. */
  readonly requests: Effect.Effect<ReadonlyArray<RecordedRequest>>
  /** How many requests were received since the last reset. */
  readonly requestCount: Effect.Effect<number>
  /** Replaces the fault script. */
  readonly setScript: (script: Script) => Effect.Effect<void>
  /** Forgets the recorded requests, the arrival counter and the batches. */
  readonly reset: Effect.Effect<void>
  /** `http://127.0.0.1:PORT` too: the status page's URL, for `StatusPage.layer({ url })`. */
  readonly statusPageUrl: string
  /** Replaces what the status page shows: an indicator or a {@link StatusScript}. */
  readonly setStatus: (status: PageIndicator | StatusScript) => Effect.Effect<void>
  /** The requests the status page received, in order (never among {@link EmulatorShape.requests}). */
  readonly statusPageRequests: Effect.Effect<ReadonlyArray<RecordedRequest>>
}

/**
 * The running emulator, as a service ({@link layer}, {@link layerClaude}).
 *
 * @since 0.1.0
 * @category tags
 */
export class Emulator extends Context.Tag("claude-resilience/testing/Emulator")<Emulator, EmulatorShape>() {}

interface BatchRecord {
  readonly id: string
  readonly requests: ReadonlyArray<{ readonly custom_id: string; readonly params: unknown }>
  readonly createdAt: number
  readonly endsAt: number
  readonly canceledAt: Option.Option<number>
}

interface State {
  // a Chunk: recording a request appends in O(1), never copying the list
  // (a long-running `emulate` records requests for hours)
  readonly requests: Chunk.Chunk<RecordedRequest>
  /** The minute of the latest request (epoch minutes), and how many came in it. */
  readonly minute: number
  readonly minuteCount: number
  readonly batches: ReadonlyMap<string, BatchRecord>
  readonly ids: number
}

const emptyState: State = { requests: Chunk.empty(), minute: -1, minuteCount: 0, batches: new Map(), ids: 0 }

const rfc3339 = (millis: number): string => DateTime.formatIso(DateTime.unsafeMake(millis))

// the API takes the key as `x-api-key`; newer SDKs send `authorization: Bearer`
const presentedKey = (headers: Headers.Headers): string | undefined => {
  const key = headers["x-api-key"]
  if (key !== undefined) return key
  const authorization = headers["authorization"]
  return authorization !== undefined && authorization.startsWith("Bearer ") ? authorization.slice(7) : undefined
}

// ---------------------------------------------------------------------------
// models (the checks of a request are in internal/emulator/validation)
// ---------------------------------------------------------------------------

/**
 * The models the emulator serves by default: those of the official SDK's
 * `Model` type (`@anthropic-ai/sdk` 1.12), less the deprecated
 * `claude-sonnet-4-5` and `claude-sonnet-4-5-20250929` (end of life 2026-11-30).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultModels: ReadonlyArray<string> = [
  "claude-fable-5-2",
  "claude-mythos-5-2",
  "claude-haiku-5-5",
  "claude-sonnet-5-5",
  "claude-fable-5-1",
  "claude-opus-5-5",
  "claude-mythos-5-1",
  "claude-sonnet-5",
  "claude-fable-5",
  "claude-mythos-5",
  "claude-opus-5",
  "claude-opus-4-8",
  "claude-opus-4-7",
  "claude-mythos-preview",
  "claude-opus-4-6",
  "claude-sonnet-4-6",
  "claude-haiku-4-5",
  "claude-haiku-4-5-20251001",
  "claude-opus-4-5",
  "claude-opus-4-5-20251101"
]

// ---------------------------------------------------------------------------
// recorded requests
// ---------------------------------------------------------------------------

const credentialHeaders: ReadonlySet<string> = new Set([
  "x-api-key",
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie"
])

/**
 * A request's headers as a platform `Headers` (which Effect's loggers redact)
 * that also print their credentials as `"<redacted>"` under `JSON.stringify`
 * and Node's `util.inspect`; reading a header still gives its value.
 */
const recordedHeaders = (input: Headers.Input): Headers.Headers => {
  const headers = Headers.fromInput(input)
  const printable = (): Record<string, string> => {
    const out: Record<string, string> = {}
    for (const [name, value] of Object.entries(headers)) out[name] = credentialHeaders.has(name) ? "<redacted>" : value
    return out
  }
  Object.defineProperty(headers, "toJSON", { value: printable, enumerable: false })
  Object.defineProperty(headers, NodeInspectSymbol, { value: printable, enumerable: false })
  return headers
}

const decodeJson = (text: string): Option.Option<unknown> => Either.getRight(parseJson(text))

// ---------------------------------------------------------------------------
// the server
// ---------------------------------------------------------------------------

const messagesPath = "/v1/messages"
const batchPath = /^\/v1\/messages\/batches\/([^/]+)(\/cancel|\/results)?$/

/**
 * Starts the emulator on a free loopback port for the life of the scope.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Emulator } from "claude-resilience/testing"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function*() {
 *     const emulator = yield* Emulator.make({ script: () => Emulator.Reply.Error({ status: 529 }) })
 *     return emulator.url // "http://127.0.0.1:<port>"
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<EmulatorShape, HttpServerError.ServeError, Scope.Scope> =>
  Effect.gen(function*() {
    const script = yield* Ref.make<Script>(options.script ?? healthy)
    const statusScript = yield* Ref.make<PageIndicator | StatusScript>(options.status ?? "none")
    const statusRequests = yield* Ref.make<ReadonlyArray<RecordedRequest>>([])
    const state = yield* Ref.make<State>(emptyState)
    const requestsPerMinute = options.requestsPerMinute ?? 50
    const tokensPerMinute = options.tokensPerMinute ?? 100_000
    const batchProcessing = Duration.toMillis(Duration.decode(options.batchProcessingTime ?? 0))
    const models: ReadonlySet<string> = new Set(options.models ?? defaultModels)
    const validate = options.validate ?? true
    /** How one request of a batch ends: invalid params end `errored`, as the API reports them. */
    const outcomeOf = (r: BatchRecord["requests"][number]): BatchOutcome => {
      const refusal = validate ? Validation.checkParams(r.params, "messages", models) : undefined
      return refusal !== undefined
        ? { errored: { type: refusal.type, message: refusal.message } }
        : options.batchOutcome?.(r.custom_id, r.params) ?? "succeeded"
    }

    const node = Http.createServer()
    // Node stamps every reply with a wall-clock `Date` header; the emulator's
    // times come from `Clock` only, so that TestClock drives all of them
    node.on("request", (_request, response: Http.ServerResponse) => {
      response.sendDate = false
    })
    const server = yield* NodeHttpServer.make(() => node, { host: "127.0.0.1", port: options.port ?? 0 })
    // Stalled requests hold their connections open; close them all first so
    // that closing the server (the finalizer above) never waits on one.
    yield* Effect.addFinalizer(() => Effect.sync(() => node.closeAllConnections()))
    const address = server.address
    const url = address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : "http://127.0.0.1"

    const nextId = (prefix: string) =>
      Ref.modify(state, (s) => [`${prefix}_emu_${String(s.ids + 1).padStart(6, "0")}`, { ...s, ids: s.ids + 1 }] as const)

    const baseHeaders = (now: number, requestId: string, minuteCount: number): Record<string, string> => {
      const minute = Math.floor(now / 60_000)
      const reset = rfc3339((minute + 1) * 60_000)
      return {
        "request-id": requestId,
        "anthropic-ratelimit-requests-limit": String(requestsPerMinute),
        "anthropic-ratelimit-requests-remaining": String(Math.max(0, requestsPerMinute - minuteCount)),
        "anthropic-ratelimit-requests-reset": reset,
        "anthropic-ratelimit-tokens-limit": String(tokensPerMinute),
        "anthropic-ratelimit-tokens-remaining": String(tokensPerMinute),
        "anthropic-ratelimit-tokens-reset": reset,
        "anthropic-ratelimit-input-tokens-limit": String(tokensPerMinute),
        "anthropic-ratelimit-input-tokens-remaining": String(tokensPerMinute),
        "anthropic-ratelimit-input-tokens-reset": reset,
        "anthropic-ratelimit-output-tokens-limit": String(Math.floor(tokensPerMinute / 5)),
        "anthropic-ratelimit-output-tokens-remaining": String(Math.floor(tokensPerMinute / 5)),
        "anthropic-ratelimit-output-tokens-reset": reset
      }
    }

    const batchObject = (batch: BatchRecord, now: number) => {
      const ended = Option.isSome(batch.canceledAt) || now >= batch.endsAt
      const outcomes = batch.requests.map((r) =>
        Option.isSome(batch.canceledAt) && now < batch.endsAt ? "canceled" : outcomeOf(r)
      )
      const count = (kind: string) =>
        ended ? outcomes.filter((o) => (typeof o === "string" ? o : "errored") === kind).length : 0
      return {
        id: batch.id,
        type: "message_batch",
        processing_status: ended
          ? "ended"
          : Option.isSome(batch.canceledAt)
          ? "canceling"
          : "in_progress",
        request_counts: {
          processing: ended ? 0 : batch.requests.length,
          succeeded: count("succeeded"),
          errored: count("errored"),
          canceled: count("canceled"),
          expired: count("expired")
        },
        ended_at: ended ? rfc3339(Option.getOrElse(batch.canceledAt, () => batch.endsAt)) : null,
        created_at: rfc3339(batch.createdAt),
        expires_at: rfc3339(batch.createdAt + 24 * 3600 * 1000),
        archived_at: null,
        cancel_initiated_at: Option.match(batch.canceledAt, { onNone: () => null, onSome: rfc3339 }),
        results_url: ended ? `${url}/v1/messages/batches/${batch.id}/results` : null
      }
    }

    const serveOk = (
      request: RecordedRequest,
      reply: Extract<Reply, { _tag: "Ok" }>,
      headers: Record<string, string>,
      now: number
    ): Effect.Effect<HttpServerResponse.HttpServerResponse> =>
      Effect.gen(function*() {
        const json = Option.getOrUndefined(request.json)
        const notFound = Replies.jsonResponse(404, Replies.errorObject("not_found_error", "Not found", Option.none()), headers)
        const refuse = (refusal: Validation.Refusal) =>
          Replies.jsonResponse(
            refusal.status,
            Replies.errorObject(refusal.type, refusal.message, Option.some(headers["request-id"]!)),
            headers
          )
        const isPost = request.method === "POST"
        const endpoint = isPost && request.path === messagesPath
          ? "messages"
          : isPost && request.path === `${messagesPath}/count_tokens`
          ? "count_tokens"
          : isPost && request.path === `${messagesPath}/batches`
          ? "batches"
          : undefined
        if (endpoint !== undefined && Option.isNone(request.json)) {
          return refuse(Validation.invalidRequest("The request body is not valid JSON."))
        }
        if (validate && endpoint !== undefined) {
          const refusal = endpoint === "batches" ? Validation.checkBatch(json) : Validation.checkParams(json, endpoint, models)
          if (refusal !== undefined) return refuse(refusal)
        }
        if (endpoint === "messages") {
          const message = Replies.buildMessage(yield* nextId("msg"), request, reply)
          return Predicate.isRecord(json) && json.stream === true
            ? Replies.sseResponse(Replies.streamEvents(message), headers)
            : Replies.jsonResponse(200, message, headers)
        }
        if (endpoint === "count_tokens") {
          return Replies.jsonResponse(200, { input_tokens: Replies.estimateTokens(request.body) }, headers)
        }
        if (request.path === `${messagesPath}/batches`) {
          if (request.method === "POST") {
            const requests = Predicate.isRecord(json) && Array.isArray(json.requests) ? json.requests : []
            const id = yield* nextId("msgbatch")
            const batch: BatchRecord = {
              id,
              requests: requests.map((r: unknown) => ({
                custom_id: Predicate.isRecord(r) && typeof r.custom_id === "string" ? r.custom_id : "",
                params: Predicate.isRecord(r) ? r.params : undefined
              })),
              createdAt: now,
              endsAt: now + batchProcessing,
              canceledAt: Option.none()
            }
            yield* Ref.update(state, (s) => ({ ...s, batches: new Map(s.batches).set(id, batch) }))
            return Replies.jsonResponse(200, batchObject(batch, now), headers)
          }
          if (request.method === "GET") {
            const batches = [...(yield* Ref.get(state)).batches.values()].reverse()
            const data = batches.map((b) => batchObject(b, now))
            return Replies.jsonResponse(200, {
              data,
              has_more: false,
              first_id: data[0]?.id ?? null,
              last_id: data[data.length - 1]?.id ?? null
            }, headers)
          }
        }
        const match = batchPath.exec(request.path)
        if (match !== null) {
          const id = match[1]!
          const batch = (yield* Ref.get(state)).batches.get(id)
          if (batch === undefined) return notFound
          const action = match[2]
          if (action === undefined && request.method === "GET") {
            return Replies.jsonResponse(200, batchObject(batch, now), headers)
          }
          if (action === undefined && request.method === "DELETE") {
            yield* Ref.update(state, (s) => {
              const batches = new Map(s.batches)
              batches.delete(id)
              return { ...s, batches }
            })
            return Replies.jsonResponse(200, { id, type: "message_batch_deleted" }, headers)
          }
          if (action === "/cancel" && request.method === "POST") {
            const canceled: BatchRecord = Option.isSome(batch.canceledAt) ? batch : { ...batch, canceledAt: Option.some(now) }
            yield* Ref.update(state, (s) => ({ ...s, batches: new Map(s.batches).set(id, canceled) }))
            return Replies.jsonResponse(200, batchObject(canceled, now), headers)
          }
          if (action === "/results" && request.method === "GET") {
            const object = batchObject(batch, now)
            if (object.processing_status !== "ended") {
              return Replies.jsonResponse(
                400,
                Replies.errorObject("invalid_request_error", `Batch ${id} has not ended yet.`, Option.none()),
                headers
              )
            }
            const lines: Array<string> = []
            for (const r of batch.requests) {
              const outcome: BatchOutcome = Option.isSome(batch.canceledAt) && now < batch.endsAt
                ? "canceled"
                : outcomeOf(r)
              if (outcome === "succeeded") {
                const message = Replies.buildMessage(yield* nextId("msg"), {
                  ...request,
                  body: JSON.stringify(r.params ?? {}),
                  json: Option.some(r.params)
                }, reply)
                lines.push(JSON.stringify({ custom_id: r.custom_id, result: { type: "succeeded", message } }))
              } else if (outcome === "canceled" || outcome === "expired") {
                lines.push(JSON.stringify({ custom_id: r.custom_id, result: { type: outcome } }))
              } else {
                const type = outcome.errored.type
                lines.push(JSON.stringify({
                  custom_id: r.custom_id,
                  result: {
                    type: "errored",
                    error: Replies.errorObject(type, outcome.errored.message ?? Replies.defaultErrorMessage(type), Option.none())
                  }
                }))
              }
            }
            return HttpServerResponse.text(lines.map((line) => `${line}\n`).join(""), {
              status: 200,
              contentType: "application/binary",
              headers: Headers.fromInput(headers)
            })
          }
        }
        return notFound
      })

    const respond = (
      raw: HttpServerRequest.HttpServerRequest,
      request: RecordedRequest,
      reply: Reply,
      headers: Record<string, string>,
      now: number
    ): Effect.Effect<HttpServerResponse.HttpServerResponse> => {
      const withExtra = (extra: ExtraHeaders | undefined) => ({ ...headers, ...extra })
      return Reply.$match(reply, {
        Ok: (ok) => serveOk(request, ok, withExtra(ok.headers), now),
        Error: (error) => {
          const type = error.type === null ? Option.none() : Option.fromNullable(error.type).pipe(
            Option.orElse(() => StatusTable.canonicalErrorType(error.status))
          )
          return Option.match(type, {
            onNone: () =>
              Effect.succeed(
                error.type === null
                  ? HttpServerResponse.text(
                    JSON.stringify({ type: "error", error: { message: error.message ?? "Error" } }),
                    { status: error.status, contentType: "application/json", headers: Headers.fromInput(withExtra(error.headers)) }
                  )
                  : HttpServerResponse.text(Replies.edgeHtml(error.status), {
                    status: error.status,
                    contentType: "text/html",
                    headers: Headers.fromInput(withExtra(error.headers))
                  })
              ),
            onSome: (type) =>
              Effect.succeed(
                HttpServerResponse.text(
                  JSON.stringify(Replies.errorObject(
                    type,
                    error.message ?? Replies.defaultErrorMessage(type),
                    error.requestIdInBody === false ? Option.none() : Option.some(headers["request-id"]!)
                  )),
                  { status: error.status, contentType: "application/json", headers: Headers.fromInput(withExtra(error.headers)) }
                )
              )
          })
        },
        Html: (page) =>
          Effect.succeed(
            HttpServerResponse.text(page.html ?? Replies.edgeHtml(page.status), {
              status: page.status,
              contentType: "text/html",
              headers: Headers.fromInput(withExtra(page.headers))
            })
          ),
        Raw: (r) =>
          Effect.succeed(
            HttpServerResponse.text(r.body, {
              status: r.status,
              contentType: r.contentType ?? "application/json",
              headers: Headers.fromInput(withExtra(r.headers))
            })
          ),
        Reset: () =>
          Effect.sync(() => NodeHttpServerRequest.toIncomingMessage(raw).socket.destroy()).pipe(
            Effect.zipRight(Effect.never)
          ),
        Stall: () => Effect.never,
        StreamError: (e) =>
          Effect.map(nextId("msg"), (id) => {
            const events = Replies.streamEvents(Replies.buildMessage(id, request, Reply.Ok({}))).slice(0, e.afterEvents)
            return Replies.sseResponse([
              ...events,
              {
                event: "error",
                data: { type: "error", error: { type: e.type, message: e.message ?? Replies.defaultErrorMessage(e.type) } }
              }
            ], headers)
          }),
        StreamCut: (cut) =>
          Effect.map(nextId("msg"), (id) => {
            const events = Replies.streamEvents(Replies.buildMessage(id, request, Reply.Ok({}))).slice(0, cut.afterEvents)
            // the events already written must reach the client before the
            // socket goes: an empty write calls back once they are flushed
            const flushed = Effect.async<void>((resume) => {
              NodeHttpServerRequest.toServerResponse(raw).write(new Uint8Array(0), () => resume(Effect.void))
            })
            const tail: Stream.Stream<Uint8Array> = cut.abrupt === true
              ? Stream.fromEffect(
                flushed.pipe(
                  Effect.zipRight(Effect.sync(() => NodeHttpServerRequest.toIncomingMessage(raw).socket.destroy()))
                )
              ).pipe(Stream.flatMap(() => Stream.never))
              : Stream.empty
            return Replies.sseResponse(events, headers, tail)
          }),
        StreamStall: (stall) =>
          Effect.map(nextId("msg"), (id) =>
            Replies.sseResponse(
              Replies.streamEvents(Replies.buildMessage(id, request, Reply.Ok({}))).slice(0, stall.afterEvents),
              headers,
              Stream.never
            )),
        Delayed: (delayed) =>
          Effect.zipRight(Effect.sleep(delayed.delay), respond(raw, request, delayed.reply, headers, now))
      })
    }

    /** The status page: public (no key), its requests kept apart from the API's. */
    const serveStatusPage = (
      raw: HttpServerRequest.HttpServerRequest,
      path: string,
      query: string,
      now: number
    ): Effect.Effect<HttpServerResponse.HttpServerResponse> =>
      Effect.gen(function*() {
        const request = yield* Ref.modify(statusRequests, (all): readonly [RecordedRequest, ReadonlyArray<RecordedRequest>] => {
          const recorded: RecordedRequest = {
            attempt: all.length + 1,
            method: raw.method,
            path,
            query,
            headers: recordedHeaders(raw.headers),
            body: "",
            json: Option.none(),
            receivedAt: now
          }
          return [recorded, [...all, recorded]]
        })
        const current = yield* Ref.get(statusScript)
        const decided = typeof current === "function" ? current(request) : current
        const headers = { "cache-control": "max-age=0" }
        if (typeof decided !== "string") return yield* respond(raw, request, decided, headers, now)
        const known = path === "/api/v2/status.json" || path === "/api/v2/components.json"
        if (raw.method !== "GET" || !known) {
          return HttpServerResponse.text(`{"error":"Not found"}`, { status: 404, contentType: "application/json" })
        }
        const indicator = StatusPageReplies.isPageIndicator(decided) ? decided : "none"
        const text = path === "/api/v2/status.json"
          ? StatusPageReplies.statusJson(indicator, url, now)
          : StatusPageReplies.componentsJson(indicator, url, now)
        return HttpServerResponse.text(text, { status: 200, contentType: "application/json", headers: Headers.fromInput(headers) })
      })

    const app = Effect.gen(function*() {
      const raw = yield* HttpServerRequest.HttpServerRequest
      const [path = raw.url, ...rest] = raw.url.split("?")
      const query = rest.join("?")
      if (path.startsWith("/api/v2/")) return yield* serveStatusPage(raw, path, query, yield* Clock.currentTimeMillis)
      const body = yield* raw.text.pipe(Effect.option)
      const now = yield* Clock.currentTimeMillis
      const recorded = yield* Ref.modify(state, (s): readonly [RecordedRequest, State] => {
        const request: RecordedRequest = {
          attempt: Chunk.size(s.requests) + 1,
          method: raw.method,
          path,
          query,
          // Node's own header object, made a platform `Headers` (which
          // redacts `x-api-key` when logged)
          headers: recordedHeaders(raw.headers),
          body: Option.getOrElse(body, () => ""),
          json: Option.flatMap(body, decodeJson),
          receivedAt: now
        }
        const minute = Math.floor(now / 60_000)
        return [request, {
          ...s,
          requests: Chunk.append(s.requests, request),
          minute,
          minuteCount: minute === s.minute ? s.minuteCount + 1 : 1
        }]
      })
      if (options.onRequest !== undefined) yield* options.onRequest(recorded)
      const minuteCount = (yield* Ref.get(state)).minuteCount
      const headers = baseHeaders(now, `req_emu_${String(recorded.attempt).padStart(6, "0")}`, minuteCount)
      if (Option.isNone(body)) {
        return HttpServerResponse.text(edgeHtml413, { status: 413, contentType: "text/html", headers: Headers.fromInput(headers) })
      }
      // authentication comes first, as at the API: no script answers a
      // request that carries no key, or the wrong one
      const key = presentedKey(raw.headers)
      if (key === undefined || key.length === 0) {
        return yield* respond(raw, recorded, Reply.Error({ status: 401, message: "x-api-key header is required" }), headers, now)
      }
      if (options.apiKey !== undefined && key !== options.apiKey) {
        return yield* respond(raw, recorded, Reply.Error({ status: 401, message: "invalid x-api-key" }), headers, now)
      }
      const reply = (yield* Ref.get(script))(recorded)
      return yield* respond(raw, recorded, reply, headers, now)
    })

    // the platform runs a handler uninterruptibly: a stalled reply (Stall,
    // Reset, a Delayed sleep) must stay interruptible, or its fiber outlives
    // the connection and the server
    yield* server.serve(
      app.pipe(Effect.interruptible, HttpIncomingMessage.withMaxBodySize(Option.some(300 * 1024 * 1024)))
    )

    return {
      url,
      requests: Effect.map(Ref.get(state), (s) => Chunk.toReadonlyArray(s.requests)),
      requestCount: Effect.map(Ref.get(state), (s) => Chunk.size(s.requests)),
      setScript: (next) => Ref.set(script, next),
      reset: Ref.set(state, emptyState),
      statusPageUrl: url,
      setStatus: (next) => Ref.set(statusScript, next),
      statusPageRequests: Ref.get(statusRequests)
    } satisfies EmulatorShape
  })

/**
 * The emulator as a scoped Layer: started on a free loopback port when the
 * Layer is built, stopped (every connection closed) when its scope closes.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Emulator } from "claude-resilience/testing"
 *
 * const requests = Effect.flatMap(Emulator.Emulator, (emulator) => emulator.requests).pipe(
 *   Effect.provide(Emulator.layer({ validate: false }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Emulator, HttpServerError.ServeError> =>
  Layer.scoped(Emulator, make(options))

/**
 * The API key the emulator expects from {@link layerClaude}'s client.
 *
 * @since 0.1.0
 * @category constants
 */
export const testApiKey = "sk-ant-emulator-0123456789abcdef"

/**
 * The emulator and a {@link Claude.Claude} client wired to it over a real
 * loopback socket (`NodeHttpClient`), in one Layer: a test needs nothing
 * else. `client` takes every client option but the key and the URL;
 * `resilience` the options of the `Resilience.layer` the client runs on (a
 * breaker and a retry budget of the test's own, both in the Layer's output,
 * so that a test can read them: `CircuitBreaker.state`, the budget's
 * `balance`); `statusPage`, when given, the options (but the URL) of a
 * `StatusPage.layer` over the emulator's own status page, under the client
 * (the `status` option sets what that page shows).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker, Claude } from "claude-resilience"
 * import { Emulator } from "claude-resilience/testing"
 *
 * const TestLive = Emulator.layerClaude({
 *   script: Emulator.sequence([Emulator.Reply.Error({ status: 529 })]),
 *   resilience: { breaker: { minimumCalls: 1 } }
 * })
 * const program = Effect.gen(function*() {
 *   const claude = yield* Claude.Claude
 *   yield* Effect.either(
 *     claude.messages.create({ model: "claude-sonnet-5-5", max_tokens: 64, messages: [{ role: "user", content: "Hi" }] })
 *   )
 *   return yield* CircuitBreaker.state
 * }).pipe(Effect.provide(TestLive))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClaude = (
  options: Options & {
    readonly client?: Omit<Claude.Options, "apiKey" | "baseUrl"> | undefined
    readonly resilience?: Resilience.Options | undefined
    readonly statusPage?: Omit<StatusPage.Options, "url"> | undefined
  } = {}
): Layer.Layer<
  Emulator | Claude.Claude | CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget,
  HttpServerError.ServeError | InvalidOptionsError
> => {
  const { client: clientOptions, resilience, statusPage, ...emulatorOptions } = options
  const emulator = layer({ apiKey: testApiKey, ...emulatorOptions })
  const client = Layer.unwrapEffect(
    Effect.map(Emulator, (running) => {
      const built = Claude.layer({ ...clientOptions, apiKey: Redacted.make(testApiKey), baseUrl: running.url })
      // the client captures the status page it is built over
      return statusPage === undefined
        ? built
        : Layer.provide(built, StatusPage.layer({ ...statusPage, url: running.statusPageUrl }))
    })
  ).pipe(Layer.provide(NodeHttpClient.layer))
  return Layer.provideMerge(client, Layer.merge(emulator, Resilience.layer(resilience)))
}
