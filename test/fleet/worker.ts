/**
 * One worker of the fleet tests: an OS process of its own (run with tsx),
 * with its own breaker, retry budget and rate limiter, either shared with
 * the other workers through Redis (`Resilience.layerRedis`) or its own
 * (`Resilience.layer` and `RateLimits.layerMemory`). It reads commands, one
 * JSON line each, on stdin, and answers each with one `RESULT {json}` line
 * on stdout; its log lines go to stderr.
 *
 * A call is one attempt (no retry, so that every request the server counts
 * is a decision of the limiter or the breaker): the limiter admits it, the
 * breaker lets it through, then one POST to the server; the response's
 * snapshot (or its error) is fed back to the limiter.
 */
import * as Readline from "node:readline"
import { Cause, Chunk, Context, Effect, Exit, Layer, Logger, Option, Queue, Stream } from "effect"
import { ApiError, CircuitBreaker, RateLimits, Redis, Resilience } from "../../src/index.js"

interface Config {
  readonly name: string
  readonly baseUrl: string
  readonly redisUrl?: string
  readonly namespace?: string
  readonly breaker?: CircuitBreaker.Options
}

interface RunCommand {
  readonly cmd: "run"
  readonly calls: number
  readonly concurrency: number
  /** Each call's own limit: past it the call fails with a timeout. */
  readonly timeoutMs: number
  readonly maxWaitMs?: number
  /** Through the services shared in Redis (the default), or through this process's own. */
  readonly shared?: boolean
}

type Command = RunCommand | { readonly cmd: "events" } | { readonly cmd: "exit" }

const config = JSON.parse(process.argv[2] ?? "{}") as Config

const body = JSON.stringify({ model: "claude-test", max_tokens: 16, messages: [{ role: "user", content: "hi" }] })
const cost = RateLimits.estimate(JSON.parse(body))

const send = Effect.tryPromise({
  try: async (signal) => {
    const response = await fetch(`${config.baseUrl}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-worker": config.name },
      body,
      signal
    })
    const headers: Record<string, string> = {}
    response.headers.forEach((value, key) => {
      headers[key] = value
    })
    return { status: response.status, headers, text: await response.text() }
  },
  catch: (cause) =>
    ApiError.transportError({ reason: "Transport", method: "POST", url: `${config.baseUrl}/v1/messages`, detail: String(cause) })
})

// the services shared with the other workers through Redis, and this process's own
const SharedLive = config.redisUrl === undefined
  ? undefined
  : Resilience.layerRedis({
    url: config.redisUrl,
    namespace: config.namespace ?? "fleet",
    breaker: config.breaker,
    // the quota server's limits are per second, not per minute
    limiter: { period: "1 second" },
    redis: { commandTimeout: "1 second", recheckInterval: "200 millis" }
  })
const OwnLive = Layer.mergeAll(Resilience.layer({ breaker: config.breaker }), RateLimits.layerMemory({ period: "1 second" }))

const StderrLogger = Logger.replace(
  Logger.defaultLogger,
  Logger.make(({ logLevel, message }) => {
    process.stderr.write(`[${config.name}] ${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}\n`)
  })
)

const program = Effect.gen(function*() {
  const own = yield* Layer.build(OwnLive)
  const shared = SharedLive === undefined ? undefined : yield* Layer.build(SharedLive)
  const events: Array<string> = []
  if (shared !== undefined) {
    const redis = Context.get(shared, Redis.Redis)
    const queue = yield* redis.subscribe
    yield* Effect.forkScoped(Stream.fromQueue(queue).pipe(Stream.runForEach((event) => Effect.sync(() => events.push(event._tag)))))
    events.push(`start:${yield* redis.status}`)
  }

  const call = (run: RunCommand) =>
    Effect.gen(function*() {
      const services = run.shared === false || shared === undefined ? own : shared
      const limiter = Context.get(services, RateLimits.Limiter)
      const breaker = Context.get(services, CircuitBreaker.CircuitBreaker)
      yield* limiter.admit(cost, run.maxWaitMs === undefined ? undefined : { maxWait: run.maxWaitMs })
      const response = yield* breaker.protect(Effect.flatMap(send, (response) => {
        if (response.status === 200) return Effect.succeed(response)
        return Effect.fail(ApiError.fromResponse({ status: response.status, headers: response.headers, body: response.text }))
      }).pipe(Effect.tapError((error) => limiter.record(error))))
      yield* limiter.observe(RateLimits.parse(response.headers))
      return "Success"
    }).pipe(Effect.timeoutFail({ duration: run.timeoutMs, onTimeout: () => "Timeout" as const }))

  const runCalls = (run: RunCommand) =>
    Effect.gen(function*() {
      const started = Date.now()
      const exits = yield* Effect.forEach(
        Array.from({ length: run.calls }),
        () => Effect.exit(call(run)),
        { concurrency: run.concurrency }
      )
      const outcomes: Record<string, number> = {}
      for (const exit of exits) {
        const tag = Exit.isSuccess(exit)
          ? "Success"
          : Option.match(Cause.failureOption(exit.cause), {
            onNone: () => Cause.isInterruptedOnly(exit.cause) ? "Interrupted" : "Defect",
            onSome: (error) => typeof error === "string" ? error : error._tag
          })
        outcomes[tag] = (outcomes[tag] ?? 0) + 1
      }
      return { outcomes, calls: exits.length, millis: Date.now() - started }
    })

  const lines = Readline.createInterface({ input: process.stdin })
  const commands = yield* Queue.unbounded<Command>()
  lines.on("line", (line) => {
    if (line.trim() !== "") Queue.unsafeOffer(commands, JSON.parse(line) as Command)
  })
  lines.on("close", () => Queue.unsafeOffer(commands, { cmd: "exit" }))
  process.stdout.write(`READY ${JSON.stringify({ name: config.name })}\n`)
  while (true) {
    const command = yield* Queue.take(commands)
    if (command.cmd === "exit") break
    const result = command.cmd === "run"
      ? yield* runCalls(command)
      : { events: Chunk.toReadonlyArray(Chunk.fromIterable(events)) }
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
  }
  lines.close()
})

Effect.runPromise(program.pipe(Effect.scoped, Effect.provide(StderrLogger))).then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`[${config.name}] failed: ${String(error)}\n`)
    process.exit(1)
  }
)
