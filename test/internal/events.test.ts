/**
 * The stream's event decoder takes a fast path for the common small events
 * (text, input JSON, thinking and signature deltas; ping, block stop,
 * message stop): it must agree with the full `MessageStreamEvent` Schema on
 * every input, the value it gives and the message of a failure alike.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as FastCheck from "effect/FastCheck"
import * as Decode from "../../src/internal/decode.js"
import * as Events from "../../src/internal/events.js"
import * as MessageStream from "../../src/MessageStream.js"
import { deltaEvent, mutate, startBody } from "../support/messages.js"

const schema = Decode.json(MessageStream.MessageStreamEvent)

const common = FastCheck.oneof(
  FastCheck.tuple(FastCheck.nat(5), FastCheck.string()).map(([i, text]) => deltaEvent(i, { type: "text_delta", text })),
  FastCheck.tuple(FastCheck.nat(5), FastCheck.string()).map(([i, partial_json]) =>
    deltaEvent(i, { type: "input_json_delta", partial_json })
  ),
  FastCheck.tuple(FastCheck.nat(5), FastCheck.string()).map(([i, thinking]) =>
    deltaEvent(i, { type: "thinking_delta", thinking })
  ),
  FastCheck.tuple(FastCheck.nat(5), FastCheck.string()).map(([i, signature]) =>
    deltaEvent(i, { type: "signature_delta", signature })
  ),
  FastCheck.nat(5).map((i) => ({ type: "content_block_stop", index: i })),
  FastCheck.constant({ type: "ping" }),
  FastCheck.constant({ type: "message_stop" }),
  FastCheck.constant(startBody),
  FastCheck.constant(deltaEvent(0, { type: "citations_delta", citation: { type: "char_location" } }))
)

/** A common event with one spot replaced by anything (an extra field, a wrong type, a number index of -1, 1.5, …). */
const nearly = FastCheck.tuple(
  common,
  FastCheck.array(FastCheck.nat(), { maxLength: 3 }),
  FastCheck.oneof(
    FastCheck.anything(),
    FastCheck.constantFrom(-1, 1.5, 2 ** 53, "0", null, "text_delta", "input_json_delta", "content_block_delta")
  ),
  FastCheck.option(FastCheck.tuple(FastCheck.string(), FastCheck.jsonValue()), { nil: undefined })
).map(([event, path, replacement, extra]) => {
  const mutated = mutate(event, path, replacement)
  return extra !== undefined && typeof mutated === "object" && mutated !== null && !Array.isArray(mutated)
    ? { ...mutated, [extra[0]]: extra[1] }
    : mutated
})

const agree = (text: string) => {
  const fast = Events.decode(text)
  const full = schema(text)
  expect(fast).toEqual(full)
}

describe("internal/events: the fast path agrees with the Schema", () => {
  it("property: common events, as they are", () => {
    FastCheck.assert(
      FastCheck.property(common, (event) => {
        const text = JSON.stringify(event)
        agree(text)
        expect(Either.isRight(Events.decode(text))).toBe(true)
      }),
      { numRuns: 1000 }
    )
  })

  it("property: common events with one spot changed to anything, and extra fields", () => {
    FastCheck.assert(
      FastCheck.property(nearly, (value) => {
        const text = JSON.stringify(value)
        if (text !== undefined) agree(text)
      }),
      { numRuns: 3000 }
    )
  })

  it("property: any JSON and any text", () => {
    FastCheck.assert(
      FastCheck.property(FastCheck.oneof(FastCheck.json(), FastCheck.string()), agree),
      { numRuns: 1000 }
    )
  })

  it("checks what the Schema checks: the index, the delta's type and field", () => {
    for (
      const value of [
        deltaEvent(-1, { type: "text_delta", text: "a" }),
        deltaEvent(0.5, { type: "text_delta", text: "a" }),
        deltaEvent(0, { type: "text_delta", text: 1 }),
        deltaEvent(0, { type: "text_delta" }),
        deltaEvent(0, { type: "input_json_delta", text: "a" }),
        deltaEvent(0, { type: 7, text: "a" }),
        deltaEvent(0, ["text_delta"]),
        { type: "content_block_delta", delta: { type: "text_delta", text: "a" } },
        { type: "content_block_stop", index: "0" }
      ]
    ) {
      const text = JSON.stringify(value)
      expect(Either.isLeft(Events.decode(text)), text).toBe(true)
      agree(text)
    }
  })
})

describe("internal/events: the decoder of one response", () => {
  const encoder = new TextEncoder()
  const frame = (events: ReadonlyArray<unknown>) =>
    events.map((event) => `event: ${(event as { type: string }).type}\ndata: ${JSON.stringify(event)}\n\n`).join("")
  const stream = [
    startBody,
    { type: "ping" },
    { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
    deltaEvent(0, { type: "text_delta", text: "Hé" }),
    deltaEvent(0, { type: "text_delta", text: "llo" }),
    { type: "content_block_stop", index: 0 },
    { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 2 } },
    { type: "message_stop" },
    { type: "ping" }
  ]

  it("property: any split of the bytes (inside a character too) gives the same events; message_stop ends it", () => {
    const bytes = encoder.encode(frame(stream))
    FastCheck.assert(
      FastCheck.property(FastCheck.array(FastCheck.nat(bytes.length), { maxLength: 8 }), FastCheck.boolean(), (cuts, hold) => {
        const points = [...new Set([0, ...cuts, bytes.length])].sort((a, b) => a - b)
        const decoder = new Events.Decoder(hold, 1024)
        const out: Array<unknown> = []
        for (let i = 1; i < points.length; i++) {
          out.push(...decoder.push(Chunk.of(bytes.subarray(points[i - 1]!, points[i]!))))
        }
        out.push(...decoder.end())
        expect(out.map((e) => (e as { type: string }).type)).toEqual(stream.slice(0, 8).map((e) => e.type))
        expect(decoder.stopped).toBe(true)
        expect(decoder.failure).toBeUndefined()
        expect(decoder.count).toBe(8)
      }),
      { numRuns: 300 }
    )
  })

  it("an event that is not JSON fails with the Schema decoder's message; a field named like ours is data", () => {
    const decoder = new Events.Decoder(false, 1024)
    expect(decoder.push(Chunk.of(encoder.encode(frame([{ type: "ping", problem: "x", detail: "y" }]))))).toEqual([
      { type: "ping", problem: "x", detail: "y" }
    ])
    expect(decoder.push(Chunk.of(encoder.encode("data: {not json\n\n")))).toEqual([])
    expect(decoder.failure).toEqual({
      _tag: "Malformed",
      detail: `event 2: ${Either.getLeft(schema("{not json")).pipe(Option.getOrThrow)}`
    })
  })

  it("holds message_start and ping until the first other event; a failure keeps what came before it", () => {
    const decoder = new Events.Decoder(true, 1024)
    expect(decoder.push(Chunk.of(encoder.encode(frame(stream.slice(0, 2)))))).toEqual([])
    const rest = decoder.push(Chunk.of(encoder.encode(frame([stream[2], { type: "content_block_delta", index: -1 }, stream[3]]))))
    expect(rest.map((e) => e.type)).toEqual(["message_start", "ping", "content_block_start"])
    expect(decoder.failure).toEqual({
      _tag: "Malformed",
      detail: `event 4: ${Either.getLeft(schema(JSON.stringify({ type: "content_block_delta", index: -1 }))).pipe(Option.getOrThrow)}`
    })
    expect(decoder.count).toBe(3)
    expect(decoder.push(Chunk.of(encoder.encode(frame([stream[3]]))))).toEqual([])
  })
})
