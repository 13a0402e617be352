/**
 * Values that cannot be right are never sent: `max_tokens: NaN` (which JSON
 * sends as `null`), `-1` or `Infinity`, a temperature outside [0, 1], empty
 * `messages`, an empty `model`, a misspelt param. Each fails with
 * `ClientRequestError` naming the field before anything is sent, for every
 * entry point that takes params and for each request of a batch.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { ApiError, Claude, Messages } from "../../../src/index.js"
import { Emulator } from "../../../src/testing/index.js"
import { failureOf, params, withClaude } from "../../e2e/support.js"

const requestCount = Effect.flatMap(Emulator.Emulator, (emulator) => emulator.requestCount)

/** Params with one field replaced (or added): what a JavaScript caller, or a bug, can pass. */
const withField = (field: string, value: unknown): Messages.MessageCreateParams =>
  ({ ...params, [field]: value }) as unknown as Messages.MessageCreateParams

/** Each case: the field, the bad value, and what the message must say. */
const cases: ReadonlyArray<readonly [string, unknown, string]> = [
  ["max_tokens", NaN, "max_tokens must be a finite integer ≥ 0; got NaN"],
  ["max_tokens", -1, "max_tokens must be a finite integer ≥ 0; got -1"],
  ["max_tokens", Infinity, "max_tokens must be a finite integer ≥ 0; got Infinity"],
  ["max_tokens", 1.5, "max_tokens must be a finite integer ≥ 0; got 1.5"],
  ["temperature", NaN, "temperature must be a number from 0 to 1; got NaN"],
  ["temperature", -0.1, "temperature must be a number from 0 to 1; got -0.1"],
  ["temperature", 1.5, "temperature must be a number from 0 to 1; got 1.5"],
  ["top_p", 2, "top_p must be a number from 0 to 1; got 2"],
  ["top_k", -1, "top_k must be a finite integer ≥ 0; got -1"],
  ["top_k", 2.5, "top_k must be a finite integer ≥ 0; got 2.5"],
  ["messages", [], "messages must hold at least one message"],
  ["model", "", "model must name a model"],
  ["model", "   ", "model must name a model"],
  ["temprature", 0.5, "\"temprature\" is not a param of MessageCreateParams (did you mean temperature?)"],
  ["sytem", "Be brief.", "\"sytem\" is not a param of MessageCreateParams (did you mean system?)"],
  ["systme", "Be brief.", "\"systme\" is not a param of MessageCreateParams (did you mean system?)"],
  ["extraParams", { max_tokens: NaN }, "\"max_tokens\" is a named param of MessageCreateParams: set it directly"]
]

const expectInvalid = (error: unknown, operation: string, says: string) => {
  expect(error).toBeInstanceOf(ApiError.ClientRequestError)
  const clientError = error as ApiError.ClientRequestError
  expect(clientError.reason).toBe("Encode")
  expect(clientError.message).toContain(`Invalid params for ${operation}, nothing was sent`)
  expect(clientError.message).toContain(says)
}

describe("a value that cannot be right fails before anything is sent", () => {
  for (const [field, value, says] of cases) {
    it.effect(`${field}: ${typeof value === "number" ? String(value) : JSON.stringify(value)} ⇒ ClientRequestError naming it, for create, stream, finalMessage and batches.create; 0 requests`, () =>
      Effect.gen(function*() {
        const claude = yield* Claude.Claude
        const bad = withField(field, value)
        expectInvalid(yield* failureOf(claude.messages.create(bad)), "messages.create", says)
        expectInvalid(yield* failureOf(Stream.runDrain(claude.messages.stream(bad))), "messages.stream", says)
        expectInvalid(yield* failureOf(claude.messages.finalMessage(bad)), "messages.finalMessage", says)
        const batchError = yield* failureOf(claude.batches.create({
          requests: [{ custom_id: "fine", params }, { custom_id: "bad", params: bad }]
        }))
        expectInvalid(batchError, "batches.create", says)
        // the batch's message says which request
        expect(batchError.message).toContain("requests[1].params")
        expect(yield* requestCount).toBe(0)
      }).pipe(withClaude()))
  }

  it.effect("countTokens: empty messages, an empty model, a misspelt param or max_tokens ⇒ ClientRequestError, 0 requests", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const count = { model: params.model, messages: params.messages }
      const bad: ReadonlyArray<readonly [Messages.CountTokensParams, string]> = [
        [{ ...count, messages: [] }, "messages must hold at least one message"],
        [{ ...count, model: "" }, "model must name a model"],
        [{ ...count, sytem: "x" } as unknown as Messages.CountTokensParams, "\"sytem\" is not a param of CountTokensParams"],
        // the endpoint rejects max_tokens: say so here, not after a round trip
        [params as unknown as Messages.CountTokensParams, "\"max_tokens\" is not a param of CountTokensParams"]
      ]
      for (const [input, says] of bad) {
        expectInvalid(yield* failureOf(claude.messages.countTokens(input)), "messages.countTokens", says)
      }
      expect(yield* requestCount).toBe(0)
    }).pipe(withClaude()))

  it.effect("a huge value of the wrong type is quoted, not copied: the message stays under 1200 characters", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const huge = "a".repeat(1_000_000)
      const error = yield* failureOf(claude.messages.create({
        ...params,
        messages: [{ role: "user", content: [{ type: "text", text: "x", citations: huge as any }] }]
      }))
      expectInvalid(error, "messages.create", "messages[0].content[0].citations")
      expect(error.message.length).toBeLessThan(1200)
      expect(yield* requestCount).toBe(0)
    }).pipe(withClaude()))

  it.effect("the controls are sent: max_tokens 0 (cache pre-warming), temperature 0 and 1, top_k 0", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      yield* claude.messages.create({ ...params, max_tokens: 0 })
      yield* claude.messages.create({ ...params, temperature: 0, top_p: 1, top_k: 0 })
      yield* claude.messages.create({ ...params, temperature: 1 })
      expect(yield* requestCount).toBe(3)
    }).pipe(withClaude()))

  it.effect("extraParams are sent at the top level of the body, as given", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const extra = { context_management: { edits: [{ type: "clear_tool_uses_20250919" }] } }
      yield* claude.messages.create(Messages.withExtraParams(params, extra))
      yield* claude.messages.countTokens({ model: params.model, messages: params.messages, extraParams: extra })
      yield* claude.batches.create({ requests: [{ custom_id: "a", params: { ...params, extraParams: extra } }] })
      const requests = yield* Effect.flatMap(Emulator.Emulator, (emulator) => emulator.requests)
      const bodies = requests.map((request) => Option.getOrThrow(request.json) as Record<string, any>)
      expect(bodies[0]).toEqual({ ...params, ...extra })
      expect(bodies[1]).toEqual({ model: params.model, messages: params.messages, ...extra })
      expect(bodies[2]!.requests[0].params).toEqual({ ...params, ...extra })
      for (const body of bodies) expect(JSON.stringify(body)).not.toContain("extraParams")
    }).pipe(withClaude()))
})

describe("the checks as properties of the schema", () => {
  const encode = (value: Record<string, unknown>) =>
    Schema.encodeUnknownEither(Messages.MessageCreateParams)({ ...params, ...value })

  it("max_tokens is accepted exactly when it is a finite integer ≥ 0", () => {
    FastCheck.assert(
      FastCheck.property(
        FastCheck.oneof(FastCheck.double(), FastCheck.integer({ min: -1000, max: 1_000_000 })),
        (n) => Either.isRight(encode({ max_tokens: n })) === (Number.isInteger(n) && n >= 0)
      )
    )
  })

  it("temperature and top_p are accepted exactly when in [0, 1]; top_k when an integer ≥ 0", () => {
    FastCheck.assert(
      FastCheck.property(FastCheck.double(), (n) => {
        const unit = n >= 0 && n <= 1
        return Either.isRight(encode({ temperature: n })) === unit &&
          Either.isRight(encode({ top_p: n })) === unit &&
          Either.isRight(encode({ top_k: n })) === (Number.isInteger(n) && n >= 0)
      })
    )
  })

  it("any key that is not a param fails, unless it is passed in extraParams", () => {
    const named = new Set(["model", "max_tokens", "messages", "system", "temperature", "top_p", "top_k",
      "stop_sequences", "stream", "metadata", "tools", "tool_choice", "thinking", "service_tier", "cache_control",
      "output_config", "speed", "container", "diagnostics", "inference_geo", "user_profile_id", "workspace_id",
      "extraParams", "__proto__"])
    FastCheck.assert(
      FastCheck.property(
        FastCheck.string({ minLength: 1 }).filter((key) => !named.has(key)),
        FastCheck.jsonValue(),
        (key, value) =>
          Either.isLeft(encode({ [key]: value })) &&
          Either.isRight(encode({ extraParams: { [key]: value } }))
      )
    )
  })
})
