import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, FastCheck as fc, Option, pipe, Stream } from "effect"
import { MessageAccumulator, type Messages, type MessageStream } from "../src/index.js"

type MessageStreamEvent = MessageStream.MessageStreamEvent
import { citation, deltaEvent, sse, startBody, toolUse } from "./support/messages.js"

/** A realistic stream: thinking, then text with a citation, then a tool call whose input is split. */
const realisticEvents = [
  startBody,
  { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } },
  deltaEvent(0, { type: "thinking_delta", thinking: "The user wants the weather. " }),
  { type: "ping" },
  deltaEvent(0, { type: "thinking_delta", thinking: "I should call get_weather." }),
  deltaEvent(0, { type: "signature_delta", signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds" }),
  { type: "content_block_stop", index: 0 },
  { type: "content_block_start", index: 1, content_block: { type: "text", text: "" } },
  deltaEvent(1, { type: "text_delta", text: "According to the document, " }),
  deltaEvent(1, { type: "citations_delta", citation }),
  deltaEvent(1, { type: "text_delta", text: "the grass is green. Let me check the weather." }),
  { type: "content_block_stop", index: 1 },
  {
    type: "content_block_start",
    index: 2,
    content_block: { type: "tool_use", id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", name: "get_weather", input: {} }
  },
  deltaEvent(2, { type: "input_json_delta", partial_json: "" }),
  deltaEvent(2, { type: "input_json_delta", partial_json: "{\"location\":" }),
  deltaEvent(2, { type: "input_json_delta", partial_json: " \"San Fra" }),
  deltaEvent(2, { type: "input_json_delta", partial_json: "ncisco, CA\"" }),
  deltaEvent(2, { type: "input_json_delta", partial_json: ", \"unit\": \"fah" }),
  deltaEvent(2, { type: "input_json_delta", partial_json: "renheit\"}" }),
  { type: "content_block_stop", index: 2 },
  {
    type: "message_delta",
    delta: { stop_reason: "tool_use", stop_sequence: null },
    usage: { output_tokens: 89, cache_read_input_tokens: 128 }
  },
  { type: "message_stop" }
].map(sse)

const expectedMessage: Messages.Message = {
  id: "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY",
  type: "message",
  role: "assistant",
  model: "claude-opus-4-5-20251101",
  content: [
    {
      type: "thinking",
      thinking: "The user wants the weather. I should call get_weather.",
      signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"
    },
    {
      type: "text",
      text: "According to the document, the grass is green. Let me check the weather.",
      citations: [citation]
    },
    {
      type: "tool_use",
      id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
      name: "get_weather",
      input: { location: "San Francisco, CA", unit: "fahrenheit" }
    }
  ],
  stop_reason: "tool_use",
  stop_sequence: null,
  usage: { input_tokens: 472, output_tokens: 89, cache_creation_input_tokens: 0, cache_read_input_tokens: 128 }
}

const leftOf = <A, E>(result: Either.Either<A, E>): E => {
  if (Either.isRight(result)) throw new Error("expected a failure")
  return result.left
}
describe("accumulate", () => {
  it("builds the exact Message from a realistic stream", () => {
    expect(Either.getOrThrow(MessageAccumulator.fromEvents(realisticEvents))).toEqual(expectedMessage)
  })

  it("is a pure fold: initial, accumulate (data-first and data-last), finish", () => {
    const [first, ...rest] = realisticEvents
    let state = MessageAccumulator.accumulate(MessageAccumulator.initial, first!)
    const before = state
    state = rest.reduce((s, event) => pipe(s, MessageAccumulator.accumulate(event)), state)
    expect(state.events).toBe(realisticEvents.length)
    expect(MessageAccumulator.finish(state)).toEqual(Either.right(expectedMessage))
    // the earlier state is untouched
    expect(before.events).toBe(1)
    expect(before.blocks).toEqual([])
    expect(MessageAccumulator.initial.events).toBe(0)
  })

  it("gives the message so far as a snapshot", () => {
    const state = realisticEvents.slice(0, 10).reduce(MessageAccumulator.accumulate, MessageAccumulator.initial)
    const partial = Option.getOrThrow(MessageAccumulator.snapshot(state))
    expect(partial.content).toEqual([
      expectedMessage.content[0],
      { type: "text", text: "According to the document, ", citations: [citation] }
    ])
    expect(partial.stop_reason).toBeNull()
    expect(MessageAccumulator.snapshot(MessageAccumulator.initial)).toEqual(Option.none())
  })

  it.effect("runs as a Sink over a Stream", () =>
    Effect.gen(function*() {
      const message = yield* Stream.run(Stream.fromIterable(realisticEvents), MessageAccumulator.sink)
      expect(message).toEqual(expectedMessage)
      const error = yield* Stream.run(Stream.fromIterable(realisticEvents.slice(0, -1)), MessageAccumulator.sink).pipe(Effect.flip)
      expect(error._tag).toBe("IncompleteStreamError")
    }))

  it("a stream cut before message_stop is an IncompleteStreamError saying how far it got", () => {
    const error = leftOf(MessageAccumulator.fromEvents(realisticEvents.slice(0, 12)))
    expect(error).toBeInstanceOf(MessageAccumulator.IncompleteStreamError)
    if (error._tag !== "IncompleteStreamError") throw new Error(error._tag)
    expect(error.events).toBe(12)
    expect(error.missing).toBe("message_stop")
    expect(error.lastEventType).toEqual(Option.some("content_block_stop"))
    expect(error.message).toBe(
      "The stream ended after 12 events (last event: content_block_stop) without message_stop"
    )
  })

  it("an empty stream, or one without message_start, misses message_start", () => {
    const empty = leftOf(MessageAccumulator.fromEvents([]))
    expect(empty.message).toBe("The stream ended before any event arrived, without message_start")
    const pings = leftOf(MessageAccumulator.fromEvents([sse({ type: "ping" })]))
    if (pings._tag !== "IncompleteStreamError") throw new Error(pings._tag)
    expect(pings.missing).toBe("message_start")
    expect(pings.message).toBe("The stream ended after 1 event (last event: ping) without message_start")
  })

  it("an error event ends the stream: later events are ignored and the error is reported", () => {
    const events = [
      ...realisticEvents.slice(0, 9),
      sse({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } }),
      sse({ type: "message_stop" })
    ]
    const error = leftOf(MessageAccumulator.fromEvents(events))
    if (error._tag !== "IncompleteStreamError") throw new Error(error._tag)
    expect(error.events).toBe(11)
    expect(error.streamError).toEqual(Option.some({ type: "overloaded_error", message: "Overloaded" }))
    expect(error.lastEventType).toEqual(Option.some("error"))
    expect(error.message).toBe(
      "The stream ended after 11 events (last event: error) without message_stop: it carried an error event (overloaded_error: Overloaded)"
    )
  })

  it("input JSON that does not parse is an InvalidToolInputError, not a throw", () => {
    const events = [
      ...realisticEvents.slice(0, 15),
      sse(deltaEvent(2, { type: "input_json_delta", partial_json: " \"San Fra}" })),
      sse({ type: "content_block_stop", index: 2 }),
      ...realisticEvents.slice(-2)
    ]
    const error = leftOf(MessageAccumulator.fromEvents(events))
    if (error._tag !== "InvalidToolInputError") throw new Error(error._tag)
    expect(error.index).toBe(2)
    expect(error.blockType).toBe("tool_use")
    expect(error.toolName).toEqual(Option.some("get_weather"))
    expect(error.toolUseId).toEqual(Option.some("toolu_01T1x1fJ34qAmk2tNTrN7Up6"))
    expect(error.length).toBe("{\"location\": \"San Fra}".length)
    expect(error.message).toContain(
      "The input of tool_use block 2 (get_weather, toolu_01T1x1fJ34qAmk2tNTrN7Up6) is not valid JSON after 22 characters"
    )
    // a block that never stopped is parsed by finish
    const unstopped = [...realisticEvents.slice(0, 15), sse({ type: "message_stop" })]
    expect(leftOf(MessageAccumulator.fromEvents(unstopped))._tag).toBe("InvalidToolInputError")
  })

  it("events that break the grammar are a StreamProtocolError", () => {
    const cases: ReadonlyArray<readonly [ReadonlyArray<unknown>, string]> = [
      [[{ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }], "before message_start"],
      [[startBody, deltaEvent(0, { type: "text_delta", text: "x" })], "block 0, which never started"],
      [[startBody, { type: "content_block_start", index: 1, content_block: { type: "text", text: "" } }], "blocks start in order"],
      [[startBody, { type: "content_block_start", index: 0, content_block: toolUse }, deltaEvent(0, { type: "text_delta", text: "x" })], "a text_delta cannot apply to a tool_use block"],
      [[startBody, { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }, { type: "content_block_stop", index: 0 }, deltaEvent(0, { type: "text_delta", text: "x" })], "after its content_block_stop"],
      [[startBody, startBody], "a second message_start"]
    ]
    for (const [events, reason] of cases) {
      const error = leftOf(MessageAccumulator.fromEvents(events.map(sse)))
      if (error._tag !== "StreamProtocolError") throw new Error(`${reason}: ${error._tag}`)
      expect(error.reason).toContain(reason)
      expect(error.event).toBe(events.length)
      expect(error.message).toContain(`Stream protocol violation at event ${events.length}`)
    }
  })

  it("applies deltas to an unknown block's raw fields and skips unknown deltas", () => {
    const events = [
      startBody,
      { type: "content_block_start", index: 0, content_block: { type: "mcp_tool_use", id: "mcptoolu_1", name: "echo", server_name: "s", input: {} } },
      deltaEvent(0, { type: "input_json_delta", partial_json: "{\"text\":" }),
      deltaEvent(0, { type: "input_json_delta", partial_json: "\"hi\"}" }),
      deltaEvent(0, { type: "a_future_delta", whatever: 1 }),
      { type: "content_block_stop", index: 0 },
      { type: "content_block_start", index: 1, content_block: { type: "compaction", content: "" } },
      deltaEvent(1, { type: "text_delta", text: "sum" }),
      deltaEvent(1, { type: "text_delta", text: "mary" }),
      { type: "content_block_stop", index: 1 },
      { type: "a_future_event" },
      { type: "message_delta", delta: { stop_reason: "end_turn", stop_details: null, container: { id: "c1", expires_at: "t" } }, usage: { output_tokens: 7 } },
      { type: "message_stop" }
    ].map(sse)
    const message = Either.getOrThrow(MessageAccumulator.fromEvents(events))
    expect(message.content).toEqual([
      { type: "unknown", raw: { type: "mcp_tool_use", id: "mcptoolu_1", name: "echo", server_name: "s", input: { text: "hi" } } },
      { type: "unknown", raw: { type: "compaction", content: "", text: "summary" } }
    ])
    expect(message.stop_details).toBeNull()
    expect(message.container).toEqual({ id: "c1", expires_at: "t" })
    expect(message.usage).toEqual({ ...startBody.message.usage, output_tokens: 7 })
  })
})

describe("properties", () => {
  it("a message cut into arbitrary deltas accumulates back to itself", () => {
    const chunks = (text: string, cuts: ReadonlyArray<number>): Array<string> => {
      const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b)
      const out: Array<string> = []
      let from = 0
      for (const point of [...points, text.length]) {
        out.push(text.slice(from, point))
        from = point
      }
      return out
    }
    const cuts = fc.array(fc.nat(), { maxLength: 4 })
    const block = fc.oneof(
      fc.tuple(fc.constant("text" as const), fc.string(), cuts),
      fc.tuple(fc.constant("thinking" as const), fc.string(), cuts, fc.string()),
      fc.tuple(fc.constant("tool_use" as const), fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })), cuts)
    )
    fc.assert(
      fc.property(fc.array(block, { maxLength: 5 }), fc.nat(10_000), (blocks, outputTokens) => {
        const events: Array<unknown> = [startBody]
        const content: Array<unknown> = []
        blocks.forEach((b, index) => {
          if (b[0] === "text") {
            events.push({ type: "content_block_start", index, content_block: { type: "text", text: "" } })
            for (const text of chunks(b[1], b[2])) events.push(deltaEvent(index, { type: "text_delta", text }))
            content.push({ type: "text", text: b[1] })
          } else if (b[0] === "thinking") {
            events.push({ type: "content_block_start", index, content_block: { type: "thinking", thinking: "" } })
            for (const thinking of chunks(b[1], b[2])) {
              events.push(deltaEvent(index, { type: "thinking_delta", thinking }))
            }
            events.push(deltaEvent(index, { type: "signature_delta", signature: b[3] }))
            content.push({ type: "thinking", thinking: b[1], signature: b[3] })
          } else {
            const json = JSON.stringify(b[1])
            events.push({
              type: "content_block_start",
              index,
              content_block: { type: "tool_use", id: `toolu_${index}`, name: "t", input: {} }
            })
            for (const partial_json of chunks(json, b[2])) {
              events.push(deltaEvent(index, { type: "input_json_delta", partial_json }))
            }
            content.push({ type: "tool_use", id: `toolu_${index}`, name: "t", input: JSON.parse(json) })
          }
          events.push({ type: "content_block_stop", index })
        })
        events.push({ type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: outputTokens } })
        events.push({ type: "message_stop" })
        const message = Either.getOrThrow(MessageAccumulator.fromEvents(events.map(sse)))
        expect(message).toEqual({
          ...startBody.message,
          content,
          stop_reason: "end_turn",
          usage: { ...startBody.message.usage, output_tokens: outputTokens }
        })
      }),
      { numRuns: 1000 }
    )
  })
})

describe("fromEvents and sink fold deltas in place", () => {
  // the fold one accumulate at a time, stopping at the first failure: what
  // fromEvents and sink must give, whatever they do inside
  const reference = (events: ReadonlyArray<MessageStreamEvent>) => {
    let state = MessageAccumulator.initial
    for (const event of events) {
      state = MessageAccumulator.accumulate(state, event)
      if (Option.isSome(state.failure)) break
    }
    return MessageAccumulator.finish(state)
  }
  const index = fc.nat(3)
  const text = fc.string({ maxLength: 6 })
  const event = fc.oneof(
    { weight: 6, arbitrary: fc.tuple(index, text).map(([i, t]) => deltaEvent(i, { type: "text_delta", text: t })) },
    { weight: 4, arbitrary: fc.tuple(index, text).map(([i, t]) => deltaEvent(i, { type: "input_json_delta", partial_json: t })) },
    { weight: 1, arbitrary: fc.tuple(index, text).map(([i, t]) => deltaEvent(i, { type: "thinking_delta", thinking: t })) },
    { weight: 1, arbitrary: fc.tuple(index, text).map(([i, t]) => deltaEvent(i, { type: "signature_delta", signature: t })) },
    {
      weight: 2,
      arbitrary: fc.tuple(
        index,
        fc.constantFrom(
          { type: "text", text: "" },
          { type: "thinking", thinking: "", signature: "" },
          { type: "tool_use", id: "toolu_1", name: "t", input: {} },
          { type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: {} },
          { type: "compaction", content: "" }
        )
      ).map(([i, block]) => ({ type: "content_block_start", index: i, content_block: block }))
    },
    { weight: 2, arbitrary: index.map((i) => ({ type: "content_block_stop", index: i })) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        startBody,
        { type: "ping" },
        { type: "message_stop" },
        { type: "a_future_event" },
        { type: "error", error: { type: "overloaded_error", message: "Overloaded" } },
        { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 3 } }
      )
    }
  ).map(sse)
  // most runs start like a real stream, so that the deltas apply
  const events = fc.tuple(fc.boolean(), fc.array(event, { maxLength: 40 })).map(([started, rest]) =>
    started ? [sse(startBody), sse({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }), ...rest] : rest
  )

  it("property: fromEvents gives what accumulate, one event at a time, gives", () => {
    fc.assert(
      fc.property(events, (list) => {
        expect(MessageAccumulator.fromEvents(list)).toEqual(reference(list))
      }),
      { numRuns: 2000 }
    )
  })

  it.effect("property: so does the sink, whatever the chunks", () =>
    Effect.sync(() =>
      fc.assert(
        fc.property(events, fc.integer({ min: 1, max: 8 }), (list, size) => {
          const result = Effect.runSync(Effect.either(
            Stream.run(Stream.rechunk(Stream.fromIterable(list), size), MessageAccumulator.sink)
          ))
          expect(result).toEqual(reference(list))
        }),
        { numRuns: 1000 }
      )
    ))
})
