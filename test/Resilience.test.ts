import { describe, expect, it } from "@effect/vitest"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Ref from "effect/Ref"
import * as TestClock from "effect/TestClock"
import { ApiError, CircuitBreaker, Options, Resilience, RetryBudget, RetryPolicy } from "../src/index.js"
import { canonicalBody } from "../src/internal/statusTable.js"
import { failureOf, response, runTimed, scripted as scriptedCall } from "./support/retries.js"

const policy = (options: RetryPolicy.Options) => Either.getOrThrow(RetryPolicy.make(options))

/** A breaker that admits everything: the tests of the budget alone. */
const closedBreaker = CircuitBreaker.layer({ minimumCalls: 1_000_000 })

const error = (status: number) => ApiError.fromResponse({ status, body: canonicalBody(status), now: 0 })

/** An upstream that answers from a script and records the virtual instant of each call. */
const scripted = (outcomes: ReadonlyArray<number>) =>
  Effect.gen(function*() {
    const calls = yield* Ref.make<ReadonlyArray<number>>([])
    const call = Effect.gen(function*() {
      const now = yield* TestClock.currentTimeMillis
      const n = (yield* Ref.updateAndGet(calls, (c) => [...c, now])).length
      const status = outcomes[n - 1] ?? 200
      return status === 200 ? "ok" : yield* Effect.fail(error(status))
    })
    return { call, calls: Ref.get(calls) }
  })

/** Runs `effect` to its end, moving the TestClock one second at a time. */
const drive = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    for (let i = 0; i < 120; i++) {
      yield* TestClock.adjust("100 millis")
    }
    return yield* Fiber.await(fiber)
  })

describe("RetryBudget.tryWithdrawFor", () => {
  it.effect("a retry is paid by the reserve it will have earned when it is sent", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.make()
      // the reserve starts full: spend it
      let spent = 0
      while (yield* budget.tryWithdraw) spent++
      expect(spent).toBe(100)
      // at t = 0 the reserve is empty: a retry sent now is refused, one sent after 100 ms is not
      expect(yield* budget.tryWithdraw).toBe(false)
      expect(yield* budget.tryWithdrawFor(Duration.millis(99))).toBe(false)
      expect(yield* budget.tryWithdrawFor(Duration.millis(100))).toBe(true)
      // that token is spent: the next one needs another 100 ms
      expect(yield* budget.tryWithdrawFor(Duration.millis(199))).toBe(false)
      expect(yield* budget.tryWithdrawFor(Duration.millis(200))).toBe(true)
    }))
})

describe("Resilience.protect: the whole policy in one line", () => {
  it.effect("defaults: 529, 529, 529, 200 with every draw 0.5 waits 0.5 s, 1 s, 2 s", () =>
    Effect.gen(function*() {
      const upstream = yield* scripted([529, 529, 529])
      const exit = yield* drive(upstream.call.pipe(Resilience.protect(), Effect.provide(Resilience.layer())))
      expect(exit).toEqual(Exit.succeed("ok"))
      expect(yield* upstream.calls).toEqual([0, 500, 1500, 3500])
    }).pipe(Effect.withRandom(Random.fixed([0.5]))))

  it.effect("defaults: a Fatal error leaves at once, unretried", () =>
    Effect.gen(function*() {
      const upstream = yield* scripted([401])
      const exit = yield* drive(upstream.call.pipe(Resilience.protect(), Effect.provide(Resilience.layer())))
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error._tag).toBe("AuthenticationError")
      expect(yield* upstream.calls).toEqual([0])
    }))

  it.effect("defaults: the shared breaker opens under a storm and then no call is made", () =>
    Effect.gen(function*() {
      const upstream = yield* scripted(Array(100).fill(529))
      const program = Effect.gen(function*() {
        // ten calls of one attempt each fill the window with failures
        for (let i = 0; i < 10; i++) {
          yield* Effect.exit(upstream.call.pipe(Resilience.protect(policy({ maxRetries: 0 }))))
        }
        const state = yield* CircuitBreaker.state
        const next = yield* Effect.exit(upstream.call.pipe(Resilience.protect()))
        return { state, next }
      }).pipe(Effect.provide(Resilience.layer()))
      const { next, state } = yield* program
      expect(state._tag).toBe("Open")
      expect(Exit.isFailure(next) && next.cause._tag === "Fail" && next.cause.error._tag).toBe("CircuitOpenError")
      expect((yield* upstream.calls).length).toBe(10)
    }))

  it.effect("every option overridden: each one shows", () =>
    Effect.gen(function*() {
      const upstream = yield* scripted(Array(100).fill(503))
      const layer = Resilience.layer({
        breaker: { failureRateThreshold: 0.9, minimumCalls: 50, window: "1 minute", openDuration: "5 seconds" },
        budget: { percent: 0.5, minRetriesPerSecond: 100, ttl: "20 seconds" }
      })
      const exit = yield* drive(
        upstream.call.pipe(
          Resilience.protect(
            policy({ base: "200 millis", factor: 3, cap: "1 second", jitter: "none", maxRetries: 3, maxElapsed: "10 seconds" })
          ),
          Effect.provide(layer)
        )
      )
      expect(Exit.isFailure(exit)).toBe(true)
      // jitter none: ceilings 200 ms, 600 ms, then capped at 1 s; 3 retries
      expect(yield* upstream.calls).toEqual([0, 200, 800, 1800])
    }))

  it.effect("invalid options are a typed error, and nothing is called", () =>
    Effect.gen(function*() {
      const upstream = yield* scripted([])
      // one validating entry point: the policy is built before the call, and a bad one fails there
      const exit = yield* Effect.gen(function*() {
        const invalid = yield* RetryPolicy.make({ maxRetries: -1 })
        return yield* upstream.call.pipe(Resilience.protect(invalid))
      }).pipe(Effect.provide(Resilience.layer()), Effect.exit)
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error._tag).toBe("InvalidOptionsError")
      expect(yield* upstream.calls).toEqual([])
      const bad = yield* Effect.exit(Effect.provide(Effect.void, Resilience.layer({ budget: { percent: -1 } })))
      expect(Exit.isFailure(bad) && bad.cause._tag === "Fail" && bad.cause.error).toMatchObject({
        _tag: "InvalidOptionsError",
        module: "Resilience",
        problems: [{ path: "budget.percent" }]
      })
    }))

  it.effect("the budget provided by the layer is the one the retries draw on", () =>
    Effect.gen(function*() {
      const upstream = yield* scripted(Array(100).fill(529))
      const balance = yield* Effect.gen(function*() {
        const budget = yield* RetryBudget.RetryBudget
        yield* drive(upstream.call.pipe(Resilience.protect(policy({ maxRetries: 1 }))))
        return yield* budget.balance
      }).pipe(Effect.provide(Resilience.layer({ budget: { percent: 1, minRetriesPerSecond: 0 } })))
      // one first attempt deposited 1 token and its one retry took it
      expect(balance.total).toBe(0)
      expect((yield* upstream.calls).length).toBe(2)
    }).pipe(Effect.withRandom(Random.fixed([0.5]))))
})

describe("Resilience.protect: a call that sent requests ends with its last real error", () => {
  it.effect("a retry refused because the breaker opened during its wait: the last 529, not CircuitOpenError", () =>
    Effect.gen(function*() {
      const upstream = yield* scripted(Array(100).fill(529))
      const program = Effect.gen(function*() {
        // call A fails at 0 and, the breaker being closed, waits 500 ms for its retry
        const a = yield* Effect.fork(Effect.exit(upstream.call.pipe(Resilience.protect())))
        // meanwhile, at 100 ms, two other calls fail and open the breaker (3 calls, 100 % failures)
        yield* TestClock.adjust("100 millis")
        for (let i = 0; i < 2; i++) yield* Effect.exit(upstream.call.pipe(Resilience.protect(policy({ maxRetries: 0 }))))
        const state = yield* CircuitBreaker.state
        const exitA = yield* drive(Fiber.join(a))
        // a call that finds the breaker open sends nothing: that one ends with CircuitOpenError
        const late = yield* Effect.exit(upstream.call.pipe(Resilience.protect()))
        return { state, exitA, late }
      }).pipe(Effect.provide(Resilience.layer({ breaker: { minimumCalls: 3, openDuration: "30 seconds" } })))
      const { exitA, late, state } = yield* program
      expect(state._tag).toBe("Open")
      // A's retry at 500 ms was refused by the open breaker: it sent nothing, so A
      // ends with the error its one real request got
      expect(Exit.isSuccess(exitA)).toBe(true)
      const a = Exit.isSuccess(exitA) ? exitA.value : undefined
      expect(a !== undefined && Exit.isFailure(a) && a.cause._tag === "Fail" && a.cause.error._tag).toBe("OverloadedError")
      expect(a !== undefined && Exit.isFailure(a) && a.cause._tag === "Fail" && "status" in a.cause.error && a.cause.error.status).toBe(529)
      expect(Exit.isFailure(late) && late.cause._tag === "Fail" && late.cause.error._tag).toBe("CircuitOpenError")
      // A's first attempt, the two others; nothing else reached the upstream
      expect(yield* upstream.calls).toEqual([0, 100, 100])
    }).pipe(Effect.withRandom(Random.fixed([0.5]))))
})

describe("Resilience.protect: the retry looks ahead at the breaker", () => {
  it.effect("a retry that would reach a breaker still open is not taken: the last error, at once, no sleep", () =>
    Effect.gen(function*() {
      const upstream = yield* scripted(Array(100).fill(529))
      const exit = yield* drive(
        upstream.call.pipe(Resilience.protect(), Effect.provide(Resilience.layer({ breaker: { minimumCalls: 3 } })))
      )
      // the third failure (at 1.5 s) opens the breaker for 2 s, until 3.5 s;
      // the retry due at 3.5 s is a probe and fails: open for 4 s, until
      // 7.5 s; the retry due at 7.5 s probes and fails: open for 8 s, until
      // 15.5 s. The retry due at 11.5 s would only be refused, so the call
      // ends at 7.5 s
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error._tag).toBe("OverloadedError")
      expect(yield* upstream.calls).toEqual([0, 500, 1500, 3500, 7500])
    }).pipe(Effect.withRandom(Random.fixed([0.5]))))

  it.effect("a retry that would reach the breaker half-open is taken, as its probe", () =>
    Effect.gen(function*() {
      const upstream = yield* scripted([529, 529, 529])
      const exit = yield* drive(
        upstream.call.pipe(
          Resilience.protect(),
          Effect.provide(Resilience.layer({ breaker: { minimumCalls: 3, openDuration: "1 second" } }))
        )
      )
      // open at 1.5 s until 2.5 s; the retry due at 3.5 s finds it half-open and closes it
      expect(exit).toEqual(Exit.succeed("ok"))
      expect(yield* upstream.calls).toEqual([0, 500, 1500, 3500])
    }).pipe(Effect.withRandom(Random.fixed([0.5]))))
})

class FakeCircuitOpenError extends Data.TaggedError("CircuitOpenError")<{ readonly openedAt: number }> {}

describe("Resilience.retry: the last real error", () => {
  it.effect("a retry refused by the breaker ends the call with the last error a request got, not the refusal", () =>
    Effect.gen(function*() {
      const open = new FakeCircuitOpenError({ openedAt: 0 })
      const overloaded = response(529)
      const { call, starts } = yield* scriptedCall<FakeCircuitOpenError | ApiError.ApiError>([overloaded, open, "ok"])
      const r = yield* runTimed(Resilience.retry(call).pipe(Effect.provide(Resilience.layer())))
      // the breaker refused the retry at 500 ms: not retried further
      expect(yield* starts).toEqual([0, 500])
      expect(r.endedAt).toBe(500)
      expect(Option.getOrThrow(failureOf(r.exit))).toBe(overloaded)
    }).pipe(Effect.withRandom(Random.fixed([0.5]))))

  it.effect("a call that sent nothing ends with the CircuitOpenError itself", () =>
    Effect.gen(function*() {
      const open = new FakeCircuitOpenError({ openedAt: 0 })
      const { call, starts } = yield* scriptedCall<FakeCircuitOpenError | ApiError.ApiError>([open, "ok"])
      const r = yield* runTimed(Resilience.retry(call).pipe(Effect.provide(Resilience.layer())))
      expect(yield* starts).toEqual([0])
      expect(Option.getOrThrow(failureOf(r.exit))).toBe(open)
    }))
})

describe("Resilience.retry: the retry budget", () => {
  it.effect("the first attempt deposits, each retry withdraws; an empty budget ends the call at once", () =>
    Effect.gen(function*() {
      // one first attempt earns exactly one retry, and there is no reserve
      const budget = yield* RetryBudget.make({ percent: 1, minRetriesPerSecond: 0 })
      const errors = [response(529), response(529), response(529)]
      const { call, starts } = yield* scriptedCall<ApiError.ApiError>([...errors, "ok"])
      const r = yield* runTimed(
        Resilience.retry(call).pipe(Effect.provideService(RetryBudget.RetryBudget, budget), Effect.provide(closedBreaker))
      )
      expect(yield* starts).toEqual([0, 500])
      expect(r.endedAt).toBe(500)
      expect(Option.getOrThrow(failureOf(r.exit))).toBe(errors[1])
      expect((yield* budget.balance).total).toBe(0)
    }).pipe(Effect.withRandom(Random.fixed([0.5]))))

  it.effect("the reserve pays for retries when deposits cannot", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.make({ percent: 0 })
      // the reserve starts full: spend it, then earn 2 tokens back
      while (yield* budget.tryWithdraw) { /* spend */ }
      yield* TestClock.adjust("200 millis") // 2 reserve tokens earned
      const { call, starts } = yield* scriptedCall<ApiError.ApiError>([response(503)])
      const r = yield* runTimed(
        Resilience.retry(call).pipe(Effect.provideService(RetryBudget.RetryBudget, budget), Effect.provide(closedBreaker))
      )
      // draws 0: every wait is 0 ms, so exactly the two reserve tokens are spent, then refused
      expect(yield* starts).toEqual([200, 200, 200])
      expect(r.t0).toBe(200)
      expect(r.endedAt).toBe(0)
      expect((yield* budget.balance).total).toBe(0)
    }).pipe(Effect.withRandom(Random.fixed([0]))))

  it.effect("a layer provides one shared budget", () =>
    Effect.gen(function*() {
      const { call, starts } = yield* scriptedCall<ApiError.ApiError>([response(529), "ok"])
      const program = Resilience.retry(call).pipe(
        Effect.provide(Resilience.layer({ budget: { percent: 0, minRetriesPerSecond: 0 } }))
      )
      const exit = yield* Effect.exit(program)
      expect(yield* starts).toEqual([0])
      expect(Exit.isFailure(exit)).toBe(true)
    }))
})

describe("Resilience.retry: each refusal is reported as the policy's decision", () => {
  it.effect("a refused retry is logged as a GiveUp with its reason, and no wait is recorded for it", () =>
    Effect.gen(function*() {
      const reasons: Array<unknown> = []
      const logger = Logger.make(({ annotations }) => {
        for (const [k, v] of annotations) if (k === "retry.give_up") reasons.push(v)
      })
      const waits = Metric.value(RetryPolicy.retryWaitMillis)
      const before = yield* waits
      const { call } = yield* scriptedCall<ApiError.ApiError>([response(529), "ok"])
      yield* runTimed(
        Resilience.retry(call).pipe(
          Effect.provide(Resilience.layer({ budget: { percent: 0, minRetriesPerSecond: 0 } })),
          Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
          Logger.withMinimumLogLevel(LogLevel.Debug)
        )
      )
      expect(reasons).toEqual(["RetryBudgetEmpty"])
      expect((yield* waits).count).toBe(before.count)
    }).pipe(Effect.withRandom(Random.fixed([0.5]))))

  it.effect("the look-ahead asks the breaker, and a retry it would refuse is a GiveUp CircuitOpen, with no token spent", () =>
    Effect.gen(function*() {
      const reasons: Array<unknown> = []
      const logger = Logger.make(({ annotations }) => {
        for (const [k, v] of annotations) if (k === "retry.give_up") reasons.push(v)
      })
      const asked: Array<number> = []
      const budget = yield* RetryBudget.make({ percent: 1, minRetriesPerSecond: 0 })
      const real = yield* CircuitBreaker.make()
      // a breaker that would refuse any call before 10 s, and records what it is asked
      const breaker: CircuitBreaker.Service = {
        ...real,
        admitsAt: (instant) => Effect.sync(() => asked.push(instant)).pipe(Effect.as(instant >= 10_000))
      }
      const { call, starts } = yield* scriptedCall<ApiError.ApiError>([response(529), "ok"])
      const r = yield* runTimed(
        Resilience.retry(call).pipe(
          Effect.provideService(CircuitBreaker.CircuitBreaker, breaker),
          Effect.provideService(RetryBudget.RetryBudget, budget),
          Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
          Logger.withMinimumLogLevel(LogLevel.Debug)
        )
      )
      // the retry would have been sent at 500 ms: refused at once, no sleep
      expect(asked).toEqual([500])
      expect(yield* starts).toEqual([0])
      expect(r.endedAt).toBe(0)
      expect(reasons).toEqual(["CircuitOpen"])
      // the call's deposit is still there: the refused retry took no token
      expect((yield* budget.balance).total).toBe(1)
    }).pipe(Effect.scoped, Effect.withRandom(Random.fixed([0.5]))))
})

describe("Resilience.layer: its own options, nested paths", () => {
  it.effect("every problem of both parts at its nested path, unknown keys included; nothing is built", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Layer.build(Resilience.layer({
        breaker: { window: -1, failureRateThreshold: 2 },
        budget: { percent: 1e308 },
        retry: {}
      } as unknown as Resilience.Options)).pipe(Effect.scoped))
      const error = Option.getOrThrow(failureOf(exit))
      expect(error).toBeInstanceOf(Options.InvalidOptionsError)
      expect(error.module).toBe("Resilience")
      expect(error.problems.map((p) => p.path).sort()).toEqual([
        "breaker.failureRateThreshold",
        "breaker.window",
        "budget.percent",
        "retry"
      ])
    }))

  it.effect("the parts are built from the decoded options", () =>
    Effect.gen(function*() {
      const [breaker, budget] = yield* Effect.all([CircuitBreaker.CircuitBreaker, RetryBudget.RetryBudget]).pipe(
        Effect.provide(Resilience.layer({ breaker: { window: "1 minute", name: "claude" }, budget: { ttl: "20 seconds" } }))
      )
      expect(breaker.settings.window).toEqual(Duration.minutes(1))
      expect(breaker.settings.name).toBe("claude")
      expect(budget.settings.ttl).toEqual(Duration.seconds(20))
      expect(budget.settings.percent).toBe(0.2)
    }))
})
