/**
 * The whole client-side policy in one line: retry (full-jitter backoff,
 * `retry-after` floor, 15 s `maxElapsed`, 500 once) around a circuit
 * breaker, drawing on a process-wide retry budget.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { type ApiError, Resilience } from "claude-resilience"
 *
 * declare const call: Effect.Effect<string, ApiError.ApiError>
 *
 * const program = call.pipe(
 *   Resilience.protect(), // the default policy, through the breaker, on the budget
 *   Effect.provide(Resilience.layer()) // one breaker and one budget per process
 * )
 * ```
 *
 * The wiring is explicit, in the types. `RetryPolicy.retry` is the policy
 * alone and needs nothing. {@link retry} is where the policy meets the two
 * shared services, which its type requires (`CircuitBreaker | RetryBudget`
 * in `R`, provided once by {@link layer}):
 *
 * - the retry budget: each call deposits once, each retry withdraws one
 *   token before its wait; an empty budget ends the call at once with its
 *   last error (give-up reason `RetryBudgetEmpty`);
 * - the breaker's look-ahead: before sleeping towards a retry, the breaker
 *   is asked whether it would admit a call at the instant the retry would be
 *   sent (`admitsAt`); if not, the call ends at once with its last error
 *   (give-up reason `CircuitOpen`), without sleeping first;
 * - the last real error: a call that sent requests ends with the last error
 *   one of them got, even when a later attempt was refused by the breaker
 *   (it opened during the wait); `CircuitOpenError` is kept for a call that
 *   sent nothing;
 * - the status page, when a `StatusPage.layer` is provided (it is a
 *   `Context.Reference`, so it is not in `R`): a 529 or a 503 while the page
 *   shows a `major` or `critical` incident ends the call at once with that
 *   error (give-up reason `StatusPageIncident`), before the breaker and the
 *   budget are asked.
 *
 * {@link protect} is {@link retry} around `CircuitBreaker.protect`, so that
 * each attempt passes through the breaker.
 *
 * The same policy inside clients that are not this library's:
 * {@link fetch}, a `fetch` function for the official SDK
 * (`new Anthropic({ fetch: Resilience.fetch(), maxRetries: 0 })`), and
 * {@link transformClient}, an `HttpClient` middleware for `@effect/ai`'s
 * `AnthropicClient.layer({ transformClient })`. Neither SDK is a dependency.
 *
 * Services in `R` rather than explicit arguments or `Context.Reference`
 * defaults: one breaker and one budget are meant to be shared by every call
 * of a process, which is what a Layer provided once at the top gives, and a
 * missing one is a compile error rather than a silently unprotected call.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { dual } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as CircuitBreaker from "./CircuitBreaker.js"
import * as AdapterErrors from "./internal/adapters/errors.js"
import * as FetchAdapter from "./internal/adapters/fetch.js"
import * as TransformClientAdapter from "./internal/adapters/transformClient.js"
import { decodeDuration, decodeOptions, describeValue, isPlainObject, optional } from "./internal/options.js"
import * as internalResilience from "./internal/resilience.js"
import { InvalidOptionsError } from "./Options.js"
import * as RateLimits from "./RateLimits.js"
import * as Redis from "./Redis.js"
import * as RetryBudget from "./RetryBudget.js"
import * as RetryPolicy from "./RetryPolicy.js"
import * as StatusPage from "./StatusPage.js"

/**
 * The options of {@link layer}, as a Schema: the breaker's and the
 * budget's, each optional and decoded by its own module's Schema, so that a
 * problem is reported at its nested path (`breaker.window`,
 * `budget.percent`). Unknown keys are refused, at every level.
 *
 * @example
 * ```ts
 * import { Resilience } from "claude-resilience"
 *
 * const options: Resilience.Options = {
 *   breaker: { failureRateThreshold: 0.5, window: "1 minute" },
 *   budget: { percent: 0.1 }
 * }
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export const Options = Schema.Struct({
  breaker: optional(CircuitBreaker.Options),
  budget: optional(RetryBudget.Options)
})

/**
 * What {@link layer} takes: `breaker` (`CircuitBreaker.Options`) and
 * `budget` (`RetryBudget.Options`), both optional.
 *
 * @example
 * ```ts
 * import { Resilience } from "claude-resilience"
 *
 * const options: Resilience.Options = { breaker: { name: "claude" } }
 * const layer = Resilience.layer(options)
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export interface Options {
  readonly breaker?: CircuitBreaker.Options | undefined
  readonly budget?: RetryBudget.Options | undefined
}

const decodeLayerOptions = decodeOptions("Resilience", Options)

/**
 * One `CircuitBreaker` and one `RetryBudget`, with the defaults unless
 * overridden: the breaker opens at ≥ 30 % server-side failures over the last
 * 30 s with at least 10 calls, half-opens after 2 s (growing to 10 s) with 3
 * probes; retries stay ≤ 20 % of first attempts plus 10 per second, plus the
 * budget's starting reserve of 100. Provide it once, at the top of the
 * program, so that every call of the process shares them.
 *
 * Its options are checked in full before anything is built: invalid ones
 * (of any type, from untyped code too) fail the layer with one
 * `Options.InvalidOptionsError` (module `"Resilience"`) listing every
 * problem at its nested path (`breaker.window`, `budget.percent`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { type ApiError, Resilience } from "claude-resilience"
 *
 * declare const call: Effect.Effect<string, ApiError.ApiError>
 *
 * const program = call.pipe(
 *   Resilience.protect(),
 *   Effect.provide(Resilience.layer({ breaker: { minimumCalls: 20 }, budget: { percent: 0.1 } }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options?: Options
): Layer.Layer<CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget, InvalidOptionsError> =>
  Layer.unwrapEffect(Effect.suspend(() =>
    Either.map(
      decodeLayerOptions(options),
      // settings are valid options of their module: each builds from its own part
      ({ breaker, budget }) => Layer.merge(CircuitBreaker.layer(breaker), RetryBudget.layer(budget))
    )
  ))

/**
 * What {@link layerRedis} takes: the Redis `url` and the `namespace` (one
 * per organisation, or per organisation and model, as you choose: every
 * process with the same namespace shares one breaker, one retry budget and
 * one rate limiter; two namespaces never touch), and optionally each
 * part's own options: `breaker` (`CircuitBreaker.RedisOptions` without the
 * namespace: the breaker's options and `probeLease`), `budget`
 * (`RetryBudget.Options`), `limiter` (`RateLimits.Options` but `store`) and
 * `redis` (`Redis.Options` but `url`: the timeouts and the key prefix).
 *
 * @example
 * ```ts
 * import { Resilience } from "claude-resilience"
 *
 * const options: Resilience.RedisOptions = {
 *   url: "redis://127.0.0.1:6379",
 *   namespace: "acme-prod",
 *   breaker: { halfOpenProbes: 2 },
 *   redis: { commandTimeout: "200 millis" }
 * }
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export interface RedisOptions {
  readonly url: string
  readonly namespace: string
  readonly breaker?: Omit<CircuitBreaker.RedisOptions, "namespace"> | undefined
  readonly budget?: RetryBudget.Options | undefined
  readonly limiter?: Omit<RateLimits.Options, "store"> | undefined
  readonly redis?: Omit<Redis.Options, "url"> | undefined
}

const redisKeys = ["url", "namespace", "breaker", "budget", "limiter", "redis"]

// every problem of every part, at its nested path, before anything is built
const checkRedisOptions = (options: unknown): Either.Either<RedisOptions, InvalidOptionsError> => {
  if (!isPlainObject(options)) {
    return Either.left(
      InvalidOptionsError.of("Resilience", [{ path: "", message: `options must be an object, got ${describeValue(options)}` }])
    )
  }
  const problems: Array<{ path: string; message: string }> = []
  const read = (key: string): unknown => {
    try {
      return options[key]
    } catch {
      problems.push({ path: key, message: "could not be read (its getter threw)" })
      return undefined
    }
  }
  let keys: ReadonlyArray<string> = []
  try {
    keys = Object.keys(options)
  } catch {
    problems.push({ path: "", message: "could not be read (its keys threw)" })
  }
  for (const key of keys) {
    if (!redisKeys.includes(key) && read(key) !== undefined) {
      problems.push({ path: key, message: `is not an option; the options are ${redisKeys.join(", ")}` })
    }
  }
  const part = (key: string): Record<string, unknown> | undefined => {
    const value = read(key)
    if (value === undefined) return {}
    if (isPlainObject(value)) return value
    problems.push({ path: key, message: `must be an object, got ${describeValue(value)}` })
    return undefined
  }
  const collect = (prefix: string, result: Either.Either<unknown, InvalidOptionsError>) => {
    if (Either.isLeft(result)) {
      for (const p of result.left.problems) problems.push({ path: p.path === "" ? prefix : `${prefix}.${p.path}`, message: p.message })
    }
  }
  const namespace = read("namespace")
  const redis = part("redis")
  if (redis !== undefined) {
    const { url: _url, ...rest } = redis
    if (_url !== undefined) problems.push({ path: "redis.url", message: "is not an option here: give url at the top" })
    const checked = Redis.settings({ ...rest, url: read("url") } as Redis.Options)
    if (Either.isLeft(checked)) {
      for (const p of checked.left.problems) problems.push({ path: p.path === "url" ? "url" : `redis.${p.path}`, message: p.message })
    }
  }
  const breaker = part("breaker")
  if (breaker !== undefined) {
    const { namespace: _ns, probeLease, ...rest } = breaker
    if (_ns !== undefined) problems.push({ path: "breaker.namespace", message: "is not an option here: give namespace at the top" })
    if ("store" in rest) problems.push({ path: "breaker.store", message: "is not an option here: the state is kept in Redis" })
    const { store: _store, ...others } = rest
    collect("breaker", CircuitBreaker.settings(others as CircuitBreaker.Options))
    if (probeLease !== undefined) {
      const lease = decodeDuration(probeLease)
      const millis = Option.isSome(lease) ? Duration.toMillis(lease.value) : NaN
      if (!(millis > 0 && millis <= 3_600_000 && Number.isSafeInteger(millis))) {
        problems.push({
          path: "breaker.probeLease",
          message: `must be a duration above zero of at most 1h in whole milliseconds, got ${describeValue(probeLease)}`
        })
      }
    }
  }
  const budget = part("budget")
  if (budget !== undefined) collect("budget", RetryBudget.settings(budget as RetryBudget.Options))
  const limiter = part("limiter")
  if (limiter !== undefined) {
    if ("store" in limiter) problems.push({ path: "limiter.store", message: "is not an option here: the state is kept in Redis" })
    const { store: _store, ...others } = limiter
    collect("limiter", RateLimits.settings(others as RateLimits.Options))
  }
  if (!(typeof namespace === "string" && namespace.length > 0 && namespace.length <= 200 && !/[{}]/.test(namespace))) {
    problems.push({
      path: "namespace",
      message: `must be a non-empty string of at most 200 characters without { or }, got ${describeValue(namespace)}`
    })
  }
  return problems.length > 0
    ? Either.left(InvalidOptionsError.of("Resilience", problems))
    : Either.right(options as unknown as RedisOptions)
}

/**
 * The breaker, the retry budget and the rate limiter of a fleet of
 * processes, kept in Redis under `namespace` (see
 * `CircuitBreaker.layerRedis`, `RetryBudget.layerRedis`,
 * `RateLimits.layerRedis`), over one connection (`Redis.layer`, provided
 * too, so that its `events` can be watched). Two processes with the same
 * namespace share all three; two namespaces never touch. If Redis cannot
 * be reached, at start or later, each process goes on at once with its
 * local state (a warning logged, `Redis.fallbacks` counted, a `Fallback`
 * event), and goes back to Redis when it is back.
 *
 * Its options are checked in full before anything is built: every problem
 * of every part, at its nested path (`breaker.window`, `redis.commandTimeout`),
 * in one `Options.InvalidOptionsError` (module `"Resilience"`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { type ApiError, Resilience } from "claude-resilience"
 *
 * declare const call: Effect.Effect<string, ApiError.ApiError>
 *
 * const program = call.pipe(
 *   Resilience.protect(),
 *   Effect.provide(Resilience.layerRedis({ url: "redis://127.0.0.1:6379", namespace: "acme-prod" }))
 * )
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerRedis = (
  options: RedisOptions
): Layer.Layer<
  CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget | RateLimits.Limiter | Redis.Redis,
  InvalidOptionsError | Redis.RedisClientError
> =>
  Layer.unwrapEffect(Effect.suspend(() =>
    Either.map(checkRedisOptions(options), ({ breaker, budget, limiter, namespace, redis, url }) =>
      Layer.mergeAll(
        CircuitBreaker.layerRedis({ ...breaker, namespace }),
        RetryBudget.layerRedis({ ...budget, namespace }),
        RateLimits.layerRedis({ ...limiter, namespace })
      ).pipe(Layer.provideMerge(Redis.layer({ ...redis, url }))))
  ))

/**
 * Retries `self` under the policy, the retry budget and the breaker's
 * look-ahead (see the module's description): `RetryPolicy.retry` (errors
 * split by tag, only `Retryable` ones retried, each decision logged and
 * annotated on the span) plus
 *
 * - a deposit into the {@link RetryBudget.RetryBudget} per call and a
 *   withdrawal per retry, before its wait: an empty budget ends the call at
 *   once with its last error;
 * - a question to the {@link CircuitBreaker.CircuitBreaker} before each
 *   wait, `admitsAt(the instant the retry would be sent)`: a retry it would
 *   refuse is not waited for, and the call ends at once with its last error;
 * - the last real error: a `CircuitOpenError` that ends a call which had
 *   sent requests (the breaker opened during the wait) is replaced by the
 *   last error one of them got; a call that sent nothing ends with it;
 * - the `StatusPage.StatusPage` in the context (a `Context.Reference`:
 *   `unknown` unless `StatusPage.layer` is provided): before the retry of an
 *   `OverloadedError` or a `ServiceUnavailableError`, its indicator is read
 *   (waiting at most its `timeout`); `major` or `critical` ends the call at
 *   once with that error (`StatusPageIncident`, logged at `Info`, on the
 *   span as `retry.give_up` and `status_page.indicator`).
 *
 * Its type adds exactly `CircuitBreaker | RetryBudget` to `R`; provide
 * {@link layer} once. Pass nothing for `RetryPolicy.defaults`, or a policy
 * from `RetryPolicy.make`. It does not put `self` through the breaker: use
 * {@link protect} for that, or do it yourself inside.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { type ApiError, CircuitBreaker, Resilience } from "claude-resilience"
 *
 * declare const call: Effect.Effect<string, ApiError.ApiError>
 *
 * // Effect<string, ApiError | CircuitOpenError, CircuitBreaker | RetryBudget>
 * const retried = call.pipe(CircuitBreaker.protect, Resilience.retry())
 * const program = retried.pipe(Effect.provide(Resilience.layer()))
 * ```
 *
 * @since 0.2.0
 * @category combinators
 */
export const retry: {
  (
    policy?: RetryPolicy.RetryPolicy
  ): <A, E, R>(
    self: Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E, R | CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget>
  <A, E, R>(
    self: Effect.Effect<A, E, R>,
    policy?: RetryPolicy.RetryPolicy
  ): Effect.Effect<A, E, R | CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget>
} = dual(
  (args) => Effect.isEffect(args[0]),
  <A, E, R>(
    self: Effect.Effect<A, E, R>,
    policy?: RetryPolicy.RetryPolicy
  ): Effect.Effect<A, E, R | CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget> =>
    policy !== undefined && !RetryPolicy.isRetryPolicy(policy)
      // only untyped code gets here: RetryPolicy.retry refuses it, before any attempt
      ? RetryPolicy.retry(self, policy)
      : Effect.contextWithEffect((context: Context.Context<CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget>) =>
        internalResilience.retrier(
          policy,
          Context.get(context, CircuitBreaker.CircuitBreaker),
          Context.get(context, RetryBudget.RetryBudget)
        )(
          self,
          // a Context.Reference: "unknown" (nothing changes) unless StatusPage.layer is provided
          Context.get(context, StatusPage.StatusPage)
        )
      )
)

/**
 * Wraps `self` in the whole policy: each attempt passes through the
 * {@link CircuitBreaker.CircuitBreaker} (an open breaker fails it at once
 * with `CircuitOpenError`, and nothing is sent), and the attempts are
 * retried by {@link retry} (only `Retryable` errors; the retry budget; the
 * breaker's look-ahead; a call that sent requests ends with its last real
 * error). Its type adds `CircuitOpenError` to `E` and exactly
 * `CircuitBreaker | RetryBudget` to `R`: provide {@link layer} once. Pass
 * nothing for the default policy, or a policy from `RetryPolicy.make`.
 *
 * @example
 * ```ts
 * import { Effect, Either } from "effect"
 * import { type ApiError, Resilience, RetryPolicy } from "claude-resilience"
 *
 * declare const call: Effect.Effect<string, ApiError.ApiError>
 *
 * // the defaults, in one line
 * const safe = call.pipe(Resilience.protect(), Effect.provide(Resilience.layer()))
 *
 * // every option overridden
 * const policy = Either.getOrThrow(
 *   RetryPolicy.make({ base: "500 millis", cap: "4 seconds", jitter: "equal", maxRetries: 3, maxElapsed: "10 seconds" })
 * )
 * const tuned = call.pipe(
 *   Resilience.protect(policy),
 *   Effect.provide(Resilience.layer({
 *     breaker: { failureRateThreshold: 0.5, window: "1 minute", minimumCalls: 20, openDuration: "10 seconds" },
 *     budget: { percent: 0.1, minRetriesPerSecond: 5, ttl: "30 seconds" }
 *   }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const protect: {
  (
    policy?: RetryPolicy.RetryPolicy
  ): <A, E, R>(
    self: Effect.Effect<A, E, R>
  ) => Effect.Effect<
    A,
    E | CircuitBreaker.CircuitOpenError,
    R | CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget
  >
  <A, E, R>(
    self: Effect.Effect<A, E, R>,
    policy?: RetryPolicy.RetryPolicy
  ): Effect.Effect<A, E | CircuitBreaker.CircuitOpenError, R | CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget>
} = dual(
  (args) => Effect.isEffect(args[0]),
  <A, E, R>(
    self: Effect.Effect<A, E, R>,
    policy?: RetryPolicy.RetryPolicy
  ): Effect.Effect<A, E | CircuitBreaker.CircuitOpenError, R | CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget> =>
    retry(CircuitBreaker.protect(self), policy)
)

// ---------------------------------------------------------------------------
// adapters: the policy inside other clients (docs/effect-ai.md, docs/migrating-from-the-sdk.md)
// ---------------------------------------------------------------------------

/**
 * The signature of `fetch` that the official SDK takes (its `fetch` option).
 *
 * @example
 * ```ts
 * import { Resilience } from "claude-resilience"
 *
 * const plain: Resilience.Fetch = globalThis.fetch
 * ```
 *
 * @since 0.2.0
 * @category adapters
 */
export type Fetch = FetchAdapter.Fetch

/**
 * What {@link fetch} takes, every field optional: `retry`
 * (`RetryPolicy.Options`), `breaker` (`CircuitBreaker.Options`), `budget`
 * (`RetryBudget.Options`) and `fetch`, the function that sends each attempt
 * (the global `fetch`, read at each call, otherwise). Invalid options are
 * listed in one `Options.InvalidOptionsError` (module `"Resilience.fetch"`)
 * with which every call of the adapter rejects, sending nothing.
 *
 * @example
 * ```ts
 * import { Resilience } from "claude-resilience"
 *
 * const options: Resilience.FetchOptions = {
 *   retry: { maxRetries: 3, maxElapsed: "10 seconds" },
 *   breaker: { name: "claude-sdk" },
 *   budget: { percent: 0.1 }
 * }
 * const fetch = Resilience.fetch(options)
 * ```
 *
 * @since 0.2.0
 * @category adapters
 */
export type FetchOptions = FetchAdapter.FetchOptions

/**
 * What {@link fetch} returns: a `fetch` function, with `dispose()` (and
 * `Symbol.asyncDispose`) to release its runtime.
 *
 * @example
 * ```ts
 * import { Resilience } from "claude-resilience"
 *
 * const fetch: Resilience.ResilientFetch = Resilience.fetch()
 * const shutdown = () => fetch.dispose()
 * ```
 *
 * @since 0.2.0
 * @category adapters
 */
export type ResilientFetch = FetchAdapter.ResilientFetch

/**
 * A call to a {@link fetch} adapter that was disposed, before the call or
 * while it ran (it was interrupted). Nothing more was sent.
 *
 * @example
 * ```ts
 * import { Resilience } from "claude-resilience"
 *
 * const fetch = Resilience.fetch()
 * const late = fetch.dispose().then(() => fetch("https://api.anthropic.com/v1/models")).catch(
 *   (error: unknown) => error instanceof Resilience.FetchDisposedError // true
 * )
 * ```
 *
 * @since 0.2.0
 * @category adapters
 */
export const FetchDisposedError = AdapterErrors.FetchDisposedError

/**
 * @example
 * ```ts
 * import { Resilience } from "claude-resilience"
 *
 * const describe = (error: Resilience.FetchDisposedError) => error.message
 * ```
 *
 * @since 0.2.0
 * @category adapters
 */
export type FetchDisposedError = AdapterErrors.FetchDisposedError

/**
 * The whole policy as a `fetch` function, for the official SDK:
 * `new Anthropic({ fetch: Resilience.fetch(), maxRetries: 0 })` (turn the
 * SDK's own retries off, or both retry). No Effect in the caller's code.
 *
 * Each call reads its request once (its body buffered, so that it can be
 * sent again) and sends it through the adapter's circuit breaker, retried
 * under the policy and the adapter's retry budget, as {@link protect} does:
 *
 * - a 2xx response is returned as it arrives, its body unread: a stream is
 *   handed on at once, and never retried after that;
 * - any other response has its body read (at most 1 MiB) and decoded with
 *   `ApiError.fromResponse`: a `Retryable` one is retried (a 529, a 429
 *   rate limit, a 500 once, a stream's 529 before any byte), a `Fatal` one
 *   (a spend limit, a 400) is not;
 * - when the policy gives up (a `Fatal` error, `maxRetries`, `maxElapsed`:
 *   a `retry-after` longer than what is left of it ends the call at once,
 *   the budget, the breaker's look-ahead), the call resolves with the last
 *   response, rebuilt with the same status, headers and body, so that the
 *   SDK raises its own error class for it; a transport failure is rejected
 *   as the underlying `fetch` rejected it;
 * - a call the breaker refuses before anything is sent rejects with the
 *   `CircuitBreaker.CircuitOpenError` (the SDK reports it as an
 *   `APIConnectionError` whose `cause` it is).
 *
 * `init.signal` is honoured: an abort ends the call at once (a wait
 * included), which rejects with the signal's reason. The waits run on the
 * adapter's own runtime (a `ManagedRuntime` with one breaker and one
 * budget, built on the first call): share one adapter between the clients
 * of a process, and call `dispose()` to release it. The API key (the
 * `x-api-key` or `authorization` header) is never written to a log line, a
 * span or an error of the adapter, even when a server echoes it.
 *
 * @example
 * ```ts
 * import Anthropic from "@anthropic-ai/sdk"
 * import { Resilience } from "claude-resilience"
 *
 * const fetch = Resilience.fetch({ retry: { maxElapsed: "20 seconds" } })
 * const client = new Anthropic({ fetch, maxRetries: 0 })
 *
 * const answer = client.messages.create({
 *   model: "claude-sonnet-4-5",
 *   max_tokens: 256,
 *   messages: [{ role: "user", content: "Hello" }]
 * }).finally(() => fetch.dispose())
 * ```
 *
 * @since 0.2.0
 * @category adapters
 */
export const fetch = (options?: FetchOptions): ResilientFetch => FetchAdapter.make(options)

/**
 * What {@link transformClient} takes, every field optional: `retry`
 * (`RetryPolicy.Options`), and the options of the `breaker` and `budget` it
 * builds when the calling fiber has none. Invalid options are listed in one
 * `Options.InvalidOptionsError` (module `"Resilience.transformClient"`),
 * with which every request fails (a `RequestError`, nothing sent).
 *
 * @example
 * ```ts
 * import { Resilience } from "claude-resilience"
 *
 * const options: Resilience.TransformClientOptions = { retry: { maxRetries: 3 } }
 * const transformClient = Resilience.transformClient(options)
 * ```
 *
 * @since 0.2.0
 * @category adapters
 */
export type TransformClientOptions = TransformClientAdapter.TransformClientOptions

/**
 * The whole policy as an `HttpClient` middleware, for `@effect/ai`:
 * `AnthropicClient.layer({ transformClient: Resilience.transformClient() })`
 * (or `layerConfig`). Each request the client sends passes through a
 * circuit breaker and is retried under the policy and a retry budget, as
 * {@link protect} does; a 2xx response is returned as it arrives (a stream
 * is handed on at once, never retried after that); any other response is
 * read (at most 1 MiB) and decoded with `ApiError.fromResponse` to decide.
 * When the policy gives up, the last response (rebuilt with the same
 * status, headers and body) or transport error is returned unchanged, so
 * that `@effect/ai-anthropic` reports it as it always does. A request the
 * breaker refuses before anything is sent fails with a `RequestError`
 * (`Transport`) whose cause is the `CircuitOpenError`.
 *
 * The breaker and the budget: those of the calling fiber's context when it
 * has them (provide {@link layer} once, and the Claude client and
 * `@effect/ai` share them), otherwise the transform's own, built once per
 * `transformClient(options)` call (on its first request) and shared by
 * every client it transforms. A `Stream` request body is buffered once so
 * that it can be sent again; a `Raw` body is sent once, unretried. The
 * waits run on the calling fiber's `Clock`.
 *
 * @example
 * ```ts
 * import * as AnthropicClient from "@effect/ai-anthropic/AnthropicClient"
 * import * as AnthropicLanguageModel from "@effect/ai-anthropic/AnthropicLanguageModel"
 * import * as LanguageModel from "@effect/ai/LanguageModel"
 * import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
 * import { Config, Effect, Layer } from "effect"
 * import { Resilience } from "claude-resilience"
 *
 * const Anthropic = AnthropicClient.layerConfig({
 *   apiKey: Config.redacted("ANTHROPIC_API_KEY"),
 *   transformClient: Resilience.transformClient()
 * }).pipe(Layer.provide(FetchHttpClient.layer))
 *
 * const program = LanguageModel.generateText({ prompt: "Hello" }).pipe(
 *   Effect.provide(AnthropicLanguageModel.model("claude-sonnet-4-5")),
 *   Effect.provide(Anthropic)
 * )
 * ```
 *
 * @since 0.2.0
 * @category adapters
 */
export const transformClient = (
  options?: TransformClientOptions
): (client: HttpClient.HttpClient) => HttpClient.HttpClient => TransformClientAdapter.make(options)
