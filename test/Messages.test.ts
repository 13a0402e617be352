import { describe, expect, expectTypeOf, it } from "@effect/vitest"
import { Arbitrary, Cause, Effect, Either, Exit, FastCheck as fc, Option, Schema } from "effect"
import { MessageBatches, Messages, MessageStream } from "../src/index.js"
import {
  isParseFailure,
  messageBody,
  nearlyValid,
  parseError,
  redactedThinking,
  serverToolUse,
  textWithCitation,
  thinking,
  toolUse,
  usageBody,
  webFetchResult,
  webSearchCitationText,
  webSearchResult
} from "./support/messages.js"

const decodeEither = Schema.decodeUnknownEither(Messages.Message)

const decodeOk = (u: unknown): Messages.Message => {
  const result = decodeEither(u)
  if (Either.isLeft(result)) throw new Error(`expected a decode, got:\n${result.left.message}`)
  return result.right
}

// ---------------------------------------------------------------------------
// Message
// ---------------------------------------------------------------------------

describe("Message", () => {
  it("decodes every documented content block with its fields", () => {
    const message = decodeOk(messageBody([
      thinking,
      redactedThinking,
      textWithCitation,
      serverToolUse,
      webSearchResult,
      webSearchCitationText,
      webFetchResult,
      toolUse
    ], { stop_reason: "tool_use" }))
    expect(message.content.map((block) => block.type)).toEqual([
      "thinking",
      "redacted_thinking",
      "text",
      "server_tool_use",
      "web_search_tool_result",
      "text",
      "web_fetch_tool_result",
      "tool_use"
    ])
    const [th, rt, text, stu, wsr, _, wfr, tu] = message.content
    expect(th).toEqual(thinking)
    expect(rt).toEqual(redactedThinking)
    expect(text).toEqual(textWithCitation)
    expect(stu).toEqual(serverToolUse)
    expect(wsr).toEqual(webSearchResult)
    expect(wfr).toEqual(webFetchResult)
    expect(tu).toEqual(toolUse)
    expect(message.stop_reason).toBe("tool_use")
    expect(message.usage).toEqual(usageBody)
  })

  it("narrows blocks by type", () => {
    const message = decodeOk(messageBody([textWithCitation, toolUse]))
    const texts: Array<string> = []
    for (const block of message.content) {
      if (block.type === "text") {
        expectTypeOf(block).toEqualTypeOf<Messages.TextBlock>()
        texts.push(block.text)
      }
      if (block.type === "unknown") expectTypeOf(block.raw.type).toEqualTypeOf<string>()
    }
    expect(texts).toEqual(["the grass is green"])
    expectTypeOf<Messages.ContentBlock>().toMatchTypeOf<Messages.ContentBlockParam>()
  })

  it("keeps an unknown block intact and encodes it back unchanged", () => {
    const mystery = { type: "container_upload", file_id: "file_011CNha8iCJcU1wXNR6q4V8w", nested: { a: [1, 2] } }
    const message = decodeOk(messageBody([mystery, { type: "text", text: "after" }]))
    expect(message.content[0]).toEqual({ type: "unknown", raw: mystery })
    expect(message.content[1]).toEqual({ type: "text", text: "after" })
    const encoded = Schema.encodeSync(Messages.Message)(message)
    expect(encoded.content[0]).toEqual(mystery)
  })

  it("keeps unknown fields on the message, its blocks and its usage", () => {
    const message = decodeOk(messageBody(
      [{ ...toolUse, caller: { type: "direct" } }],
      { container: { id: "container_1", expires_at: "2025-08-25T11:30:00Z" }, brand_new_field: [1, "x"] }
    ))
    const encoded: Record<string, unknown> = Schema.encodeSync(Messages.Message)(message)
    expect(encoded.brand_new_field).toEqual([1, "x"])
    expect(encoded.container).toEqual({ id: "container_1", expires_at: "2025-08-25T11:30:00Z" })
    expect(encoded.content).toEqual([{ ...toolUse, caller: { type: "direct" } }])
    const withUsageExtra = decodeOk(messageBody([], { usage: { ...usageBody, inference_geo: "us" } }))
    expect((withUsageExtra.usage as Record<string, unknown>).inference_geo).toBe("us")
  })

  it("decodes documented, unknown and null stop reasons, and an absent one as null", () => {
    for (const reason of Messages.knownStopReasons) {
      expect(decodeOk(messageBody([], { stop_reason: reason })).stop_reason).toBe(reason)
      expect(Messages.isKnownStopReason(reason)).toBe(true)
    }
    expect(decodeOk(messageBody([], { stop_reason: "compaction_required" })).stop_reason).toBe("compaction_required")
    expect(Messages.isKnownStopReason("compaction_required")).toBe(false)
    expect(decodeOk(messageBody([], { stop_reason: null })).stop_reason).toBeNull()
    const { stop_reason: _, stop_sequence: __, ...bare } = messageBody([])
    const decoded = decodeOk(bare)
    expect(decoded.stop_reason).toBeNull()
    expect(decoded.stop_sequence).toBeNull()
  })

  it("decodes a refusal's stop_details, and a stop_details of a newer shape", () => {
    const refusal = decodeOk(messageBody([{ type: "text", text: "Hello.." }], {
      stop_reason: "refusal",
      stop_details: {
        type: "refusal",
        category: "cyber",
        explanation: "This request was declined because it could enable cyber harm."
      }
    }))
    expect(refusal.stop_details).toEqual({
      type: "refusal",
      category: "cyber",
      explanation: "This request was declined because it could enable cyber harm."
    })
    expect(decodeOk(messageBody([], { stop_details: null })).stop_details).toBeNull()
    expect(decodeOk(messageBody([], { stop_details: { type: "other", level: 3 } })).stop_details).toEqual({
      type: "other",
      level: 3
    })
  })

  it("rejects a known block with the wrong shape, and a body that is not a message", () => {
    expect(parseError(decodeEither(messageBody([{ type: "text" }])))).toContain("is missing")
    expect(parseError(decodeEither(messageBody([{ type: "tool_use", id: "toolu_1" }])))).toContain("name")
    expect(parseError(decodeEither({ type: "error", error: { type: "api_error", message: "x" } }))).toContain(
      "Message"
    )
    expect(Either.isLeft(decodeEither("not json at all"))).toBe(true)
    expect(Either.isLeft(decodeEither(messageBody([], { usage: { input_tokens: "3" } })))).toBe(true)
  })

  it("sends a response's content back as the next request's assistant turn", () => {
    const message = decodeOk(messageBody([thinking, textWithCitation, { type: "mystery", x: 1 }, toolUse]))
    const params: Messages.MessageCreateParams = {
      model: "claude-sonnet-5-5",
      max_tokens: 1024,
      messages: [
        { role: "user", content: "What's the weather in San Francisco?" },
        Messages.toMessageParam(message),
        {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "toolu_01A09q90qw90lq917835lq9", content: "15 degrees" }]
        }
      ]
    }
    const wire = JSON.parse(JSON.stringify(Schema.encodeSync(Messages.MessageCreateParams)(params)))
    expect(wire.messages[1]).toEqual({
      role: "assistant",
      content: [thinking, textWithCitation, { type: "mystery", x: 1 }, toolUse]
    })
    expect(Schema.decodeUnknownSync(Messages.MessageCreateParams)(wire)).toEqual(params)
  })
})

// ---------------------------------------------------------------------------
// request params
// ---------------------------------------------------------------------------

describe("MessageCreateParams", () => {
  const full = {
    model: "claude-sonnet-5-5",
    max_tokens: 2048,
    system: [{ type: "text", text: "You are terse.", cache_control: { type: "ephemeral", ttl: "1h" } }],
    messages: [
      {
        role: "user",
        content: [
          { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
          { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
          {
            type: "document",
            source: { type: "base64", media_type: "application/pdf", data: "JVBERi0xLjQK" },
            title: "Report",
            citations: { enabled: true }
          },
          { type: "document", source: { type: "text", media_type: "text/plain", data: "The grass is green." } },
          { type: "document", source: { type: "file", file_id: "file_011CNha8iCJcU1wXNR6q4V8w" } },
          {
            type: "search_result",
            source: "https://example.com/kb",
            title: "KB",
            content: [{ type: "text", text: "A fact." }]
          },
          { type: "text", text: "Summarise these." }
        ]
      },
      { role: "assistant", content: [thinking, toolUse] },
      {
        role: "user",
        content: [{
          type: "tool_result",
          tool_use_id: "toolu_01A09q90qw90lq917835lq9",
          content: [{ type: "text", text: "15 degrees" }],
          is_error: false
        }]
      }
    ],
    temperature: 0.2,
    top_p: 0.9,
    top_k: 40,
    stop_sequences: ["\n\nHuman:"],
    stream: false,
    metadata: { user_id: "user-1234" },
    tools: [
      {
        name: "get_weather",
        description: "Get the current weather in a given location",
        input_schema: {
          type: "object",
          properties: { location: { type: "string" } },
          required: ["location"],
          additionalProperties: false
        }
      },
      { type: "web_search_20250305", name: "web_search", max_uses: 5, allowed_domains: ["example.com"] }
    ],
    tool_choice: { type: "auto", disable_parallel_tool_use: true },
    thinking: { type: "enabled", budget_tokens: 1024 },
    service_tier: "auto",
    context_management: { edits: [{ type: "clear_tool_uses_20250919" }] },
    output_config: { effort: "high" }
  }

  it("decodes a full request, gathering params it does not name into extraParams, and encodes it back unchanged", () => {
    const params = Schema.decodeUnknownSync(Messages.MessageCreateParams)(full)
    expect(params.tools?.[1]).toEqual(full.tools[1])
    expect(params.extraParams).toEqual({ context_management: full.context_management })
    expect(params.output_config).toEqual({ effort: "high" })
    expect(Schema.encodeSync(Messages.MessageCreateParams)(params)).toEqual(full)
  })

  it("accepts the thinking and tool_choice variants", () => {
    for (const thinkingConfig of [{ type: "adaptive", display: "summarized" }, { type: "disabled" }]) {
      expect(Schema.decodeUnknownSync(Messages.MessageCreateParams)({ ...full, thinking: thinkingConfig }).thinking)
        .toEqual(thinkingConfig)
    }
    for (const choice of [{ type: "any" }, { type: "tool", name: "get_weather" }, { type: "none" }]) {
      expect(Schema.decodeUnknownSync(Messages.MessageCreateParams)({ ...full, tool_choice: choice }).tool_choice)
        .toEqual(choice)
    }
  })

  it("lets a caller add a param this version does not name, through extraParams (type level too)", () => {
    const base = { model: "claude-sonnet-5-5", max_tokens: 16, messages: [{ role: "user" as const, content: "hi" }] }
    const params: Messages.MessageCreateParams = { ...base, extraParams: { a_param_from_next_year: { enabled: true } } }
    expect(Schema.encodeSync(Messages.MessageCreateParams)(params)).toEqual({
      ...base,
      a_param_from_next_year: { enabled: true }
    })
    // withExtraParams merges, data-first and data-last
    const twice = Messages.withExtraParams(Messages.withExtraParams(base, { a: 1 }), { b: 2 })
    expect(twice.extraParams).toEqual({ a: 1, b: 2 })
    expect(Messages.withExtraParams({ c: 3 })(twice).extraParams).toEqual({ a: 1, b: 2, c: 3 })
    expect(Schema.encodeSync(Messages.MessageCreateParams)(twice)).toEqual({ ...base, a: 1, b: 2 })
  })

  it("rejects params without model or messages, and a tool without input_schema", () => {
    const decode = Schema.decodeUnknownEither(Messages.MessageCreateParams)
    const { model: _, ...noModel } = full
    expect(parseError(decode(noModel))).toContain("model")
    expect(parseError(decode({ ...full, messages: [{ role: "system", content: "x" }] }))).toContain("role")
    expect(parseError(decode({ ...full, tools: [{ type: "custom", name: "t" }] }))).toContain("input_schema")
  })

  it("CountTokensParams takes the prompt params and passes the others through", () => {
    const body = {
      model: "claude-sonnet-5-5",
      system: "You are terse.",
      messages: [{ role: "user", content: "Hello, world" }],
      tools: full.tools,
      thinking: { type: "enabled", budget_tokens: 1024 }
    }
    const params = Schema.decodeUnknownSync(Messages.CountTokensParams)(body)
    expect(Schema.encodeSync(Messages.CountTokensParams)(params)).toEqual(body)
    expect(Schema.decodeUnknownSync(Messages.CountTokensResponse)({ input_tokens: 2095 })).toEqual({
      input_tokens: 2095
    })
  })
})


// ---------------------------------------------------------------------------
// totality and properties
// ---------------------------------------------------------------------------

const encodedMessages = Arbitrary.make(Messages.Message).map((m) => Schema.encodeSync(Messages.Message)(m))

describe("totality", () => {
  // `Schema.Union` reads the discriminant with `String(input.type)`, which throws
  // for this JSON object; every union of this module must still fail cleanly
  const poison = { toString: 0 }
  const poisoned: ReadonlyArray<readonly [string, () => Effect.Effect<unknown, { readonly _tag: string }>]> = [
    ["event", () => MessageStream.decodeMessageStreamEventJson(JSON.stringify({ type: poison }))],
    ["delta", () => MessageStream.decodeMessageStreamEvent({ type: "content_block_delta", index: 0, delta: { type: poison } })],
    ["block", () => Messages.decodeMessage(messageBody([{ type: poison }]))],
    ["web search content", () => Messages.decodeMessage(messageBody([{ ...webSearchResult, content: { type: poison } }]))],
    ["batch result", () => MessageBatches.decodeMessageBatchIndividualResponseJson(JSON.stringify({ custom_id: "a", result: { type: poison } }))],
    ["param block", () => Messages.decodeMessageCreateParams({ model: "m", max_tokens: 1, messages: [{ role: "user", content: [{ type: poison }] }] })],
    ["image source", () => Messages.decodeMessageCreateParams({ model: "m", max_tokens: 1, messages: [{ role: "user", content: [{ type: "image", source: { type: poison } }] }] })],
    ["tool_choice", () => Messages.decodeCountTokensParams({ model: "m", messages: [{ role: "user", content: "hi" }], tool_choice: { type: poison } })]
  ]
  for (const [where, decode] of poisoned) {
    it(`a {"type":{"toString":0}} ${where} is a ParseError, not a throw`, () => {
      const exit = Effect.runSyncExit(Effect.suspend(decode))
      expect(isParseFailure(exit)).toBe(true)
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit)) {
        expect(Option.getOrThrow(Cause.failureOption(exit.cause))).toMatchObject({ _tag: "ParseError" })
        expect(String(Cause.squash(exit.cause))).toContain(`"type" must be a string`)
      }
    })
  }
})
describe("properties", () => {
  it("decoding a Message from any value is total: a value or a ParseError", () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.json(), nearlyValid(encodedMessages)), (u) => {
        expect(isParseFailure(Effect.runSyncExit(Messages.decodeMessage(u)))).toBe(true)
      }),
      { numRuns: 2000 }
    )
  })

  it("encode then decode of a Message is the identity, also through JSON text", () => {
    fc.assert(
      fc.property(Arbitrary.make(Messages.Message), (message) => {
        const encoded = Schema.encodeSync(Messages.Message)(message)
        expect(Schema.decodeUnknownSync(Messages.Message)(encoded)).toEqual(message)
        const wire = JSON.parse(JSON.stringify(encoded))
        const again = Schema.encodeSync(Messages.Message)(Schema.decodeUnknownSync(Messages.Message)(wire))
        expect(JSON.parse(JSON.stringify(again))).toEqual(wire)
      }),
      { numRuns: 2000 }
    )
  })

  it("any Message's content is valid as an assistant turn of a request", () => {
    fc.assert(
      fc.property(Arbitrary.make(Messages.Message), (message) => {
        const wire = JSON.parse(JSON.stringify(Schema.encodeSync(Messages.Message)(message)))
        const turn = Schema.decodeUnknownSync(Messages.MessageParam)({ role: "assistant", content: wire.content })
        expect(turn).toEqual(Messages.toMessageParam(Schema.decodeUnknownSync(Messages.Message)(wire)))
      }),
      { numRuns: 1000 }
    )
  })
})
