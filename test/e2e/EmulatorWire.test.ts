/**
 * The emulator speaks the real wire format: the official SDK (no retries, so
 * request counts stay exact), pointed at it over loopback, parses its replies
 * and maps its errors to its own classes.
 */
import Anthropic from "@anthropic-ai/sdk"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { Emulator } from "../../src/testing/index.js"

const params = {
  model: "claude-sonnet-5-5",
  max_tokens: 256,
  messages: [{ role: "user" as const, content: "Hello" }]
}

const withEmulator = <A>(script: Emulator.Script, f: (sdk: Anthropic, emulator: Emulator.EmulatorShape) => Promise<A>) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.make({ script, apiKey: "sk-ant-test-secret" })
    const sdk = new Anthropic({ apiKey: "sk-ant-test-secret", baseURL: emulator.url, maxRetries: 0 })
    const result = yield* Effect.promise(() => f(sdk, emulator))
    return { result, requests: yield* emulator.requests }
  }).pipe(Effect.scoped)

const sdkError = (sdk: Anthropic) =>
  sdk.messages.create(params).then(() => undefined, (error: unknown) => error)

describe("Emulator wire format (official SDK)", () => {
  it.live("a normal reply parses as a Message", () =>
    Effect.gen(function*() {
      const { requests, result } = yield* withEmulator(
        Emulator.healthy,
        (sdk) => sdk.messages.create(params)
      )
      expect(result.type).toBe("message")
      expect(result.role).toBe("assistant")
      expect(result.model).toBe("claude-sonnet-5-5")
      expect(result.stop_reason).toBe("end_turn")
      expect(result.content[0]?.type).toBe("text")
      expect(requests).toHaveLength(1)
      expect(requests[0]?.headers["authorization"]).toBe("Bearer sk-ant-test-secret")
      expect(requests[0]?.headers["anthropic-version"]).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    }))

  it.live("a stream accumulates to the same message", () =>
    Effect.gen(function*() {
      const text = "A longer answer that the emulator splits into many text deltas."
      const { result } = yield* withEmulator(
        () => Emulator.Reply.Ok({ text }),
        (sdk) => sdk.messages.stream(params).finalMessage()
      )
      expect(result.content).toHaveLength(1)
      expect(result.content[0]).toMatchObject({ type: "text", text })
      expect(result.stop_reason).toBe("end_turn")
    }))

  it.live("a tool_use reply streams its input as JSON deltas", () =>
    Effect.gen(function*() {
      const input = { city: "Paris", units: "metric", days: [1, 2, 3] }
      const { result } = yield* withEmulator(
        () => Emulator.Reply.Ok({ content: [{ type: "tool_use", id: "toolu_1", name: "weather", input }] }),
        (sdk) => sdk.messages.stream(params).finalMessage()
      )
      expect(result.stop_reason).toBe("tool_use")
      expect(result.content[0]).toMatchObject({ type: "tool_use", name: "weather", input })
    }))

  const cases: ReadonlyArray<readonly [number, string, Function]> = [
    [400, "invalid_request_error", Anthropic.BadRequestError],
    [401, "authentication_error", Anthropic.AuthenticationError],
    [403, "permission_error", Anthropic.PermissionDeniedError],
    [404, "not_found_error", Anthropic.NotFoundError],
    [413, "request_too_large", Anthropic.APIError],
    [429, "rate_limit_error", Anthropic.RateLimitError],
    [500, "api_error", Anthropic.InternalServerError],
    [504, "timeout_error", Anthropic.InternalServerError],
    [529, "overloaded_error", Anthropic.InternalServerError]
  ]
  for (const [status, type, errorClass] of cases) {
    it.live(`${status} ${type} maps to the SDK's ${errorClass.name}`, () =>
      Effect.gen(function*() {
        const { requests, result } = yield* withEmulator(
          () => Emulator.Reply.Error({ status }),
          sdkError
        )
        expect(result).toBeInstanceOf(errorClass)
        const error = result as InstanceType<typeof Anthropic.APIError>
        expect(error.status).toBe(status)
        expect(error.type).toBe(type)
        expect(error.requestID).toBe(requests[0]?.headers === undefined ? undefined : "req_emu_000001")
        expect(requests).toHaveLength(1)
      }))
  }

  it.live("replies carry no wall-clock Date header: the emulator's times come from Clock", () =>
    Effect.gen(function*() {
      const headers = yield* Effect.gen(function*() {
        const emulator = yield* Emulator.make()
        return yield* Effect.promise(() =>
          fetch(`${emulator.url}/v1/messages`, { method: "POST", body: JSON.stringify(params) }).then((r) => r.headers)
        )
      }).pipe(Effect.scoped)
      expect(headers.get("request-id")).toBe("req_emu_000001")
      expect(headers.get("date")).toBeNull()
    }))

  it.live("a wrong API key is a 401 the SDK recognises", () =>
    Effect.gen(function*() {
      const result = yield* Effect.gen(function*() {
        const emulator = yield* Emulator.make({ apiKey: "sk-ant-right" })
        const sdk = new Anthropic({ apiKey: "sk-ant-wrong", baseURL: emulator.url, maxRetries: 0 })
        return yield* Effect.promise(() => sdkError(sdk))
      }).pipe(Effect.scoped)
      expect(result).toBeInstanceOf(Anthropic.AuthenticationError)
    }))

  it.live("the edge's HTML 413 and a reset connection reach the SDK as errors", () =>
    Effect.gen(function*() {
      const html = yield* withEmulator(() => Emulator.Reply.Html({ status: 413 }), sdkError)
      expect(html.result).toBeInstanceOf(Anthropic.APIError)
      expect((html.result as InstanceType<typeof Anthropic.APIError>).status).toBe(413)
      const reset = yield* withEmulator(() => Emulator.Reply.Reset(), sdkError)
      expect(reset.result).toBeInstanceOf(Anthropic.APIConnectionError)
    }))

  it.live("a mid-stream error event fails the SDK's stream with the error type", () =>
    Effect.gen(function*() {
      const { result } = yield* withEmulator(
        () => Emulator.Reply.StreamError({ afterEvents: 4, type: "overloaded_error" }),
        (sdk) => sdk.messages.stream(params).finalMessage().then(() => undefined, (e: unknown) => e)
      )
      expect(result).toBeInstanceOf(Anthropic.APIError)
      expect(String((result as Error).message)).toContain("overloaded_error")
    }))

  it.live("count_tokens and batches parse", () =>
    Effect.gen(function*() {
      const { result } = yield* withEmulator(Emulator.healthy, async (sdk) => {
        const count = await sdk.messages.countTokens({ model: params.model, messages: params.messages })
        const batch = await sdk.messages.batches.create({
          requests: [{ custom_id: "a-1", params }, { custom_id: "b_2", params }]
        })
        const retrieved = await sdk.messages.batches.retrieve(batch.id)
        const results = []
        for await (const line of await sdk.messages.batches.results(batch.id)) results.push(line)
        return { count, batch, retrieved, results }
      })
      expect(result.count.input_tokens).toBeGreaterThan(0)
      expect(result.batch.type).toBe("message_batch")
      expect(result.retrieved.processing_status).toBe("ended")
      expect(result.retrieved.request_counts.succeeded).toBe(2)
      expect(result.results.map((r) => [r.custom_id, r.result.type])).toEqual([["a-1", "succeeded"], ["b_2", "succeeded"]])
    }))
})
