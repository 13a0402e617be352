/**
 * What operations needs to see in the logs, above `Debug`: a breaker
 * opening (`Warning`) and closing (`Info`), the status page changing, a
 * fallback taken, a page decided; each with the request id where there is
 * one, and never the API key (the scan's control case included).
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Layer from "effect/Layer"
import * as Random from "effect/Random"
import * as TestClock from "effect/TestClock"
import * as Fiber from "effect/Fiber"
import * as Queue from "effect/Queue"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { Alerts, Claude, Fallback } from "../../src/index.js"
import { Emulator } from "../../src/testing/index.js"
import { controlCase, makeCapture } from "../support/capture.js"
import { params } from "../support/messages.js"
import { failureOf, virtual } from "../e2e/support.js"

const { Reply } = Emulator

const create = Effect.flatMap(Claude.Claude, (claude) => claude.messages.create(params))

describe("logging: the circuit breaker", () => {
  it.effect("the scan finds a secret that is there (control)", () => controlCase(Emulator.testApiKey))

  it.effect("opening is a Warning with the request id of the call that opened it; closing an Info; never the key", () => {
    const capture = makeCapture()
    return Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      // 2 calls of one attempt each (no retries): the second opens the breaker
      yield* failureOf(create)
      yield* failureOf(create)
      const opened = capture.logged.lines.filter((l) => l.includes("opened"))
      expect(opened).toHaveLength(1)
      expect(opened[0]).toContain("level=WARN")
      expect(opened[0]).toContain("circuit breaker default opened")
      expect(opened[0]).toContain("request.id=req_emu_000002")
      expect(opened[0]).toContain("circuit_breaker.to=Open")
      yield* emulator.setScript(Emulator.healthy)
      yield* TestClock.adjust("2 seconds")
      yield* virtual(create)
      const closed = capture.logged.lines.filter((l) => l.includes("closed"))
      expect(closed).toHaveLength(1)
      expect(closed[0]).toContain("level=INFO")
      expect(closed[0]).toContain("circuit_breaker.from=HalfOpen")
      const halfOpen = capture.logged.lines.filter((l) => l.includes("half-open"))
      expect(halfOpen[0]).toContain("level=DEBUG")
      capture.assertNoLeak(Emulator.testApiKey, [])
    }).pipe(
      Effect.provide(Emulator.layerClaude({
        script: () => Reply.Error({ status: 529 }),
        client: { retry: { maxRetries: 0 } },
        resilience: { breaker: { minimumCalls: 2, failureRateThreshold: 0.5, halfOpenProbes: 1 } }
      })),
      Effect.withRandom(Random.fixed([0.5])),
      capture.provide
    )
  })
})

describe("logging: a fallback taken and an alert decided", () => {
  it.effect("a 401 on the primary, named in on: the fallback is a Warning, the page a Warning, each with the request id; never the key", () => {
    const capture = makeCapture()
    return Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const events = yield* Queue.unbounded<Alerts.Event>()
      const pages: Array<Alerts.Decision> = []
      const alerts = yield* Stream.fromQueue(events).pipe(
        Stream.run(Alerts.sink((d) => Effect.sync(() => pages.push(d)))),
        Effect.fork
      )
      const chain = yield* Fallback.make({
        client: Claude.make({ apiKey: Redacted.make(Emulator.testApiKey), baseUrl: emulator.url }),
        alternatives: [Fallback.answer(() => Effect.fail("no cache" as const))],
        on: ["AuthenticationError"]
      })
      const error = yield* failureOf(chain.create(params))
      // each path's failure is an outcome for Alerts (the chain's own error is not an API error)
      for (const failure of error.failures) yield* Queue.offer(events, Alerts.failure(0, failure.error))
      expect(error.failures.map((f) => Fallback.describePath(f.path))).toEqual(["primary (claude-sonnet-5-5)", "alternative 0 (answer)"])
      yield* Queue.shutdown(events)
      yield* Fiber.join(alerts)
      const fallback = capture.logged.lines.filter((l) => l.includes("fallback taken"))
      expect(fallback).toHaveLength(1)
      expect(fallback[0]).toContain("level=WARN")
      expect(fallback[0]).toContain("request.id=req_emu_000001")
      const page = capture.logged.lines.filter((l) => l.includes("alert page"))
      expect(page).toHaveLength(1)
      expect(page[0]).toContain("level=WARN")
      expect(page[0]).toContain("request.id=req_emu_000001")
      expect(pages.map((d) => d.condition)).toEqual(["fatal:AuthenticationError"])
      capture.assertNoLeak(Emulator.testApiKey, [])
    }).pipe(
      Effect.scoped,
      Effect.provide(Layer.merge(
        Emulator.layer({ apiKey: "sk-ant-another-key-0000", script: Emulator.healthy }),
        NodeHttpClient.layer
      )),
      Effect.withRandom(Random.fixed([0.5])),
      capture.provide
    )
  })
})
