/**
 * Wire bodies of the Messages API (shapes from its documentation) and the
 * helpers that decode them, shared by the tests of Messages, MessageStream,
 * MessageBatches, MessageAccumulator and the semantic layer.
 */
import { Cause, Effect, Either, Exit, FastCheck as fc, Option } from "effect"
import type { Messages } from "../../src/index.js"
import { MessageStream } from "../../src/index.js"

/** A short request, for the tests that send one. */
export const params: Messages.MessageCreateParams = {
  model: "claude-sonnet-5-5",
  max_tokens: 256,
  messages: [{ role: "user", content: "Hello" }]
}

/** The prompt of {@link params}, as Token Counting takes it (no `max_tokens`, which that endpoint rejects). */
export const countParams: Messages.CountTokensParams = { model: params.model, messages: params.messages }

export const usageBody = {
  input_tokens: 2095,
  output_tokens: 503,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 1024,
  cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
  server_tool_use: { web_search_requests: 1 },
  service_tier: "standard"
}

export const citation = {
  type: "char_location",
  cited_text: "The grass is green.",
  document_index: 0,
  document_title: "Example Document",
  start_char_index: 0,
  end_char_index: 20
}

export const textWithCitation = {
  type: "text",
  text: "the grass is green",
  citations: [citation]
}

export const toolUse = {
  type: "tool_use",
  id: "toolu_01A09q90qw90lq917835lq9",
  name: "get_weather",
  input: { location: "San Francisco, CA", unit: "celsius" }
}

export const thinking = {
  type: "thinking",
  thinking: "Let me analyze this step by step...",
  signature: "WaUjzkypQ2mUEVM36O2TxuC06KN8xyfbJwyem2dw3URve/op91XWHOEBLLqIOMfFG/UvLEczmEsUjavL"
}

export const redactedThinking = {
  type: "redacted_thinking",
  data: "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP"
}

export const serverToolUse = {
  type: "server_tool_use",
  id: "srvtoolu_01WYG3ziw53XMcoyKL4XcZmE",
  name: "web_search",
  input: { query: "claude shannon birth date" }
}

export const webSearchResult = {
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

export const webSearchCitationText = {
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

export const webFetchResult = {
  type: "web_fetch_tool_result",
  tool_use_id: "srvtoolu_01234567890abcdef",
  content: {
    type: "web_fetch_result",
    url: "https://example.com/article",
    content: { type: "document", source: { type: "text", media_type: "text/plain", data: "Full text" } },
    retrieved_at: "2025-08-25T10:30:00Z"
  }
}

export const messageBody = (content: ReadonlyArray<unknown>, extra: Record<string, unknown> = {}) => ({
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

export const parseError = (result: Either.Either<unknown, { readonly message: string }>): string => {
  if (Either.isRight(result)) throw new Error("expected a ParseError")
  return result.left.message
}

export const sse = (data: unknown): MessageStream.MessageStreamEvent =>
  Effect.runSync(MessageStream.decodeMessageStreamEventJson(JSON.stringify(data)))

export const startBody = {
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

export const deltaEvent = (index: number, delta: unknown) => ({ type: "content_block_delta", index, delta })

/** A JSON value with one spot (picked by `path`) replaced by `replacement`. */
export const mutate = (value: unknown, path: ReadonlyArray<number>, replacement: unknown): unknown => {
  if (path.length === 0 || value === null || typeof value !== "object") return replacement
  const [head, ...rest] = path
  const keys = Object.keys(value)
  if (keys.length === 0) return replacement
  const key = keys[head! % keys.length]!
  const copy: Record<string, unknown> = Array.isArray(value) ? [...value] as never : { ...value }
  copy[key] = mutate((value as Record<string, unknown>)[key], rest, replacement)
  return copy
}

/** Values near a valid one: one spot of it replaced by anything. */
export const nearlyValid = (valid: fc.Arbitrary<unknown>) =>
  fc.tuple(valid, fc.array(fc.nat(), { maxLength: 6 }), fc.anything()).map(([v, path, r]) => mutate(v, path, r))

/** The exit of a decode that may fail only with a `ParseError` (never a defect). */
export const isParseFailure = (exit: Exit.Exit<unknown, { readonly _tag: string }>): boolean =>
  Exit.isSuccess(exit) ||
  (!Cause.isDie(exit.cause) && Option.exists(Cause.failureOption(exit.cause), (e) => e._tag === "ParseError"))
