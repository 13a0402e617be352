/**
 * Tool inputs checked against the caller's `Schema`: the `input` of a
 * `tool_use` block is JSON the model wrote, not a value of the tool's type
 * until it is decoded. {@link decodeToolInputs} gives the decoded calls of
 * one tool; {@link validateToolInput} checks them in a pipeline. An input
 * that does not match fails with {@link ToolInputSchemaError}, naming the
 * tool, the `tool_use` id and the path of the failing field.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { clip, formatPath as writePath, quote, whose } from "./internal/text.js"
import type * as Messages from "./Messages.js"

// ---------------------------------------------------------------------------
// errors
// ---------------------------------------------------------------------------

/**
 * A `tool_use` block's `input` does not match the caller's `Schema` for that
 * tool. `path` is where it fails inside the input (`[]` for the input
 * itself), `field` the same path written out (`input.location.city`).
 *
 * Its tag differs from `MessageAccumulator.InvalidToolInputError` (input JSON that did
 * not parse while streaming), so the two never merge in a `catchTag`.
 *
 * It is one of the `Semantic.SemanticError`s: a successful response that is
 * not the answer the caller accepts.
 *
 * @since 0.1.0
 * @category errors
 */
export class ToolInputSchemaError extends Schema.TaggedError<ToolInputSchemaError>()("ToolInputSchemaError", {
  message: Schema.String,
  messageId: Schema.String,
  model: Schema.String,
  toolName: Schema.String,
  toolUseId: Schema.String,
  /** The block's index in `content`. */
  index: Schema.Number,
  path: Schema.Array(Schema.Union(Schema.String, Schema.Number)),
  field: Schema.String,
  /** The schema's complaint, in full. */
  reason: Schema.String
}) {}

// ---------------------------------------------------------------------------
// tool inputs
// ---------------------------------------------------------------------------

/**
 * One call of a client tool, its input decoded by the caller's Schema.
 *
 * @since 0.1.0
 * @category tool inputs
 */
export interface ToolCall<A> {
  readonly id: string
  readonly name: string
  readonly input: A
  /** The block's index in `content`. */
  readonly index: number
}

/**
 * A path inside a tool input, written out: `input`, `input.location.city`,
 * `input.days[2]`, `input["first name"]`.
 *
 * @example
 * ```ts
 * import { ToolInput } from "claude-resilience"
 *
 * ToolInput.formatPath(["location", "city"]) // "input.location.city"
 * ToolInput.formatPath(["days", 2]) // "input.days[2]"
 * ```
 *
 * @since 0.1.0
 * @category tool inputs
 */
export const formatPath = (path: ReadonlyArray<string | number>): string => writePath(path, "input")

const toKey = (key: PropertyKey): string | number => (typeof key === "symbol" ? String(key) : key)

const inputError = (
  message: Messages.Message,
  block: Messages.ToolUseBlock,
  index: number,
  error: ParseResult.ParseError
): ToolInputSchemaError => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const first = issues[0]
  const path = (first?.path ?? []).map(toKey)
  const field = formatPath(path)
  const reason = ParseResult.TreeFormatter.formatErrorSync(error)
  return new ToolInputSchemaError({
    message: `The input of tool ${quote(block.name)} (tool_use ${quote(block.id)}, ${
      whose(message)
    }) does not match its schema at ${field}: ${clip(first?.message ?? reason, 300)}`,
    messageId: message.id,
    model: message.model,
    toolName: block.name,
    toolUseId: block.id,
    index,
    path,
    field,
    reason
  }, true)
}

/**
 * Decodes the input of every `tool_use` block named `toolName` with
 * `schema`, in order. The first input that does not match fails with
 * {@link ToolInputSchemaError} (the tool, the `tool_use` id and the path of
 * the failing field). No block of that name: an empty array.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { ToolInput, type Messages } from "claude-resilience"
 *
 * const Weather = Schema.Struct({ city: Schema.String, days: Schema.Number })
 * declare const message: Messages.Message
 * const calls = ToolInput.decodeToolInputs(message, "get_weather", Weather)
 * // Effect<ReadonlyArray<ToolCall<{ city: string; days: number }>>, ToolInputSchemaError>
 * ```
 *
 * @since 0.1.0
 * @category tool inputs
 */
export const decodeToolInputs: {
  <A, I, R>(
    toolName: string,
    schema: Schema.Schema<A, I, R>
  ): (message: Messages.Message) => Effect.Effect<ReadonlyArray<ToolCall<A>>, ToolInputSchemaError, R>
  <A, I, R>(
    message: Messages.Message,
    toolName: string,
    schema: Schema.Schema<A, I, R>
  ): Effect.Effect<ReadonlyArray<ToolCall<A>>, ToolInputSchemaError, R>
} = dual(3, <A, I, R>(
  message: Messages.Message,
  toolName: string,
  schema: Schema.Schema<A, I, R>
): Effect.Effect<ReadonlyArray<ToolCall<A>>, ToolInputSchemaError, R> => {
  const decode = Schema.decodeUnknown(schema)
  const blocks = message.content.flatMap((block, index) =>
    block.type === "tool_use" && block.name === toolName ? [{ block, index }] : []
  )
  return Effect.forEach(blocks, ({ block, index }) =>
    decode(block.input).pipe(
      Effect.mapError((error) => inputError(message, block, index, error)),
      Effect.map((input): ToolCall<A> => ({ id: block.id, name: block.name, input, index }))
    ))
})

/**
 * Checks the input of every `tool_use` block named `toolName` against
 * `schema` (see {@link decodeToolInputs}) and succeeds with the message
 * unchanged, or fails with {@link ToolInputSchemaError}.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Claude, Semantic, ToolInput } from "claude-resilience"
 *
 * const Weather = Schema.Struct({ city: Schema.String })
 * const params = { model: "claude-sonnet-5-5", max_tokens: 512, messages: [{ role: "user" as const, content: "Weather in Paris?" }] }
 * const checked = Effect.flatMap(Claude.Claude, (claude) =>
 *   claude.messages.create(params).pipe(
 *     Semantic.requireComplete(),
 *     ToolInput.validateToolInput("get_weather", Weather)
 *   ))
 * ```
 *
 * @since 0.1.0
 * @category tool inputs
 */
export const validateToolInput: {
  <A, I, R2>(
    toolName: string,
    schema: Schema.Schema<A, I, R2>
  ): <E, R>(
    self: Effect.Effect<Messages.Message, E, R>
  ) => Effect.Effect<Messages.Message, E | ToolInputSchemaError, R | R2>
  <E, R, A, I, R2>(
    self: Effect.Effect<Messages.Message, E, R>,
    toolName: string,
    schema: Schema.Schema<A, I, R2>
  ): Effect.Effect<Messages.Message, E | ToolInputSchemaError, R | R2>
} = dual(3, <E, R, A, I, R2>(
  self: Effect.Effect<Messages.Message, E, R>,
  toolName: string,
  schema: Schema.Schema<A, I, R2>
): Effect.Effect<Messages.Message, E | ToolInputSchemaError, R | R2> =>
  Effect.flatMap(self, (message) => Effect.as(decodeToolInputs(message, toolName, schema), message)))
