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
 *    few milliseconds (so that they end at many distinct instants): the
 *    bytes allocated during the run, counted from V8's GC events, and the
 *    peak heap.
 *
 * Timings are wall-clock and vary with the machine's load; the ratios are
 * what to compare.
 */
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as TestClock from "effect/TestClock"
import * as TestContext from "effect/TestContext"
import { performance } from "node:perf_hooks"
import * as v8 from "node:v8"
import { CircuitBreaker } from "../../src/index.js"

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

const costs = Effect.gen(function*() {
  // empty window: a fresh breaker, every call at one instant
  const empty = yield* Effect.scoped(Effect.gen(function*() {
    const breaker = yield* CircuitBreaker.make()
    yield* TestClock.setTime(60_000)
    yield* perCall(breaker, 2_000) // warm-up
    return yield* best(5, perCall(breaker, 5_000))
  }))
  // full window: one success at each of the 30 000 milliseconds of the window
  const full = yield* Effect.scoped(Effect.gen(function*() {
    const breaker = yield* CircuitBreaker.make()
    const fillStart = performance.now()
    for (let t = 30_001; t <= 60_000; t++) {
      yield* TestClock.setTime(t)
      yield* breaker.protect(Effect.void)
    }
    const fillMillis = performance.now() - fillStart
    const state = yield* breaker.state
    const held = CircuitBreaker.windowCounts(state).calls
    yield* perCall(breaker, 200) // warm-up
    const micros = yield* best(5, perCall(breaker, 1_000))
    return { micros, fillMillis, held }
  }))
  return { empty, full }
}).pipe(Effect.provide(TestContext.TestContext))

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
    let allocated = 0
    let peak = Math.max(before, after)
    let last = before
    for (const event of statistics) {
      const usedBefore = event.beforeGC.heapStatistics.usedHeapSize
      allocated += Math.max(0, usedBefore - last)
      last = event.afterGC.heapStatistics.usedHeapSize
      peak = Math.max(peak, usedBefore)
    }
    allocated += Math.max(0, after - last)
    return { result, allocated, peak: peak - before, gcs: statistics.length }
  })

const concurrent = (n: number) =>
  Effect.scoped(Effect.gen(function*() {
    const breaker = yield* CircuitBreaker.make({ minimumCalls: 1_000_000 })
    const start = performance.now()
    yield* Effect.forEach(
      Array.from({ length: n }),
      () => breaker.protect(Effect.flatMap(Random.nextIntBetween(0, 50), (millis) => Effect.sleep(millis))),
      { concurrency: "unbounded", discard: true }
    )
    const state = yield* breaker.state
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
      `per call, full window (${full.held} calls over 30 000 ms, filled in ${full.fillMillis.toFixed(0)} ms): ` +
        `${full.micros.toFixed(2)} µs`
    )
    console.log(`ratio full / empty: ${(full.micros / empty).toFixed(2)}`)
  }
  if (only === "cost") return
  for (const n of [2_000]) {
    const run = yield* allocation(concurrent(n))
    console.log(
      `${n} concurrent calls: ${run.result.calls} recorded in ${run.result.millis.toFixed(0)} ms; ` +
        `allocated ${mb(run.allocated)} (${run.gcs} GCs), peak heap above the start ${mb(run.peak)}`
    )
  }
})

Effect.runPromise(main).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
