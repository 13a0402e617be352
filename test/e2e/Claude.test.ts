/**
 * The Claude client's layers, options, headers, spans and metrics, and its
 * clean shutdown, end to end over loopback. The error table, streams,
 * batches, the breaker and the key hygiene have files of their own
 * (ClaudeErrors, ClaudeStream, ClaudeBatches, ClaudeBreaker, ClaudeSecrets).
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Supervisor from "effect/Supervisor"
import * as TestServices from "effect/TestServices"
import * as Net from "node:net"
import * as Config from "effect/Config"
import { CircuitBreaker, Claude, Options, Resilience, RetryBudget, RetryPolicy } from "../../src/index.js"
import { Emulator } from "../../src/testing/index.js"
import { runVirtual } from "../support/virtualTime.js"
import { arrivals, countParams, defaultText, failureOf, makeTracer, oneFailure, params, withClaude } from "./support.js"

const { Reply } = Emulator

const create = Effect.flatMap(Claude.Claude, (claude) => claude.messages.create(params))

const liveSleep = (millis: number) => TestServices.provideLive(Effect.sleep(millis))

/** Whether a TCP connection to the port on loopback is accepted (false: refused). */
const connects = (port: number) =>
  Effect.async<boolean>((resume) => {
    const socket = Net.connect({ host: "127.0.0.1", port })
    socket.once("connect", () => {
      socket.destroy()
      resume(Effect.succeed(true))
    })
    socket.once("error", (error: NodeJS.ErrnoException) => {
      socket.destroy()
      resume(error.code === "ECONNREFUSED" ? Effect.succeed(false) : Effect.die(error))
    })
  })

/** Polls (in real time, at most ~2 s) until `condition` holds. */
const eventually = <E, R>(condition: Effect.Effect<boolean, E, R>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 400; i++) {
      if (yield* condition) return true
      yield* liveSleep(5)
    }
    return yield* condition
  })

/** Node's open TCP handles: sockets and servers. */
const tcpHandles = () => {
  const info = process.getActiveResourcesInfo()
  return {
    sockets: info.filter((name) => name === "TCPSocketWrap").length,
    servers: info.filter((name) => name === "TCPServerWrap").length
  }
}

/** Builds the emulator-wired client in a scope of its own, to close by hand. */
const buildIn = (options: Parameters<typeof Emulator.layerClaude>[0]) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(Emulator.layerClaude(options), scope)
    const emulator = Context.get(context, Emulator.Emulator)
    return {
      scope,
      claude: Context.get(context, Claude.Claude),
      emulator,
      port: Number(new URL(emulator.url).port)
    }
  })

describe("Claude e2e: the client over loopback", () => {
  it.effect("create: the Message, one POST with the documented headers and body", () =>
    Effect.gen(function*() {
      const message = yield* runVirtual(create)
      expect(message).toMatchObject({
        id: "msg_emu_000001",
        type: "message",
        role: "assistant",
        model: params.model,
        content: [{ type: "text", text: defaultText }],
        stop_reason: "end_turn"
      })
      const [request, ...others] = yield* Effect.flatMap(Emulator.Emulator, (e) => e.requests)
      expect(others).toHaveLength(0)
      expect(request).toMatchObject({ method: "POST", path: "/v1/messages", receivedAt: 0 })
      expect(request?.headers["x-api-key"]).toBe(Emulator.testApiKey)
      expect(request?.headers["anthropic-version"]).toBe("2023-06-01")
      expect(request?.headers["content-type"]).toBe("application/json")
      expect(request?.headers["anthropic-beta"]).toBeUndefined()
      expect(Option.getOrUndefined(request!.json)).toEqual(params)
    }).pipe(withClaude()))

  it.effect("beta flags go comma-separated in anthropic-beta; apiVersion replaces the version", () =>
    Effect.gen(function*() {
      yield* runVirtual(create)
      const [request] = yield* Effect.flatMap(Emulator.Emulator, (e) => e.requests)
      expect(request?.headers["anthropic-beta"]).toBe("context-1m-2025-08-07,files-api-2025-04-14")
      expect(request?.headers["anthropic-version"]).toBe("2099-01-01")
    }).pipe(withClaude({
      client: { beta: ["context-1m-2025-08-07", "files-api-2025-04-14"], apiVersion: "2099-01-01" }
    })))

  it.effect("unknown content blocks, fields and stop reasons decode (forward compatible)", () =>
    Effect.gen(function*() {
      const message = yield* runVirtual(create)
      expect(message.stop_reason).toBe("a_reason_from_the_future")
      expect(message.content[0]).toMatchObject({ type: "unknown", raw: { type: "hologram", depth: 3 } })
      expect(message.content[1]).toMatchObject({ type: "text", text: "ok", sparkle: true })
    }).pipe(withClaude({
      script: () =>
        Reply.Ok({
          content: [{ type: "hologram", depth: 3 }, { type: "text", text: "ok", sparkle: true }],
          stopReason: "a_reason_from_the_future"
        })
    })))

  it.effect("a RetryPolicy value given as the retry option is the one applied", () =>
    Effect.gen(function*() {
      const error = yield* failureOf(create)
      expect(error._tag).toBe("ServiceUnavailableError")
      expect(yield* arrivals).toEqual([0, 250, 750])
    }).pipe(withClaude({
      client: { retry: Either.getOrThrow(RetryPolicy.make({ base: "250 millis", maxRetries: 2, jitter: "none" })) },
      script: () => Reply.Error({ status: 503 })
    })))
})

describe("Claude e2e: spans and metrics", () => {
  it.effect("a call's span, one claude.attempt span per attempt (number, outcome, request id), the platform's http.client span in each", () => {
    const traced = makeTracer()
    return Effect.gen(function*() {
      yield* runVirtual(create)
      const call = traced.spans.filter((span) => span.name === "claude.messages.create")
      expect(call).toHaveLength(1)
      expect(Object.fromEntries(call[0]!.attributes)).toMatchObject({
        "claude.method": "POST",
        "claude.path": "/v1/messages"
      })
      const attempts = traced.spans.filter((span) => span.name === "claude.attempt")
      expect(attempts.map((span) => span.parent)).toEqual([call[0]!.spanId, call[0]!.spanId, call[0]!.spanId])
      expect(attempts.map((span) => span.startTime)).toEqual([0n, 500_000_000n, 1_500_000_000n])
      const own = (span: { readonly attributes: Map<string, unknown> }) =>
        Object.fromEntries([...span.attributes].filter(([key]) => key.startsWith("claude.")))
      expect(attempts.map(own)).toEqual([
        {
          "claude.endpoint": "messages.create",
          "claude.attempt": 1,
          "claude.outcome": "OverloadedError",
          "claude.request_id": "req_emu_000001"
        },
        {
          "claude.endpoint": "messages.create",
          "claude.attempt": 2,
          "claude.outcome": "OverloadedError",
          "claude.request_id": "req_emu_000002"
        },
        { "claude.endpoint": "messages.create", "claude.attempt": 3, "claude.outcome": "Success" }
      ])
      const http = traced.spans.filter((span) => span.name === "http.client POST")
      expect(http.map((span) => span.parent)).toEqual(attempts.map((span) => span.spanId))
      expect(http.map((span) => span.attributes.get("http.response.status_code"))).toEqual([529, 529, 200])
      // the waits are the policy's decisions, annotated on the call's span (the
      // last one stays), not rebuilt from the attempts' times
      expect(call[0]!.attributes.get("retry.wait_ms")).toBe(1000)
      expect(call[0]!.attributes.get("retry.attempt")).toBe(2)
    }).pipe(
      withClaude({ script: Emulator.sequence([Reply.Error({ status: 529 }), Reply.Error({ status: 529 })]) }),
      Effect.withTracer(traced.tracer)
    )
  })

  it.effect("a stream's span covers the whole stream; batches.list sends its paging as a query", () => {
    const traced = makeTracer()
    return Effect.gen(function*() {
      const claude = yield* Claude.Claude
      yield* runVirtual(Stream.runDrain(claude.messages.stream(params)))
      yield* runVirtual(claude.batches.list({ limit: 5, afterId: "msgbatch_a" }))
      const stream = traced.spans.filter((span) => span.name === "claude.messages.stream")
      expect(stream).toHaveLength(1)
      expect(stream[0]!.exit !== undefined && Exit.isSuccess(stream[0]!.exit)).toBe(true)
      const list = traced.spans.find((span) => span.name === "http.client GET")
      expect(list?.attributes.get("url.path")).toBe("/v1/messages/batches")
      expect(list?.attributes.get("url.query")).toBe("limit=5&after_id=msgbatch_a")
      const recorded = yield* Effect.flatMap(Emulator.Emulator, (e) => e.requests)
      expect(recorded.at(-1)).toMatchObject({ method: "GET", path: "/v1/messages/batches", query: "limit=5&after_id=msgbatch_a" })
    }).pipe(withClaude(), Effect.withTracer(traced.tracer))
  })

  it.effect("metrics: attempts by endpoint, outcomes by tag, the waits before retries", () =>
    Effect.gen(function*() {
      const attempts = Metric.tagged(Claude.attemptsTotal, "endpoint", "messages.create")
      const outcome = (tag: string) =>
        Metric.tagged(Metric.tagged(Claude.outcomesTotal, "endpoint", "messages.create"), "outcome", tag)
      const read = Effect.all({
        attempts: Metric.value(attempts),
        overloaded: Metric.value(outcome("OverloadedError")),
        success: Metric.value(outcome("Success")),
        waits: Metric.value(RetryPolicy.retryWaitMillis)
      })
      const before = yield* read
      yield* runVirtual(create)
      const after = yield* read
      expect(after.attempts.count - before.attempts.count).toBe(3)
      expect(after.overloaded.count - before.overloaded.count).toBe(2)
      expect(after.success.count - before.success.count).toBe(1)
      expect(after.waits.count - before.waits.count).toBe(2)
      expect(after.waits.sum - before.waits.sum).toBe(1500)
    }).pipe(withClaude({ script: Emulator.sequence([Reply.Error({ status: 529 }), Reply.Error({ status: 529 })]) })))
})

describe("Claude e2e: layerConfig", () => {
  const config = (entries: ReadonlyArray<readonly [string, string]>) =>
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(entries)))
  const live = Layer.merge(NodeHttpClient.layer, Resilience.layer())

  it.effect("reads ANTHROPIC_API_KEY (as Redacted) and ANTHROPIC_BASE_URL", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const claude = yield* Layer.build(Claude.layerConfig()).pipe(
        Effect.map(Context.get(Claude.Claude)),
        Effect.provide(live),
        config([["ANTHROPIC_API_KEY", Emulator.testApiKey], ["ANTHROPIC_BASE_URL", `${emulator.url}/`]])
      )
      const message = yield* runVirtual(claude.messages.create(params))
      expect(message.type).toBe("message")
      const [request] = yield* emulator.requests
      expect(request?.path).toBe("/v1/messages")
      expect(request?.headers["x-api-key"]).toBe(Emulator.testApiKey)
    }).pipe(Effect.scoped, Effect.provide(Emulator.layer({ apiKey: Emulator.testApiKey }))))

  it.effect("takes every other option as a Config, nested ones too", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const claude = yield* Layer.build(
        Claude.layerConfig({ retry: { maxRetries: Config.integer("RETRIES") }, beta: Config.string("BETA") })
      ).pipe(
        Effect.map(Context.get(Claude.Claude)),
        Effect.provide(live),
        config([
          ["ANTHROPIC_API_KEY", Emulator.testApiKey],
          ["ANTHROPIC_BASE_URL", emulator.url],
          ["RETRIES", "0"],
          ["BETA", "b-1"]
        ])
      )
      const error = yield* failureOf(claude.messages.create(params))
      expect(error._tag).toBe("OverloadedError")
      const requests = yield* emulator.requests
      expect(requests).toHaveLength(1)
      expect(requests[0]?.headers["anthropic-beta"]).toBe("b-1")
    }).pipe(
      Effect.scoped,
      Effect.provide(Emulator.layer({ apiKey: Emulator.testApiKey, script: () => Reply.Error({ status: 529 }) })),
      Effect.withRandom(Random.fixed([0.5]))
    ))

  it.effect("a missing ANTHROPIC_API_KEY is a ConfigError that names it", () =>
    Effect.gen(function*() {
      const error = yield* Layer.build(Claude.layerConfig()).pipe(
        Effect.provide(live),
        config([["ANTHROPIC_BASE_URL", "http://127.0.0.1:1"]]),
        Effect.scoped,
        Effect.flip
      )
      expect(ConfigError.isConfigError(error)).toBe(true)
      expect(String(error)).toContain("ANTHROPIC_API_KEY")
    }))

  it.effect("an invalid ANTHROPIC_BASE_URL is an InvalidOptionsError at baseUrl", () =>
    Effect.gen(function*() {
      const error = yield* Layer.build(Claude.layerConfig()).pipe(
        Effect.provide(live),
        config([["ANTHROPIC_API_KEY", "sk-ant-config-test"], ["ANTHROPIC_BASE_URL", "api.anthropic.com"]]),
        Effect.scoped,
        Effect.flip
      )
      expect(error).toBeInstanceOf(Options.InvalidOptionsError)
      expect(error).toMatchObject({ module: "Claude", problems: [{ path: "baseUrl" }] })
      expect(String(error)).not.toContain("sk-ant-config-test")
    }))

  it.effect("without ANTHROPIC_BASE_URL the client calls https://api.anthropic.com", () =>
    Effect.gen(function*() {
      const seen = yield* Ref.make<ReadonlyArray<{ url: string; headers: Record<string, string> }>>([])
      const fake = HttpClient.make((request) =>
        Effect.as(
          Ref.update(seen, (all) => [...all, { url: request.url, headers: { ...request.headers } }]),
          HttpClientResponse.fromWeb(
            request,
            new Response(JSON.stringify({ type: "error", error: { type: "not_found_error", message: "no" } }), {
              status: 404,
              headers: { "content-type": "application/json", "request-id": "req_fake" }
            })
          )
        )
      )
      const claude = yield* Layer.build(Claude.layerConfig()).pipe(
        Effect.map(Context.get(Claude.Claude)),
        Effect.provide(Layer.merge(Layer.succeed(HttpClient.HttpClient, fake), Resilience.layer())),
        config([["ANTHROPIC_API_KEY", "sk-ant-config-test"]])
      )
      const error = yield* failureOf(claude.messages.countTokens(countParams))
      expect(error).toMatchObject({ _tag: "NotFoundError", requestId: Option.some("req_fake") })
      const [request, ...others] = yield* Ref.get(seen)
      expect(others).toHaveLength(0)
      expect(request?.url).toBe("https://api.anthropic.com/v1/messages/count_tokens")
      expect(request?.headers["x-api-key"]).toBe("sk-ant-config-test")
      expect(request?.headers["anthropic-version"]).toBe("2023-06-01")
    }).pipe(Effect.scoped))

  it.effect("apiKey and baseUrl given as Config replace ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const claude = yield* Layer.build(
        Claude.layerConfig({ apiKey: Config.redacted("MY_KEY"), baseUrl: Config.string("MY_URL") })
      ).pipe(
        Effect.map(Context.get(Claude.Claude)),
        Effect.provide(live),
        config([
          ["MY_KEY", Emulator.testApiKey],
          ["MY_URL", emulator.url],
          ["ANTHROPIC_API_KEY", "sk-ant-not-this-one"],
          ["ANTHROPIC_BASE_URL", "http://127.0.0.1:9"]
        ])
      )
      const message = yield* runVirtual(claude.messages.create(params))
      expect(message.type).toBe("message")
      const [request] = yield* emulator.requests
      expect(request?.headers["x-api-key"]).toBe(Emulator.testApiKey)
    }).pipe(Effect.scoped, Effect.provide(Emulator.layer({ apiKey: Emulator.testApiKey }))))

  it.effect("an option's Config that is missing is a ConfigError naming it; one that reads wrong is an InvalidOptionsError at its path", () =>
    Effect.gen(function*() {
      const missing = yield* Layer.build(Claude.layerConfig({ retry: { maxRetries: Config.integer("RETRIES") } })).pipe(
        Effect.provide(live),
        config([["ANTHROPIC_API_KEY", "sk-ant-config-test"]]),
        Effect.scoped,
        Effect.flip
      )
      expect(ConfigError.isConfigError(missing)).toBe(true)
      expect(String(missing)).toContain("RETRIES")
      const invalid = yield* Layer.build(
        Claude.layerConfig({ retry: { maxRetries: Config.integer("RETRIES") }, requestTimeout: Config.duration("TIMEOUT") })
      ).pipe(
        Effect.provide(live),
        config([["ANTHROPIC_API_KEY", "sk-ant-config-test"], ["RETRIES", "-1"], ["TIMEOUT", "0 seconds"]]),
        Effect.scoped,
        Effect.flip
      )
      expect(invalid).toBeInstanceOf(Options.InvalidOptionsError)
      expect((invalid as Options.InvalidOptionsError).problems.map((p) => p.path)).toEqual([
        "retry.maxRetries",
        "requestTimeout"
      ])
    }))

  it.effect("options that are not Configs from untyped code (null, a plain value, a throwing getter): a typed error or the value taken as it is, never a throw", () =>
    Effect.gen(function*() {
      const build = (options: unknown) =>
        Layer.build(Claude.layerConfig(options as Parameters<typeof Claude.layerConfig>[0])).pipe(
          Effect.provide(live),
          config([["ANTHROPIC_API_KEY", "sk-ant-config-test"]]),
          Effect.scoped,
          Effect.exit
        )
      const throwing = Object.defineProperty({}, "longRequests", {
        enumerable: true,
        get() {
          throw new Error("boom")
        }
      })
      for (const [options, path] of [[null, ""], ["fast", ""], [throwing, ""], [{ longRequests: "strem" }, "longRequests"]] as const) {
        const error = oneFailure(yield* build(options))
        expect(error).toBeInstanceOf(Options.InvalidOptionsError)
        expect((error as Options.InvalidOptionsError).problems.map((p) => p.path)).toEqual([path])
      }
      // a plain value where a Config is expected is taken as a constant
      expect(Exit.isSuccess(yield* build({ longRequests: "fail", retry: { maxRetries: 2 } }))).toBe(true)
    }))
})

describe("Claude e2e: invalid options are typed layer errors", () => {
  const live = Layer.merge(NodeHttpClient.layer, Resilience.layer())
  const build = (options: Omit<Claude.Options, "apiKey">) =>
    Layer.build(Claude.layer({ apiKey: Redacted.make("sk-ant-options-test"), ...options })).pipe(
      Effect.provide(live),
      Effect.scoped,
      Effect.flip
    )
  const untyped = <A>(u: unknown): A => u as A
  const cases: ReadonlyArray<readonly [string, Omit<Claude.Options, "apiKey">, string]> = [
    ["a base URL that does not parse", { baseUrl: "not a url" }, "baseUrl"],
    ["a base URL that is not http(s)", { baseUrl: "ftp://api.anthropic.com" }, "baseUrl"],
    ["a negative requestTimeout", { requestTimeout: -5 }, "requestTimeout"],
    ["a requestTimeout that is no duration", { requestTimeout: "soon" as Duration.DurationInput }, "requestTimeout"],
    ["a zero streamIdleTimeout", { streamIdleTimeout: 0 }, "streamIdleTimeout"],
    ["an infinite streamIdleTimeout", { streamIdleTimeout: Duration.infinity }, "streamIdleTimeout"],
    ["a maxEventSize of 0", { maxEventSize: 0 }, "maxEventSize"],
    ["a fractional maxEventSize", { maxEventSize: 1.5 }, "maxEventSize"],
    ["negative maxRetries", { retry: { maxRetries: -1 } }, "retry.maxRetries"],
    ["an unknown jitter", { retry: { jitter: "wild" as RetryPolicy.Jitter } }, "retry.jitter"],
    ["a misspelt longRequests", { longRequests: untyped("strem") }, "longRequests"],
    ["a transformClient that is not a function", { transformClient: untyped("proxy") }, "transformClient"],
    ["a beta flag with a newline", { beta: ["ok-1", "bad\nflag"] }, "beta"],
    ["an apiVersion with a space", { apiVersion: "2023 06 01" }, "apiVersion"]
  ]
  for (const [name, options, path] of cases) {
    it.effect(`${name} ⇒ InvalidOptionsError at ${path}`, () =>
      Effect.gen(function*() {
        const error = yield* build(options)
        expect(error).toBeInstanceOf(Options.InvalidOptionsError)
        expect(error.module).toBe("Claude")
        expect(error.problems.map((p) => p.path)).toEqual([path])
        expect(error.message).toContain(`${path}: `)
        expect(String(error)).not.toContain("sk-ant-options-test")
      }))
  }

  it.effect("every problem is listed at once, an unknown key with a suggestion", () =>
    Effect.gen(function*() {
      const error = yield* build(untyped({ requestTimeot: "1 minute", retry: { maxRetries: 1.5, base: -1 }, maxEventSize: 0 }))
      expect(error.problems.map((p) => p.path).sort()).toEqual(
        ["maxEventSize", "requestTimeot", "retry.base", "retry.maxRetries"]
      )
      expect(error.problems.find((p) => p.path === "requestTimeot")?.message).toContain(
        "is not an option (did you mean \"requestTimeout\"?)"
      )
    }))

  it.effect("breaker (and budget) options are refused: they are Resilience.layer's, which the message says", () =>
    Effect.gen(function*() {
      const error = yield* build(untyped({ breaker: { minimumCalls: 0 }, budget: { percent: 0.1 } }))
      expect(error.problems.map((p) => p.path)).toEqual(["breaker", "budget"])
      for (const problem of error.problems) expect(problem.message).toContain("Resilience.layer")
    }))

  it.effect("a built RetryPolicy is accepted as the retry option, and checked like raw options", () =>
    Effect.gen(function*() {
      const policy = Either.getOrThrow(RetryPolicy.make({ maxRetries: 2, jitter: "none" }))
      const settings = Either.getOrThrow(Claude.settings({ apiKey: Redacted.make("k"), retry: policy }))
      expect(RetryPolicy.isRetryPolicy(settings.retry)).toBe(true)
      expect(settings.retry).toMatchObject({ maxRetries: 2, jitter: "none" })
      // a policy tampered with from untyped code is checked like options
      const tampered = yield* build({ retry: untyped({ ...policy, maxRetries: -1 }) })
      expect(tampered.problems.map((p) => p.path)).toEqual(["retry.maxRetries"])
    }))

  it.effect("a transformClient that throws, or returns something other than an HttpClient: InvalidOptionsError at transformClient", () =>
    Effect.gen(function*() {
      const throwing = yield* build({
        transformClient: () => {
          throw new Error("no proxy configured")
        }
      })
      expect(throwing.problems).toEqual([{ path: "transformClient", message: "threw when given the client: no proxy configured" }])
      const wrong = yield* build({ transformClient: untyped(() => "a client") })
      expect(wrong.problems).toEqual([{ path: "transformClient", message: "must return an HttpClient, got \"a client\"" }])
    }))

  it("options given as a string (the key, perhaps) are refused without printing it", () => {
    const error = Either.getLeft(Claude.settings(untyped("sk-ant-PLAIN-123"))).pipe(Option.getOrThrow)
    expect(error.problems.map((p) => p.path)).toEqual([""])
    expect(JSON.stringify(error) + String(error)).not.toContain("sk-ant-PLAIN-123")
  })

  for (const [name, key] of [["a newline", "sk-ant-SECRET\ntail"], ["a NUL", "sk-ant-SECRET\u0000tail"], ["a space", "sk-ant-SECRET tail"], ["nothing", ""]] as const) {
    it.effect(`an API key with ${name} ⇒ InvalidOptionsError at apiKey, never echoing the key`, () =>
      Effect.gen(function*() {
        const error = yield* Layer.build(Claude.layer({ apiKey: Redacted.make(key) })).pipe(
          Effect.provide(live),
          Effect.scoped,
          Effect.flip
        )
        expect(error).toBeInstanceOf(Options.InvalidOptionsError)
        expect(error.problems.map((p) => p.path)).toEqual(["apiKey"])
        for (const text of [String(error), JSON.stringify(error), error.message]) {
          expect(text).not.toContain("SECRET")
        }
      }))
  }

  it.effect("a transport failure whose platform message quotes the key is scrubbed", () =>
    Effect.gen(function*() {
      const leaky = HttpClient.make((request) =>
        Effect.fail(
          new HttpClientError.RequestError({
            request,
            reason: "Transport",
            cause: new Error(`Headers.append: "${request.headers["x-api-key"]}" is an invalid header value.`)
          })
        )
      )
      const claude = yield* Layer.build(
        Claude.layer({ apiKey: Redacted.make("sk-ant-LEAKY-123"), retry: { maxRetries: 0 } })
      ).pipe(
        Effect.map(Context.get(Claude.Claude)),
        Effect.provide(Layer.merge(Layer.succeed(HttpClient.HttpClient, leaky), Resilience.layer()))
      )
      const error = yield* Effect.flip(claude.messages.countTokens(countParams))
      expect(error._tag).toBe("TransportError")
      expect(error.message).toContain("[redacted]")
      for (const text of [String(error), JSON.stringify(error), error.message]) {
        expect(text).not.toContain("sk-ant-LEAKY-123")
      }
    }).pipe(Effect.scoped))

  it.effect("an empty ANTHROPIC_BASE_URL means unset: the default base URL", () =>
    Effect.gen(function*() {
      const seen = yield* Ref.make<ReadonlyArray<string>>([])
      const fake = HttpClient.make((request) =>
        Effect.as(
          Ref.update(seen, (all) => [...all, request.url]),
          HttpClientResponse.fromWeb(request, new Response("{\"input_tokens\":3}", { status: 200 }))
        )
      )
      const claude = yield* Layer.build(Claude.layerConfig()).pipe(
        Effect.map(Context.get(Claude.Claude)),
        Effect.provide(Layer.merge(Layer.succeed(HttpClient.HttpClient, fake), Resilience.layer())),
        Effect.withConfigProvider(
          ConfigProvider.fromMap(new Map([["ANTHROPIC_API_KEY", "sk-ant-config-test"], ["ANTHROPIC_BASE_URL", " "]]))
        )
      )
      const count = yield* claude.messages.countTokens(countParams)
      expect(count.input_tokens).toBe(3)
      expect(yield* Ref.get(seen)).toEqual(["https://api.anthropic.com/v1/messages/count_tokens"])
    }).pipe(Effect.scoped))

  it.effect("the emulator-wired layer fails the same way, and nothing is sent", () =>
    Effect.gen(function*() {
      const error = yield* Layer.build(Emulator.layerClaude({ client: { requestTimeout: -1 } })).pipe(
        Effect.scoped,
        Effect.flip
      )
      expect(error).toBeInstanceOf(Options.InvalidOptionsError)
      expect(error).toMatchObject({ module: "Claude", problems: [{ path: "requestTimeout" }] })
      const resilience = yield* Layer.build(Emulator.layerClaude({ resilience: { breaker: { minimumCalls: 0 } } })).pipe(
        Effect.scoped,
        Effect.flip
      )
      expect(resilience).toMatchObject({ module: "Resilience", problems: [{ path: "breaker.minimumCalls" }] })
    }))
})

describe("Claude e2e: no leaked fibers or sockets", () => {
  it.effect("after the Layer's scope closes, the emulator's port refuses connections and no TCP handle is left", () =>
    Effect.gen(function*() {
      const before = tcpHandles()
      const { claude, port, scope } = yield* buildIn({})
      yield* runVirtual(claude.messages.create(params))
      yield* runVirtual(Stream.runDrain(claude.messages.stream(params)))
      expect(yield* connects(port)).toBe(true)
      yield* Scope.close(scope, Exit.void)
      expect(yield* connects(port)).toBe(false)
      expect(yield* eventually(Effect.sync(() => {
        const after = tcpHandles()
        return after.sockets <= before.sockets && after.servers <= before.servers
      }))).toBe(true)
    }))

  it.effect("a call stalled on its socket is interrupted when the scope closes; the port is closed", () =>
    Effect.gen(function*() {
      const { claude, emulator, port, scope } = yield* buildIn({ script: () => Reply.Stall() })
      const call = yield* Effect.forkIn(claude.messages.create(params), scope)
      expect(yield* eventually(Effect.map(emulator.requestCount, (n) => n === 1))).toBe(true)
      const closed = yield* Scope.close(scope, Exit.void).pipe(
        Effect.timeout("5 seconds"),
        TestServices.provideLive,
        Effect.option
      )
      expect(Option.isSome(closed)).toBe(true)
      const exit = yield* Fiber.await(call)
      expect(Exit.isInterrupted(exit)).toBe(true)
      expect(yield* connects(port)).toBe(false)
    }))

  it.effect("a stream stalled mid-way is interrupted when the scope closes; the port is closed", () =>
    Effect.gen(function*() {
      const { claude, port, scope } = yield* buildIn({ script: () => Reply.StreamStall({ afterEvents: 3 }) })
      const received = yield* Ref.make(0)
      const consumer = yield* Effect.forkIn(
        Stream.runForEach(claude.messages.stream(params), () => Ref.update(received, (n) => n + 1)),
        scope
      )
      expect(yield* eventually(Effect.map(Ref.get(received), (n) => n === 3))).toBe(true)
      const closed = yield* Scope.close(scope, Exit.void).pipe(
        Effect.timeout("5 seconds"),
        TestServices.provideLive,
        Effect.option
      )
      expect(Option.isSome(closed)).toBe(true)
      expect(Exit.isInterrupted(yield* Fiber.await(consumer))).toBe(true)
      expect(yield* connects(port)).toBe(false)
    }))

  it.effect("every fiber started by the emulator and the client has ended once the scope is closed (stalled, delayed and reset replies too)", () =>
    Effect.gen(function*() {
      const supervisor = yield* Supervisor.track
      const started = yield* Ref.make(0)
      yield* Effect.gen(function*() {
        const { claude, emulator, scope } = yield* buildIn({
          script: (request) =>
            request.attempt === 1
              ? Reply.Error({ status: 529 })
              : request.attempt === 2
              ? Reply.Ok({})
              : request.attempt === 3
              ? Reply.StreamStall({ afterEvents: 2 })
              : request.attempt === 4
              ? Reply.Stall()
              : request.attempt === 5
              ? Reply.Delayed({ delay: "1 hour", reply: Reply.Ok({}) })
              : Reply.Reset()
        })
        yield* runVirtual(claude.messages.create(params))
        yield* Effect.forkIn(Stream.runDrain(claude.messages.stream(params)), scope)
        yield* eventually(Effect.map(emulator.requestCount, (n) => n === 3))
        yield* Effect.forkIn(claude.messages.countTokens(countParams), scope)
        yield* eventually(Effect.map(emulator.requestCount, (n) => n === 4))
        yield* Effect.forkIn(claude.messages.countTokens(countParams), scope)
        yield* eventually(Effect.map(emulator.requestCount, (n) => n === 5))
        // a reset: the call waits for its retry on the TestClock
        yield* Effect.forkIn(claude.messages.countTokens(countParams), scope)
        expect(yield* eventually(Effect.map(emulator.requestCount, (n) => n === 6))).toBe(true)
        yield* Ref.set(started, (yield* supervisor.value).length)
        yield* Scope.close(scope, Exit.void)
      }).pipe(Effect.supervised(supervisor))
      // the supervisor saw the server's and the calls' fibers ...
      expect(yield* Ref.get(started)).toBeGreaterThanOrEqual(3)
      // ... and none is left
      expect(yield* eventually(Effect.map(supervisor.value, (fibers) => fibers.length === 0))).toBe(true)
    }))
})

// the layer's type names its three services (see Claude.test-d.ts); here:
// it provides only Claude, and its calls use the breaker and the budget given
it.effect("Claude.layer needs HttpClient, CircuitBreaker and RetryBudget, provides only Claude, and its calls use the services given", () =>
  Effect.gen(function*() {
    const layer: Layer.Layer<
      Claude.Claude,
      Options.InvalidOptionsError,
      HttpClient.HttpClient | CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget
    > = Claude.layer({ apiKey: Redacted.make(Emulator.testApiKey), baseUrl: (yield* Emulator.Emulator).url })
    const services = yield* Layer.build(Resilience.layer())
    const built = yield* Layer.build(layer).pipe(Effect.provide(NodeHttpClient.layer), Effect.provide(services))
    expect(Context.getOption(built, CircuitBreaker.CircuitBreaker).pipe(Option.isSome)).toBe(false)
    yield* runVirtual(Context.get(built, Claude.Claude).messages.countTokens(countParams))
    const breaker = Context.get(services, CircuitBreaker.CircuitBreaker)
    expect(CircuitBreaker.windowCounts(yield* breaker.state)).toEqual({ calls: 1, failures: 0 })
    const budget = Context.get(services, RetryBudget.RetryBudget)
    expect((yield* budget.balance).deposits).toBeGreaterThan(0)
  }).pipe(Effect.scoped, Effect.provide(Emulator.layer({ apiKey: Emulator.testApiKey }))))
