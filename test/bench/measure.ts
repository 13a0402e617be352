/**
 * The harness's instruments: the server child process, timing, GC and heap
 * accounting, and the statistics over rounds.
 */
import { fork } from "node:child_process"
import * as Path from "node:path"
import { performance, PerformanceObserver } from "node:perf_hooks"
import * as v8 from "node:v8"
import { root } from "./library.js"

// ---------------------------------------------------------------------------
// the server
// ---------------------------------------------------------------------------

export interface ServerStats {
  readonly connections: number
  readonly requests: number
}

export interface BenchServer {
  readonly url: string
  /** The base URL whose streams carry `deltas` text deltas. */
  readonly streamUrl: (deltas: number) => string
  readonly stats: () => Promise<ServerStats>
  readonly close: () => Promise<void>
}

/** Starts test/bench/server.ts in a child process (under tsx) and waits for its port. */
export const startServer = (): Promise<BenchServer> =>
  new Promise((resolve, reject) => {
    const child = fork(Path.join(root, "test/bench/server.ts"), [], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    let pending: Array<(stats: ServerStats) => void> = []
    child.on("error", reject)
    child.on("exit", (code) => {
      if (code !== 0 && code !== null) reject(new Error(`the benchmark server exited with code ${code}`))
    })
    child.on("message", (msg: { readonly type: string; readonly port?: number } & Partial<ServerStats>) => {
      if (msg.type === "ready") {
        const url = `http://127.0.0.1:${msg.port}`
        resolve({
          url,
          streamUrl: (deltas) => `${url}/deltas/${deltas}`,
          stats: () =>
            new Promise((done) => {
              pending.push(done)
              child.send({ type: "stats" })
            }),
          close: () =>
            new Promise((done) => {
              child.once("exit", () => done())
              child.send({ type: "close" })
            })
        })
      } else if (msg.type === "stats") {
        const [first, ...rest] = pending
        pending = rest
        first?.({ connections: msg.connections!, requests: msg.requests! })
      }
    })
  })

// ---------------------------------------------------------------------------
// GC and heap
// ---------------------------------------------------------------------------

/** Collects garbage when node runs with --expose-gc, so that one contender's garbage is not the next one's pause. */
export const collect = (): void => {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc !== undefined) gc()
}

export const canCollect = (): boolean => typeof (globalThis as { gc?: unknown }).gc === "function"

export interface GcFigures {
  /** GC events seen by `PerformanceObserver` ('gc' entries). */
  readonly count: number
  /** Their total duration, ms. */
  readonly pauseMs: number
  /** Bytes allocated while measured, from V8's heap before and after each GC. */
  readonly allocated: number
  /** The highest used heap seen (at a GC, or at the end) above the start, bytes. */
  readonly peak: number
}

const gcEntries: Array<number> = []
let gcObserver: PerformanceObserver | undefined

/** The 'gc' observer, started on first use (importing this module observes nothing). */
const observer = (): PerformanceObserver => {
  if (gcObserver === undefined) {
    gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) gcEntries.push(entry.duration)
    })
    gcObserver.observe({ entryTypes: ["gc"] })
  }
  return gcObserver
}

/** Runs `body` and accounts for the GCs and the allocation during it. */
export const withGc = async <A>(body: () => Promise<A>): Promise<{ readonly value: A; readonly gc: GcFigures }> => {
  for (const entry of observer().takeRecords()) gcEntries.push(entry.duration)
  const first = gcEntries.length
  const profiler = new v8.GCProfiler()
  const before = v8.getHeapStatistics().used_heap_size
  profiler.start()
  const value = await body()
  const after = v8.getHeapStatistics().used_heap_size
  const { statistics } = profiler.stop()
  // PerformanceObserver delivers its entries on a later tick: wait for them
  await new Promise((resolve) => setImmediate(resolve))
  for (const entry of observer().takeRecords()) gcEntries.push(entry.duration)
  const pauses = gcEntries.slice(first)
  const { allocated, peak } = heapUse(before, after, statistics)
  return { value, gc: { count: pauses.length, pauseMs: pauses.reduce((a, b) => a + b, 0), allocated, peak } }
}

/**
 * Bytes allocated and the peak above `before`, from the heap used before and
 * after a run and the GCs a `v8.GCProfiler` saw in it: what each GC found
 * used, less what the previous one left.
 */
export const heapUse = (
  before: number,
  after: number,
  statistics: ReadonlyArray<v8.GCProfilerResult["statistics"][number]>
): { readonly allocated: number; readonly peak: number } => {
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
  return { allocated, peak: peak - before }
}

// ---------------------------------------------------------------------------
// timing
// ---------------------------------------------------------------------------

/** `n` sequential calls: each one's latency, ms. */
export const sequential = async (n: number, call: () => Promise<unknown>): Promise<Array<number>> => {
  const latencies: Array<number> = []
  for (let i = 0; i < n; i++) {
    const start = performance.now()
    await call()
    latencies.push(performance.now() - start)
  }
  return latencies
}

/** `workers` loops calling `call` until `durationMs` has passed; the calls that ended in time. */
export const concurrent = async (
  workers: number,
  durationMs: number,
  call: () => Promise<unknown>
): Promise<{ readonly calls: number; readonly elapsedMs: number }> => {
  const deadline = performance.now() + durationMs
  let calls = 0
  const worker = async () => {
    while (performance.now() < deadline) {
      await call()
      if (performance.now() <= deadline) calls++
    }
  }
  await Promise.all(Array.from({ length: workers }, worker))
  return { calls, elapsedMs: durationMs }
}

// ---------------------------------------------------------------------------
// statistics
// ---------------------------------------------------------------------------

/** The q-quantile (0..1) of `xs`, nearest rank. */
export const quantile = (xs: ReadonlyArray<number>, q: number): number => {
  if (xs.length === 0) return Number.NaN
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

/** Median and range of a figure over rounds. */
export interface Spread {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly n: number
}

export const spread = (xs: ReadonlyArray<number>): Spread => {
  const sorted = [...xs].sort((a, b) => a - b)
  const n = sorted.length
  const median = n === 0 ? Number.NaN : n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2
  return { median, min: sorted[0] ?? Number.NaN, max: sorted[n - 1] ?? Number.NaN, n }
}

/** Per-round ratios `a[r] / b[r]` (the rounds interleave, so each ratio compares like with like). */
export const ratios = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): Spread =>
  spread(a.map((x, i) => x / b[i]!))
