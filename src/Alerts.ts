/**
 * When to wake a human: a pure classifier over the outcomes of calls (typed
 * errors and successes, with their times) and the status page's changes,
 * deciding `page`, `ticket` or `none`, each with its reason.
 *
 * The rules follow the Claude API's guidance on errors
 * (https://docs.anthropic.com/en/api/errors): what waiting cannot fix is
 * a human's at once; what the provider has acknowledged is a ticket; a
 * burst of overload that clears by itself is nobody's. The defaults, each
 * configurable (see {@link Options}):
 *
 * - `fatal`: page at once on an `AuthenticationError`, a `PermissionError`,
 *   a `BillingError` or a `SpendLimitError` (one page per tag; it clears
 *   at the next success);
 * - `badRequests`: page when 400s and 422s (`InvalidRequestError`,
 *   `UnprocessableEntityError`) are at least 20 % of the calls of the last
 *   5 minutes, with at least 20 calls: the sign of a bad deploy (it clears
 *   when the share falls below half the threshold);
 * - `serverErrors`: 5xx and 529 failures (and `CircuitOpenError`) that go
 *   on for 5 minutes, each within 1 minute of the one before: a page while
 *   the status page is green (`none`) or `unknown`, a local problem; only a
 *   ticket while it shows the incident (`minor`, `major`, `critical`). A
 *   burst that stops for a minute clears before it is 5 minutes old, and
 *   decides nothing.
 *
 * Every decision is deduplicated: one page (and one ticket) per condition
 * until the condition clears; the clearing is a `none` decision whose
 * reason says so.
 *
 * {@link classify} runs the rules over a list of events; {@link step} is
 * one event at a time; {@link stream} and {@link sink} are the live
 * adapters, and {@link tap} records the outcome of a call as an event.
 *
 * @since 0.2.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import { dual } from "effect/Function"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import * as Fallback from "./Fallback.js"
import { decodeOptions, duration, number, satisfying, withDefault } from "./internal/options.js"
import type { InvalidOptionsError } from "./Options.js"
import * as StatusPage from "./StatusPage.js"

// ---------------------------------------------------------------------------
// events and decisions
// ---------------------------------------------------------------------------

/**
 * What the classifier reads, each at `at` (epoch milliseconds, `Clock`):
 *
 * - `Success`: a call that answered;
 * - `Failure`: a call that failed, with its error's `tag` and its request
 *   id when it has one (nothing else of the error is kept: never a header,
 *   never the key);
 * - `Status`: the status page's indicator changed (or was first read);
 * - `Tick`: time passed, with no call (lets a live classifier clear or
 *   escalate a condition while no call is made; see {@link ticks}).
 *
 * @example
 * ```ts
 * import { Alerts } from "claude-resilience"
 *
 * const events: ReadonlyArray<Alerts.Event> = [Alerts.success(0), Alerts.status(10, "major")]
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export type Event =
  | { readonly _tag: "Success"; readonly at: number }
  | { readonly _tag: "Failure"; readonly at: number; readonly tag: string; readonly requestId: Option.Option<string> }
  | { readonly _tag: "Status"; readonly at: number; readonly indicator: StatusPage.Indicator }
  | { readonly _tag: "Tick"; readonly at: number }

/**
 * A call that answered, at `at`.
 *
 * @example
 * ```ts
 * import { Alerts } from "claude-resilience"
 *
 * const event = Alerts.success(1_000)
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const success = (at: number): Event => ({ _tag: "Success", at })

/**
 * A call that failed at `at` with `error`: its `_tag` (or `"Unknown"`) and
 * its `requestId`, when it has one, are all that is kept.
 *
 * @example
 * ```ts
 * import { Alerts, ApiError } from "claude-resilience"
 *
 * declare const error: ApiError.ApiError
 * const event = Alerts.failure(1_000, error)
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const failure = (at: number, error: unknown): Event => ({
  _tag: "Failure",
  at,
  tag: Predicate.hasProperty(error, "_tag") && typeof error._tag === "string" ? error._tag : "Unknown",
  requestId: Predicate.hasProperty(error, "requestId") && Option.isOption(error.requestId)
    ? Option.filter(error.requestId as Option.Option<unknown>, Predicate.isString)
    : Option.none()
})

/**
 * The status page read `indicator` at `at`.
 *
 * @example
 * ```ts
 * import { Alerts } from "claude-resilience"
 *
 * const event = Alerts.status(1_000, "critical")
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const status = (at: number, indicator: StatusPage.Indicator): Event => ({ _tag: "Status", at, indicator })

/**
 * Time passed: `at`, with no call.
 *
 * @example
 * ```ts
 * import { Alerts } from "claude-resilience"
 *
 * const event = Alerts.tick(60_000)
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const tick = (at: number): Event => ({ _tag: "Tick", at })

/**
 * A decision, at the instant of the event that made it:
 *
 * - `kind`: `"page"` (wake a human), `"ticket"` (someone looks during
 *   working hours) or `"none"`;
 * - `condition`: what it is about: `fatal:<Tag>`, `badRequests`,
 *   `serverErrors`, or `routine` for an event that concerns no condition;
 * - `reason`: why, in a sentence;
 * - `requestId`: the request id of the failure that made it, when there is
 *   one.
 *
 * @example
 * ```ts
 * import type { Alerts } from "claude-resilience"
 *
 * const line = (decision: Alerts.Decision) => `${decision.kind} ${decision.condition}: ${decision.reason}`
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Decision {
  readonly kind: "page" | "ticket" | "none"
  readonly at: number
  readonly condition: string
  readonly reason: string
  readonly requestId: Option.Option<string>
}

// ---------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------

const isTag = (u: unknown): u is string => typeof u === "string" && /^[A-Za-z]\w{0,99}$/.test(u)
const tags = (fallback: ReadonlyArray<string>) =>
  withDefault(Schema.Array(satisfying("an error tag, such as \"AuthenticationError\"", isTag)), () => fallback)

const indicatorList: ReadonlyArray<StatusPage.Indicator> = ["none", "minor", "major", "critical", "unknown"]
const isIndicator = (u: unknown): u is StatusPage.Indicator =>
  typeof u === "string" && (indicatorList as ReadonlyArray<string>).includes(u)

const Fatal = Schema.Struct({
  tags: tags(["AuthenticationError", "PermissionError", "BillingError", "SpendLimitError"])
})

const BadRequests = Schema.Struct({
  tags: tags(["InvalidRequestError", "UnprocessableEntityError"]),
  share: withDefault(number({ min: 0, max: 1, minExclusive: true }), () => 0.2),
  window: withDefault(duration({ positive: true, finite: true }), () => Duration.minutes(5)),
  minimumCalls: withDefault(number({ min: 1, integer: true }), () => 20)
})

const ServerErrors = Schema.Struct({
  tags: tags([
    "InternalServerError",
    "BadGatewayError",
    "ServiceUnavailableError",
    "GatewayTimeoutError",
    "OverloadedError",
    "UnexpectedServerError",
    "ServerRetryableError",
    "CircuitOpenError"
  ]),
  persistFor: withDefault(duration({ positive: true, finite: true }), () => Duration.minutes(5)),
  gap: withDefault(duration({ positive: true, finite: true }), () => Duration.minutes(1)),
  ticketWhile: withDefault(
    Schema.Array(satisfying(`one of ${indicatorList.map((i) => JSON.stringify(i)).join(", ")}`, isIndicator)),
    (): ReadonlyArray<StatusPage.Indicator> => ["minor", "major", "critical"]
  )
})

const defaultsOf = <A, I>(schema: Schema.Schema<A, I>): A => Schema.decodeUnknownSync(schema)({})

/**
 * The rules' options as a Schema; every field optional, unknown keys
 * refused, every problem listed at its path in one
 * `Options.InvalidOptionsError` (module `"Alerts"`):
 *
 * - `fatal.tags`: the tags that page at once. Default
 *   `AuthenticationError`, `PermissionError`, `BillingError`,
 *   `SpendLimitError`. An empty list turns the rule off.
 * - `badRequests.tags` (default `InvalidRequestError`,
 *   `UnprocessableEntityError`), `badRequests.share` (above 0, at most 1;
 *   default 0.2), `badRequests.window` (default 5 minutes),
 *   `badRequests.minimumCalls` (default 20). The condition clears when the
 *   share falls below half of `share`.
 * - `serverErrors.tags` (the 5xx and 529 tags and `CircuitOpenError`),
 *   `serverErrors.persistFor` (default 5 minutes), `serverErrors.gap` (the
 *   longest pause between two failures of one episode; default 1 minute),
 *   `serverErrors.ticketWhile` (the indicators under which a persisting
 *   episode is a ticket rather than a page; default `minor`, `major`,
 *   `critical`).
 *
 * @example
 * ```ts
 * import { Alerts } from "claude-resilience"
 *
 * const options: Alerts.Options = { badRequests: { share: 0.1 }, serverErrors: { persistFor: "10 minutes" } }
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export const Options = Schema.Struct({
  fatal: withDefault(Fatal, () => defaultsOf(Fatal)),
  badRequests: withDefault(BadRequests, () => defaultsOf(BadRequests)),
  serverErrors: withDefault(ServerErrors, () => defaultsOf(ServerErrors))
})

/**
 * What {@link settings}, {@link classify}, {@link stream} and {@link sink}
 * take (see {@link Options}).
 *
 * @example
 * ```ts
 * import { Alerts } from "claude-resilience"
 *
 * const options: Alerts.Options = { fatal: { tags: ["AuthenticationError"] } }
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export interface Options {
  readonly fatal?: { readonly tags?: ReadonlyArray<string> | undefined } | undefined
  readonly badRequests?: {
    readonly tags?: ReadonlyArray<string> | undefined
    readonly share?: number | undefined
    readonly window?: Duration.DurationInput | undefined
    readonly minimumCalls?: number | undefined
  } | undefined
  readonly serverErrors?: {
    readonly tags?: ReadonlyArray<string> | undefined
    readonly persistFor?: Duration.DurationInput | undefined
    readonly gap?: Duration.DurationInput | undefined
    readonly ticketWhile?: ReadonlyArray<StatusPage.Indicator> | undefined
  } | undefined
}

/**
 * The rules as the classifier runs them: {@link Options} checked, every
 * default filled in.
 *
 * @example
 * ```ts
 * import { Duration, Either } from "effect"
 * import { Alerts } from "claude-resilience"
 *
 * const settings: Alerts.Settings = Either.getOrThrow(Alerts.settings())
 * Duration.toMinutes(settings.serverErrors.persistFor) // 5
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export type Settings = typeof Options.Type

const decodeSettings = decodeOptions("Alerts", Options)

/**
 * Validates {@link Options} into {@link Settings}: every problem, each at
 * its path, in one `Options.InvalidOptionsError` (module `"Alerts"`).
 * Never throws.
 *
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { Alerts } from "claude-resilience"
 *
 * Either.isLeft(Alerts.settings({ badRequests: { share: 2 } })) // true
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const settings = (options?: Options): Either.Either<Settings, InvalidOptionsError> => decodeSettings(options)

/**
 * The default rules.
 *
 * @example
 * ```ts
 * import { Alerts } from "claude-resilience"
 *
 * Alerts.defaults.badRequests.share // 0.2
 * ```
 *
 * @since 0.2.0
 * @category constants
 */
export const defaults: Settings = Either.getOrThrow(decodeSettings({}))

// ---------------------------------------------------------------------------
// the classifier
// ---------------------------------------------------------------------------

/**
 * What the classifier remembers between events: the conditions paged,
 * the calls of the bad-request window, the server-error episode, the last
 * status page indicator.
 *
 * @example
 * ```ts
 * import { Alerts } from "claude-resilience"
 *
 * const start: Alerts.State = Alerts.initial
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface State {
  readonly fatal: ReadonlySet<string>
  readonly calls: ReadonlyArray<{ readonly at: number; readonly bad: boolean }>
  readonly badRequests: boolean
  readonly episode: Option.Option<{
    readonly start: number
    readonly last: number
    readonly paged: boolean
    readonly ticketed: boolean
  }>
  readonly indicator: StatusPage.Indicator
}

/**
 * The state before any event: nothing paged, no episode, the status page
 * `unknown`.
 *
 * @example
 * ```ts
 * import { Alerts } from "claude-resilience"
 *
 * const [state, decisions] = Alerts.step(Alerts.defaults, Alerts.initial, Alerts.success(0))
 * ```
 *
 * @since 0.2.0
 * @category constants
 */
export const initial: State = {
  fatal: new Set(),
  calls: [],
  badRequests: false,
  episode: Option.none(),
  indicator: "unknown"
}

const minutes = (millis: number): string => Duration.format(Duration.millis(millis))

/**
 * One event through the rules: the next state, and the decisions it
 * makes, never empty (a `none` with its reason when the event concerns no
 * condition, or a condition already decided). Pure: the same state and
 * event give the same decisions.
 *
 * @example
 * ```ts
 * import { Alerts, ApiError } from "claude-resilience"
 *
 * declare const error: ApiError.AuthenticationError
 * const [, decisions] = Alerts.step(Alerts.defaults, Alerts.initial, Alerts.failure(0, error))
 * decisions[0]!.kind // "page"
 * ```
 *
 * @since 0.2.0
 * @category classifier
 */
export const step = (
  rules: Settings,
  state: State,
  event: Event
): readonly [State, ReadonlyArray<Decision>] => {
  const at = event.at
  const decisions: Array<Decision> = []
  const requestId = event._tag === "Failure" ? event.requestId : Option.none<string>()
  const decide = (kind: Decision["kind"], condition: string, reason: string) =>
    decisions.push({ kind, at, condition, reason, requestId })

  // the status page
  const indicator = event._tag === "Status" ? event.indicator : state.indicator

  // fatal: page at once, once per tag, until a success
  let fatal = state.fatal
  if (event._tag === "Failure" && rules.fatal.tags.includes(event.tag)) {
    if (!fatal.has(event.tag)) {
      fatal = new Set([...fatal, event.tag])
      decide("page", `fatal:${event.tag}`, `${event.tag}: waiting cannot fix it; a human must act`)
    }
  } else if (event._tag === "Success" && fatal.size > 0) {
    for (const tag of fatal) decide("none", `fatal:${tag}`, `cleared: a call succeeded after ${tag}`)
    fatal = new Set()
  }

  // bad requests: a share of the calls in the window
  const window = Duration.toMillis(rules.badRequests.window)
  let calls = state.calls.filter((call) => call.at > at - window)
  let badRequests = state.badRequests
  if (event._tag === "Success" || event._tag === "Failure") {
    calls = [...calls, { at, bad: event._tag === "Failure" && rules.badRequests.tags.includes(event.tag) }]
  }
  if (rules.badRequests.tags.length > 0) {
    const bad = calls.filter((call) => call.bad).length
    const share = calls.length === 0 ? 0 : bad / calls.length
    const over = calls.length >= rules.badRequests.minimumCalls && share >= rules.badRequests.share
    const percent = `${Math.round(share * 1000) / 10} %`
    if (over && !badRequests) {
      badRequests = true
      decide(
        "page",
        "badRequests",
        `${bad} of the last ${calls.length} calls (${percent}, over ${minutes(window)}) were rejected as bad requests: the sign of a bad deploy`
      )
    } else if (badRequests && share < rules.badRequests.share / 2) {
      // cleared below half the threshold, not at it: a share that hovers
      // around the threshold would otherwise page at every other call
      badRequests = false
      decide("none", "badRequests", `cleared: bad requests are ${percent} of the calls over ${minutes(window)}`)
    }
  }

  // server errors: an episode of failures, each within `gap` of the last
  const gap = Duration.toMillis(rules.serverErrors.gap)
  const persistFor = Duration.toMillis(rules.serverErrors.persistFor)
  let episode = state.episode
  if (Option.isSome(episode) && at - episode.value.last > gap) {
    const { last, start } = episode.value
    decide(
      "none",
      "serverErrors",
      `cleared: no server error for ${minutes(gap)} after ${minutes(last - start)} of them`
    )
    episode = Option.none()
  }
  if (event._tag === "Failure" && rules.serverErrors.tags.includes(event.tag)) {
    episode = Option.some(
      Option.match(episode, {
        onNone: () => ({ start: at, last: at, paged: false, ticketed: false }),
        onSome: (e) => ({ ...e, last: at })
      })
    )
  }
  if (Option.isSome(episode)) {
    const e = episode.value
    const lasted = at - e.start
    if (lasted >= persistFor) {
      const upstream = rules.serverErrors.ticketWhile.includes(indicator)
      if (upstream && !e.ticketed) {
        episode = Option.some({ ...e, ticketed: true })
        decide(
          "ticket",
          "serverErrors",
          `server errors for ${minutes(lasted)} while the status page shows an incident (${indicator}): upstream's, acknowledged`
        )
      } else if (!upstream && !e.paged) {
        episode = Option.some({ ...e, paged: true })
        decide(
          "page",
          "serverErrors",
          `server errors for ${minutes(lasted)} while the status page shows ${
            indicator === "none" ? "no incident" : `nothing known (${indicator})`
          }: a local problem`
        )
      }
    }
  }

  if (decisions.length === 0) {
    decide(
      "none",
      "routine",
      Option.match(episode, {
        onNone: () => "nothing to act on",
        onSome: (e) =>
          e.paged || e.ticketed
            ? `server errors go on (${minutes(at - e.start)}), already decided`
            : `server errors for ${minutes(at - e.start)}: a burst so far (decided after ${minutes(persistFor)})`
      })
    )
  }
  return [{ fatal, calls, badRequests, episode, indicator }, decisions]
}

/**
 * The rules over a list of events, in order: every decision, `none`s
 * included. Fails only on invalid options.
 *
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { Alerts } from "claude-resilience"
 *
 * const decisions = Either.getOrThrow(Alerts.classify([Alerts.success(0), Alerts.success(1)]))
 * decisions.every((d) => d.kind === "none") // true
 * ```
 *
 * @since 0.2.0
 * @category classifier
 */
export const classify = (
  events: Iterable<Event>,
  options?: Options
): Either.Either<ReadonlyArray<Decision>, InvalidOptionsError> =>
  Either.map(settings(options), (rules) => {
    let state = initial
    const out: Array<Decision> = []
    for (const event of events) {
      const [next, decisions] = step(rules, state, event)
      state = next
      out.push(...decisions)
    }
    return out
  })

// ---------------------------------------------------------------------------
// live adapters
// ---------------------------------------------------------------------------

/**
 * The page and ticket decisions of the live adapters
 * (`claude_resilience_alerts_total`, tags `kind`: `page` or `ticket`, and
 * `condition`: `fatal:<Tag>`, `badRequests`, `serverErrors`).
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { Alerts } from "claude-resilience"
 *
 * const pages = Metric.value(Metric.tagged(Metric.tagged(Alerts.decisionsTotal, "kind", "page"), "condition", "serverErrors"))
 * ```
 *
 * @since 0.2.0
 * @category metrics
 */
export const decisionsTotal = Metric.counter("claude_resilience_alerts_total", {
  description: "Page and ticket decisions of the alert rules, by kind and condition",
  incremental: true
})

/**
 * A decision in the log: a page at `Warning`, a ticket at `Info`, a `none`
 * at `Debug`; annotated with its condition and request id (never anything
 * else of the call). The live adapters log each of theirs with it, and
 * count it in {@link decisionsTotal}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Alerts } from "claude-resilience"
 *
 * declare const decision: Alerts.Decision
 * const logged: Effect.Effect<void> = Alerts.log(decision)
 * ```
 *
 * @since 0.2.0
 * @category logging
 */
export const log = (decision: Decision): Effect.Effect<void> => {
  const line = `alert ${decision.kind} (${decision.condition}): ${decision.reason}`
  const logged = decision.kind === "page"
    ? Effect.logWarning(line)
    : decision.kind === "ticket"
    ? Effect.logInfo(line)
    : Effect.logDebug(line)
  return logged.pipe(
    Effect.annotateLogs({
      "alert.kind": decision.kind,
      "alert.condition": decision.condition,
      ...Option.match(decision.requestId, { onNone: () => ({}), onSome: (id) => ({ "request.id": id }) })
    })
  )
}

/** A decision of a live adapter: logged and counted. */
const report = (decision: Decision): Effect.Effect<void> =>
  Effect.zipRight(
    log(decision),
    Metric.increment(
      Metric.tagged(Metric.tagged(decisionsTotal, "kind", decision.kind), "condition", decision.condition)
    )
  )

/**
 * The live classifier: the `page` and `ticket` decisions of a stream of
 * events, each logged (see {@link log}) and counted in
 * {@link decisionsTotal}. Invalid options fail the stream
 * with `Options.InvalidOptionsError` before any event is read.
 *
 * @example
 * ```ts
 * import { Effect, Queue, Stream } from "effect"
 * import { Alerts } from "claude-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const events = yield* Queue.unbounded<Alerts.Event>()
 *   const pages = Alerts.stream(Stream.fromQueue(events)).pipe(Stream.filter((d) => d.kind === "page"))
 *   return pages
 * })
 * ```
 *
 * @since 0.2.0
 * @category adapters
 */
export const stream: {
  (options?: Options): <E, R>(events: Stream.Stream<Event, E, R>) => Stream.Stream<Decision, E | InvalidOptionsError, R>
  <E, R>(events: Stream.Stream<Event, E, R>, options?: Options): Stream.Stream<Decision, E | InvalidOptionsError, R>
} = dual(
  (args) => Stream.StreamTypeId in Object(args[0]),
  <E, R>(events: Stream.Stream<Event, E, R>, options?: Options): Stream.Stream<Decision, E | InvalidOptionsError, R> =>
    Stream.unwrap(Effect.map(settings(options), (rules) =>
      events.pipe(
        Stream.mapAccum(initial, (state, event) => step(rules, state, event)),
        Stream.flattenIterables,
        Stream.filter((decision) => decision.kind !== "none"),
        Stream.tap(report)
      )))
)

/**
 * A `Sink` that classifies the events it is fed and hands each `page` and
 * `ticket` decision to `handle` (a pager's webhook, a ticket queue), after
 * logging it. A failure of `handle` fails the sink.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Alerts } from "claude-resilience"
 *
 * declare const events: Stream.Stream<Alerts.Event>
 * declare const notify: (decision: Alerts.Decision) => Effect.Effect<void>
 *
 * const run = Stream.run(events, Alerts.sink(notify))
 * ```
 *
 * @since 0.2.0
 * @category adapters
 */
export const sink = <E, R>(
  handle: (decision: Decision) => Effect.Effect<void, E, R>,
  options?: Options
): Sink.Sink<void, Event, Event, E | InvalidOptionsError, R> =>
  Sink.unwrap(Effect.map(settings(options), (rules) =>
    Sink.foldLeftEffect(initial, (state: State, event: Event) => {
      const [next, decisions] = step(rules, state, event)
      return Effect.as(
        Effect.forEach(
          decisions.filter((d) => d.kind !== "none"),
          (d) => Effect.zipRight(report(d), handle(d)),
          { discard: true }
        ),
        next
      )
    }).pipe(Sink.map((): void => undefined))))

/** The failures a fallback chain carries (its answer's, or its `FallbackError`'s), when `u` is one. */
const chainFailures = (u: unknown): Option.Option<ReadonlyArray<unknown>> =>
  Fallback.isFallbackError(u) ||
    (Predicate.hasProperty(u, "path") && Predicate.hasProperty(u, "value") && Predicate.hasProperty(u, "failures"))
    ? Option.some(Array.isArray(u.failures) ? u.failures.map((f: unknown) => Predicate.hasProperty(f, "error") ? f.error : f) : [])
    : Option.none()

/** The events of one call's exit at `at`: a chain's paths one by one, any other call as one event. */
const outcomeEvents = (at: number, exit: Exit.Exit<unknown, unknown>): ReadonlyArray<Event> => {
  if (Exit.isSuccess(exit)) {
    return [...Option.getOrElse(chainFailures(exit.value), () => []).map((error) => failure(at, error)), success(at)]
  }
  return Option.match(Cause.failureOption(exit.cause), {
    onNone: () => [{ _tag: "Failure", at, tag: "Defect", requestId: Option.none() }],
    onSome: (error) =>
      Option.match(chainFailures(error), {
        onNone: () => [failure(at, error)],
        onSome: (errors) => errors.map((e) => failure(at, e))
      })
  })
}

/**
 * Records the outcome of `self` as an {@link Event} (its time read from
 * `Clock` when it ends) with `record` (a queue's `offer`), and returns
 * `self`'s result unchanged. An interruption records nothing; a defect
 * records a `Failure` tagged `"Defect"`.
 *
 * Around a `Fallback` chain's call it records each path's outcome, not the
 * chain's: every failure of its `failures` (of the answer, or of the
 * `FallbackError`), then a `Success` when a path answered. A primary that
 * is down behind a fallback that answers is still an outage to the rules.
 *
 * @example
 * ```ts
 * import { Effect, Queue } from "effect"
 * import { Alerts, Claude, type Messages } from "claude-resilience"
 *
 * declare const params: Messages.MessageCreateParams
 *
 * const program = Effect.gen(function*() {
 *   const events = yield* Queue.unbounded<Alerts.Event>()
 *   const claude = yield* Claude.Claude
 *   return yield* claude.messages.create(params).pipe(Alerts.tap((event) => Queue.offer(events, event)))
 * })
 * ```
 *
 * @since 0.2.0
 * @category adapters
 */
export const tap: {
  <R2>(record: (event: Event) => Effect.Effect<unknown, never, R2>): <A, E, R>(
    self: Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E, R | R2>
  <A, E, R, R2>(
    self: Effect.Effect<A, E, R>,
    record: (event: Event) => Effect.Effect<unknown, never, R2>
  ): Effect.Effect<A, E, R | R2>
} = dual(
  2,
  <A, E, R, R2>(
    self: Effect.Effect<A, E, R>,
    record: (event: Event) => Effect.Effect<unknown, never, R2>
  ): Effect.Effect<A, E, R | R2> =>
    Effect.onExit(self, (exit) =>
      Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)
        ? Effect.void
        : Effect.flatMap(Clock.currentTimeMillis, (at) =>
          Effect.forEach(outcomeEvents(at, exit), (event) => record(event), { discard: true })))
)

/**
 * A {@link tick} every `every` (by `Clock`, the first after `every`): merge
 * it into the events so that a live classifier clears a condition, or
 * decides on a persisting one, while no call is made.
 *
 * @example
 * ```ts
 * import { Stream } from "effect"
 * import { Alerts } from "claude-resilience"
 *
 * declare const events: Stream.Stream<Alerts.Event>
 * const withTicks = Stream.merge(events, Alerts.ticks("30 seconds"), { haltStrategy: "left" })
 * ```
 *
 * @since 0.2.0
 * @category adapters
 */
export const ticks = (every: Duration.DurationInput): Stream.Stream<Event> =>
  Stream.repeatEffect(Effect.zipRight(Effect.sleep(every), Effect.map(Clock.currentTimeMillis, tick)))

/**
 * A {@link status} event each time the status page's indicator changes
 * (the first reading included), read every `every` from the
 * `StatusPage.StatusPage` in the context.
 *
 * @example
 * ```ts
 * import { Stream } from "effect"
 * import { Alerts } from "claude-resilience"
 *
 * declare const calls: Stream.Stream<Alerts.Event>
 * const events = Stream.merge(calls, Alerts.statusChanges("1 minute"), { haltStrategy: "left" })
 * ```
 *
 * @since 0.2.0
 * @category adapters
 */
export const statusChanges = (every: Duration.DurationInput): Stream.Stream<Event> =>
  Stream.repeatEffectWithSchedule(
    Effect.zip(StatusPage.indicator, Clock.currentTimeMillis),
    Schedule.spaced(every)
  ).pipe(
    Stream.changesWith(([a], [b]) => a === b),
    Stream.map(([indicator, at]) => status(at, indicator))
  )
