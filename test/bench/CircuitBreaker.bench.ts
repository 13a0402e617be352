/**
 * A small benchmark of the circuit breaker, not part of `npm test`:
 *
 *   npx tsx --expose-gc test/bench/CircuitBreaker.bench.ts
 *
 * 1. The cost of one `protect` call with an empty window and with a full one
 *    (a 30 s window holding an outcome at every millisecond, 30 000 distinct
 *    instants), reported as a ratio: the cost of a call must not grow with
 *    the traffic the window holds.
 * 2. 2 000 concurrent `protect` calls on the real clock, each ending after a
 *    random 0 to 50 ms, then 0 to 2 000 ms (so that they end at many
 *    distinct instants): the bytes allocated during the run, counted from
 *    V8's GC events, less those of the same calls made without a breaker,
 *    and the peak heap.
 *
 * Timings are wall-clock and vary with the machine's load; the ratios are
 * what to compare.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import { performance } from "node:perf_hooks"
import * as v8 from "node:v8"
import { CircuitBreaker } from "../../src/index.js"
import { heapUse } from "./measure.js"

const gc = (): void => {
  const collect = (globalThis as { gc?: () => void }).gc
  if (collect !== undefined) collect()
}

/** Microseconds per call for `calls` sequential `protect` calls at the current instant. */
const perCall = (breaker: CircuitBreaker.Service, calls: number) =>
  Effect.gen(function*() {
    const start = performance.now()
    for (let i = 0; i < calls; i++) yield* breaker.protect(Effect.void)
    return ((performance.now() - start) * 1000) / calls
  })

/** The best of `rounds` measurements, which is the least disturbed by the machine's other work. */
const best = <E, R>(rounds: number, measure: Effect.Effect<number, E, R>) =>
  Effect.map(Effect.replicateEffect(measure, rounds), (xs) => Math.min(...xs))

// a clock the benchmark moves by hand: TestClock.setTime, 30 000 times,
// would cost far more than the calls being measured
const manualClock = () => {
  let now = 0
  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => now,
    currentTimeMillis: Effect.sync(() => now),
    unsafeCurrentTimeNanos: () => BigInt(now) * BigInt(1_000_000),
    currentTimeNanos: Effect.sync(() => BigInt(now) * BigInt(1_000_000)),
    sleep: () => Effect.void
  }
  return { clock, setTime: (millis: number) => void (now = millis) }
}

const costs = Effect.gen(function*() {
  // empty window: a fresh breaker, every call at one instant
  const empty = yield* Effect.scoped(Effect.gen(function*() {
    const { clock, setTime } = manualClock()
    const breaker = yield* CircuitBreaker.make()
    setTime(60_000)
    return yield* Effect.withClock(
      Effect.zipRight(perCall(breaker, 2_000), best(5, perCall(breaker, 5_000))), // a warm-up, then the rounds
      clock
    )
  }))
  // full window: one success at each millisecond up to 60 s, so that at 60 s
  // the window holds its whole span of outcomes, at 29 000 to 30 000
  // distinct instants
  const full = yield* Effect.scoped(Effect.gen(function*() {
    const { clock, setTime } = manualClock()
    const breaker = yield* CircuitBreaker.make()
    return yield* Effect.withClock(
      Effect.gen(function*() {
        const fillStart = performance.now()
        for (let t = 30_001; t <= 60_000; t++) {
          setTime(t)
          yield* breaker.protect(Effect.void)
        }
        const fillMillis = performance.now() - fillStart
        const held = CircuitBreaker.windowCounts(yield* breaker.state).calls
        yield* perCall(breaker, 200) // warm-up
        const micros = yield* best(5, perCall(breaker, 1_000))
        return { micros, fillMillis, held }
      }),
      clock
    )
  }))
  return { empty, full }
})

/** Bytes allocated while `effect` runs, from V8's GC events, and the peak heap seen at each GC. */
const allocation = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    gc()
    const profiler = new v8.GCProfiler()
    const before = v8.getHeapStatistics().used_heap_size
    profiler.start()
    const result = yield* effect
    const after = v8.getHeapStatistics().used_heap_size
    const { statistics } = profiler.stop()
    return { result, ...heapUse(before, after, statistics), gcs: statistics.length }
  })

/**
 * `n` concurrent calls, each sleeping (real time) a random 0 to `spread` ms,
 * through a breaker that never opens, or straight (`breaker: false`, the
 * baseline: what the fibers and sleeps cost without any breaker).
 */
const concurrent = (n: number, spread: number, breaker: boolean) =>
  Effect.scoped(Effect.gen(function*() {
    const service = yield* CircuitBreaker.make({ minimumCalls: 1_000_000 })
    const wrap = breaker ? service.protect : <A, E, R>(effect: Effect.Effect<A, E, R>) => effect
    const start = performance.now()
    yield* Effect.forEach(
      Array.from({ length: n }),
      () => wrap(Effect.flatMap(Random.nextIntBetween(0, spread + 1), (millis) => Effect.sleep(millis))),
      { concurrency: "unbounded", discard: true }
    )
    const state = yield* service.state
    return { millis: performance.now() - start, calls: CircuitBreaker.windowCounts(state).calls }
  }))

const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`

// `cost` or `concurrent` as the first argument runs only that part
const only = process.argv[2]

const main = Effect.gen(function*() {
  if (only !== "concurrent") {
    const { empty, full } = yield* costs
    console.log(`per call, empty window: ${empty.toFixed(2)} µs`)
    console.log(
      `per call, full window (${full.held} calls at distinct instants, filled in ${full.fillMillis.toFixed(0)} ms): ` +
        `${full.micros.toFixed(2)} µs`
    )
    console.log(`ratio full / empty: ${(full.micros / empty).toFixed(2)}`)
  }
  if (only === "cost") return
  const n = 2_000
  for (const spread of [50, 2_000]) {
    const base = yield* allocation(concurrent(n, spread, false))
    const run = yield* allocation(concurrent(n, spread, true))
    console.log(
      `${n} concurrent calls ending over ${spread} ms: ${run.result.calls} recorded in ` +
        `${run.result.millis.toFixed(0)} ms; allocated ${mb(run.allocated)} (${run.gcs} GCs), of which the breaker ` +
        `${mb(run.allocated - base.allocated)} (the same calls without a breaker: ${mb(base.allocated)}); ` +
        `peak heap above the start ${mb(run.peak)}`
    )
  }
})

Effect.runPromise(main).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
