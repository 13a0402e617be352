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
import * as Data from "effect/Data"
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
import * as Ref from "effect/Ref"
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
import type { InvalidOptionsError } from "./Options.js"

// ---------------------------------------------------------------------------
// state
// ---------------------------------------------------------------------------

/**
 * The outcomes recorded in one bucket of the rolling window: `calls` calls,
 * `failures` of them failures. The window is cut into
 * `settings.windowBuckets` buckets of equal length; bucket `index` holds the
 * outcomes of the instants `t` (epoch milliseconds) with
 * `Math.floor(t * windowBuckets / w) === index`, `w` the window in
 * milliseconds (see {@link bucketIndex}).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker } from "claude-resilience"
 *
 * // the newest bucket of the breaker in the context, if it saw a call
 * const newest = Effect.map(CircuitBreaker.state, (state): CircuitBreaker.Bucket | undefined =>
 *   state._tag === "Closed" ? state.window.current : undefined)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Bucket {
  readonly index: number
  readonly calls: number
  readonly failures: number
}

/**
 * A closed breaker's rolling window: the outcomes of the current bucket and
 * of the previous `windowBuckets - 1` buckets, with their running totals.
 *
 * - `current`: the newest bucket, the one outcomes are added to (`undefined`
 *   when nothing was recorded since the window last moved on).
 * - `previous`: the older buckets still in the window that hold at least one
 *   outcome, oldest first.
 * - `calls`, `failures`: the totals over `previous` and `current`.
 *
 * Recording an outcome in the current bucket makes a new `current` and new
 * totals and shares `previous`; `previous` is rebuilt only when the window
 * moves to a new bucket. Read the totals with {@link windowCounts}.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "claude-resilience"
 *
 * declare const state: CircuitBreaker.State
 * const window: CircuitBreaker.Window = state._tag === "Closed" ? state.window : CircuitBreaker.emptyWindow
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Window {
  readonly previous: ReadonlyArray<Bucket>
  readonly current: Bucket | undefined
  readonly calls: number
  readonly failures: number
}

/**
 * A window with no outcome in it.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "claude-resilience"
 *
 * const fresh = CircuitBreaker.State.Closed({ generation: 0, window: CircuitBreaker.emptyWindow })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const emptyWindow: Window = { previous: [], current: undefined, calls: 0, failures: 0 }

/**
 * The breaker's state. Every state carries a `generation`, which grows by one
 * at each transition: an outcome is recorded only in the generation that
 * admitted its call, so a slow call admitted before the breaker opened can
 * neither count as a probe nor reopen the breaker later.
 *
 * - `Closed`: calls pass; `window` holds the outcomes of the rolling window
 *   (see {@link Window}).
 * - `Open`: calls fail fast with {@link CircuitOpenError} until
 *   `halfOpenAt`. The open period is `halfOpenAt - openedAt`.
 * - `HalfOpen`: at most `halfOpenProbes` probe calls are admitted;
 *   `inFlight` of them are running and `succeeded` have succeeded.
 *   `openedAt` and `halfOpenAt` are those of the open period that ended,
 *   from which a failed probe grows the next one.
 *
 * All instants are epoch milliseconds from `Clock`.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "claude-resilience"
 *
 * const describe = (state: CircuitBreaker.State): string =>
 *   CircuitBreaker.State.$match(state, {
 *     Closed: ({ window }) => `closed, ${window.failures} failures in ${window.calls} calls`,
 *     Open: ({ halfOpenAt }) => `open until ${halfOpenAt}`,
 *     HalfOpen: ({ inFlight }) => `half-open, ${inFlight} probes running`
 *   })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type State = Data.TaggedEnum<{
  Closed: {
    readonly generation: number
    readonly window: Window
  }
  Open: {
    readonly generation: number
    readonly openedAt: number
    readonly halfOpenAt: number
  }
  HalfOpen: {
    readonly generation: number
    readonly openedAt: number
    readonly halfOpenAt: number
    readonly inFlight: number
    readonly succeeded: number
  }
}>

/**
 * Constructors, guards (`State.$is("Open")`) and matchers (`State.$match`)
 * for {@link State}.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "claude-resilience"
 *
 * const open = CircuitBreaker.State.Open({ generation: 1, openedAt: 0, halfOpenAt: 2_000 })
 * CircuitBreaker.State.$is("Open")(open) // true
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const State = Data.taggedEnum<State>()

type Closed = Extract<State, { readonly _tag: "Closed" }>
type Open = Extract<State, { readonly _tag: "Open" }>
type HalfOpen = Extract<State, { readonly _tag: "HalfOpen" }>

// the same constructors as `State`'s, taken once: `State.X` builds a new
// constructor at each access, and these run on every call
const makeClosed = Data.tagged<Closed>("Closed")
const makeOpen = Data.tagged<Open>("Open")
const makeHalfOpen = Data.tagged<HalfOpen>("HalfOpen")

/**
 * The state a new breaker starts in: closed, with an empty window.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker } from "claude-resilience"
 *
 * // a store that starts closed, as every breaker does
 * const store = CircuitBreaker.makeMemoryStore(CircuitBreaker.initialState)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const initialState: State = makeClosed({ generation: 0, window: emptyWindow })

/**
 * What happens to a breaker, the input of {@link transition}.
 *
 * - `Tick`: only time passes (old outcomes leave the window; an open breaker
 *   whose open period is over half-opens).
 * - `Request`: a call asks to pass (see {@link admission}); a probe admitted
 *   while half-open takes a slot.
 * - `Success`: an admitted call ended and does not count as a failure.
 * - `Failure`: an admitted call ended in a failure (by default a server-side
 *   error, see {@link isServerFailure}).
 * - `Cancel`: an admitted call was interrupted; it counts as nothing and its
 *   probe slot, if any, is freed.
 *
 * `generation` is the one {@link admission} handed to the call when it was
 * admitted.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "claude-resilience"
 *
 * const events: ReadonlyArray<CircuitBreaker.Event> = [
 *   CircuitBreaker.Event.Request(),
 *   CircuitBreaker.Event.Failure({ generation: 0 })
 * ]
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Event = Data.TaggedEnum<{
  Tick: {}
  Request: {}
  Success: { readonly generation: number }
  Failure: { readonly generation: number }
  Cancel: { readonly generation: number }
}>

/**
 * Constructors and guards for {@link Event}.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "claude-resilience"
 *
 * const failed = CircuitBreaker.Event.Failure({ generation: 0 })
 * CircuitBreaker.Event.$is("Failure")(failed) // true
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const Event = Data.taggedEnum<Event>()

/**
 * Whether a call may pass, as {@link admission} answers it. An admitted call
 * carries the `generation` its outcome must be reported with; a rejected one
 * says why.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "claude-resilience"
 *
 * declare const answer: CircuitBreaker.Admission
 * const sent = CircuitBreaker.Admission.$match(answer, {
 *   Admit: ({ probe }) => (probe ? "probe" : "call"),
 *   Reject: ({ halfOpenAt }) => `refused until ${halfOpenAt}`
 * })
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export type Admission = Data.TaggedEnum<{
  Admit: { readonly generation: number; readonly probe: boolean }
  Reject: { readonly state: "Open" | "HalfOpen"; readonly openedAt: number; readonly halfOpenAt: number }
}>

/**
 * Constructors, guards and matchers for {@link Admission}.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "claude-resilience"
 *
 * const admitted = CircuitBreaker.Admission.Admit({ generation: 0, probe: false })
 * CircuitBreaker.Admission.$is("Admit")(admitted) // true
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const Admission = Data.taggedEnum<Admission>()

/**
 * An admitted call: the `generation` to report its outcome with, and
 * whether it is a half-open probe.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "claude-resilience"
 *
 * const admit: CircuitBreaker.Admit = CircuitBreaker.Admission.Admit({ generation: 3, probe: true })
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export type Admit = Extract<Admission, { readonly _tag: "Admit" }>

/**
 * A refused call: the state that refused it, when the breaker opened and
 * when it half-opens (or half-opened), in epoch milliseconds.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "claude-resilience"
 *
 * const reject: CircuitBreaker.Reject = CircuitBreaker.Admission.Reject({ state: "Open", openedAt: 0, halfOpenAt: 2_000 })
 * const error = CircuitBreaker.CircuitOpenError.fromRejection(reject)
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export type Reject = Extract<Admission, { readonly _tag: "Reject" }>

const makeAdmit = Data.tagged<Admit>("Admit")
const makeReject = Data.tagged<Reject>("Reject")

/**
 * One change of state: the state before, the state after, and the instant
 * (epoch milliseconds) it took effect. The half-open transition is stamped
 * with `halfOpenAt`, even when it is noticed later (see {@link Service}).
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { CircuitBreaker } from "claude-resilience"
 *
 * const openings = CircuitBreaker.changes.pipe(
 *   Stream.filter((change: CircuitBreaker.Transition) => change.to._tag === "Open"),
 *   Stream.map((change) => change.at)
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Transition {
  readonly from: State
  readonly to: State
  readonly at: number
}

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

/**
 * The settings' durations in milliseconds, as the state machine counts them.
 * Computed once per settings object.
 */
interface Millis {
  readonly windowMillis: number
  readonly windowBuckets: number
  readonly failureRateThreshold: number
  readonly minimumCalls: number
  readonly openDurationMillis: number
  readonly openDurationFactor: number
  readonly maxOpenDurationMillis: number
  readonly halfOpenProbes: number
}

const millisCache = new WeakMap<Settings, Millis>()

const millisOf = (settings: Settings): Millis => {
  let millis = millisCache.get(settings)
  if (millis === undefined) {
    millis = {
      windowMillis: Duration.toMillis(settings.window),
      windowBuckets: settings.windowBuckets,
      failureRateThreshold: settings.failureRateThreshold,
      minimumCalls: settings.minimumCalls,
      openDurationMillis: Duration.toMillis(settings.openDuration),
      openDurationFactor: settings.openDurationFactor,
      maxOpenDurationMillis: Duration.toMillis(settings.maxOpenDuration),
      halfOpenProbes: settings.halfOpenProbes
    }
    millisCache.set(settings, millis)
  }
  return millis
}

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
// the rolling window
// ---------------------------------------------------------------------------

/**
 * The index of the window bucket that holds the instant `at` (epoch
 * milliseconds): `Math.floor(at * windowBuckets / w)`, `w` the window in
 * milliseconds, computed without rounding error. Bucket `i` spans the
 * instants from `i * w / windowBuckets` (inclusive) to
 * `(i + 1) * w / windowBuckets` (exclusive); with the defaults, bucket `i`
 * is the second from `i` s to `i + 1` s.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "claude-resilience"
 *
 * CircuitBreaker.bucketIndex(61_500, CircuitBreaker.defaults) // 61: 30 buckets of 1 s
 * ```
 *
 * @since 0.1.0
 * @category getters
 */
export const bucketIndex = (at: number, settings: Settings): number => indexOf(at, millisOf(settings))

const indexOf = (at: number, settings: Millis): number => {
  const { windowBuckets, windowMillis } = settings
  // laps of whole windows, then the bucket within the lap: the product stays
  // below windowMillis * windowBuckets (< 2^53), so it is exact
  const laps = Math.floor(at / windowMillis)
  return laps * windowBuckets + Math.floor(((at - laps * windowMillis) * windowBuckets) / windowMillis)
}

const newestIndex = (window: Window): number | undefined =>
  window.current !== undefined ? window.current.index : window.previous[window.previous.length - 1]?.index

// the window as of bucket `index`: the current bucket joins `previous` once a
// later bucket has begun, and buckets at or before `index - windowBuckets`
// leave. The same window when nothing moved (the common case, O(1)).
const rotate = (window: Window, index: number, settings: Millis): Window => {
  const horizon = index - settings.windowBuckets
  const current = window.current
  const moves = current !== undefined && current.index < index
  const oldest = window.previous[0]
  if (!moves && (oldest === undefined || oldest.index > horizon)) return window
  let calls = window.calls
  let failures = window.failures
  let kept = 0
  while (kept < window.previous.length && window.previous[kept]!.index <= horizon) {
    calls -= window.previous[kept]!.calls
    failures -= window.previous[kept]!.failures
    kept++
  }
  const previous = window.previous.slice(kept)
  if (moves) {
    if (current.index > horizon) {
      previous.push(current)
    } else {
      calls -= current.calls
      failures -= current.failures
    }
  }
  return previous.length === 0 && !(current !== undefined && !moves)
    ? emptyWindow
    : { previous, current: moves ? undefined : current, calls, failures }
}

// the window as of `now`. An instant earlier than the newest bucket (the
// clocks of two fibers, or of two processes sharing a store, are not
// perfectly ordered) is taken as the newest bucket: the window never moves
// backwards.
const windowIndex = (window: Window, now: number, settings: Millis): number => {
  const index = indexOf(now, settings)
  const newest = newestIndex(window)
  return newest !== undefined && newest > index ? newest : index
}

const addOutcome = (window: Window, failed: boolean, index: number): Window => {
  const current = window.current
  const failure = failed ? 1 : 0
  return {
    previous: window.previous,
    current: current === undefined
      ? { index, calls: 1, failures: failure }
      : { index: current.index, calls: current.calls + 1, failures: current.failures + failure },
    calls: window.calls + 1,
    failures: window.failures + failure
  }
}

/**
 * The number of calls and of failures in a closed breaker's window, as it
 * stands (call it on a state read at `now` to have the window as of `now`).
 * Zero for the other states. O(1): the window keeps running totals.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker } from "claude-resilience"
 *
 * const rate = Effect.map(CircuitBreaker.state, (state) => {
 *   const { calls, failures } = CircuitBreaker.windowCounts(state)
 *   return calls === 0 ? 0 : failures / calls
 * })
 * ```
 *
 * @since 0.1.0
 * @category getters
 */
export const windowCounts = (state: State): { readonly calls: number; readonly failures: number } =>
  state._tag === "Closed"
    ? { calls: state.window.calls, failures: state.window.failures }
    : { calls: 0, failures: 0 }

// ---------------------------------------------------------------------------
// the pure state machine
// ---------------------------------------------------------------------------

const advance = (state: State, now: number, settings: Millis): State => {
  switch (state._tag) {
    case "Closed": {
      const window = rotate(state.window, windowIndex(state.window, now, settings), settings)
      return window === state.window ? state : makeClosed({ generation: state.generation, window })
    }
    case "Open":
      return now >= state.halfOpenAt
        ? makeHalfOpen({
          generation: state.generation + 1,
          openedAt: state.openedAt,
          halfOpenAt: state.halfOpenAt,
          inFlight: 0,
          succeeded: 0
        })
        : state
    case "HalfOpen":
      return state
  }
}

const open = (generation: number, now: number, period: number): State =>
  makeOpen({ generation, openedAt: now, halfOpenAt: now + period })

/**
 * How long the breaker stays open after a failed probe round that followed
 * an open period of `previous` milliseconds: `previous × openDurationFactor`
 * (rounded to the millisecond), at least `openDuration` and at most
 * `maxOpenDuration`, in milliseconds like the instants of {@link State}.
 * With the defaults: 2 s, 4 s, 8 s, 10 s, 10 s …
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "claude-resilience"
 *
 * CircuitBreaker.nextOpenDuration(8_000, CircuitBreaker.defaults) // 10 000: capped at maxOpenDuration
 * ```
 *
 * @since 0.1.0
 * @category state machine
 */
export const nextOpenDuration = (previous: number, settings: Settings): number => nextPeriod(previous, millisOf(settings))

const nextPeriod = (previous: number, settings: Millis): number =>
  Math.min(
    settings.maxOpenDurationMillis,
    Math.max(settings.openDurationMillis, Math.round(previous * settings.openDurationFactor))
  )

const halfOpen = (state: HalfOpen, inFlight: number, succeeded: number): State =>
  makeHalfOpen({
    generation: state.generation,
    openedAt: state.openedAt,
    halfOpenAt: state.halfOpenAt,
    inFlight,
    succeeded
  })

const record = (state: Closed, failed: boolean, now: number, settings: Millis): State => {
  const window = addOutcome(state.window, failed, windowIndex(state.window, now, settings))
  return window.calls >= settings.minimumCalls && window.failures / window.calls >= settings.failureRateThreshold
    ? open(state.generation + 1, now, settings.openDurationMillis)
    : makeClosed({ generation: state.generation, window })
}

const decideAdvanced = (current: State, settings: Millis): Admission => {
  switch (current._tag) {
    case "Closed":
      return makeAdmit({ generation: current.generation, probe: false })
    case "Open":
      return makeReject({ state: "Open", openedAt: current.openedAt, halfOpenAt: current.halfOpenAt })
    case "HalfOpen":
      return current.inFlight + current.succeeded < settings.halfOpenProbes
        ? makeAdmit({ generation: current.generation, probe: true })
        : makeReject({ state: "HalfOpen", openedAt: current.openedAt, halfOpenAt: current.halfOpenAt })
  }
}

/**
 * Whether a call asking to pass at `now` is admitted: always when closed,
 * never when open, and while half-open only if fewer than `halfOpenProbes`
 * probes are running or have succeeded. An open breaker whose `halfOpenAt`
 * has come is judged as half-open. Pure; {@link transition} with
 * `Event.Request()` does the matching bookkeeping.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "claude-resilience"
 *
 * const open = CircuitBreaker.State.Open({ generation: 1, openedAt: 0, halfOpenAt: 2_000 })
 * CircuitBreaker.admission(open, 1_999, CircuitBreaker.defaults)._tag // "Reject"
 * CircuitBreaker.admission(open, 2_000, CircuitBreaker.defaults)._tag // "Admit": the first probe
 * ```
 *
 * @since 0.2.0
 * @category state machine
 */
export const admission = (state: State, now: number, settings: Settings): Admission => {
  const millis = millisOf(settings)
  return decideAdvanced(advance(state, now, millis), millis)
}

// whether a call sent at `instant` would be admitted, judged from `state`
// read at `now` (see Service.admitsAt): nothing is written
const admitsAt = (state: State, instant: number, now: number, settings: Millis): boolean => {
  switch (state._tag) {
    case "Closed":
      return true
    case "Open":
      return instant >= state.halfOpenAt
    case "HalfOpen":
      // probes running now may have ended by a later instant: only now is judged by the slots
      return instant > now || state.inFlight + state.succeeded < settings.halfOpenProbes
  }
}

// the event applied to a state already advanced to `now`
const apply = (current: State, event: Event, now: number, settings: Millis): State => {
  switch (event._tag) {
    case "Tick":
      return current
    case "Request":
      return current._tag === "HalfOpen" && current.inFlight + current.succeeded < settings.halfOpenProbes
        ? halfOpen(current, current.inFlight + 1, current.succeeded)
        : current
    case "Success":
    case "Failure":
    case "Cancel": {
      if (event.generation !== current.generation) return current
      switch (current._tag) {
        case "Closed":
          return event._tag === "Cancel" ? current : record(current, event._tag === "Failure", now, settings)
        case "Open":
          return current
        case "HalfOpen": {
          if (current.inFlight < 1) return current
          if (event._tag === "Failure") {
            return open(
              current.generation + 1,
              now,
              nextPeriod(current.halfOpenAt - current.openedAt, settings)
            )
          }
          if (event._tag === "Cancel") return halfOpen(current, current.inFlight - 1, current.succeeded)
          const succeeded = current.succeeded + 1
          return succeeded >= settings.halfOpenProbes
            ? makeClosed({ generation: current.generation + 1, window: emptyWindow })
            : halfOpen(current, current.inFlight - 1, succeeded)
        }
      }
    }
  }
}

/**
 * The breaker's state machine, pure: the state after `event` happens at
 * `now` (epoch milliseconds).
 *
 * Time is applied first: the window moves on to the bucket of `now` (see
 * {@link bucketIndex}), so that it holds the current bucket and the previous
 * `windowBuckets - 1` ones, and an open breaker whose `halfOpenAt` is at or
 * before `now` half-opens. Then the event:
 *
 * - closed: each outcome joins the window's current bucket; after it, if the
 *   window holds at least `minimumCalls` calls and
 *   `failures / calls ≥ failureRateThreshold`, the breaker opens at `now`
 *   until `now + openDuration`;
 * - half-open: an admitted probe takes a slot; a probe's success counts
 *   toward `halfOpenProbes` successes, which close the breaker with an empty
 *   window (and the next opening starts again at `openDuration`); a probe's
 *   failure reopens it at `now` for {@link nextOpenDuration} of the period
 *   that just ended; a cancelled probe frees its slot;
 * - an outcome from another generation than the current one is ignored.
 *
 * Recording an outcome costs O(1) whatever the traffic; the window's list of
 * older buckets (at most `windowBuckets - 1`) is rebuilt only when the
 * window moves to a new bucket.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "claude-resilience"
 *
 * const settings = CircuitBreaker.defaults
 * let state = CircuitBreaker.initialState
 * for (let i = 0; i < 10; i++) {
 *   const event = i < 7 ? CircuitBreaker.Event.Success({ generation: 0 }) : CircuitBreaker.Event.Failure({ generation: 0 })
 *   state = CircuitBreaker.transition(state, event, 1_000, settings)
 * }
 * state._tag // "Open": 3 failures in 10 calls is 30 %
 * ```
 *
 * @since 0.1.0
 * @category state machine
 */
export const transition = (state: State, event: Event, now: number, settings: Settings): State => {
  const millis = millisOf(settings)
  return apply(advance(state, now, millis), event, now, millis)
}

const noTransitions: ReadonlyArray<Transition> = []

// step, also returning the advanced state (for the decision of a Request)
const evolve = (
  state: State,
  event: Event,
  now: number,
  settings: Millis
): readonly [ticked: State, next: State, transitions: ReadonlyArray<Transition>] => {
  const ticked = advance(state, now, settings)
  const next = apply(ticked, event, now, settings)
  if (ticked.generation === state.generation && next.generation === ticked.generation) {
    return [ticked, next, noTransitions]
  }
  const transitions: Array<Transition> = []
  if (ticked.generation !== state.generation) {
    transitions.push({ from: state, to: ticked, at: ticked._tag === "HalfOpen" ? ticked.halfOpenAt : now })
  }
  if (next.generation !== ticked.generation) {
    transitions.push({ from: ticked, to: next, at: now })
  }
  return [ticked, next, transitions]
}

/**
 * {@link transition}, also listing the transitions it made, in order (at
 * most two: a due half-open, then the event's own). The half-open one is
 * stamped with its `halfOpenAt`, the other with `now`.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "claude-resilience"
 *
 * const open = CircuitBreaker.State.Open({ generation: 1, openedAt: 0, halfOpenAt: 2_000 })
 * // at 3 s a call asks to pass: the due half-open transition (stamped 2 s) is listed
 * const [next, transitions] = CircuitBreaker.step(open, CircuitBreaker.Event.Request(), 3_000, CircuitBreaker.defaults)
 * transitions.map((t) => `${t.from._tag} → ${t.to._tag} at ${t.at}`) // ["Open → HalfOpen at 2000"]
 * ```
 *
 * @since 0.1.0
 * @category state machine
 */
export const step = (
  state: State,
  event: Event,
  now: number,
  settings: Settings
): readonly [State, ReadonlyArray<Transition>] => {
  const [, next, transitions] = evolve(state, event, now, millisOf(settings))
  return [next, transitions]
}

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
export interface Store {
  readonly get: Effect.Effect<State>
  readonly modify: <B>(f: (state: State) => readonly [B, State]) => Effect.Effect<B>
}

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
export const makeMemoryStore = (initial: State = initialState): Effect.Effect<Store> =>
  Effect.map(Ref.make(initial), (ref): Store => ({
    get: Ref.get(ref),
    modify: (f) => Ref.modify(ref, f)
  }))

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
 *   count (by default anything but a server-side error) and a defect count
 *   as calls; an interruption counts as nothing and frees its probe slot.
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
  if (Cause.isInterruptedOnly(exit.cause)) return Event.Cancel({ generation })
  const failed = Option.match(Cause.failureOption(exit.cause), {
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

    const publish = (transitions: ReadonlyArray<Transition>): Effect.Effect<void> =>
      Effect.forEach(
        transitions,
        (change) => Effect.zipRight(PubSub.publish(hub, change), Metric.set(gauge, stateCode(change.to))),
        { discard: true }
      )

    const locked = <B>(f: Update<B>): Effect.Effect<B> =>
      lock.withPermits(1)(
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.flatMap(
            store.modify((state) => {
              const [result, next, transitions] = f(state, now)
              return [[result, transitions] as const, next] as const
            }),
            ([result, transitions]) => Effect.as(publish(transitions), result)
          ))
      )

    // one atomic update of the store; only when `f` would make a transition is
    // the state left as it was and the update made again under the lock
    const update = <B>(f: Update<B>): Effect.Effect<B> =>
      Effect.uninterruptible(
        Effect.clockWith((clock) => {
          const now = clock.unsafeCurrentTimeMillis()
          return Effect.flatMap(
            store.modify((state): readonly [B | typeof needsLock, State] => {
              const [result, next, transitions] = f(state, now)
              return transitions.length === 0 ? [result, next] : [needsLock, state]
            }),
            (result) => result === needsLock ? locked(f) : Effect.succeed(result as B)
          )
        })
      )

    const run = (event: Event) =>
      update((state, now) => {
        const [, next, transitions] = evolve(state, event, now, millis)
        return [next, next, transitions] as const
      })

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
          complete: (exit) => run(outcome(decision.generation, exit, isFailure))
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
