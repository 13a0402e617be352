/**
 * A circuit breaker over a rolling time window of call outcomes. When too
 * large a share of recent calls ended in a server-side failure, the breaker
 * opens: calls then fail at once with {@link CircuitOpenError} and no request
 * is sent. After a short open period it half-opens and lets a few probe calls
 * through; their success closes it again, and a failed probe reopens it for a
 * longer period (2 s, 4 s, 8 s, then 10 s each time by default), so that a
 * long outage is probed rarely and a short one does not hold a recovered API
 * back for long.
 *
 * The window is a fixed number of buckets (30 by default, one per second of
 * the default 30 s window) with running totals, so recording an outcome costs
 * the same whatever the traffic.
 *
 * The state machine is the pure function {@link transition}; the service keeps
 * its state in a {@link Store}, so that a shared store (Redis, later) can make
 * several processes use one breaker.
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
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as PubSub from "effect/PubSub"
import type * as Queue from "effect/Queue"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as ApiError from "./ApiError.js"
import {
  decodeOptions,
  describeValue,
  duration,
  type Input,
  number,
  optional,
  satisfying,
  withDefault
} from "./internal/options.js"
import { makeMemory, type Store as StoreOf } from "./internal/store.js"
import {
  admitsAt,
  decideAdvanced,
  Event,
  evolve,
  initialState,
  millisOf,
  type Reject,
  State,
  type Transition
} from "./internal/circuitBreaker/machine.js"
import { makeBreakerStore } from "./internal/redis/breakerStore.js"
import { decodeRedisOptions, type RedisStoreOptions } from "./internal/redis/shared.js"
import { InvalidOptionsError } from "./Options.js"
import * as Redis from "./Redis.js"

// the pure state machine (states, window, events, admission, transitions)
export {
  Admission,
  admission,
  type Admit,
  type Bucket,
  bucketIndex,
  emptyWindow,
  Event,
  initialState,
  nextOpenDuration,
  type Reject,
  State,
  step,
  type Transition,
  transition,
  type Window,
  windowCounts
} from "./internal/circuitBreaker/machine.js"

// ---------------------------------------------------------------------------
// options and settings
// ---------------------------------------------------------------------------

/**
 * The validated settings a breaker runs on, as {@link settings} decodes
 * them from {@link Options}: every field set, durations as `Duration`s.
 *
 * @example
 * ```ts
 * import { Duration, Either } from "effect"
 * import { CircuitBreaker } from "claude-resilience"
 *
 * const settings: CircuitBreaker.Settings = Either.getOrThrow(CircuitBreaker.settings({ window: "1 minute" }))
 * Duration.toSeconds(settings.window) // 60
 * ```
 *
 * @since 0.1.0
 * @category options
 */
export interface Settings {
  /** Length of the rolling window: whole milliseconds, from 1 ms to 365 days. */
  readonly window: Duration.Duration
  /** Buckets the window is cut into (an integer from 1 to 1000). */
  readonly windowBuckets: number
  /** Failure rate at or above which the breaker opens, in (0, 1]. */
  readonly failureRateThreshold: number
  /** Calls the window must hold before the rate is judged (an integer ≥ 1). */
  readonly minimumCalls: number
  /** The first open period: finite, whole milliseconds (≥ 0). */
  readonly openDuration: Duration.Duration
  /** Each failed probe round multiplies the open period by this (finite, ≥ 1). */
  readonly openDurationFactor: number
  /** The longest open period: finite, whole milliseconds, at least `openDuration`. */
  readonly maxOpenDuration: Duration.Duration
  /** Probe calls admitted while half-open (an integer ≥ 1). */
  readonly halfOpenProbes: number
  /** Whether a call's typed error counts as a failure. */
  readonly isFailure: (error: unknown) => boolean
  /** The `breaker` tag of the breaker's metrics. */
  readonly name: string
  /** Where the state lives; absent for a new in-memory store per breaker. */
  readonly store?: Store
}

/**
 * The defaults: a 30 s window in 30 buckets of 1 s, opening at a failure
 * rate of 30 % or more once the window holds at least 10 calls; open for
 * 2 s, then twice as long after each failed probe round up to 10 s
 * (2, 4, 8, 10, 10 … s), back to 2 s once it closes; 3 probes; failures
 * judged by {@link isServerFailure}; metrics tagged `breaker: "default"`.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import { CircuitBreaker } from "claude-resilience"
 *
 * Duration.toMillis(CircuitBreaker.defaults.openDuration) // 2000
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults: Settings = {
  window: Duration.seconds(30),
  windowBuckets: 30,
  failureRateThreshold: 0.3,
  minimumCalls: 10,
  openDuration: Duration.seconds(2),
  openDurationFactor: 2,
  maxOpenDuration: Duration.seconds(10),
  halfOpenProbes: 3,
  // a function, not the value: isServerFailure is defined further down
  isFailure: (error) => isServerFailure(error),
  name: "default"
}

// the largest span a JavaScript date can express: keeps every instant printable
const MAX_MILLIS = 8.64e15
// the longest window; it also keeps the bucket arithmetic exact (see bucketIndex)
const MAX_WINDOW = Duration.days(365)
const MAX_WINDOW_BUCKETS = 1000
const MAX_PERIOD = Duration.millis(MAX_MILLIS)

const isStore = (u: unknown): u is Store =>
  Predicate.isObject(u) && Effect.isEffect((u as Store).get) && typeof (u as Store).modify === "function"

const isClassifier = (u: unknown): u is (error: unknown) => boolean => typeof u === "function"

const OptionsFields = Schema.Struct({
  window: withDefault(duration({ positive: true, wholeMillis: true, max: MAX_WINDOW }), () => defaults.window),
  windowBuckets: withDefault(
    number({ min: 1, max: MAX_WINDOW_BUCKETS, integer: true }),
    () => defaults.windowBuckets
  ),
  failureRateThreshold: withDefault(
    number({ min: 0, max: 1, minExclusive: true }),
    () => defaults.failureRateThreshold
  ),
  minimumCalls: withDefault(number({ min: 1, integer: true }), () => defaults.minimumCalls),
  openDuration: withDefault(duration({ wholeMillis: true, max: MAX_PERIOD }), () => defaults.openDuration),
  openDurationFactor: withDefault(number({ min: 1 }), () => defaults.openDurationFactor),
  maxOpenDuration: optional(duration({ wholeMillis: true, max: MAX_PERIOD })),
  halfOpenProbes: withDefault(number({ min: 1, integer: true }), () => defaults.halfOpenProbes),
  isFailure: withDefault(satisfying("a function", isClassifier), () => defaults.isFailure),
  store: optional(satisfying("a CircuitBreaker.Store (get, an Effect, and modify, a function)", isStore)),
  name: withDefault(satisfying("a string", Predicate.isString), () => defaults.name)
})

const SettingsSchema = Schema.declare((u: unknown): u is Settings => Predicate.isRecord(u), {
  identifier: "CircuitBreaker.Settings"
})

/**
 * The breaker's options as a Schema: what a user writes (every field
 * optional, durations any `Duration.DurationInput`) decoded into
 * {@link Settings}. Unknown keys are refused.
 *
 * - `window`: length of the rolling window, whole milliseconds from 1 ms to
 *   365 days. Default 30 seconds.
 * - `windowBuckets`: buckets the window is cut into, an integer from 1 to
 *   1000: the window moves on one bucket at a time. Default 30 (1 s each for
 *   a 30 s window).
 * - `failureRateThreshold`: open when failures / calls in the window reach
 *   this, in (0, 1]. Default 0.3.
 * - `minimumCalls`: the rate is judged only once the window holds this many
 *   calls, an integer ≥ 1. Default 10.
 * - `openDuration`: the first open period, how long the breaker stays open
 *   before it half-opens; finite, whole milliseconds. Default 2 seconds.
 * - `openDurationFactor`: a failed probe round multiplies the open period by
 *   this, a finite number ≥ 1. Default 2.
 * - `maxOpenDuration`: the longest open period, at least `openDuration`.
 *   Default 10 seconds, or `openDuration` when that is longer.
 * - `halfOpenProbes`: probe calls let through while half-open, an integer
 *   ≥ 1. Default 3.
 * - `isFailure`: whether a call's typed error counts as a failure. Default
 *   {@link isServerFailure}. If it throws, the outcome counts as a call, not
 *   a failure.
 * - `store`: where the state lives. Default: a new in-memory store.
 * - `name`: the `breaker` tag of the breaker's metrics. Default `"default"`.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "claude-resilience"
 *
 * const options: CircuitBreaker.Options = { window: "1 minute", failureRateThreshold: 0.5, name: "claude" }
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export const Options: Schema.Schema<Settings, typeof OptionsFields.Encoded> = Schema.transformOrFail(
  OptionsFields,
  SettingsSchema,
  {
    strict: false,
    decode: (fields, _, ast, input) => {
      const { maxOpenDuration, ...rest } = fields
      if (maxOpenDuration === undefined) {
        return ParseResult.succeed({ ...rest, maxOpenDuration: Duration.max(defaults.maxOpenDuration, rest.openDuration) })
      }
      return Duration.lessThan(maxOpenDuration, rest.openDuration)
        ? ParseResult.fail(
          new ParseResult.Pointer(
            "maxOpenDuration",
            input,
            new ParseResult.Type(
              ast,
              input.maxOpenDuration,
              `must be at least openDuration (${Duration.format(rest.openDuration)}), got ${
                describeValue(input.maxOpenDuration)
              }`
            )
          )
        )
        : ParseResult.succeed({ ...rest, maxOpenDuration })
    },
    encode: (settings) => ParseResult.succeed(settings)
  }
)

/**
 * What {@link make}, {@link layer} and {@link settings} take: every field
 * optional (see {@link Options} for each one's range and default). A
 * {@link Settings} value is valid options too.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "claude-resilience"
 *
 * // every field optional; durations as any Duration.DurationInput
 * const options: CircuitBreaker.Options = { openDuration: "5 seconds", maxOpenDuration: "1 minute" }
 * ```
 *
 * @since 0.1.0
 * @category options
 */
export type Options = Input<typeof OptionsFields.Encoded>

const decodeSettings = decodeOptions("CircuitBreaker", Options)

/**
 * Validates {@link Options} into {@link Settings}, listing every problem in
 * one `Options.InvalidOptionsError` (module `"CircuitBreaker"`), each at its
 * path: options that are not an object (`null`, a string…), an unknown key,
 * a threshold outside (0, 1], `minimumCalls` or `halfOpenProbes` not an
 * integer ≥ 1, `windowBuckets` not an integer in [1, 1000], a window that is
 * not a whole number of milliseconds between 1 ms and 365 days, an open
 * duration that is negative, infinite or not in whole milliseconds, an
 * `openDurationFactor` below 1 or not finite, a `maxOpenDuration` shorter
 * than `openDuration`, an `isFailure` that is not a function, a `store`
 * without `get` and `modify`, a `name` that is not a string, a getter that
 * throws. Never throws, whatever it is given.
 *
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { CircuitBreaker } from "claude-resilience"
 *
 * const result = CircuitBreaker.settings({ failureRateThreshold: 2, window: -1 })
 * if (Either.isLeft(result)) {
 *   // [ "window", "failureRateThreshold" ]
 *   console.log(result.left.problems.map((problem) => problem.path))
 * }
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const settings = (options?: Options): Either.Either<Settings, InvalidOptionsError> => decodeSettings(options)

// ---------------------------------------------------------------------------
// what counts as a failure
// ---------------------------------------------------------------------------

/**
 * The tags that count as failures by default: the server-side errors and the
 * network failures. Judged by tag, never by status: an `overloaded_error`
 * event in the middle of a stream arrives on an HTTP 200 response and is an
 * `OverloadedError` all the same.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "claude-resilience"
 *
 * CircuitBreaker.failureTags.has("OverloadedError") // true
 * CircuitBreaker.failureTags.has("RateLimitError") // false: a spent quota is no outage
 * ```
 *
 * @since 0.1.0
 * @category classification
 */
export const failureTags: ReadonlySet<ApiError.Tag> = new Set<ApiError.Tag>([
  "InternalServerError",
  "BadGatewayError",
  "ServiceUnavailableError",
  "GatewayTimeoutError",
  "OverloadedError",
  "UnexpectedServerError",
  "TransportError"
])

/**
 * The default failure classifier: an error whose `_tag` is in
 * {@link failureTags}. Everything else (a 4xx, a 429, a spend limit, an
 * error that is not an `ApiError`) is a call that did not fail.
 *
 * @example
 * ```ts
 * import { Predicate } from "effect"
 * import { CircuitBreaker } from "claude-resilience"
 *
 * // also trip on rate limits
 * const layer = CircuitBreaker.layer({
 *   isFailure: (error) => CircuitBreaker.isServerFailure(error) || Predicate.isTagged(error, "RateLimitError")
 * })
 * ```
 *
 * @since 0.1.0
 * @category classification
 */
export const isServerFailure = (error: unknown): boolean =>
  Predicate.hasProperty(error, "_tag") && typeof error._tag === "string" &&
  (failureTags as ReadonlySet<string>).has(error._tag)

// ---------------------------------------------------------------------------
// errors
// ---------------------------------------------------------------------------

const iso = (millis: number): string =>
  Number.isFinite(millis) && Math.abs(millis) <= MAX_MILLIS
    ? DateTime.formatIso(DateTime.unsafeMake(millis))
    : `${millis} ms after the epoch`

/**
 * The breaker refused the call: it is open, or half-open with every probe
 * slot taken. The call was not run, so no request was sent. It is not an
 * `ApiError` and not `Retryable`: a retry policy stops at it.
 *
 * `openedAt` is when the breaker opened and `halfOpenAt` when it half-opens
 * (or half-opened), both in epoch milliseconds.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { type ApiError, CircuitBreaker } from "claude-resilience"
 *
 * declare const call: Effect.Effect<string, ApiError.ApiError>
 *
 * const answer = call.pipe(
 *   CircuitBreaker.protect,
 *   Effect.catchTag("CircuitOpenError", (error: CircuitBreaker.CircuitOpenError) =>
 *     Effect.succeed(`unavailable until ${error.halfOpenAt}`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class CircuitOpenError extends Schema.TaggedError<CircuitOpenError>()("CircuitOpenError", {
  /** The breaker's state when it refused the call. */
  state: Schema.Literal("Open", "HalfOpen"),
  /** When the breaker opened, epoch milliseconds. */
  openedAt: Schema.Number,
  /** When it half-opens (or half-opened), epoch milliseconds. */
  halfOpenAt: Schema.Number,
  message: Schema.String
}) {
  /**
   * Builds the error for a rejected call, with its message.
   *
   * @since 0.1.0
   */
  static fromRejection(rejection: Reject): CircuitOpenError {
    const message = rejection.state === "Open"
      ? `Circuit breaker open since ${iso(rejection.openedAt)} after too many server-side failures; ` +
        `it half-opens at ${iso(rejection.halfOpenAt)}. The call was not sent.`
      : `Circuit breaker half-open since ${iso(rejection.halfOpenAt)} (opened at ${iso(rejection.openedAt)}) ` +
        `and every probe slot is taken. The call was not sent.`
    return new CircuitOpenError({
      state: rejection.state,
      openedAt: rejection.openedAt,
      halfOpenAt: rejection.halfOpenAt,
      message
    })
  }
}

/**
 * Whether a value is a {@link CircuitOpenError}: a call the breaker refused,
 * which sent nothing.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { type ApiError, CircuitBreaker } from "claude-resilience"
 *
 * declare const call: Effect.Effect<string, ApiError.ApiError>
 *
 * const refusedOnly = call.pipe(CircuitBreaker.protect, Effect.catchIf(CircuitBreaker.isCircuitOpenError, () => Effect.succeed("later")))
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isCircuitOpenError = (u: unknown): u is CircuitOpenError => u instanceof CircuitOpenError

// ---------------------------------------------------------------------------
// store
// ---------------------------------------------------------------------------

/**
 * Where a breaker's state lives. `modify` must apply `f` atomically: no other
 * update may happen between reading the state `f` receives and writing the
 * state it returns. `f` is pure and may be called more than once, so a
 * shared store can implement `modify` as a compare-and-set loop (read the
 * state and its version, apply `f`, write if the version is unchanged, else
 * retry), which is how a Redis store can share one breaker across processes.
 *
 * The breaker updates its store once to admit a call and once to record its
 * outcome, without any lock. An update that would make a transition returns
 * the state unchanged and is made again under the breaker's lock, so that
 * transitions are published in the order they were made.
 *
 * @example
 * ```ts
 * import { Effect, Ref } from "effect"
 * import { CircuitBreaker } from "claude-resilience"
 *
 * // a store over a Ref of your own, e.g. to inspect it in a test
 * const store = Effect.map(Ref.make(CircuitBreaker.initialState), (ref): CircuitBreaker.Store => ({
 *   get: Ref.get(ref),
 *   modify: (f) => Ref.modify(ref, f)
 * }))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Store extends StoreOf<State> {}

/**
 * A store in this process's memory, backed by a `Ref`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker } from "claude-resilience"
 *
 * // two breakers on one store behave as one
 * const shared = Effect.gen(function*() {
 *   const store = yield* CircuitBreaker.makeMemoryStore()
 *   const a = yield* CircuitBreaker.make({ store, name: "a" })
 *   const b = yield* CircuitBreaker.make({ store, name: "b" })
 *   return [a, b] as const
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemoryStore = (initial: State = initialState): Effect.Effect<Store> => makeMemory(initial)

// ---------------------------------------------------------------------------
// metrics
// ---------------------------------------------------------------------------

/**
 * Gauge of each breaker's state (0 closed, 1 half-open, 2 open), tagged
 * `breaker` with the breaker's name. Updated at each transition the breaker
 * makes.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { CircuitBreaker } from "claude-resilience"
 *
 * const state = Metric.value(Metric.tagged(CircuitBreaker.stateGauge, "breaker", "default"))
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const stateGauge = Metric.gauge("claude_resilience_circuit_breaker_state", {
  description: "Circuit breaker state: 0 closed, 1 half-open, 2 open"
})

/**
 * Counter of the calls each breaker refused, tagged `breaker`.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { CircuitBreaker } from "claude-resilience"
 *
 * const refused = Effect.map(Metric.value(Metric.tagged(CircuitBreaker.rejectionsCounter, "breaker", "default")), (c) => c.count)
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const rejectionsCounter = Metric.counter("claude_resilience_circuit_breaker_rejections", {
  description: "Calls refused by an open or saturated half-open circuit breaker",
  incremental: true
})

const stateCode = (state: State): number => state._tag === "Closed" ? 0 : state._tag === "HalfOpen" ? 1 : 2

// ---------------------------------------------------------------------------
// service
// ---------------------------------------------------------------------------

/**
 * A circuit breaker.
 *
 * - `protect(effect)`: runs `effect` if the breaker admits it, and records
 *   how it ended; otherwise fails at once with {@link CircuitOpenError}
 *   without running it. A success, a typed error the classifier does not
 *   count (by default anything but a server-side error) count as calls; an
 *   interruption or a defect counts as nothing and frees its probe slot.
 * - `permit`: the admission half of `protect`, for a call that is not one
 *   effect (a stream): fails with {@link CircuitOpenError} or returns a
 *   {@link Permit} whose `complete(exit)` records the outcome.
 * - `state`: the current state as of now (so an open breaker whose open period
 *   is over reads `HalfOpen`, and the window holds only live outcomes).
 * - `changes`: the transitions this breaker makes from the moment the stream
 *   starts running, in order. The breaker runs no background fiber: a due
 *   `Open → HalfOpen` transition is made (and emitted, stamped with
 *   `halfOpenAt`) when the breaker is next used or read.
 * - `subscribe`: the same transitions as a queue, subscribed as soon as the
 *   effect runs (so nothing made after it is missed, unlike a `changes`
 *   stream forked in the background, which subscribes when its fiber gets
 *   to it); unsubscribed when the scope closes.
 * - `admitsAt(instant)`: would a call sent at `instant` (epoch
 *   milliseconds, from `Clock`) be admitted, as far as the breaker can tell
 *   now? `false` when the breaker will still be open then (its open period
 *   ends after `instant`), or, for an instant that is not later than now,
 *   when it would refuse a call now (half-open with every probe slot
 *   taken); `true` otherwise. A later instant is not judged by the probe
 *   slots, since the probes running now may have ended by then. It reads
 *   the store and writes nothing: no slot is taken and no transition made.
 *   `Resilience.retry` asks it before sleeping towards a retry.
 *
 * @example
 * ```ts
 * import { Clock, Effect } from "effect"
 * import { CircuitBreaker } from "claude-resilience"
 *
 * // would a retry sent in 500 ms be let through?
 * const worthWaiting = Effect.gen(function*() {
 *   const breaker: CircuitBreaker.Service = yield* CircuitBreaker.CircuitBreaker
 *   const now = yield* Clock.currentTimeMillis
 *   return yield* breaker.admitsAt(now + 500)
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly settings: Settings
  readonly permit: Effect.Effect<Permit, CircuitOpenError>
  readonly protect: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | CircuitOpenError, R>
  readonly state: Effect.Effect<State>
  readonly admitsAt: (instant: number) => Effect.Effect<boolean>
  readonly changes: Stream.Stream<Transition>
  readonly subscribe: Effect.Effect<Queue.Dequeue<Transition>, never, Scope.Scope>
}

/**
 * One admitted call, for work whose end is not the end of one effect (a
 * stream that outlives the effect that opened it). `complete` records the
 * call's outcome exactly as `protect` would; call it once, from a finalizer,
 * so that an interruption is recorded too. Take the permit and install that
 * finalizer inside one `Effect.uninterruptibleMask`, as `protect` does: an
 * interruption between the two would keep a half-open probe slot forever.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker } from "claude-resilience"
 *
 * declare const breaker: CircuitBreaker.Service
 * declare const work: Effect.Effect<string>
 *
 * const guarded = Effect.uninterruptibleMask((restore) =>
 *   Effect.flatMap(breaker.permit, (permit: CircuitBreaker.Permit) => Effect.onExit(restore(work), permit.complete))
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Permit {
  readonly complete: (exit: Exit.Exit<unknown, unknown>) => Effect.Effect<void>
}

/**
 * The circuit breaker service. Provide it once with {@link layer} (or
 * `Resilience.layer`) and every client of the process shares one breaker.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker } from "claude-resilience"
 *
 * const tag = Effect.flatMap(CircuitBreaker.CircuitBreaker, (breaker) => breaker.state).pipe(
 *   Effect.map((state) => state._tag),
 *   Effect.provide(CircuitBreaker.layer())
 * )
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class CircuitBreaker extends Context.Tag("claude-resilience/CircuitBreaker")<CircuitBreaker, Service>() {}

const outcome = (generation: number, exit: Exit.Exit<unknown, unknown>, isFailure: (error: unknown) => boolean) => {
  if (Exit.isSuccess(exit)) return Event.Success({ generation })
  // an interruption or a defect says nothing about the upstream: it counts as
  // nothing (a defect counted as a success would let a probe that died of a
  // bug close the breaker)
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) return Event.Cancel({ generation })
  const failed = Option.match(failure, {
    onNone: () => false,
    onSome: (error) => {
      try {
        return isFailure(error) === true
      } catch {
        return false
      }
    }
  })
  return failed ? Event.Failure({ generation }) : Event.Success({ generation })
}

/**
 * Builds a breaker. The scope owns the `changes` hub: closing it ends the
 * streams of `changes`. Invalid options fail with
 * `Options.InvalidOptionsError` (module `"CircuitBreaker"`, every problem
 * at its path; see {@link settings}).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker } from "claude-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const breaker = yield* CircuitBreaker.make({ failureRateThreshold: 0.5 })
 *   return yield* breaker.protect(Effect.succeed("hello"))
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options?: Options
): Effect.Effect<Service, InvalidOptionsError, Scope.Scope> =>
  Effect.gen(function*() {
    const given = yield* settings(options)
    const millis = millisOf(given)
    const isFailure = given.isFailure
    const store = given.store ?? (yield* makeMemoryStore())
    const name = given.name
    const gauge = Metric.tagged(stateGauge, "breaker", name)
    const rejections = Metric.tagged(rejectionsCounter, "breaker", name)
    const hub = yield* Effect.acquireRelease(PubSub.unbounded<Transition>(), PubSub.shutdown)
    // held only to make and publish a transition, so that transitions are
    // published in the order they were made; an update that makes none (the
    // common case: a closed breaker recording an outcome) never waits for it
    const lock = yield* Effect.makeSemaphore(1)

    type Update<B> = (state: State, now: number) => readonly [B, State, ReadonlyArray<Transition>]

    const publish = (transitions: ReadonlyArray<Transition>, exit?: Exit.Exit<unknown, unknown>): Effect.Effect<void> =>
      Effect.forEach(
        transitions,
        (change) =>
          Effect.zipRight(
            Effect.zipRight(PubSub.publish(hub, change), Metric.set(gauge, stateCode(change.to))),
            logTransition(name, change, exit)
          ),
        { discard: true }
      )

    const locked = <B>(f: Update<B>, exit?: Exit.Exit<unknown, unknown>): Effect.Effect<B> =>
      lock.withPermits(1)(
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.flatMap(
            store.modify((state) => {
              const [result, next, transitions] = f(state, now)
              return [[result, transitions] as const, next] as const
            }),
            ([result, transitions]) => Effect.as(publish(transitions, exit), result)
          ))
      )

    // one atomic update of the store; only when `f` would make a transition is
    // the state left as it was and the update made again under the lock
    const update = <B>(f: Update<B>, exit?: Exit.Exit<unknown, unknown>): Effect.Effect<B> =>
      Effect.uninterruptible(
        Effect.clockWith((clock) => {
          const now = clock.unsafeCurrentTimeMillis()
          return Effect.flatMap(
            store.modify((state): readonly [B | typeof needsLock, State] => {
              const [result, next, transitions] = f(state, now)
              return transitions.length === 0 ? [result, next] : [needsLock, state]
            }),
            (result) => result === needsLock ? locked(f, exit) : Effect.succeed(result as B)
          )
        })
      )

    const run = (event: Event, exit?: Exit.Exit<unknown, unknown>) =>
      update((state, now) => {
        const [, next, transitions] = evolve(state, event, now, millis)
        return [next, next, transitions] as const
      }, exit)

    const request = Event.Request()
    const admit = update((state, now) => {
      const [ticked, next, transitions] = evolve(state, request, now, millis)
      return [decideAdvanced(ticked, millis), next, transitions] as const
    })

    // uninterruptible: once admission has taken a slot, the permit that frees
    // it is always handed back (an interruption waits until it is)
    const permit: Effect.Effect<Permit, CircuitOpenError> = Effect.uninterruptible(Effect.flatMap(admit, (decision) =>
      decision._tag === "Reject"
        ? Effect.zipRight(Metric.increment(rejections), Effect.fail(CircuitOpenError.fromRejection(decision)))
        : Effect.succeed<Permit>({
          complete: (exit) => run(outcome(decision.generation, exit, isFailure), exit)
        })))

    const protect = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | CircuitOpenError, R> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(
          permit,
          (admitted): Effect.Effect<A, E | CircuitOpenError, R> => Effect.onExit(restore(effect), admitted.complete)
        )
      )

    yield* Metric.set(gauge, stateCode(yield* store.get))

    const admitsAtInstant = (instant: number): Effect.Effect<boolean> =>
      Effect.flatMap(store.get, (state) =>
        Effect.clockWith((clock) => {
          const now = clock.unsafeCurrentTimeMillis()
          return Effect.succeed(admitsAt(state, instant, now, millis))
        }))

    return {
      settings: given,
      permit,
      protect,
      state: run(Event.Tick()),
      admitsAt: admitsAtInstant,
      changes: Stream.fromPubSub(hub),
      subscribe: PubSub.subscribe(hub)
    } satisfies Service
  })

/** The request id of the outcome that made a transition, when it has one (never a header, never the key). */
const requestIdOf = (exit: Exit.Exit<unknown, unknown> | undefined): Option.Option<string> =>
  exit === undefined || Exit.isSuccess(exit)
    ? Option.none()
    : Option.flatMap(Cause.failureOption(exit.cause), (error) =>
      Predicate.hasProperty(error, "requestId") && Option.isOption(error.requestId)
        ? Option.filter(error.requestId as Option.Option<unknown>, Predicate.isString)
        : Option.none())

/**
 * A transition in the log: opening at `Warning`, closing at `Info`,
 * half-opening at `Debug`, annotated with the breaker's name, the states
 * and the request id of the outcome that made it, when it has one.
 */
const logTransition = (name: string, change: Transition, exit: Exit.Exit<unknown, unknown> | undefined) => {
  const { from, to } = change
  const annotations = {
    "circuit_breaker.name": name,
    "circuit_breaker.from": from._tag,
    "circuit_breaker.to": to._tag,
    ...Option.match(requestIdOf(exit), { onNone: () => ({}), onSome: (id) => ({ "request.id": id }) })
  }
  if (to._tag === "Open") {
    const why = from._tag === "Closed" ? "the rate of server-side failures reached its threshold" : "a probe failed"
    return Effect.logWarning(
      `circuit breaker ${name} opened: ${why}; calls fail fast until ${DateTime.formatIso(DateTime.unsafeMake(to.halfOpenAt))}`
    ).pipe(Effect.annotateLogs(annotations))
  }
  if (to._tag === "Closed") {
    return Effect.logInfo(`circuit breaker ${name} closed: its probes succeeded`).pipe(Effect.annotateLogs(annotations))
  }
  return Effect.logDebug(`circuit breaker ${name} half-open: probes may pass`).pipe(Effect.annotateLogs(annotations))
}

// the answer of an optimistic update that would make a transition
const needsLock: unique symbol = Symbol("claude-resilience/CircuitBreaker/needsLock")

/**
 * A layer with one breaker, shared by everything it is provided to.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker } from "claude-resilience"
 *
 * const BreakerLive = CircuitBreaker.layer({ openDuration: "5 seconds", maxOpenDuration: "1 minute" })
 * const program = Effect.succeed(1).pipe(CircuitBreaker.protect, Effect.provide(BreakerLive))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<CircuitBreaker, InvalidOptionsError> =>
  Layer.scoped(CircuitBreaker, make(options))

/**
 * What {@link layerRedis} takes: the breaker's {@link Options} (but
 * `store`), the `namespace` its state is kept under in Redis (every process
 * with the same namespace shares one breaker; two namespaces never touch),
 * and `probeLease`: how long a probe slot taken by a process that then
 * died (or lost Redis) keeps the fleet from sending another probe, whole
 * milliseconds above 0, at most 1 hour, default 10 seconds. A live process
 * renews its leases every third of that while its probes run.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "claude-resilience"
 *
 * const options: CircuitBreaker.RedisOptions = { namespace: "acme-prod", halfOpenProbes: 2, probeLease: "5 seconds" }
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export type RedisOptions =
  & RedisStoreOptions
  & Omit<Options, "store">
  & { readonly probeLease?: Duration.DurationInput | undefined }

const ProbeLease = Schema.Struct({
  probeLease: withDefault(
    duration({ positive: true, wholeMillis: true, max: Duration.hours(1) }),
    () => Duration.seconds(10)
  )
})
const decodeProbeLease = decodeOptions("CircuitBreaker", ProbeLease)

const decodeBreakerRedisOptions = decodeRedisOptions("CircuitBreaker", (rest) => {
  const { probeLease, ...others } = rest as { probeLease?: unknown }
  const lease = decodeProbeLease(probeLease === undefined ? {} : { probeLease })
  const breaker = settings(others as Options)
  if (Either.isRight(lease) && Either.isRight(breaker)) {
    return Either.right({ settings: breaker.right, probeLease: lease.right.probeLease })
  }
  return Either.left(InvalidOptionsError.of("CircuitBreaker", [
    ...(Either.isLeft(breaker) ? breaker.left.problems : []),
    ...(Either.isLeft(lease) ? lease.left.problems : [])
  ]))
}, ["store"])

/**
 * Builds a breaker whose state is kept in Redis (see {@link layerRedis}).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker, Redis } from "claude-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const breaker = yield* CircuitBreaker.makeRedis({ namespace: "acme-prod" })
 *   return yield* breaker.protect(Effect.succeed("sent"))
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
    const { namespace, settings: decoded } = yield* decodeBreakerRedisOptions(options)
    const redis = yield* Redis.Redis
    const store = yield* makeBreakerStore({
      connection: redis.connection,
      key: redis.connection.key(namespace, "breaker"),
      settings: decoded.settings,
      probeLease: decoded.probeLease
    })
    return yield* make({ ...decoded.settings, store })
  })

/**
 * A breaker shared by a fleet of processes through Redis (the
 * {@link Redis.Redis} connection in the context, see `Redis.layer`): its
 * window, its state and its probes are kept under `namespace`, so the
 * fleet opens as one (failures seen by any process count), fails fast as
 * one (a process sends nothing while another opened it), and half-opens as
 * one: `halfOpenProbes` probes for the whole fleet, each slot leased (see
 * {@link RedisOptions}). Every update is one atomic compare-and-set of one
 * key, which expires when unused; every instant comes from the caller's
 * `Clock`. Transitions are published (`changes`, `subscribe`) by the
 * process that made them. While Redis cannot be reached the breaker goes
 * on from this process's copy of the state, and goes back to Redis when it
 * is back.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { CircuitBreaker, Redis } from "claude-resilience"
 *
 * const BreakerLive = CircuitBreaker.layerRedis({ namespace: "acme-prod", openDuration: "5 seconds" }).pipe(
 *   Layer.provide(Redis.layer({ url: "redis://127.0.0.1:6379" }))
 * )
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerRedis = (options: RedisOptions): Layer.Layer<CircuitBreaker, InvalidOptionsError, Redis.Redis> =>
  Layer.scoped(CircuitBreaker, makeRedis(options))

/**
 * Runs `effect` through the {@link CircuitBreaker} in the context. A plain
 * function of the effect, so it pipes: `effect.pipe(CircuitBreaker.protect)`.
 * Put it inside a retry so that each attempt passes through the breaker: an
 * open breaker then fails the attempt with {@link CircuitOpenError}, which
 * ends the retries (`Resilience.protect` does exactly that).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { type ApiError, CircuitBreaker } from "claude-resilience"
 *
 * declare const call: Effect.Effect<string, ApiError.ApiError>
 *
 * // Effect<string, ApiError | CircuitOpenError, CircuitBreaker>
 * const guarded = call.pipe(CircuitBreaker.protect)
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const protect = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E | CircuitOpenError, R | CircuitBreaker> =>
  Effect.flatMap(CircuitBreaker, (breaker) => breaker.protect(effect))

/**
 * The state of the {@link CircuitBreaker} in the context, as of now.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker } from "claude-resilience"
 *
 * const open = Effect.map(CircuitBreaker.state, CircuitBreaker.State.$is("Open"))
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const state: Effect.Effect<State, never, CircuitBreaker> = Effect.flatMap(
  CircuitBreaker,
  (breaker) => breaker.state
)

/**
 * The transitions of the {@link CircuitBreaker} in the context.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { CircuitBreaker } from "claude-resilience"
 *
 * const watch = CircuitBreaker.changes.pipe(
 *   Stream.runForEach(({ at, from, to }) => Effect.log(`${from._tag} → ${to._tag} at ${at}`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const changes: Stream.Stream<Transition, never, CircuitBreaker> = Stream.unwrap(
  Effect.map(CircuitBreaker, (breaker) => breaker.changes)
)
