import type { Effect } from "effect"
import { Schema } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import { type Claude, type Messages, ToolInput } from "../src/index.js"

declare const streamed: Effect.Effect<Messages.Message, Claude.StreamError>
declare const message: Messages.Message

describe("tool inputs", () => {
  const Weather = Schema.Struct({ city: Schema.String, days: Schema.NumberFromString })

  it("decodeToolInputs gives the schema's type", () => {
    expectTypeOf(ToolInput.decodeToolInputs(message, "weather", Weather)).toEqualTypeOf<
      Effect.Effect<
        ReadonlyArray<ToolInput.ToolCall<{ readonly city: string; readonly days: number }>>,
        ToolInput.ToolInputSchemaError
      >
    >()
    expectTypeOf(ToolInput.decodeToolInputs("weather", Weather)).toEqualTypeOf<
      (
        message: Messages.Message
      ) => Effect.Effect<
        ReadonlyArray<ToolInput.ToolCall<{ readonly city: string; readonly days: number }>>,
        ToolInput.ToolInputSchemaError
      >
    >()
  })

  it("validateToolInput keeps the Message and adds ToolInputSchemaError", () => {
    expectTypeOf(streamed.pipe(ToolInput.validateToolInput("weather", Weather))).toEqualTypeOf<
      Effect.Effect<Messages.Message, Claude.StreamError | ToolInput.ToolInputSchemaError>
    >()
  })

  it("a schema's requirements flow into R", () => {
    interface Cities {
      readonly _: unique symbol
    }
    const KnownCity = null as unknown as Schema.Schema<{ readonly city: string }, unknown, Cities>
    expectTypeOf(streamed.pipe(ToolInput.validateToolInput("weather", KnownCity))).toEqualTypeOf<
      Effect.Effect<Messages.Message, Claude.StreamError | ToolInput.ToolInputSchemaError, Cities>
    >()
    expectTypeOf(ToolInput.decodeToolInputs(message, "weather", KnownCity)).toEqualTypeOf<
      Effect.Effect<ReadonlyArray<ToolInput.ToolCall<{ readonly city: string }>>, ToolInput.ToolInputSchemaError, Cities>
    >()
  })
})
