import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, FastCheck as fc, Schema } from "effect"
import { Continuation, Messages } from "../src/index.js"
import { body, decode, serverToolUse, text, thinking, whitespaceText } from "./support/semantic.js"

// ---------------------------------------------------------------------------
// merging the parts of a turn
// ---------------------------------------------------------------------------

describe("assistantTurn", () => {
  it("trims the trailing whitespace of the last text block only", () => {
    const content = decode(body("max_tokens", [text("Hello  "), serverToolUse, text("The quick brown \n")])).content
    expect(Continuation.assistantTurn(content)).toEqual([
      { type: "text", text: "Hello  " },
      serverToolUse,
      { type: "text", text: "The quick brown" }
    ])
  })

  it("drops trailing text blocks that are only whitespace", () => {
    const content = decode(body("pause_turn", [text("Searching."), serverToolUse, text(" "), text("\n")])).content
    expect(Continuation.assistantTurn(content)).toEqual([{ type: "text", text: "Searching." }, serverToolUse])
    expect(Continuation.assistantTurn(decode(body("max_tokens", [text("  ")])).content)).toEqual([])
  })

  it("keeps content that does not end with whitespace text unchanged", () => {
    const content = decode(body("pause_turn", [text("a "), serverToolUse])).content
    expect(Continuation.assistantTurn(content)).toEqual(content)
  })
})

describe("appendContent", () => {
  const blocks = (...b: ReadonlyArray<unknown>) => decode(body("end_turn", b)).content

  it("joins a trailing text block with a leading one", () => {
    expect(Continuation.appendContent(blocks(thinking, text("The quick brown")), blocks(text(" fox"), serverToolUse))).toEqual([
      thinking,
      { type: "text", text: "The quick brown fox" },
      serverToolUse
    ])
  })

  it("concatenates the citations of joined blocks and keeps the first's other fields", () => {
    const c1 = { type: "char_location", cited_text: "a", document_index: 0, start_char_index: 0, end_char_index: 1 }
    const c2 = { type: "char_location", cited_text: "b", document_index: 0, start_char_index: 1, end_char_index: 2 }
    expect(Continuation.appendContent(
      blocks({ type: "text", text: "A", citations: [c1], extra: 1 }),
      blocks({ type: "text", text: "B", citations: [c2] })
    )).toEqual([{ type: "text", text: "AB", citations: [c1, c2], extra: 1 }])
    expect(Continuation.appendContent(blocks({ type: "text", text: "A", citations: null }), blocks(text("B")))).toEqual([
      { type: "text", text: "AB", citations: null }
    ])
  })

  it("otherwise keeps every block in order", () => {
    expect(Continuation.appendContent(blocks(text("a"), serverToolUse), blocks(text("b")))).toEqual([text("a"), serverToolUse, text("b")])
    expect(Continuation.appendContent([], blocks(text("b")))).toEqual([text("b")])
    expect(Continuation.appendContent(blocks(text("a")), [])).toEqual([text("a")])
  })
})

describe("sumUsage", () => {
  const u = (x: unknown) => Schema.decodeUnknownSync(Messages.Usage)(x)

  it("sums every count and takes the other fields from the second", () => {
    expect(Continuation.sumUsage(
      u({
        input_tokens: 100,
        output_tokens: 20,
        cache_creation_input_tokens: 5,
        cache_read_input_tokens: null,
        cache_creation: { ephemeral_5m_input_tokens: 5, ephemeral_1h_input_tokens: 0 },
        server_tool_use: { web_search_requests: 2 },
        service_tier: "standard",
        speculative: "first"
      }),
      u({
        input_tokens: 150,
        output_tokens: 30,
        cache_read_input_tokens: 90,
        cache_creation: { ephemeral_5m_input_tokens: 1 },
        server_tool_use: { web_search_requests: 1, web_fetch_requests: 3 },
        service_tier: "priority"
      })
    )).toEqual({
      input_tokens: 250,
      output_tokens: 50,
      cache_creation_input_tokens: 5,
      cache_read_input_tokens: 90,
      cache_creation: { ephemeral_5m_input_tokens: 6, ephemeral_1h_input_tokens: 0 },
      server_tool_use: { web_search_requests: 3, web_fetch_requests: 3 },
      service_tier: "priority",
      speculative: "first"
    })
  })

  it("keeps absent counts absent and null ones null", () => {
    expect(Continuation.sumUsage(u({ input_tokens: 1, output_tokens: 2 }), u({ input_tokens: 3, output_tokens: 4 }))).toEqual({
      input_tokens: 4,
      output_tokens: 6
    })
    expect(Continuation.sumUsage(
      u({ input_tokens: 1, output_tokens: 2, cache_read_input_tokens: null, server_tool_use: null }),
      u({ input_tokens: 3, output_tokens: 4 })
    )).toEqual({ input_tokens: 4, output_tokens: 6, cache_read_input_tokens: null, server_tool_use: null })
  })
})

describe("mergeContinuation", () => {
  it("the last response's fields, the sent content then the new, usage summed", () => {
    const first = decode(body("max_tokens", [text("The quick brown ")], { usage: { input_tokens: 10, output_tokens: 4 } }))
    const next = decode({
      ...body("end_turn", [text(" fox.")], { usage: { input_tokens: 14, output_tokens: 2 } }),
      id: "msg_second",
      stop_details: null
    })
    const sent = Continuation.assistantTurn(first.content)
    expect(Continuation.mergeContinuation(first, sent, next)).toEqual({
      ...next,
      content: [{ type: "text", text: "The quick brown fox." }],
      usage: { input_tokens: 24, output_tokens: 6 }
    })
  })
})

describe("properties", () => {
  it("appendContent keeps every block and every character of text", () => {
    const blocks = fc.array(fc.oneof(Arbitrary.make(Messages.ContentBlock), whitespaceText), { maxLength: 4 })
    const textOf = (content: ReadonlyArray<Messages.ContentBlock>) =>
      content.map((b) => (b.type === "text" ? b.text : "")).join("")
    fc.assert(
      fc.property(blocks, blocks, (a, b) => {
        const merged = Continuation.appendContent(a, b)
        expect(textOf(merged)).toBe(textOf(a) + textOf(b))
        const joined = a.at(-1)?.type === "text" && b[0]?.type === "text"
        expect(merged.length).toBe(a.length + b.length - (joined ? 1 : 0))
      }),
      { numRuns: 300 }
    )
  })
})
