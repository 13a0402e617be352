/**
 * What operations needs to see in the logs, above `Debug`: a breaker
 * opening (`Warning`) and closing (`Info`), the status page changing, a
 * fallback taken, a page decided; each with the request id where there is
 * one, and never the API key (the scan's control case included).
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as TestClock from "effect/TestClock"
import { Claude } from "../../src/index.js"
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
