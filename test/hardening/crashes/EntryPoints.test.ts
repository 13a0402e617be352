/**
 * Out-of-type input from JavaScript callers: every public entry point of the
 * client, given null, undefined, a number, a Proxy whose every trap throws or
 * an object whose getter throws, ends in exactly one typed failure that names
 * the problem, with nothing sent; and a client option of the wrong type is a
 * typed layer error, not a defect.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { ApiError, Claude, Options, Resilience } from "../../../src/index.js"
import { Emulator } from "../../../src/testing/index.js"
import { consume, failureOf, oneFailure, params, withClaude } from "../../e2e/support.js"
import { throwingProxy } from "../../support/hardening.js"

/** A Proxy whose every trap throws: reading it in any way throws. */
/** Valid params but for one getter, which throws. */
const withThrowingGetter = (base: object, key: string): object =>
  Object.defineProperty({ ...base }, key, {
    enumerable: true,
    get: () => {
      throw new Error(`getter ${key}`)
    }
  })

/** The bad inputs, each with what the error message must say about it. */
const inputs = (valid: object, key: string): ReadonlyArray<readonly [string, () => unknown, string]> => [
  ["null", () => null, "got null"],
  ["undefined", () => undefined, "got undefined"],
  ["a number", () => 42, "got 42"],
  ["a throwing Proxy", throwingProxy, "threw (Error: trap "],
  [`an object whose ${key} getter throws`, () => withThrowingGetter(valid, key), `threw (Error: getter ${key})`]
]

const requestCount = Effect.flatMap(Emulator.Emulator, (emulator) => emulator.requestCount)

const expectClientError = (error: unknown, reason: "Encode" | "InvalidUrl", says: string) => {
  expect(error).toBeInstanceOf(ApiError.ClientRequestError)
  const clientError = error as ApiError.ClientRequestError
  expect(clientError.reason).toBe(reason)
  expect(clientError.message).toContain(says)
  expect(clientError.message).toContain("nothing was sent")
}

describe("every entry point fails typed on out-of-type input, with nothing sent", () => {
  const batchParams = { requests: [{ custom_id: "one", params }] }
  const paramsEntries: ReadonlyArray<
    readonly [string, object, string, (claude: Claude.Service, input: any) => Effect.Effect<unknown, unknown>]
  > = [
    ["messages.create", params, "model", (claude, input) => claude.messages.create(input)],
    ["messages.finalMessage", params, "max_tokens", (claude, input) => claude.messages.finalMessage(input)],
    ["messages.countTokens", { model: params.model, messages: params.messages }, "messages", (claude, input) =>
      claude.messages.countTokens(input)],
    ["batches.create", batchParams, "requests", (claude, input) => claude.batches.create(input)]
  ]
  for (const [name, valid, key, call] of paramsEntries) {
    for (const [label, input, says] of inputs(valid, key)) {
      it.effect(`${name}(${label}) ⇒ ClientRequestError (Encode) naming it, 0 requests`, () =>
        Effect.gen(function*() {
          const claude = yield* Claude.Claude
          // building the effect reads nothing: it cannot throw either
          const effect = call(claude, input())
          const error = yield* failureOf(effect)
          expectClientError(error, "Encode", says)
          expect((error as ApiError.ClientRequestError).message).toContain(name)
          expect(yield* requestCount).toBe(0)
        }).pipe(withClaude()))
    }
  }

  for (const [label, input, says] of inputs(params, "messages")) {
    it.effect(`messages.stream(${label}) ⇒ the stream fails with ClientRequestError (Encode), 0 requests`, () =>
      Effect.gen(function*() {
        const claude = yield* Claude.Claude
        const { exit, received } = yield* consume(claude.messages.stream(input() as any))
        expect(received).toEqual([])
        expectClientError(oneFailure(exit), "Encode", says)
        expect(yield* requestCount).toBe(0)
      }).pipe(withClaude()))
  }

  it.effect("a throwing getter deep inside the params (a message's content) is caught too", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const message = withThrowingGetter({ role: "user" }, "content")
      const error = yield* failureOf(claude.messages.create({ ...params, messages: [message as any] }))
      expectClientError(error, "Encode", "threw (Error: getter content)")
      const batchError = yield* failureOf(claude.batches.create({
        requests: [{ custom_id: "a", params: withThrowingGetter(params, "model") as any }]
      }))
      expectClientError(batchError, "Encode", "threw (Error: getter model)")
      expect(yield* requestCount).toBe(0)
    }).pipe(withClaude()))

  it.effect("a value the body cannot hold as JSON (a bigint in a tool input) ⇒ ClientRequestError, 0 requests", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const error = yield* failureOf(claude.messages.create({
        ...params,
        messages: [
          { role: "user", content: "weather?" },
          { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "w", input: { n: BigInt(1) } }] }
        ]
      }))
      expectClientError(error, "Encode", "could not be written as JSON")
      expect(yield* requestCount).toBe(0)
    }).pipe(withClaude()))

  const idEntries: ReadonlyArray<readonly [string, (claude: Claude.Service, id: any) => Effect.Effect<unknown, unknown>]> = [
    ["batches.retrieve", (claude, id) => claude.batches.retrieve(id)],
    ["batches.cancel", (claude, id) => claude.batches.cancel(id)],
    ["batches.delete", (claude, id) => claude.batches.delete(id)],
    ["batches.results", (claude, id) => Stream.runDrain(claude.batches.results(id))]
  ]
  const ids: ReadonlyArray<readonly [string, () => unknown, string]> = [
    ["null", () => null, "got null"],
    ["undefined", () => undefined, "got undefined"],
    ["a number", () => 42, "got 42"],
    ["a throwing Proxy", throwingProxy, "got a value of type object"],
    ["an object whose toString getter throws", () => withThrowingGetter({}, "toString"), "got a value of type object"]
  ]
  for (const [name, call] of idEntries) {
    for (const [label, id, says] of ids) {
      it.effect(`${name}(${label}) ⇒ ClientRequestError (InvalidUrl), 0 requests`, () =>
        Effect.gen(function*() {
          const claude = yield* Claude.Claude
          const error = yield* failureOf(call(claude, id()))
          expectClientError(error, "InvalidUrl", says)
          expect((error as ApiError.ClientRequestError).message).toContain("batch id")
          expect(yield* requestCount).toBe(0)
        }).pipe(withClaude()))
    }
  }

  const listOptions: ReadonlyArray<readonly [string, () => unknown, string]> = [
    ["null", () => null, "got null"],
    ["a number", () => 42, "got 42"],
    ["a throwing Proxy", throwingProxy, "could not be read (Error: trap "],
    ["an object whose limit getter throws", () => withThrowingGetter({}, "limit"), "could not be read (Error: getter limit)"],
    ["a string limit", () => ({ limit: "10" }), "limit must be an integer from 1 to 1000, got \"10\""],
    ["a numeric afterId", () => ({ afterId: 7 }), "afterId must be a batch id"]
  ]
  for (const [label, options, says] of listOptions) {
    it.effect(`batches.list(${label}) ⇒ ClientRequestError (InvalidUrl), 0 requests`, () =>
      Effect.gen(function*() {
        const claude = yield* Claude.Claude
        const error = yield* failureOf(claude.batches.list(options() as any))
        expectClientError(error, "InvalidUrl", says)
        expect(yield* requestCount).toBe(0)
      }).pipe(withClaude()))
  }

  it.effect("batches.list(undefined) is the default paging (the control): it is sent", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const list = yield* claude.batches.list(undefined)
      expect(list.data).toEqual([])
      expect(yield* requestCount).toBe(1)
    }).pipe(withClaude()))
})

describe("an apiKey of the wrong type is a typed layer error", () => {
  const build = (apiKey: unknown) =>
    Effect.exit(
      Layer.build(
        Claude.layer({ apiKey: apiKey as Redacted.Redacted<string> }).pipe(
          Layer.provide(Layer.merge(NodeHttpClient.layer, Resilience.layer()))
        )
      ).pipe(Effect.scoped)
    )

  const secret = "sk-ant-plain-string-s3cr3t"
  const cases: ReadonlyArray<readonly [string, unknown, string]> = [
    ["a plain string", secret, "got a plain string"],
    ["undefined", undefined, "got undefined"],
    ["null", null, "got null"],
    ["a number", 42, "got number"],
    ["a plain object", { value: secret }, "got an object that is not Redacted"],
    ["a Redacted number", Redacted.make(42), "non-empty visible ASCII"]
  ]
  for (const [label, apiKey, says] of cases) {
    it.effect(`${label} ⇒ InvalidOptionsError at apiKey, the key never printed`, () =>
      Effect.gen(function*() {
        const error = oneFailure(yield* build(apiKey))
        expect(error).toBeInstanceOf(Options.InvalidOptionsError)
        const invalid = error as Options.InvalidOptionsError
        expect(invalid.problems.map((p) => p.path)).toEqual(["apiKey"])
        expect(invalid.message).toContain(says)
        expect(JSON.stringify(invalid) + invalid.message + String(invalid)).not.toContain(secret)
      }))
  }

  it.effect("a Redacted key (the control) builds", () =>
    Effect.gen(function*() {
      expect(Exit.isSuccess(yield* build(Redacted.make(secret)))).toBe(true)
    }))
})
