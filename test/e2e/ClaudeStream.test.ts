/**
 * Streams end to end over loopback: SSE decoded to typed events, retried only
 * while nothing has reached the consumer, every broken stream a typed
 * failure; `finalMessage` and the 10-minute rule.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { ApiError, Claude, MessageAccumulator, MessageStream, Preflight } from "../../src/index.js"
import { Emulator } from "../../src/testing/index.js"
import { runVirtual } from "../support/virtualTime.js"
import { arrivals, consume, defaultText, failureOf, oneFailure, params, textStreamTypes, types, withClaude } from "./support.js"

const { Reply } = Emulator

const stream = Stream.unwrap(Effect.map(Claude.Claude, (claude) => claude.messages.stream(params)))

/** The text the consumer could show, from the deltas it received. */
const textOf = (events: ReadonlyArray<MessageStream.MessageStreamEvent>): string =>
  events.map((event) =>
    event.type === "content_block_delta" && event.delta.type === "text_delta" ? event.delta.text : ""
  ).join("")

describe("Claude e2e: messages.stream", () => {
  it.effect("a healthy stream: every event typed, in order, one request with stream: true", () =>
    Effect.gen(function*() {
      const { exit, received } = yield* consume(stream)
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(types(received)).toEqual(textStreamTypes(3))
      expect(textOf(received)).toBe(defaultText)
      const [request, ...others] = yield* Effect.flatMap(Emulator.Emulator, (e) => e.requests)
      expect(others).toHaveLength(0)
      expect(request?.path).toBe("/v1/messages")
      expect(request?.headers["anthropic-version"]).toBe("2023-06-01")
      expect(Option.getOrUndefined(request!.json)).toMatchObject({ stream: true, max_tokens: 256 })
    }).pipe(withClaude()))

  it.effect("tool_use and thinking blocks stream as input_json, thinking and signature deltas", () =>
    Effect.gen(function*() {
      const { exit, received } = yield* consume(stream)
      expect(Exit.isSuccess(exit)).toBe(true)
      const deltas = received.flatMap((event) => event.type === "content_block_delta" ? [event.delta.type] : [])
      expect(new Set(deltas)).toEqual(new Set(["thinking_delta", "signature_delta", "input_json_delta"]))
      const last = received.filter((event) => event.type === "message_delta").at(-1)
      expect(last?.type === "message_delta" && last.delta.stop_reason).toBe("tool_use")
    }).pipe(withClaude({
      script: () =>
        Reply.Ok({
          content: [
            { type: "thinking", thinking: "Let me look that up.", signature: "sig_abc" },
            { type: "tool_use", id: "toolu_1", name: "weather", input: { city: "Paris", days: [1, 2] } }
          ]
        })
    })))

  it.effect("an overloaded_error event before anything was emitted ⇒ retried; the consumer sees one clean stream", () =>
    Effect.gen(function*() {
      const { exit, received } = yield* consume(stream)
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(types(received)).toEqual(textStreamTypes(3))
      const start = received[0]
      // the message of the second response, only
      expect(start?.type === "message_start" && start.message.id).toBe("msg_emu_000002")
      expect(yield* arrivals).toEqual([0, 500])
    }).pipe(withClaude({
      script: Emulator.sequence([Reply.StreamError({ afterEvents: 0, type: "overloaded_error" })])
    })))

  it.effect("an overloaded_error event after 4 emitted events ⇒ OverloadedError (status 200), 1 request, the 4 events kept", () =>
    Effect.gen(function*() {
      const { exit, received } = yield* consume(stream)
      const error = oneFailure(exit)
      expect(error).toBeInstanceOf(ApiError.OverloadedError)
      expect(error instanceof ApiError.OverloadedError && error.status).toBe(200)
      expect(error instanceof ApiError.OverloadedError && error.requestId).toEqual(Option.some("req_emu_000001"))
      expect(types(received)).toEqual(["message_start", "ping", "content_block_start", "content_block_delta"])
      expect(textOf(received)).toBe(defaultText.slice(0, 16))
      expect(yield* arrivals).toEqual([0])
    }).pipe(withClaude({ script: () => Reply.StreamError({ afterEvents: 4, type: "overloaded_error" }) })))

  // after content_block_start: message_start and ping alone are held back
  // (an error right after them is retried, see test/parity/StreamRetry.test.ts)
  it.effect("other error events decode by their type: api_error ⇒ InternalServerError, rate_limit_error ⇒ RateLimitError", () =>
    Effect.gen(function*() {
      const first = oneFailure((yield* consume(stream)).exit)
      const second = oneFailure((yield* consume(stream)).exit)
      expect(first).toBeInstanceOf(ApiError.InternalServerError)
      expect(second).toBeInstanceOf(ApiError.RateLimitError)
      expect(yield* arrivals).toEqual([0, 0])
    }).pipe(withClaude({
      script: Emulator.sequence([
        Reply.StreamError({ afterEvents: 3, type: "api_error" }),
        Reply.StreamError({ afterEvents: 3, type: "rate_limit_error" })
      ])
    })))

  it.effect("an HTTP 529 on a stream request ⇒ retried like any call", () =>
    Effect.gen(function*() {
      const { exit, received } = yield* consume(stream)
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(types(received)).toEqual(textStreamTypes(3))
      expect(yield* arrivals).toEqual([0, 500, 1500])
    }).pipe(withClaude({ script: Emulator.sequence([Reply.Error({ status: 529 }), Reply.Error({ status: 529 })]) })))

  it.effect("an HTTP 400 on a stream request ⇒ InvalidRequestError, nothing emitted, 1 request", () =>
    Effect.gen(function*() {
      const { exit, received } = yield* consume(stream)
      expect(oneFailure(exit)).toBeInstanceOf(ApiError.InvalidRequestError)
      expect(received).toHaveLength(0)
      expect(yield* arrivals).toEqual([0])
    }).pipe(withClaude({ script: () => Reply.Error({ status: 400 }) })))

  it.effect("SSE ended cleanly before message_stop ⇒ IncompleteStreamError, the 4 events kept, 1 request", () =>
    Effect.gen(function*() {
      const { exit, received } = yield* consume(stream)
      const error = oneFailure(exit)
      expect(error).toBeInstanceOf(MessageAccumulator.IncompleteStreamError)
      expect(error).toMatchObject({ events: 4, missing: "message_stop" })
      expect(types(received)).toEqual(["message_start", "ping", "content_block_start", "content_block_delta"])
      expect(yield* arrivals).toEqual([0])
    }).pipe(withClaude({ script: () => Reply.StreamCut({ afterEvents: 4 }) })))

  it.effect("an abrupt cut after events ⇒ TransportError, not retried, 1 request", () =>
    Effect.gen(function*() {
      const { exit, received } = yield* consume(stream)
      const error = oneFailure(exit)
      expect(error).toBeInstanceOf(ApiError.TransportError)
      expect(error instanceof ApiError.TransportError && error.reason).toBe("ResponseBody")
      expect(types(received)).toEqual(["message_start", "ping", "content_block_start", "content_block_delta"])
      expect(yield* arrivals).toEqual([0])
    }).pipe(withClaude({ script: () => Reply.StreamCut({ afterEvents: 4, abrupt: true }) })))

  it.effect("a clean end before any event ⇒ TransportError before emission: retried", () =>
    Effect.gen(function*() {
      const { exit, received } = yield* consume(stream)
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(types(received)).toEqual(textStreamTypes(3))
      expect(yield* arrivals).toEqual([0, 500])
    }).pipe(withClaude({ script: Emulator.sequence([Reply.StreamCut({ afterEvents: 0 })]) })))

  it.effect("a clean end before any event, every time ⇒ the last TransportError after the policy's 6 attempts", () =>
    Effect.gen(function*() {
      const { exit, received } = yield* consume(stream)
      const error = oneFailure(exit)
      expect(error).toBeInstanceOf(ApiError.TransportError)
      expect(error instanceof ApiError.TransportError && error.message).toContain("before its first event")
      expect(received).toHaveLength(0)
      expect(yield* arrivals).toHaveLength(6)
    }).pipe(withClaude({ script: () => Reply.StreamCut({ afterEvents: 0 }) })))

  it.effect("an abrupt cut before any event ⇒ TransportError before emission: retried", () =>
    Effect.gen(function*() {
      const { exit, received } = yield* consume(stream)
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(types(received)).toEqual(textStreamTypes(3))
      expect(yield* arrivals).toEqual([0, 500])
    }).pipe(withClaude({ script: Emulator.sequence([Reply.StreamCut({ afterEvents: 0, abrupt: true })]) })))

  it.effect("a stream stalled after 3 events ⇒ TransportError (Idle) exactly streamIdleTimeout later, 1 request", () =>
    Effect.gen(function*() {
      const { exit, received } = yield* consume(stream)
      const error = oneFailure(exit)
      expect(error).toBeInstanceOf(ApiError.TransportError)
      expect(error instanceof ApiError.TransportError && error.reason).toBe("Idle")
      expect(types(received)).toEqual(["message_start", "ping", "content_block_start"])
      expect(yield* arrivals).toEqual([0])
      expect(yield* TestClock.currentTimeMillis).toBe(5000)
    }).pipe(withClaude({
      client: { streamIdleTimeout: "5 seconds" },
      script: () => Reply.StreamStall({ afterEvents: 3 })
    })))

  it.effect("a stream stalled before its first event ⇒ Idle at 5 s, retried at 5.5 s", () =>
    Effect.gen(function*() {
      const { exit, received } = yield* consume(stream)
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(types(received)).toEqual(textStreamTypes(3))
      expect(yield* arrivals).toEqual([0, 5500])
    }).pipe(withClaude({
      client: { streamIdleTimeout: "5 seconds" },
      script: Emulator.sequence([Reply.StreamStall({ afterEvents: 0 })])
    })))

  it.effect("a stream request whose headers never come ⇒ Idle at 5 s, retried at 5.5 s", () =>
    Effect.gen(function*() {
      const { exit, received } = yield* consume(stream)
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(types(received)).toEqual(textStreamTypes(3))
      expect(yield* arrivals).toEqual([0, 5500])
    }).pipe(withClaude({ client: { streamIdleTimeout: "5 seconds" }, script: Emulator.sequence([Reply.Stall()]) })))

  it.effect("stalled streams only ⇒ TransportError (Idle) within the 15 s budget", () =>
    Effect.gen(function*() {
      const { exit, received } = yield* consume(stream)
      const error = oneFailure(exit)
      expect(error instanceof ApiError.TransportError && error.reason).toBe("Idle")
      expect(received).toHaveLength(0)
      // 5 s each, waits 0.5, 1, 2 s; the 4th fails at 23.5 s, 18.5 s after the first failure
      expect(yield* arrivals).toEqual([0, 5500, 11500, 18500])
      expect(yield* TestClock.currentTimeMillis).toBe(23500)
    }).pipe(withClaude({ client: { streamIdleTimeout: "5 seconds" }, script: () => Reply.StreamStall({ afterEvents: 0 }) })))

  it.effect("an over-size SSE event ⇒ a typed MalformedResponseError, not a defect", () =>
    Effect.gen(function*() {
      const { exit } = yield* consume(stream)
      const error = oneFailure(exit)
      expect(error).toBeInstanceOf(Claude.MalformedResponseError)
      expect(error instanceof Claude.MalformedResponseError && error.message).toContain("exceeded 64 characters")
      expect(yield* arrivals).toEqual([0])
    }).pipe(withClaude({ client: { maxEventSize: 64 } })))

  it.effect("a consumer that stops early (take 2) ends the stream cleanly, 1 request", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const taken = yield* runVirtual(Stream.runCollect(Stream.take(claude.messages.stream(params), 2)))
      expect(types([...taken])).toEqual(["message_start", "ping"])
      expect(yield* arrivals).toEqual([0])
    }).pipe(withClaude()))
})

describe("Claude e2e: finalMessage", () => {
  const content = [
    { type: "thinking", thinking: "The user greets me; a short greeting back is enough.", signature: "sig_xyz" },
    { type: "text", text: "Hello! How can I help you today? I can answer questions, write, and more." },
    { type: "tool_use", id: "toolu_9", name: "lookup", input: { query: "greeting etiquette", limit: 3, deep: { a: [1] } } }
  ]

  it.effect("accumulates to the same Message as the JSON reply", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const json = yield* runVirtual(claude.messages.create(params))
      const streamed = yield* runVirtual(claude.messages.finalMessage(params))
      expect(streamed.content).toEqual(json.content)
      expect(streamed.stop_reason).toBe("tool_use")
      expect(streamed.stop_reason).toBe(json.stop_reason)
      expect(streamed.model).toBe(json.model)
      expect(streamed.usage.output_tokens).toBe(json.usage.output_tokens)
      expect({ ...streamed, id: "x", usage: {} }).toEqual({ ...json, id: "x", usage: {} })
      const requests = yield* Effect.flatMap(Emulator.Emulator, (e) => e.requests)
      expect(requests.map((r) => (Option.getOrUndefined(r.json) as { stream?: boolean }).stream)).toEqual([
        undefined,
        true
      ])
    }).pipe(withClaude({ script: () => Reply.Ok({ content }) })))

  it.effect("fails with the typed error of the stream (IncompleteStreamError), 1 request", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const error = yield* failureOf(claude.messages.finalMessage(params))
      expect(error._tag).toBe("IncompleteStreamError")
      expect(yield* arrivals).toEqual([0])
    }).pipe(withClaude({ script: () => Reply.StreamCut({ afterEvents: 5 }) })))
})

describe("Claude e2e: the 10-minute rule", () => {
  const long = { ...params, max_tokens: 64000 }

  it.effect("create with max_tokens 64000 goes as a stream and returns the Message", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const message = yield* runVirtual(claude.messages.create(long))
      expect(message.type).toBe("message")
      expect(message.content).toEqual([{ type: "text", text: defaultText }])
      const requests = yield* Effect.flatMap(Emulator.Emulator, (e) => e.requests)
      expect(requests).toHaveLength(1)
      expect(Option.getOrUndefined(requests[0]!.json)).toMatchObject({ stream: true, max_tokens: 64000 })
    }).pipe(withClaude()))

  it.effect("the edge: max_tokens 21333 goes as JSON, 21334 as a stream", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      yield* runVirtual(claude.messages.create({ ...params, max_tokens: 21333 }))
      yield* runVirtual(claude.messages.create({ ...params, max_tokens: 21334 }))
      const requests = yield* Effect.flatMap(Emulator.Emulator, (e) => e.requests)
      expect(requests.map((r) => (Option.getOrUndefined(r.json) as { stream?: boolean }).stream)).toEqual([
        undefined,
        true
      ])
    }).pipe(withClaude()))

  it.effect("a long create is retried as a stream (before emission)", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const message = yield* runVirtual(claude.messages.create(long))
      expect(message.id).toBe("msg_emu_000001")
      expect(yield* arrivals).toEqual([0, 500])
    }).pipe(withClaude({ script: Emulator.sequence([Reply.Error({ status: 529 })]) })))

  it.effect("with longRequests: \"fail\" ⇒ LongRequestError, nothing sent", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const error = yield* failureOf(claude.messages.create(long))
      expect(error).toBeInstanceOf(Preflight.LongRequestError)
      expect(error).toMatchObject({ maxTokens: 64000, expectedSeconds: 1800 })
      expect(error.message).toContain("messages.stream")
      expect(yield* arrivals).toEqual([])
      // a short request still goes
      yield* runVirtual(claude.messages.create(params))
      expect(yield* arrivals).toEqual([0])
    }).pipe(withClaude({ client: { longRequests: "fail" } })))
})
