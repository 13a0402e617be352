/**
 * The fleet simulation: deterministic for a seed, every logical request
 * ending exactly once, the comparison policies' rules, and the orderings its
 * scenarios exist to show, on small instances (the full scenarios run in
 * `npm start` and `npm run bench:simulation`).
 */
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Either, Fiber, Random, TestClock } from "effect"
import { ApiError } from "../../src/index.js"
import { Simulation } from "../../src/testing/index.js"
import type { Wrap } from "../../src/testing/simulation/ours.js"
import * as Policies from "../../src/testing/simulation/policies.js"

const smallOutage = (policies?: ReadonlyArray<Simulation.PolicyName | Simulation.Policy>) =>
  Either.getOrThrow(Simulation.outage({
    clients: 12,
    duration: "12 minutes",
    outages: [{ from: "4 minutes", to: "7 minutes", status: 529 }],
    ...(policies === undefined ? {} : { policies })
  }))

const byPolicy = (result: Simulation.Result) =>
  Object.fromEntries(result.runs.map((run) => [run.figures.policy, run]))

describe("Simulation: determinism", () => {
  it.effect("the same seed gives byte-identical summaries; another seed other figures", () =>
    Effect.gen(function*() {
      const scenario = smallOutage()
      const a = JSON.stringify(Simulation.summary(5, [yield* Simulation.run(scenario, { seed: 5 })]))
      const b = JSON.stringify(Simulation.summary(5, [yield* Simulation.run(scenario, { seed: 5 })]))
      const c = JSON.stringify(Simulation.summary(6, [yield* Simulation.run(scenario, { seed: 6 })]))
      expect(a).toBe(b)
      const figures = (json: string) => JSON.parse(json).scenarios[0].policies
      expect(figures(c)).not.toEqual(figures(a))
      // every policy meets the same arrivals: same logical requests, per seed
      const counts = figures(a).map((f: Simulation.Figures) => f.logicalRequests)
      expect(new Set(counts).size).toBe(1)
      expect(counts[0]).toBeGreaterThan(500)
    }))
})

describe("Simulation: every logical request ends exactly once, in one success or one typed failure", () => {
  it.effect("outage, rate-limit and contention, every built-in policy", () =>
    Effect.gen(function*() {
      const rateLimit = Either.getOrThrow(Simulation.rateLimit({ clients: 6, duration: "4 minutes" }))
      const brooker = Either.getOrThrow(Simulation.brooker({ clients: 15 }))
      for (const scenario of [smallOutage(), rateLimit, brooker]) {
        const result = yield* Simulation.run(scenario, { seed: 3 })
        for (const run of result.runs) {
          expect(run.audit).toEqual({
            started: run.figures.logicalRequests,
            endedOnce: run.figures.logicalRequests,
            endedTwice: 0,
            neverEnded: 0,
            defects: 0,
            interruptions: 0
          })
          expect(run.figures.succeeded + run.figures.failed).toBe(run.figures.logicalRequests)
          for (const tag of Object.keys(run.figures.failedByTag)) {
            expect(ApiError.retryableTags.has(tag as ApiError.Retryable["_tag"]) || tag === "CircuitOpenError").toBe(
              true
            )
          }
        }
      }
    }))

  it.effect("the audit sees a policy that loses a request to a defect", () =>
    Effect.gen(function*() {
      const broken: Simulation.Policy = {
        name: "broken",
        // dies on the third call of each client: no typed failure
        client: Effect.sync(() => {
          let n = 0
          return <A, E>(call: Effect.Effect<A, E>) =>
            Effect.suspend(() => (++n === 3 ? Effect.dieMessage("lost") : call))
        })
      }
      const result = yield* Simulation.run(smallOutage(["ours", broken]), { seed: 1 })
      const runs = byPolicy(result)
      expect(runs.ours!.audit.defects).toBe(0)
      expect(runs.broken!.audit.defects).toBe(12)
      expect(runs.broken!.figures.failedByTag.Defect).toBe(12)
    }))
})

describe("Simulation: the outage scenario's amplification", () => {
  it.effect("during the outage: ours sends fewer calls per request than sdk-like (≈3) and naive (6)", () =>
    Effect.gen(function*() {
      const result = byPolicy(yield* Simulation.run(smallOutage(["ours", "sdk-like", "naive"]), { seed: 2 }))
      expect(result.naive!.figures.outageCallsPerRequest).toBe(6)
      expect(result["sdk-like"]!.figures.outageCallsPerRequest).toBeCloseTo(3, 1)
      expect(result.ours!.figures.outageCallsPerRequest!).toBeLessThan(1.1)
      // ours' failures during the outage are the API's own, or its breaker's (no call sent)
      expect(Object.keys(result.ours!.figures.failedByTag).sort()).toEqual(["CircuitOpenError", "OverloadedError"])
      expect(result.ours!.figures.recoverySeconds).not.toBeNull()
    }))
})

describe("Simulation: the brooker scenario (contention, base 5 ms, cap 2 s)", () => {
  it.effect("total work over 4 seed values, 50 clients: no backoff > exponential without jitter > any jitter; equal ≈ full", () =>
    Effect.gen(function*() {
      const scenario = Either.getOrThrow(Simulation.brooker({ clients: 50 }))
      const work: Record<string, number> = {}
      for (const seed of [1, 2, 3, 4]) {
        for (const run of (yield* Simulation.run(scenario, { seed })).runs) {
          work[run.figures.policy] = (work[run.figures.policy] ?? 0) + run.figures.calls
          expect(run.figures.succeeded).toBe(50)
        }
      }
      expect(work.naive!).toBeGreaterThan(work["no-jitter"]!)
      for (const jittered of ["decorrelated-jitter", "equal-jitter", "ours"]) {
        expect(work["no-jitter"]!).toBeGreaterThan(work[jittered]!)
      }
      expect(Math.abs(work.ours! - work["equal-jitter"]!) / work["equal-jitter"]!).toBeLessThan(0.1)
    }))
})

describe("Simulation: the sdk-like policy's rules", () => {
  /** The instants (ms) at which `wrap` calls a call that fails with `errors` in turn, then succeeds. */
  const callTimes = (wrap: Wrap, errors: ReadonlyArray<unknown>) =>
    Effect.gen(function*() {
      const times: Array<number> = []
      const call = Effect.flatMap(Clock.currentTimeMillis, (now) => {
        times.push(now)
        const error = errors[times.length - 1]
        return error === undefined ? Effect.succeed("ok") : Effect.fail(error)
      })
      const fiber = yield* Effect.fork(Effect.exit(wrap(call)))
      yield* TestClock.adjust("10 minutes")
      const exit = yield* Fiber.join(fiber)
      return { times, exit }
    })
  const err = (status: number, retryAfter?: string) =>
    ApiError.fromResponse({
      status,
      headers: retryAfter === undefined ? {} : { "retry-after": retryAfter },
      body: "",
      now: 0
    })

  it.effect("2 retries at 0.5 s · 2ⁿ less up to 25 %, then the last error", () =>
    Effect.gen(function*() {
      const { exit, times } = yield* callTimes(Policies.sdkLike, [err(529), err(529), err(529), err(529)])
      // draws 0.5: waits of 500 × 0.875 and 1000 × 0.875
      expect(times).toEqual([0, 438, 1313])
      expect(exit._tag).toBe("Failure")
    }).pipe(Effect.withRandom(Random.fixed([0.5]))))

  it.effect("retries 408, 409, 429 and every 5xx; never another 4xx", () =>
    Effect.gen(function*() {
      for (const status of [408, 409, 429, 500, 502, 503, 504, 529, 599]) {
        const { times } = yield* callTimes(Policies.sdkLike, [err(status)])
        expect([status, times.length]).toEqual([status, 2])
      }
      for (const status of [400, 401, 403, 404, 413, 422]) {
        const { times } = yield* callTimes(Policies.sdkLike, [err(status)])
        expect([status, times.length]).toEqual([status, 1])
      }
    }).pipe(Effect.withRandom(Random.fixed([0]))))

  it.effect("obeys retry-after however long it is", () =>
    Effect.gen(function*() {
      const { times } = yield* callTimes(Policies.sdkLike, [err(429, "120"), err(503, "2")])
      expect(times).toEqual([0, 120_000, 122_000])
    }).pipe(Effect.withRandom(Random.fixed([0.5]))))
})

describe("Simulation: scenario options", () => {
  it("bad options are one InvalidOptionsError listing every problem at its path, never a throw", () => {
    const result = Simulation.fleet({
      clients: 0,
      duration: "-1 seconds",
      outages: [{ from: "5 minutes", to: "1 minute", status: 529 }],
      policies: ["ours", "retry-forever" as Simulation.PolicyName],
      clientz: 3
    } as Simulation.FleetOptions)
    const error = Either.getLeft(result)
    expect(error._tag).toBe("Some")
    if (error._tag !== "Some") return
    const paths = error.value.problems.map((p) => p.path)
    expect(paths).toEqual(expect.arrayContaining(["clients", "duration", "outages.0", "policies.1", "clientz"]))
    expect(error.value.module).toBe("Simulation.fleet")
    expect(Either.isLeft(Simulation.brooker(null as never))).toBe(true)
    expect(Either.isLeft(Simulation.contention({ networkMean: "2 millis", networkSd: "4 millis" }))).toBe(true)
  })
})
