/**
 * A process-wide retry budget: a token bucket (in the style of Finagle's and
 * gRPC's retry budgets) that keeps retries a bounded fraction of traffic
 * during an outage.
 *
 * - Every first attempt of a call deposits `percent` of a token (0.2 by
 *   default). A deposit expires `ttl` after it was made (10 s by default):
 *   only recent traffic earns retries.
 * - A reserve is earned at `minRetriesPerSecond` tokens per second (10 by
 *   default), from the moment the budget is made, and holds at most
 *   `minRetriesPerSecond × ttl` tokens (100 by default). It lets a quiet
 *   client retry at all.
 * - Every retry withdraws one whole token, from the deposits first (oldest
 *   first, since they expire first), the rest from the reserve. With less
 *   than one token in the bucket the retry is refused.
 *
 * Hence, over any span of `T` seconds that starts when the budget is made,
 * `retries ≤ percent × firstAttempts + minRetriesPerSecond × T`, so with the
 * defaults `calls ≤ 1.2 × firstAttempts + 10 × T`.
 *
 * All time is read from `Clock`; the state lives in a `SynchronizedRef`, so
 * one budget can be shared by every fiber and every client of a process:
 * provide {@link layer} once, at the top.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as SynchronizedRef from "effect/SynchronizedRef"
import { decodeDuration, describeValue } from "./internal/options.js"

// ---------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------

/**
 * The budget's settings. Every field is optional; see {@link defaults}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Tokens earned by one first attempt: the fraction of first attempts that may be retried. Finite, ≥ 0. Default 0.2. */
  readonly percent?: number | undefined
  /** How long a deposit stays in the bucket. Finite, > 0. Default 10 seconds. */
  readonly ttl?: Duration.DurationInput | undefined
  /** Reserve tokens earned per second, whatever the traffic. Finite, ≥ 0. Default 10. */
  readonly minRetriesPerSecond?: number | undefined
}

/**
 * Validated settings, as {@link make} uses them.
 *
 * @since 0.1.0
 * @category models
 */
export interface Settings {
  readonly percent: number
  readonly ttl: Duration.Duration
  readonly minRetriesPerSecond: number
}

/**
 * The seeds' defaults: retries ≤ 20 % of first attempts, deposits expire
 * after 10 s, a reserve of 10 retries per second.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults: Settings = {
  percent: 0.2,
  ttl: Duration.seconds(10),
  minRetriesPerSecond: 10
}

/**
 * The options given to {@link make} or {@link layer} are not valid. Every
 * problem found is listed, each naming its option.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidRetryBudgetOptionsError extends Schema.TaggedError<InvalidRetryBudgetOptionsError>()(
  "InvalidRetryBudgetOptionsError",
  {
    message: Schema.String,
    problems: Schema.Array(Schema.Struct({ option: Schema.String, reason: Schema.String }))
  }
) {}

/**
 * Validates options and fills in the defaults.
 *
 * @since 0.1.0
 * @category constructors
 */
export const settings = (options: Options = {}): Either.Either<Settings, InvalidRetryBudgetOptionsError> => {
  const problems: Array<{ readonly option: string; readonly reason: string }> = []
  const percent = options.percent ?? defaults.percent
  if (typeof percent !== "number" || !Number.isFinite(percent) || percent < 0) {
    problems.push({ option: "percent", reason: `must be a finite number ≥ 0, got ${describeValue(percent)}` })
  }
  const rate = options.minRetriesPerSecond ?? defaults.minRetriesPerSecond
  if (typeof rate !== "number" || !Number.isFinite(rate) || rate < 0) {
    problems.push({
      option: "minRetriesPerSecond",
      reason: `must be a finite number ≥ 0, got ${describeValue(rate)}`
    })
  }
  let ttl = defaults.ttl
  if (options.ttl !== undefined) {
    const decoded = decodeDuration(options.ttl)
    if (Option.isNone(decoded)) {
      problems.push({ option: "ttl", reason: `must be a non-negative duration, got ${describeValue(options.ttl)}` })
    } else if (!Duration.isFinite(decoded.value) || Duration.toMillis(decoded.value) <= 0) {
      problems.push({ option: "ttl", reason: `must be finite and > 0, got ${describeValue(options.ttl)}` })
    } else {
      ttl = decoded.value
    }
  }
  if (problems.length > 0) {
    return Either.left(
      new InvalidRetryBudgetOptionsError({
        message: `Invalid RetryBudget options: ${problems.map((p) => `${p.option} ${p.reason}`).join("; ")}`,
        problems
      })
    )
  }
  return Either.right({ percent, ttl, minRetriesPerSecond: rate })
}

// ---------------------------------------------------------------------------
// the bucket: a pure state machine over integer micro-tokens
// ---------------------------------------------------------------------------

/** Tokens are counted in millionths, so that 0.2 × 5 is exactly 1. */
const UNIT = 1_000_000

interface Deposit {
  /** Epoch millis at which the deposit leaves the bucket. */
  readonly expiresAt: number
  /** What is left of it, in micro-tokens. */
  readonly units: number
}

interface State {
  /** Unexpired deposits with something left, oldest first. */
  readonly deposits: ReadonlyArray<Deposit>
  /** The instant at which the reserve was (or would have been) empty. */
  readonly reserveEmptyAt: number
}

interface Bucket {
  readonly depositUnits: number
  readonly ttlMillis: number
  /** Micro-tokens earned per millisecond of reserve. */
  readonly reservePerMilli: number
  readonly reserveCapUnits: number
}

const prune = (state: State, now: number): State => {
  let i = 0
  while (i < state.deposits.length && state.deposits[i]!.expiresAt <= now) i++
  return i === 0 ? state : { ...state, deposits: state.deposits.slice(i) }
}

const reserveUnits = (bucket: Bucket, state: State, now: number): number =>
  Math.min(bucket.reserveCapUnits, Math.floor(bucket.reservePerMilli * Math.max(0, now - state.reserveEmptyAt)))

const depositedUnits = (state: State): number => state.deposits.reduce((sum, d) => sum + d.units, 0)

const deposit = (bucket: Bucket, state: State, now: number): State => {
  const pruned = prune(state, now)
  const expiresAt = now + bucket.ttlMillis
  const last = pruned.deposits[pruned.deposits.length - 1]
  if (last !== undefined && last.expiresAt === expiresAt) {
    return {
      ...pruned,
      deposits: [...pruned.deposits.slice(0, -1), { expiresAt, units: last.units + bucket.depositUnits }]
    }
  }
  return bucket.depositUnits === 0 ? pruned : {
    ...pruned,
    deposits: [...pruned.deposits, { expiresAt, units: bucket.depositUnits }]
  }
}

const withdraw = (bucket: Bucket, state: State, now: number, sendAt: number): readonly [boolean, State] => {
  const pruned = prune(state, now)
  // the reserve pays for a call when it is sent: what it will have earned by then
  const reserve = reserveUnits(bucket, pruned, sendAt)
  if (depositedUnits(pruned) + reserve < UNIT) return [false, pruned]
  let owed = UNIT
  const deposits: Array<Deposit> = []
  for (const d of pruned.deposits) {
    if (owed === 0) {
      deposits.push(d)
    } else if (d.units <= owed) {
      owed -= d.units
    } else {
      deposits.push({ expiresAt: d.expiresAt, units: d.units - owed })
      owed = 0
    }
  }
  // what the deposits could not cover comes out of the reserve
  const reserveEmptyAt = owed === 0
    ? pruned.reserveEmptyAt
    : sendAt - (reserve - owed) / bucket.reservePerMilli
  return [true, { deposits, reserveEmptyAt }]
}

// ---------------------------------------------------------------------------
// the service
// ---------------------------------------------------------------------------

/**
 * What is in the bucket, in tokens (one token pays for one retry).
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
 * The process-wide retry budget. `RetryPolicy.retry` consults it when it is
 * in the context and runs unbudgeted when it is not.
 *
 * @since 0.1.0
 * @category services
 */
export class RetryBudget extends Context.Tag("claude-resilience/RetryBudget")<RetryBudget, Service>() {}

const fromSettings = (s: Settings): Effect.Effect<Service> =>
  Effect.gen(function*() {
    const bucket: Bucket = {
      depositUnits: Math.round(s.percent * UNIT),
      ttlMillis: Duration.toMillis(s.ttl),
      reservePerMilli: (s.minRetriesPerSecond * UNIT) / 1000,
      reserveCapUnits: Math.floor(s.minRetriesPerSecond * Duration.toSeconds(s.ttl) * UNIT)
    }
    const start = yield* Clock.currentTimeMillis
    const ref = yield* SynchronizedRef.make<State>({ deposits: [], reserveEmptyAt: start })
    const withNow = <A>(f: (state: State, now: number) => readonly [A, State]) =>
      SynchronizedRef.modifyEffect(ref, (state) => Effect.map(Clock.currentTimeMillis, (now) => f(state, now)))
    return {
      settings: s,
      deposit: withNow((state, now) => [undefined, deposit(bucket, state, now)] as const),
      tryWithdraw: withNow((state, now) => withdraw(bucket, state, now, now)),
      tryWithdrawFor: (wait) =>
        withNow((state, now) => withdraw(bucket, state, now, now + Math.max(0, Duration.toMillis(wait)))),
      balance: withNow((state, now) => {
        const pruned = prune(state, now)
        const d = depositedUnits(pruned)
        const r = reserveUnits(bucket, pruned, now)
        return [{ deposits: d / UNIT, reserve: r / UNIT, total: (d + r) / UNIT }, pruned] as const
      })
    }
  })

/**
 * Makes a budget. Its reserve starts empty and fills at
 * `minRetriesPerSecond` from now; a retry is paid as of when it will be sent
 * (after its wait), so the first retry of a new process is not refused for
 * want of reserve if its wait has earned one. Invalid options fail with
 * {@link InvalidRetryBudgetOptionsError}.
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
export const make = (options?: Options): Effect.Effect<Service, InvalidRetryBudgetOptionsError> =>
  Effect.flatMap(settings(options), fromSettings)

/**
 * One budget for the whole process: provide it once, above every client.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<RetryBudget, InvalidRetryBudgetOptionsError> =>
  Layer.effect(RetryBudget, make(options))
