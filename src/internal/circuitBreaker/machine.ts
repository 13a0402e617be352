/**
 * The circuit breaker's pure state machine: the states, the bucketed rolling
 * window, the events, the admission of a call and the transitions, as
 * functions of `(state, event, now, settings)` with no effects. The public
 * `CircuitBreaker` module re-exports all of it; its service keeps a state in
 * a `Store` and moves it with {@link transition}.
 *
 * @internal
 */
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import type { Settings } from "../../CircuitBreaker.js"

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
// settings in milliseconds
// ---------------------------------------------------------------------------

/**
 * The settings' durations in milliseconds, as the state machine counts them.
 * Computed once per settings object.
 */
/** @internal */
export interface Millis {
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

/** @internal */
export const millisOf = (settings: Settings): Millis => {
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

/** @internal */
export const decideAdvanced = (current: State, settings: Millis): Admission => {
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
/** @internal */
export const admitsAt = (state: State, instant: number, now: number, settings: Millis): boolean => {
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
/** @internal */
export const evolve = (
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
