import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, Cause, Effect, Exit, FastCheck as fc, Option, Schema } from "effect"
import { MessageAccumulator, MessageStream } from "../src/index.js"
import { citation, isParseFailure, nearlyValid, sse, startBody } from "./support/messages.js"

describe("MessageStreamEvent", () => {
  it("decodes every documented event", () => {
    const start = sse(startBody)
    expect(start.type).toBe("message_start")
    if (start.type === "message_start") expect(start.message.usage.input_tokens).toBe(472)
    expect(sse({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } })).toEqual({
      type: "content_block_start",
      index: 0,
      content_block: { type: "text", text: "" }
    })
    expect(sse({ type: "content_block_start", index: 1, content_block: { type: "thinking", thinking: "" } })).toEqual({
      type: "content_block_start",
      index: 1,
      content_block: { type: "thinking", thinking: "", signature: "" }
    })
    expect(sse({ type: "ping" })).toEqual({ type: "ping" })
    const deltas = [
      { type: "text_delta", text: "Hello" },
      { type: "input_json_delta", partial_json: "{\"location\": \"San Fra" },
      { type: "thinking_delta", thinking: "I need to find the GCD" },
      { type: "signature_delta", signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds" },
      { type: "citations_delta", citation }
    ]
    for (const delta of deltas) {
      expect(sse({ type: "content_block_delta", index: 2, delta })).toEqual({ type: "content_block_delta", index: 2, delta })
    }
    expect(sse({ type: "content_block_stop", index: 0 })).toEqual({ type: "content_block_stop", index: 0 })
    const messageDelta = {
      type: "message_delta",
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { output_tokens: 15 }
    }
    expect(sse(messageDelta)).toEqual(messageDelta)
    expect(sse({ type: "message_stop" })).toEqual({ type: "message_stop" })
    const error = { type: "error", error: { type: "overloaded_error", message: "Overloaded" } }
    expect(sse(error)).toEqual(error)
  })

  it("decodes an unknown event and an unknown delta intact", () => {
    expect(sse({ type: "message_annotation", note: { x: 1 } })).toEqual({
      type: "unknown",
      raw: { type: "message_annotation", note: { x: 1 } }
    })
    const event = sse({ type: "content_block_delta", index: 0, delta: { type: "compaction_delta", content: "…" } })
    expect(event).toEqual({
      type: "content_block_delta",
      index: 0,
      delta: { type: "unknown", raw: { type: "compaction_delta", content: "…" } }
    })
    expect(MessageAccumulator.eventType(sse({ type: "message_annotation" }))).toBe("message_annotation")
  })

  it("a malformed data field is a ParseError, never a defect", () => {
    for (const data of ["", "{", "null", `{"type":"content_block_delta","index":-1,"delta":{"type":"text_delta","text":""}}`, `{"type":"message_start"}`]) {
      const exit = Effect.runSyncExit(MessageStream.decodeMessageStreamEventJson(data))
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit)) {
        expect(Cause.isDie(exit.cause)).toBe(false)
        expect(Option.getOrThrow(Cause.failureOption(exit.cause))._tag).toBe("ParseError")
      }
    }
  })
})

const encodedEvents = Arbitrary.make(MessageStream.MessageStreamEvent).map((e) =>
  Schema.encodeSync(MessageStream.MessageStreamEvent)(e)
)

describe("properties", () => {
  it("decoding an event from any value or any JSON text is total", () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), nearlyValid(encodedEvents)), (u) => {
        expect(isParseFailure(Effect.runSyncExit(MessageStream.decodeMessageStreamEvent(u)))).toBe(true)
        expect(isParseFailure(Effect.runSyncExit(MessageStream.decodeMessageStreamEventJson(JSON.stringify(u) ?? "")))).toBe(
          true
        )
      }),
      { numRuns: 2000 }
    )
    fc.assert(
      fc.property(fc.string(), (text) => {
        expect(isParseFailure(Effect.runSyncExit(MessageStream.decodeMessageStreamEventJson(text)))).toBe(true)
      }),
      { numRuns: 500 }
    )
  })

  it("encode then decode of an event is the identity", () => {
    fc.assert(
      fc.property(Arbitrary.make(MessageStream.MessageStreamEvent), (event) => {
        expect(Schema.decodeUnknownSync(MessageStream.MessageStreamEvent)(Schema.encodeSync(MessageStream.MessageStreamEvent)(event)))
          .toEqual(event)
      }),
      { numRuns: 2000 }
    )
  })
})
