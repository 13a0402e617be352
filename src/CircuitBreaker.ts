/**
 * A circuit breaker over a rolling time window of call outcomes. When too
 * large a share of recent calls ended in a server-side failure, the breaker
 * opens: calls then fail at once with {@link CircuitOpenError} and no request
 * is sent. After a cool-down it half-opens and lets a few probe calls through;
 * their outcome closes it again or reopens it.
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
import * as Predicate from "effect/Predicate"
import * as PubSub from "effect/PubSub"
import type * as Queue from "effect/Queue"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as ApiError from "./ApiError.js"
import { decodeDuration, describeValue } from "./internal/options.js"

// ---------------------------------------------------------------------------
// state
// ---------------------------------------------------------------------------

/**
 * The outcomes recorded at one instant of the rolling window: how many calls
 * ended at `at` (epoch milliseconds) and how many of them were failures.
 * Calls ending at the same millisecond share one bucket, so the window holds
 * at most one bucket per millisecond whatever the traffic.
 *
 * @since 0.1.0
 * @category models
 */
export interface Bucket {
  readonly at: number
  readonly calls: number
  readonly failures: number
}

/**
 * The breaker's state. Every state carries a `generation`, which grows by one
 * at each transition: an outcome is recorded only in the generation that
 * admitted its call, so a slow call admitted before the breaker opened can
 * neither count as a probe nor reopen the breaker later.
 *
 * - `Closed`: calls pass; `window` holds the outcomes of the last
 *   `window` milliseconds, oldest first.
 * - `Open`: calls fail fast with {@link CircuitOpenError} until
 *   `halfOpenAt`.
 * - `HalfOpen`: at most `halfOpenProbes` probe calls are admitted;
 *   `inFlight` of them are running and `succeeded` have succeeded.
 *
 * All instants are epoch milliseconds from `Clock`.
 *
 * @since 0.1.0
 * @category models
 */
export type State = Data.TaggedEnum<{
  Closed: {
    readonly generation: number
    readonly window: ReadonlyArray<Bucket>
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
 * @since 0.1.0
 * @category constructors
 */
export const State = Data.taggedEnum<State>()

/**
 * The state a new breaker starts in: closed, with an empty window.
 *
 * @since 0.1.0
 * @category constructors
 */
export const initialState: State = State.Closed({ generation: 0, window: [] })

/**
 * What happens to a breaker, the input of {@link transition}.
 *
 * - `Tick`: only time passes (old outcomes leave the window; an open breaker
 *   whose cool-down is over half-opens).
 * - `Request`: a call asks to pass (see {@link decide}); a probe admitted
 *   while half-open takes a slot.
 * - `Success`: an admitted call ended and does not count as a failure.
 * - `Failure`: an admitted call ended in a failure (by default a server-side
 *   error, see {@link isServerFailure}).
 * - `Cancel`: an admitted call was interrupted; it counts as nothing and its
 *   probe slot, if any, is freed.
 *
 * `generation` is the one {@link decide} handed to the call when it was
 * admitted.
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
 * @since 0.1.0
 * @category constructors
 */
export const Event = Data.taggedEnum<Event>()

/**
 * Whether a call may pass. An admitted call carries the `generation` its
 * outcome must be reported with; a rejected one says why.
 *
 * @since 0.1.0
 * @category models
 */
export type Decision = Data.TaggedEnum<{
  Admit: { readonly generation: number; readonly probe: boolean }
  Reject: { readonly state: "Open" | "HalfOpen"; readonly openedAt: number; readonly halfOpenAt: number }
}>

/**
 * Constructors and guards for {@link Decision}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const Decision = Data.taggedEnum<Decision>()

/**
 * One change of state: the state before, the state after, and the instant
 * (epoch milliseconds) it took effect. The half-open transition is stamped
 * with `halfOpenAt`, even when it is noticed later (see {@link Service}).
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
// settings
// ---------------------------------------------------------------------------

/**
 * The validated numbers the state machine runs on. Build them with
 * {@link makeSettings}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Settings {
  /** Length of the rolling window, in milliseconds (> 0). */
  readonly windowMillis: number
  /** Failure rate at or above which the breaker opens, in (0, 1]. */
  readonly failureRateThreshold: number
  /** Calls the window must hold before the rate is judged (integer ≥ 1). */
  readonly minimumCalls: number
  /** How long the breaker stays open before it half-opens, in milliseconds (≥ 0). */
  readonly openDurationMillis: number
  /** Probe calls admitted while half-open (integer ≥ 1). */
  readonly halfOpenProbes: number
}

/**
 * The defaults: a 30 s window, opening at a failure rate of 30 % or more once
 * the window holds at least 10 calls, open for 30 s, then 3 probes.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults: Settings = {
  windowMillis: 30_000,
  failureRateThreshold: 0.3,
  minimumCalls: 10,
  openDurationMillis: 30_000,
  halfOpenProbes: 3
}

/**
 * The options of {@link make} and {@link layer}; every one is optional and
 * defaults to {@link defaults}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Length of the rolling window. Default 30 seconds. */
  readonly window?: Duration.DurationInput | undefined
  /** Open when failures / calls in the window reach this, in (0, 1]. Default 0.3. */
  readonly failureRateThreshold?: number | undefined
  /** The rate is judged only once the window holds this many calls. Default 10. */
  readonly minimumCalls?: number | undefined
  /** How long the breaker stays open before it half-opens. Default 30 seconds. */
  readonly openDuration?: Duration.DurationInput | undefined
  /** Probe calls let through while half-open. Default 3. */
  readonly halfOpenProbes?: number | undefined
  /**
   * Whether a call's typed error counts as a failure. Default
   * {@link isServerFailure}. If it throws, the outcome counts as a call,
   * not a failure.
   */
  readonly isFailure?: ((error: unknown) => boolean) | undefined
  /** Where the state lives. Default: a new in-memory store. */
  readonly store?: Store | undefined
  /** The `breaker` tag of the breaker's metrics. Default `"default"`. */
  readonly name?: string | undefined
}

/**
 * An option of {@link make} / {@link layer} was out of range. Nothing was
 * built.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidCircuitBreakerOptionsError extends Schema.TaggedError<InvalidCircuitBreakerOptionsError>()(
  "InvalidCircuitBreakerOptionsError",
  {
    /** The name of the first invalid option. */
    option: Schema.String,
    message: Schema.String
  }
) {}

const invalid = (option: string, expected: string, value: unknown) =>
  new InvalidCircuitBreakerOptionsError({
    option,
    message: `Invalid circuit breaker option "${option}": expected ${expected}, got ${describeValue(value)}`
  })

const durationMillis = (
  option: string,
  input: Duration.DurationInput | undefined,
  fallback: number,
  allowZero: boolean
): Either.Either<number, InvalidCircuitBreakerOptionsError> => {
  const expected = allowZero ? "a finite duration ≥ 0" : "a finite duration > 0"
  if (input === undefined) return Either.right(fallback)
  const decoded = decodeDuration(input)
  if (Option.isNone(decoded) || !Duration.isFinite(decoded.value)) {
    return Either.left(invalid(option, expected, input))
  }
  const millis = Duration.toMillis(decoded.value)
  if (!Number.isFinite(millis) || millis > MAX_MILLIS || (!allowZero && millis <= 0)) {
    return Either.left(invalid(option, expected, input))
  }
  return Either.right(millis)
}

// the largest span a JavaScript date can express: keeps every instant printable
const MAX_MILLIS = 8.64e15

/**
 * Validates {@link Options} into {@link Settings}. Out-of-range values give
 * an {@link InvalidCircuitBreakerOptionsError} naming the option: a threshold
 * outside (0, 1], `minimumCalls` or `halfOpenProbes` not an integer ≥ 1, a
 * window that is not a finite positive duration, an open duration that is
 * negative or infinite, an `isFailure` that is not a function.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeSettings = (
  options: Options = {}
): Either.Either<Settings, InvalidCircuitBreakerOptionsError> =>
  Either.gen(function*() {
    const windowMillis = yield* durationMillis("window", options.window, defaults.windowMillis, false)
    const failureRateThreshold = options.failureRateThreshold ?? defaults.failureRateThreshold
    if (
      typeof failureRateThreshold !== "number" || !(failureRateThreshold > 0 && failureRateThreshold <= 1)
    ) {
      return yield* Either.left(
        invalid("failureRateThreshold", "a number in (0, 1]", failureRateThreshold)
      )
    }
    const minimumCalls = options.minimumCalls ?? defaults.minimumCalls
    if (!Number.isSafeInteger(minimumCalls) || minimumCalls < 1) {
      return yield* Either.left(invalid("minimumCalls", "an integer ≥ 1", minimumCalls))
    }
    const openDurationMillis = yield* durationMillis(
      "openDuration",
      options.openDuration,
      defaults.openDurationMillis,
      true
    )
    const halfOpenProbes = options.halfOpenProbes ?? defaults.halfOpenProbes
    if (!Number.isSafeInteger(halfOpenProbes) || halfOpenProbes < 1) {
      return yield* Either.left(invalid("halfOpenProbes", "an integer ≥ 1", halfOpenProbes))
    }
    if (options.isFailure !== undefined && typeof options.isFailure !== "function") {
      return yield* Either.left(invalid("isFailure", "a function", options.isFailure))
    }
    return { windowMillis, failureRateThreshold, minimumCalls, openDurationMillis, halfOpenProbes }
  })

// ---------------------------------------------------------------------------
// what counts as a failure
// ---------------------------------------------------------------------------

/**
 * The tags that count as failures by default: the server-side errors and the
 * network failures. Judged by tag, never by status: an `overloaded_error`
 * event in the middle of a stream arrives on an HTTP 200 response and is an
 * `OverloadedError` all the same.
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
 * @since 0.1.0
 * @category classification
 */
export const isServerFailure = (error: unknown): boolean =>
  Predicate.hasProperty(error, "_tag") && typeof error._tag === "string" &&
  (failureTags as ReadonlySet<string>).has(error._tag)

// ---------------------------------------------------------------------------
// the pure state machine
// ---------------------------------------------------------------------------

const advance = (state: State, now: number, settings: Settings): State => {
  switch (state._tag) {
    case "Closed": {
      const horizon = now - settings.windowMillis
      if (state.window.every((bucket) => bucket.at > horizon)) return state
      return State.Closed({
        generation: state.generation,
        window: state.window.filter((bucket) => bucket.at > horizon)
      })
    }
    case "Open":
      return now >= state.halfOpenAt
        ? State.HalfOpen({
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

const open = (generation: number, now: number, settings: Settings): State =>
  State.Open({ generation, openedAt: now, halfOpenAt: now + settings.openDurationMillis })

/**
 * The number of calls and of failures in a closed breaker's window, as it
 * stands (call it on a state read at `now` to have the window as of `now`).
 * Zero for the other states.
 *
 * @since 0.1.0
 * @category getters
 */
export const windowCounts = (state: State): { readonly calls: number; readonly failures: number } => {
  let calls = 0
  let failures = 0
  if (state._tag === "Closed") {
    for (const bucket of state.window) {
      calls += bucket.calls
      failures += bucket.failures
    }
  }
  return { calls, failures }
}

type Closed = Extract<State, { readonly _tag: "Closed" }>
type HalfOpen = Extract<State, { readonly _tag: "HalfOpen" }>

const halfOpen = (state: HalfOpen, inFlight: number, succeeded: number): State =>
  State.HalfOpen({
    generation: state.generation,
    openedAt: state.openedAt,
    halfOpenAt: state.halfOpenAt,
    inFlight,
    succeeded
  })

const record = (state: Closed, failed: boolean, now: number, settings: Settings) => {
  const last = state.window[state.window.length - 1]
  const window = last !== undefined && last.at === now
    ? [...state.window.slice(0, -1), { at: now, calls: last.calls + 1, failures: last.failures + (failed ? 1 : 0) }]
    : [...state.window, { at: now, calls: 1, failures: failed ? 1 : 0 }]
  const next = State.Closed({ generation: state.generation, window })
  const { calls, failures } = windowCounts(next)
  return calls >= settings.minimumCalls && failures / calls >= settings.failureRateThreshold
    ? open(state.generation + 1, now, settings)
    : next
}

/**
 * Whether a call asking to pass at `now` is admitted: always when closed,
 * never when open, and while half-open only if fewer than `halfOpenProbes`
 * probes are running or have succeeded. An open breaker whose `halfOpenAt`
 * has come is judged as half-open. Pure; {@link transition} with
 * `Event.Request()` does the matching bookkeeping.
 *
 * @since 0.1.0
 * @category state machine
 */
export const decide = (state: State, now: number, settings: Settings): Decision => {
  const current = advance(state, now, settings)
  switch (current._tag) {
    case "Closed":
      return Decision.Admit({ generation: current.generation, probe: false })
    case "Open":
      return Decision.Reject({ state: "Open", openedAt: current.openedAt, halfOpenAt: current.halfOpenAt })
    case "HalfOpen":
      return current.inFlight + current.succeeded < settings.halfOpenProbes
        ? Decision.Admit({ generation: current.generation, probe: true })
        : Decision.Reject({ state: "HalfOpen", openedAt: current.openedAt, halfOpenAt: current.halfOpenAt })
  }
}

/**
 * The breaker's state machine, pure: the state after `event` happens at
 * `now` (epoch milliseconds).
 *
 * Time is applied first: outcomes at or before `now - window` leave the
 * window, and an open breaker whose `halfOpenAt` is at or before `now`
 * half-opens. Then the event:
 *
 * - closed: each outcome joins the window; after it, if the window holds at
 *   least `minimumCalls` calls and `failures / calls ≥ failureRateThreshold`,
 *   the breaker opens at `now` until `now + openDuration`;
 * - half-open: an admitted probe takes a slot; a probe's success counts
 *   toward `halfOpenProbes` successes, which close the breaker with a fresh
 *   window; a probe's failure reopens it at `now`; a cancelled probe frees
 *   its slot;
 * - an outcome from another generation than the current one is ignored.
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
  const current = advance(state, now, settings)
  switch (event._tag) {
    case "Tick":
      return current
    case "Request":
      return current._tag === "HalfOpen" && decide(current, now, settings)._tag === "Admit"
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
          if (event._tag === "Failure") return open(current.generation + 1, now, settings)
          if (event._tag === "Cancel") return halfOpen(current, current.inFlight - 1, current.succeeded)
          const succeeded = current.succeeded + 1
          return succeeded >= settings.halfOpenProbes
            ? State.Closed({ generation: current.generation + 1, window: [] })
            : halfOpen(current, current.inFlight - 1, succeeded)
        }
      }
    }
  }
}

/**
 * {@link transition}, also listing the transitions it made, in order (at
 * most two: a due half-open, then the event's own). The half-open one is
 * stamped with its `halfOpenAt`, the other with `now`.
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
  const ticked = advance(state, now, settings)
  const next = transition(ticked, event, now, settings)
  const transitions: Array<Transition> = []
  if (ticked.generation !== state.generation) {
    transitions.push({ from: state, to: ticked, at: ticked._tag === "HalfOpen" ? ticked.halfOpenAt : now })
  }
  if (next.generation !== ticked.generation) {
    transitions.push({ from: ticked, to: next, at: now })
  }
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
  static fromRejection(rejection: Extract<Decision, { readonly _tag: "Reject" }>): CircuitOpenError {
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
 * @since 0.1.0
 * @category metrics
 */
export const stateGauge = Metric.gauge("claude_resilience_circuit_breaker_state", {
  description: "Circuit breaker state: 0 closed, 1 half-open, 2 open"
})

/**
 * Counter of the calls each breaker refused, tagged `breaker`.
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
 * - `state`: the current state as of now (so an open breaker whose cool-down
 *   is over reads `HalfOpen`, and the window holds only live outcomes).
 * - `changes`: the transitions this breaker makes from the moment the stream
 *   starts running, in order. The breaker runs no background fiber: a due
 *   `Open → HalfOpen` transition is made (and emitted, stamped with
 *   `halfOpenAt`) when the breaker is next used or read.
 * - `subscribe`: the same transitions as a queue, subscribed as soon as the
 *   effect runs (so nothing made after it is missed, unlike a `changes`
 *   stream forked in the background, which subscribes when its fiber gets
 *   to it); unsubscribed when the scope closes.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly settings: Settings
  readonly permit: Effect.Effect<Permit, CircuitOpenError>
  readonly protect: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | CircuitOpenError, R>
  readonly state: Effect.Effect<State>
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
 * @since 0.1.0
 * @category models
 */
export interface Permit {
  readonly complete: (exit: Exit.Exit<unknown, unknown>) => Effect.Effect<void>
}

/**
 * The circuit breaker service. Provide it once with {@link layer} and every
 * client of the process shares one breaker.
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
 * {@link InvalidCircuitBreakerOptionsError}.
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
  options: Options = {}
): Effect.Effect<Service, InvalidCircuitBreakerOptionsError, Scope.Scope> =>
  Effect.gen(function*() {
    const settings = yield* makeSettings(options)
    const isFailure = options.isFailure ?? isServerFailure
    const store = options.store ?? (yield* makeMemoryStore())
    const name = options.name ?? "default"
    const gauge = Metric.tagged(stateGauge, "breaker", name)
    const rejections = Metric.tagged(rejectionsCounter, "breaker", name)
    const hub = yield* Effect.acquireRelease(PubSub.unbounded<Transition>(), PubSub.shutdown)
    // serialises this breaker's updates so that transitions are published in
    // the order they were made
    const lock = yield* Effect.makeSemaphore(1)

    const commit = <B>(f: (state: State, now: number) => readonly [B, State, ReadonlyArray<Transition>]) =>
      lock.withPermits(1)(
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const [result, transitions] = yield* store.modify((state) => {
            const [result, next, transitions] = f(state, now)
            return [[result, transitions] as const, next] as const
          })
          for (const change of transitions) {
            yield* PubSub.publish(hub, change)
            yield* Metric.set(gauge, stateCode(change.to))
          }
          return result
        })
      ).pipe(Effect.uninterruptible)

    const run = (event: Event) =>
      commit((state, now) => {
        const [next, transitions] = step(state, event, now, settings)
        return [next, next, transitions]
      })

    const admit = commit((state, now) => {
      const decision = decide(state, now, settings)
      const [next, transitions] = step(state, Event.Request(), now, settings)
      return [decision, next, transitions]
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

    return {
      settings,
      permit,
      protect,
      state: run(Event.Tick()),
      changes: Stream.fromPubSub(hub),
      subscribe: PubSub.subscribe(hub)
    } satisfies Service
  })

/**
 * A layer with one breaker, shared by everything it is provided to.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker } from "claude-resilience"
 *
 * const BreakerLive = CircuitBreaker.layer({ openDuration: "1 minute" })
 * const program = Effect.succeed(1).pipe(CircuitBreaker.protect, Effect.provide(BreakerLive))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<CircuitBreaker, InvalidCircuitBreakerOptionsError> =>
  Layer.scoped(CircuitBreaker, make(options))

/**
 * Runs `effect` through the {@link CircuitBreaker} in the context. A plain
 * function of the effect, so it pipes: `effect.pipe(CircuitBreaker.protect)`.
 * Put it inside a retry so that each attempt passes through the breaker: an
 * open breaker then fails the attempt with {@link CircuitOpenError}, which
 * ends the retries.
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
 * @since 0.1.0
 * @category accessors
 */
export const changes: Stream.Stream<Transition, never, CircuitBreaker> = Stream.unwrap(
  Effect.map(CircuitBreaker, (breaker) => breaker.changes)
)
