/**
 * The Claude Messages wire format as `effect/Schema`: the content blocks,
 * the request params of `POST /v1/messages` and
 * `POST /v1/messages/count_tokens`, and the `Message` response (see
 * https://docs.anthropic.com/en/api/messages). The events of a streamed
 * response are `MessageStream`'s, the Message Batches API's objects
 * `MessageBatches`'s, and folding a stream's events into its `Message` is
 * `MessageAccumulator`'s.
 *
 * Forward compatibility rules, for these modules alike (the API grows; a new
 * field or type must never fail a call):
 *
 * - Unknown fields are kept: every object schema preserves the fields it does
 *   not name, on decode and on encode, so a block appended to a follow-up
 *   request carries them back to the API.
 * - An unknown `type` in a union (content block, delta, stream event, batch
 *   result) decodes to `{ type: "unknown", raw }`, where `raw` is the wire
 *   object intact; it encodes back to `raw`. A known `type` with the wrong
 *   shape is a `ParseError`, so `switch (block.type)` narrows soundly.
 * - `stop_reason` is any string or `null`; the documented values are listed in
 *   {@link knownStopReasons}.
 *
 * @since 0.1.0
 */
import { dual } from "effect/Function"
import * as Schema from "effect/Schema"
import {
  checkedNumber,
  closedParams,
  Count,
  ExtraParams as ExtraParamsSchema,
  isFiniteInteger,
  JsonValue as JsonValueSchema,
  open,
  opt,
  optNull,
  OtherFields,
  typeUnion,
  unknownMember
} from "./internal/schema.js"
import { describeValue } from "./internal/text.js"

// ---------------------------------------------------------------------------
// building blocks
// ---------------------------------------------------------------------------

/**
 * Any JSON value, kept as is (`unknown`). Used for tool inputs, server tool
 * results and the fields of unknown objects.
 *
 * @since 0.1.0
 * @category schemas
 */
export const JsonValue: Schema.Schema<unknown> = JsonValueSchema

/**
 * The wire object behind an unknown union member: a `type` string and any
 * other fields.
 *
 * @since 0.1.0
 * @category models
 */
export interface UnknownObject {
  readonly type: string
  readonly [key: string]: unknown
}

/**
 * A union member this version does not know, wrapped so that `type` narrows
 * soundly: `raw` is the wire object, intact.
 *
 * @since 0.1.0
 * @category models
 */
export interface Unknown {
  readonly type: "unknown"
  readonly raw: UnknownObject
}


// ---------------------------------------------------------------------------
// shared fields
// ---------------------------------------------------------------------------

/**
 * `cache_control` on a block or tool: `{ type: "ephemeral", ttl?: "5m" | "1h" }`
 * (any `type` string is accepted).
 *
 * @since 0.1.0
 * @category schemas
 */
export const CacheControl = open({
  type: Schema.String,
  ttl: opt(Schema.String)
}).annotations({ identifier: "CacheControl" })

/**
 * @since 0.1.0
 * @category models
 */
export type CacheControl = typeof CacheControl.Type

/**
 * A citation on a text block (`char_location`, `page_location`,
 * `content_block_location`, `web_search_result_location`,
 * `search_result_location`, …): its `type`, usually `cited_text`, and the
 * location fields of its kind, all kept.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Citation = Schema.Struct(
  {
    type: Schema.String,
    cited_text: opt(Schema.String)
  },
  OtherFields
).annotations({ identifier: "Citation" })

/**
 * @since 0.1.0
 * @category models
 */
export type Citation = typeof Citation.Type

// ---------------------------------------------------------------------------
// content blocks (both directions)
// ---------------------------------------------------------------------------

/**
 * `{ type: "text", text, citations? }`: in a response, and as request content.
 *
 * @since 0.1.0
 * @category content blocks
 */
export const TextBlock = open({
  type: Schema.Literal("text"),
  text: Schema.String,
  citations: optNull(Schema.Array(Citation)),
  cache_control: optNull(CacheControl)
}).annotations({ identifier: "TextBlock" })

/**
 * @since 0.1.0
 * @category content blocks
 */
export type TextBlock = typeof TextBlock.Type

/** The fields of a tool call, client (`tool_use`) or server (`server_tool_use`). */
const toolCallFields = {
  id: Schema.String,
  name: Schema.String,
  input: JsonValue,
  cache_control: optNull(CacheControl)
}

/**
 * `{ type: "tool_use", id, name, input }`: a call of a client tool.
 *
 * @since 0.1.0
 * @category content blocks
 */
export const ToolUseBlock = open({
  type: Schema.Literal("tool_use"),
  ...toolCallFields
}).annotations({ identifier: "ToolUseBlock" })

/**
 * @since 0.1.0
 * @category content blocks
 */
export type ToolUseBlock = typeof ToolUseBlock.Type

/**
 * `{ type: "thinking", thinking, signature }`. A stream's `content_block_start`
 * may omit `signature` (it arrives as a `signature_delta`): it decodes to `""`.
 *
 * @since 0.1.0
 * @category content blocks
 */
export const ThinkingBlock = open({
  type: Schema.Literal("thinking"),
  thinking: Schema.String,
  signature: Schema.optionalWith(Schema.String, { default: () => "" })
}).annotations({ identifier: "ThinkingBlock" })

/**
 * @since 0.1.0
 * @category content blocks
 */
export type ThinkingBlock = typeof ThinkingBlock.Type

/**
 * `{ type: "redacted_thinking", data }`: encrypted thinking, sent back as is.
 *
 * @since 0.1.0
 * @category content blocks
 */
export const RedactedThinkingBlock = open({
  type: Schema.Literal("redacted_thinking"),
  data: Schema.String
}).annotations({ identifier: "RedactedThinkingBlock" })

/**
 * @since 0.1.0
 * @category content blocks
 */
export type RedactedThinkingBlock = typeof RedactedThinkingBlock.Type

/**
 * `{ type: "server_tool_use", id, name, input }`: a call of a server tool
 * (web search, web fetch, code execution, …) that the API ran itself.
 *
 * @since 0.1.0
 * @category content blocks
 */
export const ServerToolUseBlock = open({
  type: Schema.Literal("server_tool_use"),
  ...toolCallFields
}).annotations({ identifier: "ServerToolUseBlock" })

/**
 * @since 0.1.0
 * @category content blocks
 */
export type ServerToolUseBlock = typeof ServerToolUseBlock.Type

/**
 * One result of a web search.
 *
 * @since 0.1.0
 * @category content blocks
 */
export const WebSearchResult = open({
  type: Schema.Literal("web_search_result"),
  url: Schema.String,
  title: Schema.String,
  encrypted_content: opt(Schema.String),
  page_age: optNull(Schema.String)
}).annotations({ identifier: "WebSearchResult" })

/**
 * A failed web search: `{ type: "web_search_tool_result_error", error_code }`.
 *
 * @since 0.1.0
 * @category content blocks
 */
export const WebSearchToolResultError = open({
  type: Schema.Literal("web_search_tool_result_error"),
  error_code: Schema.String
}).annotations({ identifier: "WebSearchToolResultError" })

/**
 * `{ type: "web_search_tool_result", tool_use_id, content }`: the results of
 * a `server_tool_use` web search, or its error.
 *
 * @since 0.1.0
 * @category content blocks
 */
export const WebSearchToolResultBlock = open({
  type: Schema.Literal("web_search_tool_result"),
  tool_use_id: Schema.String,
  content: typeUnion(Schema.Array(WebSearchResult), WebSearchToolResultError),
  cache_control: optNull(CacheControl)
}).annotations({ identifier: "WebSearchToolResultBlock" })

/**
 * @since 0.1.0
 * @category content blocks
 */
export type WebSearchToolResultBlock = typeof WebSearchToolResultBlock.Type

/**
 * The result types of the other server tools, whose `content` is kept as JSON.
 *
 * @since 0.1.0
 * @category constants
 */
export const serverToolResultTypes = [
  "web_fetch_tool_result",
  "code_execution_tool_result",
  "bash_code_execution_tool_result",
  "text_editor_code_execution_tool_result",
  "tool_search_tool_result",
  "mcp_tool_result"
] as const

/**
 * `{ type: "<tool>_tool_result", tool_use_id, content }` for the server tools
 * in {@link serverToolResultTypes}; `content` (and any other field) is kept
 * as JSON. Other `*_tool_result` types decode as {@link UnknownContentBlock}.
 *
 * @since 0.1.0
 * @category content blocks
 */
export const ServerToolResultBlock = typeUnion(
  ...serverToolResultTypes.map((type) =>
    open({
      type: Schema.Literal(type),
      tool_use_id: Schema.String,
      content: JsonValue,
      cache_control: optNull(CacheControl)
    }).annotations({ identifier: `ServerToolResultBlock(${type})` })
  )
).annotations({ identifier: "ServerToolResultBlock" })

/**
 * @since 0.1.0
 * @category content blocks
 */
export type ServerToolResultBlock = typeof ServerToolResultBlock.Type

// ---------------------------------------------------------------------------
// content blocks (request only)
// ---------------------------------------------------------------------------

/**
 * `{ type: "base64", media_type, data }`.
 *
 * @since 0.1.0
 * @category sources
 */
export const Base64Source = open({
  type: Schema.Literal("base64"),
  media_type: Schema.String,
  data: Schema.String
}).annotations({ identifier: "Base64Source" })

/**
 * `{ type: "url", url }`.
 *
 * @since 0.1.0
 * @category sources
 */
export const UrlSource = open({
  type: Schema.Literal("url"),
  url: Schema.String
}).annotations({ identifier: "UrlSource" })

/**
 * `{ type: "file", file_id }` (Files API).
 *
 * @since 0.1.0
 * @category sources
 */
export const FileSource = open({
  type: Schema.Literal("file"),
  file_id: Schema.String
}).annotations({ identifier: "FileSource" })

/**
 * `{ type: "text", media_type: "text/plain", data }`: a plain-text document.
 *
 * @since 0.1.0
 * @category sources
 */
export const PlainTextSource = open({
  type: Schema.Literal("text"),
  media_type: Schema.String,
  data: Schema.String
}).annotations({ identifier: "PlainTextSource" })

/**
 * `{ type: "image", source }`: base64, URL or file.
 *
 * @since 0.1.0
 * @category content blocks
 */
export const ImageBlock = open({
  type: Schema.Literal("image"),
  source: typeUnion(Base64Source, UrlSource, FileSource),
  cache_control: optNull(CacheControl)
}).annotations({ identifier: "ImageBlock" })

/**
 * @since 0.1.0
 * @category content blocks
 */
export type ImageBlock = typeof ImageBlock.Type

/**
 * `{ type: "content", content }`: a document made of text and image blocks.
 *
 * @since 0.1.0
 * @category sources
 */
export const ContentSource = open({
  type: Schema.Literal("content"),
  content: Schema.Union(Schema.String, Schema.Array(typeUnion(TextBlock, ImageBlock)))
}).annotations({ identifier: "ContentSource" })

/**
 * `{ type: "document", source, title?, context?, citations? }`: a PDF (base64,
 * URL or file), plain text or custom content.
 *
 * @since 0.1.0
 * @category content blocks
 */
export const DocumentBlock = open({
  type: Schema.Literal("document"),
  source: typeUnion(Base64Source, PlainTextSource, ContentSource, UrlSource, FileSource),
  title: optNull(Schema.String),
  context: optNull(Schema.String),
  citations: optNull(open({ enabled: opt(Schema.Boolean) })),
  cache_control: optNull(CacheControl)
}).annotations({ identifier: "DocumentBlock" })

/**
 * @since 0.1.0
 * @category content blocks
 */
export type DocumentBlock = typeof DocumentBlock.Type

/**
 * `{ type: "search_result", source, title, content }`: a search result the
 * caller supplies, citable by the model.
 *
 * @since 0.1.0
 * @category content blocks
 */
export const SearchResultBlock = open({
  type: Schema.Literal("search_result"),
  source: Schema.String,
  title: Schema.String,
  content: Schema.Array(TextBlock),
  citations: optNull(open({ enabled: opt(Schema.Boolean) })),
  cache_control: optNull(CacheControl)
}).annotations({ identifier: "SearchResultBlock" })

/**
 * @since 0.1.0
 * @category content blocks
 */
export type SearchResultBlock = typeof SearchResultBlock.Type

/**
 * Every content block `type` this module knows, in either direction. An
 * object with one of these types must match its schema; any other type
 * decodes as {@link UnknownContentBlock}.
 *
 * @since 0.1.0
 * @category constants
 */
export const knownContentBlockTypes: ReadonlyArray<string> = [
  "text",
  "image",
  "document",
  "search_result",
  "tool_use",
  "tool_result",
  "thinking",
  "redacted_thinking",
  "server_tool_use",
  "web_search_tool_result",
  ...serverToolResultTypes
]

/**
 * A content block of a type this version does not know:
 * `{ type: "unknown", raw }`, `raw` being the wire object intact. It encodes
 * back to `raw`, so it can be sent back to the API.
 *
 * @since 0.1.0
 * @category content blocks
 */
export const UnknownContentBlock: Schema.Schema<Unknown, UnknownObject> = unknownMember(
  knownContentBlockTypes,
  "content block",
  "UnknownContentBlock"
)

/**
 * @since 0.1.0
 * @category content blocks
 */
export type UnknownContentBlock = Unknown

/**
 * `{ type: "tool_result", tool_use_id, content?, is_error? }`: the caller's
 * answer to a `tool_use`.
 *
 * @since 0.1.0
 * @category content blocks
 */
export const ToolResultBlock = open({
  type: Schema.Literal("tool_result"),
  tool_use_id: Schema.String,
  content: opt(
    Schema.Union(
      Schema.String,
      Schema.Array(typeUnion(TextBlock, ImageBlock, DocumentBlock, SearchResultBlock, UnknownContentBlock))
    )
  ),
  is_error: opt(Schema.Boolean),
  cache_control: optNull(CacheControl)
}).annotations({ identifier: "ToolResultBlock" })

/**
 * @since 0.1.0
 * @category content blocks
 */
export type ToolResultBlock = typeof ToolResultBlock.Type

/**
 * A content block of a `Message` (a response).
 *
 * @since 0.1.0
 * @category content blocks
 */
export const ContentBlock = typeUnion(
  TextBlock,
  ToolUseBlock,
  ThinkingBlock,
  RedactedThinkingBlock,
  ServerToolUseBlock,
  WebSearchToolResultBlock,
  ServerToolResultBlock,
  UnknownContentBlock
).annotations({ identifier: "ContentBlock" })

/**
 * @since 0.1.0
 * @category content blocks
 */
export type ContentBlock = typeof ContentBlock.Type

/**
 * A content block of a request message: every {@link ContentBlock} (so a
 * response's content can be sent back as an assistant turn) plus image,
 * document, search result and tool result blocks.
 *
 * @since 0.1.0
 * @category content blocks
 */
export const ContentBlockParam = typeUnion(
  TextBlock,
  ImageBlock,
  DocumentBlock,
  SearchResultBlock,
  ToolUseBlock,
  ToolResultBlock,
  ThinkingBlock,
  RedactedThinkingBlock,
  ServerToolUseBlock,
  WebSearchToolResultBlock,
  ServerToolResultBlock,
  UnknownContentBlock
).annotations({ identifier: "ContentBlockParam" })

/**
 * @since 0.1.0
 * @category content blocks
 */
export type ContentBlockParam = typeof ContentBlockParam.Type

// ---------------------------------------------------------------------------
// request params
// ---------------------------------------------------------------------------

/**
 * One turn of the conversation: `{ role: "user" | "assistant", content }`,
 * `content` a string or content blocks.
 *
 * @since 0.1.0
 * @category params
 */
export const MessageParam = open({
  role: Schema.Literal("user", "assistant"),
  content: Schema.Union(Schema.String, Schema.Array(ContentBlockParam))
}).annotations({ identifier: "MessageParam" })

/**
 * @since 0.1.0
 * @category params
 */
export type MessageParam = typeof MessageParam.Type

/**
 * A client tool: `{ name, description?, input_schema }` (`type` absent or
 * `"custom"`).
 *
 * @since 0.1.0
 * @category params
 */
export const CustomTool = open({
  type: Schema.optional(Schema.Literal("custom")),
  name: Schema.String,
  description: Schema.optional(Schema.String),
  input_schema: Schema.Struct(
    {
      type: Schema.Literal("object"),
      properties: Schema.optional(Schema.NullOr(JsonValue)),
      required: Schema.optional(Schema.NullOr(Schema.Array(Schema.String)))
    },
    OtherFields
  ),
  cache_control: Schema.optional(Schema.NullOr(CacheControl))
}).annotations({ identifier: "CustomTool" })

/**
 * A server tool or a versioned client tool, passed through as is:
 * `{ type: "web_search_20250305", name: "web_search", max_uses: 5 }`.
 *
 * @since 0.1.0
 * @category params
 */
export const ServerTool = Schema.Struct(
  {
    type: Schema.String.pipe(
      Schema.filter((type) => type !== "custom", { message: () => `a "custom" tool needs an input_schema` })
    ),
    name: Schema.String
  },
  OtherFields
).annotations({ identifier: "ServerTool" })

/**
 * A tool the model may call: a {@link CustomTool} or a {@link ServerTool}.
 *
 * @since 0.1.0
 * @category params
 */
export const Tool = Schema.Union(CustomTool, ServerTool).annotations({ identifier: "Tool" })

/**
 * @since 0.1.0
 * @category params
 */
export type Tool = typeof Tool.Type

/**
 * `tool_choice`: `auto`, `any`, `tool` (with `name`) or `none`.
 *
 * @since 0.1.0
 * @category params
 */
export const ToolChoice = typeUnion(
  open({ type: Schema.Literal("auto"), disable_parallel_tool_use: Schema.optional(Schema.Boolean) }),
  open({ type: Schema.Literal("any"), disable_parallel_tool_use: Schema.optional(Schema.Boolean) }),
  open({
    type: Schema.Literal("tool"),
    name: Schema.String,
    disable_parallel_tool_use: Schema.optional(Schema.Boolean)
  }),
  open({ type: Schema.Literal("none") })
).annotations({ identifier: "ToolChoice" })

/**
 * @since 0.1.0
 * @category params
 */
export type ToolChoice = typeof ToolChoice.Type

/**
 * `thinking`: `{ type: "enabled", budget_tokens }`, `{ type: "adaptive" }` or
 * `{ type: "disabled" }` (extra fields such as `display` pass through).
 *
 * @since 0.1.0
 * @category params
 */
export const ThinkingConfig = typeUnion(
  open({ type: Schema.Literal("enabled"), budget_tokens: Schema.Number }),
  open({ type: Schema.Literal("adaptive") }),
  open({ type: Schema.Literal("disabled") })
).annotations({ identifier: "ThinkingConfig" })

/**
 * @since 0.1.0
 * @category params
 */
export type ThinkingConfig = typeof ThinkingConfig.Type

/**
 * `system`: a string or text blocks.
 *
 * @since 0.1.0
 * @category params
 */
export const SystemPrompt = Schema.Union(Schema.String, Schema.Array(TextBlock)).annotations({
  identifier: "SystemPrompt"
})

// -- checked values ------------------------------------------------------------

/**
 * `max_tokens`: a finite integer, at least 0 (`0` populates the prompt cache
 * without generating a response, as the API documents).
 */
const MaxTokens = checkedNumber("max_tokens", "a finite integer ≥ 0", (n) => isFiniteInteger(n) && n >= 0)

const unitInterval = (name: string) => checkedNumber(name, "a number from 0 to 1", (n) => n >= 0 && n <= 1)

const TopK = checkedNumber("top_k", "a finite integer ≥ 0", (n) => isFiniteInteger(n) && n >= 0)

const ModelName = Schema.String.pipe(
  Schema.filter((model) =>
    model.trim().length > 0 || `model must name a model, such as "claude-sonnet-5-5"; got ${describeValue(model)}`
  )
).annotations({ identifier: "Model" })

const MessageList = Schema.Array(MessageParam).pipe(
  Schema.filter((messages) => messages.length > 0 || "messages must hold at least one message; got an empty array")
).annotations({ identifier: "Messages" })

// -- closed params and their escape hatch -------------------------------------

/**
 * Params this version does not name yet, sent as given: the value of the
 * `extraParams` field of {@link MessageCreateParams} and
 * {@link CountTokensParams}. Its keys are merged into the top level of the
 * JSON body; a key that is a named param is rejected (set that param
 * directly, where it is checked).
 *
 * @since 0.1.0
 * @category params
 */
export const ExtraParams = ExtraParamsSchema

/**
 * @since 0.1.0
 * @category params
 */
export type ExtraParams = typeof ExtraParams.Type

const countTokensFields = {
  model: ModelName,
  messages: MessageList,
  system: Schema.optional(SystemPrompt),
  tools: Schema.optional(Schema.Array(Tool)),
  tool_choice: Schema.optional(ToolChoice),
  thinking: Schema.optional(ThinkingConfig),
  cache_control: Schema.optional(Schema.NullOr(CacheControl)),
  output_config: Schema.optional(open({
    effort: Schema.optional(Schema.NullOr(Schema.String)),
    format: Schema.optional(Schema.NullOr(OtherFields))
  })),
  speed: Schema.optional(Schema.NullOr(Schema.String))
}

/**
 * The body of `POST /v1/messages`, closed: a misspelt param (`temprature`,
 * `sytem`) is a compile error, and a `ParseError` naming it at run time.
 * Values that cannot be right fail before anything is sent: `max_tokens` is
 * a finite integer ≥ 0, `temperature` and `top_p` are in [0, 1], `top_k` is
 * an integer ≥ 0, `messages` holds at least one message, `model` is not
 * empty.
 *
 * A param this version does not name yet goes in `extraParams` (or through
 * {@link withExtraParams}); its keys are merged into the body as given.
 *
 * @example
 * ```ts
 * import { Messages } from "claude-resilience"
 *
 * const params: Messages.MessageCreateParams = {
 *   model: "claude-sonnet-5-5",
 *   max_tokens: 1024,
 *   messages: [{ role: "user", content: "Hello, Claude" }],
 *   extraParams: { context_management: { edits: [{ type: "clear_tool_uses_20250919" }] } }
 * }
 * ```
 *
 * @since 0.1.0
 * @category params
 */
export const MessageCreateParams = closedParams({
  ...countTokensFields,
  max_tokens: MaxTokens,
  temperature: Schema.optional(unitInterval("temperature")),
  top_p: Schema.optional(unitInterval("top_p")),
  top_k: Schema.optional(TopK),
  stop_sequences: Schema.optional(Schema.Array(Schema.String)),
  stream: Schema.optional(Schema.Boolean),
  metadata: Schema.optional(open({ user_id: Schema.optional(Schema.NullOr(Schema.String)) })),
  service_tier: Schema.optional(Schema.String),
  container: Schema.optional(Schema.NullOr(Schema.Union(Schema.String, OtherFields))),
  diagnostics: Schema.optional(Schema.NullOr(OtherFields)),
  inference_geo: Schema.optional(Schema.NullOr(Schema.String)),
  user_profile_id: Schema.optional(Schema.String),
  workspace_id: Schema.optional(Schema.String)
}, "MessageCreateParams")

/**
 * @since 0.1.0
 * @category params
 */
export type MessageCreateParams = typeof MessageCreateParams.Type

/**
 * The body of `POST /v1/messages/count_tokens`: the params that shape the
 * prompt (no `max_tokens`, sampling or `stream`, which the endpoint
 * rejects), closed like {@link MessageCreateParams}, with the same
 * `extraParams`.
 *
 * @since 0.1.0
 * @category params
 */
export const CountTokensParams = closedParams(countTokensFields, "CountTokensParams")

/**
 * @since 0.1.0
 * @category params
 */
export type CountTokensParams = typeof CountTokensParams.Type

/**
 * Adds params this version does not name yet to `extraParams` (merged with
 * any already there). They are sent at the top level of the body, as given.
 *
 * @example
 * ```ts
 * import { Messages } from "claude-resilience"
 *
 * const params = Messages.withExtraParams(
 *   { model: "claude-sonnet-5-5", max_tokens: 1024, messages: [{ role: "user", content: "Hi" }] },
 *   { context_management: { edits: [{ type: "clear_tool_uses_20250919" }] } }
 * )
 * ```
 *
 * @since 0.1.0
 * @category params
 */
export const withExtraParams: {
  (
    extra: ExtraParams
  ): <P extends MessageCreateParams | CountTokensParams>(params: P) => P & { readonly extraParams: ExtraParams }
  <P extends MessageCreateParams | CountTokensParams>(
    params: P,
    extra: ExtraParams
  ): P & { readonly extraParams: ExtraParams }
} = dual(
  2,
  <P extends MessageCreateParams | CountTokensParams>(
    params: P,
    extra: ExtraParams
  ): P & { readonly extraParams: ExtraParams } => ({
    ...params,
    extraParams: { ...params.extraParams, ...extra }
  })
)


// ---------------------------------------------------------------------------
// the Message response
// ---------------------------------------------------------------------------

/**
 * The `stop_reason` values the API documents.
 *
 * @since 0.1.0
 * @category constants
 */
export const knownStopReasons = [
  "end_turn",
  "max_tokens",
  "stop_sequence",
  "tool_use",
  "pause_turn",
  "refusal",
  "model_context_window_exceeded"
] as const

/**
 * The documented `stop_reason` values ({@link knownStopReasons}) as a Schema.
 *
 * @since 0.1.0
 * @category schemas
 */
export const KnownStopReason = Schema.Literal(...knownStopReasons)

/**
 * @since 0.1.0
 * @category models
 */
export type KnownStopReason = typeof KnownStopReason.Type

/**
 * `stop_reason`: a documented value or any other string (a newer API's).
 * `null` is allowed where the field is (see {@link Message}).
 *
 * @since 0.1.0
 * @category schemas
 */
export const StopReason = Schema.Union(KnownStopReason, Schema.String).annotations({ identifier: "StopReason" })

/**
 * @since 0.1.0
 * @category models
 */
export type StopReason = KnownStopReason | (string & {})

/**
 * Whether a `stop_reason` is one the API documents.
 *
 * @example
 * ```ts
 * import { Messages } from "claude-resilience"
 *
 * Messages.isKnownStopReason("max_tokens") // true
 * Messages.isKnownStopReason("compaction_required") // false: a newer API's
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isKnownStopReason: (u: unknown) => u is KnownStopReason = Schema.is(KnownStopReason)

/**
 * `stop_details`: structured detail about why generation stopped, such as a
 * refusal's `{ type: "refusal", category, explanation }`. Any `type` string is
 * accepted and unnamed fields are kept.
 *
 * @since 0.1.0
 * @category schemas
 */
export const StopDetails = open({
  type: Schema.String,
  category: optNull(Schema.String),
  explanation: optNull(Schema.String)
}).annotations({ identifier: "StopDetails" })

/**
 * @since 0.1.0
 * @category models
 */
export type StopDetails = typeof StopDetails.Type

/**
 * The number of server tool requests in a response.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ServerToolUsage = open({
  web_search_requests: opt(Count),
  web_fetch_requests: opt(Count)
}).annotations({ identifier: "ServerToolUsage" })

/**
 * `usage` of a `Message`: `input_tokens` and `output_tokens`, and the
 * optional (or `null`) cache, server tool and service tier fields.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Usage = open({
  input_tokens: Count,
  output_tokens: Count,
  cache_creation_input_tokens: optNull(Count),
  cache_read_input_tokens: optNull(Count),
  cache_creation: optNull(open({
    ephemeral_5m_input_tokens: opt(Count),
    ephemeral_1h_input_tokens: opt(Count)
  })),
  server_tool_use: optNull(ServerToolUsage),
  service_tier: optNull(Schema.String)
}).annotations({ identifier: "Usage" })

/**
 * @since 0.1.0
 * @category models
 */
export type Usage = typeof Usage.Type

/**
 * The container a response's code execution ran in.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Container = open({
  id: Schema.String,
  expires_at: Schema.String
}).annotations({ identifier: "Container" })

/**
 * The response of `POST /v1/messages`. `stop_reason` and `stop_sequence`
 * decode to `null` when absent; unnamed fields are kept.
 *
 * @since 0.1.0
 * @category response
 */
export const Message = open({
  id: Schema.String,
  type: Schema.Literal("message"),
  role: Schema.Literal("assistant"),
  model: Schema.String,
  content: Schema.Array(ContentBlock),
  stop_reason: Schema.optionalWith(Schema.NullOr(StopReason), { default: () => null }),
  stop_sequence: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  stop_details: optNull(StopDetails),
  usage: Usage,
  container: optNull(Container)
}).annotations({ identifier: "Message" })

/**
 * @since 0.1.0
 * @category response
 */
export type Message = typeof Message.Type

/**
 * A response's content as the next request's assistant turn: the blocks are
 * sent back as they came (unknown blocks and fields included).
 *
 * @example
 * ```ts
 * import { Messages } from "claude-resilience"
 *
 * declare const params: Messages.MessageCreateParams
 * declare const answer: Messages.Message
 *
 * // the conversation so far, then the next question
 * const next: Messages.MessageCreateParams = {
 *   ...params,
 *   messages: [...params.messages, Messages.toMessageParam(answer), { role: "user", content: "And then?" }]
 * }
 * ```
 *
 * @since 0.1.0
 * @category response
 */
export const toMessageParam = (message: Message): MessageParam => ({ role: "assistant", content: message.content })

/**
 * The response of `POST /v1/messages/count_tokens`.
 *
 * @since 0.1.0
 * @category response
 */
export const CountTokensResponse = open({ input_tokens: Count }).annotations({ identifier: "CountTokensResponse" })

/**
 * @since 0.1.0
 * @category response
 */
export type CountTokensResponse = typeof CountTokensResponse.Type

// ---------------------------------------------------------------------------
// decoders (total: a malformed input is a ParseError, never a throw)
// ---------------------------------------------------------------------------


/**
 * Decodes a response body (parsed JSON) to a {@link Message}; an `Effect`
 * that fails with a `ParseError`. For the other schemas, use
 * `Schema.decodeUnknown` (or `Schema.encode` for a wire body) directly.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Messages } from "claude-resilience"
 *
 * declare const responseText: string
 * const message = Messages.decodeMessage(JSON.parse(responseText)).pipe(
 *   Effect.map((message) => message.stop_reason)
 * )
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeMessage = Schema.decodeUnknown(Message)

/**
 * Decodes a wire body of `POST /v1/messages` to {@link MessageCreateParams}
 * (the fields it does not name gathered into `extraParams`).
 *
 * @example
 * ```ts
 * import { Messages } from "claude-resilience"
 *
 * const params = Messages.decodeMessageCreateParams({
 *   model: "claude-sonnet-5-5",
 *   max_tokens: 1024,
 *   messages: [{ role: "user", content: "Hello" }]
 * })
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeMessageCreateParams = Schema.decodeUnknown(MessageCreateParams)

/**
 * Decodes a wire body of `POST /v1/messages/count_tokens` to
 * {@link CountTokensParams}.
 *
 * @example
 * ```ts
 * import { Messages } from "claude-resilience"
 *
 * const params = Messages.decodeCountTokensParams({
 *   model: "claude-sonnet-5-5",
 *   messages: [{ role: "user", content: "Hello" }]
 * })
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeCountTokensParams = Schema.decodeUnknown(CountTokensParams)
