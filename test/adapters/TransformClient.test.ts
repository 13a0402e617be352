/**
 * Issue 16, `@effect/ai`: `Resilience.transformClient` inside
 * `AnthropicClient.layer({ transformClient })`, with
 * `LanguageModel.generateText` / `streamText` through
 * `AnthropicLanguageModel`, against scripted loopback servers. The waits run
 * on the test's TestClock (virtual time over real sockets) with
 * `Random.fixed([0.5])`: full jitter waits 500 ms, then 1 000 ms.
 */
import * as AnthropicClient from "@effect/ai-anthropic/AnthropicClient"
import * as AnthropicLanguageModel from "@effect/ai-anthropic/AnthropicLanguageModel"
import * as LanguageModel from "@effect/ai/LanguageModel"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Resilience from "../../src/Resilience.js"
import { runVirtual, virtualNow } from "../support/virtualTime.js"
import { makeCapture } from "../support/capture.js"
import { httpServer } from "../support/hostileServer.js"
import { okBody } from "../support/scripted.js"
import { error as errorOf, internal, key, overloaded, script, spendLimit } from "./support.js"

type Transform = ReturnType<typeof Resilience.transformClient>

/** @effect/ai's Anthropic model on `url`, through `transformClient` when given. */
const modelOn = (url: string, transformClient?: Transform) =>
  AnthropicLanguageModel.model("claude-sonnet-5-5").pipe(
    Layer.provide(AnthropicClient.layer({
      apiKey: Redacted.make(key),
      apiUrl: url,
      ...(transformClient === undefined ? {} : { transformClient })
    })),
    Layer.provide(NodeHttpClient.layerUndici)
  )

const generate = (url: string, transformClient?: Transform) =>
  LanguageModel.generateText({ prompt: "Hello" }).pipe(
    Effect.provide(modelOn(url, transformClient)),
    Effect.withRandom(Random.fixed([0.5])),
    runVirtual,
    Effect.exit
  )

/** What @effect/ai reported: its error's tag, reason, description, body and the response's status. */
const reportOf = (exit: Exit.Exit<unknown, unknown>) => {
  const error = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
  const e = error as {
    readonly _tag: string
    readonly reason?: string
    readonly description?: string
    readonly body?: string
    readonly response?: { readonly status: number }
  }
  return { _tag: e._tag, reason: e.reason, description: e.description, body: e.body, status: e.response?.status }
}

describe("Resilience.transformClient in @effect/ai", () => {
  it.scoped("generateText: 529, 529, 200 succeeds after 3 requests, the waits 500 ms and 1 000 ms", () =>
    Effect.gen(function*() {
      const server = yield* script([overloaded, overloaded])
      const exit = yield* generate(server.url, Resilience.transformClient())
      expect(Exit.isSuccess(exit)).toBe(true)
      if (Exit.isSuccess(exit)) expect(exit.value.text).toBe("ok")
      expect(server.requests).toHaveLength(3)
      expect(yield* virtualNow).toBe(1500)
      expect(new Set(server.requests.map((r) => r.body)).size).toBe(1)
    }))

  it.scoped("generateText: a spend-limit 429 is sent once, and @effect/ai reports it as it does without the adapter", () =>
    Effect.gen(function*() {
      const server = yield* script([spendLimit])
      const exit = yield* generate(server.url, Resilience.transformClient())
      expect(server.requests).toHaveLength(1)
      expect(yield* virtualNow).toBe(0)
      const without = yield* script([spendLimit])
      const plain = yield* generate(without.url)
      expect(without.requests).toHaveLength(1)
      // the same error, field for field, with the adapter and without it
      const reported = reportOf(exit)
      expect(reported).toMatchObject({ _tag: "HttpResponseError", reason: "StatusCode", status: 429 })
      expect(reported.body).toContain("spend limit")
      expect(reported).toEqual(reportOf(plain))
    }))

  it.scoped("streamText: a stream answered 529 before any byte is retried, the text after 2 requests", () =>
    Effect.gen(function*() {
      const server = yield* script([overloaded])
      const parts = yield* LanguageModel.streamText({ prompt: "Hello" }).pipe(
        Stream.runCollect,
        Effect.provide(modelOn(server.url, Resilience.transformClient())),
        Effect.withRandom(Random.fixed([0.5])),
        runVirtual
      )
      const text = Chunk.toReadonlyArray(parts).flatMap((part) => (part.type === "text-delta" ? [part.delta] : [])).join("")
      expect(text).toBe("Hello, streamed")
      expect(server.requests).toHaveLength(2)
      expect(yield* virtualNow).toBe(500)
    }))

  it.scoped("without the adapter (the column it is compared with): every script ends after 1 request", () =>
    Effect.gen(function*() {
      const cases = [
        { replies: [overloaded, overloaded], status: 529 },
        { replies: [{ ...overloaded, headers: { "retry-after": "3600" } }], status: 529 },
        { replies: [internal, internal, internal], status: 500 }
      ]
      for (const { replies, status } of cases) {
        const server = yield* script(replies)
        expect(reportOf(yield* generate(server.url))).toMatchObject({ _tag: "HttpResponseError", status })
        expect(server.requests).toHaveLength(1)
      }
      const cut = yield* httpServer((_request, res) => res.socket?.destroy())
      expect(reportOf(yield* generate(cut.url))).toMatchObject({ _tag: "HttpRequestError", reason: "Transport" })
      expect(cut.requests).toHaveLength(1)
      const streamed = yield* script([overloaded])
      const streamExit = yield* LanguageModel.streamText({ prompt: "Hello" }).pipe(
        Stream.runCollect,
        Effect.provide(modelOn(streamed.url)),
        Effect.exit
      )
      expect(reportOf(streamExit)).toMatchObject({ _tag: "HttpResponseError", status: 529 })
      expect(streamed.requests).toHaveLength(1)
    }))
})

describe("Resilience.transformClient: the rest of the policy", () => {
  it.scoped("retry-after: 3600 gives up at once (no wait taken): 1 request, the 529 reported as without the adapter", () =>
    Effect.gen(function*() {
      const server = yield* script([{ ...overloaded, headers: { "retry-after": "3600" } }])
      const exit = yield* generate(server.url, Resilience.transformClient())
      expect(reportOf(exit)).toMatchObject({ _tag: "HttpResponseError", status: 529 })
      expect(server.requests).toHaveLength(1)
      expect(yield* virtualNow).toBe(0)
    }))

  it.scoped("500, 500: 2 requests (a 500 is retried once)", () =>
    Effect.gen(function*() {
      const server = yield* script([internal, internal, internal])
      const exit = yield* generate(server.url, Resilience.transformClient())
      expect(reportOf(exit)).toMatchObject({ _tag: "HttpResponseError", status: 500 })
      expect(server.requests).toHaveLength(2)
    }))

  it.scoped("a connection cut is retried: the answer after 2 requests", () =>
    Effect.gen(function*() {
      let n = 0
      const server = yield* httpServer((_request, res) => {
        if (n++ === 0) return res.socket?.destroy()
        res.writeHead(200, { "content-type": "application/json" })
        res.end(okBody(1))
      })
      const exit = yield* generate(server.url, Resilience.transformClient())
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(server.requests).toHaveLength(2)
      expect(yield* virtualNow).toBe(500)
    }))

  it.scoped("cut every time: 6 requests, then the transport error as the platform reported it (HttpRequestError)", () =>
    Effect.gen(function*() {
      const server = yield* httpServer((_request, res) => res.socket?.destroy())
      const exit = yield* generate(server.url, Resilience.transformClient())
      expect(reportOf(exit)).toMatchObject({ _tag: "HttpRequestError", reason: "Transport" })
      expect(server.requests).toHaveLength(6)
    }))

  it.scoped("the breaker and budget of the caller's context are used when it has them (Resilience.layer)", () =>
    Effect.gen(function*() {
      const server = yield* script(Array.from({ length: 4 }, () => overloaded))
      const transformClient = Resilience.transformClient()
      // a budget that refuses every retry: 1 request
      const refused = yield* generate(server.url, transformClient).pipe(
        Effect.provide(Resilience.layer({ budget: { percent: 0, minRetriesPerSecond: 0 } }))
      )
      expect(reportOf(refused)).toMatchObject({ status: 529 })
      expect(server.requests).toHaveLength(1)
      // the same transform without them: its own budget (the defaults), retries allowed
      const own = yield* script([overloaded])
      expect(Exit.isSuccess(yield* generate(own.url, transformClient))).toBe(true)
      expect(own.requests).toHaveLength(2)
    }))

  it.scoped("its own breaker, built once per transformClient call, opens and refuses: a RequestError caused by CircuitOpenError, nothing sent", () =>
    Effect.gen(function*() {
      const server = yield* script(Array.from({ length: 10 }, () => overloaded))
      const transformClient = Resilience.transformClient({
        retry: { maxRetries: 0 },
        breaker: { minimumCalls: 2, failureRateThreshold: 0.5 }
      })
      // two layers, one transform: one breaker
      yield* generate(server.url, transformClient)
      yield* generate(server.url, transformClient)
      expect(server.requests).toHaveLength(2)
      const exit = yield* generate(server.url, transformClient)
      const error = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
      expect(error).toMatchObject({ _tag: "HttpRequestError", reason: "Transport" })
      expect(String((error as { description?: string }).description)).toContain("Circuit breaker open")
      expect(server.requests).toHaveLength(2)
      // another transformClient call: another breaker, closed
      yield* generate(server.url, Resilience.transformClient({ retry: { maxRetries: 0 } }))
      expect(server.requests).toHaveLength(3)
    }))

  it.scoped("invalid options: each request fails with a RequestError describing every problem; nothing sent, nothing thrown", () =>
    Effect.gen(function*() {
      const server = yield* script([])
      const transformClient = Resilience.transformClient({ retry: { maxRetires: 3 } as never, budget: { percent: -1 } })
      const exit = yield* generate(server.url, transformClient)
      const error = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
      expect(error).toMatchObject({ _tag: "HttpRequestError", reason: "Transport" })
      const description = String((error as { description?: string }).description)
      expect(description).toContain("Invalid Resilience.transformClient options")
      expect(description).toContain("retry.maxRetires")
      expect(description).toContain("budget.percent")
      expect(server.requests).toHaveLength(0)
      for (const options of [null, "x", { breaker: null }]) {
        const f = Resilience.transformClient(options as never)
        expect(reportOf(yield* generate(server.url, f))).toMatchObject({ _tag: "HttpRequestError" })
      }
      expect(server.requests).toHaveLength(0)
    }))

  it.scoped("a Stream request body is buffered once and sent whole on every attempt", () =>
    Effect.gen(function*() {
      const server = yield* script([overloaded])
      const client = (yield* HttpClient.HttpClient).pipe(Resilience.transformClient())
      const text = "z".repeat(50_000)
      const body = HttpBody.stream(Stream.make(text.slice(0, 25_000), text.slice(25_000)).pipe(Stream.encodeText), "text/plain")
      const response = yield* client.execute(HttpClientRequest.post(`${server.url}/v1/messages`, { body })).pipe(
        Effect.withRandom(Random.fixed([0.5])),
        runVirtual
      )
      expect(response.status).toBe(200)
      expect(server.requests.map((r) => r.body.length)).toEqual([50_000, 50_000])
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.scoped("the last response is handed back with the same status, headers and body", () =>
    Effect.gen(function*() {
      const body = { type: "error", error: { type: "invalid_request_error", message: "bad" }, request_id: "req_x" }
      const server = yield* script([{ status: 400, body, headers: { "x-extra": "1" } }])
      const client = (yield* HttpClient.HttpClient).pipe(Resilience.transformClient())
      const response = yield* client.execute(HttpClientRequest.post(`${server.url}/v1/messages`))
      expect(response.status).toBe(400)
      expect(response.headers["x-extra"]).toBe("1")
      expect(response.headers["request-id"]).toBe("req_adapter_0")
      expect(yield* response.json).toEqual(body)
      expect(server.requests).toHaveLength(1)
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))
})

describe("Resilience.transformClient: the key", () => {
  it.scoped("never in a log line, a span or an error of the adapter, even when the server echoes it", () =>
    Effect.gen(function*() {
      const capture = makeCapture()
      let n = 0
      const server = yield* httpServer((request, res) => {
        const echoed = String(request.headers["x-api-key"] ?? "")
        if (n++ < 2) {
          res.writeHead(529, { "content-type": "application/json", "request-id": `req_${echoed}`, "x-echo": echoed })
          return res.end(JSON.stringify({ ...errorOf("overloaded_error", `Overloaded for ${echoed}`), request_id: `req_${echoed}` }))
        }
        res.writeHead(200, { "content-type": "application/json" })
        res.end(okBody(2))
      })
      const exit = yield* generate(server.url, Resilience.transformClient()).pipe(
        Effect.provide(Logger.remove(Logger.defaultLogger)),
        capture.provide
      )
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(server.requests).toHaveLength(3)
      const seen = capture.everything([])
      expect(seen.spans).toContain("Resilience.transformClient")
      expect(seen.spans).toContain("retry.wait_ms")
      expect(seen.logs).toContain("retrying after OverloadedError")
      expect(seen.logs).toContain("[redacted]")
      // the spans of the platform's attempts under the adapter: the echoed header scrubbed
      expect(seen.spans).toContain("http.response.header.x-echo")
      capture.assertNoLeak(key, [exit])
    }))
})

