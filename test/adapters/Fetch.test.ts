/**
 * Issue 16, the official SDK: `Resilience.fetch` inside
 * `new Anthropic({ fetch, maxRetries: 0 })`, against scripted loopback
 * servers. The adapter's waits run on its runtime's TestClock with
 * `Random.fixed([0.5])` (full jitter: 500 ms, then 1 000 ms, 2 000 ms, …),
 * so every figure is exact; each test counts the requests the server got.
 */
import {
  APIConnectionError,
  APIUserAbortError,
  InternalServerError,
  OverloadedError,
  RateLimitError
} from "@anthropic-ai/sdk"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Predicate from "effect/Predicate"
import * as CircuitBreaker from "../../src/CircuitBreaker.js"
import * as FetchAdapter from "../../src/internal/adapters/fetch.js"
import * as Options from "../../src/Options.js"
import * as Resilience from "../../src/Resilience.js"
import { makeCapture } from "../support/capture.js"
import { httpServer } from "../support/hostileServer.js"
import { message } from "../support/wire.js"
import {
  error,
  internal,
  key,
  overloaded,
  script,
  sdkParams,
  sdkWith,
  settle,
  spendLimit,
  testLayer,
  untilAsleep,
  virtualFetch
} from "./support.js"

const failureOf = <A>(outcome: Either.Either<A, unknown>): unknown => Either.getOrThrow(Either.flip(outcome))

describe("Resilience.fetch never follows a redirect with the key", () => {
  it.scoped("a 307 to another origin: 1 request, nothing reaches the other origin, the SDK's own error with status 307", () =>
    Effect.gen(function*() {
      const elsewhere = yield* httpServer((_, response) => {
        response.writeHead(200, { "content-type": "application/json" }).end("{}")
      })
      const server = yield* httpServer((_, response) => {
        response.writeHead(307, { location: `${elsewhere.url}/v1/messages` }).end()
      })
      const { fetch, run } = virtualFetch()
      const { outcome } = yield* run(() => sdkWith(server.url, fetch).messages.create(sdkParams))
      const failure = failureOf(outcome)
      expect(failure).toMatchObject({ status: 307 })
      expect(server.requests).toHaveLength(1)
      expect(elsewhere.requests).toHaveLength(0)
      yield* Effect.promise(() => fetch.dispose())
      // the control: the SDK alone follows it and sends the prompt there (fetch
      // drops the authorization header across origins, and keeps the rest)
      yield* settle(() => sdkWith(server.url, globalThis.fetch).messages.create(sdkParams))
      expect(elsewhere.requests).toHaveLength(1)
      expect(elsewhere.requests[0]!.method).toBe("POST")
      expect(JSON.parse(elsewhere.requests[0]!.body)).toMatchObject({ messages: sdkParams.messages })
      expect(elsewhere.requests[0]!.headers.authorization).toBeUndefined()
    }))
})

describe("Resilience.fetch in the official SDK: the issue's cases", () => {
  it.scoped("529, 529, 200: the SDK returns the message after 3 requests, the waits 500 ms and 1 000 ms", () =>
    Effect.gen(function*() {
      const server = yield* script([overloaded, overloaded])
      const { fetch, run } = virtualFetch()
      const { at, outcome } = yield* run(() => sdkWith(server.url, fetch).messages.create(sdkParams))
      expect(Either.getOrThrow(outcome).id).toBe("msg_scripted_2")
      expect(server.requests).toHaveLength(3)
      expect(at).toBe(1500)
      // every attempt carried the same body and the key
      expect(new Set(server.requests.map((r) => r.body)).size).toBe(1)
      expect(server.requests.every((r) => r.headers.authorization === `Bearer ${key}`)).toBe(true)
      yield* Effect.promise(() => fetch.dispose())
    }))

  it.scoped("a spend-limit 429: 1 request, and the SDK's own RateLimitError with the server's message", () =>
    Effect.gen(function*() {
      const server = yield* script([spendLimit])
      const { fetch, run } = virtualFetch()
      const { at, outcome } = yield* run(() => sdkWith(server.url, fetch).messages.create(sdkParams))
      const failure = failureOf(outcome)
      expect(failure).toBeInstanceOf(RateLimitError)
      expect((failure as RateLimitError).message).toContain("spend limit")
      expect((failure as RateLimitError).requestID).toBe("req_adapter_0")
      expect(server.requests).toHaveLength(1)
      expect(at).toBe(0)
      yield* Effect.promise(() => fetch.dispose())
    }))

  it.scoped("retry-after: 3600 fails at once, no wait taken: 1 request, the SDK's OverloadedError", () =>
    Effect.gen(function*() {
      const server = yield* script([{ ...overloaded, headers: { "retry-after": "3600" } }])
      const { fetch, run } = virtualFetch()
      const { at, outcome } = yield* run(() => sdkWith(server.url, fetch).messages.create(sdkParams))
      const failure = failureOf(outcome)
      expect(failure).toBeInstanceOf(OverloadedError)
      expect((failure as OverloadedError).headers.get("retry-after")).toBe("3600")
      expect(server.requests).toHaveLength(1)
      expect(at).toBe(0)
      yield* Effect.promise(() => fetch.dispose())
    }))

  it.scoped("500, 500: 2 requests (a 500 is retried once), then the SDK's InternalServerError", () =>
    Effect.gen(function*() {
      const server = yield* script([internal, internal, internal])
      const { fetch, run } = virtualFetch()
      const { at, outcome } = yield* run(() => sdkWith(server.url, fetch).messages.create(sdkParams))
      const failure = failureOf(outcome)
      expect(failure).toBeInstanceOf(InternalServerError)
      expect((failure as InternalServerError).status).toBe(500)
      expect(server.requests).toHaveLength(2)
      expect(at).toBe(500)
      yield* Effect.promise(() => fetch.dispose())
    }))

  it.scoped("a stream answered 529 before any byte is retried: every event after 2 requests", () =>
    Effect.gen(function*() {
      const server = yield* script([overloaded])
      const { fetch, run } = virtualFetch()
      const sdk = sdkWith(server.url, fetch)
      const { at, outcome } = yield* run(async () => {
        const types: Array<string> = []
        const stream = await sdk.messages.create({ ...sdkParams, stream: true })
        for await (const event of stream) types.push(event.type)
        return types
      })
      expect(Either.getOrThrow(outcome)).toEqual([
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop"
      ])
      expect(server.requests).toHaveLength(2)
      expect(at).toBe(500)
      yield* Effect.promise(() => fetch.dispose())
    }))
})

describe("Resilience.fetch: the rest of the policy", () => {
  it.scoped("x-should-retry: false on a 529 is obeyed: 1 request", () =>
    Effect.gen(function*() {
      const server = yield* script([{ ...overloaded, headers: { "x-should-retry": "false" } }])
      const { fetch, run } = virtualFetch()
      const { outcome } = yield* run(() => sdkWith(server.url, fetch).messages.create(sdkParams))
      expect(failureOf(outcome)).toBeInstanceOf(OverloadedError)
      expect(server.requests).toHaveLength(1)
      yield* Effect.promise(() => fetch.dispose())
    }))

  it.scoped("a 529 storm: 6 requests (5 retries) in 11.5 s, then the last response", () =>
    Effect.gen(function*() {
      const server = yield* script(Array.from({ length: 10 }, () => overloaded))
      const { fetch, run } = virtualFetch()
      const { at, outcome } = yield* run(() => sdkWith(server.url, fetch).messages.create(sdkParams))
      expect(failureOf(outcome)).toBeInstanceOf(OverloadedError)
      expect(server.requests).toHaveLength(6)
      expect(at).toBe(500 + 1000 + 2000 + 4000 + 4000)
      yield* Effect.promise(() => fetch.dispose())
    }))

  it.scoped("an empty retry budget refuses the retry: 1 request", () =>
    Effect.gen(function*() {
      const server = yield* script([overloaded])
      const { fetch, run } = virtualFetch({ budget: { percent: 0, minRetriesPerSecond: 0 } })
      const { outcome } = yield* run(() => sdkWith(server.url, fetch).messages.create(sdkParams))
      expect(failureOf(outcome)).toBeInstanceOf(OverloadedError)
      expect(server.requests).toHaveLength(1)
      yield* Effect.promise(() => fetch.dispose())
    }))

  it.scoped("the retry options are the policy's: maxRetries 1 makes 2 requests", () =>
    Effect.gen(function*() {
      const server = yield* script([overloaded, overloaded, overloaded])
      const { fetch, run } = virtualFetch({ retry: { maxRetries: 1 } })
      const { outcome } = yield* run(() => sdkWith(server.url, fetch).messages.create(sdkParams))
      expect(failureOf(outcome)).toBeInstanceOf(OverloadedError)
      expect(server.requests).toHaveLength(2)
      yield* Effect.promise(() => fetch.dispose())
    }))

  it.scoped("an open breaker refuses at once, nothing sent: the SDK's APIConnectionError, caused by CircuitOpenError", () =>
    Effect.gen(function*() {
      const server = yield* script(Array.from({ length: 10 }, () => overloaded))
      const { fetch, run } = virtualFetch({
        retry: { maxRetries: 0 },
        breaker: { minimumCalls: 2, failureRateThreshold: 0.5 }
      })
      const sdk = sdkWith(server.url, fetch)
      for (let i = 0; i < 2; i++) {
        const { outcome } = yield* run(() => sdk.messages.create(sdkParams))
        expect(failureOf(outcome)).toBeInstanceOf(OverloadedError)
      }
      expect(server.requests).toHaveLength(2)
      const { outcome } = yield* run(() => sdk.messages.create(sdkParams))
      const failure = failureOf(outcome)
      expect(failure).toBeInstanceOf(APIConnectionError)
      expect((failure as APIConnectionError).cause).toBeInstanceOf(CircuitBreaker.CircuitOpenError)
      expect(server.requests).toHaveLength(2)
      yield* Effect.promise(() => fetch.dispose())
    }))

  it.scoped("a connection cut is a transport failure, retried: the message after 2 requests", () =>
    Effect.gen(function*() {
      let n = 0
      const server = yield* httpServer((_request, res) => {
        if (n++ === 0) return res.socket?.destroy()
        res.writeHead(200, { "content-type": "application/json" })
        res.end(JSON.stringify({ ...JSON.parse(okJson), id: "msg_after_cut" }))
      })
      const { fetch, run } = virtualFetch()
      const { at, outcome } = yield* run(() => sdkWith(server.url, fetch).messages.create(sdkParams))
      expect(Either.getOrThrow(outcome).id).toBe("msg_after_cut")
      expect(server.requests).toHaveLength(2)
      expect(at).toBe(500)
      yield* Effect.promise(() => fetch.dispose())
    }))

  it.scoped("cut every time: 6 requests, then the underlying fetch's own rejection (the SDK's APIConnectionError)", () =>
    Effect.gen(function*() {
      const server = yield* httpServer((_request, res) => res.socket?.destroy())
      const { fetch, run } = virtualFetch()
      const { outcome } = yield* run(() => sdkWith(server.url, fetch).messages.create(sdkParams))
      const failure = failureOf(outcome)
      expect(failure).toBeInstanceOf(APIConnectionError)
      // the rejection of the last attempt, unchanged: undici's TypeError
      expect((failure as APIConnectionError).cause).toBeInstanceOf(TypeError)
      expect(server.requests).toHaveLength(6)
      yield* Effect.promise(() => fetch.dispose())
    }))
})

const okJson = JSON.stringify(message("ok", "msg_ok"))

describe("Resilience.fetch as a fetch function", () => {
  it.scoped("a streamed request body (a ReadableStream) is buffered once and sent whole on every attempt", () =>
    Effect.gen(function*() {
      const server = yield* script([overloaded])
      const { fetch, run } = virtualFetch()
      const text = "x".repeat(100_000)
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          const bytes = new TextEncoder().encode(text)
          for (let i = 0; i < bytes.length; i += 10_000) controller.enqueue(bytes.slice(i, i + 10_000))
          controller.close()
        }
      })
      const { outcome } = yield* run(() =>
        fetch(`${server.url}/v1/messages`, { method: "POST", body, duplex: "half" } as RequestInit)
      )
      expect(Either.getOrThrow(outcome).status).toBe(200)
      expect(server.requests.map((r) => r.body.length)).toEqual([100_000, 100_000])
      yield* Effect.promise(() => fetch.dispose())
    }))

  it.scoped("a Request as input: its method, headers and body, on every attempt", () =>
    Effect.gen(function*() {
      const server = yield* script([overloaded])
      const { fetch, run } = virtualFetch()
      const request = new Request(`${server.url}/v1/messages`, {
        method: "POST",
        headers: { "x-custom": "kept" },
        body: JSON.stringify({ hello: "world" })
      })
      const { outcome } = yield* run(() => fetch(request))
      expect(Either.getOrThrow(outcome).status).toBe(200)
      expect(server.requests.map((r) => [r.method, r.headers["x-custom"], r.body])).toEqual([
        ["POST", "kept", `{"hello":"world"}`],
        ["POST", "kept", `{"hello":"world"}`]
      ])
      yield* Effect.promise(() => fetch.dispose())
    }))

  it.scoped("the last response is handed back with the same status, status text, headers and body", () =>
    Effect.gen(function*() {
      const body = error("invalid_request_error", "max_tokens: field required")
      const server = yield* script([{ status: 400, body, headers: { "x-extra": "1" } }])
      const { fetch, run } = virtualFetch()
      const { outcome } = yield* run(() => fetch(`${server.url}/v1/messages`, { method: "POST", body: "{}" }))
      const response = Either.getOrThrow(outcome)
      expect(response.status).toBe(400)
      expect(response.statusText).toBe("Bad Request")
      expect(response.headers.get("x-extra")).toBe("1")
      expect(response.headers.get("request-id")).toBe("req_adapter_0")
      expect(yield* Effect.promise(() => response.json())).toEqual(body)
      expect(server.requests).toHaveLength(1)
      yield* Effect.promise(() => fetch.dispose())
    }))

  it.scoped("an error body above 1 MiB is read up to 1 MiB, and handed back cut there", () =>
    Effect.gen(function*() {
      const huge = "y".repeat(3 * 1024 * 1024)
      const server = yield* httpServer((_request, res) => {
        res.writeHead(400, { "content-type": "text/plain" })
        res.end(huge)
      })
      const { fetch, run } = virtualFetch()
      const { outcome } = yield* run(() => fetch(`${server.url}/v1/messages`, { method: "POST", body: "{}" }))
      const response = Either.getOrThrow(outcome)
      expect(response.status).toBe(400)
      expect((yield* Effect.promise(() => response.text())).length).toBe(1024 * 1024)
      expect(server.requests).toHaveLength(1)
      yield* Effect.promise(() => fetch.dispose())
    }))

  it.scoped("the options' fetch sends each attempt", () =>
    Effect.gen(function*() {
      const server = yield* script([overloaded])
      const seen: Array<string> = []
      const { fetch, run } = virtualFetch({
        fetch: (input, init) => {
          seen.push(String(input))
          return globalThis.fetch(input, init)
        }
      })
      const { outcome } = yield* run(() => fetch(`${server.url}/v1/messages`, { method: "POST", body: "{}" }))
      expect(Either.getOrThrow(outcome).status).toBe(200)
      expect(seen).toEqual([`${server.url}/v1/messages`, `${server.url}/v1/messages`])
      yield* Effect.promise(() => fetch.dispose())
    }))
})

describe("Resilience.fetch: abort and dispose", () => {
  it.scoped("an abort during a wait ends the call at once: the SDK's APIUserAbortError, 1 request, no time passed", () =>
    Effect.gen(function*() {
      const server = yield* script([overloaded])
      const { fetch, runtime } = virtualFetch()
      const controller = new AbortController()
      const call = sdkWith(server.url, fetch).messages.create(sdkParams, { signal: controller.signal })
      const pending = settle(() => call)
      const sleeps = yield* untilAsleep(runtime)
      expect(sleeps).toHaveLength(1)
      controller.abort()
      const outcome = yield* pending
      expect(failureOf(outcome)).toBeInstanceOf(APIUserAbortError)
      expect(server.requests).toHaveLength(1)
      yield* Effect.promise(() => fetch.dispose())
    }))

  it.scoped("an abort while the request is on the wire: rejects with the signal's reason, and the server's socket is closed", () =>
    Effect.gen(function*() {
      const server = yield* httpServer(() => {
        // never answers
      })
      const { fetch } = virtualFetch()
      const controller = new AbortController()
      const call = fetch(`${server.url}/v1/messages`, { method: "POST", body: "{}", signal: controller.signal })
      const pending = settle(() => call)
      while (server.requests.length === 0) yield* Effect.promise(() => new Promise((r) => setTimeout(r, 5)))
      const reason = new Error("stop")
      controller.abort(reason)
      expect(failureOf(yield* pending)).toBe(reason)
      while (server.openSockets() > 0) yield* Effect.promise(() => new Promise((r) => setTimeout(r, 5)))
      expect(server.requests).toHaveLength(1)
      yield* Effect.promise(() => fetch.dispose())
    }))

  it.scoped("a signal aborted before the call: rejects with its reason, nothing sent", () =>
    Effect.gen(function*() {
      const server = yield* script([])
      const { fetch } = virtualFetch()
      const reason = new Error("already")
      const outcome = yield* settle(() =>
        fetch(`${server.url}/v1/messages`, { method: "POST", body: "{}", signal: AbortSignal.abort(reason) })
      )
      expect(failureOf(outcome)).toBe(reason)
      expect(server.requests).toHaveLength(0)
      yield* Effect.promise(() => fetch.dispose())
    }))

  it.scoped("an abort after a stream was handed on ends the stream: the underlying request is aborted", () =>
    Effect.gen(function*() {
      const server = yield* httpServer((_request, res) => {
        res.writeHead(200, { "content-type": "text/event-stream" })
        res.write(`event: ping\ndata: {"type":"ping"}\n\n`)
        // and nothing more: the stream stays open
      })
      const { fetch } = virtualFetch()
      const controller = new AbortController()
      const response = yield* Effect.promise(() =>
        fetch(`${server.url}/v1/messages`, { method: "POST", body: "{}", signal: controller.signal })
      )
      expect(response.status).toBe(200)
      const reader = response.body!.getReader()
      const first = yield* Effect.promise(() => reader.read())
      expect(new TextDecoder().decode(first.value)).toContain("ping")
      controller.abort()
      const next = yield* settle(() => reader.read())
      expect(Either.isLeft(next)).toBe(true)
      while (server.openSockets() > 0) yield* Effect.promise(() => new Promise((r) => setTimeout(r, 5)))
      yield* Effect.promise(() => fetch.dispose())
    }))

  it.scoped("dispose interrupts a call in its wait (FetchDisposedError) and refuses later calls, sending nothing", () =>
    Effect.gen(function*() {
      const server = yield* script([overloaded])
      const { fetch, runtime } = virtualFetch()
      const call = fetch(`${server.url}/v1/messages`, { method: "POST", body: "{}" })
      const pending = settle(() => call)
      yield* untilAsleep(runtime)
      const disposed = fetch.dispose()
      expect(fetch[Symbol.asyncDispose]()).toBe(disposed)
      yield* Effect.promise(() => disposed)
      expect(failureOf(yield* pending)).toBeInstanceOf(Resilience.FetchDisposedError)
      const later = yield* settle(() => fetch(`${server.url}/v1/messages`, { method: "POST", body: "{}" }))
      expect(failureOf(later)).toBeInstanceOf(Resilience.FetchDisposedError)
      // through the SDK: its APIConnectionError, caused by it
      const sdkLater = failureOf(yield* settle(() => sdkWith(server.url, fetch).messages.create(sdkParams)))
      expect(sdkLater).toBeInstanceOf(APIConnectionError)
      expect((sdkLater as APIConnectionError).cause).toBeInstanceOf(Resilience.FetchDisposedError)
      expect(server.requests).toHaveLength(1)
    }))
})

describe("Resilience.fetch: options", () => {
  it.scoped("invalid options: every call rejects with one InvalidOptionsError listing every problem; nothing sent, nothing thrown", () =>
    Effect.gen(function*() {
      const server = yield* script([])
      const fetch = Resilience.fetch({
        retry: { maxRetires: 3 } as never,
        breaker: { window: -1 },
        fetch: "nope" as never
      })
      const outcome = yield* settle(() => fetch(`${server.url}/v1/messages`))
      const failure = failureOf(outcome)
      expect(Options.isInvalidOptionsError(failure)).toBe(true)
      const invalid = failure as Options.InvalidOptionsError
      expect(invalid.module).toBe("Resilience.fetch")
      expect(invalid.problems.map((p) => p.path).sort()).toEqual(["breaker.window", "fetch", "retry.maxRetires"])
      expect(invalid.message).toContain(`did you mean "maxRetries"?`)
      // through the SDK: its APIConnectionError, caused by it
      const viaSdk = failureOf(yield* settle(() => sdkWith(server.url, fetch).messages.create(sdkParams)))
      expect(viaSdk).toBeInstanceOf(APIConnectionError)
      expect((viaSdk as APIConnectionError).cause).toBe(invalid)
      expect(server.requests).toHaveLength(0)
      yield* Effect.promise(() => fetch.dispose())
      // from untyped code: anything at all
      for (const options of [null, "x", 42, { unknown: 1 }]) {
        const f = Resilience.fetch(options as never)
        expect(Options.isInvalidOptionsError(failureOf(yield* settle(() => f("http://127.0.0.1:1"))))).toBe(true)
      }
    }))
})

describe("Resilience.fetch: the key", () => {
  it.scoped("never in a log line, a span or an error of the adapter, even when the server echoes it", () =>
    Effect.gen(function*() {
      const capture = makeCapture()
      // echoes the key in the error message, the request-id and a header
      let n = 0
      const server = yield* httpServer((request, res) => {
        const i = n++
        const echoed = String(request.headers.authorization ?? "").replace(/^Bearer /, "")
        if (i < 2) {
          res.writeHead(529, { "content-type": "application/json", "request-id": `req_${echoed}`, "x-echo": echoed })
          return res.end(JSON.stringify({ ...error("overloaded_error", `Overloaded for ${echoed}`), request_id: `req_${echoed}` }))
        }
        if (i === 2) return res.socket?.destroy()
        res.writeHead(200, { "content-type": "application/json" })
        res.end(okJson)
      })
      const layer = testLayer(
        [0.5],
        Layer.mergeAll(capture.logged.layer, Logger.remove(Logger.defaultLogger), Layer.setTracer(capture.traced.tracer))
      )
      const { fetch, run } = virtualFetch({}, layer)
      const { outcome } = yield* run(() => sdkWith(server.url, fetch).messages.create(sdkParams))
      expect(Either.getOrThrow(outcome).id).toBe("msg_ok")
      expect(server.requests).toHaveLength(4)
      // the capture saw the adapter's work: its span, each retry decision, the echo scrubbed
      const seen = capture.everything([])
      expect(seen.spans).toContain("Resilience.fetch")
      expect(seen.spans).toContain("retry.wait_ms")
      expect(seen.logs).toContain("retrying after OverloadedError")
      expect(seen.logs).toContain("[redacted]")
      capture.assertNoLeak(key, [])
      // and the adapter's own rejections: a breaker's refusal, after two echoed 529s
      const always = yield* httpServer((request, res) => {
        const echoed = String(request.headers.authorization ?? "").replace(/^Bearer /, "")
        res.writeHead(529, { "content-type": "application/json", "request-id": `req_${echoed}` })
        res.end(JSON.stringify({ ...error("overloaded_error", `Overloaded for ${echoed}`), request_id: `req_${echoed}` }))
      })
      const refused = FetchAdapter.build({ breaker: { minimumCalls: 2, failureRateThreshold: 0.5 }, retry: { maxRetries: 0 } }, layer)
      const refusedFetch = refused.adapter
      const sdk = sdkWith(always.url, refusedFetch)
      yield* settle(() => sdk.messages.create(sdkParams))
      yield* settle(() => sdk.messages.create(sdkParams))
      const rejection = failureOf(yield* settle(() => refusedFetch(`${always.url}/v1/messages`, { headers: { "x-api-key": key } })))
      expect(always.requests).toHaveLength(2)
      expect(Predicate.isTagged(rejection, "CircuitOpenError")).toBe(true)
      capture.assertNoLeak(key, [])
      expect(JSON.stringify(rejection) + String(rejection)).not.toContain(key)
      yield* Effect.promise(() => Promise.all([fetch.dispose(), refusedFetch.dispose()]))
    }))
})
