/**
 * Every row of the ApiError table, end to end over loopback: the emulator
 * sends the real wire reply, the client decodes it, and the policy retries
 * exactly as promised. Each call ends in exactly one success or one typed
 * failure; the emulator counts the requests and stamps their arrival with
 * the same TestClock the client waits on.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { ApiError, Claude, Resilience } from "../../src/index.js"
import { Emulator } from "../../src/testing/index.js"
import { runVirtual } from "../support/virtualTime.js"
import { arrivals, failureOf, instants, params, withClaude } from "./support.js"

const { Reply } = Emulator

const SPEND_429 = "This request would exceed your account's monthly spend limit."
const USAGE_400 = "You have reached your specified API usage limits. You will regain access on 2026-12-01 at 00:00 UTC."

const create = Effect.flatMap(Claude.Claude, (claude) => claude.messages.create(params))

describe("Claude e2e: fatal replies end the call after one request", () => {
  const fatal: ReadonlyArray<readonly [string, Emulator.Reply, ApiError.Tag, number]> = [
    ["400 invalid_request_error", Reply.Error({ status: 400 }), "InvalidRequestError", 400],
    ["401 authentication_error", Reply.Error({ status: 401 }), "AuthenticationError", 401],
    ["402 billing_error", Reply.Error({ status: 402 }), "BillingError", 402],
    ["403 permission_error", Reply.Error({ status: 403 }), "PermissionError", 403],
    ["404 not_found_error", Reply.Error({ status: 404 }), "NotFoundError", 404],
    ["413 request_too_large (JSON envelope)", Reply.Error({ status: 413 }), "RequestTooLargeError", 413],
    ["413 from the edge (HTML)", Reply.Html({ status: 413 }), "RequestTooLargeError", 413],
    [
      "413 wrapper-less JSON",
      Reply.Raw({
        status: 413,
        body: JSON.stringify({ type: "request_too_large", message: "Request exceeds the maximum allowed number of bytes." })
      }),
      "RequestTooLargeError",
      413
    ],
    ["422 (the edge's page)", Reply.Error({ status: 422 }), "UnprocessableEntityError", 422],
    ["422 (an envelope with no type)", Reply.Error({ status: 422, type: null }), "UnprocessableEntityError", 422],
    ["429 spend limit", Reply.Error({ status: 429, message: SPEND_429 }), "SpendLimitError", 429],
    ["400 usage limit", Reply.Error({ status: 400, message: USAGE_400 }), "SpendLimitError", 400],
    // an empty 520 is transient now (UnexpectedServerError, retried); 505 and 409 stay Fatal
    ["an empty 505", Reply.Raw({ status: 505, body: "", contentType: "text/plain" }), "UnexpectedStatusError", 505],
    ["an empty 409", Reply.Raw({ status: 409, body: "", contentType: "text/plain" }), "UnexpectedStatusError", 409],
    ["418 HTML", Reply.Html({ status: 418 }), "UnexpectedStatusError", 418],
    [
      "529 with x-should-retry: false",
      Reply.Error({ status: 529, headers: { "x-should-retry": "false" } }),
      "OverloadedError",
      529
    ],
    [
      "503 with x-should-retry: false",
      Reply.Error({ status: 503, headers: { "x-should-retry": "false" } }),
      "ServiceUnavailableError",
      503
    ]
  ]
  for (const [name, reply, tag, status] of fatal) {
    it.effect(`${name} ⇒ ${tag}, 1 request, no time spent`, () =>
      Effect.gen(function*() {
        const error = yield* failureOf(create)
        expect(error._tag).toBe(tag)
        expect("status" in error ? error.status : undefined).toBe(status)
        expect("requestId" in error ? error.requestId : undefined).toEqual(Option.some("req_emu_000001"))
        expect(yield* arrivals).toEqual([0])
        expect(yield* TestClock.currentTimeMillis).toBe(0)
      }).pipe(withClaude({ script: () => reply })))
  }

  it.effect("the spend-limit errors carry the server's message", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const emulator = yield* Emulator.Emulator
      const first = yield* failureOf(claude.messages.create(params))
      const second = yield* failureOf(claude.messages.create(params))
      expect(first).toBeInstanceOf(ApiError.SpendLimitError)
      expect(second).toBeInstanceOf(ApiError.SpendLimitError)
      expect("serverMessage" in first && first.serverMessage).toEqual(Option.some(SPEND_429))
      expect("serverMessage" in second && second.serverMessage).toEqual(Option.some(USAGE_400))
      expect(yield* emulator.requestCount).toBe(2)
    }).pipe(withClaude({
      script: Emulator.sequence([
        Reply.Error({ status: 429, message: SPEND_429 }),
        Reply.Error({ status: 400, message: USAGE_400 })
      ])
    })))

  it.effect("a wrong API key ⇒ AuthenticationError from the emulator's own check, 1 request", () =>
    Effect.gen(function*() {
      const error = yield* failureOf(create)
      expect(error._tag).toBe("AuthenticationError")
      expect(yield* arrivals).toEqual([0])
      const [request] = yield* Effect.flatMap(Emulator.Emulator, (e) => e.requests)
      expect(request?.headers["x-api-key"]).toBe("sk-ant-wrong-key-000")
    }).pipe(
      Effect.provide(
        Layer.unwrapEffect(Effect.map(Emulator.Emulator, (emulator) =>
          Claude.layer({ apiKey: Redacted.make("sk-ant-wrong-key-000"), baseUrl: emulator.url }))).pipe(
            Layer.provide(Layer.merge(NodeHttpClient.layer, Resilience.layer())),
            Layer.provideMerge(Emulator.layer({ apiKey: Emulator.testApiKey }))
          )
      ),
      Effect.withRandom(Random.fixed([0.5]))
    ))
})

describe("Claude e2e: retryable replies follow the policy exactly", () => {
  const recovering: ReadonlyArray<readonly [string, Emulator.Reply]> = [
    ["429 rate_limit_error", Reply.Error({ status: 429 })],
    ["500 api_error", Reply.Error({ status: 500 })],
    ["502 (HTML)", Reply.Html({ status: 502 })],
    ["503 (HTML)", Reply.Error({ status: 503 })],
    ["504 timeout_error", Reply.Error({ status: 504 })],
    ["529 overloaded_error", Reply.Error({ status: 529 })],
    ["an empty 520 (an undocumented 5xx)", Reply.Raw({ status: 520, body: "", contentType: "text/plain" })],
    ["408 (HTML)", Reply.Html({ status: 408 })],
    ["400 with x-should-retry: true", Reply.Error({ status: 400, headers: { "x-should-retry": "true" } })],
    ["a connection reset before headers", Reply.Reset()]
  ]
  for (const [name, reply] of recovering) {
    it.effect(`${name}, then 200 ⇒ the message, 2 requests at 0 and 500 ms`, () =>
      Effect.gen(function*() {
        const message = yield* runVirtual(create)
        expect(message.type).toBe("message")
        expect(message.id).toBe("msg_emu_000001")
        expect(yield* arrivals).toEqual([0, 500])
      }).pipe(withClaude({ script: Emulator.sequence([reply]) })))
  }

  it.effect("529 529 200 ⇒ the message, waits 500 then 1000 ms", () =>
    Effect.gen(function*() {
      const message = yield* runVirtual(create)
      expect(message.stop_reason).toBe("end_turn")
      expect(yield* arrivals).toEqual([0, 500, 1500])
      expect(yield* TestClock.currentTimeMillis).toBe(1500)
    }).pipe(withClaude({ script: Emulator.sequence([Reply.Error({ status: 529 }), Reply.Error({ status: 529 })]) })))

  it.effect("a mixed sequence 503 502 504 429 529 ⇒ the message on the 6th request", () =>
    Effect.gen(function*() {
      yield* runVirtual(create)
      expect(yield* arrivals).toEqual(instants(6))
      expect(instants(6)).toEqual([0, 500, 1500, 3500, 7500, 11500])
    }).pipe(withClaude({
      script: Emulator.sequence([
        Reply.Error({ status: 503 }),
        Reply.Html({ status: 502 }),
        Reply.Error({ status: 504 }),
        Reply.Error({ status: 429 }),
        Reply.Error({ status: 529 })
      ])
    })))

  const storms: ReadonlyArray<readonly [string, Emulator.Reply, ApiError.Tag]> = [
    ["429", Reply.Error({ status: 429 }), "RateLimitError"],
    ["502", Reply.Html({ status: 502 }), "BadGatewayError"],
    ["503", Reply.Error({ status: 503 }), "ServiceUnavailableError"],
    ["504", Reply.Error({ status: 504 }), "GatewayTimeoutError"],
    ["529", Reply.Error({ status: 529 }), "OverloadedError"]
  ]
  for (const [name, reply, tag] of storms) {
    it.effect(`a ${name} storm ⇒ ${tag} after 6 requests (5 retries)`, () =>
      Effect.gen(function*() {
        const error = yield* failureOf(create)
        expect(error._tag).toBe(tag)
        expect("requestId" in error ? error.requestId : undefined).toEqual(Option.some("req_emu_000006"))
        expect(yield* arrivals).toEqual([0, 500, 1500, 3500, 7500, 11500])
      }).pipe(withClaude({ script: () => reply })))
  }

  it.effect("500 500 ⇒ InternalServerError after exactly 2 requests (a 500 is retried once)", () =>
    Effect.gen(function*() {
      const error = yield* failureOf(create)
      expect(error).toBeInstanceOf(ApiError.InternalServerError)
      expect("requestId" in error ? error.requestId : undefined).toEqual(Option.some("req_emu_000002"))
      expect(yield* arrivals).toEqual([0, 500])
    }).pipe(withClaude({ script: () => Reply.Error({ status: 500 }) })))

  it.effect("529 500 529 500 ⇒ InternalServerError on the 4th request (the second 500 ends it)", () =>
    Effect.gen(function*() {
      const error = yield* failureOf(create)
      expect(error._tag).toBe("InternalServerError")
      expect(yield* arrivals).toEqual([0, 500, 1500, 3500])
    }).pipe(withClaude({
      script: Emulator.sequence([
        Reply.Error({ status: 529 }),
        Reply.Error({ status: 500 }),
        Reply.Error({ status: 529 }),
        Reply.Error({ status: 500 })
      ])
    })))

  it.effect("429 with retry-after: 3 ⇒ the retry waits 3 s, not the 500 ms backoff", () =>
    Effect.gen(function*() {
      yield* runVirtual(create)
      expect(yield* arrivals).toEqual([0, 3000])
    }).pipe(withClaude({ script: Emulator.sequence([Reply.Error({ status: 429, headers: { "retry-after": "3" } })]) })))

  it.effect("429 with retry-after-ms: 1234 (and retry-after: 9) ⇒ the retry waits 1234 ms", () =>
    Effect.gen(function*() {
      yield* runVirtual(create)
      expect(yield* arrivals).toEqual([0, 1234])
    }).pipe(withClaude({
      script: Emulator.sequence([
        Reply.Error({ status: 429, headers: { "retry-after-ms": "1234", "retry-after": "9" } })
      ])
    })))

  it.effect("429 with retry-after below the backoff ⇒ the backoff (1000 ms on the 2nd retry) wins", () =>
    Effect.gen(function*() {
      yield* runVirtual(create)
      expect(yield* arrivals).toEqual([0, 500, 1500])
    }).pipe(withClaude({
      script: Emulator.sequence([
        Reply.Error({ status: 429, headers: { "retry-after": "0.2" } }),
        Reply.Error({ status: 429, headers: { "retry-after-ms": "700" } })
      ])
    })))

  it.effect("429 with a retry-after past the 15 s budget ⇒ RateLimitError at once, 1 request", () =>
    Effect.gen(function*() {
      const error = yield* failureOf(create)
      expect(error._tag).toBe("RateLimitError")
      expect(error._tag === "RateLimitError" && error.retryAfter).toEqual(Option.some(Duration.seconds(60)))
      expect(yield* arrivals).toEqual([0])
      expect(yield* TestClock.currentTimeMillis).toBe(0)
    }).pipe(withClaude({ script: () => Reply.Error({ status: 429, headers: { "retry-after": "60" } }) })))

  it.effect("a reset storm ⇒ TransportError (Transport) after 6 requests", () =>
    Effect.gen(function*() {
      const error = yield* failureOf(create)
      expect(error._tag).toBe("TransportError")
      expect(error._tag === "TransportError" && error.reason).toBe("Transport")
      expect(yield* arrivals).toEqual([0, 500, 1500, 3500, 7500, 11500])
    }).pipe(withClaude({ script: () => Reply.Reset() })))
})

describe("Claude e2e: a stalled socket times out after exactly requestTimeout", () => {
  it.effect("stall, then 200 ⇒ Timeout at 2 s, retried at 2.5 s", () =>
    Effect.gen(function*() {
      const message = yield* runVirtual(create)
      expect(message.type).toBe("message")
      expect(yield* arrivals).toEqual([0, 2500])
      expect(yield* TestClock.currentTimeMillis).toBe(2500)
    }).pipe(withClaude({ client: { requestTimeout: "2 seconds" }, script: Emulator.sequence([Reply.Stall()]) })))

  it.effect("stalls only ⇒ TransportError (Timeout) when the next wait would cross the 15 s budget", () =>
    Effect.gen(function*() {
      const error = yield* failureOf(create)
      expect(error._tag).toBe("TransportError")
      expect(error._tag === "TransportError" && error.reason).toBe("Timeout")
      expect(error.message).toContain("2s")
      // each attempt runs 2 s, then waits 0.5, 1, 2, 4 s; the 5th fails at
      // 17.5 s, 15.5 s after the first failure: a 4 s wait would cross 15 s
      expect(yield* arrivals).toEqual([0, 2500, 5500, 9500, 15500])
      expect(yield* TestClock.currentTimeMillis).toBe(17500)
    }).pipe(withClaude({ client: { requestTimeout: "2 seconds" }, script: () => Reply.Stall() })))

  it.effect("a reply delayed past requestTimeout is a Timeout; one just inside it is not", () =>
    Effect.gen(function*() {
      const message = yield* runVirtual(create)
      expect(message.type).toBe("message")
      // the 1st reply was due at 2001 ms: timed out at 2000; the 2nd came at 2500 + 1999
      expect(yield* arrivals).toEqual([0, 2500])
      expect(yield* TestClock.currentTimeMillis).toBe(4499)
    }).pipe(withClaude({
      client: { requestTimeout: "2 seconds" },
      script: Emulator.sequence([
        Reply.Delayed({ delay: 2001, reply: Reply.Ok({}) }),
        Reply.Delayed({ delay: 1999, reply: Reply.Ok({}) })
      ])
    })))
})

describe("Claude e2e: a retry policy given to the client is the one applied", () => {
  it.effect("maxRetries 1 and no jitter ⇒ 2 requests, 1 s apart", () =>
    Effect.gen(function*() {
      const error = yield* failureOf(create)
      expect(error._tag).toBe("OverloadedError")
      expect(yield* arrivals).toEqual([0, 1000])
    }).pipe(withClaude({ client: { retry: { maxRetries: 1, jitter: "none" } }, script: () => Reply.Error({ status: 529 }) })))

  it.effect("maxRetries 0 ⇒ 1 request", () =>
    Effect.gen(function*() {
      const error = yield* failureOf(create)
      expect(error._tag).toBe("BadGatewayError")
      expect(yield* arrivals).toEqual([0])
    }).pipe(withClaude({ client: { retry: { maxRetries: 0 } }, script: () => Reply.Html({ status: 502 }) })))
})
