/**
 * A deterministic fleet simulation: N virtual clients send logical requests
 * to a modelled Claude API, each through a retry policy, entirely in virtual
 * time with seeded randomness. The same seed gives the same figures on every
 * run and every machine; another seed gives other figures.
 *
 * The policy under test, `"ours"`, is the library's own code:
 * `Resilience.protect` (the retry schedule with full jitter, the circuit
 * breaker, the retry budget) over a `Resilience.layer` per client. The
 * comparison policies are written here: `"sdk-like"` (as the official SDKs
 * retry), `"naive"` (5 immediate retries), `"no-jitter"`, `"equal-jitter"`
 * and `"decorrelated-jitter"`. Bring your own with {@link Policy}.
 *
 * Two kinds of scenario:
 *
 * - a fleet ({@link fleet}): clients with seeded Poisson arrivals against a
 *   server with a capacity per second (above it, 529 with a probability
 *   that rises with the load), scripted outage windows (every call answered
 *   529, 503 or 500) and per-client quotas (429 with `retry-after`);
 *   {@link outage} and {@link rateLimit} are two of them;
 * - contention ({@link contention}): clients that all start at once and
 *   write one record under optimistic concurrency over a network with
 *   delay, as in the AWS architecture blog's experiment on backoff and
 *   jitter; {@link brooker} is that experiment.
 *
 * Time is virtual: {@link run} drives the program with a discrete-event
 * clock (each wait is an entry in a timer queue, and the clock jumps to the
 * next one once every fiber is waiting), so an hour of a thousand clients
 * takes seconds. Every delay is read from `Clock` and every draw from
 * `Random`: the program is an ordinary Effect program.
 *
 * @since 0.2.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Random from "effect/Random"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as O from "../internal/options.js"
import type { InvalidOptionsError } from "../Options.js"
import { Driver } from "./simulation/driver.js"
import { ContendedRecord, FleetServer, type OutageWindow, Recorder } from "./simulation/model.js"
import * as Ours from "./simulation/ours.js"
import * as Policies from "./simulation/policies.js"

// ---------------------------------------------------------------------------
// policies
// ---------------------------------------------------------------------------

/**
 * The policies the simulation knows by name.
 *
 * @since 0.2.0
 * @category models
 */
export type PolicyName = "ours" | "sdk-like" | "naive" | "no-jitter" | "equal-jitter" | "decorrelated-jitter"

/**
 * Every {@link PolicyName}, "ours" first.
 *
 * @since 0.2.0
 * @category constants
 */
export const policyNames: ReadonlyArray<PolicyName> = [
  "ours",
  "sdk-like",
  "naive",
  "no-jitter",
  "equal-jitter",
  "decorrelated-jitter"
]

/**
 * A policy of your own. `client` is run once per virtual client, in that
 * client's scope, with the client's seeded `Random` in its context; it
 * returns how the client wraps the call of one logical request (retrying it,
 * or not). Sleep with `Effect.sleep` and draw with `Random`: both are
 * virtual in a run.
 *
 * @since 0.2.0
 * @category models
 */
export interface Policy {
  readonly name: string
  readonly client: Effect.Effect<
    <A, E>(call: Effect.Effect<A, E>) => Effect.Effect<A, unknown>,
    never,
    Scope.Scope
  >
}

const isPolicy = (u: unknown): u is Policy =>
  typeof u === "object" && u !== null && "name" in u && typeof u.name === "string" && "client" in u &&
  Effect.isEffect(u.client)

/**
 * The backoff a scenario gives the comparison policies (and "ours", in a
 * contention scenario).
 *
 * @since 0.2.0
 * @category models
 */
export interface Backoff {
  readonly baseMillis: number
  readonly capMillis: number
  readonly maxRetries: number
}

const builtIn = (name: PolicyName, scenario: Scenario): Policy => {
  const contention = scenario._tag === "Contention"
  const backoff: Backoff = contention
    ? { baseMillis: scenario.baseMillis, capMillis: scenario.capMillis, maxRetries: scenario.maxRetries }
    : { baseMillis: 1_000, capMillis: 8_000, maxRetries: 5 }
  const plain = (wrap: Ours.Wrap): Policy["client"] => Effect.succeed(wrap)
  switch (name) {
    case "ours":
      return {
        name,
        client: Effect.orDie(Ours.client(
          contention
            ? {
              baseMillis: backoff.baseMillis,
              capMillis: backoff.capMillis,
              maxRetries: backoff.maxRetries,
              maxElapsedMillis: 3_600_000,
              withBreakerAndBudget: false
            }
            : { withBreakerAndBudget: true }
        ))
      }
    case "sdk-like":
      return { name, client: plain(Policies.sdkLike) }
    case "naive":
      return { name, client: plain(Policies.naive(contention ? backoff.maxRetries : 5)) }
    case "no-jitter":
      return { name, client: plain(Policies.noJitter(backoff)) }
    case "equal-jitter":
      return { name, client: plain(Policies.equalJitter(backoff)) }
    case "decorrelated-jitter":
      return { name, client: plain(Policies.decorrelatedJitter(backoff)) }
  }
}

// ---------------------------------------------------------------------------
// scenarios
// ---------------------------------------------------------------------------

/**
 * A fleet scenario, validated: see {@link fleet}. All times in milliseconds
 * of virtual time from the start of the run.
 *
 * @since 0.2.0
 * @category models
 */
export interface FleetScenario {
  readonly _tag: "Fleet"
  readonly name: string
  readonly clients: number
  readonly durationMillis: number
  readonly meanIntervalMillis: number
  readonly capacityPerSecond: number
  readonly outages: ReadonlyArray<OutageWindow>
  readonly quotaPerMinute: number | undefined
  readonly okLatencyMillis: number
  readonly errorLatencyMillis: number
  readonly policies: ReadonlyArray<PolicyName | Policy>
}

/**
 * A contention scenario, validated: see {@link contention}.
 *
 * @since 0.2.0
 * @category models
 */
export interface ContentionScenario {
  readonly _tag: "Contention"
  readonly name: string
  readonly clients: number
  readonly baseMillis: number
  readonly capMillis: number
  readonly maxRetries: number
  readonly networkMeanMillis: number
  readonly networkSdMillis: number
  readonly policies: ReadonlyArray<PolicyName | Policy>
}

/**
 * A scenario to {@link run}: a fleet against a modelled API
 * ({@link fleet}, {@link outage}, {@link rateLimit}) or clients contending
 * for one record ({@link contention}, {@link brooker}).
 *
 * @since 0.2.0
 * @category models
 */
export type Scenario = FleetScenario | ContentionScenario

const PolicyOption = Schema.Union(
  O.literals(...policyNames),
  O.satisfying("a policy name or a Policy ({ name, client })", isPolicy)
)

const Policies_ = Schema.Array(PolicyOption).pipe(
  Schema.filter((policies) => policies.length > 0 || "must name at least one policy")
)

const millis = (d: Duration.Duration) => Duration.toMillis(d)

const Outage = Schema.Struct({
  from: O.duration({ finite: true }),
  to: O.duration({ finite: true }),
  status: Schema.Literal(529, 503, 500).annotations({
    message: (issue) => `must be 529, 503 or 500, got ${O.describeValue(issue.actual)}`
  })
}).pipe(Schema.filter((o) => millis(o.to) > millis(o.from) || "must end after it starts (to > from)"))

const FleetOptions = Schema.Struct({
  name: O.withDefault(Schema.String, () => "fleet"),
  clients: O.withDefault(O.number({ min: 1, max: 100_000, integer: true }), () => 100),
  duration: O.withDefault(O.duration({ positive: true, max: Duration.hours(24) }), () => Duration.hours(1)),
  meanInterval: O.withDefault(O.duration({ positive: true, max: Duration.hours(1) }), () => Duration.seconds(10)),
  capacityPerSecond: Schema.optionalWith(O.number({ min: 0, max: 1e9, minExclusive: true }), { exact: true }),
  outages: O.withDefault(Schema.Array(Outage), () => []),
  quotaPerMinute: Schema.optionalWith(O.number({ min: 1, max: 1e9, integer: true }), { exact: true }),
  okLatency: O.withDefault(O.duration({ max: Duration.minutes(10) }), () => Duration.millis(400)),
  errorLatency: O.withDefault(O.duration({ max: Duration.minutes(10) }), () => Duration.millis(20)),
  policies: O.withDefault(Policies_, () => policyNames)
})

/**
 * The options of {@link fleet}. Every one is optional.
 *
 * @since 0.2.0
 * @category models
 */
export interface FleetOptions {
  /** Shown in the figures. Default `"fleet"`. */
  readonly name?: string | undefined
  /** Virtual clients, each a process with its own policy state. 1 to 100 000; default 100. */
  readonly clients?: number | undefined
  /** Virtual time during which requests arrive (in-flight ones then finish). Up to 24 h; default 1 hour. */
  readonly duration?: Duration.DurationInput | undefined
  /** Mean time between one client's logical requests (Poisson arrivals). Default 10 s. */
  readonly meanInterval?: Duration.DurationInput | undefined
  /** Calls the server serves per second before it sheds load. Default: twice the fleet's mean arrival rate. */
  readonly capacityPerSecond?: number | undefined
  /** Windows (from the start of the run) in which every call gets `status`. Default none. */
  readonly outages?:
    | ReadonlyArray<{
      readonly from: Duration.DurationInput
      readonly to: Duration.DurationInput
      readonly status: 529 | 503 | 500
    }>
    | undefined
  /** Calls per client per minute (a fixed window) before 429s with `retry-after`. Default none. */
  readonly quotaPerMinute?: number | undefined
  /** How long a successful call takes. Default 400 ms. */
  readonly okLatency?: Duration.DurationInput | undefined
  /** How long an error answer takes. Default 20 ms. */
  readonly errorLatency?: Duration.DurationInput | undefined
  /** The policies to compare, by name or your own. Default every {@link PolicyName}. */
  readonly policies?: ReadonlyArray<PolicyName | Policy> | undefined
}

const decodeFleet = O.decodeOptions("Simulation.fleet", FleetOptions)

/**
 * A fleet scenario from its options, or an `InvalidOptionsError` listing
 * every problem (never a throw).
 *
 * @example
 * ```ts
 * import { Simulation } from "claude-resilience/testing"
 *
 * const scenario = Simulation.fleet({
 *   name: "two short outages",
 *   clients: 50,
 *   duration: "20 minutes",
 *   outages: [
 *     { from: "5 minutes", to: "6 minutes", status: 503 },
 *     { from: "12 minutes", to: "13 minutes", status: 529 }
 *   ]
 * })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const fleet = (options?: FleetOptions): Either.Either<FleetScenario, InvalidOptionsError> =>
  Either.map(decodeFleet(options), (o): FleetScenario => {
    const meanIntervalMillis = millis(o.meanInterval)
    return {
      _tag: "Fleet",
      name: o.name,
      clients: o.clients,
      durationMillis: millis(o.duration),
      meanIntervalMillis,
      capacityPerSecond: o.capacityPerSecond ?? (2 * o.clients * 1000) / meanIntervalMillis,
      outages: o.outages.map((w) => ({ fromMillis: millis(w.from), toMillis: millis(w.to), status: w.status })),
      quotaPerMinute: o.quotaPerMinute,
      okLatencyMillis: millis(o.okLatency),
      errorLatencyMillis: millis(o.errorLatency),
      policies: o.policies
    }
  })

const ContentionOptions = Schema.Struct({
  name: O.withDefault(Schema.String, () => "contention"),
  clients: O.withDefault(O.number({ min: 1, max: 10_000, integer: true }), () => 100),
  base: O.withDefault(O.duration({ positive: true, max: Duration.hours(1) }), () => Duration.millis(5)),
  cap: O.withDefault(O.duration({ positive: true, max: Duration.hours(1) }), () => Duration.seconds(2)),
  maxRetries: O.withDefault(O.number({ min: 0, max: 1000, integer: true }), () => 1000),
  networkMean: O.withDefault(O.duration({ positive: true, max: Duration.minutes(1) }), () => Duration.millis(10)),
  networkSd: O.withDefault(O.duration({ max: Duration.minutes(1) }), () => Duration.millis(4)),
  policies: O.withDefault(
    Policies_,
    () => ["naive", "no-jitter", "decorrelated-jitter", "equal-jitter", "ours"] as ReadonlyArray<PolicyName>
  )
}).pipe(
  Schema.filter((o) =>
    millis(o.networkSd) * Math.sqrt(6) < millis(o.networkMean) ||
    "networkSd × √6 must be below networkMean (no leg of the network may take negative time)"
  )
)

/**
 * The options of {@link contention}. Every one is optional.
 *
 * @since 0.2.0
 * @category models
 */
export interface ContentionOptions {
  /** Shown in the figures. Default `"contention"`. */
  readonly name?: string | undefined
  /** Clients, all starting at once. 1 to 10 000; default 100. */
  readonly clients?: number | undefined
  /** The first backoff ceiling. Default 5 ms. */
  readonly base?: Duration.DurationInput | undefined
  /** The largest backoff ceiling. Default 2 s. */
  readonly cap?: Duration.DurationInput | undefined
  /** Retries allowed per client (0 to 1000). Default 1000. */
  readonly maxRetries?: number | undefined
  /** Mean delay of one network leg. Default 10 ms. */
  readonly networkMean?: Duration.DurationInput | undefined
  /** Its standard deviation. Default 4 ms. */
  readonly networkSd?: Duration.DurationInput | undefined
  /** The policies to compare. Default naive (no backoff), no-jitter, decorrelated-jitter, equal-jitter, ours (full jitter). */
  readonly policies?: ReadonlyArray<PolicyName | Policy> | undefined
}

const decodeContention = O.decodeOptions("Simulation.contention", ContentionOptions)

/**
 * A contention scenario from its options, or an `InvalidOptionsError`.
 *
 * @example
 * ```ts
 * import { Simulation } from "claude-resilience/testing"
 *
 * // 20 clients writing one record, retried from 10 ms up to 1 s
 * const scenario = Simulation.contention({ name: "small contention", clients: 20, base: "10 millis", cap: "1 second" })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const contention = (options?: ContentionOptions): Either.Either<ContentionScenario, InvalidOptionsError> =>
  Either.map(decodeContention(options), (o): ContentionScenario => ({
    _tag: "Contention",
    name: o.name,
    clients: o.clients,
    baseMillis: millis(o.base),
    capMillis: millis(o.cap),
    maxRetries: o.maxRetries,
    networkMeanMillis: millis(o.networkMean),
    networkSdMillis: millis(o.networkSd),
    policies: o.policies
  }))

/**
 * A preset's options under the caller's: anything that is not an object
 * (or cannot be read) goes to the decoder as given, which reports it.
 */
const preset = <A extends object>(defaults: A, options: A | undefined): A => {
  if (options === undefined) return defaults
  if (typeof options !== "object" || options === null || Array.isArray(options)) return options
  try {
    return { ...defaults, ...options }
  } catch {
    return options
  }
}

/**
 * `outage`: 100 clients (by default), each starting a logical request every
 * 10 s on average, for 60 virtual minutes, with a total 529 outage from
 * minute 20 to minute 30. Any {@link FleetOptions} overrides.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Simulation } from "claude-resilience/testing"
 *
 * const program = Effect.gen(function*() {
 *   const scenario = yield* Simulation.outage({ clients: 20 })
 *   return yield* Simulation.run(scenario, { seed: 1 })
 * })
 * ```
 *
 * @since 0.2.0
 * @category scenarios
 */
export const outage = (options?: FleetOptions): Either.Either<FleetScenario, InvalidOptionsError> =>
  fleet(preset({
    name: "outage",
    clients: 100,
    duration: "60 minutes",
    meanInterval: "10 seconds",
    outages: [{ from: "20 minutes", to: "30 minutes", status: 529 }]
  }, options))

/**
 * `rate-limit`: 50 clients (by default), each starting a logical request
 * every 2 s on average (30 a minute) against a quota of 25 calls per client
 * per minute, for 20 virtual minutes: how many 429s each policy collects,
 * and how long its requests wait.
 *
 * @example
 * ```ts
 * import { Simulation } from "claude-resilience/testing"
 *
 * // a fleet twice as large, against the same quota per client
 * const scenario = Simulation.rateLimit({ clients: 100 })
 * ```
 *
 * @since 0.2.0
 * @category scenarios
 */
export const rateLimit = (options?: FleetOptions): Either.Either<FleetScenario, InvalidOptionsError> =>
  fleet(preset({
    name: "rate-limit",
    clients: 50,
    duration: "20 minutes",
    meanInterval: "2 seconds",
    quotaPerMinute: 25
  }, options))

/**
 * `brooker`: 100 clients (by default) contending for one record with base
 * 5 ms and cap 2 s, as in the AWS architecture blog's "Exponential Backoff
 * And Jitter" (network legs of 10 ms ± 4 ms). Its figure is the total work:
 * calls until every client has written.
 *
 * @example
 * ```ts
 * import { Simulation } from "claude-resilience/testing"
 *
 * const scenario = Simulation.brooker({ clients: 50, policies: ["no-jitter", "ours"] })
 * ```
 *
 * @since 0.2.0
 * @category scenarios
 */
export const brooker = (options?: ContentionOptions): Either.Either<ContentionScenario, InvalidOptionsError> =>
  contention(preset({ name: "brooker" }, options))

/**
 * The named scenarios, as the CLI offers them.
 *
 * @since 0.2.0
 * @category scenarios
 */
export const scenarios = {
  outage,
  "rate-limit": rateLimit,
  brooker
} as const

// ---------------------------------------------------------------------------
// figures
// ---------------------------------------------------------------------------

/**
 * What one policy did in one scenario. Latencies are from a logical
 * request's start to its end (success or failure), in virtual milliseconds.
 *
 * - `outageCallsPerRequest`: calls per logical request, over the requests
 *   started inside an outage window (`null` without one);
 * - `recoverySeconds`: from the end of the outage to the first second from
 *   which the requests ending over the next 5 s succeed at 95 % or more
 *   (the longest, over the windows; `null` without an outage, or if it never
 *   recovers in the run);
 * - `completionSeconds`: when the last logical request ended;
 * - `responses`: the server's answers by status; `failedByTag`: failed
 *   requests by the tag of their error.
 *
 * @since 0.2.0
 * @category models
 */
export interface Figures {
  readonly policy: string
  readonly logicalRequests: number
  readonly calls: number
  readonly callsPerRequest: number
  readonly outageCallsPerRequest: number | null
  readonly succeeded: number
  readonly failed: number
  readonly failedByTag: Readonly<Record<string, number>>
  readonly responses: Readonly<Record<string, number>>
  readonly p50Ms: number
  readonly p99Ms: number
  readonly recoverySeconds: number | null
  readonly completionSeconds: number
}

/**
 * The invariant's evidence: every logical request started ended exactly
 * once, in one success or one typed failure. `endedTwice`, `neverEnded`,
 * `defects` and `interruptions` are 0 in a sound run.
 *
 * @since 0.2.0
 * @category models
 */
export interface Audit {
  readonly started: number
  readonly endedOnce: number
  readonly endedTwice: number
  readonly neverEnded: number
  readonly defects: number
  readonly interruptions: number
}

/**
 * The time series behind the figures, for charts: calls received per bucket
 * of `bucketMillis`, and a histogram of latencies (`counts[i]` requests took
 * at most `upperMs[i]` and more than `upperMs[i - 1]`; the last bound is
 * `null`, no bound).
 *
 * @since 0.2.0
 * @category models
 */
export interface Series {
  readonly bucketMillis: number
  readonly load: ReadonlyArray<number>
  readonly latency: { readonly upperMs: ReadonlyArray<number | null>; readonly counts: ReadonlyArray<number> }
}

/**
 * One policy's run.
 *
 * @since 0.2.0
 * @category models
 */
export interface PolicyRun {
  readonly figures: Figures
  readonly audit: Audit
  readonly series: Series
  /** Timers the run fired: the work the virtual clock did. */
  readonly steps: number
}

/**
 * A scenario's run: one {@link PolicyRun} per policy, in the scenario's
 * order, all from the same seed (so every policy meets the same arrivals).
 *
 * @since 0.2.0
 * @category models
 */
export interface Result {
  readonly scenario: string
  readonly kind: Scenario["_tag"]
  readonly seed: number
  readonly clients: number
  /** The outage windows, for charts. */
  readonly outages: ReadonlyArray<OutageWindow>
  readonly runs: ReadonlyArray<PolicyRun>
}

const latencyBounds = [10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 60_000, null] as const

const round = (x: number, digits: number) => {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

const percentile = (sorted: Float64Array, p: number): number =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!

const recovery = (recorder: Recorder, outages: ReadonlyArray<OutageWindow>): number | null => {
  if (outages.length === 0) return null
  const windowSeconds = 5
  let worst = 0
  for (const outage of outages) {
    const end = outage.toMillis
    // requests ended and succeeded in each second from the end of the outage on
    const ended: Array<number> = []
    const ok: Array<number> = []
    for (let i = 0; i < recorder.ends.length; i++) {
      const t = recorder.ends[i]!
      if (!(t >= end)) continue
      const k = Math.floor((t - end) / 1000)
      while (ended.length <= k) {
        ended.push(0)
        ok.push(0)
      }
      ended[k]!++
      if (recorder.outcomes[i] === "Success") ok[k]!++
    }
    let found: number | null = null
    for (let k = 0; k < ended.length && found === null; k++) {
      let n = 0
      let good = 0
      for (let j = k; j < Math.min(ended.length, k + windowSeconds); j++) {
        n += ended[j]!
        good += ok[j]!
      }
      if (n > 0 && good / n >= 0.95) found = k
    }
    if (found === null) return null
    worst = Math.max(worst, found)
  }
  return worst
}

const figuresOf = (name: string, recorder: Recorder, outages: ReadonlyArray<OutageWindow>): PolicyRun["figures"] => {
  const n = recorder.starts.length
  const latencies = new Float64Array(n)
  let succeeded = 0
  let latest = 0
  const failedByTag: Record<string, number> = {}
  let outageRequests = 0
  let outageCalls = 0
  for (let i = 0; i < n; i++) {
    const start = recorder.starts[i]!
    const end = recorder.ends[i]!
    latencies[i] = Number.isNaN(end) ? 0 : end - start
    if (end > latest) latest = end
    const outcome = recorder.outcomes[i]!
    if (outcome === "Success") succeeded++
    else failedByTag[outcome] = (failedByTag[outcome] ?? 0) + 1
    if (outages.some((o) => start >= o.fromMillis && start < o.toMillis)) {
      outageRequests++
      outageCalls += recorder.calls[i]!
    }
  }
  latencies.sort()
  const responses: Record<string, number> = {}
  for (const key of [...recorder.responses.keys()].sort()) responses[key] = recorder.responses.get(key)!
  const sortedTags: Record<string, number> = {}
  for (const key of Object.keys(failedByTag).sort()) sortedTags[key] = failedByTag[key]!
  return {
    policy: name,
    logicalRequests: n,
    calls: recorder.totalCalls,
    callsPerRequest: n === 0 ? 0 : round(recorder.totalCalls / n, 3),
    outageCallsPerRequest: outages.length === 0 || outageRequests === 0 ? null : round(outageCalls / outageRequests, 3),
    succeeded,
    failed: n - succeeded,
    failedByTag: sortedTags,
    responses,
    p50Ms: Math.round(percentile(latencies, 0.5)),
    p99Ms: Math.round(percentile(latencies, 0.99)),
    recoverySeconds: recovery(recorder, outages),
    completionSeconds: round(latest / 1000, 3)
  }
}

const auditOf = (recorder: Recorder): Audit => {
  let endedOnce = 0
  let endedTwice = 0
  let neverEnded = 0
  let defects = 0
  let interruptions = 0
  for (let i = 0; i < recorder.endings.length; i++) {
    const e = recorder.endings[i]!
    if (e === 0) neverEnded++
    else if (e === 1) endedOnce++
    else endedTwice++
    if (recorder.outcomes[i] === "Defect" || recorder.outcomes[i] === "UntypedFailure") defects++
    if (recorder.outcomes[i] === "Interrupted") interruptions++
  }
  return { started: recorder.starts.length, endedOnce, endedTwice, neverEnded, defects, interruptions }
}

const seriesOf = (recorder: Recorder): Series => {
  const counts = latencyBounds.map(() => 0)
  for (let i = 0; i < recorder.starts.length; i++) {
    const latency = recorder.ends[i]! - recorder.starts[i]!
    const index = latencyBounds.findIndex((b) => b === null || latency <= b)
    counts[index]!++
  }
  return { bucketMillis: recorder.bucketMillis, load: recorder.load, latency: { upperMs: latencyBounds, counts } }
}

// ---------------------------------------------------------------------------
// the programs
// ---------------------------------------------------------------------------

/** A named stream of seeded draws: the same (seed, name) gives the same draws. */
const stream = (seed: number, name: string): Random.Random => Random.make(`claude-resilience/${seed}/${name}`)

const logical = (
  recorder: Recorder,
  wrap: Ours.Wrap,
  call: (id: number) => Effect.Effect<void, unknown>
): Effect.Effect<void> =>
  Effect.flatMap(Clock.currentTimeMillis, (start) => {
    const id = recorder.start(start)
    return Effect.flatMap(
      Effect.exit(wrap(Effect.suspend(() => call(id)))),
      (exit) => Effect.map(Clock.currentTimeMillis, (now) => recorder.end(id, now, exit))
    )
  })

const fleetProgram = (scenario: FleetScenario, policy: Policy, seed: number, recorder: Recorder) =>
  Effect.gen(function*() {
    const server = new FleetServer(scenario, scenario.clients, stream(seed, "server"), recorder)
    const call = (client: number) => (id: number) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        recorder.call(id, now)
        return server.answer(client, now)
      })
    const client = (index: number) =>
      Effect.scoped(Effect.gen(function*() {
        const wrap = yield* policy.client
        const arrivals = stream(seed, `arrivals/${index}`)
        const settled = yield* Deferred.make<void>()
        let inFlight = 0
        let arriving = true
        const done = Effect.suspend(() => {
          inFlight--
          return inFlight === 0 && !arriving ? Deferred.succeed(settled, undefined) : Effect.void
        })
        for (;;) {
          const u = yield* arrivals.next
          const gap = Math.max(1, Math.round(-Math.log(1 - u) * scenario.meanIntervalMillis))
          yield* Effect.sleep(gap)
          if ((yield* Clock.currentTimeMillis) >= scenario.durationMillis) break
          inFlight++
          yield* Effect.forkDaemon(Effect.ensuring(logical(recorder, wrap, call(index)), done))
        }
        arriving = false
        if (inFlight > 0) yield* Deferred.await(settled)
      })).pipe(Effect.withRandom(stream(seed, `client/${index}`)))
    yield* Effect.forEach(Array.from({ length: scenario.clients }, (_, i) => i), client, {
      concurrency: "unbounded",
      discard: true
    })
  })

const contentionProgram = (scenario: ContentionScenario, policy: Policy, seed: number, recorder: Recorder) =>
  Effect.gen(function*() {
    const record = new ContendedRecord(
      scenario.networkMeanMillis,
      scenario.networkSdMillis,
      stream(seed, "network"),
      recorder
    )
    const call = (id: number) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        recorder.call(id, now)
        return record.call
      })
    const client = (index: number) =>
      Effect.scoped(Effect.flatMap(policy.client, (wrap) => logical(recorder, wrap, call))).pipe(
        Effect.withRandom(stream(seed, `client/${index}`))
      )
    yield* Effect.forEach(Array.from({ length: scenario.clients }, (_, i) => i), client, {
      concurrency: "unbounded",
      discard: true
    })
  })

// ---------------------------------------------------------------------------
// running
// ---------------------------------------------------------------------------

/**
 * Where a run is: reported after each stretch of virtual time.
 *
 * @since 0.2.0
 * @category models
 */
export interface Progress {
  readonly scenario: string
  readonly policy: string
  /** 0-based index of the policy in the scenario, and how many there are. */
  readonly policyIndex: number
  readonly policies: number
  /** Virtual time reached, and the scenario's arrival period (contention: 0). */
  readonly virtualMillis: number
  readonly durationMillis: number
}

/**
 * The options of {@link run}.
 *
 * @since 0.2.0
 * @category models
 */
export interface RunOptions {
  /** Every random draw of the run derives from it. Default 1. */
  readonly seed?: number | undefined
  /** Called after each virtual minute (fleet) or second (contention), and at the end of each policy. */
  readonly onProgress?: ((progress: Progress) => Effect.Effect<void>) | undefined
}

const policyOf = (entry: PolicyName | Policy, scenario: Scenario): Policy =>
  typeof entry === "string" ? builtIn(entry, scenario) : entry

/**
 * Runs one policy of a scenario in a virtual world of its own.
 */
const runPolicy = (
  scenario: Scenario,
  policy: Policy,
  seed: number,
  report: (virtualMillis: number) => Effect.Effect<void>
): Effect.Effect<PolicyRun> =>
  Effect.suspend(() => {
    const driver = new Driver(0)
    const recorder = new Recorder(scenario._tag === "Fleet" ? 1000 : 100)
    const program = scenario._tag === "Fleet"
      ? fleetProgram(scenario, policy, seed, recorder)
      : contentionProgram(scenario, policy, seed, recorder)
    // the virtual clients' logs (a breaker opening in each of a thousand
    // clients) say nothing the figures do not, and would drown the output
    const fiber = driver.fork(Logger.withMinimumLogLevel(program, LogLevel.None))
    const stretch = scenario._tag === "Fleet" ? 60_000 : 1_000
    const loop: Effect.Effect<PolicyRun> = Effect.suspend(() => {
      const exit = driver.advance(fiber, driver.time + stretch)
      if (exit === "deadlock") return Effect.dieMessage(`Simulation ${scenario.name}/${policy.name}: deadlocked`)
      if (exit === undefined) return Effect.zipRight(report(driver.time), loop)
      if (exit._tag === "Failure") return Effect.failCause(exit.cause) as Effect.Effect<never>
      const outages = scenario._tag === "Fleet" ? scenario.outages : []
      return Effect.as(report(driver.time), {
        figures: figuresOf(policy.name, recorder, outages),
        audit: auditOf(recorder),
        series: seriesOf(recorder),
        steps: driver.steps
      })
    })
    return loop
  })

/**
 * Runs every policy of `scenario`, one after the other, each in a virtual
 * world of its own seeded from `seed`. Deterministic: the same scenario and
 * seed give the same {@link Result}, on any machine. The virtual clients'
 * logs are dropped: the figures are the output.
 *
 * @example
 * ```ts
 * import { Effect, Either } from "effect"
 * import { Simulation } from "claude-resilience/testing"
 *
 * const program = Effect.gen(function*() {
 *   const scenario = yield* Simulation.outage({ clients: 20, duration: "40 minutes" })
 *   const result = yield* Simulation.run(scenario, { seed: 7 })
 *   for (const { figures } of result.runs) console.log(figures.policy, figures.callsPerRequest)
 * })
 * ```
 *
 * @since 0.2.0
 * @category running
 */
export const run = (scenario: Scenario, options: RunOptions = {}): Effect.Effect<Result> =>
  Effect.gen(function*() {
    const seed = options.seed ?? 1
    const durationMillis = scenario._tag === "Fleet" ? scenario.durationMillis : 0
    const runs: Array<PolicyRun> = []
    for (let i = 0; i < scenario.policies.length; i++) {
      const policy = policyOf(scenario.policies[i]!, scenario)
      const report = (virtualMillis: number) =>
        options.onProgress === undefined ? Effect.void : options.onProgress({
          scenario: scenario.name,
          policy: policy.name,
          policyIndex: i,
          policies: scenario.policies.length,
          virtualMillis,
          durationMillis
        })
      runs.push(yield* runPolicy(scenario, policy, seed, report))
    }
    return {
      scenario: scenario.name,
      kind: scenario._tag,
      seed,
      clients: scenario.clients,
      outages: scenario._tag === "Fleet" ? scenario.outages : [],
      runs
    }
  })

/**
 * The deterministic summary of some results, as `lab` writes it to
 * `summary.json`: no wall-clock time, no path.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Simulation } from "claude-resilience/testing"
 *
 * const program = Effect.gen(function*() {
 *   const result = yield* Simulation.run(yield* Simulation.brooker({ clients: 20 }), { seed: 3 })
 *   return JSON.stringify(Simulation.summary(3, [result]), null, 2)
 * })
 * ```
 *
 * @since 0.2.0
 * @category running
 */
export const summary = (seed: number, results: ReadonlyArray<Result>) => ({
  seed,
  scenarios: results.map((result) => ({
    name: result.scenario,
    kind: result.kind,
    clients: result.clients,
    policies: result.runs.map((r) => r.figures)
  }))
})
