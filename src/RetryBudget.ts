/**
 * A process-wide retry budget: a token bucket (in the style of Finagle's and
 * gRPC's retry budgets) that keeps retries a bounded fraction of traffic
 * during an outage.
 *
 * - Every first attempt of a call deposits `percent` of a token (0.2 by
 *   default). A deposit expires `ttl` after it was made (10 s by default),
 *   measured in buckets of 1 % of the `ttl` (100 ms by default): a deposit
 *   made inside a bucket expires when the bucket's first instant is `ttl`
 *   old, so it stays between 99 % and 100 % of the `ttl`, never longer. Only
 *   recent traffic earns retries.
 * - A reserve is earned at `minRetriesPerSecond` tokens per second (10 by
 *   default) and holds at most `minRetriesPerSecond × ttl` tokens (100 by
 *   default). It starts full, as gRPC's retry throttling and the AWS SDKs'
 *   retry quota do, so that a process that builds its budget per invocation
 *   (a CLI, a serverless function) retries its first failures; and it lets a
 *   quiet client retry at all.
 * - Every retry withdraws one whole token, from the deposits first (oldest
 *   first, since they expire first), the rest from the reserve. With less
 *   than one token in the bucket the retry is refused.
 *
 * Hence, over any span of `T` seconds that starts when the budget is made,
 * `retries ≤ percent × firstAttempts + minRetriesPerSecond × T + reserve`,
 * where `reserve = minRetriesPerSecond × ttl` is what it starts with: with
 * the defaults, `calls ≤ 1.2 × firstAttempts + 10 × T + 100`. (The buckets
 * only make deposits expire up to 1 % of the `ttl` early: the bound, which
 * counts every deposit once whatever its life, is exact.)
 *
 * Deposits, withdrawals and reads are O(1): the deposits live in a ring of
 * 100 buckets with a running sum, in integer millionths of a token (exact:
 * 0.2 × 5 is 1), updated in one synchronous step per operation, so one
 * budget can be shared by every fiber and every client of a process without
 * overdrawing it: provide {@link layer} once, at the top. All time is read
 * from `Clock`.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import { decodeOptions, duration, type Input, number, withDefault } from "./internal/options.js"
import { decodeRedisOptions, jsonCodec, type RedisStoreOptions, sharedStore } from "./internal/redis/shared.js"
import type { InvalidOptionsError } from "./Options.js"
import * as Redis from "./Redis.js"

// ---------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------

/**
 * The bounds of the options, so that every figure of the bucket
 * stays finite and its arithmetic exact.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import { RetryBudget } from "claude-resilience"
 *
 * Duration.toMillis(RetryBudget.limits.ttl) // 3 600 000
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const limits = {
  /** The largest `percent`: 1000 (Finagle's limit). */
  percent: 1000,
  /** The longest `ttl`: 1 hour. */
  ttl: Duration.hours(1),
  /** The shortest `ttl`: 100 ms (one bucket of its ring is 1 ms). */
  minTtl: Duration.millis(100),
  /** The largest `minRetriesPerSecond`: 100 000. */
  minRetriesPerSecond: 100_000
} as const

/**
 * The budget's options as a Schema: what a user writes (every field
 * optional, `ttl` any `Duration.DurationInput`) decoded into
 * {@link Settings} (every field set, `ttl` a `Duration`). Unknown keys are
 * refused.
 *
 * - `percent`: tokens earned by one first attempt, the fraction of first
 *   attempts that may be retried. From 0 to 1000. Default 0.2.
 * - `ttl`: how long a deposit stays in the bucket; also sizes the reserve.
 *   Above 0, at most 1 hour. Default 10 seconds.
 * - `minRetriesPerSecond`: reserve tokens earned per second, whatever the
 *   traffic. From 0 to 100 000. Default 10.
 *
 * @example
 * ```ts
 * import { RetryBudget } from "claude-resilience"
 *
 * const options: RetryBudget.Options = { percent: 0.1, ttl: "30 seconds" }
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export const Options = Schema.Struct({
  percent: withDefault(number({ min: 0, max: limits.percent }), () => 0.2),
  // a bucket of the ring is 1 % of the ttl: at least 1 ms, so that a bucket's
  // index (epoch milliseconds over its width) stays an exact integer
  ttl: withDefault(
    duration({ min: limits.minTtl, max: limits.ttl, wholeMillis: true }),
    () => Duration.seconds(10)
  ),
  minRetriesPerSecond: withDefault(number({ min: 0, max: limits.minRetriesPerSecond }), () => 10)
})

/**
 * What {@link make}, {@link layer} and {@link settings} take: every field
 * optional (see {@link Options} for each one's range and default).
 *
 * @example
 * ```ts
 * import { RetryBudget } from "claude-resilience"
 *
 * const strict: RetryBudget.Options = { percent: 0.1, minRetriesPerSecond: 1 }
 * ```
 *
 * @since 0.1.0
 * @category options
 */
export type Options = Input<typeof Options.Encoded>

/**
 * Validated settings, as the budget runs on them: every field set, `ttl` a
 * `Duration`.
 *
 * @example
 * ```ts
 * import { Duration, Either } from "effect"
 * import { RetryBudget } from "claude-resilience"
 *
 * const settings: RetryBudget.Settings = Either.getOrThrow(RetryBudget.settings({ ttl: "30 seconds" }))
 * Duration.toSeconds(settings.ttl) // 30
 * ```
 *
 * @since 0.1.0
 * @category options
 */
export type Settings = typeof Options.Type

/**
 * The defaults (retries ≤ 20 % of first attempts, deposits expire after
 * 10 s, a reserve of 10 retries per second), as Finagle's and gRPC's retry
 * budgets suggest.
 *
 * @example
 * ```ts
 * import { RetryBudget } from "claude-resilience"
 *
 * RetryBudget.defaults.percent // 0.2
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults: Settings = {
  percent: 0.2,
  ttl: Duration.seconds(10),
  minRetriesPerSecond: 10
}

const decodeSettings = decodeOptions("RetryBudget", Options)

/**
 * Validates options and fills in the defaults. Never throws, whatever it is
 * given: options that are not an object (`null`), an unknown key, an option
 * that throws when read, and every value out of its range (see
 * {@link limits}) are each a problem of one `Options.InvalidOptionsError`
 * (module `"RetryBudget"`), at its path.
 *
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { RetryBudget } from "claude-resilience"
 *
 * const settings = RetryBudget.settings({ percent: 0.1 })
 * if (Either.isRight(settings)) console.log(settings.right.minRetriesPerSecond) // 10
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const settings = (options?: Options): Either.Either<Settings, InvalidOptionsError> => decodeSettings(options)

// ---------------------------------------------------------------------------
// the bucket: integer micro-tokens in a ring of coarse buckets
// ---------------------------------------------------------------------------

/** Tokens are counted in millionths, so that 0.2 × 5 is exactly 1. */
const UNIT = 1_000_000

/** The deposits' ring: this many buckets over one `ttl`. */
const BUCKETS = 100

/** Deposits saturate here, so that the running sum stays an exact integer. */
const MAX_DEPOSITED = Number.MAX_SAFE_INTEGER

interface Bucket {
  readonly depositUnits: number
  readonly ttlMillis: number
  /** The width of one bucket of the ring: `ttl / 100`. */
  readonly bucketMillis: number
  /** Micro-tokens earned per millisecond of reserve. */
  readonly reservePerMilli: number
  readonly reserveCapUnits: number
}

/** A budget's state as plain data, as a shared store keeps it. */
const Plain = Schema.Struct({
  oldest: Schema.Number,
  slots: Schema.Array(Schema.Number),
  deposited: Schema.Number,
  reserveEmptyAt: Schema.Number,
  lastNow: Schema.Number
})
type Plain = typeof Plain.Type

/**
 * The mutable state of one budget. Deposits made in `[k·w, (k+1)·w)` (`w` the
 * bucket width) are summed in bucket `k`, held in slot `k mod 100`; bucket
 * `k` expires at `k·w + ttl`. The live buckets are `oldest..newest` (none
 * when `oldest > newest`); every other slot is zero, and `deposited` is the
 * sum of the live ones.
 */
class State {
  readonly slots = new Float64Array(BUCKETS)
  oldest = 0
  newest = -1
  deposited = 0
  /** The instant at which the reserve was (or would have been) empty. */
  reserveEmptyAt: number
  /** The latest instant seen: a clock that steps back is read as this. */
  lastNow: number

  /** The state as plain JSON data: the live buckets oldest first, and the reserve. */
  toPlain(): Plain {
    const live: Array<number> = []
    for (let k = this.oldest; k <= this.newest; k++) live.push(this.slots[k % BUCKETS]!)
    return {
      oldest: this.oldest,
      slots: live,
      deposited: this.deposited,
      reserveEmptyAt: this.reserveEmptyAt,
      lastNow: this.lastNow
    }
  }

  /** A state from its plain form (see {@link toPlain}); `undefined` for one that does not fit this bucket. */
  static fromPlain(bucket: Bucket, plain: Plain): State | undefined {
    if (plain.slots.length > BUCKETS) return undefined
    const state = new State(bucket, plain.lastNow)
    state.oldest = plain.oldest
    state.newest = plain.oldest + plain.slots.length - 1
    plain.slots.forEach((units, i) => {
      state.slots[(plain.oldest + i) % BUCKETS] = units
    })
    state.deposited = plain.deposited
    state.reserveEmptyAt = plain.reserveEmptyAt
    return state
  }

  constructor(readonly bucket: Bucket, start: number) {
    this.lastNow = start
    // a full reserve: empty long enough ago to have earned its cap
    this.reserveEmptyAt = bucket.reservePerMilli > 0
      ? start - Math.ceil(bucket.reserveCapUnits / bucket.reservePerMilli)
      : start
  }

  private now(now: number): number {
    this.lastNow = Math.max(this.lastNow, now)
    return this.lastNow
  }

  private dropOldest(): void {
    const slot = this.oldest % BUCKETS
    this.deposited -= this.slots[slot]!
    this.slots[slot] = 0
    this.oldest++
  }

  /** Drops the buckets that have expired at `now`: at most 100 steps, each bucket dropped once. */
  private expire(now: number): void {
    const { bucketMillis, ttlMillis } = this.bucket
    while (this.oldest <= this.newest && this.oldest * bucketMillis + ttlMillis <= now) this.dropOldest()
  }

  reserveUnits(at: number): number {
    const { reserveCapUnits, reservePerMilli } = this.bucket
    return Math.min(reserveCapUnits, Math.floor(reservePerMilli * Math.max(0, at - this.reserveEmptyAt)))
  }

  deposit(clock: number): void {
    const now = this.now(clock)
    this.expire(now)
    const units = Math.min(this.bucket.depositUnits, MAX_DEPOSITED - this.deposited)
    if (units <= 0) return
    const k = Math.floor(now / this.bucket.bucketMillis)
    // bucket k - 100 shares k's slot; it has expired by now, but a rounding
    // of `k·w + ttl` must not leave it there
    while (this.oldest <= this.newest && this.oldest <= k - BUCKETS) this.dropOldest()
    if (this.oldest > this.newest) {
      this.oldest = k
      this.newest = k
    } else if (k > this.newest) {
      // buckets newest+1..k are empty: their slots were freed when the
      // buckets 100 before them expired (at or before now)
      this.newest = k
    }
    this.slots[k % BUCKETS]! += units
    this.deposited += units
  }

  /** Pays one token for a retry decided at `clock` and sent at `clock + wait`. */
  withdraw(clock: number, wait: number): boolean {
    const now = this.now(clock)
    this.expire(now)
    // the reserve pays for a call when it is sent: what it will have earned by then
    const sendAt = now + wait
    const reserve = this.reserveUnits(sendAt)
    if (this.deposited + reserve < UNIT) return false
    let owed = UNIT
    // the oldest deposits first: they expire first
    while (owed > 0 && this.oldest <= this.newest) {
      const slot = this.oldest % BUCKETS
      const taken = Math.min(owed, this.slots[slot]!)
      this.slots[slot]! -= taken
      this.deposited -= taken
      owed -= taken
      if (this.slots[slot] === 0) this.oldest++
    }
    // what the deposits could not cover comes out of the reserve
    if (owed > 0) this.reserveEmptyAt = sendAt - (reserve - owed) / this.bucket.reservePerMilli
    return true
  }

  balance(clock: number): Balance {
    const now = this.now(clock)
    this.expire(now)
    const reserve = this.reserveUnits(now)
    return {
      deposits: this.deposited / UNIT,
      reserve: reserve / UNIT,
      total: (this.deposited + reserve) / UNIT
    }
  }
}

// ---------------------------------------------------------------------------
// the service
// ---------------------------------------------------------------------------

/**
 * What is in the bucket, in tokens (one token pays for one retry).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RetryBudget } from "claude-resilience"
 *
 * const total = Effect.map(RetryBudget.RetryBudget, (budget) => budget.balance).pipe(
 *   Effect.flatten,
 *   Effect.map((balance: RetryBudget.Balance) => balance.total)
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Balance {
  /** Tokens left from unexpired deposits. */
  readonly deposits: number
  /** Tokens in the reserve. */
  readonly reserve: number
  /** `deposits + reserve`; a retry needs at least 1. */
  readonly total: number
}

/**
 * The budget's interface.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RetryBudget } from "claude-resilience"
 *
 * declare const budget: RetryBudget.Service
 * const retryAllowed: Effect.Effect<boolean> = Effect.zipRight(budget.deposit, budget.tryWithdraw)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The settings in force. */
  readonly settings: Settings
  /** Records a first attempt: adds `percent` of a token, to expire after `ttl`. */
  readonly deposit: Effect.Effect<void>
  /** Takes one token for a retry sent now if there is one; `false` (and nothing taken) if not. */
  readonly tryWithdraw: Effect.Effect<boolean>
  /**
   * Takes one token for a retry that will be sent after `wait`: the reserve
   * counts what it will have earned by then, so a retry decided at once but
   * sent after its backoff is paid as of its sending (the bound on calls made
   * by any instant holds). `false` (and nothing taken) if there is none.
   */
  readonly tryWithdrawFor: (wait: Duration.Duration) => Effect.Effect<boolean>
  /** The bucket's contents now. */
  readonly balance: Effect.Effect<Balance>
}

/**
 * The process-wide retry budget. `Resilience.retry` and `Resilience.protect`
 * require it (each call deposits, each retry withdraws); provide it once
 * with {@link layer} or `Resilience.layer`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RetryBudget } from "claude-resilience"
 *
 * const balance = Effect.flatMap(RetryBudget.RetryBudget, (budget) => budget.balance).pipe(
 *   Effect.provide(RetryBudget.layer())
 * )
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class RetryBudget extends Context.Tag("claude-resilience/RetryBudget")<RetryBudget, Service>() {}

const bucketOf = (s: Settings): Bucket => {
  const ttlMillis = Duration.toMillis(s.ttl)
  return {
    depositUnits: Math.round(s.percent * UNIT),
    ttlMillis,
    bucketMillis: ttlMillis / BUCKETS,
    reservePerMilli: (s.minRetriesPerSecond * UNIT) / 1000,
    reserveCapUnits: Math.floor(s.minRetriesPerSecond * Duration.toSeconds(s.ttl) * UNIT)
  }
}

/**
 * Where a budget's state lives: `update(f)` runs `f` on the state (which
 * it may change) as one atomic step. The memory store runs it on one
 * object in one synchronous step; a shared store runs it on a copy read
 * from Redis, as a compare-and-set (so `f` may run more than once, each
 * time on a fresh copy).
 */
interface BucketStore {
  readonly update: <A>(f: (state: State, now: number) => A) => Effect.Effect<A>
}

const memoryStore = (bucket: Bucket): Effect.Effect<BucketStore> =>
  Effect.clockWith((clock) =>
    Effect.sync(() => {
      const state = new State(bucket, clock.unsafeCurrentTimeMillis())
      // each operation reads the clock and updates the state in one
      // synchronous step: no fiber can interleave with it
      return {
        update: <A>(f: (state: State, now: number) => A) =>
          Effect.clockWith((clock) => Effect.sync(() => f(state, clock.unsafeCurrentTimeMillis())))
      }
    })
  )

const fromStore = (s: Settings, store: BucketStore): Service => ({
  settings: s,
  deposit: store.update((state, now) => state.deposit(now)),
  tryWithdraw: store.update((state, now) => state.withdraw(now, 0)),
  tryWithdrawFor: (wait) =>
    store.update((state, now) => {
      const millis = Duration.toMillis(wait)
      // a wait from untyped code that is no finite, non-negative number pays as of now
      return state.withdraw(now, Number.isFinite(millis) && millis > 0 ? millis : 0)
    }),
  balance: store.update((state, now) => state.balance(now))
})

const fromSettings = (s: Settings): Effect.Effect<Service> =>
  Effect.map(memoryStore(bucketOf(s)), (store) => fromStore(s, store))

/**
 * Makes a budget. Its reserve starts full (`minRetriesPerSecond × ttl`
 * tokens) and refills at `minRetriesPerSecond`; a retry is paid as of when it
 * will be sent (after its wait). Invalid options, of any type, fail with
 * `Options.InvalidOptionsError` (see {@link settings}); nothing throws.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RetryBudget } from "claude-resilience"
 *
 * Effect.gen(function*() {
 *   const budget = yield* RetryBudget.make({ percent: 0.1 })
 *   yield* budget.deposit
 *   const allowed = yield* budget.tryWithdraw
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<Service, InvalidOptionsError> =>
  Effect.suspend(() => Effect.flatMap(settings(options), fromSettings))

/**
 * One budget for the whole process: provide it once, above every client
 * (`Resilience.layer` provides one together with a circuit breaker).
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { type ApiError, CircuitBreaker, Resilience, RetryBudget } from "claude-resilience"
 *
 * declare const call: Effect.Effect<string, ApiError.ApiError>
 *
 * // a tighter budget than Resilience.layer's default one
 * const program = call.pipe(
 *   Resilience.retry(),
 *   Effect.provide(Layer.merge(CircuitBreaker.layer(), RetryBudget.layer({ percent: 0.1 })))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<RetryBudget, InvalidOptionsError> =>
  Layer.effect(RetryBudget, make(options))

/**
 * What {@link layerRedis} takes: the budget's {@link Options} and the
 * `namespace` its bucket is kept under in Redis (every process with the
 * same namespace shares one budget; two namespaces never touch).
 *
 * @example
 * ```ts
 * import { RetryBudget } from "claude-resilience"
 *
 * const options: RetryBudget.RedisOptions = { namespace: "acme-prod", percent: 0.1 }
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export type RedisOptions = RedisStoreOptions & Options

const decodeBudgetRedisOptions = decodeRedisOptions("RetryBudget", (rest) => decodeSettings(rest))

/**
 * Builds a budget shared through Redis (see {@link layerRedis}).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Redis, RetryBudget } from "claude-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const budget = yield* RetryBudget.makeRedis({ namespace: "acme-prod" })
 *   return yield* budget.balance
 * }).pipe(Effect.provide(Redis.layer({ url: "redis://127.0.0.1:6379" })), Effect.scoped)
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeRedis = (options: RedisOptions): Effect.Effect<Service, InvalidOptionsError, Redis.Redis> =>
  Effect.gen(function*() {
    const { namespace, settings: s } = yield* decodeBudgetRedisOptions(options)
    const redis = yield* Redis.Redis
    const bucket = bucketOf(s)
    const start = yield* Clock.currentTimeMillis
    const fresh = new State(bucket, start).toPlain()
    const local = yield* Ref.make<Plain>(fresh)
    const shared = sharedStore<Plain>({
      connection: redis.connection,
      key: redis.connection.key(namespace, "budget"),
      codec: jsonCodec(Plain),
      initial: fresh,
      local,
      // after one ttl of quiet every deposit has expired and the reserve is full: a missing key is the same
      ttl: () => bucket.ttlMillis + 60_000
    })
    const store: BucketStore = {
      update: (f) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          shared.modify((plain) => {
            // a state made with other settings (another ttl) starts again
            const state = State.fromPlain(bucket, plain) ?? new State(bucket, now)
            const result = f(state, now)
            const next = state.toPlain()
            return [result, JSON.stringify(next) === JSON.stringify(plain) ? plain : next] as const
          }))
    }
    return fromStore(s, store)
  })

/**
 * One budget shared by a fleet of processes through Redis (the
 * {@link Redis.Redis} connection in the context, see `Redis.layer`): every
 * process's first attempts deposit into it and every retry of any of them
 * withdraws from it, so that the fleet's retries stay within
 * `percent × first attempts + minRetriesPerSecond × T + reserve`, as one
 * process's do. Each operation is one atomic compare-and-set of one key,
 * which expires after a `ttl` of quiet (a missing key is a full reserve and
 * no deposit, which is what a `ttl` of quiet leaves); every instant comes
 * from the caller's `Clock`. While Redis cannot be reached the budget goes
 * on from this process's copy, and goes back to Redis when it is back.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { Redis, RetryBudget } from "claude-resilience"
 *
 * const BudgetLive = RetryBudget.layerRedis({ namespace: "acme-prod", percent: 0.1 }).pipe(
 *   Layer.provide(Redis.layer({ url: "redis://127.0.0.1:6379" }))
 * )
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerRedis = (options: RedisOptions): Layer.Layer<RetryBudget, InvalidOptionsError, Redis.Redis> =>
  Layer.effect(RetryBudget, makeRedis(options))
