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
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Resilience from "../../src/Resilience.js"
import { runVirtual, virtualNow } from "../support/virtualTime.js"
import { key, overloaded, script, spendLimit } from "./support.js"

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
})
