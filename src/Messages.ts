/**
 * The Claude Messages wire format as `effect/Schema`: the request params of
 * `POST /v1/messages`, `/v1/messages/count_tokens` and `/v1/messages/batches`,
 * the `Message` response and its content blocks, the streaming events, the
 * Message Batches objects and results lines, and a pure accumulator that folds
 * a stream of events into the final `Message`.
 *
 * Forward compatibility rules (the API grows; a new field or type must never
 * fail a call):
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
import * as Either from "effect/Either"
import { dual } from "effect/Function"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Sink from "effect/Sink"
import * as ApiError from "./ApiError.js"

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
export const JsonValue: Schema.Schema<unknown> = Schema.Unknown.annotations({
  identifier: "JsonValue",
  arbitrary: () => (fc) => fc.jsonValue({ maxDepth: 2 })
})

/**
 * A field name of an open object. Generated names exclude `__proto__`: Effect
 * rebuilds decoded objects by assignment, and assigning `__proto__` sets the
 * prototype instead of adding the field, so a wire field of that name is not
 * kept.
 */
const FieldName = Schema.String.annotations({
  arbitrary: () => (fc) => fc.string().filter((name) => name !== "__proto__")
})

/** Unnamed fields of an open object, kept as JSON. */
const OtherFields = Schema.Record({ key: FieldName, value: JsonValue })

/** A token count or a request count: a number on the wire (natural numbers in generated values). */
const Count = Schema.Number.annotations({ arbitrary: () => (fc) => fc.nat() })

/** A struct that keeps the fields it does not name, on decode and on encode. */
const open = <Fields extends Schema.Struct.Fields>(fields: Fields) =>
  Schema.Struct(fields).annotations({ parseOptions: { onExcessProperty: "preserve" } })

const opt = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { exact: true })

const optNull = <S extends Schema.Schema.All>(schema: S) =>
  Schema.optionalWith(Schema.NullOr(schema), { exact: true })

/** A short, safe rendering of a wire value for an error message (never calls its `toString`). */
const describeValue = (u: unknown): string => {
  const text = typeof u === "string"
    ? JSON.stringify(u)
    : u === null || typeof u === "number" || typeof u === "boolean" || typeof u === "undefined"
    ? String(u)
    : Array.isArray(u)
    ? "an array"
    : `a value of type ${typeof u}`
  return text.length > 80 ? `${text.slice(0, 80)}…` : text
}

const isObject = (u: unknown): u is object => typeof u === "object" && u !== null

const hasStringTypeIfAny = (u: unknown): boolean =>
  !isObject(u) || !Object.prototype.hasOwnProperty.call(u, "type") ||
  typeof (u as { readonly type: unknown }).type === "string"

/**
 * A union whose members are told apart by their `type`. `Schema.Union` picks
 * its candidates with `String(input.type)`, which throws on a JSON object
 * such as `{"toString":0}`: the guard rejects a `type` that is not a string
 * first, so decoding stays total (a `ParseError`, never a throw).
 */
const typeUnion = <Members extends ReadonlyArray<Schema.Schema.Any>>(...members: Members) => {
  const union = Schema.Union(...members)
  const guard = Schema.declare(
    (u: unknown): u is Schema.Schema.Encoded<Members[number]> => hasStringTypeIfAny(u),
    {
      identifier: "StringType",
      message: (issue) =>
        `"type" must be a string; got ${
          describeValue(isObject(issue.actual) ? (issue.actual as { type?: unknown }).type : undefined)
        }`
    }
  )
  return Schema.compose(guard, union)
}

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

const unknownMember = (known: ReadonlyArray<string>, what: string, identifier: string) => {
  const knownSet = new Set(known)
  const Raw = Schema.Struct(
    {
      type: Schema.String.pipe(
        Schema.filter((type) => !knownSet.has(type), {
          message: (issue) =>
            `${describeValue(issue.actual)} is a known ${what} type; its fields do not match its schema`
        })
      )
    },
    OtherFields
  )
  return Schema.transform(
    Raw,
    Schema.Struct({ type: Schema.Literal("unknown"), raw: Schema.typeSchema(Raw) }),
    {
      strict: true,
      decode: (raw) => ({ type: "unknown" as const, raw }),
      encode: (unknown) => unknown.raw
    }
  ).annotations({ identifier })
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

const isFiniteInteger = (n: number): boolean => Number.isFinite(n) && Number.isInteger(n)

/** A number param, checked for values that cannot be right (NaN, ±Infinity, out of range). */
const checkedNumber = (name: string, rule: string, ok: (n: number) => boolean) =>
  Schema.Number.pipe(
    Schema.filter((n) => ok(n) || `${name} must be ${rule}; got ${describeValue(n)}`)
  ).annotations({ identifier: name })

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
export const ExtraParams = Schema.Record({ key: FieldName, value: JsonValue }).annotations({
  identifier: "ExtraParams"
})

/**
 * @since 0.1.0
 * @category params
 */
export type ExtraParams = typeof ExtraParams.Type

/** The edit distance of two short names, for "did you mean". */
const distance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
      )
    }
    previous = current
  }
  return previous[b.length]!
}

const suggestion = (key: string, names: ReadonlyArray<string>): string => {
  if (key.length > 64) return ""
  const near = names
    .map((name) => [name, distance(key.toLowerCase(), name.toLowerCase())] as const)
    .filter(([name, d]) => d <= Math.max(1, Math.floor(name.length / 4)))
    .sort((x, y) => x[1] - y[1])[0]
  return near === undefined ? "" : ` (did you mean ${near[0]}?)`
}

/**
 * A closed params struct: the fields it names (each checked) plus
 * `extraParams`, whose keys are merged into the wire object on encode. On
 * decode, the wire fields it does not name are gathered into `extraParams`.
 * A field that is neither named nor in `extraParams` is rejected with a
 * message that names it.
 */
const closedParams = <Fields extends Schema.Struct.Fields>(fields: Fields, identifier: string) => {
  const names = Object.keys(fields)
  const named = new Set([...names, "extraParams"])
  const Typed = Schema.Struct({ ...fields, extraParams: Schema.optional(ExtraParams) }).annotations({
    // keep unknown keys on the type side, so that the filter below sees them
    parseOptions: { onExcessProperty: "preserve" }
  }).pipe(
    Schema.filter((params) => {
      for (const key of Object.keys(params)) {
        if (!named.has(key)) {
          return {
            path: [key],
            message: `${describeValue(key)} is not a param of ${identifier}${
              suggestion(key, names)
            }: pass a param this version does not know in extraParams (Messages.withExtraParams)`
          }
        }
      }
      const extra: unknown = (params as { readonly extraParams?: unknown }).extraParams
      if (isObject(extra)) {
        for (const key of Object.keys(extra)) {
          if (named.has(key)) {
            return {
              path: ["extraParams", key],
              message: `${describeValue(key)} is a named param of ${identifier}: set it directly, not in extraParams`
            }
          }
        }
      }
      return true
    })
  )
  const Wire = Schema.Record({ key: FieldName, value: JsonValue })
  return Schema.transform(Wire, Typed, {
    strict: false,
    decode: (wire) => {
      const own: Record<string, unknown> = {}
      const extra: Record<string, unknown> = {}
      for (const key of Object.keys(wire)) {
        if (named.has(key) && key !== "extraParams") own[key] = wire[key]
        else extra[key] = wire[key]
      }
      return Object.keys(extra).length > 0 ? { ...own, extraParams: extra } : own
    },
    encode: (params) => {
      const { extraParams, ...own } = params as { readonly extraParams?: Readonly<Record<string, unknown>> }
      return extraParams === undefined ? own : { ...own, ...extraParams }
    }
  }).annotations({ identifier })
}

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

/**
 * The most requests one Message Batch may hold.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxBatchRequests = 100_000

/**
 * A batch request's `custom_id`: 1 to 64 letters, digits, `_` or `-`.
 *
 * @since 0.1.0
 * @category params
 */
export const CustomId = Schema.String.pipe(
  Schema.pattern(/^[a-zA-Z0-9_-]{1,64}$/, {
    message: (issue) =>
      `custom_id must be 1 to 64 characters, each a letter, a digit, "_" or "-"; got ${describeValue(issue.actual)}`
  })
).annotations({ identifier: "CustomId" })

/**
 * One request of a batch: `{ custom_id, params }`.
 *
 * @since 0.1.0
 * @category params
 */
export const BatchRequest = open({
  custom_id: CustomId,
  params: MessageCreateParams
}).annotations({ identifier: "BatchRequest" })

/**
 * @since 0.1.0
 * @category params
 */
export type BatchRequest = typeof BatchRequest.Type


const firstDuplicate = (requests: ReadonlyArray<BatchRequest>): string | undefined => {
  const seen = new Map<string, number>()
  for (let i = 0; i < requests.length; i++) {
    const id = requests[i]!.custom_id
    const first = seen.get(id)
    if (first !== undefined) {
      return `custom_id ${describeValue(id)} is used by requests ${first} and ${i}: each custom_id must be unique within a batch`
    }
    seen.set(id, i)
  }
  return undefined
}

/**
 * Checks the number of requests before any of them is decoded, so an
 * over-size batch fails at once.
 */
const AtMostMaxBatchRequests = Schema.declare(
  (u: unknown): u is ReadonlyArray<typeof BatchRequest.Encoded> =>
    Array.isArray(u) && u.length <= maxBatchRequests,
  {
    identifier: "AtMostMaxBatchRequests",
    message: (issue) =>
      Array.isArray(issue.actual)
        ? `a Message Batch holds at most ${maxBatchRequests} requests; got ${issue.actual.length}: split them into several batches`
        : `requests must be an array; got ${describeValue(issue.actual)}`
  }
)

/**
 * The requests of a batch: at most {@link maxBatchRequests} (on decode,
 * checked before any request is decoded), each `custom_id` valid and unique.
 *
 * @since 0.1.0
 * @category params
 */
export const BatchRequests = Schema.compose(AtMostMaxBatchRequests, Schema.Array(BatchRequest)).pipe(
  // encoding checks the type side first: the count again, before uniqueness
  Schema.maxItems(maxBatchRequests, {
    message: (issue) =>
      `a Message Batch holds at most ${maxBatchRequests} requests; got ${
        Array.isArray(issue.actual) ? issue.actual.length : "more"
      }: split them into several batches`
  }),
  Schema.filter((requests) => firstDuplicate(requests) ?? true)
).annotations({ identifier: "BatchRequests" })

/**
 * The body of `POST /v1/messages/batches`: `{ requests }`.
 *
 * @since 0.1.0
 * @category params
 */
export const BatchCreateParams = open({ requests: BatchRequests }).annotations({ identifier: "BatchCreateParams" })

/**
 * @since 0.1.0
 * @category params
 */
export type BatchCreateParams = typeof BatchCreateParams.Type

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
// streaming
// ---------------------------------------------------------------------------

/**
 * @since 0.1.0
 * @category deltas
 */
export const TextDelta = open({ type: Schema.Literal("text_delta"), text: Schema.String }).annotations({
  identifier: "TextDelta"
})

/**
 * A piece of a tool input's JSON; the pieces concatenate to the input.
 *
 * @since 0.1.0
 * @category deltas
 */
export const InputJsonDelta = open({ type: Schema.Literal("input_json_delta"), partial_json: Schema.String })
  .annotations({ identifier: "InputJsonDelta" })

/**
 * @since 0.1.0
 * @category deltas
 */
export const ThinkingDelta = open({ type: Schema.Literal("thinking_delta"), thinking: Schema.String }).annotations({
  identifier: "ThinkingDelta"
})

/**
 * @since 0.1.0
 * @category deltas
 */
export const SignatureDelta = open({ type: Schema.Literal("signature_delta"), signature: Schema.String })
  .annotations({ identifier: "SignatureDelta" })

/**
 * One citation to append to a text block's `citations`.
 *
 * @since 0.1.0
 * @category deltas
 */
export const CitationsDelta = open({ type: Schema.Literal("citations_delta"), citation: Citation }).annotations({
  identifier: "CitationsDelta"
})

/**
 * A delta of a type this version does not know: `{ type: "unknown", raw }`.
 *
 * @since 0.1.0
 * @category deltas
 */
export const UnknownDelta: Schema.Schema<Unknown, UnknownObject> = unknownMember(
  ["text_delta", "input_json_delta", "thinking_delta", "signature_delta", "citations_delta"],
  "delta",
  "UnknownDelta"
)

/**
 * @since 0.1.0
 * @category deltas
 */
export const ContentBlockDelta = typeUnion(
  TextDelta,
  InputJsonDelta,
  ThinkingDelta,
  SignatureDelta,
  CitationsDelta,
  UnknownDelta
).annotations({ identifier: "ContentBlockDelta" })

/**
 * @since 0.1.0
 * @category deltas
 */
export type ContentBlockDelta = typeof ContentBlockDelta.Type

const Index = Schema.NonNegativeInt.annotations({ arbitrary: () => (fc) => fc.nat(16) })

/**
 * `message_start`: the message with empty content and `stop_reason: null`.
 *
 * @since 0.1.0
 * @category events
 */
export const MessageStartEvent = open({ type: Schema.Literal("message_start"), message: Message }).annotations({
  identifier: "MessageStartEvent"
})

/**
 * @since 0.1.0
 * @category events
 */
export const ContentBlockStartEvent = open({
  type: Schema.Literal("content_block_start"),
  index: Index,
  content_block: ContentBlock
}).annotations({ identifier: "ContentBlockStartEvent" })

/**
 * @since 0.1.0
 * @category events
 */
export const ContentBlockDeltaEvent = open({
  type: Schema.Literal("content_block_delta"),
  index: Index,
  delta: ContentBlockDelta
}).annotations({ identifier: "ContentBlockDeltaEvent" })

/**
 * @since 0.1.0
 * @category events
 */
export const ContentBlockStopEvent = open({ type: Schema.Literal("content_block_stop"), index: Index }).annotations({
  identifier: "ContentBlockStopEvent"
})

/**
 * `usage` of a `message_delta`: cumulative counts, `output_tokens` always.
 *
 * @since 0.1.0
 * @category events
 */
export const MessageDeltaUsage = open({
  output_tokens: Count,
  input_tokens: optNull(Count),
  cache_creation_input_tokens: optNull(Count),
  cache_read_input_tokens: optNull(Count),
  server_tool_use: optNull(ServerToolUsage)
}).annotations({ identifier: "MessageDeltaUsage" })

/**
 * @since 0.1.0
 * @category events
 */
export type MessageDeltaUsage = typeof MessageDeltaUsage.Type

/**
 * `message_delta`: the final `stop_reason`, `stop_sequence`, `stop_details`
 * and the cumulative usage.
 *
 * @since 0.1.0
 * @category events
 */
export const MessageDeltaEvent = open({
  type: Schema.Literal("message_delta"),
  delta: open({
    stop_reason: optNull(StopReason),
    stop_sequence: optNull(Schema.String),
    stop_details: optNull(StopDetails)
  }),
  usage: MessageDeltaUsage
}).annotations({ identifier: "MessageDeltaEvent" })

/**
 * @since 0.1.0
 * @category events
 */
export const MessageStopEvent = open({ type: Schema.Literal("message_stop") }).annotations({
  identifier: "MessageStopEvent"
})

/**
 * @since 0.1.0
 * @category events
 */
export const PingEvent = open({ type: Schema.Literal("ping") }).annotations({ identifier: "PingEvent" })

/**
 * The `error` object of an error event or error body: `{ type, message }`.
 *
 * @since 0.1.0
 * @category events
 */
export const ErrorObject = open({ type: Schema.String, message: Schema.String }).annotations({
  identifier: "ErrorObject"
})

/**
 * @since 0.1.0
 * @category events
 */
export type ErrorObject = typeof ErrorObject.Type

/**
 * `error`: the API failed mid-stream (e.g. `overloaded_error`). The client
 * turns it into the same `ApiError` tags as an HTTP error.
 *
 * @since 0.1.0
 * @category events
 */
export const ErrorEvent = open({ type: Schema.Literal("error"), error: ErrorObject }).annotations({
  identifier: "ErrorEvent"
})

/**
 * The `type`s of the documented stream events.
 *
 * @since 0.1.0
 * @category constants
 */
export const knownEventTypes = [
  "message_start",
  "content_block_start",
  "content_block_delta",
  "content_block_stop",
  "message_delta",
  "message_stop",
  "ping",
  "error"
] as const

/**
 * An event of a type this version does not know: `{ type: "unknown", raw }`.
 *
 * @since 0.1.0
 * @category events
 */
export const UnknownEvent: Schema.Schema<Unknown, UnknownObject> = unknownMember(
  knownEventTypes,
  "stream event",
  "UnknownEvent"
)

/**
 * One server-sent event of `POST /v1/messages` with `stream: true` (the
 * `data` field, parsed).
 *
 * @since 0.1.0
 * @category events
 */
export const MessageStreamEvent = typeUnion(
  MessageStartEvent,
  ContentBlockStartEvent,
  ContentBlockDeltaEvent,
  ContentBlockStopEvent,
  MessageDeltaEvent,
  MessageStopEvent,
  PingEvent,
  ErrorEvent,
  UnknownEvent
).annotations({ identifier: "MessageStreamEvent" })

/**
 * @since 0.1.0
 * @category events
 */
export type MessageStreamEvent = typeof MessageStreamEvent.Type

// ---------------------------------------------------------------------------
// Message Batches
// ---------------------------------------------------------------------------

/**
 * `processing_status`: `in_progress`, `canceling`, `ended`, or a newer value.
 *
 * @since 0.1.0
 * @category batches
 */
export const ProcessingStatus = Schema.Union(Schema.Literal("in_progress", "canceling", "ended"), Schema.String)

/**
 * Requests of a batch by status.
 *
 * @since 0.1.0
 * @category batches
 */
export const RequestCounts = open({
  processing: Count,
  succeeded: Count,
  errored: Count,
  canceled: Count,
  expired: Count
}).annotations({ identifier: "RequestCounts" })

const nullableTime = Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null })

/**
 * A Message Batch. Times are RFC 3339 strings; those not reached yet are
 * `null` (also when absent).
 *
 * @since 0.1.0
 * @category batches
 */
export const MessageBatch = open({
  id: Schema.String,
  type: Schema.Literal("message_batch"),
  processing_status: ProcessingStatus,
  request_counts: RequestCounts,
  created_at: Schema.String,
  expires_at: Schema.String,
  ended_at: nullableTime,
  archived_at: nullableTime,
  cancel_initiated_at: nullableTime,
  results_url: nullableTime
}).annotations({ identifier: "MessageBatch" })

/**
 * @since 0.1.0
 * @category batches
 */
export type MessageBatch = typeof MessageBatch.Type

/**
 * A page of `GET /v1/messages/batches`.
 *
 * @since 0.1.0
 * @category batches
 */
export const MessageBatchList = open({
  data: Schema.Array(MessageBatch),
  has_more: Schema.Boolean,
  first_id: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  last_id: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null })
}).annotations({ identifier: "MessageBatchList" })

/**
 * @since 0.1.0
 * @category batches
 */
export type MessageBatchList = typeof MessageBatchList.Type

/**
 * The response of `DELETE /v1/messages/batches/{id}`.
 *
 * @since 0.1.0
 * @category batches
 */
export const DeletedMessageBatch = open({
  id: Schema.String,
  type: Schema.Literal("message_batch_deleted")
}).annotations({ identifier: "DeletedMessageBatch" })

/**
 * @since 0.1.0
 * @category batches
 */
export type DeletedMessageBatch = typeof DeletedMessageBatch.Type

/**
 * @since 0.1.0
 * @category batches
 */
export const SucceededResult = open({ type: Schema.Literal("succeeded"), message: Message }).annotations({
  identifier: "SucceededResult"
})

/**
 * `error` is the API's error body, `{ type: "error", error: { type, message },
 * request_id? }` (see `ApiError.ErrorBody`).
 *
 * @since 0.1.0
 * @category batches
 */
export const ErroredResult = open({ type: Schema.Literal("errored"), error: ApiError.ErrorBody }).annotations({
  identifier: "ErroredResult"
})

/**
 * @since 0.1.0
 * @category batches
 */
export const CanceledResult = open({ type: Schema.Literal("canceled") }).annotations({ identifier: "CanceledResult" })

/**
 * @since 0.1.0
 * @category batches
 */
export const ExpiredResult = open({ type: Schema.Literal("expired") }).annotations({ identifier: "ExpiredResult" })

/**
 * A result of a type this version does not know: `{ type: "unknown", raw }`.
 *
 * @since 0.1.0
 * @category batches
 */
export const UnknownResult: Schema.Schema<Unknown, UnknownObject> = unknownMember(
  ["succeeded", "errored", "canceled", "expired"],
  "batch result",
  "UnknownResult"
)

/**
 * @since 0.1.0
 * @category batches
 */
export const MessageBatchResult = typeUnion(
  SucceededResult,
  ErroredResult,
  CanceledResult,
  ExpiredResult,
  UnknownResult
).annotations({ identifier: "MessageBatchResult" })

/**
 * @since 0.1.0
 * @category batches
 */
export type MessageBatchResult = typeof MessageBatchResult.Type

/**
 * One line of a batch's results (JSONL): `{ custom_id, result }`.
 *
 * @since 0.1.0
 * @category batches
 */
export const MessageBatchIndividualResponse = open({
  custom_id: Schema.String,
  result: MessageBatchResult
}).annotations({ identifier: "MessageBatchIndividualResponse" })

/**
 * @since 0.1.0
 * @category batches
 */
export type MessageBatchIndividualResponse = typeof MessageBatchIndividualResponse.Type

// ---------------------------------------------------------------------------
// decoders and encoders (total: a malformed input is a ParseError)
// ---------------------------------------------------------------------------

/**
 * @since 0.1.0
 * @category decoding
 */
export const decodeMessage = Schema.decodeUnknown(Message)

/**
 * @since 0.1.0
 * @category decoding
 */
export const decodeMessageStreamEvent = Schema.decodeUnknown(MessageStreamEvent)

/**
 * Decodes an SSE `data` field (JSON text) to an event.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeMessageStreamEventJson = Schema.decodeUnknown(Schema.parseJson(MessageStreamEvent))

/**
 * @since 0.1.0
 * @category decoding
 */
export const decodeCountTokensResponse = Schema.decodeUnknown(CountTokensResponse)

/**
 * @since 0.1.0
 * @category decoding
 */
export const decodeMessageBatch = Schema.decodeUnknown(MessageBatch)

/**
 * @since 0.1.0
 * @category decoding
 */
export const decodeMessageBatchList = Schema.decodeUnknown(MessageBatchList)

/**
 * @since 0.1.0
 * @category decoding
 */
export const decodeDeletedMessageBatch = Schema.decodeUnknown(DeletedMessageBatch)

/**
 * @since 0.1.0
 * @category decoding
 */
export const decodeMessageBatchIndividualResponse = Schema.decodeUnknown(MessageBatchIndividualResponse)

/**
 * Decodes one line of a batch's results JSONL.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeMessageBatchIndividualResponseJson = Schema.decodeUnknown(
  Schema.parseJson(MessageBatchIndividualResponse)
)

/**
 * @since 0.1.0
 * @category decoding
 */
export const decodeMessageCreateParams = Schema.decodeUnknown(MessageCreateParams)

/**
 * @since 0.1.0
 * @category decoding
 */
export const decodeCountTokensParams = Schema.decodeUnknown(CountTokensParams)

/**
 * @since 0.1.0
 * @category decoding
 */
export const decodeBatchCreateParams = Schema.decodeUnknown(BatchCreateParams)

/**
 * Validates params and gives their wire form (the JSON body to send).
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeMessageCreateParams = Schema.encode(MessageCreateParams)

/**
 * @since 0.1.0
 * @category encoding
 */
export const encodeCountTokensParams = Schema.encode(CountTokensParams)

/**
 * @since 0.1.0
 * @category encoding
 */
export const encodeBatchCreateParams = Schema.encode(BatchCreateParams)

/**
 * @since 0.1.0
 * @category encoding
 */
export const encodeMessage = Schema.encode(Message)

/**
 * @since 0.1.0
 * @category encoding
 */
export const encodeMessageStreamEvent = Schema.encode(MessageStreamEvent)

// ---------------------------------------------------------------------------
// accumulating a stream into its Message
// ---------------------------------------------------------------------------

/**
 * A stream ended (or stopped with an `error` event) before it was complete:
 * `missing` says which event never came, `events` how many did arrive. The
 * client fails a stream with it when the body ends before `message_stop`.
 *
 * @since 0.1.0
 * @category errors
 */
export class IncompleteStreamError extends Schema.TaggedError<IncompleteStreamError>()("IncompleteStreamError", {
  message: Schema.String,
  /** How many events arrived. */
  events: Schema.Number,
  /** The event that never came. */
  missing: Schema.Literal("message_start", "message_stop"),
  /** The `type` of the last event that arrived. */
  lastEventType: Schema.Option(Schema.String),
  /** The `error` event that ended the stream, if one did. */
  streamError: Schema.Option(ErrorObject)
}) {}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`

/**
 * Builds an {@link IncompleteStreamError} with its message.
 *
 * @example
 * ```ts
 * import { Messages } from "claude-resilience"
 *
 * Messages.incompleteStreamError({ events: 7, missing: "message_stop", lastEventType: "content_block_delta" }).message
 * // "The stream ended after 7 events (last event: content_block_delta) without message_stop"
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const incompleteStreamError = (options: {
  readonly events: number
  readonly missing: "message_start" | "message_stop"
  readonly lastEventType?: string | undefined
  readonly streamError?: ErrorObject | undefined
}): IncompleteStreamError => {
  const last = options.lastEventType === undefined ? "" : ` (last event: ${options.lastEventType})`
  const head = options.events === 0
    ? `The stream ended before any event arrived, without ${options.missing}`
    : `The stream ended after ${plural(options.events, "event")}${last} without ${options.missing}`
  const error = options.streamError === undefined
    ? ""
    : `: it carried an error event (${options.streamError.type}: ${options.streamError.message})`
  return new IncompleteStreamError({
    message: `${head}${error}`,
    events: options.events,
    missing: options.missing,
    lastEventType: Option.fromNullable(options.lastEventType),
    streamError: Option.fromNullable(options.streamError)
  })
}

/**
 * The `input_json_delta` pieces of a tool call did not concatenate to valid
 * JSON.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidToolInputError extends Schema.TaggedError<InvalidToolInputError>()("InvalidToolInputError", {
  message: Schema.String,
  /** The content block's index. */
  index: Schema.Number,
  /** The block's type (`tool_use`, `server_tool_use`, …). */
  blockType: Schema.String,
  /** The block's `id`. */
  toolUseId: Schema.Option(Schema.String),
  /** The tool's `name`. */
  toolName: Schema.Option(Schema.String),
  /** How many characters of JSON arrived. */
  length: Schema.Number,
  /** Why the JSON did not parse. */
  reason: Schema.String
}) {}

/**
 * The events broke the stream's grammar: a delta for a block that never
 * started, a delta of the wrong kind for its block, content before
 * `message_start`, …
 *
 * @since 0.1.0
 * @category errors
 */
export class StreamProtocolError extends Schema.TaggedError<StreamProtocolError>()("StreamProtocolError", {
  message: Schema.String,
  /** The offending event's position in the stream, from 1. */
  event: Schema.Number,
  eventType: Schema.String,
  reason: Schema.String
}) {}

/**
 * Why a stream did not accumulate to a `Message`.
 *
 * @since 0.1.0
 * @category errors
 */
export type AccumulateError = IncompleteStreamError | InvalidToolInputError | StreamProtocolError

/**
 * A content block being streamed: the block so far, the JSON of its input so
 * far (parsed at its `content_block_stop`) and whether it stopped.
 *
 * @since 0.1.0
 * @category accumulator
 */
export interface PartialBlock {
  readonly block: ContentBlock
  readonly json: string
  readonly stopped: boolean
}

/**
 * The state of the fold over a stream's events. Plain data: each step returns
 * a new state and never mutates the old one.
 *
 * @since 0.1.0
 * @category accumulator
 */
export interface Accumulator {
  /** How many events arrived. */
  readonly events: number
  /** The `type` of the last event applied (the wire type, for unknown events). */
  readonly lastEventType: Option.Option<string>
  /** `message_start`'s message, `message_delta`s applied (content is in `blocks`). */
  readonly message: Option.Option<Message>
  readonly blocks: ReadonlyArray<PartialBlock>
  /** `message_stop` arrived. */
  readonly stopped: boolean
  /** An `error` event arrived; later events are ignored. */
  readonly streamError: Option.Option<ErrorObject>
  /** The stream cannot accumulate; later events are ignored. */
  readonly failure: Option.Option<InvalidToolInputError | StreamProtocolError>
}

/**
 * The state before any event.
 *
 * @since 0.1.0
 * @category accumulator
 */
export const initial: Accumulator = {
  events: 0,
  lastEventType: Option.none(),
  message: Option.none(),
  blocks: [],
  stopped: false,
  streamError: Option.none(),
  failure: Option.none()
}

/**
 * The wire `type` of an event (an unknown event's own type).
 *
 * @since 0.1.0
 * @category accumulator
 */
export const eventType = (event: MessageStreamEvent): string => event.type === "unknown" ? event.raw.type : event.type

const blockType = (block: ContentBlock): string => block.type === "unknown" ? block.raw.type : block.type

const withRaw = (p: PartialBlock, raw: UnknownObject): PartialBlock => ({
  ...p,
  block: { type: "unknown", raw }
})

const appendRawString = (
  p: PartialBlock,
  raw: UnknownObject,
  field: string,
  text: string,
  replace: boolean
): Either.Either<PartialBlock, string> => {
  const current = raw[field]
  if (current !== undefined && current !== null && typeof current !== "string") {
    return Either.left(`its ${field} is not a string`)
  }
  return Either.right(withRaw(p, { ...raw, [field]: replace || current == null ? text : current + text }))
}

const applyDelta = (p: PartialBlock, delta: ContentBlockDelta): Either.Either<PartialBlock, string> => {
  const block = p.block
  switch (delta.type) {
    case "text_delta":
      if (block.type === "text") return Either.right({ ...p, block: { ...block, text: block.text + delta.text } })
      if (block.type === "unknown") return appendRawString(p, block.raw, "text", delta.text, false)
      break
    case "thinking_delta":
      if (block.type === "thinking") {
        return Either.right({ ...p, block: { ...block, thinking: block.thinking + delta.thinking } })
      }
      if (block.type === "unknown") return appendRawString(p, block.raw, "thinking", delta.thinking, false)
      break
    case "signature_delta":
      if (block.type === "thinking") return Either.right({ ...p, block: { ...block, signature: delta.signature } })
      if (block.type === "unknown") return appendRawString(p, block.raw, "signature", delta.signature, true)
      break
    case "citations_delta":
      if (block.type === "text") {
        return Either.right({ ...p, block: { ...block, citations: [...(block.citations ?? []), delta.citation] } })
      }
      if (block.type === "unknown") {
        const current = block.raw.citations
        if (current !== undefined && current !== null && !Array.isArray(current)) {
          return Either.left("its citations are not an array")
        }
        return Either.right(withRaw(p, { ...block.raw, citations: [...(current ?? []), delta.citation] }))
      }
      break
    case "input_json_delta":
      if (block.type === "tool_use" || block.type === "server_tool_use" || block.type === "unknown") {
        return Either.right({ ...p, json: p.json + delta.partial_json })
      }
      break
    case "unknown":
      // a newer kind of delta: nothing this version can apply
      return Either.right(p)
  }
  return Either.left(`a ${delta.type} cannot apply to a ${blockType(block)} block`)
}

const parseJson = (json: string): Either.Either<unknown, string> =>
  Either.try({
    try: (): unknown => JSON.parse(json),
    catch: (error) => {
      const reason = error instanceof Error ? error.message : "not valid JSON"
      return reason.length > 200 ? `${reason.slice(0, 200)}…` : reason
    }
  })

const stringField = (raw: UnknownObject, field: string): Option.Option<string> => {
  const value = raw[field]
  return typeof value === "string" ? Option.some(value) : Option.none()
}

/** Parses a block's input JSON, if any arrived, into its `input`. */
const finalizeBlock = (p: PartialBlock, index: number): Either.Either<PartialBlock, InvalidToolInputError> => {
  if (p.json.length === 0) return Either.right(p.stopped ? p : { ...p, stopped: true })
  const block = p.block
  return Either.match(parseJson(p.json), {
    onLeft: (reason) => {
      const id = block.type === "unknown" ? stringField(block.raw, "id") : "id" in block ? Option.some(block.id) : Option.none()
      const name = block.type === "unknown"
        ? stringField(block.raw, "name")
        : "name" in block
        ? Option.some(block.name)
        : Option.none()
      const who = [Option.getOrUndefined(name), Option.getOrUndefined(id)].filter((s) => s !== undefined).join(", ")
      return Either.left(
        new InvalidToolInputError({
          message: `The input of ${blockType(block)} block ${index}${who ? ` (${who})` : ""} is not valid JSON after ${
            plural(p.json.length, "character")
          } of input_json_delta: ${reason}`,
          index,
          blockType: blockType(block),
          toolUseId: id,
          toolName: name,
          length: p.json.length,
          reason
        })
      )
    },
    onRight: (input): Either.Either<PartialBlock, InvalidToolInputError> => {
      const done = { json: "", stopped: true }
      if (block.type === "tool_use" || block.type === "server_tool_use") {
        return Either.right({ ...done, block: { ...block, input } })
      }
      if (block.type === "unknown") return Either.right({ ...done, block: { type: "unknown", raw: { ...block.raw, input } } })
      return Either.right({ ...p, ...done })
    }
  })
}

const mergeUsage = (usage: Usage, delta: MessageDeltaUsage): Usage => {
  const merged: Record<string, unknown> = { ...usage }
  // message_delta counts are cumulative: a present count replaces the earlier one
  for (const [key, value] of Object.entries(delta)) {
    if (value !== null && value !== undefined) merged[key] = value
  }
  return merged as Usage
}

const replaceAt = <A>(items: ReadonlyArray<A>, index: number, item: A): ReadonlyArray<A> => {
  const copy = items.slice()
  copy[index] = item
  return copy
}

const step = (self: Accumulator, event: MessageStreamEvent): Accumulator => {
  if (Option.isSome(self.failure) || Option.isSome(self.streamError) || self.stopped) {
    return { ...self, events: self.events + 1 }
  }
  const type = eventType(event)
  const counted: Accumulator = { ...self, events: self.events + 1, lastEventType: Option.some(type) }
  const violation = (reason: string): Accumulator => ({
    ...counted,
    failure: Option.some(
      new StreamProtocolError({
        message: `Stream protocol violation at event ${counted.events} (${type}): ${reason}`,
        event: counted.events,
        eventType: type,
        reason
      })
    )
  })
  switch (event.type) {
    case "message_start":
      if (Option.isSome(self.message)) return violation("a second message_start")
      return {
        ...counted,
        message: Option.some(event.message),
        blocks: event.message.content.map((block) => ({ block, json: "", stopped: true }))
      }
    case "content_block_start": {
      if (Option.isNone(self.message)) return violation("content_block_start before message_start")
      if (event.index > self.blocks.length) {
        return violation(
          `content_block_start for index ${event.index} while ${plural(self.blocks.length, "block")} exist: blocks start in order`
        )
      }
      return {
        ...counted,
        blocks: replaceAt(self.blocks, event.index, { block: event.content_block, json: "", stopped: false })
      }
    }
    case "content_block_delta": {
      const current = self.blocks[event.index]
      if (current === undefined) return violation(`a delta for block ${event.index}, which never started`)
      if (current.stopped) return violation(`a delta for block ${event.index} after its content_block_stop`)
      return Either.match(applyDelta(current, event.delta), {
        onLeft: (reason) => violation(`block ${event.index}: ${reason}`),
        onRight: (block) => ({ ...counted, blocks: replaceAt(self.blocks, event.index, block) })
      })
    }
    case "content_block_stop": {
      const current = self.blocks[event.index]
      if (current === undefined) return violation(`content_block_stop for block ${event.index}, which never started`)
      return Either.match(finalizeBlock(current, event.index), {
        onLeft: (error) => ({ ...counted, failure: Option.some(error) }),
        onRight: (block) => ({ ...counted, blocks: replaceAt(self.blocks, event.index, block) })
      })
    }
    case "message_delta": {
      if (Option.isNone(self.message)) return violation("message_delta before message_start")
      const message = self.message.value
      return {
        ...counted,
        message: Option.some({ ...message, ...event.delta, usage: mergeUsage(message.usage, event.usage) })
      }
    }
    case "message_stop":
      if (Option.isNone(self.message)) return violation("message_stop before message_start")
      return { ...counted, stopped: true }
    case "error":
      return { ...counted, streamError: Option.some(event.error) }
    case "ping":
    case "unknown":
      return counted
  }
}

/**
 * One step of the fold: the state after `event`. Pure. Once the state has a
 * `failure`, a `streamError` or has `stopped`, later events are only counted
 * (in `events`, not in `lastEventType`).
 *
 * - `message_start` sets the message; `content_block_start` opens block
 *   `index` (in order); deltas apply to their block: `text_delta` appends to
 *   `text`, `thinking_delta` to `thinking`, `signature_delta` sets
 *   `signature`, `citations_delta` appends to `citations`, `input_json_delta`
 *   pieces concatenate and are parsed into `input` at `content_block_stop`;
 *   deltas of unknown kinds are skipped, and unknown blocks take deltas into
 *   their `raw` fields.
 * - `message_delta` sets `stop_reason`, `stop_sequence`, `stop_details` (and
 *   any other field it carries) and replaces the usage counts it carries
 *   (they are cumulative).
 *
 * @since 0.1.0
 * @category accumulator
 */
export const accumulate: {
  (event: MessageStreamEvent): (self: Accumulator) => Accumulator
  (self: Accumulator, event: MessageStreamEvent): Accumulator
} = dual(2, step)

/**
 * The message so far: `message_start`'s message with the blocks streamed so
 * far (tool inputs still as they started). `None` before `message_start`.
 *
 * @since 0.1.0
 * @category accumulator
 */
export const snapshot = (self: Accumulator): Option.Option<Message> =>
  Option.map(self.message, (message) => ({ ...message, content: self.blocks.map((p) => p.block) }))

/**
 * The final `Message`, or why there is none: the stream's `failure`, else an
 * {@link IncompleteStreamError} when `message_start` or `message_stop` never
 * came (an `error` event included), else an {@link InvalidToolInputError} if
 * a block that never stopped holds invalid input JSON.
 *
 * @since 0.1.0
 * @category accumulator
 */
export const finish = (self: Accumulator): Either.Either<Message, AccumulateError> => {
  if (Option.isSome(self.failure)) return Either.left(self.failure.value)
  const incomplete = (missing: "message_start" | "message_stop") =>
    Either.left(incompleteStreamError({
      events: self.events,
      missing,
      lastEventType: Option.getOrUndefined(self.lastEventType),
      streamError: Option.getOrUndefined(self.streamError)
    }))
  if (Option.isNone(self.message)) return incomplete("message_start")
  if (!self.stopped) return incomplete("message_stop")
  const content: Array<ContentBlock> = []
  for (let index = 0; index < self.blocks.length; index++) {
    const done = finalizeBlock(self.blocks[index]!, index)
    if (Either.isLeft(done)) return Either.left(done.left)
    content.push(done.right.block)
  }
  return Either.right({ ...self.message.value, content })
}

/**
 * Folds a whole sequence of events: `finish` of every `accumulate`.
 *
 * @since 0.1.0
 * @category accumulator
 */
export const fromEvents = (events: Iterable<MessageStreamEvent>): Either.Either<Message, AccumulateError> => {
  let state = initial
  for (const event of events) {
    state = step(state, event)
    if (Option.isSome(state.failure)) break
  }
  return finish(state)
}

/**
 * The fold as a `Sink`: consumes events until the end of the stream (or the
 * first failure) and gives the final `Message`.
 *
 * @example
 * ```ts
 * import { Messages } from "claude-resilience"
 * import { Stream } from "effect"
 *
 * declare const events: Stream.Stream<Messages.MessageStreamEvent>
 * const message = Stream.run(events, Messages.sink)
 * ```
 *
 * @since 0.1.0
 * @category accumulator
 */
export const sink: Sink.Sink<Message, MessageStreamEvent, MessageStreamEvent, AccumulateError> = Sink.fold(
  initial,
  (state: Accumulator) => Option.isNone(state.failure),
  step
).pipe(Sink.mapEffect(finish))
