/**
 * A fleet of real OS processes (test/fleet/worker.ts, run with tsx) against
 * a real redis-server and one loopback server that enforces a quota with
 * the real `anthropic-ratelimit-*` headers and 429s
 * (test/support/quotaServer.ts). Real time: the figures are ratios of
 * counts, not durations.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Path from "node:path"
import * as Readline from "node:readline"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { CircuitBreaker } from "../../src/index.js"
import { root } from "../docs/markdown.js"
import { type QuotaServer, startQuotaServer } from "../support/quotaServer.js"
import { type RedisServer, startRedis } from "../support/redis.js"

interface RunResult {
  readonly outcomes: Record<string, number>
  readonly calls: number
  readonly millis: number
}

interface Worker {
  readonly name: string
  readonly run: (
    command: { calls: number; concurrency: number; timeoutMs: number; maxWaitMs?: number; shared?: boolean }
  ) => Promise<RunResult>
  readonly events: () => Promise<ReadonlyArray<string>>
  readonly stderr: () => string
  readonly stop: () => Promise<void>
}

const workerScript = Path.join(root, "test/fleet/worker.ts")
const children = new Set<ChildProcess>()

const startWorker = (config: {
  readonly name: string
  readonly baseUrl: string
  readonly redisUrl?: string
  readonly namespace?: string
  readonly breaker?: CircuitBreaker.Options
}): Promise<Worker> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", workerScript, JSON.stringify(config)], {
      cwd: root,
      stdio: ["pipe", "pipe", "pipe"]
    })
    children.add(child)
    let stderr = ""
    child.stderr.on("data", (chunk) => stderr += chunk.toString())
    const waiting: Array<(line: string) => void> = []
    const lines = Readline.createInterface({ input: child.stdout })
    const exited = new Promise<void>((done) => child.once("exit", () => done()))
    child.once("exit", (code) => {
      children.delete(child)
      if (code !== 0) reject(new Error(`worker ${config.name} exited with ${code}: ${stderr}`))
    })
    lines.on("line", (line) => {
      if (line.startsWith("READY ")) {
        resolve({
          name: config.name,
          run: (command) => ask({ cmd: "run", ...command }) as Promise<RunResult>,
          events: () => ask({ cmd: "events" }).then((r) => (r as { events: ReadonlyArray<string> }).events),
          stderr: () => stderr,
          stop: () => {
            child.stdin.end()
            return exited
          }
        })
      } else if (line.startsWith("RESULT ")) {
        waiting.shift()?.(line.slice("RESULT ".length))
      }
    })
    const ask = (command: object): Promise<unknown> =>
      new Promise((answer) => {
        waiting.push((line) => answer(JSON.parse(line)))
        child.stdin.write(`${JSON.stringify(command)}\n`)
      })
  })

let redis: RedisServer & { readonly stop: () => Promise<void> }
const servers: Array<QuotaServer> = []

beforeAll(async () => {
  redis = await startRedis()
}, 30_000)

afterAll(async () => {
  for (const child of children) child.kill("SIGKILL")
  await Promise.all(servers.map((server) => server.close()))
  await redis?.stop()
}, 30_000)

const sum = (results: ReadonlyArray<RunResult>, tag: string) => results.reduce((n, r) => n + (r.outcomes[tag] ?? 0), 0)

describe("a fleet of processes", () => {
  it("at 100 % of quota: ≤ 1 % of requests get a 429 with limits shared through Redis, clearly more with independent limiters", async () => {
    // 40 requests, refilled continuously at 40 per second; each reply takes 30 ms
    const server = await startQuotaServer({ limit: 40, refillMillis: 1_000, holdMillis: 30 })
    servers.push(server)
    const namespace = `fleet-limits-${process.pid}`
    // each worker has both: the services shared through Redis, and its own
    const fleet = await Promise.all([0, 1, 2, 3].map((i) =>
      startWorker({ name: `w${i}`, baseUrl: server.url, redisUrl: redis.url, namespace })
    ))
    // every worker calls back to back, 8 at a time: the fleet asks for more than the quota, all the time
    const command = { calls: 60, concurrency: 8, timeoutMs: 20_000 }
    const measure = async (shared: boolean) => {
      server.reset()
      const results = await Promise.all(fleet.map((worker) => worker.run({ ...command, shared })))
      const arrivals = server.arrivals()
      const tooMany = arrivals.filter((a) => a.status === 429).length
      const seconds = (arrivals.at(-1)!.at - arrivals[0]!.at) / 1_000
      return {
        results,
        requests: arrivals.length,
        tooMany,
        rate: tooMany / arrivals.length,
        perSecond: (arrivals.length - tooMany) / seconds,
        seconds
      }
    }
    const independentRun = await measure(false)
    const sharedRun = await measure(true)
    // the shared figure is the shared state's: no worker fell back to local state meanwhile
    const events = await Promise.all(fleet.map((worker) => worker.events()))
    const line = (name: string, run: typeof sharedRun) =>
      `${name}: ${run.tooMany} of ${run.requests} requests got a 429 (${(run.rate * 100).toFixed(1)} %), ` +
      `${run.perSecond.toFixed(1)} successful requests per second (quota: 40) over ${run.seconds.toFixed(1)} s`
    console.log(`[fleet figures] 4 processes × 8 concurrent calls, 240 calls, quota 40 requests refilled at 40/s\n` +
      `  ${line("shared through Redis", sharedRun)}\n  ${line("independent limiters", independentRun)}`)
    // every call ended in one success or one typed failure
    for (const run of [sharedRun, independentRun]) {
      expect(run.results.reduce((n, r) => n + r.calls, 0)).toBe(240)
      expect(sum(run.results, "Defect") + sum(run.results, "Interrupted") + sum(run.results, "Timeout")).toBe(0)
      expect(sum(run.results, "Success") + sum(run.results, "RateLimitError")).toBe(240)
    }
    expect(events.flat().filter((event) => event === "Fallback")).toEqual([])
    expect(sharedRun.rate).toBeLessThanOrEqual(0.01)
    expect(independentRun.rate).toBeGreaterThanOrEqual(0.05)
    // the shared fleet used the quota, it did not merely stop sending
    expect(sharedRun.perSecond).toBeGreaterThan(20)
    await Promise.all(fleet.map((worker) => worker.stop()))
  }, 60_000)

  it("a breaker opened by one process fails fast in another, which sends nothing; after the open period the fleet sends exactly halfOpenProbes probes", async () => {
    const server = await startQuotaServer({ limit: 1_000, refillMillis: 1_000 })
    servers.push(server)
    const namespace = `fleet-breaker-${process.pid}`
    const breaker = { openDuration: "1 second", maxOpenDuration: "1 second", halfOpenProbes: 3, minimumCalls: 10 } as const
    const [a, b] = await Promise.all(["a", "b"].map((name) =>
      startWorker({ name, baseUrl: server.url, redisUrl: redis.url, namespace, breaker })
    ))
    server.setMode("outage")
    const opening = await a!.run({ calls: 10, concurrency: 1, timeoutMs: 5_000 })
    expect(opening.outcomes).toEqual({ OverloadedError: 10 })
    const openedAt = Date.now()
    const refused = await b!.run({ calls: 5, concurrency: 5, timeoutMs: 5_000 })
    expect(refused.outcomes).toEqual({ CircuitOpenError: 5 })
    expect(server.arrivals().filter((arrival) => arrival.worker === "b")).toEqual([])
    // healthy again, and slow: the probes are still running when every other call asks
    server.reset()
    server.setMode("healthy")
    server.setHold(1_500)
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, openedAt + 1_100 - Date.now())))
    const after = await Promise.all([a!, b!].map((worker) => worker.run({ calls: 6, concurrency: 6, timeoutMs: 5_000 })))
    expect(server.arrivals().length).toBe(3)
    expect(sum(after, "Success")).toBe(3)
    expect(sum(after, "CircuitOpenError")).toBe(9)
    // the probes closed it: both send again
    server.setHold(0)
    const closed = await Promise.all([a!, b!].map((worker) => worker.run({ calls: 3, concurrency: 1, timeoutMs: 5_000 })))
    expect(sum(closed, "Success")).toBe(6)
    await Promise.all([a!, b!].map((worker) => worker.stop()))
  }, 60_000)

  it("Redis killed mid-run (by its pid): every call ends in one success or one typed failure, none hangs, the warning is seen; back on Redis when it returns", async () => {
    const own = await startRedis()
    const server = await startQuotaServer({ limit: 100_000, refillMillis: 1_000, holdMillis: 10 })
    servers.push(server)
    server.setMode("healthy")
    const namespace = `fleet-kill-${process.pid}`
    try {
      const fleet = await Promise.all([0, 1, 2].map((i) =>
        startWorker({ name: `w${i}`, baseUrl: server.url, redisUrl: own.url, namespace })
      ))
      const runs = Promise.all(fleet.map((worker) => worker.run({ calls: 200, concurrency: 4, timeoutMs: 5_000 })))
      // kill it once the fleet is under way
      while (server.arrivals().length < 60) await new Promise((resolve) => setTimeout(resolve, 10))
      const pid = own.pid()
      expect(pid).toBeDefined()
      process.kill(pid!, "SIGKILL")
      const results = await runs
      for (const result of results) {
        expect(result.calls).toBe(200)
        expect(result.outcomes).toEqual({ Success: 200 })
      }
      for (const worker of fleet) {
        expect(worker.stderr()).toContain("Redis cannot be reached")
        expect(await worker.events()).toContain("Fallback")
      }
      // Redis returns: the workers go back to it
      await own.restart()
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      const again = await Promise.all(fleet.map((worker) => worker.run({ calls: 5, concurrency: 1, timeoutMs: 5_000 })))
      expect(sum(again, "Success")).toBe(15)
      for (const worker of fleet) expect((await worker.events()).at(-1)).toBe("Restored")
      await Promise.all(fleet.map((worker) => worker.stop()))
    } finally {
      await own.stop()
    }
  }, 60_000)
})
