import { describe, expect, expectTypeOf, it } from "@effect/vitest"
import { Arbitrary, Cause, Effect, Either, Exit, FastCheck as fc, Option, pipe, Schema, Stream } from "effect"
import { Messages } from "../src/index.js"

// ---------------------------------------------------------------------------
// realistic wire bodies (shapes from the Messages API documentation)
// ---------------------------------------------------------------------------

const usageBody = {
  input_tokens: 2095,
  output_tokens: 503,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 1024,
  cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
  server_tool_use: { web_search_requests: 1 },
  service_tier: "standard"
}

const textWithCitation = {
  type: "text",
  text: "the grass is green",
  citations: [{
    type: "char_location",
    cited_text: "The grass is green.",
    document_index: 0,
    document_title: "Example Document",
    start_char_index: 0,
    end_char_index: 20
  }]
}

const toolUse = {
  type: "tool_use",
  id: "toolu_01A09q90qw90lq917835lq9",
  name: "get_weather",
  input: { location: "San Francisco, CA", unit: "celsius" }
}

const thinking = {
  type: "thinking",
  thinking: "Let me analyze this step by step...",
  signature: "WaUjzkypQ2mUEVM36O2TxuC06KN8xyfbJwyem2dw3URve/op91XWHOEBLLqIOMfFG/UvLEczmEsUjavL"
}

const redactedThinking = {
  type: "redacted_thinking",
  data: "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP"
}

const serverToolUse = {
  type: "server_tool_use",
  id: "srvtoolu_01WYG3ziw53XMcoyKL4XcZmE",
  name: "web_search",
  input: { query: "claude shannon birth date" }
}

const webSearchResult = {
  type: "web_search_tool_result",
  tool_use_id: "srvtoolu_01WYG3ziw53XMcoyKL4XcZmE",
  content: [{
    type: "web_search_result",
    url: "https://en.wikipedia.org/wiki/Claude_Shannon",
    title: "Claude Shannon - Wikipedia",
    encrypted_content: "EqgfCioIARgBIiQ3YTAwMjY1Mi1mZjM5LTQ1NGUtODgxNC1kNjNjNTk1ZWI3Y",
    page_age: "April 30, 2025"
  }]
}

const webSearchCitationText = {
  type: "text",
  text: "Claude Shannon was born on April 30, 1916, in Petoskey, Michigan",
  citations: [{
    type: "web_search_result_location",
    url: "https://en.wikipedia.org/wiki/Claude_Shannon",
    title: "Claude Shannon - Wikipedia",
    encrypted_index: "Eo8BCioIAhgBIiQyYjQ0OWJmZi1lNm",
    cited_text: "Claude Elwood Shannon (April 30, 1916 – February 24, 2001) was an American mathematician"
  }]
}

const webFetchResult = {
  type: "web_fetch_tool_result",
  tool_use_id: "srvtoolu_01234567890abcdef",
  content: {
    type: "web_fetch_result",
    url: "https://example.com/article",
    content: { type: "document", source: { type: "text", media_type: "text/plain", data: "Full text" } },
    retrieved_at: "2025-08-25T10:30:00Z"
  }
}

const messageBody = (content: ReadonlyArray<unknown>, extra: Record<string, unknown> = {}) => ({
  id: "msg_01XFDUDYJgAACzvnptvVoYEL",
  type: "message",
  role: "assistant",
  model: "claude-haiku-4-5-20251001",
  content,
  stop_reason: "end_turn",
  stop_sequence: null,
  usage: usageBody,
  ...extra
})

const decodeEither = Schema.decodeUnknownEither(Messages.Message)

const decodeOk = (u: unknown): Messages.Message => {
  const result = decodeEither(u)
  if (Either.isLeft(result)) throw new Error(`expected a decode, got:\n${result.left.message}`)
  return result.right
}

const parseError = (result: Either.Either<unknown, { readonly message: string }>): string => {
  if (Either.isRight(result)) throw new Error("expected a ParseError")
  return result.left.message
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
// batches
// ---------------------------------------------------------------------------

describe("BatchCreateParams", () => {
  const request = (custom_id: string) => ({
    custom_id,
    params: { model: "claude-sonnet-5-5", max_tokens: 1024, messages: [{ role: "user", content: "Hello, world" }] }
  })
  const decode = Schema.decodeUnknownEither(Messages.BatchCreateParams)

  it("accepts valid custom_ids, up to 64 characters", () => {
    const ids = ["my-first-request", "my_second_request", "A", "0", "x".repeat(64)]
    const result = decode({ requests: ids.map(request) })
    expect(Either.getOrThrow(result).requests.map((r) => r.custom_id)).toEqual(ids)
  })

  it("rejects an empty, too long or ill-formed custom_id with a clear message", () => {
    for (const bad of ["", "x".repeat(65), "has space", "dot.ted", "ünï", "a/b"]) {
      const message = parseError(decode({ requests: [request("ok"), request(bad)] }))
      expect(message).toContain("custom_id must be 1 to 64 characters")
      expect(message).toContain("[1]")
    }
  })

  it("rejects a repeated custom_id, naming both requests", () => {
    expect(parseError(decode({ requests: [request("a"), request("b"), request("a")] }))).toContain(
      `custom_id "a" is used by requests 0 and 2`
    )
  })

  it("rejects more than 100 000 requests before decoding any of them", () => {
    // one shared (and invalid) element: were the elements decoded first, the
    // error would be about params, not the count
    const over = new Array(Messages.maxBatchRequests + 1).fill({ custom_id: "x", params: {} })
    const message = parseError(decode({ requests: over }))
    expect(message).toContain("at most 100000 requests; got 100001")
    expect(message).not.toContain("params")
    const encodeOver = Schema.encodeEither(Messages.BatchCreateParams)({
      requests: new Array(Messages.maxBatchRequests + 1).fill(Schema.decodeUnknownSync(Messages.BatchRequest)(request("x")))
    })
    expect(parseError(encodeOver)).toContain("at most 100000 requests")
  })

  it("lets exactly 100 000 requests past the count (then checks each)", () => {
    const atCap = new Array(Messages.maxBatchRequests).fill(request("same"))
    const message = parseError(decode({ requests: atCap }))
    expect(message).not.toContain("at most")
    expect(message).toContain(`custom_id "same" is used by requests 0 and 1`)
  })
})

describe("Message Batches responses", () => {
  const batch = {
    id: "msgbatch_013Zva2CMHLNnXjNJJKqJ2EF",
    type: "message_batch",
    processing_status: "in_progress",
    request_counts: { processing: 100, succeeded: 50, errored: 30, canceled: 10, expired: 10 },
    ended_at: null,
    created_at: "2024-08-20T18:37:24.100435Z",
    expires_at: "2024-08-21T18:37:24.100435Z",
    archived_at: null,
    cancel_initiated_at: null,
    results_url: null
  }

  it("decodes a batch, a newer processing_status, absent times as null, and a list page", () => {
    expect(Schema.decodeUnknownSync(Messages.MessageBatch)(batch)).toEqual(batch)
    const { archived_at: _, cancel_initiated_at: __, ...sparse } = batch
    const decoded = Schema.decodeUnknownSync(Messages.MessageBatch)({ ...sparse, processing_status: "archiving" })
    expect(decoded.processing_status).toBe("archiving")
    expect(decoded.archived_at).toBeNull()
    expect(decoded.cancel_initiated_at).toBeNull()
    const ended = { ...batch, processing_status: "ended", ended_at: "2024-08-20T19:00:00Z", results_url: "https://api.anthropic.com/v1/messages/batches/msgbatch_013Zva2CMHLNnXjNJJKqJ2EF/results" }
    const list = { data: [batch, ended], has_more: true, first_id: batch.id, last_id: batch.id }
    expect(Schema.decodeUnknownSync(Messages.MessageBatchList)(list)).toEqual(list)
    expect(Schema.decodeUnknownSync(Messages.DeletedMessageBatch)({ id: batch.id, type: "message_batch_deleted" }))
      .toEqual({ id: batch.id, type: "message_batch_deleted" })
  })

  it("decodes each kind of results line, and an unknown kind intact", () => {
    const lines = [
      { custom_id: "my-second-request", result: { type: "succeeded", message: messageBody([{ type: "text", text: "Hi" }]) } },
      {
        custom_id: "my-first-request",
        result: {
          type: "errored",
          error: {
            type: "error",
            error: { type: "invalid_request_error", message: "max_tokens: Field required" },
            request_id: "req_011CQxW5hV7mJ9Vq4xYf7N8M"
          }
        }
      },
      { custom_id: "r3", result: { type: "canceled" } },
      { custom_id: "r4", result: { type: "expired" } },
      { custom_id: "r5", result: { type: "deferred", until: "tomorrow" } }
    ]
    const decoded = lines.map((line) =>
      Effect.runSync(Messages.decodeMessageBatchIndividualResponseJson(JSON.stringify(line)))
    )
    expect(decoded.map((line) => line.result.type)).toEqual(["succeeded", "errored", "canceled", "expired", "unknown"])
    const [succeeded, errored, , , unknown] = decoded
    if (succeeded?.result.type !== "succeeded") throw new Error("not succeeded")
    expect(succeeded.result.message.content).toEqual([{ type: "text", text: "Hi" }])
    if (errored?.result.type !== "errored") throw new Error("not errored")
    expect(errored.result.error.error).toEqual({ type: "invalid_request_error", message: "max_tokens: Field required" })
    expect(unknown?.result).toEqual({ type: "unknown", raw: { type: "deferred", until: "tomorrow" } })
    const broken = Effect.runSyncExit(Messages.decodeMessageBatchIndividualResponseJson(`{"custom_id":"r6","result":`))
    expect(Exit.isFailure(broken) && Option.isSome(Cause.failureOption(broken.cause))).toBe(true)
  })
})

// ---------------------------------------------------------------------------
// stream events
// ---------------------------------------------------------------------------

const sse = (data: unknown): Messages.MessageStreamEvent =>
  Effect.runSync(Messages.decodeMessageStreamEventJson(JSON.stringify(data)))

const startBody = {
  type: "message_start",
  message: {
    id: "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY",
    type: "message",
    role: "assistant",
    content: [],
    model: "claude-opus-4-5-20251101",
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 472, output_tokens: 2, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 }
  }
}

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
      {
        type: "citations_delta",
        citation: {
          type: "char_location",
          cited_text: "The grass is green.",
          document_index: 0,
          document_title: "Example Document",
          start_char_index: 0,
          end_char_index: 20
        }
      }
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
    expect(Messages.eventType(sse({ type: "message_annotation" }))).toBe("message_annotation")
  })

  it("a malformed data field is a ParseError, never a defect", () => {
    for (const data of ["", "{", "null", `{"type":"content_block_delta","index":-1,"delta":{"type":"text_delta","text":""}}`, `{"type":"message_start"}`]) {
      const exit = Effect.runSyncExit(Messages.decodeMessageStreamEventJson(data))
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit)) {
        expect(Cause.isDie(exit.cause)).toBe(false)
        expect(Option.getOrThrow(Cause.failureOption(exit.cause))._tag).toBe("ParseError")
      }
    }
  })
})

// ---------------------------------------------------------------------------
// the accumulator
// ---------------------------------------------------------------------------

const deltaEvent = (index: number, delta: unknown) => ({ type: "content_block_delta", index, delta })

const citation = {
  type: "char_location",
  cited_text: "The grass is green.",
  document_index: 0,
  document_title: "Example Document",
  start_char_index: 0,
  end_char_index: 20
}

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
    expect(Either.getOrThrow(Messages.fromEvents(realisticEvents))).toEqual(expectedMessage)
  })

  it("is a pure fold: initial, accumulate (data-first and data-last), finish", () => {
    const [first, ...rest] = realisticEvents
    let state = Messages.accumulate(Messages.initial, first!)
    const before = state
    state = rest.reduce((s, event) => pipe(s, Messages.accumulate(event)), state)
    expect(state.events).toBe(realisticEvents.length)
    expect(Messages.finish(state)).toEqual(Either.right(expectedMessage))
    // the earlier state is untouched
    expect(before.events).toBe(1)
    expect(before.blocks).toEqual([])
    expect(Messages.initial.events).toBe(0)
  })

  it("gives the message so far as a snapshot", () => {
    const state = realisticEvents.slice(0, 10).reduce(Messages.accumulate, Messages.initial)
    const partial = Option.getOrThrow(Messages.snapshot(state))
    expect(partial.content).toEqual([
      expectedMessage.content[0],
      { type: "text", text: "According to the document, ", citations: [citation] }
    ])
    expect(partial.stop_reason).toBeNull()
    expect(Messages.snapshot(Messages.initial)).toEqual(Option.none())
  })

  it.effect("runs as a Sink over a Stream", () =>
    Effect.gen(function*() {
      const message = yield* Stream.run(Stream.fromIterable(realisticEvents), Messages.sink)
      expect(message).toEqual(expectedMessage)
      const error = yield* Stream.run(Stream.fromIterable(realisticEvents.slice(0, -1)), Messages.sink).pipe(Effect.flip)
      expect(error._tag).toBe("IncompleteStreamError")
    }))

  it("a stream cut before message_stop is an IncompleteStreamError saying how far it got", () => {
    const error = leftOf(Messages.fromEvents(realisticEvents.slice(0, 12)))
    expect(error).toBeInstanceOf(Messages.IncompleteStreamError)
    if (error._tag !== "IncompleteStreamError") throw new Error(error._tag)
    expect(error.events).toBe(12)
    expect(error.missing).toBe("message_stop")
    expect(error.lastEventType).toEqual(Option.some("content_block_stop"))
    expect(error.message).toBe(
      "The stream ended after 12 events (last event: content_block_stop) without message_stop"
    )
  })

  it("an empty stream, or one without message_start, misses message_start", () => {
    const empty = leftOf(Messages.fromEvents([]))
    expect(empty.message).toBe("The stream ended before any event arrived, without message_start")
    const pings = leftOf(Messages.fromEvents([sse({ type: "ping" })]))
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
    const error = leftOf(Messages.fromEvents(events))
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
    const error = leftOf(Messages.fromEvents(events))
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
    expect(leftOf(Messages.fromEvents(unstopped))._tag).toBe("InvalidToolInputError")
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
      const error = leftOf(Messages.fromEvents(events.map(sse)))
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
    const message = Either.getOrThrow(Messages.fromEvents(events))
    expect(message.content).toEqual([
      { type: "unknown", raw: { type: "mcp_tool_use", id: "mcptoolu_1", name: "echo", server_name: "s", input: { text: "hi" } } },
      { type: "unknown", raw: { type: "compaction", content: "", text: "summary" } }
    ])
    expect(message.stop_details).toBeNull()
    expect(message.container).toEqual({ id: "c1", expires_at: "t" })
    expect(message.usage).toEqual({ ...startBody.message.usage, output_tokens: 7 })
  })
})

// ---------------------------------------------------------------------------
// properties
// ---------------------------------------------------------------------------

/** A JSON value with one spot (picked by `path`) replaced by `replacement`. */
const mutate = (value: unknown, path: ReadonlyArray<number>, replacement: unknown): unknown => {
  if (path.length === 0 || value === null || typeof value !== "object") return replacement
  const [head, ...rest] = path
  const keys = Object.keys(value)
  if (keys.length === 0) return replacement
  const key = keys[head! % keys.length]!
  const copy: Record<string, unknown> = Array.isArray(value) ? [...value] as never : { ...value }
  copy[key] = mutate((value as Record<string, unknown>)[key], rest, replacement)
  return copy
}

const encodedMessages = Arbitrary.make(Messages.Message).map((m) => Schema.encodeSync(Messages.Message)(m))
const encodedEvents = Arbitrary.make(Messages.MessageStreamEvent).map((e) =>
  Schema.encodeSync(Messages.MessageStreamEvent)(e)
)
const nearlyValid = (valid: fc.Arbitrary<unknown>) =>
  fc.tuple(valid, fc.array(fc.nat(), { maxLength: 6 }), fc.anything()).map(([v, path, r]) => mutate(v, path, r))

const isParseFailure = (exit: Exit.Exit<unknown, { readonly _tag: string }>): boolean =>
  Exit.isSuccess(exit) ||
  (!Cause.isDie(exit.cause) && Option.exists(Cause.failureOption(exit.cause), (e) => e._tag === "ParseError"))

describe("totality", () => {
  // `Schema.Union` reads the discriminant with `String(input.type)`, which throws
  // for this JSON object; every union of this module must still fail cleanly
  const poison = { toString: 0 }
  const poisoned: ReadonlyArray<readonly [string, () => Effect.Effect<unknown, { readonly _tag: string }>]> = [
    ["event", () => Messages.decodeMessageStreamEventJson(JSON.stringify({ type: poison }))],
    ["delta", () => Messages.decodeMessageStreamEvent({ type: "content_block_delta", index: 0, delta: { type: poison } })],
    ["block", () => Messages.decodeMessage(messageBody([{ type: poison }]))],
    ["web search content", () => Messages.decodeMessage(messageBody([{ ...webSearchResult, content: { type: poison } }]))],
    ["batch result", () => Messages.decodeMessageBatchIndividualResponseJson(JSON.stringify({ custom_id: "a", result: { type: poison } }))],
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

  it("decoding an event from any value or any JSON text is total", () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), nearlyValid(encodedEvents)), (u) => {
        expect(isParseFailure(Effect.runSyncExit(Messages.decodeMessageStreamEvent(u)))).toBe(true)
        expect(isParseFailure(Effect.runSyncExit(Messages.decodeMessageStreamEventJson(JSON.stringify(u) ?? "")))).toBe(
          true
        )
      }),
      { numRuns: 2000 }
    )
    fc.assert(
      fc.property(fc.string(), (text) => {
        expect(isParseFailure(Effect.runSyncExit(Messages.decodeMessageStreamEventJson(text)))).toBe(true)
      }),
      { numRuns: 500 }
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

  it("encode then decode of an event is the identity", () => {
    fc.assert(
      fc.property(Arbitrary.make(Messages.MessageStreamEvent), (event) => {
        expect(Schema.decodeUnknownSync(Messages.MessageStreamEvent)(Schema.encodeSync(Messages.MessageStreamEvent)(event)))
          .toEqual(event)
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
        const message = Either.getOrThrow(Messages.fromEvents(events.map(sse)))
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
