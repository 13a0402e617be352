/**
 * The state shared through a real redis-server (started on a free loopback
 * port, stopped after): two "processes" are two connections, each with its
 * own breaker, budget and limiter on one namespace. Time is TestClock's:
 * every instant the stores write comes from the caller's Clock.
 */
import { afterAll, assert, beforeAll, describe, expect, it } from "@effect/vitest"
import {
  Chunk,
  Context,
  DateTime,
  Duration,
  Effect,
  Either,
  Exit,
  Layer,
  Logger,
  Metric,
  Option,
  Queue,
  Ref,
  Scope,
  TestClock
} from "effect"
import * as Net from "node:net"
import { ApiError, CircuitBreaker, RateLimits, Redis, Resilience, RetryBudget } from "../src/index.js"
import { freePort, type RedisServer, startRedis } from "./support/redis.js"
import { runVirtual } from "./support/virtualTime.js"

let server: RedisServer & { readonly stop: () => Promise<void> }
beforeAll(async () => {
  server = await startRedis()
})
afterAll(async () => {
  await server?.stop()
})

let namespaces = 0
/** A namespace of its own for each test. */
const freshNamespace = () => `test-${process.pid}-${namespaces++}`

/** One "process": its own connection to Redis, and the three shared services on `namespace`. */
const processOn = (namespace: string, options: Partial<Resilience.RedisOptions> = {}) =>
  Layer.build(Resilience.layerRedis({
    url: server.url,
    namespace,
    ...options,
    redis: { recheckInterval: "100 millis", ...options.redis }
  })).pipe(Effect.map((context) => ({
    breaker: Context.get(context, CircuitBreaker.CircuitBreaker),
    budget: Context.get(context, RetryBudget.RetryBudget),
    limiter: Context.get(context, RateLimits.Limiter),
    redis: Context.get(context, Redis.Redis)
  })))


const failure = ApiError.fromResponse({
  status: 529,
  headers: {},
  body: JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } })
})

const requestsSnapshot = (remaining: number, reset: number) =>
  RateLimits.parse({
    "anthropic-ratelimit-requests-limit": "50",
    "anthropic-ratelimit-requests-remaining": String(remaining),
    "anthropic-ratelimit-requests-reset": DateTime.formatIso(DateTime.unsafeMake(reset))
  })

const oneRequest: RateLimits.Cost = { requests: 1, inputTokens: 0, outputTokens: 0, tokens: 0 }

describe("shared through Redis", () => {
  it.scoped("a limiter: a snapshot seen by one process makes another's call wait until the reset, exactly", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const a = yield* processOn(namespace)
      const b = yield* processOn(namespace)
      yield* a.limiter.observe(requestsSnapshot(1, 4_000))
      // the one request left, taken by b; a's next call waits for the reset, moved by b's call (1.2 s at 50 a minute)
      yield* b.limiter.admit(oneRequest)
      // real I/O to Redis at every recheck: runVirtual moves the clock only once it has settled
      const sentAt = yield* runVirtual(Effect.zipRight(a.limiter.admit(oneRequest), TestClock.currentTimeMillis))
      expect(sentAt).toBe(5_200)
    }))

  it.scoped("a limiter: a 429's retry-after seen by one process blocks the other", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const a = yield* processOn(namespace)
      const b = yield* processOn(namespace)
      yield* a.limiter.block(Duration.seconds(2))
      const exit = yield* Effect.exit(b.limiter.admit(oneRequest, { maxWait: "1 second" }))
      assert(Exit.isFailure(exit))
      expect(String(exit.cause)).toContain("retry-after")
      expect(yield* runVirtual(Effect.zipRight(b.limiter.admit(oneRequest), TestClock.currentTimeMillis))).toBe(2_000)
    }))

  it.scoped("two namespaces never touch", () =>
    Effect.gen(function*() {
      const a = yield* processOn(freshNamespace())
      const b = yield* processOn(freshNamespace())
      yield* a.limiter.observe(requestsSnapshot(0, 60_000))
      yield* a.limiter.block(Duration.seconds(30))
      // b's namespace knows nothing of it
      yield* b.limiter.admit(oneRequest, { maxWait: 0 })
      expect(yield* TestClock.currentTimeMillis).toBe(0)
      for (let i = 0; i < 10; i++) yield* Effect.ignore(a.breaker.protect(Effect.fail(failure)))
      expect((yield* a.breaker.state)._tag).toBe("Open")
      expect((yield* b.breaker.state)._tag).toBe("Closed")
    }))

  it.scoped("a breaker opened by one process fails fast in the other, which runs nothing", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const a = yield* processOn(namespace)
      const b = yield* processOn(namespace)
      // failures seen by both count in one window: 5 each open it at the 10th
      for (let i = 0; i < 5; i++) {
        yield* Effect.ignore(a.breaker.protect(Effect.fail(failure)))
        yield* Effect.ignore(b.breaker.protect(Effect.fail(failure)))
      }
      const ran = yield* Ref.make(0)
      const exit = yield* Effect.exit(a.breaker.protect(Ref.update(ran, (n) => n + 1)))
      assert(Exit.isFailure(exit))
      expect(String(exit.cause)).toContain("CircuitOpenError")
      expect(yield* Ref.get(ran)).toBe(0)
    }))

  it.scoped("half-open is fleet-wide: halfOpenProbes probes for the whole fleet, not per process", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const options = { breaker: { halfOpenProbes: 2, minimumCalls: 2 } }
      const processes = yield* Effect.all([processOn(namespace, options), processOn(namespace, options), processOn(namespace, options)])
      for (let i = 0; i < 2; i++) yield* Effect.ignore(processes[0].breaker.protect(Effect.fail(failure)))
      expect((yield* processes[1].breaker.state)._tag).toBe("Open")
      yield* TestClock.adjust(2_000)
      // every process asks for two permits: two are given in all
      const permits = yield* Effect.forEach(processes, (p) => Effect.all([Effect.either(p.breaker.permit), Effect.either(p.breaker.permit)]))
      expect(permits.flat().filter(Either.isRight).length).toBe(2)
    }))

  it.scoped("a probe slot held by a process that died is freed when its lease runs out", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const options = { breaker: { halfOpenProbes: 1, minimumCalls: 2, probeLease: "5 seconds" as const } }
      const survivor = yield* processOn(namespace, options)
      const dying = yield* Scope.make()
      const doomed = yield* processOn(namespace, options).pipe(Scope.extend(dying))
      for (let i = 0; i < 2; i++) yield* Effect.ignore(survivor.breaker.protect(Effect.fail(failure)))
      yield* TestClock.adjust(2_000)
      // the doomed process takes the only probe slot, and dies before it ends
      yield* doomed.breaker.permit
      yield* Scope.close(dying, Exit.void)
      expect(Either.isLeft(yield* Effect.either(survivor.breaker.permit))).toBe(true)
      yield* TestClock.adjust(4_999)
      expect(Either.isLeft(yield* Effect.either(survivor.breaker.permit))).toBe(true)
      yield* TestClock.adjust(1)
      const probe = yield* survivor.breaker.permit
      yield* probe.complete(Exit.void)
      expect((yield* survivor.breaker.state)._tag).toBe("Closed")
    }))

  it.scoped("a live process renews its probe's lease: a long probe keeps its slot", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const options = { breaker: { halfOpenProbes: 1, minimumCalls: 2, probeLease: "3 seconds" as const } }
      const a = yield* processOn(namespace, options)
      const b = yield* processOn(namespace, options)
      for (let i = 0; i < 2; i++) yield* Effect.ignore(a.breaker.protect(Effect.fail(failure)))
      yield* TestClock.adjust(2_000)
      const probe = yield* a.breaker.permit
      // ten leases long, one renewal at a time
      for (let i = 0; i < 30; i++) {
        yield* TestClock.adjust(1_000)
        expect(Either.isLeft(yield* Effect.either(b.breaker.permit))).toBe(true)
      }
      yield* probe.complete(Exit.void)
      expect((yield* b.breaker.state)._tag).toBe("Closed")
    }))

  it.scoped("a retry budget: deposits of one process pay for the retries of another, and none is paid twice", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const options = { budget: { percent: 0.5, minRetriesPerSecond: 0 } }
      const a = yield* processOn(namespace, options)
      const b = yield* processOn(namespace, options)
      for (let i = 0; i < 6; i++) yield* a.budget.deposit
      expect((yield* b.budget.balance).deposits).toBe(3)
      const withdrawn = yield* Effect.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).budget.tryWithdraw),
        { concurrency: "unbounded" }
      )
      expect(withdrawn.filter(Boolean).length).toBe(3)
      expect((yield* a.budget.balance).total).toBe(0)
    }))

  it.scoped("every key is under the namespace, and expires", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const a = yield* processOn(namespace)
      yield* a.budget.deposit
      yield* a.limiter.observe(requestsSnapshot(3, 10_000))
      yield* Effect.ignore(a.breaker.protect(Effect.fail(failure)))
      const keys = (yield* Effect.promise(() => server.command("--scan", "--pattern", `*${namespace}*`))).split("\n").sort()
      expect(keys).toEqual([`claude-resilience:{${namespace}}:breaker`, `claude-resilience:{${namespace}}:budget`, `claude-resilience:{${namespace}}:limiter`])
      for (const key of keys) {
        const ttl = Number(yield* Effect.promise(() => server.command("pttl", key)))
        expect(ttl).toBeGreaterThan(0)
        expect(ttl).toBeLessThanOrEqual(180_000)
      }
    }))

  it.scoped("the budget on Redis decides exactly as the budget in memory (same operations, same instants)", () =>
    Effect.gen(function*() {
      const options = { percent: 0.2, minRetriesPerSecond: 3, ttl: "2 seconds" as const }
      const a = yield* processOn(freshNamespace(), { budget: options })
      const memory = yield* RetryBudget.make(options)
      const outcomes: Array<string> = []
      // a fixed pseudo-random walk of deposits, withdrawals and clock steps
      let seed = 7
      const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
      for (let i = 0; i < 300; i++) {
        const r = next()
        if (r < 0.5) {
          yield* a.budget.deposit
          yield* memory.deposit
        } else if (r < 0.85) {
          const wait = Duration.millis(Math.floor(next() * 500))
          const [x, y] = [yield* a.budget.tryWithdrawFor(wait), yield* memory.tryWithdrawFor(wait)]
          outcomes.push(`${x}/${y}`)
        } else {
          yield* TestClock.adjust(Math.floor(next() * 700))
        }
        expect(yield* a.budget.balance).toEqual(yield* memory.balance)
      }
      expect(outcomes.filter((o) => o === "true/true").length).toBeGreaterThan(10)
      expect(outcomes.filter((o) => o === "false/false").length).toBeGreaterThan(10)
      expect(outcomes.every((o) => o === "true/true" || o === "false/false")).toBe(true)
    }))
})

describe("when Redis cannot be reached", () => {
  const captureWarnings = (warnings: Array<string>) =>
    Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ logLevel, message }) => {
        if (logLevel._tag === "Warning") warnings.push(String(Array.isArray(message) ? message.join(" ") : message))
      })
    )

  it.scoped("at start: the layer builds at once on local state, with a warning, a metric and a status; it goes back to Redis when Redis comes", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(() => freePort())
      const warnings: Array<string> = []
      const before = (yield* Metric.value(Redis.fallbacks)).count
      const started = Date.now()
      const p = yield* processOn(freshNamespace(), { url: `redis://127.0.0.1:${port}` }).pipe(
        Effect.provide(captureWarnings(warnings))
      )
      expect(Date.now() - started).toBeLessThan(1_500)
      expect(yield* p.redis.status).toBe("Local")
      expect(warnings.some((w) => w.includes("Redis cannot be reached"))).toBe(true)
      expect(warnings.join("\n")).not.toContain(`redis://`)
      expect((yield* Metric.value(Redis.fallbacks)).count).toBe(before + 1)
      // everything works on local state
      yield* p.budget.deposit
      for (let i = 0; i < 10; i++) yield* Effect.ignore(p.breaker.protect(Effect.fail(failure)))
      expect((yield* p.breaker.state)._tag).toBe("Open")
      yield* p.limiter.admit(oneRequest)
      // Redis comes: the next recheck goes back to it
      const events = yield* p.redis.subscribe
      const late = yield* Effect.promise(() => startRedis(port))
      yield* Effect.addFinalizer(() => Effect.promise(() => late.stop()))
      let restored = false
      for (let i = 0; i < 100 && !restored; i++) {
        yield* TestClock.adjust(100)
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20)))
        restored = (yield* p.redis.status) === "Shared"
      }
      expect(restored).toBe(true)
      expect(Chunk.toReadonlyArray(yield* Queue.takeAll(events)).map((e) => e._tag)).toEqual(["Restored"])
    }).pipe(Effect.provide(Layer.empty)))

  it.scoped("killed mid-run (by its pid): the next operation falls back at once with a Fallback event; none hangs", () => {
    const warnings: Array<string> = []
    return Effect.gen(function*() {
      const own = yield* Effect.acquireRelease(Effect.promise(() => startRedis()), (s) => Effect.promise(() => s.stop()))
      const p = yield* processOn(freshNamespace(), { url: own.url, redis: { commandTimeout: "300 millis" } })
      const events = yield* p.redis.subscribe
      yield* p.limiter.observe(requestsSnapshot(2, 30_000))
      expect(yield* p.redis.status).toBe("Shared")
      const pid = own.pid()
      assert(pid !== undefined)
      process.kill(pid, "SIGKILL")
      yield* Effect.promise(() => own.kill())
      const started = Date.now()
      // the last state read from Redis goes on locally: 2 left
      yield* p.limiter.admit(oneRequest, { maxWait: 0 })
      yield* p.limiter.admit(oneRequest, { maxWait: 0 })
      const third = yield* Effect.exit(p.limiter.admit(oneRequest, { maxWait: 0 }))
      expect(Date.now() - started).toBeLessThan(2_000)
      assert(Exit.isFailure(third))
      expect(yield* p.redis.status).toBe("Local")
      const seen = Chunk.toReadonlyArray(yield* Queue.takeAll(events))
      expect(seen.map((e) => e._tag)).toEqual(["Fallback"])
      expect(warnings.some((w) => w.includes("Redis cannot be reached"))).toBe(true)
    }).pipe(Effect.provide(captureWarnings(warnings)))
  })
})

describe("a Redis that answers nothing", () => {
  it.scoped("at start (a socket that accepts and never replies): the layer is built within connectTimeout, on local state", () =>
    Effect.gen(function*() {
      const sockets = new Set<Net.Socket>()
      const silent = yield* Effect.acquireRelease(
        Effect.async<Net.Server>((resume) => {
          const server = Net.createServer((socket) => {
            sockets.add(socket)
          })
          server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
        }),
        (server) =>
          Effect.async<void>((resume) => {
            for (const socket of sockets) socket.destroy()
            server.close(() => resume(Effect.void))
          })
      )
      const address = silent.address() as Net.AddressInfo
      const started = Date.now()
      const p = yield* processOn(freshNamespace(), {
        url: `redis://127.0.0.1:${address.port}`,
        redis: { connectTimeout: "300 millis", commandTimeout: "200 millis" }
      })
      expect(Date.now() - started).toBeLessThan(3_000)
      expect(yield* p.redis.status).toBe("Local")
      yield* p.budget.deposit
      yield* p.limiter.admit(oneRequest)
      expect((yield* p.breaker.state)._tag).toBe("Closed")
    }))

  it.scoped("frozen mid-run (SIGSTOP): each operation waits at most commandTimeout, then goes on locally; back on Redis after SIGCONT", () =>
    Effect.gen(function*() {
      const own = yield* Effect.acquireRelease(Effect.promise(() => startRedis()), (s) => Effect.promise(() => s.stop()))
      const p = yield* processOn(freshNamespace(), { url: own.url, redis: { commandTimeout: "200 millis" } })
      const events = yield* p.redis.subscribe
      yield* p.budget.deposit
      const pid = own.pid()
      assert(pid !== undefined)
      process.kill(pid, "SIGSTOP")
      yield* Effect.addFinalizer(() => Effect.sync(() => process.kill(pid, "SIGCONT")))
      const started = Date.now()
      yield* p.budget.deposit
      yield* p.limiter.admit(oneRequest)
      yield* Effect.ignore(p.breaker.protect(Effect.fail(failure)))
      // one timeout, then local at once
      expect(Date.now() - started).toBeLessThan(1_500)
      expect(yield* p.redis.status).toBe("Local")
      // the budget went on from its last shared state: two deposits of 0.2
      expect((yield* p.budget.balance).deposits).toBeCloseTo(0.4, 10)
      process.kill(pid, "SIGCONT")
      let restored = false
      for (let i = 0; i < 100 && !restored; i++) {
        yield* TestClock.adjust(100)
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20)))
        restored = (yield* p.redis.status) === "Shared"
      }
      expect(restored).toBe(true)
      expect(Chunk.toReadonlyArray(yield* Queue.takeAll(events)).map((e) => e._tag)).toEqual(["Fallback", "Restored"])
    }))

  it.scoped("garbage under a key is read as no state, never a defect", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      for (const part of ["breaker", "budget", "limiter"]) {
        yield* Effect.promise(() => server.command("set", `claude-resilience:{${namespace}}:${part}`, "x|{not json"))
      }
      const p = yield* processOn(namespace)
      expect((yield* p.breaker.state)._tag).toBe("Closed")
      yield* p.limiter.admit(oneRequest)
      yield* p.budget.deposit
      expect((yield* p.budget.balance).deposits).toBeCloseTo(0.2, 10)
      expect(yield* p.redis.status).toBe("Shared")
    }))
})

describe("options", () => {
  it.effect("each part's layerRedis: null, a missing or bad namespace, a store, a throwing getter: typed errors at their paths, never a throw", () =>
    Effect.gen(function*() {
      const problems = <A, E>(layer: Layer.Layer<A, E, Redis.Redis>) =>
        Effect.gen(function*() {
          const exit = yield* Effect.exit(Layer.build(layer).pipe(
            Effect.scoped,
            Effect.provide(Layer.succeed(Redis.Redis, null as unknown as Redis.Service))
          ))
          assert(Exit.isFailure(exit))
          const error = Option.getOrThrow(Exit.causeOption(exit).pipe(Option.flatMap((c) => Option.fromNullable(c._tag === "Fail" ? c.error : undefined))))
          return error as unknown as { readonly _tag: string; readonly module: string; readonly problems: ReadonlyArray<{ readonly path: string }> }
        })
      const nulled = yield* problems(CircuitBreaker.layerRedis(null as never))
      expect([nulled._tag, nulled.module, nulled.problems.map((p) => p.path)]).toEqual(["InvalidOptionsError", "CircuitBreaker", [""]])
      const bad = yield* problems(RateLimits.layerRedis({ namespace: "a{b}", headroom: -1, store: {} } as never))
      expect(bad.problems.map((p) => p.path).sort()).toEqual(["headroom", "namespace", "store"])
      const hostile = {
        percent: 0.1,
        get namespace(): string {
          throw new Error("no")
        }
      }
      const thrown = yield* problems(RetryBudget.layerRedis(hostile))
      expect(thrown.problems).toEqual([{ path: "namespace", message: "could not be read (its getter threw)" }])
      const lease = yield* problems(CircuitBreaker.layerRedis({ namespace: "n", probeLease: -5 }))
      expect(lease.problems.map((p) => p.path)).toEqual(["probeLease"])
    }))

  it.effect("Resilience.layerRedis: every problem of every part at its nested path, nothing connected", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Layer.build(Resilience.layerRedis({
        url: "http://nope",
        namespace: "",
        breaker: { window: -1, probeLease: "2 hours" },
        budget: { percent: -1 },
        limiter: { headroom: "lots" },
        redis: { commandTimeout: 0 }
      } as never)).pipe(Effect.scoped))
      assert(Exit.isFailure(exit))
      const error = Option.getOrThrow(Exit.causeOption(exit).pipe(Option.flatMap((c) => Option.fromNullable(c._tag === "Fail" ? c.error : undefined))))
      assert(error._tag === "InvalidOptionsError")
      expect(error.module).toBe("Resilience")
      expect(error.problems.map((p) => p.path).sort()).toEqual([
        "breaker.probeLease",
        "breaker.window",
        "budget.percent",
        "limiter.headroom",
        "namespace",
        "redis.commandTimeout",
        "url"
      ])
    }))

  it.effect("a URL refused by any layer never quotes its password", () =>
    Effect.gen(function*() {
      const url = "http://worker:s3cret-pw@redis.internal:6379"
      const messageOf = <A, E, R>(layer: Layer.Layer<A, E, R>) =>
        Effect.gen(function*() {
          const exit = yield* Effect.exit(Layer.build(layer as Layer.Layer<A, E, never>).pipe(Effect.scoped))
          assert(Exit.isFailure(exit))
          return String(Option.getOrThrow(Exit.causeOption(exit).pipe(Option.flatMap((c) => Option.fromNullable(c._tag === "Fail" ? c.error : undefined)))))
        })
      for (const layer of [Redis.layer({ url }), Resilience.layerRedis({ url, namespace: "n" })]) {
        const message = yield* messageOf(layer)
        expect(message).toContain("url: must be a redis:// or rediss:// URL")
        expect(message).toContain("[redacted]@redis.internal:6379")
        expect(message).not.toContain("s3cret-pw")
        expect(message).not.toContain("worker")
      }
    }))
})
