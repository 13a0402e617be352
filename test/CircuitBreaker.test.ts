import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FastCheck from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Queue from "effect/Queue"
import * as Ref from "effect/Ref"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { ApiError, CircuitBreaker } from "../src/index.js"
import { canonicalBody } from "../src/internal/statusTable.js"

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

const apiError = (status: number, body = canonicalBody(status)) =>
  ApiError.fromResponse({ status, body, headers: {}, now: 0 })

const overloaded = apiError(529)
const rateLimited = apiError(429)
const badRequest = apiError(400)

/** A stand-in for the upstream: counts how often it is really called. */
const makeUpstream = Effect.gen(function*() {
  const calls = yield* Ref.make(0)
  const call = <A, E>(outcome: Effect.Effect<A, E>) => Effect.zipRight(Ref.update(calls, (n) => n + 1), outcome)
  return { calls: Ref.get(calls), call }
})

const ok = Effect.succeed("ok")
const fail = <E>(error: E) => Effect.fail(error)

const expectOpenError = <A, E>(exit: Exit.Exit<A, E>): CircuitBreaker.CircuitOpenError => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure, got a success")
  const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  if (!CircuitBreaker.isCircuitOpenError(error)) throw new Error(`expected CircuitOpenError, got ${String(exit.cause)}`)
  return error
}

/** Runs `n` calls ending in `outcome` through `breaker`, all at the current instant. */
const runCalls = <A, E>(breaker: CircuitBreaker.Service, n: number, outcome: Effect.Effect<A, E>) =>
  Effect.forEach(Array.from({ length: n }), () => Effect.exit(breaker.protect(outcome)), { discard: true })

/** Opens a default breaker at the current instant with 10 overloaded calls. */
const openNow = (breaker: CircuitBreaker.Service) => runCalls(breaker, 10, fail(overloaded))

const expectTag = (state: CircuitBreaker.State, tag: CircuitBreaker.State["_tag"]) => expect(state._tag).toBe(tag)

const settings = (options?: CircuitBreaker.Options) => Either.getOrThrow(CircuitBreaker.settings(options))

// ---------------------------------------------------------------------------
// opening
// ---------------------------------------------------------------------------

describe("CircuitBreaker: opening", () => {
  it.scoped("7 successes then 3 failures, one per second: opens at exactly the 10th call", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make()
      const outcomes = [...Array(7).fill(ok), ...Array(3).fill(fail(overloaded))] as Array<
        Effect.Effect<string, ApiError.ApiError>
      >
      for (const [i, outcome] of outcomes.entries()) {
        yield* Effect.exit(breaker.protect(outcome))
        const state = yield* breaker.state
        if (i < 9) {
          expectTag(state, "Closed")
          expect(CircuitBreaker.windowCounts(state)).toEqual({ calls: i + 1, failures: Math.max(0, i - 6) })
          yield* TestClock.adjust("1 second")
        } else {
          expect(state).toEqual(CircuitBreaker.State.Open({ generation: 1, openedAt: 9_000, halfOpenAt: 11_000 }))
        }
      }
    }))

  it.scoped("9 failures do not open (fewer than minimumCalls); the 10th call opens even as a success", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make()
      yield* runCalls(breaker, 9, fail(overloaded))
      const nine = yield* breaker.state
      expectTag(nine, "Closed")
      expect(CircuitBreaker.windowCounts(nine)).toEqual({ calls: 9, failures: 9 })
      yield* TestClock.adjust(250)
      yield* breaker.protect(ok)
      expect(yield* breaker.state).toEqual(
        CircuitBreaker.State.Open({ generation: 1, openedAt: 250, halfOpenAt: 2_250 })
      )
    }))

  it.scoped("2 failures in 10 calls (20 %) stay closed; the 3rd failure in 11 calls (27 %) too; 4 in 12 opens", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make()
      yield* runCalls(breaker, 8, ok)
      yield* runCalls(breaker, 2, fail(overloaded))
      expectTag(yield* breaker.state, "Closed")
      yield* runCalls(breaker, 1, fail(overloaded))
      expectTag(yield* breaker.state, "Closed")
      expect(CircuitBreaker.windowCounts(yield* breaker.state)).toEqual({ calls: 11, failures: 3 })
      yield* runCalls(breaker, 1, fail(overloaded))
      expectTag(yield* breaker.state, "Open")
    }))

  it.scoped("an outcome is still in the window at 29.999 s: the 10th call opens the breaker", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make()
      yield* runCalls(breaker, 3, fail(overloaded))
      yield* runCalls(breaker, 4, ok)
      yield* TestClock.adjust(29_999)
      yield* runCalls(breaker, 2, ok)
      expect(CircuitBreaker.windowCounts(yield* breaker.state)).toEqual({ calls: 9, failures: 3 })
      yield* runCalls(breaker, 1, ok)
      expect(yield* breaker.state).toEqual(
        CircuitBreaker.State.Open({ generation: 1, openedAt: 29_999, halfOpenAt: 31_999 })
      )
    }))

  it.scoped("outcomes leave the window at exactly 30 s", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make()
      yield* runCalls(breaker, 3, fail(overloaded))
      yield* runCalls(breaker, 4, ok)
      yield* TestClock.adjust(30_000)
      expect(yield* breaker.state).toEqual(
        CircuitBreaker.State.Closed({ generation: 0, window: CircuitBreaker.emptyWindow })
      )
      yield* runCalls(breaker, 3, ok)
      expect(yield* breaker.state).toEqual(
        CircuitBreaker.State.Closed({
          generation: 0,
          window: { previous: [], current: { index: 30, calls: 3, failures: 0 }, calls: 3, failures: 0 }
        })
      )
    }))

  it.scoped("429, 4xx and a non-ApiError failure count as calls, not failures", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make()
      yield* runCalls(breaker, 3, fail(overloaded))
      yield* runCalls(breaker, 4, fail(rateLimited))
      yield* runCalls(breaker, 1, fail(badRequest))
      expect(CircuitBreaker.windowCounts(yield* breaker.state)).toEqual({ calls: 8, failures: 3 })
      // a defect counts as nothing
      yield* runCalls(breaker, 3, Effect.die("boom"))
      expect(CircuitBreaker.windowCounts(yield* breaker.state)).toEqual({ calls: 8, failures: 3 })
      expectTag(yield* breaker.state, "Closed")
      // two failures that are not ApiErrors bring the window to 10 calls: 3 / 10 = 30 %
      yield* runCalls(breaker, 1, fail("not an ApiError"))
      expectTag(yield* breaker.state, "Closed")
      yield* runCalls(breaker, 1, fail("not an ApiError"))
      expectTag(yield* breaker.state, "Open")
    }))

  it.scoped("only 429s and 4xx: any number of calls never opens", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make()
      for (const status of [429, 400, 401, 403, 404, 413, 422]) {
        yield* runCalls(breaker, 5, fail(apiError(status)))
      }
      const state = yield* breaker.state
      expectTag(state, "Closed")
      expect(CircuitBreaker.windowCounts(state)).toEqual({ calls: 35, failures: 0 })
    }))

  it.scoped("every server-side tag counts as a failure, by tag", () =>
    Effect.gen(function*() {
      const transport = ApiError.transportError({
        reason: "Transport",
        method: "POST",
        url: "https://api.anthropic.com/v1/messages",
        detail: "ECONNRESET"
      })
      const errors = [apiError(500), apiError(502), apiError(503), apiError(504), apiError(529), apiError(520), transport]
      expect(errors.map((error) => error._tag)).toEqual([...CircuitBreaker.failureTags])
      const breaker = yield* CircuitBreaker.make({ minimumCalls: 7, failureRateThreshold: 1 })
      for (const error of errors) yield* Effect.exit(breaker.protect(fail(error)))
      expectTag(yield* breaker.state, "Open")
    }))

  it.scoped("a mid-stream overloaded_error on an HTTP 200 counts as a failure", () =>
    Effect.gen(function*() {
      const midStream = apiError(
        200,
        JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } })
      )
      expect(midStream._tag).toBe("OverloadedError")
      expect(midStream.status).toBe(200)
      const breaker = yield* CircuitBreaker.make()
      yield* runCalls(breaker, 7, ok)
      yield* runCalls(breaker, 3, fail(midStream))
      expectTag(yield* breaker.state, "Open")
    }))

  it.scoped("isFailure is an option: counting 429 as a failure opens on 429s", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({
        isFailure: (error) => Predicate.isTagged(error, "RateLimitError")
      })
      yield* runCalls(breaker, 7, fail(overloaded))
      yield* runCalls(breaker, 2, fail(rateLimited))
      expect(CircuitBreaker.windowCounts(yield* breaker.state)).toEqual({ calls: 9, failures: 2 })
      yield* runCalls(breaker, 1, fail(rateLimited))
      expectTag(yield* breaker.state, "Open")
    }))

  it.scoped("a classifier that throws counts the call as a call, and the call still ends with its own error", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({
        isFailure: () => {
          throw new Error("classifier bug")
        }
      })
      const exit = yield* Effect.exit(breaker.protect(fail(overloaded)))
      expect(exit).toEqual(Exit.fail(overloaded))
      expect(CircuitBreaker.windowCounts(yield* breaker.state)).toEqual({ calls: 1, failures: 0 })
    }))

  it.scoped("an interrupted call counts as nothing", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make()
      const started = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(breaker.protect(Effect.zipRight(Deferred.succeed(started, undefined), Effect.never)))
      yield* Deferred.await(started)
      yield* Fiber.interrupt(fiber)
      expect(CircuitBreaker.windowCounts(yield* breaker.state)).toEqual({ calls: 0, failures: 0 })
    }))
})

// ---------------------------------------------------------------------------
// open
// ---------------------------------------------------------------------------

describe("CircuitBreaker: open", () => {
  it.scoped("while open, the wrapped effect is not run and CircuitOpenError carries the instants", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make()
      const upstream = yield* makeUpstream
      yield* TestClock.adjust(5_000)
      yield* runCalls(breaker, 10, upstream.call(fail(overloaded)))
      expect(yield* upstream.calls).toBe(10)
      yield* TestClock.adjust(1_200)
      for (let i = 0; i < 5; i++) {
        const error = expectOpenError(yield* Effect.exit(breaker.protect(upstream.call(ok))))
        expect(error._tag).toBe("CircuitOpenError")
        expect(error.state).toBe("Open")
        expect(error.openedAt).toBe(5_000)
        expect(error.halfOpenAt).toBe(7_000)
        expect(error.message).toContain("1970-01-01T00:00:05.000Z")
        expect(error.message).toContain("1970-01-01T00:00:07.000Z")
        expect(error.message).toContain("not sent")
      }
      expect(yield* upstream.calls).toBe(10)
    }))

  it.scoped("half-opens exactly openDuration after opening: at 1.999 s still open, at 2 s half-open", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make()
      const upstream = yield* makeUpstream
      yield* openNow(breaker)
      yield* TestClock.adjust(1_999)
      expectTag(yield* breaker.state, "Open")
      expectOpenError(yield* Effect.exit(breaker.protect(upstream.call(ok))))
      expect(yield* upstream.calls).toBe(0)
      yield* TestClock.adjust(1)
      expect(yield* breaker.state).toEqual(
        CircuitBreaker.State.HalfOpen({ generation: 2, openedAt: 0, halfOpenAt: 2_000, inFlight: 0, succeeded: 0 })
      )
      yield* breaker.protect(upstream.call(ok))
      expect(yield* upstream.calls).toBe(1)
    }))

  it.scoped("half-opens lazily on the next call, with no read in between", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ openDuration: "10 seconds" })
      const upstream = yield* makeUpstream
      yield* openNow(breaker)
      yield* TestClock.adjust("10 seconds")
      expect(yield* breaker.protect(upstream.call(ok))).toBe("ok")
      expect(yield* upstream.calls).toBe(1)
      expect(yield* breaker.state).toEqual(
        CircuitBreaker.State.HalfOpen({ generation: 2, openedAt: 0, halfOpenAt: 10_000, inFlight: 0, succeeded: 1 })
      )
    }))

  it.scoped("rejections are counted in a metric and the state gauge follows the transitions", () =>
    Effect.gen(function*() {
      const name = "metrics-test"
      const breaker = yield* CircuitBreaker.make({ name })
      const rejections = Metric.tagged(CircuitBreaker.rejectionsCounter, "breaker", name)
      const gauge = Metric.tagged(CircuitBreaker.stateGauge, "breaker", name)
      expect((yield* Metric.value(gauge)).value).toBe(0)
      yield* openNow(breaker)
      expect((yield* Metric.value(gauge)).value).toBe(2)
      yield* runCalls(breaker, 4, ok)
      expect((yield* Metric.value(rejections)).count).toBe(4)
      yield* TestClock.adjust("30 seconds")
      yield* breaker.state
      expect((yield* Metric.value(gauge)).value).toBe(1)
    }))
})

// ---------------------------------------------------------------------------
// half-open
// ---------------------------------------------------------------------------

/** Starts `n` probe calls that wait on `gate`; returns when all are running. */
const startProbes = <E>(
  breaker: CircuitBreaker.Service,
  n: number,
  gate: Deferred.Deferred<string, E>,
  upstream: { readonly call: <A, E>(outcome: Effect.Effect<A, E>) => Effect.Effect<A, E> }
) =>
  Effect.forEach(Array.from({ length: n }), () =>
    Effect.gen(function*() {
      const started = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(
        breaker.protect(upstream.call(Effect.zipRight(Deferred.succeed(started, undefined), Deferred.await(gate))))
      )
      yield* Deferred.await(started)
      return fiber
    }))

describe("CircuitBreaker: half-open", () => {
  it.scoped("3 successful probes close it with a fresh window", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ openDuration: "5 seconds" })
      yield* openNow(breaker)
      yield* TestClock.adjust("5 seconds")
      yield* breaker.protect(ok)
      yield* breaker.protect(ok)
      expect(yield* breaker.state).toEqual(
        CircuitBreaker.State.HalfOpen({ generation: 2, openedAt: 0, halfOpenAt: 5_000, inFlight: 0, succeeded: 2 })
      )
      yield* breaker.protect(ok)
      expect(yield* breaker.state).toEqual(
        CircuitBreaker.State.Closed({ generation: 3, window: CircuitBreaker.emptyWindow })
      )
      // the 10 failures of 5 s ago are no longer counted: 1 failure in 1 call stays below minimumCalls
      yield* runCalls(breaker, 1, fail(overloaded))
      expect(yield* breaker.state).toEqual(
        CircuitBreaker.State.Closed({
          generation: 3,
          window: { previous: [], current: { index: 5, calls: 1, failures: 1 }, calls: 1, failures: 1 }
        })
      )
    }))

  it.scoped("a failed probe reopens it with a new openedAt, for twice the open period that ended", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make()
      const upstream = yield* makeUpstream
      yield* openNow(breaker)
      yield* TestClock.adjust(42_000)
      yield* breaker.protect(upstream.call(ok))
      const exit = yield* Effect.exit(breaker.protect(upstream.call(fail(apiError(503)))))
      expect(exit).toEqual(Exit.fail(apiError(503)))
      expect(yield* breaker.state).toEqual(
        CircuitBreaker.State.Open({ generation: 3, openedAt: 42_000, halfOpenAt: 46_000 })
      )
      const error = expectOpenError(yield* Effect.exit(breaker.protect(upstream.call(ok))))
      expect([error.state, error.openedAt, error.halfOpenAt]).toEqual(["Open", 42_000, 46_000])
      expect(yield* upstream.calls).toBe(2)
    }))

  it.scoped("a 4xx or 429 probe counts as a success", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make()
      yield* openNow(breaker)
      yield* TestClock.adjust("30 seconds")
      yield* Effect.exit(breaker.protect(fail(rateLimited)))
      yield* Effect.exit(breaker.protect(fail(badRequest)))
      yield* Effect.exit(breaker.protect(ok))
      expectTag(yield* breaker.state, "Closed")
    }))

  it.scoped("a 4th concurrent call while 3 probes are in flight fails fast without running", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make()
      const upstream = yield* makeUpstream
      yield* openNow(breaker)
      yield* TestClock.adjust("2 seconds")
      const gate = yield* Deferred.make<string>()
      const probes = yield* startProbes(breaker, 3, gate, upstream)
      expect(yield* upstream.calls).toBe(3)
      const error = expectOpenError(yield* Effect.exit(breaker.protect(upstream.call(ok))))
      expect([error.state, error.openedAt, error.halfOpenAt]).toEqual(["HalfOpen", 0, 2_000])
      expect(error.message).toContain("probe")
      expect(yield* upstream.calls).toBe(3)
      yield* Deferred.succeed(gate, "ok")
      expect(yield* Fiber.join(Fiber.all(probes))).toEqual(["ok", "ok", "ok"])
      expectTag(yield* breaker.state, "Closed")
    }))

  it.scoped("an interrupted probe releases its slot", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make()
      const upstream = yield* makeUpstream
      yield* openNow(breaker)
      yield* TestClock.adjust("2 seconds")
      const gate = yield* Deferred.make<string>()
      const probes = yield* startProbes(breaker, 3, gate, upstream)
      yield* Fiber.interrupt(probes[0]!)
      expect(yield* breaker.state).toEqual(
        CircuitBreaker.State.HalfOpen({ generation: 2, openedAt: 0, halfOpenAt: 2_000, inFlight: 2, succeeded: 0 })
      )
      // the freed slot admits another probe, which runs
      const replacement = yield* startProbes(breaker, 1, gate, upstream)
      expect(yield* upstream.calls).toBe(4)
      expectOpenError(yield* Effect.exit(breaker.protect(upstream.call(ok))))
      yield* Deferred.succeed(gate, "ok")
      yield* Fiber.join(Fiber.all([probes[1]!, probes[2]!, replacement[0]!]))
      expectTag(yield* breaker.state, "Closed")
    }))

  it.scoped("a probe that dies (a defect) frees its slot and does not close the breaker", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make()
      yield* openNow(breaker)
      yield* TestClock.adjust("2 seconds")
      const died = yield* Effect.exit(breaker.protect(Effect.die("bug")))
      expect(Exit.isFailure(died) && Cause.isDie(died.cause)).toBe(true)
      expect(yield* breaker.state).toEqual(
        CircuitBreaker.State.HalfOpen({ generation: 2, openedAt: 0, halfOpenAt: 2_000, inFlight: 0, succeeded: 0 })
      )
    }))

  it.scoped("a slow call admitted while closed neither counts as a probe nor reopens the breaker", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make()
      const gate = yield* Deferred.make<string, ApiError.ApiError>()
      const [slow] = yield* startProbes(breaker, 1, gate, yield* makeUpstream)
      yield* openNow(breaker)
      yield* TestClock.adjust("2 seconds")
      yield* breaker.protect(ok)
      yield* Deferred.fail(gate, overloaded)
      expect(yield* Fiber.await(slow!)).toEqual(Exit.fail(overloaded))
      expect(yield* breaker.state).toEqual(
        CircuitBreaker.State.HalfOpen({ generation: 2, openedAt: 0, halfOpenAt: 2_000, inFlight: 0, succeeded: 1 })
      )
    }))
})

// ---------------------------------------------------------------------------
// observing
// ---------------------------------------------------------------------------

/** Waits until a forked stream consumer is blocked on its subscription. */
const awaitSuspended = <A, E>(fiber: Fiber.RuntimeFiber<A, E>) =>
  Effect.gen(function*() {
    while ((yield* Fiber.status(fiber))._tag !== "Suspended") yield* Effect.yieldNow()
  })

describe("CircuitBreaker: changes", () => {
  it.scoped("transitions come in order, each with its instant", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make()
      const queue = yield* breaker.subscribe
      yield* openNow(breaker) // opens at 0, for 2 s
      yield* TestClock.adjust("45 seconds")
      yield* Effect.exit(breaker.protect(fail(overloaded))) // half-open since 2 s; the probe fails at 45 s
      yield* TestClock.adjust("30 seconds")
      yield* runCalls(breaker, 3, ok) // open for 4 s, so half-open since 49 s; 3 probes close it at 75 s
      const changes = Chunk.toReadonlyArray(yield* Queue.takeAll(queue))
      expect(changes.map(({ at, from, to }) => [from._tag, to._tag, at, to.generation])).toEqual([
        ["Closed", "Open", 0, 1],
        ["Open", "HalfOpen", 2_000, 2],
        ["HalfOpen", "Open", 45_000, 3],
        ["Open", "HalfOpen", 49_000, 4],
        ["HalfOpen", "Closed", 75_000, 5]
      ])
      expect(changes[0]!.to).toEqual(CircuitBreaker.State.Open({ generation: 1, openedAt: 0, halfOpenAt: 2_000 }))
      expect(CircuitBreaker.windowCounts(changes[0]!.from)).toEqual({ calls: 9, failures: 9 })
      expect(changes[2]!.to).toEqual(
        CircuitBreaker.State.Open({ generation: 3, openedAt: 45_000, halfOpenAt: 49_000 })
      )
      expect(changes[4]!.to).toEqual(CircuitBreaker.State.Closed({ generation: 5, window: CircuitBreaker.emptyWindow }))
    }))

  it.scoped("the changes stream emits the same transitions", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ openDuration: "10 seconds", halfOpenProbes: 1 })
      const collected = yield* breaker.changes.pipe(Stream.take(3), Stream.runCollect, Effect.fork)
      yield* awaitSuspended(collected)
      yield* TestClock.adjust(1_500)
      yield* openNow(breaker)
      yield* TestClock.adjust("10 seconds")
      yield* breaker.protect(ok)
      const changes = Chunk.toReadonlyArray(yield* Fiber.join(collected))
      expect(changes.map(({ at, from, to }) => [from._tag, to._tag, at])).toEqual([
        ["Closed", "Open", 1_500],
        ["Open", "HalfOpen", 11_500],
        ["HalfOpen", "Closed", 11_500]
      ])
    }))

  it.scoped("a state read makes a due half-open transition, stamped with halfOpenAt", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ openDuration: "5 seconds" })
      yield* openNow(breaker)
      const queue = yield* breaker.subscribe
      yield* TestClock.adjust("1 minute")
      expect(yield* Queue.size(queue)).toBe(0)
      expectTag(yield* breaker.state, "HalfOpen")
      const changes = Chunk.toReadonlyArray(yield* Queue.takeAll(queue))
      expect(changes.map(({ at, from, to }) => [from._tag, to._tag, at])).toEqual([["Open", "HalfOpen", 5_000]])
    }))

  it.effect("the changes stream ends when the breaker's scope closes", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const breaker = yield* Scope.extend(CircuitBreaker.make(), scope)
      const collected = yield* breaker.changes.pipe(Stream.runCollect, Effect.fork)
      yield* awaitSuspended(collected)
      yield* Scope.close(scope, Exit.void)
      const exit = yield* Fiber.await(collected)
      expect(Exit.isInterrupted(exit) || Exit.isSuccess(exit)).toBe(true)
    }))
})

// ---------------------------------------------------------------------------
// the service
// ---------------------------------------------------------------------------

class ClientA extends Context.Tag("test/ClientA")<ClientA, { readonly call: <A, E>(e: Effect.Effect<A, E>) => Effect.Effect<A, E | CircuitBreaker.CircuitOpenError> }>() {}
class ClientB extends Context.Tag("test/ClientB")<ClientB, { readonly call: <A, E>(e: Effect.Effect<A, E>) => Effect.Effect<A, E | CircuitBreaker.CircuitOpenError> }>() {}

const clientLayer = <I, S>(tag: Context.Tag<I, S>, make: (breaker: CircuitBreaker.Service) => S) =>
  Layer.effect(tag, Effect.map(CircuitBreaker.CircuitBreaker, make))

describe("CircuitBreaker: service and layer", () => {
  it.effect("one layer, two clients: failures seen by one open the breaker for the other", () =>
    Effect.gen(function*() {
      const a = yield* ClientA
      const b = yield* ClientB
      for (let i = 0; i < 10; i++) yield* Effect.exit(a.call(fail(overloaded)))
      const error = expectOpenError(yield* Effect.exit(b.call(ok)))
      expect(error.openedAt).toBe(0)
      expectTag(yield* CircuitBreaker.state, "Open")
    }).pipe(
      Effect.provide(
        Layer.mergeAll(
          clientLayer(ClientA, (breaker) => ({ call: breaker.protect })),
          clientLayer(ClientB, (breaker) => ({ call: breaker.protect }))
        ).pipe(Layer.provideMerge(CircuitBreaker.layer()))
      )
    ))

  it.effect("CircuitBreaker.protect pipes and uses the breaker in the context", () =>
    Effect.gen(function*() {
      const upstream = yield* makeUpstream
      for (let i = 0; i < 3; i++) yield* Effect.exit(upstream.call(fail(overloaded)).pipe(CircuitBreaker.protect))
      const error = expectOpenError(yield* Effect.exit(upstream.call(ok).pipe(CircuitBreaker.protect)))
      expect(error.state).toBe("Open")
      expect(yield* upstream.calls).toBe(3)
    }).pipe(Effect.provide(CircuitBreaker.layer({ minimumCalls: 3, failureRateThreshold: 1 }))))

  it.effect("CircuitBreaker.changes reads the breaker in the context", () =>
    Effect.gen(function*() {
      const collected = yield* CircuitBreaker.changes.pipe(Stream.take(1), Stream.runCollect, Effect.fork)
      yield* awaitSuspended(collected)
      yield* Effect.exit(CircuitBreaker.protect(fail(overloaded)))
      const [change] = Chunk.toReadonlyArray(yield* Fiber.join(collected))
      expect([change?.from._tag, change?.to._tag]).toEqual(["Closed", "Open"])
    }).pipe(Effect.provide(CircuitBreaker.layer({ minimumCalls: 1 }))))

  it.scoped("a store passed in the options holds the state: two breakers on one store act as one", () =>
    Effect.gen(function*() {
      const store = yield* CircuitBreaker.makeMemoryStore()
      const one = yield* CircuitBreaker.make({ store })
      const two = yield* CircuitBreaker.make({ store })
      yield* openNow(one)
      expectTag(yield* store.get, "Open")
      expectOpenError(yield* Effect.exit(two.protect(ok)))
    }))

  it.scoped("the options given are the settings used", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({
        window: "1 minute",
        windowBuckets: 60,
        failureRateThreshold: 0.5,
        minimumCalls: 4,
        openDuration: Duration.seconds(90),
        openDurationFactor: 3,
        maxOpenDuration: "5 minutes",
        halfOpenProbes: 1
      })
      expect(breaker.settings).toEqual({
        ...CircuitBreaker.defaults,
        window: Duration.seconds(60),
        windowBuckets: 60,
        failureRateThreshold: 0.5,
        minimumCalls: 4,
        openDuration: Duration.seconds(90),
        openDurationFactor: 3,
        maxOpenDuration: Duration.minutes(5),
        halfOpenProbes: 1
      })
      yield* runCalls(breaker, 2, ok)
      yield* runCalls(breaker, 2, fail(overloaded))
      expect(yield* breaker.state).toEqual(CircuitBreaker.State.Open({ generation: 1, openedAt: 0, halfOpenAt: 90_000 }))
      yield* TestClock.adjust("90 seconds")
      yield* breaker.protect(ok)
      expectTag(yield* breaker.state, "Closed")
    }))
})

// ---------------------------------------------------------------------------
// the bucketed window
// ---------------------------------------------------------------------------

const countsAt = (breaker: CircuitBreaker.Service, instant: number) =>
  Effect.zipRight(TestClock.setTime(instant), Effect.map(breaker.state, CircuitBreaker.windowCounts))

describe("CircuitBreaker: the bucketed window", () => {
  it.scoped("defaults: the current 1 s bucket and the 29 before it; an outcome at 0.999 s leaves at 30 s, one at 1 s at 31 s", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make()
      yield* TestClock.setTime(999)
      yield* runCalls(breaker, 2, fail(overloaded))
      yield* TestClock.setTime(1_000)
      yield* runCalls(breaker, 3, ok)
      expect(yield* countsAt(breaker, 29_999)).toEqual({ calls: 5, failures: 2 })
      // the bucket [0 s, 1 s) leaves whole: the outcomes at 0.999 s counted for 29.001 s only
      expect(yield* countsAt(breaker, 30_000)).toEqual({ calls: 3, failures: 0 })
      expect(yield* countsAt(breaker, 30_999)).toEqual({ calls: 3, failures: 0 })
      expect(yield* countsAt(breaker, 31_000)).toEqual({ calls: 0, failures: 0 })
      expect(yield* breaker.state).toEqual(CircuitBreaker.State.Closed({ generation: 0, window: CircuitBreaker.emptyWindow }))
    }))

  it.scoped("9 failures at 0.5 s no longer count at 30.4 s: a 10th failure then does not open", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make()
      yield* TestClock.setTime(500)
      yield* runCalls(breaker, 9, fail(overloaded))
      yield* TestClock.setTime(30_400)
      yield* runCalls(breaker, 1, fail(overloaded))
      // 29.9 s after them, the 9 failures have left with their bucket
      expect(yield* breaker.state).toEqual(
        CircuitBreaker.State.Closed({
          generation: 0,
          window: { previous: [], current: { index: 30, calls: 1, failures: 1 }, calls: 1, failures: 1 }
        })
      )
    }))

  it.scoped("a window the buckets do not divide evenly: 10 s in 30 buckets of 333⅓ ms", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ window: "10 seconds" })
      const s = breaker.settings
      expect([333, 334, 666, 667, 10_333, 10_334].map((at) => CircuitBreaker.bucketIndex(at, s))).toEqual([
        0,
        1,
        1,
        2,
        30,
        31
      ])
      yield* TestClock.setTime(333) // bucket 0: [0, 333⅓)
      yield* runCalls(breaker, 1, ok)
      yield* TestClock.setTime(334) // bucket 1: [333⅓, 666⅔)
      yield* runCalls(breaker, 1, fail(overloaded))
      expect(yield* countsAt(breaker, 9_999)).toEqual({ calls: 2, failures: 1 })
      expect(yield* countsAt(breaker, 10_000)).toEqual({ calls: 1, failures: 1 })
      // bucket 1 leaves when bucket 31 begins, at 10 333⅓ ms: still in at 10 333, gone at 10 334
      expect(yield* countsAt(breaker, 10_333)).toEqual({ calls: 1, failures: 1 })
      expect(yield* countsAt(breaker, 10_334)).toEqual({ calls: 0, failures: 0 })
    }))

  it.scoped("one bucket: a tumbling window, emptied at each multiple of its length", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ windowBuckets: 1 })
      yield* TestClock.setTime(29_999)
      yield* runCalls(breaker, 9, fail(overloaded))
      yield* TestClock.setTime(30_000)
      yield* runCalls(breaker, 1, fail(overloaded))
      expect(CircuitBreaker.windowCounts(yield* breaker.state)).toEqual({ calls: 1, failures: 1 })
      yield* runCalls(breaker, 9, fail(overloaded))
      expect(yield* breaker.state).toMatchObject({ _tag: "Open", openedAt: 30_000 })
    }))

  it.scoped("the window keeps one bucket per second that saw a call, with running totals", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make()
      yield* runCalls(breaker, 2, ok)
      yield* TestClock.setTime(1_500)
      yield* runCalls(breaker, 1, fail(overloaded))
      yield* TestClock.setTime(1_700)
      yield* runCalls(breaker, 1, ok)
      yield* TestClock.setTime(3_000)
      yield* runCalls(breaker, 1, ok)
      expect(yield* breaker.state).toEqual(CircuitBreaker.State.Closed({
        generation: 0,
        window: {
          previous: [{ index: 0, calls: 2, failures: 0 }, { index: 1, calls: 2, failures: 1 }],
          current: { index: 3, calls: 1, failures: 0 },
          calls: 5,
          failures: 1
        }
      }))
    }))

  const s = settings()
  const { Event, State } = CircuitBreaker
  const success = Event.Success({ generation: 0 })

  it("recording in the current bucket shares the older buckets: nothing is copied but the bucket that changes", () => {
    let state = CircuitBreaker.initialState
    for (let second = 0; second < 30; second++) state = CircuitBreaker.transition(state, success, second * 1_000, s)
    const before = state as Extract<CircuitBreaker.State, { readonly _tag: "Closed" }>
    expect(before.window.previous).toHaveLength(29)
    const after = CircuitBreaker.transition(before, Event.Failure({ generation: 0 }), 29_500, s)
    if (after._tag !== "Closed") throw new Error("expected Closed")
    expect(after.window.previous).toBe(before.window.previous)
    expect(after.window).toEqual({
      previous: before.window.previous,
      current: { index: 29, calls: 2, failures: 1 },
      calls: 31,
      failures: 1
    })
  })

  it("an outcome at every millisecond for a minute: never more than 30 buckets, totals exact", () => {
    let state = CircuitBreaker.initialState
    for (let at = 0; at < 60_000; at++) {
      state = CircuitBreaker.transition(state, at % 10 === 0 ? Event.Failure({ generation: 0 }) : success, at, s)
      if (state._tag !== "Closed") throw new Error(`opened at ${at}`)
      expect(state.window.previous.length + (state.window.current === undefined ? 0 : 1)).toBeLessThanOrEqual(30)
    }
    // at 59.999 s the window is the seconds 30 to 59: 30 000 outcomes, one in ten a failure
    expect(CircuitBreaker.windowCounts(state)).toEqual({ calls: 30_000, failures: 3_000 })
  })

  it("an outcome stamped before the newest bucket (skewed clocks) counts in the newest bucket", () => {
    let state = CircuitBreaker.transition(CircuitBreaker.initialState, success, 5_000, s)
    state = CircuitBreaker.transition(state, Event.Failure({ generation: 0 }), 3_000, s)
    expect(state).toEqual(State.Closed({
      generation: 0,
      window: { previous: [], current: { index: 5, calls: 2, failures: 1 }, calls: 2, failures: 1 }
    }))
    // and time read from a late clock does not move the window back
    expect(CircuitBreaker.transition(state, Event.Tick(), 1_000, s)).toBe(state)
  })

  it("property: bucketIndex is floor(at × windowBuckets / window), exactly", () => {
    FastCheck.assert(
      FastCheck.property(
        FastCheck.integer({ min: 0, max: 10_000_000_000_000 }),
        FastCheck.integer({ min: 1, max: 365 * 24 * 3_600_000 }),
        FastCheck.integer({ min: 1, max: 1_000 }),
        (at, windowMillis, windowBuckets) => {
          const exact = (BigInt(at) * BigInt(windowBuckets)) / BigInt(windowMillis)
          expect(CircuitBreaker.bucketIndex(at, { ...s, window: Duration.millis(windowMillis), windowBuckets })).toBe(
            Number(exact)
          )
        }
      ),
      { numRuns: 2_000, seed: 20_251_127 }
    )
  })
})

// ---------------------------------------------------------------------------
// the growing open period
// ---------------------------------------------------------------------------

describe("CircuitBreaker: the open period grows with each failed probe round", () => {
  const { Event, State } = CircuitBreaker

  it("defaults: 2 s, then 4, 8, 10, 10 s; closing resets it to 2 s", () => {
    const s = settings()
    let state: CircuitBreaker.State = State.Open({ generation: 1, openedAt: 0, halfOpenAt: 2_000 })
    const periods: Array<number> = []
    for (let round = 0; round < 4; round++) {
      if (state._tag !== "Open") throw new Error("expected Open")
      const at = state.halfOpenAt
      state = CircuitBreaker.transition(state, Event.Request(), at, s)
      state = CircuitBreaker.transition(state, Event.Failure({ generation: state.generation }), at, s)
      if (state._tag !== "Open") throw new Error("expected Open")
      periods.push(state.halfOpenAt - state.openedAt)
    }
    expect(periods).toEqual([4_000, 8_000, 10_000, 10_000])
    // a successful round closes it; the next opening is for 2 s again
    const at = (state as Extract<CircuitBreaker.State, { readonly _tag: "Open" }>).halfOpenAt
    for (let i = 0; i < 3; i++) state = CircuitBreaker.transition(state, Event.Request(), at, s)
    for (let i = 0; i < 3; i++) state = CircuitBreaker.transition(state, Event.Success({ generation: state.generation }), at, s)
    expect(state._tag).toBe("Closed")
    for (let i = 0; i < 10; i++) state = CircuitBreaker.transition(state, Event.Failure({ generation: state.generation }), at, s)
    expect(state).toEqual(State.Open({ generation: state.generation, openedAt: at, halfOpenAt: at + 2_000 }))
  })

  it("nextOpenDuration: times the factor, at least openDuration, at most maxOpenDuration, to the millisecond", () => {
    const s = settings({ openDuration: 1_000, openDurationFactor: 1.5, maxOpenDuration: 5_000 })
    const periods = [1_000]
    for (let i = 0; i < 5; i++) periods.push(CircuitBreaker.nextOpenDuration(periods[periods.length - 1]!, s))
    expect(periods).toEqual([1_000, 1_500, 2_250, 3_375, 5_000, 5_000])
    expect(CircuitBreaker.nextOpenDuration(1_001, settings({ openDuration: 1, openDurationFactor: 1.1 }))).toBe(1_101)
    // a period shorter than openDuration (another process's settings, on a shared store) grows from openDuration
    expect(CircuitBreaker.nextOpenDuration(100, settings())).toBe(2_000)
    // factor 1: a fixed open period, as before growth existed
    expect(CircuitBreaker.nextOpenDuration(30_000, settings({ openDuration: "30 seconds", openDurationFactor: 1 }))).toBe(
      30_000
    )
  })

  // The outage of the issue: the API fails every call until 35 s, then is
  // healthy; the load is 10 calls every 200 ms from 0.2 s (50 calls per
  // second). Counted: the calls the breaker refused from 35 s on, while the
  // API would have answered them.
  const outage = (options: CircuitBreaker.Options) =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make(options)
      const changes = yield* breaker.subscribe
      let refusedWhileHealthy = 0
      for (let at = 200; at <= 65_000; at += 200) {
        yield* TestClock.setTime(at)
        const outcome = at < 35_000 ? fail(overloaded) : ok
        for (let i = 0; i < 10; i++) {
          const exit = yield* Effect.exit(breaker.protect(outcome))
          if (at >= 35_000 && Exit.isFailure(exit)) {
            expectOpenError(exit)
            refusedWhileHealthy++
          }
        }
      }
      const transitions = Chunk.toReadonlyArray(yield* Queue.takeAll(changes))
      return {
        halfOpens: transitions.filter((t) => t.to._tag === "HalfOpen").map((t) => t.at),
        reopens: transitions.filter((t) => t.from._tag === "HalfOpen" && t.to._tag === "Open").map((t) => t.at),
        closes: transitions.filter((t) => t.to._tag === "Closed").map((t) => t.at),
        refusedWhileHealthy
      }
    })

  it.scoped("an outage ending at 35 s: probes at 2.2, 6.2, 14.2, 24.2, 34.2 s, closed at 44.2 s; 460 calls refused after recovery against 1 260", () =>
    Effect.gen(function*() {
      const grown = yield* outage({})
      expect(grown.halfOpens).toEqual([2_200, 6_200, 14_200, 24_200, 34_200, 44_200])
      expect(grown.reopens).toEqual([2_200, 6_200, 14_200, 24_200, 34_200])
      expect(grown.closes).toEqual([44_200])
      // refused from 35 s to 44.2 s: 46 steps of 10 calls
      expect(grown.refusedWhileHealthy).toBe(460)
    }))

  it.scoped("the same outage with the former fixed 30 s open period: probes at 30.2 s fail, closed at 60.2 s, 1 260 refused", () =>
    Effect.gen(function*() {
      const fixed = yield* outage({ openDuration: "30 seconds", openDurationFactor: 1 })
      expect(fixed.halfOpens).toEqual([30_200, 60_200])
      expect(fixed.reopens).toEqual([30_200])
      expect(fixed.closes).toEqual([60_200])
      // refused from 35 s to 60.2 s: 126 steps of 10 calls; the growing
      // period refuses 460 / 1 260 ≈ 0.37 of that (9.2 s held back, not 25.2 s)
      expect(fixed.refusedWhileHealthy).toBe(1_260)
    }))
})

// ---------------------------------------------------------------------------
// concurrency: one atomic update per call, the lock only for transitions
// ---------------------------------------------------------------------------

/** A memory store whose every update first waits: `delay` on the clock, or one yield. */
const delayedStore = (initial: CircuitBreaker.State, delay: Effect.Effect<void>) =>
  Effect.gen(function*() {
    const memory = yield* CircuitBreaker.makeMemoryStore(initial)
    let updates = 0
    const store: CircuitBreaker.Store = {
      get: memory.get,
      modify: (f) => Effect.zipRight(Effect.zipRight(delay, Effect.sync(() => updates++)), memory.modify(f))
    }
    return { store, updates: () => updates }
  })

describe("CircuitBreaker: concurrent calls", () => {
  it.scoped("a closed breaker does not queue calls behind a lock: through a 10 ms store, 10 concurrent calls all start at 10 ms", () =>
    Effect.gen(function*() {
      const { store, updates } = yield* delayedStore(CircuitBreaker.initialState, Effect.sleep("10 millis"))
      const breaker = yield* CircuitBreaker.make({ store })
      const fiber = yield* Effect.fork(
        Effect.forEach(Array.from({ length: 10 }), () => breaker.protect(Clock.currentTimeMillis), {
          concurrency: "unbounded"
        })
      )
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(fiber)).toEqual(Array(10).fill(10))
      // one update to admit each call and one to record it
      expect(updates()).toBe(20)
      expect(CircuitBreaker.windowCounts(yield* store.get)).toEqual({ calls: 10, failures: 0 })
    }))

  it.scoped("2 000 concurrent calls, interleaved at every update: each outcome is recorded once", () =>
    Effect.gen(function*() {
      const { store } = yield* delayedStore(CircuitBreaker.initialState, Effect.yieldNow())
      const breaker = yield* CircuitBreaker.make({ store, minimumCalls: 1_000_000 })
      yield* Effect.forEach(
        Array.from({ length: 2_000 }, (_, i) => i),
        (i) => Effect.exit(breaker.protect(Effect.zipRight(Effect.yieldNow(), i % 4 === 0 ? fail(overloaded) : ok))),
        { concurrency: "unbounded", discard: true }
      )
      expect(CircuitBreaker.windowCounts(yield* breaker.state)).toEqual({ calls: 2_000, failures: 500 })
    }))

  it.scoped("2 000 concurrent failing calls open the breaker once; the late outcomes are ignored", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make()
      const changes = yield* breaker.subscribe
      yield* Effect.forEach(
        Array.from({ length: 2_000 }),
        () => Effect.exit(breaker.protect(Effect.zipRight(Effect.yieldNow(), fail(overloaded)))),
        { concurrency: "unbounded", discard: true }
      )
      const transitions = Chunk.toReadonlyArray(yield* Queue.takeAll(changes))
      expect(transitions.map((t) => [t.from._tag, t.to._tag, t.to.generation])).toEqual([["Closed", "Open", 1]])
      expect(CircuitBreaker.windowCounts(transitions[0]!.from)).toEqual({ calls: 9, failures: 9 })
      expect(yield* breaker.state).toEqual(CircuitBreaker.State.Open({ generation: 1, openedAt: 0, halfOpenAt: 2_000 }))
    }))

  it.scoped("50 calls racing at the instant it half-opens: one transition, 3 probes, 47 refused, then closed, in order", () =>
    Effect.gen(function*() {
      const { store } = yield* delayedStore(
        CircuitBreaker.State.Open({ generation: 1, openedAt: 0, halfOpenAt: 2_000 }),
        Effect.yieldNow()
      )
      const breaker = yield* CircuitBreaker.make({ store })
      const changes = yield* breaker.subscribe
      const upstream = yield* makeUpstream
      const gate = yield* Deferred.make<string>()
      yield* TestClock.setTime(2_000)
      const fibers = yield* Effect.forEach(
        Array.from({ length: 50 }),
        () => Effect.fork(Effect.exit(breaker.protect(upstream.call(Deferred.await(gate))))),
        { concurrency: "unbounded" }
      )
      // wait until every call is decided: refused (its fiber is done) or admitted (it called upstream)
      const decided = Effect.gen(function*() {
        let done = 0
        for (const fiber of fibers) if (Option.isSome(yield* Fiber.poll(fiber))) done++
        return done + (yield* upstream.calls)
      })
      for (let i = 0; i < 100_000 && (yield* decided) < 50; i++) yield* Effect.yieldNow()
      expect(yield* decided).toBe(50)
      expect(yield* upstream.calls).toBe(3)
      expect(yield* breaker.state).toMatchObject({ _tag: "HalfOpen", generation: 2, inFlight: 3, succeeded: 0 })
      yield* Deferred.succeed(gate, "ok")
      const exits = yield* Effect.forEach(fibers, Fiber.join)
      expect(exits.filter(Exit.isSuccess)).toHaveLength(3)
      expect(exits.filter(Exit.isFailure).map((exit) => expectOpenError(exit).state)).toEqual(Array(47).fill("HalfOpen"))
      const transitions = Chunk.toReadonlyArray(yield* Queue.takeAll(changes))
      expect(transitions.map((t) => [t.from._tag, t.to._tag, t.at, t.to.generation])).toEqual([
        ["Open", "HalfOpen", 2_000, 2],
        ["HalfOpen", "Closed", 2_000, 3]
      ])
    }))
})

// ---------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------

describe("CircuitBreaker: options", () => {
  const invalid: ReadonlyArray<readonly [CircuitBreaker.Options, string, string]> = [
    [{ failureRateThreshold: 0 }, "failureRateThreshold", "got 0"],
    [{ failureRateThreshold: 1.01 }, "failureRateThreshold", "got 1.01"],
    [{ failureRateThreshold: -0.3 }, "failureRateThreshold", "got -0.3"],
    [{ failureRateThreshold: Number.NaN }, "failureRateThreshold", "got NaN"],
    [{ minimumCalls: 0 }, "minimumCalls", "got 0"],
    [{ minimumCalls: 2.5 }, "minimumCalls", "got 2.5"],
    [{ halfOpenProbes: 0 }, "halfOpenProbes", "got 0"],
    [{ halfOpenProbes: -3 }, "halfOpenProbes", "got -3"],
    [{ window: 0 }, "window", "got 0"],
    [{ window: -1 }, "window", "got -1"],
    [{ window: "-5 seconds" }, "window", `got "-5 seconds"`],
    [{ window: Duration.infinity }, "window", "got Infinity"],
    [{ openDuration: -1 }, "openDuration", "got -1"],
    [{ openDuration: [-1, 0] }, "openDuration", "got [-1, 0]"],
    [{ openDuration: BigInt(-5) }, "openDuration", "got -5n"],
    [{ openDuration: Number.POSITIVE_INFINITY }, "openDuration", "got Infinity"],
    [{ openDuration: Number.NaN }, "openDuration", "got NaN"]
  ]

  for (const [options, option, got] of invalid) {
    it.effect(`rejects ${JSON.stringify(options, (_, v) => typeof v === "bigint" ? `${v}n` : v)}`, () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(Effect.scoped(CircuitBreaker.make(options)))
        expect(error._tag).toBe("InvalidOptionsError")
        expect(error.module).toBe("CircuitBreaker")
        expect(error.problems.map((problem) => problem.path)).toEqual([option])
        expect(error.problems[0]!.message).toContain(got)
        expect(error.message).toContain(`${option}: `)
        const fromLayer = yield* Effect.flip(Effect.scoped(Layer.build(CircuitBreaker.layer(options))))
        expect(fromLayer).toEqual(error)
      }))
  }

  it.effect("rejects an isFailure that is not a function", () =>
    Effect.gen(function*() {
      const options = { isFailure: "yes" } as unknown as CircuitBreaker.Options
      const error = yield* Effect.flip(Effect.scoped(CircuitBreaker.make(options)))
      expect(error.problems.map((problem) => problem.path)).toEqual(["isFailure"])
    }))

  it("accepts the edges: threshold 1, one call, one probe, no cool-down, a 1 ms window, one bucket, no growth", () => {
    expect(
      CircuitBreaker.settings({
        failureRateThreshold: 1,
        minimumCalls: 1,
        halfOpenProbes: 1,
        openDuration: 0,
        openDurationFactor: 1,
        maxOpenDuration: 0,
        window: 1,
        windowBuckets: 1
      })
    ).toEqual(Either.right({
      ...CircuitBreaker.defaults,
      window: Duration.millis(1),
      windowBuckets: 1,
      failureRateThreshold: 1,
      minimumCalls: 1,
      openDuration: Duration.zero,
      openDurationFactor: 1,
      maxOpenDuration: Duration.zero,
      halfOpenProbes: 1
    }))
    expect(CircuitBreaker.settings({ window: "365 days", windowBuckets: 1000 })).toEqual(
      Either.right({ ...CircuitBreaker.defaults, window: Duration.days(365), windowBuckets: 1000 })
    )
    expect(CircuitBreaker.settings()).toEqual(Either.right(CircuitBreaker.defaults))
    expect(CircuitBreaker.defaults).toEqual({
      window: Duration.seconds(30),
      windowBuckets: 30,
      failureRateThreshold: 0.3,
      minimumCalls: 10,
      openDuration: Duration.seconds(2),
      openDurationFactor: 2,
      maxOpenDuration: Duration.seconds(10),
      halfOpenProbes: 3,
      isFailure: CircuitBreaker.defaults.isFailure,
      name: "default"
    })
    expect(CircuitBreaker.defaults.isFailure(overloaded)).toBe(true)
    expect(CircuitBreaker.defaults.isFailure(apiError(429))).toBe(false)
  })

  it("every problem is listed at once, unknown keys included, and settings are valid options", () => {
    const result = CircuitBreaker.settings({
      failureRateThreshold: 2,
      window: "soon",
      minimumCall: 3
    } as unknown as CircuitBreaker.Options)
    const error = Either.getLeft(result)
    const problems = error._tag === "Some" ? error.value.problems : []
    expect(problems.map((problem) => problem.path).sort()).toEqual(["failureRateThreshold", "minimumCall", "window"])
    expect(problems.find((problem) => problem.path === "minimumCall")?.message).toContain(`did you mean "minimumCalls"?`)
    const tuned = settings({ window: "1 minute", openDuration: "20 seconds" })
    expect(CircuitBreaker.settings(tuned)).toEqual(Either.right(tuned))
  })
})

// ---------------------------------------------------------------------------
// the pure state machine
// ---------------------------------------------------------------------------

describe("CircuitBreaker.transition", () => {
  const { Event, State } = CircuitBreaker
  const s = settings()

  it("opens at the outcome that makes the rate reach the threshold", () => {
    let state = CircuitBreaker.initialState
    for (let i = 0; i < 7; i++) state = CircuitBreaker.transition(state, Event.Success({ generation: 0 }), i, s)
    state = CircuitBreaker.transition(state, Event.Failure({ generation: 0 }), 7, s)
    state = CircuitBreaker.transition(state, Event.Failure({ generation: 0 }), 8, s)
    expectTag(state, "Closed")
    state = CircuitBreaker.transition(state, Event.Failure({ generation: 0 }), 9, s)
    expect(state).toEqual(State.Open({ generation: 1, openedAt: 9, halfOpenAt: 2_009 }))
  })

  it("an open breaker rejects until halfOpenAt, then admits halfOpenProbes probes", () => {
    const open = State.Open({ generation: 1, openedAt: 0, halfOpenAt: 30_000 })
    expect(CircuitBreaker.admission(open, 29_999, s)).toEqual(
      CircuitBreaker.Admission.Reject({ state: "Open", openedAt: 0, halfOpenAt: 30_000 })
    )
    expect(CircuitBreaker.transition(open, Event.Tick(), 29_999, s)).toBe(open)
    let state: CircuitBreaker.State = open
    for (let i = 0; i < 3; i++) {
      expect(CircuitBreaker.admission(state, 30_000, s)).toEqual(
        CircuitBreaker.Admission.Admit({ generation: 2, probe: true })
      )
      state = CircuitBreaker.transition(state, Event.Request(), 30_000, s)
    }
    expect(state).toEqual(State.HalfOpen({ generation: 2, openedAt: 0, halfOpenAt: 30_000, inFlight: 3, succeeded: 0 }))
    expect(CircuitBreaker.admission(state, 30_000, s)._tag).toBe("Reject")
    expect(CircuitBreaker.transition(state, Event.Request(), 30_000, s)).toBe(state)
  })

  it("ignores outcomes from another generation", () => {
    const halfOpen = State.HalfOpen({ generation: 2, openedAt: 0, halfOpenAt: 2_000, inFlight: 1, succeeded: 0 })
    expect(CircuitBreaker.transition(halfOpen, Event.Failure({ generation: 0 }), 31_000, s)).toBe(halfOpen)
    expect(CircuitBreaker.transition(halfOpen, Event.Failure({ generation: 2 }), 31_000, s)).toEqual(
      State.Open({ generation: 3, openedAt: 31_000, halfOpenAt: 35_000 })
    )
  })

  it("step lists a due half-open before the event's own transition", () => {
    const open = State.Open({ generation: 1, openedAt: 0, halfOpenAt: 30_000 })
    const [halfOpen, first] = CircuitBreaker.step(open, Event.Request(), 40_000, s)
    expect(first.map((t) => [t.from._tag, t.to._tag, t.at])).toEqual([["Open", "HalfOpen", 30_000]])
    const [reopened, second] = CircuitBreaker.step(halfOpen, Event.Failure({ generation: 2 }), 41_000, s)
    expect(second).toEqual([{ from: halfOpen, to: reopened, at: 41_000 }])
  })

  type Action =
    | { readonly kind: "advance"; readonly millis: number }
    | { readonly kind: "tick" }
    | { readonly kind: "request" }
    | { readonly kind: "end"; readonly index: number; readonly outcome: "success" | "failure" | "cancel" }

  const actionArb: FastCheck.Arbitrary<Action> = FastCheck.oneof(
    {
      arbitrary: FastCheck.record({
        kind: FastCheck.constant("advance" as const),
        millis: FastCheck.integer({ min: 0, max: 1_000 })
      }),
      weight: 3
    },
    {
      arbitrary: FastCheck.record({
        kind: FastCheck.constant("advance" as const),
        millis: FastCheck.integer({ min: 0, max: 70_000 })
      }),
      weight: 1
    },
    { arbitrary: FastCheck.constant({ kind: "tick" as const }), weight: 1 },
    { arbitrary: FastCheck.constant({ kind: "request" as const }), weight: 5 },
    {
      arbitrary: FastCheck.record({
        kind: FastCheck.constant("end" as const),
        index: FastCheck.nat(50),
        outcome: FastCheck.constantFrom("success" as const, "failure" as const, "cancel" as const)
      }),
      weight: 6
    }
  )

  // settings, with their durations also in milliseconds for the model below
  interface Model extends CircuitBreaker.Settings {
    readonly windowMillis: number
    readonly openDurationMillis: number
    readonly maxOpenDurationMillis: number
  }

  const settingsArb: FastCheck.Arbitrary<Model> = FastCheck.record({
    windowMillis: FastCheck.oneof(FastCheck.constant(30_000), FastCheck.integer({ min: 1, max: 60_000 })),
    windowBuckets: FastCheck.oneof(FastCheck.constantFrom(1, 30), FastCheck.integer({ min: 1, max: 100 })),
    failureRateThreshold: FastCheck.oneof(
      FastCheck.constantFrom(0.1, 0.3, 0.5, 1),
      FastCheck.double({ min: 0.01, max: 1, noNaN: true })
    ),
    minimumCalls: FastCheck.integer({ min: 1, max: 12 }),
    openDurationMillis: FastCheck.integer({ min: 0, max: 20_000 }),
    openDurationFactor: FastCheck.constantFrom(1, 1.5, 2, 3),
    maxOpenDurationMillis: FastCheck.integer({ min: 0, max: 60_000 }),
    halfOpenProbes: FastCheck.integer({ min: 1, max: 5 })
  }).map((settings) => {
    const maxOpenDurationMillis = Math.max(settings.openDurationMillis, settings.maxOpenDurationMillis)
    return {
      ...CircuitBreaker.defaults,
      ...settings,
      maxOpenDurationMillis,
      window: Duration.millis(settings.windowMillis),
      openDuration: Duration.millis(settings.openDurationMillis),
      maxOpenDuration: Duration.millis(maxOpenDurationMillis)
    }
  })

  // the model's window: the bucket of an instant, and the open period after
  // `rounds` failed probe rounds in a row
  const bucketOf = (at: number, settings: Model) =>
    Math.floor((at * settings.windowBuckets) / settings.windowMillis)
  const openPeriod = (rounds: number, settings: Model) => {
    let period = settings.openDurationMillis
    for (let i = 0; i < rounds; i++) {
      period = Math.min(settings.maxOpenDurationMillis, Math.round(period * settings.openDurationFactor))
    }
    return period
  }

  it("property: over random event sequences the breaker keeps its invariants", () => {
    const tags = new Set(["Closed", "Open", "HalfOpen"])
    let opened = 0
    let closedAgain = 0
    let grewThrice = 0
    FastCheck.assert(
      FastCheck.property(settingsArb, FastCheck.array(actionArb, { minLength: 20, maxLength: 300, size: "max" }), (settings, actions) => {
        let state = CircuitBreaker.initialState
        let now = 0
        const outstanding: Array<{ readonly generation: number; readonly probe: boolean }> = []
        // every outcome recorded, as the model of the window
        const outcomes: Array<{ readonly at: number; readonly failure: boolean; readonly generation: number }> = []
        // probes admitted, cancelled and succeeded per half-open generation
        const probes = new Map<number, { admitted: number; cancelled: number; succeeded: number }>()
        // failed probe rounds since the breaker last closed
        let failedRounds = 0
        const probeCount = (generation: number) => {
          const entry = probes.get(generation) ?? { admitted: 0, cancelled: 0, succeeded: 0 }
          probes.set(generation, entry)
          return entry
        }
        for (const action of actions) {
          if (action.kind === "advance") {
            now += action.millis
            continue
          }
          const before = state
          const ticked = CircuitBreaker.transition(before, Event.Tick(), now, settings)
          // time alone: half-open exactly when due, stamped with halfOpenAt
          if (before._tag === "Open") {
            expect(ticked._tag).toBe(now >= before.halfOpenAt ? "HalfOpen" : "Open")
          } else {
            expect(ticked._tag).toBe(before._tag)
          }
          let event: CircuitBreaker.Event = Event.Tick()
          let ticket: { readonly generation: number; readonly probe: boolean } | undefined
          if (action.kind === "request") {
            event = Event.Request()
            const decision = CircuitBreaker.admission(before, now, settings)
            if (decision._tag === "Admit") {
              expect(ticked._tag).not.toBe("Open")
              expect(decision.generation).toBe(ticked.generation)
              expect(decision.probe).toBe(ticked._tag === "HalfOpen")
              outstanding.push(decision)
              if (decision.probe) probeCount(decision.generation).admitted++
            } else {
              expect(ticked._tag).not.toBe("Closed")
            }
          } else if (action.kind === "end") {
            if (outstanding.length === 0) continue
            ticket = outstanding.splice(action.index % outstanding.length, 1)[0]!
            event = action.outcome === "success"
              ? Event.Success({ generation: ticket.generation })
              : action.outcome === "failure"
              ? Event.Failure({ generation: ticket.generation })
              : Event.Cancel({ generation: ticket.generation })
            if (action.outcome !== "cancel") {
              outcomes.push({ at: now, failure: action.outcome === "failure", generation: ticket.generation })
            }
          }
          const [next, transitions] = CircuitBreaker.step(before, event, now, settings)
          expect(CircuitBreaker.transition(before, event, now, settings)).toEqual(next)
          expect(tags.has(next._tag)).toBe(true)
          for (const change of transitions) expect(change.to.generation).toBe(change.from.generation + 1)

          const current = ticket !== undefined && ticket.generation === ticked.generation
          if (ticked._tag === "Closed") {
            // the model: the outcomes of this closed period in the current
            // bucket and the windowBuckets - 1 before it
            const live = outcomes.filter((o) =>
              o.generation === ticked.generation &&
              bucketOf(o.at, settings) > bucketOf(now, settings) - settings.windowBuckets
            )
            const failures = live.filter((o) => o.failure).length
            const shouldOpen = current && action.kind === "end" && action.outcome !== "cancel" &&
              live.length >= settings.minimumCalls && failures / live.length >= settings.failureRateThreshold
            if (shouldOpen) {
              opened++
              failedRounds = 0
              expect(next).toEqual(
                State.Open({ generation: ticked.generation + 1, openedAt: now, halfOpenAt: now + settings.openDurationMillis })
              )
            } else {
              expect(next._tag).toBe("Closed")
              expect(CircuitBreaker.windowCounts(next)).toEqual({ calls: live.length, failures })
            }
          }
          if (ticked._tag === "Open") expect(next).toBe(ticked)
          if (ticked._tag === "HalfOpen" && current && action.kind === "end") {
            const count = probeCount(ticked.generation)
            if (action.outcome === "cancel") count.cancelled++
            if (action.outcome === "success") count.succeeded++
            if (action.outcome === "failure") {
              failedRounds++
              if (failedRounds >= 3) grewThrice++
              expect(next).toEqual(
                State.Open({
                  generation: ticked.generation + 1,
                  openedAt: now,
                  halfOpenAt: now + openPeriod(failedRounds, settings)
                })
              )
            } else if (count.succeeded === settings.halfOpenProbes) {
              closedAgain++
              expect(next).toEqual(State.Closed({ generation: ticked.generation + 1, window: CircuitBreaker.emptyWindow }))
            } else {
              expect(next._tag).toBe("HalfOpen")
            }
          }
          if (ticked._tag === "HalfOpen" && !(current && action.kind === "end")) {
            expect(next._tag).toBe("HalfOpen")
          }
          if (next._tag === "HalfOpen") {
            const count = probeCount(next.generation)
            // never more than halfOpenProbes probes running or succeeded
            expect(count.admitted - count.cancelled).toBeLessThanOrEqual(settings.halfOpenProbes)
            if (count.cancelled === 0) expect(count.admitted).toBeLessThanOrEqual(settings.halfOpenProbes)
            expect(next.inFlight + next.succeeded).toBe(count.admitted - count.cancelled)
          }
          state = next
        }
      }),
      { numRuns: 300, seed: 20_241_104 }
    )
    // the runs did reach the interesting states
    expect(opened).toBeGreaterThan(100)
    expect(closedAgain).toBeGreaterThan(50)
    expect(grewThrice).toBeGreaterThan(20)
  })
})

// ---------------------------------------------------------------------------
// permit: admission without one wrapping effect (streams)
// ---------------------------------------------------------------------------

describe("CircuitBreaker: permit", () => {
  it.scoped("a completed permit records its outcome like protect, and an open breaker refuses one", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ minimumCalls: 3 })
      for (let i = 0; i < 2; i++) {
        const permit = yield* breaker.permit
        yield* permit.complete(Exit.fail(overloaded))
      }
      expect(CircuitBreaker.windowCounts(yield* breaker.state)).toEqual({ calls: 2, failures: 2 })
      const third = yield* breaker.permit
      expectTag(yield* breaker.state, "Closed")
      yield* third.complete(Exit.fail(overloaded))
      expectTag(yield* breaker.state, "Open")
      const refused = expectOpenError(yield* Effect.exit(breaker.permit))
      expect(refused.state).toBe("Open")
    }))

  it.scoped("an interrupted permit counts as nothing", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make()
      const permit = yield* breaker.permit
      yield* permit.complete(Exit.interrupt(FiberId.none))
      expect(CircuitBreaker.windowCounts(yield* breaker.state)).toEqual({ calls: 0, failures: 0 })
    }))
})

// ---------------------------------------------------------------------------
// admitsAt: the breaker's own answer to "would you admit a call at t?"
// ---------------------------------------------------------------------------

describe("CircuitBreaker: admitsAt", () => {
  it.scoped("closed: yes, at any instant", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make()
      expect(yield* breaker.admitsAt(0)).toBe(true)
      expect(yield* breaker.admitsAt(1_000_000)).toBe(true)
    }))

  it.scoped("open: no before halfOpenAt, yes from it on; asking writes nothing and makes no transition", () =>
    Effect.gen(function*() {
      const store = yield* CircuitBreaker.makeMemoryStore()
      const breaker = yield* CircuitBreaker.make({ store })
      const transitions = yield* breaker.subscribe
      yield* openNow(breaker)
      expect(yield* Queue.takeAll(transitions)).toHaveLength(1)
      const open = yield* store.get
      expect(open).toEqual(CircuitBreaker.State.Open({ generation: 1, openedAt: 0, halfOpenAt: 2_000 }))
      expect(yield* breaker.admitsAt(0)).toBe(false)
      expect(yield* breaker.admitsAt(1_999)).toBe(false)
      expect(yield* breaker.admitsAt(2_000)).toBe(true)
      // the open period is over: a call now would be the first probe, yet
      // asking neither half-opens the breaker nor takes the probe's slot
      yield* TestClock.setTime(2_500)
      expect(yield* breaker.admitsAt(2_500)).toBe(true)
      expect(yield* store.get).toBe(open)
      expect(yield* Queue.takeAll(transitions)).toHaveLength(0)
    }))

  it.scoped("half-open with every probe slot taken: no for now, yes for a later instant (the probes may have ended)", () =>
    Effect.gen(function*() {
      const store = yield* CircuitBreaker.makeMemoryStore()
      const breaker = yield* CircuitBreaker.make({ store, halfOpenProbes: 1 })
      yield* openNow(breaker)
      yield* TestClock.setTime(2_000)
      expect(yield* breaker.admitsAt(2_000)).toBe(true)
      const probe = yield* breaker.permit
      const halfOpen = yield* store.get
      expect(halfOpen._tag === "HalfOpen" && halfOpen.inFlight).toBe(1)
      expect(yield* breaker.admitsAt(2_000)).toBe(false)
      // an instant already past is judged as now
      expect(yield* breaker.admitsAt(1_000)).toBe(false)
      expect(yield* breaker.admitsAt(2_001)).toBe(true)
      expect(yield* store.get).toBe(halfOpen)
      yield* probe.complete(Exit.void)
      expectTag(yield* breaker.state, "Closed")
    }))
})
