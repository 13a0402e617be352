/**
 * Tool inputs over the real client and the emulator: a matching input
 * passes, a mismatched one fails with the tool, the id and the path.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { Semantic, ToolInput } from "../../src/index.js"
import { Emulator } from "../../src/testing/index.js"
import {
  failure,
  modes,
  params,
  run,
  send,
  success
} from "../support/semanticWire.js"

// ---------------------------------------------------------------------------
// tool inputs
// ---------------------------------------------------------------------------

describe("validateToolInput", () => {
  const Weather = Schema.Struct({ city: Schema.String, days: Schema.Number })
  const reply = (input: unknown) => () =>
    Emulator.Reply.Ok({ content: [{ type: "tool_use", id: "toolu_01W", name: "get_weather", input }] })

  for (const mode of modes) {
    it.effect(`${mode}: a matching input passes, the message unchanged`, () =>
      Effect.gen(function*() {
        const { exit } = yield* run(
          reply({ city: "Paris", days: 3 }),
          send(mode, params).pipe(Semantic.requireComplete(), ToolInput.validateToolInput("get_weather", Weather))
        )
        expect(Semantic.outcome(success(exit))).toMatchObject({ _tag: "ToolUse", toolUses: [{ input: { city: "Paris", days: 3 } }] })
      }))

    it.effect(`${mode}: a mismatched field fails with the tool, the id and the path`, () =>
      Effect.gen(function*() {
        const { bodies, exit } = yield* run(
          reply({ city: "Paris", days: "three" }),
          send(mode, params).pipe(Semantic.requireComplete(), ToolInput.validateToolInput("get_weather", Weather))
        )
        expect(bodies).toHaveLength(1)
        expect(failure(exit)).toMatchObject({
          _tag: "ToolInputSchemaError",
          toolName: "get_weather",
          toolUseId: "toolu_01W",
          path: ["days"],
          field: "input.days"
        })
      }))
  }
})
