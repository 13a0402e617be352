/**
 * The `anthropic-ratelimit-*` response headers as a typed {@link Snapshot},
 * and a {@link Limiter} that acts on them: before a call is sent, it admits
 * the call or makes it wait (through `Clock`) until the reset instant of the
 * quota that is spent, instead of letting it collect a 429.
 *
 * The limiter learns from every response: each snapshot (requests, input
 * tokens, output tokens, tokens: limit, remaining, reset) is fed to it with
 * {@link Service.observe}, and a 429's `retry-after` blocks every call of
 * the organisation until that instant, from any fiber. A call's cost is
 * estimated before it is sent ({@link estimate}: the request's JSON bytes
 * divided by 4, plus a configurable headroom; `countTokens` is never
 * called). A call that would have to wait longer than it may (`maxWait`,
 * the call's wall-clock limit) fails at once with the `RateLimitError` it
 * would have met, and nothing is sent.
 *
 * One limiter per organisation: {@link layerMemory} for one process,
 * {@link layerRedis} for a fleet of processes sharing the organisation's
 * limits through Redis.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { type ApiError, RateLimits } from "claude-resilience"
 *
 * declare const params: { readonly model: string; readonly max_tokens: number; readonly messages: ReadonlyArray<unknown> }
 * declare const send: Effect.Effect<string, ApiError.ApiError>
 *
 * const program = send.pipe(
 *   RateLimits.limit(RateLimits.estimate(params), { maxWait: "15 seconds" }),
 *   Effect.provide(RateLimits.layerMemory())
 * )
 * ```
 *
 * Why not `@effect/experimental`'s `RateLimiter`: its model is a limit the
 * client configures (`limit` calls per `window`) and counts against by
 * itself, with the delay computed from its own refill rate. The Claude API
 * tells the client instead: what is left and the instant it is replenished,
 * on every response, for four quotas at once, and a 429 gives an instant
 * before which nothing may be sent. That store has no way to be told a
 * remaining count or a reset instant, nor to be corrected downwards when
 * another process spent the quota, and its Redis store keeps its keys with
 * no expiry and times its fixed window with Redis's own clock. So the
 * limiter keeps its own state (a pure machine over the snapshots, in a
 * {@link Store}: a `Ref`, or one JSON value in Redis updated by
 * compare-and-set) and waits with `Effect.sleep`, so that `TestClock`
 * drives every wait.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import { dual } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as ApiError from "./ApiError.js"
import {
  decodeOptions,
  duration,
  type Input,
  number,
  optional,
  satisfying,
  withDefault
} from "./internal/options.js"
import { makeMemory, type Store as StoreOf } from "./internal/store.js"
import * as machine from "./internal/rateLimits/machine.js"
import type { Snapshot } from "./internal/rateLimits/snapshot.js"
import { decodeRedisOptions, jsonCodec, type RedisStoreOptions, sharedStore } from "./internal/redis/shared.js"
import type { InvalidOptionsError } from "./Options.js"
import * as Redis from "./Redis.js"

export { empty, headerPrefixes, parse, Quota, Snapshot } from "./internal/rateLimits/snapshot.js"

// ---------------------------------------------------------------------------
// cost
// ---------------------------------------------------------------------------

/**
 * What one call is expected to spend of each quota: one request, its input
 * tokens (an estimate), its output tokens (`max_tokens`, as the API itself
 * counts a request against the output-token limit when it starts), and
 * tokens (input and output together, the combined quota).
 *
 * @example
 * ```ts
 * import { RateLimits } from "claude-resilience"
 *
 * const cost: RateLimits.Cost = { requests: 1, inputTokens: 1_200, outputTokens: 1_024, tokens: 2_224 }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export type Cost = machine.Cost

/** An image or a document sent as base64 counts as this many input tokens, whatever its size. */
const BASE64_BLOCK_TOKENS = 1_600

/** Input tokens are estimated as a quarter of the request's JSON bytes. */
const BYTES_PER_TOKEN = 4

const utf8Length = (text: string): number => {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x80) bytes += 1
    else if (code < 0x800) bytes += 2
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      // a surrogate pair: one 4-byte character
      bytes += 4
      i++
    } else bytes += 3
  }
  return bytes
}

/**
 * Estimates the cost of a Messages request from its params, without
 * calling the API: `countTokens` is never called.
 *
 * - input tokens: the UTF-8 bytes of the params' JSON divided by 4 (about
 *   four bytes of English text per token; the JSON's keys and quotes make
 *   it an overestimate for plain text, and the limiter's `headroom` is
 *   added on top), where a base64 image or document counts as 1,600 tokens
 *   instead of its bytes (an image of about 1.15 megapixels, the largest
 *   the API does not scale down, is about 1,600 tokens);
 * - output tokens: `max_tokens` (0 when absent);
 * - tokens: the two together; requests: 1.
 *
 * Total: params that cannot be read as JSON (a cycle, a BigInt) estimate
 * to 0 input tokens.
 *
 * @example
 * ```ts
 * import { RateLimits } from "claude-resilience"
 *
 * const cost = RateLimits.estimate({
 *   model: "claude-sonnet-4-5",
 *   max_tokens: 1024,
 *   messages: [{ role: "user", content: "Hello, Claude" }]
 * })
 * cost.outputTokens // 1024
 * ```
 *
 * @since 0.2.0
 * @category cost
 */
export const estimate = (params: unknown): Cost => {
  let blocks = 0
  let json = ""
  try {
    json = JSON.stringify(params, function(this: unknown, key, value) {
      if (key === "data" && typeof value === "string" && Predicate.isRecord(this) && this.type === "base64") {
        blocks++
        return ""
      }
      return value
    }) ?? ""
  } catch {
    json = ""
  }
  const inputTokens = Math.ceil(utf8Length(json) / BYTES_PER_TOKEN) + blocks * BASE64_BLOCK_TOKENS
  let maxTokens = 0
  try {
    const given = Predicate.isRecord(params) ? params.max_tokens : undefined
    maxTokens = typeof given === "number" && Number.isFinite(given) && given > 0 ? Math.ceil(given) : 0
  } catch {
    maxTokens = 0
  }
  return { requests: 1, inputTokens, outputTokens: maxTokens, tokens: inputTokens + maxTokens }
}

// ---------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------

/**
 * The limiter's state, as its {@link Store} keeps it: what it believes of
 * each quota and the instant a 429 blocked calls until. Plain data (numbers
 * and `null`), so that it round-trips through JSON.
 *
 * @example
 * ```ts
 * import { RateLimits } from "claude-resilience"
 *
 * const state: RateLimits.State = RateLimits.initialState
 * state.blockedUntil // 0
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export type State = machine.State

/**
 * The state of a limiter that knows nothing yet: every call is admitted
 * until a response says otherwise.
 *
 * @example
 * ```ts
 * import { RateLimits } from "claude-resilience"
 *
 * const store = RateLimits.makeMemoryStore(RateLimits.initialState)
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const initialState: State = machine.initialState

/**
 * Where a limiter keeps its {@link State}: `modify` applies `f` atomically
 * (no other update between the state `f` receives and the state it
 * returns); `f` is pure and may be called more than once, so a shared
 * store implements it as a compare-and-set loop (as the Redis store does).
 *
 * @example
 * ```ts
 * import { Effect, Ref } from "effect"
 * import { RateLimits } from "claude-resilience"
 *
 * const store = Effect.map(Ref.make(RateLimits.initialState), (ref): RateLimits.Store => ({
 *   get: Ref.get(ref),
 *   modify: (f) => Ref.modify(ref, f)
 * }))
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Store extends StoreOf<State> {}

/**
 * A {@link Store} in this process's memory, backed by a `Ref`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RateLimits } from "claude-resilience"
 *
 * // two limiters on one store behave as one
 * const shared = Effect.gen(function*() {
 *   const store = yield* RateLimits.makeMemoryStore()
 *   return [yield* RateLimits.make({ store }), yield* RateLimits.make({ store })] as const
 * })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeMemoryStore = (initial: State = initialState): Effect.Effect<Store> => makeMemory(initial)

const isStore = (u: unknown): u is Store =>
  Predicate.isObject(u) && Effect.isEffect((u as Store).get) && typeof (u as Store).modify === "function"

/**
 * The limiter's options as a Schema, decoded into {@link Settings}.
 * Unknown keys are refused.
 *
 * - `headroom`: the share added to every input-token estimate, from 0 to
 *   10. Default 0.1 (the estimate is multiplied by 1.1).
 * - `period`: the period of the limits, in which a spent quota refills
 *   (the API's are per minute: a token bucket refilled at `limit` per
 *   minute). Each call admitted moves a pending reset later by its share,
 *   `cost × period / limit`, since the responses that will say so may
 *   come back after it; and a quota spent before any response said when
 *   it refills waits one period after the last call. One response holds
 *   calls back for twice the period (at least two minutes) at the most,
 *   whatever reset or `retry-after` it gives. Above 0, at most 1 day.
 *   Default 1 minute.
 * - `store`: where the state lives. Default: a new in-memory store.
 *
 * @example
 * ```ts
 * import { RateLimits } from "claude-resilience"
 *
 * const options: RateLimits.Options = { headroom: 0.25 }
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export const Options = Schema.Struct({
  headroom: withDefault(number({ min: 0, max: 10 }), () => 0.1),
  period: withDefault(
    duration({ positive: true, wholeMillis: true, max: Duration.days(1) }),
    () => Duration.minutes(1)
  ),
  store: optional(satisfying("a RateLimits.Store (get, an Effect, and modify, a function)", isStore))
})

/**
 * What {@link make}, {@link layerMemory} and {@link settings} take: every
 * field optional (see {@link Options}).
 *
 * @example
 * ```ts
 * import { RateLimits } from "claude-resilience"
 *
 * const layer = RateLimits.layerMemory({ headroom: 0.2, period: "1 minute" })
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export type Options = Input<typeof Options.Encoded>

/**
 * The validated settings a limiter runs on.
 *
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { RateLimits } from "claude-resilience"
 *
 * const settings: RateLimits.Settings = Either.getOrThrow(RateLimits.settings({ headroom: 0 }))
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export type Settings = typeof Options.Type

const decodeSettings = decodeOptions("RateLimits", Options)

/**
 * Validates options into {@link Settings}: every problem listed in one
 * `Options.InvalidOptionsError` (module `"RateLimits"`), never a throw.
 *
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { RateLimits } from "claude-resilience"
 *
 * Either.isLeft(RateLimits.settings({ headroom: -1 })) // true
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const settings = (options?: Options): Either.Either<Settings, InvalidOptionsError> => decodeSettings(options)

// ---------------------------------------------------------------------------
// metrics
// ---------------------------------------------------------------------------

/**
 * Histogram of the waits the limiter imposed before admitting a call, in
 * milliseconds (an admitted call that did not wait is not recorded).
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { RateLimits } from "claude-resilience"
 *
 * const waits = Metric.value(RateLimits.waitMillis)
 * ```
 *
 * @since 0.2.0
 * @category metrics
 */
export const waitMillis = Metric.histogram(
  "claude_resilience_rate_limiter_wait_ms",
  MetricBoundaries.exponential({ start: 10, factor: 2, count: 16 }),
  "Time a call waited for the rate limiter before it was sent, in milliseconds"
)

/**
 * Counter of the calls the limiter refused because their wait was longer
 * than they may wait (each failed with a `RateLimitError`, nothing sent).
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { RateLimits } from "claude-resilience"
 *
 * const refused = Metric.value(RateLimits.refusals)
 * ```
 *
 * @since 0.2.0
 * @category metrics
 */
export const refusals = Metric.counter("claude_resilience_rate_limiter_refusals", {
  description: "Calls the rate limiter refused: their wait was longer than they may wait",
  incremental: true
})

// ---------------------------------------------------------------------------
// the service
// ---------------------------------------------------------------------------

/**
 * How long one admission may wait: `maxWait`, the call's wall-clock limit
 * (default: no limit). A wait that would end later fails at once.
 *
 * @example
 * ```ts
 * import { RateLimits } from "claude-resilience"
 *
 * const options: RateLimits.AdmitOptions = { maxWait: "15 seconds" }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface AdmitOptions {
  readonly maxWait?: Duration.DurationInput | undefined
}

/**
 * The limiter.
 *
 * - `admit(cost, options?)`: waits (through `Clock`) until a call of `cost`
 *   may be sent, and counts it as sent; fails at once with the
 *   `RateLimitError` the call would have met when the wait would end after
 *   `maxWait`, and counts nothing.
 * - `observe(snapshot)`: what a response said of the quotas (call it with
 *   the snapshot of every response, errors included).
 * - `block(retryAfter)`: a 429 said to send nothing for `retryAfter`: no
 *   call of the organisation is admitted before that instant.
 * - `record(error)`: `observe` with the snapshot an `ApiError` carries, and
 *   `block` for a `RateLimitError` with a `retry-after`; anything else is
 *   ignored.
 * - `state`: what the limiter believes now, as a {@link Snapshot} (limit,
 *   what is left after the calls it admitted, pending reset).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RateLimits } from "claude-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const limiter: RateLimits.Service = yield* RateLimits.Limiter
 *   yield* limiter.observe(RateLimits.parse({ "anthropic-ratelimit-requests-remaining": "10" }))
 *   yield* limiter.admit({ requests: 1, inputTokens: 100, outputTokens: 100, tokens: 200 })
 * })
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Service {
  readonly settings: Settings
  readonly admit: (cost: Cost, options?: AdmitOptions) => Effect.Effect<void, ApiError.RateLimitError>
  readonly observe: (snapshot: Snapshot) => Effect.Effect<void>
  readonly block: (retryAfter: Duration.DurationInput) => Effect.Effect<void>
  readonly record: (error: unknown) => Effect.Effect<void>
  readonly state: Effect.Effect<Snapshot>
}

/**
 * The rate limiter service: one per organisation, shared by every call.
 * Provide {@link layerMemory} (one process) or {@link layerRedis} (a fleet).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RateLimits } from "claude-resilience"
 *
 * const state = Effect.flatMap(RateLimits.Limiter, (limiter) => limiter.state).pipe(
 *   Effect.provide(RateLimits.layerMemory())
 * )
 * ```
 *
 * @since 0.2.0
 * @category tags
 */
export class Limiter extends Context.Tag("claude-resilience/RateLimits/Limiter")<Limiter, Service>() {}

/** Waits are re-checked at least this often: a snapshot or a 429 seen meanwhile (by any process) may change them. */
const RECHECK_MILLIS = 1_000

const iso = (millis: number): string =>
  Number.isFinite(millis) && Math.abs(millis) <= 8.64e15
    ? DateTime.formatIso(DateTime.unsafeMake(millis))
    : `${millis} ms after the epoch`

const reasonText = (reason: machine.Kind | "retryAfter"): string => {
  switch (reason) {
    case "retryAfter":
      return "a 429's retry-after blocks every call until"
    case "requests":
      return "the requests quota is spent until"
    case "inputTokens":
      return "the input-tokens quota is spent until"
    case "outputTokens":
      return "the output-tokens quota is spent until"
    case "tokens":
      return "the tokens quota is spent until"
  }
}

const refusal = (
  reason: machine.Kind | "retryAfter",
  until: number,
  now: number,
  maxWait: number,
  state: State
): ApiError.RateLimitError => {
  const wait = Duration.millis(until - now)
  return new ApiError.RateLimitError({
    status: 429,
    message: `HTTP 429 rate_limit_error (from the client's rate limiter): ${reasonText(reason)} ${iso(until)}, ` +
      `a wait of ${Duration.format(wait)}, longer than the call may wait (${Duration.format(Duration.millis(maxWait))}). ` +
      `The request was not sent.`,
    requestId: Option.none(),
    errorType: Option.some("rate_limit_error"),
    serverMessage: Option.none(),
    shouldRetry: Option.none(),
    retryAfter: Option.some(wait),
    rateLimits: machine.toSnapshot(state)
  })
}

const hasSnapshot = (u: unknown): u is { readonly rateLimits: Snapshot } =>
  Predicate.hasProperty(u, "rateLimits") && Predicate.isObject(u.rateLimits) &&
  Predicate.hasProperty(u.rateLimits, "requests")

const fromSettings = (given: Settings, store: Store): Service => {
  const millis: machine.Millis = { periodMillis: Duration.toMillis(given.period) }
  const headroom = 1 + given.headroom

  const admit = (cost: Cost, options?: AdmitOptions): Effect.Effect<void, ApiError.RateLimitError> =>
    Effect.gen(function*() {
      const maxWaitInput = options?.maxWait
      const maxWaitDuration = maxWaitInput === undefined
        ? Duration.infinity
        : Duration.decodeUnknown(maxWaitInput).pipe(Option.getOrElse(() => Duration.zero))
      const maxWait = Math.max(0, Duration.toMillis(maxWaitDuration))
      const charged: Cost = {
        requests: cost.requests,
        inputTokens: Math.ceil(cost.inputTokens * headroom),
        outputTokens: cost.outputTokens,
        tokens: Math.ceil(cost.inputTokens * headroom) + cost.outputTokens
      }
      const start = yield* Clock.currentTimeMillis
      const deadline = start + maxWait
      while (true) {
        const now = yield* Clock.currentTimeMillis
        const decision = yield* store.modify((state) => {
          const admission = machine.admission(state, charged, now, millis)
          // a wait writes nothing: the state stays as it was
          return [admission, admission._tag === "Admit" ? admission.next : state] as const
        })
        if (decision._tag === "Admit") {
          if (now > start) yield* Metric.update(waitMillis, now - start)
          return
        }
        if (decision.until > deadline) {
          yield* Metric.increment(refusals)
          return yield* Effect.fail(refusal(decision.reason, decision.until, now, maxWait, decision.next))
        }
        yield* Effect.annotateCurrentSpan("rate_limiter.wait_until", decision.until)
        yield* Effect.sleep(Duration.millis(Math.min(decision.until - now, RECHECK_MILLIS)))
      }
    })

  const observe = (snapshot: Snapshot): Effect.Effect<void> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      store.modify((state) => [undefined, machine.observe(state, snapshot, now, millis)] as const))

  const block = (retryAfter: Duration.DurationInput): Effect.Effect<void> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const wait = Duration.decodeUnknown(retryAfter).pipe(Option.map(Duration.toMillis), Option.getOrElse(() => 0))
      // no finite, positive wait: nothing to block (an infinite one is the retry policy's to refuse)
      if (!(wait > 0) || !Number.isFinite(wait)) return Effect.void
      return store.modify((state) => [undefined, machine.block(state, now + Math.ceil(wait), now, millis)] as const)
    })

  const record = (error: unknown): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (!hasSnapshot(error)) return Effect.void
      const observed = observe(error.rateLimits)
      if (!Predicate.isTagged(error, "RateLimitError")) return observed
      const retryAfter = (error as ApiError.RateLimitError).retryAfter
      return Option.isSome(retryAfter) ? Effect.zipRight(observed, block(retryAfter.value)) : observed
    })

  return {
    settings: given,
    admit,
    observe,
    block,
    record,
    state: Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.map(store.get, (state) => machine.toSnapshot(machine.advance(state, now, millis))))
  }
}

/**
 * Builds a limiter. Invalid options fail with `Options.InvalidOptionsError`
 * (module `"RateLimits"`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RateLimits } from "claude-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const limiter = yield* RateLimits.make({ headroom: 0.2 })
 *   yield* limiter.admit(RateLimits.estimate({ max_tokens: 64, messages: [] }))
 * })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<Service, InvalidOptionsError> =>
  Effect.suspend(() =>
    Effect.flatMap(settings(options), (given) =>
      Effect.map(
        given.store !== undefined ? Effect.succeed(given.store) : makeMemoryStore(),
        (store) => fromSettings(given, store)
      ))
  )

/**
 * One limiter in this process's memory, for one process: provide it once,
 * above every client of the organisation.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RateLimits } from "claude-resilience"
 *
 * const program = Effect.succeed("sent").pipe(
 *   RateLimits.limit({ requests: 1, inputTokens: 10, outputTokens: 10, tokens: 20 }),
 *   Effect.provide(RateLimits.layerMemory())
 * )
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerMemory = (options?: Options): Layer.Layer<Limiter, InvalidOptionsError> =>
  Layer.effect(Limiter, make(options))

/**
 * What {@link layerRedis} takes: the limiter's {@link Options} (but
 * `store`) and the `namespace` its state is kept under in Redis (one per
 * organisation, or per organisation and model: every process with the same
 * namespace shares one limiter, and two namespaces never touch).
 *
 * @example
 * ```ts
 * import { RateLimits } from "claude-resilience"
 *
 * const options: RateLimits.RedisOptions = { namespace: "acme-prod", headroom: 0.2 }
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export type RedisOptions = RedisStoreOptions & Omit<Options, "store">

/**
 * A limiter whose state is kept in Redis under `namespace`, shared by every
 * process that uses the same namespace (through the {@link Redis.Redis}
 * connection in the context, see `Redis.layer`). Every update is one
 * atomic compare-and-set of one key, which expires when unused; every
 * instant comes from the caller's `Clock`. While Redis cannot be reached,
 * the limiter runs on this process's copy of the state, and goes back to
 * Redis when it is back (see `Redis.layer`).
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { RateLimits, Redis } from "claude-resilience"
 *
 * const LimiterLive = RateLimits.layerRedis({ namespace: "acme-prod" }).pipe(
 *   Layer.provide(Redis.layer({ url: "redis://127.0.0.1:6379" }))
 * )
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerRedis = (options: RedisOptions): Layer.Layer<Limiter, InvalidOptionsError, Redis.Redis> =>
  Layer.scoped(Limiter, makeRedis(options))

const decodeLimiterRedisOptions = decodeRedisOptions("RateLimits", (rest) => decodeSettings(rest), ["store"])

/**
 * Builds a limiter on Redis (see {@link layerRedis}).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RateLimits, Redis } from "claude-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const limiter = yield* RateLimits.makeRedis({ namespace: "acme-prod" })
 *   return yield* limiter.state
 * }).pipe(Effect.scoped, Effect.provide(Redis.layer({ url: "redis://127.0.0.1:6379" })))
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeRedis = (
  options: RedisOptions
): Effect.Effect<Service, InvalidOptionsError, Redis.Redis | Scope.Scope> =>
  Effect.gen(function*() {
    const { namespace, settings: given } = yield* decodeLimiterRedisOptions(options)
    const redis = yield* Redis.Redis
    const local = yield* Ref.make(initialState)
    const periodMillis = Duration.toMillis(given.period)
    const store = sharedStore<State>({
      connection: redis.connection,
      key: redis.connection.key(namespace, "limiter"),
      codec: jsonCodec(machine.StateSchema),
      initial: initialState,
      local,
      // the key outlives every instant it holds, and one period of quiet
      ttl: (state, now) =>
        Math.max(
          periodMillis,
          state.blockedUntil - now,
          ...machine.kinds.map((kind) => (state[kind].resetAt ?? now) - now)
        ) + 60_000
    })
    return fromSettings(given, store)
  })

// ---------------------------------------------------------------------------
// combinator
// ---------------------------------------------------------------------------

/**
 * Runs `self` once the {@link Limiter} admits a call of `cost` (waiting,
 * through `Clock`, until it does), then tells the limiter what the call's
 * error said: the snapshot an `ApiError` carries, and a 429's `retry-after`
 * (see {@link Service.record}). A wait longer than `maxWait` fails at once
 * with the `RateLimitError` the call would have met, without running
 * `self`. A success carries no headers here: feed its snapshot with
 * {@link Service.observe} where you have them.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { type ApiError, RateLimits } from "claude-resilience"
 *
 * declare const send: Effect.Effect<string, ApiError.ApiError>
 *
 * // Effect<string, ApiError | RateLimitError, Limiter>
 * const limited = send.pipe(RateLimits.limit(RateLimits.estimate({ max_tokens: 512 }), { maxWait: "10 seconds" }))
 * ```
 *
 * @since 0.2.0
 * @category combinators
 */
export const limit: {
  (
    cost: Cost,
    options?: AdmitOptions
  ): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | ApiError.RateLimitError, R | Limiter>
  <A, E, R>(
    self: Effect.Effect<A, E, R>,
    cost: Cost,
    options?: AdmitOptions
  ): Effect.Effect<A, E | ApiError.RateLimitError, R | Limiter>
} = dual(
  (args) => Effect.isEffect(args[0]),
  <A, E, R>(
    self: Effect.Effect<A, E, R>,
    cost: Cost,
    options?: AdmitOptions
  ): Effect.Effect<A, E | ApiError.RateLimitError, R | Limiter> =>
    Effect.flatMap(Limiter, (limiter) =>
      Effect.zipRight(
        limiter.admit(cost, options),
        Effect.onExit(self, (exit) =>
          Exit.isFailure(exit)
            ? Option.match(Cause.failureOption(exit.cause), { onNone: () => Effect.void, onSome: limiter.record })
            : Effect.void)
      ))
)
