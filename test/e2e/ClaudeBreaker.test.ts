/**
 * The circuit breaker and the retry budget, end to end: services the
 * client's type requires, provided once (here by `Emulator.layerClaude`'s
 * `Resilience.layer`, its options under `resilience`) and shared by every
 * client built under them.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { CircuitBreaker, Claude, RetryBudget } from "../../src/index.js"
import { Emulator } from "../../src/testing/index.js"
import { runVirtual } from "../support/virtualTime.js"
import { arrivals, consume, failureOf, oneFailure, params, textStreamTypes, types } from "./support.js"

const { Reply } = Emulator

const create = Effect.flatMap(Claude.Claude, (claude) => claude.messages.create(params))

const withClaude = (options: Parameters<typeof Emulator.layerClaude>[0]) =>
<A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.provide(Emulator.layerClaude(options)), Effect.withRandom(Random.fixed([0.5])))

const stream = Stream.unwrap(Effect.map(Claude.Claude, (claude) => claude.messages.stream(params)))

const storm = () => Reply.Error({ status: 529 })

describe("Claude e2e: a shared CircuitBreaker", () => {
  it.effect("opens under a 529 storm; then calls fail with CircuitOpenError and no request is sent", () =>
    Effect.gen(function*() {
      const first = yield* failureOf(create)
      // 4 calls in the window, all failed: open at 3.5 s for 2 s. The retry
      // due at 7.5 s finds it half-open and is a probe; it fails: open for
      // 4 s, until 11.5 s. The retry due then probes and fails too: open for
      // 8 s, until 19.5 s, and the retries are spent
      expect(first._tag).toBe("OverloadedError")
      expect(yield* arrivals).toEqual([0, 500, 1500, 3500, 7500, 11500])
      expect(yield* TestClock.currentTimeMillis).toBe(11500)

      const second = yield* failureOf(create)
      expect(second._tag).toBe("CircuitOpenError")
      expect(second).toMatchObject({ state: "Open", openedAt: 11500, halfOpenAt: 19500 })
      expect(yield* arrivals).toEqual([0, 500, 1500, 3500, 7500, 11500])
      expect(yield* TestClock.currentTimeMillis).toBe(11500)
      // the breaker the test provided is the one the client used
      const state = yield* CircuitBreaker.state
      expect(state).toMatchObject({ _tag: "Open", openedAt: 11500 })
    }).pipe(withClaude({ script: storm, resilience: { breaker: { minimumCalls: 4, failureRateThreshold: 0.5 } } })))

  it.effect("one breaker serves every client: a second client is refused too, without a request", () =>
    Effect.gen(function*() {
      yield* failureOf(create)
      const emulator = yield* Emulator.Emulator
      const other = yield* Claude.make({ apiKey: Redacted.make(Emulator.testApiKey), baseUrl: emulator.url }).pipe(
        Effect.provide(NodeHttpClient.layer)
      )
      const error = yield* failureOf(other.messages.countTokens({ model: params.model, messages: params.messages }))
      expect(error).toBeInstanceOf(CircuitBreaker.CircuitOpenError)
      const { exit } = yield* consume(other.messages.stream(params))
      expect(oneFailure(exit)).toBeInstanceOf(CircuitBreaker.CircuitOpenError)
      // the first call's 4 attempts and its 2 failed probes (see above)
      expect(yield* emulator.requestCount).toBe(6)
    }).pipe(
      Effect.scoped,
      withClaude({ script: storm, resilience: { breaker: { minimumCalls: 4, failureRateThreshold: 0.5 } } })
    ))

  it.effect("after openDuration it half-opens: a probe is sent, and its success closes it", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* failureOf(create)
      expect(yield* CircuitBreaker.state).toMatchObject({ _tag: "Open", halfOpenAt: 13500 })
      yield* emulator.setScript(Emulator.healthy)
      yield* TestClock.setTime(13499)
      expect(yield* failureOf(create)).toBeInstanceOf(CircuitBreaker.CircuitOpenError)
      yield* TestClock.setTime(13500)
      const message = yield* runVirtual(create)
      expect(message.type).toBe("message")
      expect(yield* arrivals).toEqual([0, 500, 1500, 3500, 13500])
      expect((yield* CircuitBreaker.state)._tag).toBe("Closed")
    }).pipe(withClaude({
      script: storm,
      resilience: { breaker: { minimumCalls: 4, failureRateThreshold: 0.5, openDuration: "10 seconds", halfOpenProbes: 1 } }
    })))

  it.effect("a mid-stream overload (status 200 error event after emission) counts as a breaker failure", () =>
    Effect.gen(function*() {
      const { exit, received } = yield* consume(stream)
      expect(oneFailure(exit)._tag).toBe("OverloadedError")
      expect(received).toHaveLength(4)
      // one call, one failure: open
      expect(yield* CircuitBreaker.state).toMatchObject({ _tag: "Open", openedAt: 0 })
      expect(yield* failureOf(create)).toBeInstanceOf(CircuitBreaker.CircuitOpenError)
      expect(yield* arrivals).toEqual([0])
    }).pipe(withClaude({
      script: () => Reply.StreamError({ afterEvents: 4, type: "overloaded_error" }),
      resilience: { breaker: { minimumCalls: 1, failureRateThreshold: 1 } }
    })))

  it.effect("a stream that ends well counts as a success; one retried before emission counts each attempt", () =>
    Effect.gen(function*() {
      const { exit, received } = yield* consume(stream)
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(types(received)).toEqual(textStreamTypes(3))
      expect(CircuitBreaker.windowCounts(yield* CircuitBreaker.state)).toEqual({ calls: 2, failures: 1 })
      expect(yield* arrivals).toEqual([0, 500])
    }).pipe(withClaude({
      script: Emulator.sequence([Reply.StreamError({ afterEvents: 0, type: "overloaded_error" })]),
      resilience: { breaker: { minimumCalls: 3 } }
    })))

  it.effect("4xx and 429 count as calls, not failures: the breaker stays closed", () =>
    Effect.gen(function*() {
      for (let i = 0; i < 3; i++) yield* failureOf(create)
      expect(CircuitBreaker.windowCounts(yield* CircuitBreaker.state)).toEqual({ calls: 4, failures: 0 })
      expect(yield* Effect.flatMap(Emulator.Emulator, (e) => e.requestCount)).toBe(4)
    }).pipe(withClaude({
      script: Emulator.sequence([
        Reply.Error({ status: 400 }),
        Reply.Error({ status: 404 }),
        Reply.Error({ status: 429 }),
        Reply.Error({ status: 401 })
      ]),
      client: { retry: { maxRetries: 1 } },
      resilience: { breaker: { minimumCalls: 1, failureRateThreshold: 0.01 } }
    })))
})

describe("Claude e2e: the default breaker of Resilience.layer()", () => {
  it.effect("with no breaker options, the default one (10 calls, 30 %) opens during the second storm", () =>
    Effect.gen(function*() {
      const first = yield* failureOf(create)
      expect(first._tag).toBe("OverloadedError")
      expect(yield* arrivals).toEqual([0, 500, 1500, 3500, 7500, 11500])
      const second = yield* failureOf(create)
      // calls 7 to 10 fail; at the 10th (15 s) it opens for 2 s: the retries
      // due at 19 s and 23 s are probes that fail (open for 4 s, until 23 s,
      // then for 8 s, until 31 s), and the retries are spent
      expect(second._tag).toBe("OverloadedError")
      expect(yield* arrivals).toEqual([0, 500, 1500, 3500, 7500, 11500, 11500, 12000, 13000, 15000, 19000, 23000])
      expect(yield* TestClock.currentTimeMillis).toBe(23000)
      const third = yield* failureOf(create)
      expect(third._tag).toBe("CircuitOpenError")
      expect(third).toMatchObject({ openedAt: 23000, halfOpenAt: 31000 })
      expect(yield* Effect.flatMap(Emulator.Emulator, (e) => e.requestCount)).toBe(12)
    }).pipe(withClaude({ script: storm })))

  it.effect("the breaker options given to Resilience.layer shape the breaker the client uses", () =>
    Effect.gen(function*() {
      const error = yield* failureOf(create)
      // two failed calls open it at 0.5 s; the retry due at 1.5 s is not taken
      expect(error._tag).toBe("OverloadedError")
      expect(yield* arrivals).toEqual([0, 500])
      expect(yield* TestClock.currentTimeMillis).toBe(500)
      expect((yield* failureOf(create))._tag).toBe("CircuitOpenError")
      expect(yield* arrivals).toEqual([0, 500])
    }).pipe(withClaude({ script: storm, resilience: { breaker: { minimumCalls: 2 } } })))
})

describe("Claude e2e: a shared RetryBudget", () => {
  it.effect("percent 1, no reserve: each call earns exactly one retry", () =>
    Effect.gen(function*() {
      const first = yield* failureOf(create)
      const second = yield* failureOf(create)
      expect(first._tag).toBe("OverloadedError")
      expect(second._tag).toBe("OverloadedError")
      expect(yield* arrivals).toEqual([0, 500, 500, 1000])
      const balance = yield* Effect.flatMap(RetryBudget.RetryBudget, (budget) => budget.balance)
      expect(balance.total).toBe(0)
    }).pipe(withClaude({ script: storm, resilience: { budget: { percent: 1, minRetriesPerSecond: 0 } } })))

  it.effect("an empty budget (percent 0, no reserve) allows no retry: 1 request per call", () =>
    Effect.gen(function*() {
      expect((yield* failureOf(create))._tag).toBe("OverloadedError")
      expect((yield* failureOf(create))._tag).toBe("OverloadedError")
      expect(yield* arrivals).toEqual([0, 0])
    }).pipe(withClaude({ script: storm, resilience: { budget: { percent: 0, minRetriesPerSecond: 0 } } })))

  it.effect("the budget bounds the retries of a stream too", () =>
    Effect.gen(function*() {
      const { exit, received } = yield* consume(stream)
      expect(oneFailure(exit)._tag).toBe("OverloadedError")
      expect(received).toHaveLength(0)
      expect(yield* arrivals).toEqual([0, 500])
    }).pipe(withClaude({
      script: () => Reply.StreamError({ afterEvents: 0, type: "overloaded_error" }),
      resilience: { budget: { percent: 1, minRetriesPerSecond: 0 } }
    })))

  it.effect("with the default budget (a reserve to start with) the same storm takes every retry the policy allows", () =>
    Effect.gen(function*() {
      yield* failureOf(create)
      expect(yield* arrivals).toEqual([0, 500, 1500, 3500, 7500, 11500])
    }).pipe(withClaude({ script: storm })))
})

describe("Claude e2e: breaker admission and interruption", () => {
  // a half-open breaker with one probe slot, behind a store that takes 10 ms
  // (virtual) per update, as a shared store over the network would
  const slowHalfOpen = Layer.unwrapEffect(
    Effect.gen(function*() {
      const memory = yield* CircuitBreaker.makeMemoryStore(
        CircuitBreaker.State.HalfOpen({ generation: 1, openedAt: 0, halfOpenAt: 0, inFlight: 0, succeeded: 0 })
      )
      const slow: CircuitBreaker.Store = {
        get: memory.get,
        modify: (f) => Effect.zipRight(Effect.sleep("10 millis"), memory.modify(f))
      }
      return Emulator.layerClaude({ resilience: { breaker: { halfOpenProbes: 1, store: slow } } })
    })
  )

  it.effect("a stream interrupted while the breaker admits it frees its probe slot: the next call is sent", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const fiber = yield* Effect.fork(Stream.runDrain(claude.messages.stream(params)))
      yield* Effect.yieldNow()
      yield* Effect.yieldNow()
      // interrupt while the store is still updating (admission in flight)
      const interrupter = yield* Effect.fork(Fiber.interrupt(fiber))
      yield* Effect.yieldNow()
      // the admission ends, then the interruption records the slot's release
      // (another 10 ms update); let the clock run until both are done
      yield* runVirtual(Fiber.join(interrupter))
      const state = yield* runVirtual(CircuitBreaker.state)
      expect(state._tag === "HalfOpen" && state.inFlight).toBe(0)
      const exit = yield* Effect.exit(runVirtual(create))
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(yield* Effect.flatMap(Emulator.Emulator, (e) => e.requestCount)).toBe(1)
    }).pipe(Effect.provide(slowHalfOpen), Effect.withRandom(Random.fixed([0.5]))))
})
