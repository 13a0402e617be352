/**
 * The emulator answers like the API: a model it does not know gets the API's
 * 404 `not_found_error`, invalid params its 400 `invalid_request_error` with
 * the API's wording, a request without a key (or with the wrong one) its 401;
 * the fault script still decides first, and validation applies to the healthy
 * reply it leads to.
 */
import Anthropic from "@anthropic-ai/sdk"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { Claude } from "../../src/index.js"
import { Emulator } from "../../src/testing/index.js"
import { failureOf, params, withClaude } from "./support.js"

const { Reply } = Emulator

const key = "sk-ant-validation-test"

interface Answer {
  readonly status: number
  readonly body: { readonly type?: string; readonly error?: { readonly type: string; readonly message: string } }
}

/** Starts an emulator, sends one raw request to it, returns the status and JSON body. */
const send = (
  path: string,
  body: unknown,
  options: Emulator.Options = {},
  headers: Record<string, string> = { "x-api-key": key }
) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.make({ apiKey: key, ...options })
    return yield* Effect.promise(async (): Promise<Answer> => {
      const response = await fetch(`${emulator.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body)
      })
      return { status: response.status, body: await response.json() }
    })
  }).pipe(Effect.scoped)

const valid = { model: "claude-sonnet-5-5", max_tokens: 256, messages: [{ role: "user", content: "Hello" }] }

const expectError = (answer: Answer, status: number, type: string, message: string) => {
  expect(answer.status).toBe(status)
  expect(answer.body.type).toBe("error")
  expect(answer.body.error).toEqual({ type, message })
}

describe("the emulator checks requests as the API does", () => {
  it.live("a valid request is served (the control)", () =>
    Effect.gen(function*() {
      const answer = yield* send("/v1/messages", valid)
      expect(answer.status).toBe(200)
      expect(answer.body.type).toBe("message")
    }))

  const badMessages: ReadonlyArray<readonly [string, unknown, string]> = [
    ["a misspelt param", { ...valid, temprature: 0.5 }, "temprature: Extra inputs are not permitted"],
    ["no model", { max_tokens: 256, messages: valid.messages }, "model: Field required"],
    ["a model that is not a string", { ...valid, model: 5 }, "model: Input should be a valid string"],
    ["an empty model", { ...valid, model: "" }, "model: String should have at least 1 character"],
    ["no max_tokens", { model: valid.model, messages: valid.messages }, "max_tokens: Field required"],
    ["max_tokens null (NaN in JSON)", { ...valid, max_tokens: null }, "max_tokens: Input should be a valid integer"],
    ["max_tokens 1.5", { ...valid, max_tokens: 1.5 }, "max_tokens: Input should be a valid integer"],
    ["max_tokens -1", { ...valid, max_tokens: -1 }, "max_tokens: Input should be greater than or equal to 0"],
    ["no messages", { model: valid.model, max_tokens: 256 }, "messages: Field required"],
    ["messages not a list", { ...valid, messages: "Hello" }, "messages: Input should be a valid list"],
    ["empty messages", { ...valid, messages: [] }, "messages: at least one message is required"],
    ["a system role", { ...valid, messages: [{ role: "system", content: "x" }] },
      "messages.0.role: Input should be 'user' or 'assistant'"],
    ["a message without content", { ...valid, messages: [{ role: "user" }] }, "messages.0.content: Field required"],
    ["temperature 2", { ...valid, temperature: 2 }, "temperature: range: 0..1"],
    ["temperature a string", { ...valid, temperature: "hot" }, "temperature: Input should be a valid number"],
    ["top_p -0.5", { ...valid, top_p: -0.5 }, "top_p: range: 0..1"],
    ["top_k 1.5", { ...valid, top_k: 1.5 }, "top_k: Input should be a valid integer"],
    ["top_k -1", { ...valid, top_k: -1 }, "top_k: Input should be greater than or equal to 0"],
    ["stream a string", { ...valid, stream: "yes" }, "stream: Input should be a valid boolean"],
    ["a body that is not an object", [valid], "Input should be a valid dictionary or object to extract fields from"]
  ]
  for (const [label, body, message] of badMessages) {
    it.live(`messages, ${label} ⇒ 400 invalid_request_error "${message}"`, () =>
      Effect.gen(function*() {
        expectError(yield* send("/v1/messages", body), 400, "invalid_request_error", message)
      }))
  }

  it.live("a body that is not JSON ⇒ 400 invalid_request_error", () =>
    Effect.gen(function*() {
      expectError(yield* send("/v1/messages", "{not json"), 400, "invalid_request_error", "The request body is not valid JSON.")
    }))

  it.live("count_tokens rejects max_tokens and checks model and messages", () =>
    Effect.gen(function*() {
      const path = "/v1/messages/count_tokens"
      expectError(yield* send(path, valid), 400, "invalid_request_error", "max_tokens: Extra inputs are not permitted")
      expectError(yield* send(path, { messages: valid.messages }), 400, "invalid_request_error", "model: Field required")
      expectError(yield* send(path, { model: valid.model, messages: [] }), 400, "invalid_request_error",
        "messages: at least one message is required")
      expectError(yield* send(path, { model: "claude-nonexistent", messages: valid.messages }), 404, "not_found_error",
        "model: claude-nonexistent")
      const ok = yield* send(path, { model: valid.model, messages: valid.messages })
      expect(ok.status).toBe(200)
    }))

  it.live("a model it does not know ⇒ 404 not_found_error \"model: <name>\", the deprecated claude-sonnet-4-5 included", () =>
    Effect.gen(function*() {
      expectError(yield* send("/v1/messages", { ...valid, model: "claude-sonet-5-5" }), 404, "not_found_error",
        "model: claude-sonet-5-5")
      expectError(yield* send("/v1/messages", { ...valid, model: "claude-sonnet-4-5" }), 404, "not_found_error",
        "model: claude-sonnet-4-5")
    }))

  it.live("the list of models is configurable", () =>
    Effect.gen(function*() {
      const models = ["my-fine-tune"]
      const mine = yield* send("/v1/messages", { ...valid, model: "my-fine-tune" }, { models })
      expect(mine.status).toBe(200)
      expectError(yield* send("/v1/messages", valid, { models }), 404, "not_found_error", "model: claude-sonnet-5-5")
    }))

  it.live("validate: false serves any request", () =>
    Effect.gen(function*() {
      const answer = yield* send("/v1/messages", { model: "anything", max_tokens: -1, messages: [] }, { validate: false })
      expect(answer.status).toBe(200)
      expect(answer.body.type).toBe("message")
    }))

  it.live("the error body carries the request id, like the API's", () =>
    Effect.gen(function*() {
      const answer = yield* send("/v1/messages", { ...valid, model: "nope" })
      expect((answer.body as { request_id?: string }).request_id).toBe("req_emu_000001")
    }))
})

describe("authentication", () => {
  it.live("no key at all ⇒ 401 \"x-api-key header is required\", even with no apiKey configured", () =>
    Effect.gen(function*() {
      expectError(yield* send("/v1/messages", valid, {}, {}), 401, "authentication_error", "x-api-key header is required")
      expectError(
        yield* send("/v1/messages", valid, { apiKey: undefined }, {}),
        401,
        "authentication_error",
        "x-api-key header is required"
      )
    }))

  it.live("the wrong key, when one is configured ⇒ 401 \"invalid x-api-key\"; any key when none is", () =>
    Effect.gen(function*() {
      expectError(yield* send("/v1/messages", valid, {}, { "x-api-key": "sk-ant-wrong" }), 401, "authentication_error",
        "invalid x-api-key")
      const any = yield* send("/v1/messages", valid, { apiKey: undefined }, { "x-api-key": "sk-ant-anything" })
      expect(any.status).toBe(200)
      const bearer = yield* send("/v1/messages", valid, {}, { authorization: `Bearer ${key}` })
      expect(bearer.status).toBe(200)
    }))

  it.live("authentication comes before the script: a scripted 529 does not answer a request without a key", () =>
    Effect.gen(function*() {
      const answer = yield* send("/v1/messages", valid, { script: () => Reply.Error({ status: 529 }) }, {})
      expect(answer.status).toBe(401)
    }))
})

describe("the order: the script decides first, validation applies to the healthy reply", () => {
  it.live("a scripted failure answers even an invalid request", () =>
    Effect.gen(function*() {
      const answer = yield* send("/v1/messages", { ...valid, model: "nope" }, { script: () => Reply.Error({ status: 529 }) })
      expectError(answer, 529, "overloaded_error", "Overloaded")
    }))

  it.live("a scripted Ok, delayed or not, is checked first", () =>
    Effect.gen(function*() {
      const ok = yield* send("/v1/messages", { ...valid, model: "nope" }, { script: () => Reply.Ok({ text: "hi" }) })
      expect(ok.status).toBe(404)
      const delayed = yield* send("/v1/messages", { ...valid, max_tokens: -1 }, {
        script: () => Reply.Delayed({ delay: 0, reply: Reply.Ok({}) })
      })
      expect(delayed.status).toBe(400)
    }))
})

describe("batches", () => {
  const path = "/v1/messages/batches"
  const request = (custom_id: string, p: unknown = valid) => ({ custom_id, params: p })

  const badEnvelopes: ReadonlyArray<readonly [string, unknown, string]> = [
    ["no requests", {}, "requests: Field required"],
    ["empty requests", { requests: [] }, "requests: List should have at least 1 item after validation, not 0"],
    ["an unknown field", { requests: [request("a")], priority: 1 }, "priority: Extra inputs are not permitted"],
    ["a bad custom_id", { requests: [request("not valid!")] },
      "requests.0.custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'"],
    ["a duplicate custom_id", { requests: [request("a"), request("a")] }, "requests: custom_id a is used more than once; each custom_id must be unique"],
    ["no params", { requests: [{ custom_id: "a" }] }, "requests.0.params: Field required"]
  ]
  for (const [label, body, message] of badEnvelopes) {
    it.live(`${label} ⇒ 400 invalid_request_error at creation`, () =>
      Effect.gen(function*() {
        expectError(yield* send(path, body), 400, "invalid_request_error", message)
      }))
  }

  it.effect("each request's params are checked when the batch is processed: an invalid one ends errored", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const emulator = yield* Emulator.Emulator
      // the client checks params too: send these past it, as another client could
      const response = yield* Effect.promise(() =>
        fetch(`${emulator.url}${path}`, {
          method: "POST",
          headers: { "x-api-key": Emulator.testApiKey, "content-type": "application/json" },
          body: JSON.stringify({
            requests: [
              request("fine"),
              request("no-model", { max_tokens: 256, messages: valid.messages }),
              request("unknown-model", { ...valid, model: "claude-sonnet-4-5" })
            ]
          })
        }).then((r) => r.json() as Promise<{ id: string }>)
      )
      const batch = yield* claude.batches.retrieve(response.id)
      expect(batch.request_counts).toMatchObject({ succeeded: 1, errored: 2 })
      const results = yield* Stream.runCollect(claude.batches.results(response.id))
      const byId = Object.fromEntries([...results].map((r) => [r.customId, r]))
      expect(byId["fine"]?._tag).toBe("Succeeded")
      expect(byId["no-model"]).toMatchObject({
        _tag: "Errored",
        error: { _tag: "InvalidRequestError", serverMessage: expect.objectContaining({ value: "model: Field required" }) }
      })
      expect(byId["unknown-model"]).toMatchObject({
        _tag: "Errored",
        error: { _tag: "NotFoundError", serverMessage: expect.objectContaining({ value: "model: claude-sonnet-4-5" }) }
      })
    }).pipe(withClaude()))
})

describe("through the clients", () => {
  it.effect("Claude: an unknown model is a NotFoundError (fatal, one request)", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const error = yield* failureOf(claude.messages.create({ ...params, model: "claude-sonet-5-5" }))
      expect(error._tag).toBe("NotFoundError")
      expect(error.message).toContain("model: claude-sonet-5-5")
      expect(yield* Effect.flatMap(Emulator.Emulator, (emulator) => emulator.requestCount)).toBe(1)
    }).pipe(withClaude()))

  it.live("the official SDK maps the answers to its own classes", () =>
    Effect.gen(function*() {
      const errors = yield* Effect.gen(function*() {
        const emulator = yield* Emulator.make({ apiKey: key })
        const sdk = new Anthropic({ apiKey: key, baseURL: emulator.url, maxRetries: 0 })
        const attempt = (p: Anthropic.MessageCreateParamsNonStreaming) =>
          Effect.promise(() => sdk.messages.create(p).then(() => undefined, (e: unknown) => e))
        return [
          yield* attempt({ ...valid, model: "claude-sonet-5-5", messages: [{ role: "user", content: "Hi" }] }),
          yield* attempt({ model: "claude-sonnet-5-5", max_tokens: 256, messages: [] })
        ]
      }).pipe(Effect.scoped)
      expect(errors[0]).toBeInstanceOf(Anthropic.NotFoundError)
      expect(errors[1]).toBeInstanceOf(Anthropic.BadRequestError)
      expect(String((errors[1] as Error).message)).toContain("messages: at least one message is required")
    }))
})

describe("the default models", () => {
  it("are the official SDK's Model type, less its deprecated models", () => {
    // the package's main entry sits at its root
    const root = dirname(createRequire(import.meta.url).resolve("@anthropic-ai/sdk"))
    const types = readFileSync(join(root, "resources/messages/messages.d.ts"), "utf8")
    const union = /export type Model = ([^;]+);/.exec(types)?.[1] ?? ""
    const sdkModels = [...union.matchAll(/'([^']+)'/g)].map((m) => m[1]!)
    const code = readFileSync(join(root, "resources/messages/messages.js"), "utf8")
    const deprecatedBlock = /const DEPRECATED_MODELS = \{([^}]*)\}/.exec(code)?.[1] ?? ""
    const deprecated = [...deprecatedBlock.matchAll(/'([^']+)':/g)].map((m) => m[1]!)
    expect(deprecated).toEqual(["claude-sonnet-4-5", "claude-sonnet-4-5-20250929"])
    expect(sdkModels.length).toBeGreaterThan(10)
    expect([...Emulator.defaultModels].sort()).toEqual(sdkModels.filter((m) => !deprecated.includes(m)).sort())
  })
})
