/**
 * The status page: its replies read (property: total), fetched from hostile
 * loopback servers and from the emulator (good, malformed, slow, missing),
 * cached for `ttl` by `Clock`, never delaying a call by more than
 * `timeout`; and the retry decision with each indicator.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as fc from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as TestClock from "effect/TestClock"
import type * as Http from "node:http"
import { ApiError, Claude, Options, Resilience, RetryPolicy, StatusPage } from "../src/index.js"
import { Emulator } from "../src/testing/index.js"
import { makeCapture } from "./support/capture.js"
import { httpServer } from "./support/hostileServer.js"
import { params } from "./support/messages.js"
import { runVirtual } from "./support/virtualTime.js"
import { arrivals, failureOf, oneFailure, virtual } from "./e2e/support.js"

const { Reply } = Emulator

const statusJson = (indicator: string) => JSON.stringify({ page: { id: "x" }, status: { indicator, description: "d" } })
const componentsJson = (status: string, name = "Claude API (api.anthropic.com)") =>
  JSON.stringify({
    components: [
      { name: "claude.ai", status: "major_outage" },
      { name, status }
    ]
  })

/** A loopback page that answers each path with `reply(path)`, or never when it returns undefined. */
const page = (reply: (path: string) => { status: number; body: string } | undefined) =>
  httpServer((request, response: Http.ServerResponse) => {
    const answer = reply(request.url)
    if (answer === undefined) return // never answered
    response.writeHead(answer.status, { "content-type": "application/json" })
    response.end(answer.body)
  })

const withPage = (options: Omit<StatusPage.Options, "url">, url: string) =>
  Effect.flatMap(StatusPage.make({ ...options, url }), (service) => service.status)

describe("StatusPage.read", () => {
  const some = Option.some
  it("maps the API's component status, whatever the page's overall indicator", () => {
    const cases = [
      ["operational", "none"],
      ["degraded_performance", "minor"],
      ["partial_outage", "major"],
      ["major_outage", "critical"],
      ["under_maintenance", "minor"]
    ] as const
    for (const [status, indicator] of cases) {
      const reading = StatusPage.read({ status: some(statusJson("critical")), components: some(componentsJson(status)) }, "Claude API")
      expect(reading).toMatchObject({ indicator, source: "component", component: some("Claude API (api.anthropic.com)") })
    }
  })

  it("falls back to the page's indicator when no component matches, or its status is unknown", () => {
    for (const indicator of ["none", "minor", "major", "critical"] as const) {
      expect(StatusPage.read({ status: some(statusJson(indicator)), components: some(componentsJson("operational", "Console")) }, "Claude API"))
        .toMatchObject({ indicator, source: "page" })
    }
    expect(StatusPage.read({ status: some(statusJson("maintenance")), components: Option.none() }, "Claude API").indicator).toBe("minor")
    expect(StatusPage.read({ status: some(statusJson("major")), components: some(componentsJson("on_fire")) }, "Claude API"))
      .toMatchObject({ indicator: "major", source: "page" })
  })

  it("matches the component by a part of its name, ignoring case", () => {
    const reading = StatusPage.read({ status: Option.none(), components: some(componentsJson("partial_outage", "Anthropic API")) }, "anthropic api")
    expect(reading.indicator).toBe("major")
  })

  it("reads unknown from replies that are missing, not JSON, or not a Statuspage reply", () => {
    const bodies = ["", "<html>502</html>", "null", "[]", `{"status":{}}`, `{"status":{"indicator":"purple"}}`, `{"components":{}}`]
    for (const a of bodies) {
      for (const b of bodies) {
        expect(StatusPage.read({ status: some(a), components: some(b) }, "Claude API"))
          .toMatchObject({ indicator: "unknown", source: "unavailable" })
      }
    }
    expect(StatusPage.read({ status: Option.none(), components: Option.none() }, "Claude API").indicator).toBe("unknown")
  })

  it("is total: any text gives a known indicator and a short, clean detail (property)", () => {
    const json = fc.oneof(
      fc.string(),
      fc.json(),
      fc.record({ status: fc.record({ indicator: fc.oneof(fc.string(), fc.constantFrom("none", "major")) }) }).map((v) =>
        JSON.stringify(v)
      ),
      fc.record({
        components: fc.array(fc.record({ name: fc.string(), status: fc.oneof(fc.string(), fc.constant("partial_outage")) }))
      }).map((v) => JSON.stringify(v))
    )
    fc.assert(
      fc.property(fc.option(json, { nil: undefined }), fc.option(json, { nil: undefined }), fc.string(), (a, b, name) => {
        const reading = StatusPage.read({ status: Option.fromNullable(a), components: Option.fromNullable(b) }, name)
        expect(StatusPage.indicators).toContain(reading.indicator)
        // eslint-disable-next-line no-control-regex
        expect(reading.detail).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/)
        expect(reading.detail.length).toBeLessThan(500)
      }),
      { numRuns: 2000 }
    )
  })
})

describe("StatusPage.settings", () => {
  it("lists every problem at its path, in one InvalidOptionsError", () => {
    const result = StatusPage.settings({ url: "ftp://status", ttl: -1, timeout: "soon", component: "", extra: 1 } as unknown as StatusPage.Options)
    expect(Either.isLeft(result)).toBe(true)
    const error = Either.getLeft(result).pipe(Option.getOrThrow)
    expect(error).toBeInstanceOf(Options.InvalidOptionsError)
    expect(error.module).toBe("StatusPage")
    expect(error.problems.map((p) => p.path).sort()).toEqual(["component", "extra", "timeout", "ttl", "url"])
  })

  it("refuses a URL with credentials, and a missing one, and fills in the defaults", () => {
    const withCredentials = StatusPage.settings({ url: "https://me:s3cret-pw@status.example" })
    expect(Either.isLeft(withCredentials)).toBe(true)
    // the refused URL is quoted without its user info
    const message = Either.getLeft(withCredentials).pipe(Option.map((e) => e.message), Option.getOrElse(() => ""))
    expect(message).toContain('"https://[redacted]@status.example"')
    expect(message).not.toContain("s3cret-pw")
    const missing = StatusPage.settings({} as StatusPage.Options)
    expect(Either.getLeft(missing).pipe(Option.map((e) => e.problems[0]!.path))).toEqual(Option.some("url"))
    const ok = Either.getOrThrow(StatusPage.settings({ url: "https://status.example//" }))
    expect(ok).toMatchObject({ url: "https://status.example", component: "Claude API" })
  })
})

describe("StatusPage.make over a loopback page", () => {
  it.effect("a good page: the component's indicator, read once per ttl (both endpoints, fetched together)", () =>
    Effect.gen(function*() {
      let status = "partial_outage"
      const server = yield* page((path) =>
        path === "/api/v2/status.json"
          ? { status: 200, body: statusJson("minor") }
          : path === "/api/v2/components.json"
          ? { status: 200, body: componentsJson(status) }
          : { status: 404, body: "" }
      )
      const service = yield* StatusPage.make({ url: server.url, ttl: "10 seconds" })
      const first = yield* runVirtual(service.status)
      expect(first).toMatchObject({ indicator: "major", source: "component", checkedAt: Option.some(0) })
      expect(server.requests.map((r) => r.url).sort()).toEqual(["/api/v2/components.json", "/api/v2/status.json"])
      expect(server.requests.every((r) => r.method === "GET")).toBe(true)
      // cached until the ttl is over: nothing more is fetched
      status = "operational"
      yield* TestClock.setTime(9_999)
      expect(yield* runVirtual(service.indicator)).toBe("major")
      expect(server.requests).toHaveLength(2)
      yield* TestClock.setTime(10_000)
      expect(yield* runVirtual(service.indicator)).toBe("none")
      expect(server.requests).toHaveLength(4)
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layer)))

  it.effect("malformed replies read unknown; so do 404s (a missing page)", () =>
    Effect.gen(function*() {
      const malformed = yield* page(() => ({ status: 200, body: "<html>not json</html>" }))
      expect(yield* runVirtual(withPage({}, malformed.url))).toMatchObject({ indicator: "unknown", source: "unavailable" })
      const missing = yield* page(() => ({ status: 404, body: "{}" }))
      const reading = yield* runVirtual(withPage({}, missing.url))
      expect(reading).toMatchObject({ indicator: "unknown", source: "unavailable" })
      expect(reading.detail).toContain("HTTP 404")
      // only components.json missing: the page's own indicator
      const half = yield* page((path) => path === "/api/v2/status.json" ? { status: 200, body: statusJson("critical") } : { status: 500, body: "" })
      expect(yield* runVirtual(withPage({}, half.url))).toMatchObject({ indicator: "critical", source: "page" })
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layer)))

  it.effect("an unreachable page reads unknown", () =>
    Effect.gen(function*() {
      // a port that was listening and is closed now
      const url = yield* Effect.scoped(Effect.map(page(() => undefined), (s) => s.url))
      expect(yield* runVirtual(withPage({}, url))).toMatchObject({ indicator: "unknown", source: "unavailable" })
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layer)))

  it.effect("a page that never answers: the reading is unknown after exactly `timeout`, and is cached for ttl", () =>
    Effect.gen(function*() {
      const server = yield* page(() => undefined)
      const service = yield* StatusPage.make({ url: server.url, timeout: "300 millis", ttl: "1 minute" })
      const reading = yield* runVirtual(service.status)
      expect(reading.indicator).toBe("unknown")
      expect(reading.detail).toContain("300ms")
      expect(yield* TestClock.currentTimeMillis).toBe(300)
      // cached: the next reading does not wait
      expect(yield* service.indicator).toBe("unknown")
      expect(yield* TestClock.currentTimeMillis).toBe(300)
      expect(server.requests.length).toBe(2)
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layer)))

  it.effect("concurrent readers share one fetch", () =>
    Effect.gen(function*() {
      const server = yield* page((path) =>
        path === "/api/v2/status.json" ? { status: 200, body: statusJson("major") } : { status: 404, body: "" }
      )
      const service = yield* StatusPage.make({ url: server.url })
      const readings = yield* runVirtual(Effect.all(Array.from({ length: 8 }, () => service.indicator), { concurrency: "unbounded" }))
      expect(readings).toEqual(Array(8).fill("major"))
      expect(server.requests).toHaveLength(2)
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layer)))

  it.effect("the default service, with no layer, reads unknown and fetches nothing", () =>
    Effect.gen(function*() {
      expect(yield* StatusPage.indicator).toBe("unknown")
      expect(yield* StatusPage.status).toMatchObject({ source: "unconfigured", checkedAt: Option.none() })
    }))
})

describe("StatusPage: the emulator's page", () => {
  it.effect("serves each indicator on both endpoints, without a key, apart from the API's requests", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      for (const indicator of ["none", "minor", "major", "critical"] as const) {
        yield* emulator.setStatus(indicator)
        // a new service each time: no cache between the rounds
        const reading = yield* runVirtual(withPage({}, emulator.statusPageUrl))
        expect(reading).toMatchObject({ indicator, source: "component", component: Option.some("Claude API (api.anthropic.com)") })
      }
      expect(yield* emulator.requestCount).toBe(0)
      expect((yield* emulator.statusPageRequests).length).toBe(8)
    }).pipe(Effect.scoped, Effect.provide(Layer.merge(Emulator.layer(), NodeHttpClient.layer))))

  it.effect("a status script: malformed, missing and slow replies read unknown", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.setStatus(() => Reply.Raw({ status: 200, body: "{\"status\":" }))
      expect((yield* runVirtual(withPage({}, emulator.statusPageUrl))).indicator).toBe("unknown")
      yield* emulator.setStatus(() => Reply.Error({ status: 404 }))
      expect((yield* runVirtual(withPage({}, emulator.statusPageUrl))).indicator).toBe("unknown")
      yield* emulator.setStatus(() => Reply.Stall())
      const start = yield* TestClock.currentTimeMillis
      expect((yield* runVirtual(withPage({ timeout: "1 second" }, emulator.statusPageUrl))).indicator).toBe("unknown")
      expect((yield* TestClock.currentTimeMillis) - start).toBe(1000)
      // a Delayed reply within the timeout is read
      yield* emulator.setStatus((request) => Reply.Delayed({ delay: 200, reply: Reply.Raw({ status: 200, body: request.path.endsWith("status.json") ? statusJson("critical") : "{}" }) }))
      expect((yield* runVirtual(withPage({ timeout: "1 second" }, emulator.statusPageUrl))).indicator).toBe("critical")
    }).pipe(Effect.scoped, Effect.provide(Layer.merge(Emulator.layer(), NodeHttpClient.layer))))
})

// ---------------------------------------------------------------------------
// the retry decision
// ---------------------------------------------------------------------------

const create = Effect.flatMap(Claude.Claude, (claude) => claude.messages.create(params))

const withClaude = (options: Parameters<typeof Emulator.layerClaude>[0]) =>
<A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.provide(Emulator.layerClaude(options)), Effect.withRandom(Random.fixed([0.5])))

const twice = (status: number) => Emulator.sequence([Reply.Error({ status }), Reply.Error({ status })])

describe("StatusPage: the retry decision", () => {
  for (const indicator of ["none", "minor"] as const) {
    it.effect(`${indicator}: 529, 529, 200 is retried as without a page (requests at 0, 500, 1500)`, () =>
      Effect.gen(function*() {
        const message = yield* virtual(create)
        expect(message.type).toBe("message")
        expect(yield* arrivals).toEqual([0, 500, 1500])
        // read once, at the first retry decision; cached after
        expect((yield* (yield* Emulator.Emulator).statusPageRequests).map((r) => r.receivedAt)).toEqual([0, 0])
      }).pipe(withClaude({ script: twice(529), status: indicator, statusPage: {} })))
  }

  it.effect("unknown (a page that never answers): retried, each decision delayed by at most the timeout", () =>
    Effect.gen(function*() {
      const message = yield* virtual(create)
      expect(message.type).toBe("message")
      // the first decision waits 250 ms for the page, then 500 ms; the reading is cached after
      expect(yield* arrivals).toEqual([0, 750, 1750])
    }).pipe(withClaude({ script: twice(529), status: () => Reply.Stall(), statusPage: {} })))

  for (const indicator of ["major", "critical"] as const) {
    it.effect(`${indicator}: a 529 is not retried (one request, StatusPageIncident on the span and in the log)`, () => {
      const capture = makeCapture()
      return Effect.gen(function*() {
        const error = yield* failureOf(create)
        expect(error._tag).toBe("OverloadedError")
        expect(yield* arrivals).toEqual([0])
        expect(yield* TestClock.currentTimeMillis).toBe(0)
        const span = capture.traced.spans.find((s) => s.name === "claude.messages.create")!
        expect(span.attributes.get("retry.give_up")).toBe("StatusPageIncident")
        expect(span.attributes.get("status_page.indicator")).toBe(indicator)
        const line = capture.logged.lines.find((l) => l.includes("StatusPageIncident"))
        expect(line).toContain("level=INFO")
        expect(line).toContain("request.id=req_emu_000001")
        expect(capture.everything([]).logs).not.toContain(Emulator.testApiKey)
      }).pipe(withClaude({ script: twice(529), status: indicator, statusPage: {} }), capture.provide)
    })

    it.effect(`${indicator}: a 503 is not retried either; a 500 and a 429 are`, () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        expect((yield* failureOf(create))._tag).toBe("ServiceUnavailableError")
        expect(yield* emulator.requestCount).toBe(1)
        yield* emulator.reset
        yield* emulator.setScript(Emulator.sequence([Reply.Error({ status: 500 }), Reply.Error({ status: 429 })]))
        expect((yield* virtual(create)).type).toBe("message")
        expect(yield* emulator.requestCount).toBe(3)
      }).pipe(withClaude({ script: twice(503), status: indicator, statusPage: {} })))
  }

  it.effect("the page turns red mid-call: the retry after the next 529 is not taken", () =>
    Effect.gen(function*() {
      const error = yield* failureOf(create)
      expect(error._tag).toBe("OverloadedError")
      // 0 (none, read at 0, cached for 1 s), 500, 1500: read again, major
      expect(yield* arrivals).toEqual([0, 500, 1500])
    }).pipe(withClaude({
      script: () => Reply.Error({ status: 529 }),
      status: (request) => request.receivedAt >= 1000 ? "major" : "none",
      statusPage: { ttl: "1 second" }
    })))

  it.effect("control: without a status page, a 529 storm is retried to maxRetries", () =>
    Effect.gen(function*() {
      yield* failureOf(create)
      expect(yield* arrivals).toEqual([0, 500, 1500, 3500, 7500, 11500])
    }).pipe(withClaude({ script: () => Reply.Error({ status: 529 }), status: "critical" })))

  it.effect("Resilience.retry consults the page provided around the call; RetryPolicy.retry, the policy alone, does not", () =>
    Effect.gen(function*() {
      let calls = 0
      const emulator = yield* Emulator.Emulator
      const call = Effect.suspend(() => {
        calls++
        return Effect.fail(ApiError.fromResponse({ status: 529, body: "{}", now: 0 }))
      })
      const page = StatusPage.layer({ url: emulator.statusPageUrl })
      const withPage = yield* Effect.exit(
        runVirtual(call.pipe(Resilience.retry(), Effect.provide(Layer.merge(page, Resilience.layer()))))
      )
      expect(oneFailure(withPage)).toMatchObject({ _tag: "OverloadedError" })
      expect(calls).toBe(1)
      calls = 0
      const alone = yield* Effect.exit(runVirtual(call.pipe(RetryPolicy.retry(), Effect.provide(page))))
      expect(oneFailure(alone)).toMatchObject({ _tag: "OverloadedError" })
      expect(calls).toBe(6)
    }).pipe(
      Effect.scoped,
      Effect.provide(Layer.merge(Emulator.layer({ status: "critical" }), NodeHttpClient.layer)),
      Effect.withRandom(Random.fixed([0.5]))
    ))

  it.effect("the status page changing is logged: Warning into an incident, Info out of it, never the key", () => {
    const capture = makeCapture()
    return Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const service = yield* StatusPage.make({ url: emulator.statusPageUrl, ttl: "1 second" })
      expect(yield* runVirtual(service.indicator)).toBe("major")
      yield* emulator.setStatus("none")
      yield* TestClock.adjust("1 second")
      expect(yield* runVirtual(service.indicator)).toBe("none")
      yield* TestClock.adjust("1 second")
      expect(yield* runVirtual(service.indicator)).toBe("none")
      const lines = capture.logged.lines.filter((l) => l.includes("status page"))
      expect(lines).toHaveLength(2)
      expect(lines[0]).toContain("level=WARN")
      expect(lines[0]).toContain("unknown → major")
      expect(lines[1]).toContain("level=INFO")
      expect(lines[1]).toContain("major → none")
    }).pipe(
      Effect.scoped,
      Effect.provide(Layer.merge(Emulator.layer({ status: "major" }), NodeHttpClient.layer)),
      capture.provide
    )
  })

  it.effect("a fetch the caller stops waiting for goes on, and its reading is cached", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.setStatus((request) => Reply.Delayed({ delay: 400, reply: Reply.Raw({ status: 200, body: request.path.endsWith("status.json") ? statusJson("critical") : "{}" }) }))
      const service = yield* StatusPage.make({ url: emulator.statusPageUrl, timeout: "500 millis" })
      const waiter = yield* Effect.fork(service.indicator)
      // the waiter gives up at 100 ms, while the page takes 400 ms
      yield* runVirtual(Effect.sleep("100 millis"))
      yield* Fiber.interrupt(waiter)
      expect((yield* emulator.statusPageRequests).length).toBe(2)
      yield* runVirtual(Effect.sleep("350 millis"))
      // cached by the fetch that went on: read without waiting, nothing fetched again
      expect(yield* service.indicator).toBe("critical")
      expect(yield* TestClock.currentTimeMillis).toBe(450)
      expect((yield* emulator.statusPageRequests).length).toBe(2)
    }).pipe(Effect.scoped, Effect.provide(Layer.merge(Emulator.layer(), NodeHttpClient.layer))))
})
