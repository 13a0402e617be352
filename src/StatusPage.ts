/**
 * The upstream's status page, read from its Statuspage v2 JSON endpoints
 * (`/api/v2/status.json` and `/api/v2/components.json`), so that the retry
 * decision can tell a known incident from a local problem.
 *
 * The Claude API's guidance on errors (https://docs.anthropic.com/en/api/errors)
 * says to check the upstream status on a 529 for an early fail-fast: while
 * the status page shows the API in a major or critical incident, a client's
 * retries only compete with every other client's, and the call is better
 * sent to its fallback at once.
 *
 * The service is a `Context.Reference`: without {@link layer} it is there
 * anyway, answers `unknown` and changes nothing, so that no type of the
 * library needs it. {@link layer} replaces it:
 *
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Layer } from "effect"
 * import { Claude, Resilience, StatusPage } from "claude-resilience"
 *
 * const ClaudeLive = Claude.layerConfig().pipe(
 *   Layer.provide(Layer.mergeAll(
 *     Resilience.layer(),
 *     // read when a retry is decided on a 529 or a 503, cached for a minute
 *     StatusPage.layer({ url: "https://status.claude.com" })
 *   )),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * `Resilience.retry` (and so every call of the `Claude` client) consults it
 * when it decides to retry an `OverloadedError` (529) or a
 * `ServiceUnavailableError` (503): while the indicator is `major` or
 * `critical` the retries stop at once, with the give-up reason
 * `"StatusPageIncident"`. `none`, `minor` and `unknown` change nothing.
 *
 * The page is read on demand, the first time a retry decision asks for it
 * and again once the reading is `ttl` old (60 s by default, by `Clock`). A
 * reading never delays a call by more than `timeout` (250 ms by default):
 * the two replies are fetched together, in the layer's scope, and a fetch
 * that has not ended by then reads `unknown` (as does a page that is
 * unreachable, answers with another status than 200, or sends JSON that is
 * not a Statuspage reply). Concurrent calls share one fetch.
 *
 * @since 0.2.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Body from "./internal/body.js"
import { parseJson } from "./internal/decode.js"
import { decodeOptions, describeValue, duration, type Input, satisfying, withDefault } from "./internal/options.js"
import { clip, describeUrl, scrub } from "./internal/text.js"
import type { InvalidOptionsError } from "./Options.js"

// ---------------------------------------------------------------------------
// the reading
// ---------------------------------------------------------------------------

/**
 * What the status page says about the API:
 *
 * - `none`: operational;
 * - `minor`: degraded performance (or maintenance);
 * - `major`: a partial outage;
 * - `critical`: a major outage;
 * - `unknown`: no status page configured, or it could not be read (it was
 *   unreachable, slow, answered with another status than 200, or sent
 *   something that is not a Statuspage reply). `unknown` never blocks a call
 *   and never fails one.
 *
 * @example
 * ```ts
 * import { StatusPage } from "claude-resilience"
 *
 * const incident = (indicator: StatusPage.Indicator) => indicator === "major" || indicator === "critical"
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export type Indicator = "none" | "minor" | "major" | "critical" | "unknown"

/**
 * Every {@link Indicator}, from the best to the worst, `unknown` last.
 *
 * @example
 * ```ts
 * import { StatusPage } from "claude-resilience"
 *
 * StatusPage.indicators.length // 5
 * ```
 *
 * @since 0.2.0
 * @category constants
 */
export const indicators: ReadonlyArray<Indicator> = ["none", "minor", "major", "critical", "unknown"]

/**
 * Whether an indicator shows an incident that stops the retries of a 529
 * or a 503: `major` or `critical`.
 *
 * @example
 * ```ts
 * import { StatusPage } from "claude-resilience"
 *
 * StatusPage.isIncident("major") // true
 * StatusPage.isIncident("minor") // false
 * ```
 *
 * @since 0.2.0
 * @category guards
 */
export const isIncident = (indicator: Indicator): boolean => indicator === "major" || indicator === "critical"

/**
 * One reading of the status page.
 *
 * - `indicator`: see {@link Indicator};
 * - `source`: what it was read from: `"component"` (the API's own
 *   component in `components.json`), `"page"` (the page's overall
 *   `status.indicator`, when no component matched or `components.json`
 *   could not be read), `"unavailable"` (neither could be read) or
 *   `"unconfigured"` (no {@link layer} is provided);
 * - `component`: the name of the component read, when one was;
 * - `detail`: what was read or what went wrong, in a few words
 *   (`Claude API: partial_outage`, `timed out after 250 millis`);
 * - `checkedAt`: when the reading was taken (epoch milliseconds, `Clock`),
 *   `None` when unconfigured.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { StatusPage } from "claude-resilience"
 *
 * const line = Effect.map(StatusPage.status, (status: StatusPage.Status) => `${status.indicator} (${status.detail})`)
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Status {
  readonly indicator: Indicator
  readonly source: "component" | "page" | "unavailable" | "unconfigured"
  readonly component: Option.Option<string>
  readonly detail: string
  readonly checkedAt: Option.Option<number>
}

/** The reading of replies, before its time is known. */
type Reading = Omit<Status, "checkedAt">

const pageIndicators: Readonly<Record<string, Indicator>> = {
  none: "none",
  minor: "minor",
  major: "major",
  critical: "critical",
  maintenance: "minor"
}

const componentIndicators: Readonly<Record<string, Indicator>> = {
  operational: "none",
  degraded_performance: "minor",
  partial_outage: "major",
  major_outage: "critical",
  under_maintenance: "minor"
}

const own = (record: Readonly<Record<string, Indicator>>, key: unknown): Indicator | undefined =>
  typeof key === "string" && Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined

/** A string from the wire, safe to print: scrubbed and clipped. */
const shown = (s: string): string => clip(scrub(s), 80)

const pageReading = (text: string): Either.Either<Reading, string> =>
  Either.flatMap(parseJson(text), (json) => {
    const status = Predicate.isRecord(json) ? json.status : undefined
    const indicator = Predicate.isRecord(status) ? own(pageIndicators, status.indicator) : undefined
    return indicator === undefined || !Predicate.isRecord(status)
      ? Either.left("status.json has no known status.indicator")
      : Either.right({
        indicator,
        source: "page" as const,
        component: Option.none(),
        detail: `page: ${String(status.indicator)}${
          typeof status.description === "string" ? ` (${shown(status.description)})` : ""
        }`
      })
  })

const componentReading = (text: string, component: string): Either.Either<Reading, string> =>
  Either.flatMap(parseJson(text), (json) => {
    const components = Predicate.isRecord(json) ? json.components : undefined
    if (!Array.isArray(components)) return Either.left("components.json has no components list")
    const wanted = component.toLowerCase()
    for (const entry of components as ReadonlyArray<unknown>) {
      if (!Predicate.isRecord(entry) || typeof entry.name !== "string") continue
      if (!entry.name.toLowerCase().includes(wanted)) continue
      const indicator = own(componentIndicators, entry.status)
      if (indicator === undefined) {
        return Either.left(`component ${JSON.stringify(shown(entry.name))} has an unknown status`)
      }
      return Either.right({
        indicator,
        source: "component" as const,
        component: Option.some(shown(entry.name)),
        detail: `${shown(entry.name)}: ${String(entry.status)}`
      })
    }
    return Either.left(`no component named like ${JSON.stringify(shown(component))}`)
  })

/**
 * Reads the two replies of a Statuspage v2 page: the API's component in
 * `components.json` (the first component whose name contains `component`,
 * ignoring case; its `status` maps `operational` → `none`,
 * `degraded_performance` → `minor`, `partial_outage` → `major`,
 * `major_outage` → `critical`, `under_maintenance` → `minor`) when there is
 * one with a known status; otherwise the page's `status.indicator` in
 * `status.json` (`none`, `minor`, `major`, `critical`; `maintenance` →
 * `minor`); otherwise `unknown`. A reply that is `None` was not received.
 * Total: any text (not JSON, JSON of any shape, unknown values) gives a
 * reading, never a throw. `checkedAt` is left to the caller.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { StatusPage } from "claude-resilience"
 *
 * const reading = StatusPage.read({
 *   status: Option.some(`{"status":{"indicator":"minor","description":"Minor Service Outage"}}`),
 *   components: Option.some(`{"components":[{"name":"Claude API (api.anthropic.com)","status":"partial_outage"}]}`)
 * }, "Claude API")
 * reading.indicator // "major": the API's own component
 * ```
 *
 * @since 0.2.0
 * @category decoding
 */
export const read = (
  replies: { readonly status: Option.Option<string>; readonly components: Option.Option<string> },
  component: string
): Reading => {
  const fromComponent = Option.match(replies.components, {
    onNone: () => Either.left("components.json was not received"),
    onSome: (text) => componentReading(text, component)
  })
  if (Either.isRight(fromComponent)) return fromComponent.right
  const fromPage = Option.match(replies.status, {
    onNone: () => Either.left("status.json was not received"),
    onSome: pageReading
  })
  if (Either.isRight(fromPage)) return { ...fromPage.right, detail: `${fromPage.right.detail}; ${fromComponent.left}` }
  return {
    indicator: "unknown",
    source: "unavailable",
    component: Option.none(),
    detail: `${fromComponent.left}; ${fromPage.left}`
  }
}

// ---------------------------------------------------------------------------
// the service
// ---------------------------------------------------------------------------

/**
 * The status page as the library reads it:
 *
 * - `status`: the current {@link Status}: the cached reading while it is
 *   younger than `ttl`, otherwise a new one, waited for at most `timeout`
 *   (a wait that runs out reads `unknown`; the fetch goes on in the
 *   background and its reading is cached);
 * - `indicator`: the same, its {@link Indicator} only.
 *
 * Neither fails: whatever goes wrong reads `unknown`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { StatusPage } from "claude-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const page: StatusPage.Service = yield* StatusPage.StatusPage
 *   return yield* page.indicator
 * })
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Service {
  readonly status: Effect.Effect<Status>
  readonly indicator: Effect.Effect<Indicator>
}

const unconfiguredStatus: Status = {
  indicator: "unknown",
  source: "unconfigured",
  component: Option.none(),
  detail: "no status page is configured",
  checkedAt: Option.none()
}

/**
 * The service when no {@link layer} is provided: every reading is
 * `unknown` (`source: "unconfigured"`), and nothing is fetched.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { StatusPage } from "claude-resilience"
 *
 * const indicator = StatusPage.unconfigured.indicator // Effect<"unknown">
 * ```
 *
 * @since 0.2.0
 * @category constants
 */
export const unconfigured: Service = {
  status: Effect.succeed(unconfiguredStatus),
  indicator: Effect.succeed("unknown")
}

/**
 * The status page service, a `Context.Reference`: when nothing provides it,
 * its default is {@link unconfigured} (every reading `unknown`, which
 * changes nothing). Provide {@link layer} to read a real page; the retry
 * decisions of `Resilience.retry` and of the `Claude` client then consult
 * it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { StatusPage } from "claude-resilience"
 *
 * // Effect<StatusPage.Indicator>: nothing required, "unknown" by default
 * const indicator = Effect.flatMap(StatusPage.StatusPage, (page) => page.indicator)
 * ```
 *
 * @since 0.2.0
 * @category tags
 */
export class StatusPage extends Context.Reference<StatusPage>()("claude-resilience/StatusPage", {
  defaultValue: (): Service => unconfigured
}) {}

/**
 * The current {@link Status} of the {@link StatusPage} in the context.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { StatusPage } from "claude-resilience"
 *
 * const report = Effect.flatMap(StatusPage.status, (status) => Effect.log(status.detail))
 * ```
 *
 * @since 0.2.0
 * @category accessors
 */
export const status: Effect.Effect<Status> = Effect.flatMap(StatusPage, (page) => page.status)

/**
 * The current {@link Indicator} of the {@link StatusPage} in the context.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { StatusPage } from "claude-resilience"
 *
 * const green = Effect.map(StatusPage.indicator, (indicator) => indicator === "none")
 * ```
 *
 * @since 0.2.0
 * @category accessors
 */
export const indicator: Effect.Effect<Indicator> = Effect.flatMap(StatusPage, (page) => page.indicator)

// ---------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------

/** The largest reply read from the status page: a real one is a few KiB. */
const maxReplyBytes = 1024 * 1024

const isHttpUrl = (u: unknown): u is string => {
  if (typeof u !== "string" || !URL.canParse(u)) return false
  const url = new URL(u)
  return /^https?:$/.test(url.protocol) && url.username === "" && url.password === ""
}

/**
 * The options of {@link layer} as a Schema. Unknown keys are refused.
 *
 * - `url` (required): the status page, an `http(s)` URL without
 *   credentials (`https://status.claude.com`); the library reads
 *   `<url>/api/v2/status.json` and `<url>/api/v2/components.json`.
 *   Trailing slashes are dropped.
 * - `ttl`: how long a reading is used, a finite duration above zero.
 *   Default 60 seconds.
 * - `timeout`: the longest a call waits for a reading (and the longest one
 *   fetch may take), a finite duration above zero. Default 250 milliseconds.
 * - `component`: the API's component on the page, matched as a part of its
 *   name, ignoring case (non-empty). Default `"Claude API"`.
 *
 * @example
 * ```ts
 * import { StatusPage } from "claude-resilience"
 *
 * const options: StatusPage.Options = { url: "https://status.claude.com", ttl: "30 seconds", timeout: "100 millis" }
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export const Options = Schema.Struct({
  url: Schema.propertySignature(
    // a refused URL's user info (a password) is never quoted back
    satisfying(
      "an http(s) URL without credentials, such as \"https://status.claude.com\"",
      isHttpUrl,
      (u) => typeof u === "string" ? describeUrl(u) : describeValue(u)
    )
  ).annotations({
    missingMessage: () => "is required: the status page's URL, such as \"https://status.claude.com\""
  }),
  ttl: withDefault(duration({ positive: true, finite: true }), () => Duration.seconds(60)),
  timeout: withDefault(duration({ positive: true, finite: true }), () => Duration.millis(250)),
  component: withDefault(
    satisfying("a non-empty string", (u): u is string => typeof u === "string" && u.trim().length > 0),
    () => "Claude API"
  )
})

/**
 * What {@link layer} takes: `url`, and `ttl`, `timeout` and `component`,
 * optional (see {@link Options}).
 *
 * @example
 * ```ts
 * import { StatusPage } from "claude-resilience"
 *
 * const options: StatusPage.Options = { url: "https://status.claude.com", component: "Claude API" }
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export type Options = Input<typeof Options.Encoded> & { readonly url: string }

/**
 * What the status page runs on: {@link Options} checked, defaults filled
 * in, durations as `Duration`s.
 *
 * @example
 * ```ts
 * import { Duration, Either } from "effect"
 * import { StatusPage } from "claude-resilience"
 *
 * const settings: StatusPage.Settings = Either.getOrThrow(StatusPage.settings({ url: "https://status.claude.com" }))
 * Duration.toMillis(settings.timeout) // 250
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export type Settings = typeof Options.Type

const decodeSettings = decodeOptions("StatusPage", Options)

/**
 * Validates {@link Options} into {@link Settings}: every problem, each at
 * its path, in one `Options.InvalidOptionsError` (module `"StatusPage"`).
 * Never throws.
 *
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { StatusPage } from "claude-resilience"
 *
 * const result = StatusPage.settings({ url: "ftp://status", timeout: 0 })
 * Either.isLeft(result) // true: url and timeout
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const settings = (options: Options): Either.Either<Settings, InvalidOptionsError> =>
  Either.map(decodeSettings(options), (s) => ({ ...s, url: s.url.replace(/\/+$/, "") }))

// ---------------------------------------------------------------------------
// construction
// ---------------------------------------------------------------------------

interface Cache {
  readonly reading: Option.Option<Status>
  readonly expiresAt: number
  readonly inFlight: Option.Option<Deferred.Deferred<Status>>
}

const describeFailure = (error: unknown): string =>
  error instanceof Body.TooLarge
    ? `a reply over ${maxReplyBytes} bytes`
    : Predicate.hasProperty(error, "_tag") && typeof error._tag === "string"
    ? Predicate.hasProperty(error, "reason") && typeof error.reason === "string"
      ? `${error._tag} (${error.reason})`
      : error._tag
    : "an error"

/**
 * Builds the service: fetches are forked into the scope (closing it
 * interrupts a fetch still running). Invalid options fail with
 * `Options.InvalidOptionsError` (module `"StatusPage"`), before anything is
 * fetched; nothing is fetched until the first reading is asked for.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect } from "effect"
 * import { StatusPage } from "claude-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const page = yield* StatusPage.make({ url: "https://status.claude.com" })
 *   return yield* page.status
 * }).pipe(Effect.scoped, Effect.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<Service, InvalidOptionsError, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    const config = yield* settings(options)
    const scope = yield* Effect.scope
    const client = HttpClient.followRedirects(yield* HttpClient.HttpClient, 3)
    const ttl = Duration.toMillis(config.ttl)
    const cache = yield* Ref.make<Cache>({ reading: Option.none(), expiresAt: 0, inFlight: Option.none() })

    const reply = (path: string): Effect.Effect<Either.Either<string, string>> =>
      client.get(`${config.url}${path}`, { headers: { accept: "application/json" } }).pipe(
        Effect.flatMap((response) =>
          response.status === 200
            ? Body.text(response, maxReplyBytes)
            : Effect.zipRight(
              // started, then interrupted at once: the connection is closed, the body unread
              Effect.ignore(Stream.runDrain(Stream.interruptWhen(response.stream, Effect.void))),
              Effect.fail({ _tag: `HTTP ${response.status}` })
            )
        ),
        Effect.mapError((error) => `${path.slice("/api/v2/".length)}: ${describeFailure(error)}`),
        Effect.either
      )

    const fetch: Effect.Effect<Reading> = Effect.all([reply("/api/v2/status.json"), reply("/api/v2/components.json")], {
      concurrency: 2
    }).pipe(
      Effect.map(([page, components]) => {
        const reading = read({ status: Either.getRight(page), components: Either.getRight(components) }, config.component)
        const failures = [page, components].flatMap((r) => (Either.isLeft(r) ? [r.left] : []))
        return reading.source === "unavailable" && failures.length > 0
          ? { ...reading, detail: failures.join("; ") }
          : reading
      }),
      Effect.timeoutTo({
        duration: config.timeout,
        onSuccess: (reading): Reading => reading,
        onTimeout: (): Reading => ({
          indicator: "unknown",
          source: "unavailable",
          component: Option.none(),
          detail: `timed out after ${Duration.format(config.timeout)}`
        })
      })
    )

    /** One fetch: its reading cached for `ttl`, a change of indicator logged. */
    const refresh = (deferred: Deferred.Deferred<Status>) =>
      Effect.gen(function*() {
        const reading = yield* fetch
        const now = yield* Clock.currentTimeMillis
        const status: Status = { ...reading, checkedAt: Option.some(now) }
        const previous = yield* Ref.modify(cache, (c) => [
          Option.map(c.reading, (r) => r.indicator),
          { reading: Option.some(status), expiresAt: now + ttl, inFlight: Option.none() }
        ])
        const before = Option.getOrElse(previous, () => "unknown" as const)
        if (before !== status.indicator) {
          const message = `status page ${config.url}: ${before} → ${status.indicator} (${status.detail})`
          const annotations = {
            "status_page.url": config.url,
            "status_page.indicator": status.indicator,
            "status_page.previous": before
          }
          yield* (isIncident(status.indicator) ? Effect.logWarning(message) : Effect.logInfo(message)).pipe(
            Effect.annotateLogs(annotations)
          )
        }
        yield* Deferred.succeed(deferred, status)
      }).pipe(Effect.withSpan("claude_resilience.status_page.fetch", { attributes: { "status_page.url": config.url } }))

    const unavailable = (detail: string): Status => ({
      indicator: "unknown",
      source: "unavailable",
      component: Option.none(),
      detail,
      checkedAt: Option.none()
    })

    const current: Effect.Effect<Status> = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const cached = yield* Ref.get(cache)
      if (Option.isSome(cached.reading) && now < cached.expiresAt) return cached.reading.value
      const fresh = yield* Deferred.make<Status>()
      const [deferred, start] = yield* Ref.modify(cache, (c): readonly [readonly [Deferred.Deferred<Status>, boolean], Cache] =>
        Option.isSome(c.inFlight)
          ? [[c.inFlight.value, false], c]
          : [[fresh, true], { ...c, inFlight: Option.some(fresh) }]
      )
      if (start) {
        // in the layer's scope: a caller that stops waiting does not cancel it
        yield* Effect.forkIn(
          refresh(deferred).pipe(
            Effect.onInterrupt(() =>
              Effect.zipRight(
                Ref.update(cache, (c) => ({ ...c, inFlight: Option.none() })),
                Deferred.succeed(deferred, unavailable("the fetch was interrupted"))
              )
            )
          ),
          scope
        )
      }
      return yield* Deferred.await(deferred).pipe(
        Effect.timeoutTo({
          duration: config.timeout,
          onSuccess: (status): Status => status,
          onTimeout: () => unavailable(`no reading within ${Duration.format(config.timeout)}`)
        })
      )
    })

    return { status: current, indicator: Effect.map(current, (s) => s.indicator) } satisfies Service
  })

/**
 * The status page at `url`, replacing the default {@link StatusPage}
 * (`unknown`). Needs an `HttpClient`; fails with
 * `Options.InvalidOptionsError` (module `"StatusPage"`) for bad options.
 * Provide it where the `Claude` client is built (or around the calls of
 * `Resilience.retry`): its retry decisions then stop at once on a 529 or a
 * 503 while the page shows a `major` or `critical` incident.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Layer } from "effect"
 * import { Claude, Resilience, StatusPage } from "claude-resilience"
 *
 * const ClaudeLive = Claude.layerConfig().pipe(
 *   Layer.provide(Layer.mergeAll(Resilience.layer(), StatusPage.layer({ url: "https://status.claude.com" }))),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<StatusPage, InvalidOptionsError, HttpClient.HttpClient> =>
  Layer.scoped(StatusPage, make(options))
