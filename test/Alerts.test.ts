/**
 * The alert rules, each at exact decision times: the pure classifier over
 * events with explicit instants, and the live adapters (`tap` recording
 * calls into a queue read by `stream`/`sink`) under `TestClock`.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as fc from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { Alerts, ApiError, Fallback, Options, StatusPage } from "../src/index.js"
import { makeCapture } from "./support/capture.js"

const error = (status: number, type: string, id = "req_1") =>
  ApiError.fromResponse({
    status,
    headers: { "request-id": id },
    body: JSON.stringify({ type: "error", error: { type, message: "m" } }),
    now: 0
  })

const auth = error(401, "authentication_error", "req_auth")
const bad = error(400, "invalid_request_error")
const overloaded = error(529, "overloaded_error", "req_529")
const unavailable = error(503, "api_error")

const S = 1000
const M = 60 * S

/** The page and ticket decisions of events, as [kind, condition, at]. */
const actionable = (events: ReadonlyArray<Alerts.Event>, options?: Alerts.Options) =>
  Either.getOrThrow(Alerts.classify(events, options))
    .filter((d) => d.kind !== "none")
    .map((d) => [d.kind, d.condition, d.at] as const)

/** A failure every `every` ms from `from` to `to` (inclusive). */
const every = (from: number, to: number, step: number, e: unknown): Array<Alerts.Event> => {
  const out: Array<Alerts.Event> = []
  for (let at = from; at <= to; at += step) out.push(Alerts.failure(at, e))
  return out
}

describe("Alerts: the fatal rule", () => {
  it("pages at once on each of authentication, permission, billing and spend limit; once per tag until a success", () => {
    for (const [status, type, tag] of [
      [401, "authentication_error", "AuthenticationError"],
      [403, "permission_error", "PermissionError"],
      [402, "billing_error", "BillingError"]
    ] as const) {
      const e = error(status, type)
      expect(e._tag).toBe(tag)
      expect(actionable([Alerts.success(0), Alerts.failure(7, e), Alerts.failure(8, e), Alerts.failure(9, e)]))
        .toEqual([["page", `fatal:${tag}`, 7]])
    }
    const spend = ApiError.fromResponse({
      status: 400,
      body: JSON.stringify({ type: "error", error: { type: "invalid_request_error", message: "You have reached your specified API usage limits." } }),
      now: 0
    })
    expect(spend._tag).toBe("SpendLimitError")
    expect(actionable([Alerts.failure(3, spend)])).toEqual([["page", "fatal:SpendLimitError", 3]])
    // cleared by a success, then paged again
    expect(actionable([Alerts.failure(1, auth), Alerts.failure(2, auth), Alerts.success(3), Alerts.failure(4, auth)]))
      .toEqual([["page", "fatal:AuthenticationError", 1], ["page", "fatal:AuthenticationError", 4]])
  })

  it("carries the request id of the failure that paged, and is configurable", () => {
    const [decision] = Either.getOrThrow(Alerts.classify([Alerts.failure(5, auth)]))
    expect(decision).toMatchObject({ kind: "page", requestId: Option.some("req_auth") })
    expect(actionable([Alerts.failure(5, auth)], { fatal: { tags: [] } })).toEqual([])
    expect(actionable([Alerts.failure(5, overloaded)], { fatal: { tags: ["OverloadedError"] } }))
      .toEqual([["page", "fatal:OverloadedError", 5]])
  })
})

describe("Alerts: the bad-request rule", () => {
  const calls = (n: number, badEvery: number, step = S) =>
    Array.from({ length: n }, (_, i) => (i % badEvery === badEvery - 1 ? Alerts.failure(i * step, bad) : Alerts.success(i * step)))

  it("pages when 400/422 reach 20 % of at least 20 calls in 5 minutes: at the 20th call, once while it hovers there", () => {
    // every 5th call is bad: 4 of 20 = 20 % at the 20th call (t = 19 s); 4 of 21 next is under 20 %, not cleared
    expect(actionable(calls(40, 5))).toEqual([["page", "badRequests", 19 * S]])
    // every 6th: under 20 %, never
    expect(actionable(calls(200, 6))).toEqual([])
  })

  it("a 422 counts; one page until the share falls below half the threshold, then again", () => {
    const unprocessable = ApiError.fromResponse({ status: 422, body: "", now: 0 })
    expect(unprocessable._tag).toBe("UnprocessableEntityError")
    const burst = Array.from({ length: 20 }, (_, i) => Alerts.failure(i * S, i % 2 === 0 ? unprocessable : bad))
    const healthy = Array.from({ length: 200 }, (_, i) => Alerts.success(20 * S + i * S))
    const again = Array.from({ length: 40 }, (_, i) => Alerts.failure(220 * S + i * S, bad))
    const decisions = Either.getOrThrow(Alerts.classify([...burst, ...healthy, ...again]))
      .filter((d) => d.condition === "badRequests")
      .map((d) => [d.kind, d.at])
    // 20 bad calls: paged at the 20th (t = 19 s); 20 of 200 calls (t = 199 s) is still 10 %, 20 of 201
    // (t = 200 s) clears; then 49 of 249 (t = 248 s) is 19.7 %, 50 of 250 (t = 249 s) pages again
    expect(decisions).toEqual([["page", 19 * S], ["none", 200 * S], ["page", 249 * S]])
  })

  it("the window and the threshold are options", () => {
    expect(actionable(calls(40, 5), { badRequests: { share: 0.5 } })).toEqual([])
    expect(actionable(calls(10, 2), { badRequests: { minimumCalls: 10 } })).toEqual([["page", "badRequests", 9 * S]])
    // 1 call a minute, every 2nd bad: a 5-minute window never holds 20 calls
    expect(actionable(calls(60, 2, M))).toEqual([])
    expect(actionable(calls(60, 2, M), { badRequests: { window: "1 hour" } })).toEqual([["page", "badRequests", 19 * M]])
  })
})

describe("Alerts: the server-error rule", () => {
  it("a 529 burst that clears within minutes never pages", () => {
    const burst = [...every(0, 3 * M, 10 * S, overloaded), Alerts.success(4 * M + 1)]
    const decisions = Either.getOrThrow(Alerts.classify(burst))
    expect(decisions.filter((d) => d.kind !== "none")).toEqual([])
    expect(decisions.at(-1)).toMatchObject({ kind: "none", condition: "serverErrors", at: 4 * M + 1 })
    expect(decisions.at(-1)!.reason).toContain("cleared")
    // a pause longer than the gap starts a new episode: 4 + 4 minutes never add up to 5
    expect(actionable([...every(0, 4 * M, 30 * S, unavailable), ...every(5 * M + 30 * S, 9 * M, 30 * S, unavailable)]))
      .toEqual([])
  })

  it("5xx/529 persisting 5 minutes while the page is green: one page, at 5:00 exactly", () => {
    const events = [Alerts.status(0, "none"), ...every(0, 20 * M, 10 * S, overloaded)]
    expect(actionable(events)).toEqual([["page", "serverErrors", 5 * M]])
  })

  it("the status page unknown (not configured): a page too", () => {
    expect(actionable(every(0, 10 * M, 20 * S, unavailable))).toEqual([["page", "serverErrors", 5 * M]])
  })

  it("while the page shows the incident: only a ticket; it turns green mid-episode: then a page", () => {
    for (const indicator of ["minor", "major", "critical"] as const) {
      expect(actionable([Alerts.status(0, indicator), ...every(0, 10 * M, 10 * S, overloaded)]))
        .toEqual([["ticket", "serverErrors", 5 * M]])
    }
    const events = [
      Alerts.status(0, "major"),
      ...every(0, 7 * M, 10 * S, overloaded),
      Alerts.status(7 * M + 5 * S, "none"),
      ...every(7 * M + 10 * S, 9 * M, 10 * S, overloaded)
    ]
    expect(actionable(events)).toEqual([["ticket", "serverErrors", 5 * M], ["page", "serverErrors", 7 * M + 5 * S]])
  })

  it("one page per episode until it clears; a new episode pages again", () => {
    const events = [
      ...every(0, 10 * M, 10 * S, overloaded),
      Alerts.success(12 * M),
      ...every(12 * M, 20 * M, 10 * S, overloaded)
    ]
    expect(actionable(events)).toEqual([["page", "serverErrors", 5 * M], ["page", "serverErrors", 17 * M]])
  })

  it("persistFor and gap are options", () => {
    expect(actionable(every(0, 10 * M, 10 * S, overloaded), { serverErrors: { persistFor: "2 minutes" } }))
      .toEqual([["page", "serverErrors", 2 * M]])
    // a failure every 2 minutes: one episode with a 3-minute gap, none with the default 1 minute
    expect(actionable(every(0, 10 * M, 2 * M, overloaded))).toEqual([])
    expect(actionable(every(0, 10 * M, 2 * M, overloaded), { serverErrors: { gap: "3 minutes" } }))
      .toEqual([["page", "serverErrors", 6 * M]])
    expect(actionable([Alerts.status(0, "minor"), ...every(0, 10 * M, 10 * S, overloaded)], {
      serverErrors: { ticketWhile: ["major", "critical"] }
    })).toEqual([["page", "serverErrors", 5 * M]])
  })

  it("a tick clears an episode with no call made", () => {
    const decisions = Either.getOrThrow(Alerts.classify([...every(0, M, 10 * S, overloaded), Alerts.tick(2 * M + 1)]))
    expect(decisions.at(-1)).toMatchObject({ kind: "none", condition: "serverErrors", at: 2 * M + 1 })
  })
})

describe("Alerts.step", () => {
  it("is total: any events give at least one decision each, and never a throw (property)", () => {
    const event = fc.oneof(
      fc.nat({ max: 10 ** 9 }).map(Alerts.success),
      fc.tuple(fc.nat({ max: 10 ** 9 }), fc.constantFrom(auth, bad, overloaded, unavailable, "x", null, {})).map(
        ([at, e]) => Alerts.failure(at, e)
      ),
      fc.tuple(fc.nat({ max: 10 ** 9 }), fc.constantFrom(...(["none", "minor", "major", "critical", "unknown"] as const))).map(
        ([at, i]) => Alerts.status(at, i)
      )
    )
    fc.assert(fc.property(fc.array(event, { maxLength: 60 }), (events) => {
      const sorted = [...events].sort((a, b) => a.at - b.at)
      let state = Alerts.initial
      for (const e of sorted) {
        const [next, decisions] = Alerts.step(Alerts.defaults, state, e)
        expect(decisions.length).toBeGreaterThan(0)
        for (const d of decisions) expect(d.at).toBe(e.at)
        state = next
      }
    }))
  })
})

describe("Alerts: options", () => {
  it("bad options: one InvalidOptionsError (module Alerts), every problem at its path", () => {
    const result = Alerts.settings({
      badRequests: { share: 2, window: -1 },
      serverErrors: { ticketWhile: ["red" as never], persistFor: "soon" },
      nope: 1
    } as never)
    const error = Either.getLeft(result).pipe(Option.getOrThrow)
    expect(Options.isInvalidOptionsError(error)).toBe(true)
    expect(error.module).toBe("Alerts")
    expect(error.problems.map((p) => p.path).sort()).toEqual(
      ["badRequests.share", "badRequests.window", "nope", "serverErrors.persistFor", "serverErrors.ticketWhile.0"]
    )
  })
})

describe("Alerts: the live adapters under TestClock", () => {
  /** A call that fails (or succeeds) now, recorded into `queue` by Alerts.tap. */
  const call = (queue: Queue.Queue<Alerts.Event>, outcome: unknown) =>
    Effect.ignore(
      (outcome === "ok" ? Effect.succeed("answer") : Effect.fail(outcome)).pipe(
        Alerts.tap((event) => Queue.offer(queue, event))
      )
    )

  it.effect("stream: a 529 every 10 s pages at exactly 5 minutes, once; logged at Warning with its request id", () => {
    const capture = makeCapture()
    return Effect.gen(function*() {
      const queue = yield* Queue.unbounded<Alerts.Event>()
      const decisions = yield* Ref.make<ReadonlyArray<Alerts.Decision>>([])
      const fiber = yield* Alerts.stream(Stream.fromQueue(queue)).pipe(
        Stream.runForEach((d) => Ref.update(decisions, (all) => [...all, d])),
        Effect.fork
      )
      for (let i = 0; i <= 60; i++) {
        yield* call(queue, overloaded)
        yield* TestClock.adjust("10 seconds")
      }
      yield* Queue.shutdown(queue)
      yield* Fiber.join(fiber)
      const got = yield* Ref.get(decisions)
      expect(got.map((d) => [d.kind, d.condition, d.at])).toEqual([["page", "serverErrors", 5 * M]])
      const counted = yield* Metric.value(
        Metric.tagged(Metric.tagged(Alerts.decisionsTotal, "kind", "page"), "condition", "serverErrors")
      )
      expect(counted.count).toBe(1)
      const line = capture.logged.lines.find((l) => l.includes("alert page"))!
      expect(line).toContain("level=WARN")
      expect(line).toContain("request.id=req_529")
    }).pipe(capture.provide)
  })

  it.effect("sink: an authentication error pages the pager once, at the instant of the call; a ticket is logged at Info", () => {
    const capture = makeCapture()
    return Effect.gen(function*() {
      const queue = yield* Queue.unbounded<Alerts.Event>()
      const pager = yield* Ref.make<ReadonlyArray<readonly [string, string, number]>>([])
      const fiber = yield* Stream.fromQueue(queue).pipe(
        Stream.run(Alerts.sink((d) => Ref.update(pager, (all) => [...all, [d.kind, d.condition, d.at] as const]))),
        Effect.fork
      )
      yield* TestClock.adjust("42 seconds")
      yield* call(queue, auth)
      yield* call(queue, auth)
      yield* Queue.offer(queue, Alerts.status(42 * S, "critical"))
      for (let i = 0; i <= 31; i++) {
        yield* call(queue, unavailable)
        yield* TestClock.adjust("10 seconds")
      }
      yield* Queue.shutdown(queue)
      yield* Fiber.join(fiber)
      expect(yield* Ref.get(pager)).toEqual([
        ["page", "fatal:AuthenticationError", 42 * S],
        ["ticket", "serverErrors", 42 * S + 5 * M]
      ])
      const ticket = capture.logged.lines.find((l) => l.includes("alert ticket"))!
      expect(ticket).toContain("level=INFO")
    }).pipe(capture.provide)
  })

  it.effect("tap around a fallback chain records each path: a primary down behind a working fallback still pages", () =>
    Effect.gen(function*() {
      const queue = yield* Queue.unbounded<Alerts.Event>()
      const primary: Fallback.Path = { _tag: "Primary", model: "claude-sonnet-5-5" }
      const fallback: Fallback.Path = { _tag: "Model", index: 0, model: "claude-haiku-5-5" }
      // a chain answered by its fallback after the primary's 529, every 10 s for 6 minutes
      const answered = Effect.succeed<Fallback.Answered<string, unknown>>({
        value: "hi",
        path: fallback,
        failures: [{ path: primary, error: overloaded }]
      })
      for (let i = 0; i <= 36; i++) {
        yield* answered.pipe(Alerts.tap((event) => Queue.offer(queue, event)))
        yield* TestClock.adjust("10 seconds")
      }
      // then a chain whose every path failed
      yield* Effect.ignore(
        Effect.fail(Fallback.FallbackError({ failures: [{ path: primary, error: auth }, { path: fallback, error: auth }], exhausted: true })).pipe(
          Alerts.tap((event) => Queue.offer(queue, event))
        )
      )
      const events = Chunk.toReadonlyArray(yield* Queue.takeAll(queue))
      expect(events.slice(0, 2)).toEqual([Alerts.failure(0, overloaded), Alerts.success(0)])
      expect(events.slice(-2).map((e) => e._tag === "Failure" ? e.tag : e._tag)).toEqual(["AuthenticationError", "AuthenticationError"])
      expect(actionable(events)).toEqual([["page", "serverErrors", 5 * M], ["page", "fatal:AuthenticationError", 370 * S]])
    }))

  it.effect("ticks: an episode clears with no call made, at the first tick past the gap", () =>
    Effect.gen(function*() {
      const queue = yield* Queue.unbounded<Alerts.Event>()
      const events = Stream.merge(Stream.fromQueue(queue), Alerts.ticks("30 seconds"), { haltStrategy: "left" })
      const seen = yield* Ref.make<ReadonlyArray<Alerts.Decision>>([])
      const fiber = yield* events.pipe(
        Stream.mapAccum(Alerts.initial, (state, e) => Alerts.step(Alerts.defaults, state, e)),
        Stream.flattenIterables,
        Stream.runForEach((d) => Ref.update(seen, (all) => [...all, d])),
        Effect.fork
      )
      yield* call(queue, overloaded)
      yield* TestClock.adjust("3 minutes")
      yield* Queue.shutdown(queue)
      yield* Fiber.join(fiber)
      const cleared = (yield* Ref.get(seen)).filter((d) => d.reason.startsWith("cleared"))
      // the failure at 0, gap 1 minute: the ticks at 30 s and 60 s are within it, 90 s is past it
      expect(cleared.map((d) => d.at)).toEqual([90 * S])
    }))

  it.effect("statusChanges: one event per change of the page's indicator, read every minute", () =>
    Effect.gen(function*() {
      // the page: none until 2 minutes, major until 4, none after
      const indicator = Effect.map(TestClock.currentTimeMillis, (t): StatusPage.Indicator =>
        t < 2 * M ? "none" : t < 4 * M ? "major" : "none")
      const page: StatusPage.Service = {
        indicator,
        status: Effect.flatMap(StatusPage.unconfigured.status, (s) => Effect.map(indicator, (i) => ({ ...s, indicator: i })))
      }
      const fiber = yield* Alerts.statusChanges("1 minute").pipe(
        Stream.take(3),
        Stream.runCollect,
        Effect.provideService(StatusPage.StatusPage, page),
        Effect.fork
      )
      yield* TestClock.adjust("5 minutes")
      const events = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
      expect(events).toEqual([Alerts.status(0, "none"), Alerts.status(2 * M, "major"), Alerts.status(4 * M, "none")])
    }))

  it.effect("invalid options fail the stream before any event is read", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Stream.runCollect(Alerts.stream(Stream.make(Alerts.success(0)), { fatal: { tags: [1 as never] } })))
      expect(error).toMatchObject({ _tag: "InvalidOptionsError", module: "Alerts" })
      expect(Chunk.size(yield* Stream.runCollect(Alerts.stream(Stream.empty)))).toBe(0)
    }))
})
