/**
 * One connection to Redis, for the state a fleet of processes shares: the
 * circuit breaker (`CircuitBreaker.layerRedis`), the retry budget
 * (`RetryBudget.layerRedis`) and the rate limiter (`RateLimits.layerRedis`),
 * each under a namespace; `Resilience.layerRedis` builds all of it at once.
 *
 * Redis is a help, never a point of failure. Every command is bounded by a
 * short timeout (`commandTimeout`, 500 ms by default). When Redis cannot be
 * reached (at start, or when it goes away mid-run), the process switches at
 * once to its local, in-memory copy of each state (the last state it read
 * or wrote there), with a warning logged, the counter
 * {@link fallbacks} incremented, and a `Fallback` event on {@link Service.events};
 * no call waits for Redis past that timeout. It checks every
 * `recheckInterval` (1 s by default) whether Redis is back, and when it is,
 * goes back to the shared state (a `Restored` event).
 *
 * `ioredis` (an optional peer dependency, `npm install ioredis@^5`) is
 * loaded only when this layer is built: the main entry never loads it.
 *
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Redis } from "claude-resilience"
 *
 * const watch = Effect.flatMap(Redis.Redis, (redis) =>
 *   redis.events.pipe(Stream.runForEach((event) => Effect.log(`shared state: ${event._tag}`)))
 * ).pipe(Effect.provide(Redis.layer({ url: "redis://127.0.0.1:6379" })))
 * ```
 *
 * @since 0.2.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Predicate from "effect/Predicate"
import * as PubSub from "effect/PubSub"
import type * as Queue from "effect/Queue"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { decodeOptions, describeValue, duration, type Input, satisfying, withDefault } from "./internal/options.js"
import type { Connection, RawClient, Unavailable } from "./internal/redis/shared.js"
import { describeUrl } from "./internal/text.js"
import type { InvalidOptionsError } from "./Options.js"

// ---------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------

const isRedisUrl = (u: unknown): u is string => {
  if (typeof u !== "string") return false
  try {
    const url = new URL(u)
    return url.protocol === "redis:" || url.protocol === "rediss:"
  } catch {
    return false
  }
}

/**
 * The connection's options as a Schema. Unknown keys are refused.
 *
 * - `url`: `redis://host:port` (or `rediss://` for TLS; a password as
 *   `redis://:password@host:port`, never logged). Required.
 * - `connectTimeout`: how long the first connection may take before the
 *   process starts on its local state. Default 1 second.
 * - `commandTimeout`: the longest one Redis command may take; past it the
 *   process falls back to its local state. Default 500 milliseconds.
 * - `recheckInterval`: how often, while on local state, whether Redis is
 *   back is checked (and how often a lost connection is retried). Default
 *   1 second.
 * - `prefix`: the first part of every key. Default `"claude-resilience"`.
 *
 * @example
 * ```ts
 * import { Redis } from "claude-resilience"
 *
 * const options: Redis.Options = { url: "redis://127.0.0.1:6379", commandTimeout: "200 millis" }
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export const Options = Schema.Struct({
  // a URL's user info (its password) is never quoted back
  url: satisfying(
    "a redis:// or rediss:// URL",
    isRedisUrl,
    (u) => typeof u === "string" ? describeUrl(u) : describeValue(u)
  ),
  connectTimeout: withDefault(
    duration({ positive: true, wholeMillis: true, max: Duration.minutes(1) }),
    () => Duration.seconds(1)
  ),
  commandTimeout: withDefault(
    duration({ positive: true, wholeMillis: true, max: Duration.minutes(1) }),
    () => Duration.millis(500)
  ),
  recheckInterval: withDefault(
    duration({ positive: true, wholeMillis: true, max: Duration.hours(1) }),
    () => Duration.seconds(1)
  ),
  prefix: withDefault(satisfying("a string", Predicate.isString), () => "claude-resilience")
})

/**
 * What {@link layer} takes: `url`, and the optional timeouts and prefix
 * (see {@link Options}).
 *
 * @example
 * ```ts
 * import { Redis } from "claude-resilience"
 *
 * const layer = Redis.layer({ url: "redis://127.0.0.1:6379", recheckInterval: "2 seconds" })
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export type Options = Input<typeof Options.Encoded> & { readonly url: string }

/**
 * The validated settings of a connection.
 *
 * @example
 * ```ts
 * import { Redis } from "claude-resilience"
 *
 * declare const settings: Redis.Settings
 * settings.prefix // "claude-resilience" unless overridden
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export type Settings = typeof Options.Type

const decodeSettings = decodeOptions("Redis", Options)

/**
 * Validates options into {@link Settings}: every problem listed in one
 * `Options.InvalidOptionsError` (module `"Redis"`), never a throw.
 *
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { Redis } from "claude-resilience"
 *
 * Either.isLeft(Redis.settings({ url: "http://example.com" })) // true: not a redis:// URL
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const settings = (options: Options): Either.Either<Settings, InvalidOptionsError> => decodeSettings(options)

// ---------------------------------------------------------------------------
// events, metrics, errors
// ---------------------------------------------------------------------------

/**
 * Where the shared state lives now: `"Shared"` (in Redis) or `"Local"`
 * (this process's copy, while Redis cannot be reached).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Redis } from "claude-resilience"
 *
 * const shared = Effect.flatMap(Redis.Redis, (redis) => redis.status).pipe(
 *   Effect.map((status: Redis.Status) => status === "Shared")
 * )
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export type Status = "Shared" | "Local"

/**
 * A change of {@link Status}: `Fallback` when Redis could not be reached
 * (at start, or a command failed or timed out: `reason` says which, never
 * the URL), `Restored` when it is back. `at` is epoch milliseconds from
 * `Clock`.
 *
 * @example
 * ```ts
 * import { Redis } from "claude-resilience"
 *
 * const describe = (event: Redis.Event): string =>
 *   Redis.Event.$match(event, {
 *     Fallback: ({ reason }) => `on local state: ${reason}`,
 *     Restored: () => "back on Redis"
 *   })
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export type Event = Data.TaggedEnum<{
  Fallback: { readonly at: number; readonly reason: string }
  Restored: { readonly at: number }
}>

/**
 * Constructors, guards and matchers for {@link Event}.
 *
 * @example
 * ```ts
 * import { Redis } from "claude-resilience"
 *
 * Redis.Event.$is("Fallback")(Redis.Event.Restored({ at: 0 })) // false
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export const Event = Data.taggedEnum<Event>()

/**
 * Counter of the switches to local state (each `Fallback`).
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { Redis } from "claude-resilience"
 *
 * const count = Metric.value(Redis.fallbacks)
 * ```
 *
 * @since 0.2.0
 * @category metrics
 */
export const fallbacks = Metric.counter("claude_resilience_redis_fallbacks", {
  description: "Times the shared state fell back to the process's local state because Redis could not be reached",
  incremental: true
})

/**
 * Gauge: 1 while the state is shared through Redis, 0 while it is local.
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { Redis } from "claude-resilience"
 *
 * const shared = Metric.value(Redis.sharedGauge)
 * ```
 *
 * @since 0.2.0
 * @category metrics
 */
export const sharedGauge = Metric.gauge("claude_resilience_redis_shared", {
  description: "1 while the shared state is kept in Redis, 0 while the process runs on its local copy"
})

/**
 * `ioredis` could not be loaded: it is an optional peer dependency,
 * needed only by the Redis layers (`npm install ioredis@^5`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Redis } from "claude-resilience"
 *
 * const program = Effect.scoped(Redis.make({ url: "redis://127.0.0.1:6379" })).pipe(
 *   Effect.catchTag("RedisClientError", (error: Redis.RedisClientError) => Effect.logError(error.message))
 * )
 * ```
 *
 * @since 0.2.0
 * @category errors
 */
export class RedisClientError extends Schema.TaggedError<RedisClientError>()("RedisClientError", {
  message: Schema.String
}) {}

// ---------------------------------------------------------------------------
// the service
// ---------------------------------------------------------------------------

/**
 * The connection.
 *
 * - `status`: `"Shared"` or `"Local"` (see {@link Status}).
 * - `events`: the {@link Event}s from the moment the stream runs.
 * - `subscribe`: the same as a queue, subscribed as soon as it runs.
 * - `connection`: what the Redis stores use (not for applications).
 *
 * @example
 * ```ts
 * import { Effect, Queue } from "effect"
 * import { Redis } from "claude-resilience"
 *
 * const firstEvent = Effect.gen(function*() {
 *   const redis: Redis.Service = yield* Redis.Redis
 *   const events = yield* redis.subscribe
 *   return yield* Queue.take(events)
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Service {
  readonly settings: Settings
  readonly status: Effect.Effect<Status>
  readonly events: Stream.Stream<Event>
  readonly subscribe: Effect.Effect<Queue.Dequeue<Event>, never, Scope.Scope>
  readonly connection: Connection
}

/**
 * The Redis connection service, required by the `layerRedis` layers.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Redis } from "claude-resilience"
 *
 * const status = Effect.flatMap(Redis.Redis, (redis) => redis.status)
 * ```
 *
 * @since 0.2.0
 * @category tags
 */
export class Redis extends Context.Tag("claude-resilience/Redis")<Redis, Service>() {}

/**
 * The full key of `part` under `namespace`: `prefix:{namespace}:part`. The
 * braces make every key of a namespace one Redis Cluster hash slot.
 *
 * @example
 * ```ts
 * import { Redis } from "claude-resilience"
 *
 * Redis.key("claude-resilience", "acme", "breaker") // "claude-resilience:{acme}:breaker"
 * ```
 *
 * @since 0.2.0
 * @category keys
 */
export const key = (prefix: string, namespace: string, part: string): string => `${prefix}:{${namespace}}:${part}`

type Opener = (options: {
  readonly url: string
  readonly connectTimeout: number
  readonly commandTimeout: number
  readonly reconnectInterval: number
}) => Promise<{ readonly client: RawClient; readonly connected: boolean; readonly reason: string }>

const loadOpener: Effect.Effect<Opener, RedisClientError> = Effect.tryPromise({
  try: () => import("./internal/redis/ioredis.js").then((module) => module.open as Opener),
  catch: (cause) =>
    new RedisClientError({
      message: `The Redis layers need ioredis, an optional peer dependency of claude-resilience: ` +
        `npm install ioredis@^5 (${String(cause instanceof Error ? cause.message : cause).slice(0, 200)})`
    })
})

// an identifier unique across processes (and across connections of one process): it
// names the owner of a probe lease and prefixes every version token written
const uniqueId = (): string => {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto
  return crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`
}

const fromClient = (
  given: Settings,
  open: Opener
): Effect.Effect<Service, never, Scope.Scope> =>
  Effect.gen(function*() {
    const hub = yield* Effect.acquireRelease(PubSub.unbounded<Event>(), PubSub.shutdown)
    const opened = yield* Effect.acquireRelease(
      Effect.promise(() =>
        open({
          url: given.url,
          connectTimeout: Duration.toMillis(given.connectTimeout),
          commandTimeout: Duration.toMillis(given.commandTimeout),
          reconnectInterval: Duration.toMillis(given.recheckInterval)
        })
      ),
      ({ client }) => Effect.sync(() => client.close())
    )
    const client = opened.client
    const status = yield* Ref.make<Status>(opened.connected ? "Shared" : "Local")

    const fallBack = (reason: string): Effect.Effect<void> =>
      Effect.flatMap(Ref.getAndSet(status, "Local"), (was) =>
        was === "Local" ? Effect.void : Effect.flatMap(Clock.currentTimeMillis, (at) =>
          Effect.all([
            Effect.logWarning(
              `claude-resilience: Redis cannot be reached (${reason}); the circuit breaker, retry budget and ` +
                `rate limiter go on with this process's local state until it is back`
            ),
            Metric.increment(fallbacks),
            Metric.set(sharedGauge, 0),
            PubSub.publish(hub, Event.Fallback({ at, reason }))
          ], { discard: true })))

    const restore: Effect.Effect<void> = Effect.flatMap(Ref.getAndSet(status, "Shared"), (was) =>
      was === "Shared" ? Effect.void : Effect.flatMap(Clock.currentTimeMillis, (at) =>
        Effect.all([
          Effect.logInfo("claude-resilience: Redis is back; the shared state is used again"),
          Metric.set(sharedGauge, 1),
          PubSub.publish(hub, Event.Restored({ at }))
        ], { discard: true })))

    const describe = (cause: unknown): string =>
      (cause instanceof Error ? cause.message : String(cause)).replace(/\/\/[^@/\s]*@/g, "//").slice(0, 200)

    const run = <A>(command: (client: RawClient) => Promise<A>): Effect.Effect<A, Unavailable> =>
      Effect.tryPromise({
        try: () => command(client),
        catch: (cause): Unavailable => ({ _tag: "Unavailable", reason: describe(cause) })
      }).pipe(Effect.tapError((error) => fallBack(error.reason)))

    if (opened.connected) {
      yield* Metric.set(sharedGauge, 1)
    } else {
      yield* Ref.set(status, "Shared")
      yield* fallBack(describe(opened.reason))
    }

    // while local: is Redis back? (a ping, bounded by the command timeout)
    yield* Effect.forkScoped(
      Effect.flatMap(Ref.get(status), (current) =>
        current === "Shared" ? Effect.void : Effect.tryPromise(() => client.ping()).pipe(
          Effect.zipRight(restore),
          Effect.ignore
        )).pipe(Effect.repeat(Schedule.spaced(given.recheckInterval)))
    )

    const owner = uniqueId()
    let tokens = 0
    const connection: Connection = {
      shared: Effect.map(Ref.get(status), (s) => s === "Shared"),
      run,
      key: (namespace, part) => key(given.prefix, namespace, part),
      token: () => `${owner}.${(tokens++).toString(36)}`,
      owner
    }

    return {
      settings: given,
      status: Ref.get(status),
      events: Stream.fromPubSub(hub),
      subscribe: PubSub.subscribe(hub),
      connection
    } satisfies Service
  })

/**
 * Opens the connection (see the module's description): invalid options fail
 * with `Options.InvalidOptionsError` (module `"Redis"`), a missing `ioredis`
 * with {@link RedisClientError}; a Redis that cannot be reached does not
 * fail it (the process starts on its local state, and a `Fallback` is
 * logged and counted). Closed with the scope.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Redis } from "claude-resilience"
 *
 * const status = Effect.flatMap(Redis.make({ url: "redis://127.0.0.1:6379" }), (redis) => redis.status).pipe(Effect.scoped)
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<Service, InvalidOptionsError | RedisClientError, Scope.Scope> =>
  Effect.flatMap(
    Effect.suspend(() => decodeSettings(options)),
    (given) => Effect.flatMap(loadOpener, (open) => fromClient(given, open))
  )

/**
 * The connection as a layer: provide it once, below the `layerRedis`
 * layers of the breaker, the budget and the limiter (or use
 * `Resilience.layerRedis`, which does).
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { CircuitBreaker, Redis } from "claude-resilience"
 *
 * const BreakerLive = CircuitBreaker.layerRedis({ namespace: "acme-prod" }).pipe(
 *   Layer.provide(Redis.layer({ url: "redis://127.0.0.1:6379" }))
 * )
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Redis, InvalidOptionsError | RedisClientError> =>
  Layer.scoped(Redis, make(options))
