/**
 * The README's example, run as written against the emulator.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import { Claude, Semantic } from "../../src/index.js"
import { Emulator } from "../../src/testing/index.js"
import { runVirtual } from "../support/virtualTime.js"

const params = {
  model: "claude-sonnet-5-5",
  max_tokens: 1024,
  messages: [{ role: "user" as const, content: "Hello, Claude" }]
}

describe("README example", () => {
  it.effect("a 529 storm of two replies ends in a complete message after exactly 3 requests", () =>
    Effect.gen(function*() {
      const program = Effect.gen(function*() {
        const claude = yield* Claude.Claude
        const message = yield* claude.messages.create(params).pipe(Semantic.requireComplete())
        const requests = yield* (yield* Emulator.Emulator).requests
        return { text: message.content, requests: requests.length, at: requests.map((r) => r.receivedAt) }
      }).pipe(
        Effect.provide(Emulator.layerClaude({
          script: Emulator.sequence([Emulator.Reply.Error({ status: 529 }), Emulator.Reply.Error({ status: 529 })])
        }))
      )
      const result = yield* runVirtual(program)
      expect(result.requests).toBe(3)
      expect(result.text[0]).toMatchObject({ type: "text" })
      // full jitter with every draw 0.25: waits of 0.25 s and 0.5 s
      expect(result.at).toEqual([0, 250, 750])
    }).pipe(Effect.withRandom(Random.fixed([0.25]))))
})
