/**
 * Continuing a turn the API left unfinished: a turn paused in a server-tool
 * loop (`stop_reason: "pause_turn"`, {@link continuePaused}) and an answer
 * cut off at `max_tokens` ({@link continueTruncated}). Both send the turn so
 * far back as an assistant message, through the `Claude` service in the
 * context, until the turn ends or `maxContinuations` follow-ups were sent,
 * and succeed with the whole turn merged into one `Message`. The only part
 * of the semantic layer that sends requests.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { dual } from "effect/Function"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Claude from "./Claude.js"
import { boolean, decodeOptions, number } from "./internal/options.js"
import { quote } from "./internal/text.js"
import type * as Messages from "./Messages.js"
import type * as OptionsModule from "./Options.js"
import type * as Preflight from "./Preflight.js"
import * as Semantic from "./Semantic.js"

// ---------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------

/**
 * The options of {@link continuePaused} and {@link continueTruncated}:
 *
 * - `maxContinuations`: the most follow-up requests, an integer ≥ 0;
 *   absent: 5 for {@link continuePaused}, 3 for {@link continueTruncated}.
 * - `stream`: send the follow-ups with `messages.finalMessage` (streamed,
 *   then accumulated) instead of `messages.create`; default `false`.
 *
 * Decoded with every problem listed (a misspelt key included) into an
 * `Options.InvalidOptionsError` whose `module` is `"Continuation"`, before
 * any request is sent.
 *
 * @since 0.2.0
 * @category options
 */
export const Options = Schema.Struct({
  maxContinuations: Schema.optionalWith(number({ min: 0, max: Number.MAX_SAFE_INTEGER, integer: true }), {
    exact: true
  }),
  stream: Schema.optionalWith(boolean, { default: () => false, exact: true })
})

/**
 * What a caller writes: `{ maxContinuations?: number, stream?: boolean }`.
 *
 * @since 0.2.0
 * @category options
 */
export type Options = typeof Options.Encoded

/**
 * The options as the continuations run on them (`stream` filled in;
 * `maxContinuations` absent means the combinator's own default).
 *
 * @since 0.2.0
 * @category options
 */
export type Settings = typeof Options.Type

/**
 * Decodes continuation options into {@link Settings}, or an
 * `Options.InvalidOptionsError` (module `"Continuation"`) listing every
 * problem.
 *
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { Continuation } from "claude-resilience"
 *
 * Either.isLeft(Continuation.settings({ maxContinuations: -1 })) // true
 * Continuation.settings({ maxContinuations: 2 }) // Either.right({ maxContinuations: 2, stream: false })
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export const settings: (options?: Options) => Either.Either<Settings, OptionsModule.InvalidOptionsError> =
  decodeOptions("Continuation", Options)

// ---------------------------------------------------------------------------
// types
// ---------------------------------------------------------------------------

/**
 * Why a follow-up request failed: the client's errors.
 *
 * @since 0.1.0
 * @category models
 */
export type ContinuationError = Claude.StreamError | Preflight.LongRequestError

/**
 * The type of {@link continuePaused} and {@link continueTruncated}: a dual
 * combinator over an Effect that yields a `Message`. It keeps the input's
 * error and context, adds `Err` (the outcome still there when the
 * continuations run out), the follow-ups' {@link ContinuationError} and
 * `Options.InvalidOptionsError`, and needs `Claude.Claude` for the
 * follow-ups.
 *
 * @since 0.1.0
 * @category models
 */
export interface Continuation<Err> {
  (
    params: Messages.MessageCreateParams,
    options?: Options
  ): <E, R>(self: Effect.Effect<Messages.Message, E, R>) => Continued<Err, E, R>
  <E, R>(
    self: Effect.Effect<Messages.Message, E, R>,
    params: Messages.MessageCreateParams,
    options?: Options
  ): Continued<Err, E, R>
}

/** What a continuation of `self` (error `E`, context `R`) is. */
type Continued<Err, E, R> = Effect.Effect<
  Messages.Message,
  E | Err | ContinuationError | OptionsModule.InvalidOptionsError,
  R | Claude.Claude
>

// ---------------------------------------------------------------------------
// the turn told in several responses
// ---------------------------------------------------------------------------

/**
 * The assistant turn a follow-up sends: `content` with the trailing
 * whitespace of its last text block removed (the API rejects a final
 * assistant turn that ends with whitespace), and a last text block left
 * empty by that dropped, repeatedly.
 *
 * @example
 * ```ts
 * import { Continuation } from "claude-resilience"
 *
 * Continuation.assistantTurn([{ type: "text", text: "The quick brown " }])
 * // [{ type: "text", text: "The quick brown" }]
 * ```
 *
 * @since 0.1.0
 * @category continuations
 */
export const assistantTurn = (content: ReadonlyArray<Messages.ContentBlock>): ReadonlyArray<Messages.ContentBlock> => {
  const blocks = content.slice()
  while (blocks.length > 0) {
    const last = blocks[blocks.length - 1]!
    if (last.type !== "text") break
    const text = last.text.trimEnd()
    if (text.length === 0) {
      blocks.pop()
      continue
    }
    if (text.length !== last.text.length) blocks[blocks.length - 1] = { ...last, text }
    break
  }
  return blocks
}

const joinText = (first: Messages.TextBlock, second: Messages.TextBlock): Messages.TextBlock => {
  const joined: Messages.TextBlock = { ...first, text: first.text + second.text }
  if (first.citations == null && second.citations == null) return joined
  return { ...joined, citations: [...(first.citations ?? []), ...(second.citations ?? [])] }
}

/**
 * The content of one assistant turn told in two responses: `sent` (the
 * content sent back) followed by `next` (the follow-up's content). When
 * `sent` ends with a text block and `next` begins with one, they are joined
 * into one text block (texts concatenated, citations concatenated, the other
 * fields of the first kept); every other block is kept as is, in order.
 *
 * @example
 * ```ts
 * import { Continuation } from "claude-resilience"
 *
 * Continuation.appendContent([{ type: "text", text: "The quick brown" }], [{ type: "text", text: " fox." }])
 * // [{ type: "text", text: "The quick brown fox." }]
 * ```
 *
 * @since 0.1.0
 * @category continuations
 */
export const appendContent = (
  sent: ReadonlyArray<Messages.ContentBlock>,
  next: ReadonlyArray<Messages.ContentBlock>
): ReadonlyArray<Messages.ContentBlock> => {
  const last = sent[sent.length - 1]
  const first = next[0]
  if (last !== undefined && first !== undefined && last.type === "text" && first.type === "text") {
    return [...sent.slice(0, -1), joinText(last, first), ...next.slice(1)]
  }
  return [...sent, ...next]
}

type Count = number | null | undefined

/** Sums two optional counts: absent when both are absent, `null` when both are `null`/absent and one is `null`. */
const addCounts = (a: Count, b: Count): Count =>
  a == null && b == null ? (a === null || b === null ? null : undefined) : (a ?? 0) + (b ?? 0)

const sumFields = <T extends object>(a: T, b: T, fields: ReadonlyArray<keyof T & string>): T => {
  const out: Record<string, unknown> = Object.assign({}, a, b) as Record<string, unknown>
  for (const field of fields) {
    const sum = addCounts(a[field] as Count, b[field] as Count)
    if (sum === undefined) delete out[field]
    else out[field] = sum
  }
  return out as T
}

const sumNested = <T extends object>(
  a: T | null | undefined,
  b: T | null | undefined,
  fields: ReadonlyArray<keyof T & string>
): T | null | undefined => {
  if (a == null && b == null) return a === null || b === null ? null : undefined
  return sumFields(a ?? ({} as T), b ?? ({} as T), fields)
}

/**
 * The usage of two responses of one turn: every token and request count
 * summed (`input_tokens`, `output_tokens`, `cache_creation_input_tokens`,
 * `cache_read_input_tokens`, `cache_creation.ephemeral_5m_input_tokens`,
 * `cache_creation.ephemeral_1h_input_tokens`,
 * `server_tool_use.web_search_requests`, `server_tool_use.web_fetch_requests`;
 * a count absent from both stays absent, `null` in one and absent or `null`
 * in the other stays `null`); any other field (`service_tier`, fields this
 * version does not name) is the second's, else the first's.
 *
 * @example
 * ```ts
 * import { Continuation } from "claude-resilience"
 *
 * Continuation.sumUsage({ input_tokens: 100, output_tokens: 20 }, { input_tokens: 150, output_tokens: 30 })
 * // { input_tokens: 250, output_tokens: 50 }
 * ```
 *
 * @since 0.1.0
 * @category continuations
 */
export const sumUsage = (a: Messages.Usage, b: Messages.Usage): Messages.Usage => {
  const out: Record<string, unknown> = sumFields(a, b, [
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens"
  ])
  const cacheCreation = sumNested(a.cache_creation, b.cache_creation, [
    "ephemeral_5m_input_tokens",
    "ephemeral_1h_input_tokens"
  ])
  if (cacheCreation === undefined) delete out.cache_creation
  else out.cache_creation = cacheCreation
  const serverToolUse = sumNested(a.server_tool_use, b.server_tool_use, ["web_search_requests", "web_fetch_requests"])
  if (serverToolUse === undefined) delete out.server_tool_use
  else out.server_tool_use = serverToolUse
  return out as Messages.Usage
}

/**
 * One `Message` for a turn told in two responses: `next` (its `id`, `model`,
 * `stop_reason`, `stop_sequence`, `stop_details`, `container` and any other
 * field), with the content {@link appendContent}`(sent, next.content)` and
 * the usage {@link sumUsage}`(previous.usage, next.usage)`.
 *
 * @example
 * ```ts
 * import { Continuation, type Messages } from "claude-resilience"
 *
 * declare const cut: Messages.Message
 * declare const rest: Messages.Message
 * const sent = Continuation.assistantTurn(cut.content)
 * const whole = Continuation.mergeContinuation(cut, sent, rest)
 * ```
 *
 * @since 0.1.0
 * @category continuations
 */
export const mergeContinuation = (
  previous: Messages.Message,
  sent: ReadonlyArray<Messages.ContentBlock>,
  next: Messages.Message
): Messages.Message => ({
  ...next,
  content: appendContent(sent, next.content),
  usage: sumUsage(previous.usage, next.usage)
})

const followUp = (
  params: Messages.MessageCreateParams,
  turn: ReadonlyArray<Messages.ContentBlock>
): Messages.MessageCreateParams => {
  if (turn.length === 0) return params
  const last = params.messages[params.messages.length - 1]
  if (last === undefined || last.role !== "assistant") {
    return { ...params, messages: [...params.messages, { role: "assistant", content: turn }] }
  }
  // the request ended with an assistant prefill: the turn continues it, so the
  // two become one assistant message (two in a row are rejected with a 400)
  const prefill: ReadonlyArray<Messages.ContentBlockParam> = typeof last.content === "string"
    ? (last.content.length > 0 ? [{ type: "text", text: last.content }] : [])
    : last.content
  return {
    ...params,
    messages: [...params.messages.slice(0, -1), { role: "assistant", content: [...prefill, ...turn] }]
  }
}

// ---------------------------------------------------------------------------
// the continuations
// ---------------------------------------------------------------------------

/** What tells one kind of continuation from the other. */
interface Kind<Err> {
  /** The `stop_reason` that asks for a follow-up. */
  readonly stopReason: "pause_turn" | "max_tokens"
  /** `maxContinuations` when the options leave it out. */
  readonly defaultMax: number
  /** Why the turn, as it would be sent back, cannot be continued, if it cannot. */
  readonly stuck: (sent: ReadonlyArray<Messages.ContentBlock>) => Option.Option<string>
  /** The error when the turn is still unfinished after `continuations` follow-ups, or stuck. */
  readonly giveUp: (turn: Messages.Message, continuations: number, stuck: Option.Option<string>) => Err
}

/** The one loop of both continuations: while the turn asks for it and may, send it back and merge the answer. */
const continuation = <Err>(kind: Kind<Err>): Continuation<Err> =>
  dual(
    (args) => Effect.isEffect(args[0]),
    <E, R>(
      self: Effect.Effect<Messages.Message, E, R>,
      params: Messages.MessageCreateParams,
      options?: Options
    ): Continued<Err, E, R> =>
      Effect.gen(function*() {
        const { maxContinuations = kind.defaultMax, stream } = yield* settings(options)
        const send = (next: Messages.MessageCreateParams) =>
          Effect.flatMap(
            Claude.Claude,
            (claude): Effect.Effect<Messages.Message, ContinuationError> =>
              stream ? claude.messages.finalMessage(next) : claude.messages.create(next)
          )
        let turn = yield* self
        for (let n = 0;; n++) {
          if (turn.stop_reason !== kind.stopReason) return turn
          const sent = assistantTurn(turn.content)
          if (n >= maxContinuations) return yield* Effect.fail(kind.giveUp(turn, n, Option.none()))
          const stuck = kind.stuck(sent)
          if (Option.isSome(stuck)) return yield* Effect.fail(kind.giveUp(turn, n, stuck))
          const next = yield* send(followUp(params, sent))
          turn = mergeContinuation(turn, sent, next)
        }
      })
  )

/**
 * Continues a turn paused in a server-tool loop (`stop_reason:
 * "pause_turn"`). While the response is paused, it sends `params` again with
 * the turn so far appended as an assistant message —
 * `messages: [...params.messages, { role: "assistant", content }]`, the
 * content passed through {@link assistantTurn} (empty content: `params`
 * unchanged) — through the {@link Claude.Claude} service in the context, at
 * most `maxContinuations` times (default 5; see {@link Options}); still paused after that, it
 * fails with `Semantic.PausedTurnError`.
 *
 * It succeeds with the whole turn as one `Message` (see
 * {@link mergeContinuation}): the last response's fields, every part's
 * content in order, usage summed. A first response that is not paused comes
 * back unchanged, and no request is sent. The result may have any outcome
 * but `Paused`: pipe `Semantic.requireComplete` after it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Claude, Continuation, Semantic } from "claude-resilience"
 *
 * const params = {
 *   model: "claude-sonnet-5-5",
 *   max_tokens: 2048,
 *   tools: [{ type: "web_search_20250305", name: "web_search" }],
 *   messages: [{ role: "user" as const, content: "What happened in Paris today?" }]
 * }
 * const answer = Effect.flatMap(Claude.Claude, (claude) =>
 *   claude.messages.create(params).pipe(
 *     Continuation.continuePaused(params, { maxContinuations: 3 }),
 *     Semantic.requireComplete()
 *   ))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const continuePaused: Continuation<Semantic.PausedTurnError> = continuation({
  stopReason: "pause_turn",
  defaultMax: 5,
  stuck: () => Option.none(),
  giveUp: (turn, continuations) => Semantic.pausedTurnError(turn, { continuations })
})

/** Why an answer cut off at `max_tokens` cannot be continued, if it cannot. */
const continuable = (content: ReadonlyArray<Messages.ContentBlock>): Option.Option<string> => {
  const last = content[content.length - 1]
  if (last === undefined) return Option.some("no content to continue from")
  if (last.type === "text") return Option.none()
  const type = last.type === "unknown" ? last.raw.type : last.type
  return Option.some(`it ends with a ${quote(type)} block`)
}

/**
 * Continues an answer cut off at `max_tokens`. While the response is
 * truncated, it sends `params` again with the answer so far appended as the
 * last, assistant message (the API continues an assistant turn that ends a
 * conversation) — its content passed through {@link assistantTurn} — through
 * the {@link Claude.Claude} service in the context, at most
 * `maxContinuations` times (default 3; see {@link Options}).
 *
 * Merged into one `Message` (see {@link mergeContinuation}): the last
 * response's `id`, `model`, `stop_reason`, `stop_sequence`, `stop_details`;
 * the content sent followed by the new content, the cut text block and the
 * continuation's first text block joined into one; usage summed.
 *
 * Fails with `Semantic.TruncatedError` (its `response` the merged answer so
 * far) when still truncated after `maxContinuations`, or at once when the
 * answer cannot be continued: its content is empty (after whitespace is
 * trimmed) or ends with a block other than text (a `tool_use` or `thinking`
 * cut mid-way). Models or settings that reject a final assistant turn
 * answer the follow-up with a 400 (`InvalidRequestError`); raise
 * `max_tokens` instead there.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Claude, Continuation, Semantic } from "claude-resilience"
 *
 * const params = { model: "claude-sonnet-5-5", max_tokens: 512, messages: [{ role: "user" as const, content: "Write a story" }] }
 * const story = Effect.flatMap(Claude.Claude, (claude) =>
 *   claude.messages.create(params).pipe(Continuation.continueTruncated(params, { maxContinuations: 2 })))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const continueTruncated: Continuation<Semantic.TruncatedError> = continuation({
  stopReason: "max_tokens",
  defaultMax: 3,
  stuck: continuable,
  giveUp: (turn, continuations, stuck) =>
    Semantic.truncatedError(turn, { continuations, cannotContinue: Option.getOrUndefined(stuck) })
})
