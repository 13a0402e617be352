/**
 * The semantic layer: what a successful `Message` means. A 200 says the
 * request was served, not that the answer is the one asked for: the model may
 * have refused, run out of `max_tokens`, filled its context window, paused a
 * server-tool loop, or ended its turn with nothing to say.
 *
 * This module reads a `Message` into a tagged {@link Outcome} (a pure, total
 * function), turns the outcomes a caller does not accept into
 * {@link SemanticError}s (their own union, disjoint from `ApiError`, so no
 * semantic failure can ever reach a `RetryPolicy` schedule), and offers
 * bounded continuations of paused and truncated turns and the validation of
 * tool inputs against a caller's `Schema`.
 *
 * Everything works the same on a streamed message (`messages.finalMessage`):
 * it is the accumulated `Message`, its `stop_reason` and `stop_details` taken
 * from the stream's `message_delta`.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Claude from "./Claude.js"
import * as Messages from "./Messages.js"
import type * as Preflight from "./Preflight.js"

// ---------------------------------------------------------------------------
// outcomes
// ---------------------------------------------------------------------------

/**
 * What a `Message` means, decided by its `stop_reason`:
 *
 * | `stop_reason` | outcome |
 * | --- | --- |
 * | `end_turn` | `Complete`, or `Empty` when the content is empty or only whitespace text |
 * | `stop_sequence` | `Complete` (with the sequence that fired) |
 * | `tool_use` | `ToolUse` (with the `tool_use` blocks) |
 * | `max_tokens` | `Truncated` |
 * | `model_context_window_exceeded` | `ContextWindowExceeded` |
 * | `pause_turn` | `Paused` |
 * | `refusal` | `Refused` (with the `stop_details` category and explanation) |
 * | anything else, or `null` | `Unknown` (with the raw value) |
 *
 * Every outcome keeps the `message` it was read from.
 *
 * @since 0.1.0
 * @category outcomes
 */
export type Outcome = Data.TaggedEnum<{
  /** The model finished its answer (`end_turn`) or emitted one of the request's `stop_sequences`. */
  Complete: {
    readonly message: Messages.Message
    readonly stopReason: "end_turn" | "stop_sequence"
    /** The stop sequence that fired (`stop_sequence` only; `None` for `end_turn`). */
    readonly stopSequence: Option.Option<string>
  }
  /** The model calls one or more tools: run them and answer with `tool_result` blocks. */
  ToolUse: {
    readonly message: Messages.Message
    /** The client `tool_use` blocks, in order (may be empty when only a server tool is pending). */
    readonly toolUses: ReadonlyArray<Messages.ToolUseBlock>
  }
  /** The answer was cut off at the request's `max_tokens`. */
  Truncated: { readonly message: Messages.Message }
  /** The answer filled the model's context window: treat it as cut off. */
  ContextWindowExceeded: { readonly message: Messages.Message }
  /** A server-tool loop reached its iteration limit: send the content back to continue. */
  Paused: { readonly message: Messages.Message }
  /** The model declined to answer. */
  Refused: {
    readonly message: Messages.Message
    /** `stop_details.category` (e.g. `cyber`, `bio`), when present and not null. */
    readonly category: Option.Option<string>
    /** `stop_details.explanation`, when present and not null. */
    readonly explanation: Option.Option<string>
    /** The whole `stop_details` object, when present. */
    readonly details: Option.Option<Messages.StopDetails>
  }
  /** `end_turn` with no content, or with only text blocks made of whitespace. */
  Empty: { readonly message: Messages.Message }
  /** A `stop_reason` this version does not know, or `null` (a message that never got one). */
  Unknown: {
    readonly message: Messages.Message
    /** The raw `stop_reason`. */
    readonly stopReason: string | null
  }
}>

/**
 * Constructors, guards (`Outcome.$is("Refused")`) and matchers
 * (`Outcome.$match`) for {@link Outcome}.
 *
 * @since 0.1.0
 * @category outcomes
 */
export const Outcome = Data.taggedEnum<Outcome>()

/**
 * The tags of {@link Outcome}.
 *
 * @since 0.1.0
 * @category outcomes
 */
export type OutcomeTag = Outcome["_tag"]

/**
 * Every {@link OutcomeTag}, in the order of the table above.
 *
 * @since 0.1.0
 * @category outcomes
 */
export const outcomeTags: ReadonlyArray<OutcomeTag> = [
  "Complete",
  "ToolUse",
  "Truncated",
  "ContextWindowExceeded",
  "Paused",
  "Refused",
  "Empty",
  "Unknown"
]

/**
 * The content holds no answer: no block at all, or only text blocks whose
 * text is whitespace (any block of another kind, e.g. `thinking`, makes it
 * non-empty).
 *
 * @since 0.1.0
 * @category outcomes
 */
export const isEmptyContent = (content: ReadonlyArray<Messages.ContentBlock>): boolean =>
  content.every((block) => block.type === "text" && block.text.trim().length === 0)

const nonNull = (value: string | null | undefined): Option.Option<string> =>
  typeof value === "string" ? Option.some(value) : Option.none()

/**
 * Reads a `Message` into its {@link Outcome}. Pure and total: every message,
 * whatever its `stop_reason` (any string or `null`) and content, has exactly
 * one outcome. `stop_reason` decides; emptiness only refines `end_turn`, so a
 * refusal or a truncation with no content stays `Refused` or `Truncated`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Claude, Semantic } from "claude-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const claude = yield* Claude.Claude
 *   const message = yield* claude.messages.create({
 *     model: "claude-sonnet-5-5",
 *     max_tokens: 1024,
 *     messages: [{ role: "user", content: "Hello" }]
 *   })
 *   return Semantic.Outcome.$match(Semantic.outcome(message), {
 *     Complete: () => "done",
 *     ToolUse: ({ toolUses }) => `run ${toolUses.length} tools`,
 *     Truncated: () => "raise max_tokens",
 *     ContextWindowExceeded: () => "shorten the conversation",
 *     Paused: () => "continue the turn",
 *     Refused: ({ category }) => `refused (${category._tag === "Some" ? category.value : "no category"})`,
 *     Empty: () => "nothing said",
 *     Unknown: ({ stopReason }) => `unknown stop reason ${stopReason}`
 *   })
 * })
 * ```
 *
 * @since 0.1.0
 * @category outcomes
 */
export const outcome = (message: Messages.Message): Outcome => {
  const stopReason = message.stop_reason
  switch (stopReason) {
    case "end_turn":
      return isEmptyContent(message.content)
        ? Outcome.Empty({ message })
        : Outcome.Complete({ message, stopReason, stopSequence: Option.none() })
    case "stop_sequence":
      return Outcome.Complete({ message, stopReason, stopSequence: nonNull(message.stop_sequence) })
    case "tool_use":
      return Outcome.ToolUse({
        message,
        toolUses: message.content.filter((block): block is Messages.ToolUseBlock => block.type === "tool_use")
      })
    case "max_tokens":
      return Outcome.Truncated({ message })
    case "model_context_window_exceeded":
      return Outcome.ContextWindowExceeded({ message })
    case "pause_turn":
      return Outcome.Paused({ message })
    case "refusal": {
      const details = Option.fromNullable(message.stop_details)
      return Outcome.Refused({
        message,
        category: Option.flatMap(details, (d) => nonNull(d.category)),
        explanation: Option.flatMap(details, (d) => nonNull(d.explanation)),
        details
      })
    }
    default:
      return Outcome.Unknown({ message, stopReason: typeof stopReason === "string" ? stopReason : null })
  }
}

// ---------------------------------------------------------------------------
// errors
// ---------------------------------------------------------------------------

const responseFields = {
  /** A readable summary and what to do about it. */
  message: Schema.String,
  /** The `Message`'s `id` (a `Message` carries no request id). */
  messageId: Schema.String,
  /** The model that answered. */
  model: Schema.String,
  /** The whole response, so its content (a partial answer, a refusal's text) is not lost. */
  response: Messages.Message
}

/**
 * The model declined to answer (`stop_reason: "refusal"`). Never retried:
 * the same request gets the same refusal. Rephrase it, or send it to a
 * fallback model.
 *
 * @since 0.1.0
 * @category errors
 */
export class RefusalError extends Schema.TaggedError<RefusalError>()("RefusalError", {
  ...responseFields,
  /** `stop_details.category`, when present. */
  category: Schema.Option(Schema.String),
  /** `stop_details.explanation`, when present. */
  explanation: Schema.Option(Schema.String)
}) {}

/**
 * The answer was cut off at `max_tokens` (`response` holds the partial
 * answer). Raise `max_tokens`, or continue the turn with
 * {@link continueTruncated}.
 *
 * @since 0.1.0
 * @category errors
 */
export class TruncatedError extends Schema.TaggedError<TruncatedError>()("TruncatedError", {
  ...responseFields,
  /** `usage.output_tokens` of `response`. */
  outputTokens: Schema.Number,
  /** How many continuations were made before giving up (0 outside {@link continueTruncated}). */
  continuations: Schema.Number
}) {}

/**
 * The answer filled the model's context window
 * (`stop_reason: "model_context_window_exceeded"`). Shorten the conversation
 * or use a model with a larger context window.
 *
 * @since 0.1.0
 * @category errors
 */
export class ContextWindowExceededError extends Schema.TaggedError<ContextWindowExceededError>()(
  "ContextWindowExceededError",
  {
    ...responseFields,
    inputTokens: Schema.Number,
    outputTokens: Schema.Number
  }
) {}

/**
 * The model ended its turn (`end_turn`) with no content, or only whitespace
 * text.
 *
 * @since 0.1.0
 * @category errors
 */
export class EmptyResponseError extends Schema.TaggedError<EmptyResponseError>()(
  "EmptyResponseError",
  responseFields
) {}

/**
 * The turn is paused (`stop_reason: "pause_turn"`): outside
 * {@link continuePaused} (`continuations: 0`), or still paused after the
 * continuation limit.
 *
 * @since 0.1.0
 * @category errors
 */
export class PausedTurnError extends Schema.TaggedError<PausedTurnError>()("PausedTurnError", {
  ...responseFields,
  /** How many continuations were made (0 outside {@link continuePaused}). */
  continuations: Schema.Number
}) {}

/**
 * A `stop_reason` this version does not know, or `null`.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownStopReasonError extends Schema.TaggedError<UnknownStopReasonError>()(
  "UnknownStopReasonError",
  {
    ...responseFields,
    stopReason: Schema.NullOr(Schema.String)
  }
) {}

/**
 * The outcome is `Complete` or `ToolUse`, and the caller's
 * {@link requireComplete} options do not accept it (e.g. a plain answer when
 * a tool call was required).
 *
 * @since 0.1.0
 * @category errors
 */
export class UnacceptedOutcomeError extends Schema.TaggedError<UnacceptedOutcomeError>()(
  "UnacceptedOutcomeError",
  {
    ...responseFields,
    outcome: Schema.Literal("Complete", "ToolUse"),
    stopReason: Schema.NullOr(Schema.String),
    /** The outcomes that were accepted. */
    accepted: Schema.Array(Schema.String)
  }
) {}

/**
 * A `tool_use` block's `input` does not match the caller's `Schema` for that
 * tool. `path` is where it fails inside the input (`[]` for the input
 * itself), `field` the same path written out (`input.location.city`).
 *
 * Its tag differs from `Messages.InvalidToolInputError` (input JSON that did
 * not parse while streaming), so the two never merge in a `catchTag`.
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

/**
 * Every semantic error, as a Schema.
 *
 * @since 0.1.0
 * @category errors
 */
export const SemanticError = Schema.Union(
  RefusalError,
  TruncatedError,
  ContextWindowExceededError,
  EmptyResponseError,
  PausedTurnError,
  UnknownStopReasonError,
  UnacceptedOutcomeError,
  ToolInputSchemaError
)

/**
 * A successful response that is not the answer the caller accepts. Disjoint
 * from `ApiError` (no tag in common): a semantic error never enters a
 * `RetryPolicy` schedule.
 *
 * @since 0.1.0
 * @category errors
 */
export type SemanticError = typeof SemanticError.Type

/**
 * The tags of {@link SemanticError}.
 *
 * @since 0.1.0
 * @category errors
 */
export const semanticErrorTags: ReadonlyArray<SemanticError["_tag"]> = [
  "RefusalError",
  "TruncatedError",
  "ContextWindowExceededError",
  "EmptyResponseError",
  "PausedTurnError",
  "UnknownStopReasonError",
  "UnacceptedOutcomeError",
  "ToolInputSchemaError"
]

const semanticTagSet: ReadonlySet<unknown> = new Set(semanticErrorTags)

/**
 * @since 0.1.0
 * @category guards
 */
export const isSemanticError = (u: unknown): u is SemanticError =>
  typeof u === "object" && u !== null && "_tag" in u && semanticTagSet.has(u._tag)

/**
 * The options of {@link continuePaused} or {@link continueTruncated} are not
 * valid. Raised before any request is sent. Not a {@link SemanticError}: it
 * is the caller's mistake, not the response's.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidContinuationOptionsError extends Schema.TaggedError<InvalidContinuationOptionsError>()(
  "InvalidContinuationOptionsError",
  { option: Schema.String, message: Schema.String }
) {}

/**
 * The error each outcome turns into when it is not accepted.
 *
 * @since 0.1.0
 * @category errors
 */
export interface ErrorByOutcome {
  readonly Complete: UnacceptedOutcomeError
  readonly ToolUse: UnacceptedOutcomeError
  readonly Truncated: TruncatedError
  readonly ContextWindowExceeded: ContextWindowExceededError
  readonly Paused: PausedTurnError
  readonly Refused: RefusalError
  readonly Empty: EmptyResponseError
  readonly Unknown: UnknownStopReasonError
}

/**
 * The errors {@link requireComplete} may fail with when it accepts the
 * outcomes of `Accept`: those of the outcomes left out when `Accept` is a
 * tuple of known tags (an array literal), every outcome's error when it is
 * an array whose elements are not known to the compiler.
 *
 * @since 0.1.0
 * @category errors
 */
export type RejectionError<Accept extends ReadonlyArray<OutcomeTag>> = number extends Accept["length"]
  ? ErrorByOutcome[OutcomeTag]
  : ErrorByOutcome[Exclude<OutcomeTag, Accept[number]>]

/** A wire string for an error message: quoted, control characters escaped, at most 120 characters. */
const quote = (s: string): string => {
  const json = JSON.stringify(s)
  return json.length > 120 ? `${json.slice(0, 119)}…"` : json
}

const clip = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max)}…` : s)

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`

const whose = (message: Messages.Message): string => `message ${quote(message.id)}, model ${quote(message.model)}`

const common = (message: Messages.Message) => ({
  messageId: message.id,
  model: message.model,
  response: message
})

/**
 * The error for an outcome: what {@link requireComplete} fails with when the
 * outcome is not accepted. `Complete` and `ToolUse` give an
 * {@link UnacceptedOutcomeError} (`accepted` lists what was accepted,
 * default none).
 *
 * @since 0.1.0
 * @category errors
 */
export const toError = <O extends Outcome>(
  outcome: O,
  accepted: ReadonlyArray<OutcomeTag> = []
): ErrorByOutcome[O["_tag"]] => errorOf(outcome, accepted, 0) as ErrorByOutcome[O["_tag"]]

const truncatedError = (
  message: Messages.Message,
  continuations: number,
  stuck: Option.Option<string>
): TruncatedError => {
  const after = continuations > 0 ? ` and ${plural(continuations, "continuation")}` : ""
  const advice = Option.match(stuck, {
    onNone: () => "raise max_tokens or continue the response",
    onSome: (why) => `it cannot be continued (${why}): raise max_tokens`
  })
  return new TruncatedError({
    ...common(message),
    message: `The response was cut off at max_tokens after ${
      plural(message.usage.output_tokens, "output token")
    }${after} (${whose(message)}): ${advice}`,
    outputTokens: message.usage.output_tokens,
    continuations
  }, true)
}

const errorOf = (
  outcome: Outcome,
  accepted: ReadonlyArray<OutcomeTag>,
  continuations: number
): ErrorByOutcome[OutcomeTag] => {
  const message = outcome.message
  switch (outcome._tag) {
    case "Complete":
    case "ToolUse": {
      const what = outcome._tag === "Complete" ? "a complete answer" : "a tool call"
      return new UnacceptedOutcomeError({
        ...common(message),
        message: `The response is ${what} (${outcome._tag}, stop_reason ${
          quote(String(message.stop_reason))
        }; ${whose(message)}), which is not accepted here (accepted: ${
          accepted.length === 0 ? "none" : accepted.join(", ")
        })`,
        outcome: outcome._tag,
        stopReason: message.stop_reason,
        accepted: [...accepted]
      }, true)
    }
    case "Truncated":
      return truncatedError(message, continuations, Option.none())
    case "ContextWindowExceeded":
      return new ContextWindowExceededError({
        ...common(message),
        message: `The response filled the model's context window (${
          plural(message.usage.input_tokens, "input token")
        }, ${
          plural(message.usage.output_tokens, "output token")
        }; ${whose(message)}): shorten the conversation or use a model with a larger context window`,
        inputTokens: message.usage.input_tokens,
        outputTokens: message.usage.output_tokens
      }, true)
    case "Paused":
      return new PausedTurnError({
        ...common(message),
        message: continuations > 0
          ? `The turn was still paused (pause_turn) after ${
            plural(continuations, "continuation")
          } (${whose(message)}): continue it again or allow more continuations`
          : `The turn paused (pause_turn) in a server-tool loop (${whose(message)}): send the assistant content back to continue it (Semantic.continuePaused)`,
        continuations
      }, true)
    case "Refused": {
      const category = Option.match(outcome.category, { onNone: () => "", onSome: (c) => `, category ${quote(c)}` })
      const explanation = Option.match(outcome.explanation, {
        onNone: () => "",
        onSome: (e) => `: ${clip(e.replace(/[\u0000-\u001f\u007f]+/g, " "), 300)}`
      })
      return new RefusalError({
        ...common(message),
        message: `Claude declined to answer (refusal; ${whose(message)}${category})${explanation}. ` +
          "The same request gets the same refusal: rephrase it or send it to a fallback model",
        category: outcome.category,
        explanation: outcome.explanation
      }, true)
    }
    case "Empty":
      return new EmptyResponseError({
        ...common(message),
        message: `Claude ended its turn with no answer (end_turn, ${
          message.content.length === 0 ? "no content" : "only whitespace text"
        }; ${whose(message)}): if the last turn holds tool_result blocks, send them without extra text; ` +
          "otherwise ask again with a new user message",
      }, true)
    case "Unknown":
      return new UnknownStopReasonError({
        ...common(message),
        message: outcome.stopReason === null
          ? `The response has no stop_reason (${whose(message)}): it may be incomplete`
          : `The response stopped for a reason this version does not know: ${
            quote(outcome.stopReason)
          } (${whose(message)})`,
        stopReason: outcome.stopReason
      }, true)
  }
}

// ---------------------------------------------------------------------------
// requireComplete
// ---------------------------------------------------------------------------

/**
 * The outcomes {@link requireComplete} accepts by default.
 *
 * @since 0.1.0
 * @category combinators
 */
export type DefaultAccepted = readonly ["Complete", "ToolUse"]

/**
 * @since 0.1.0
 * @category combinators
 */
export interface RequireOptions<Accept extends ReadonlyArray<OutcomeTag>> {
  /** The outcomes that succeed; every other one fails with its error. */
  readonly accept: Accept
}

const defaultAccepted: ReadonlyArray<OutcomeTag> = ["Complete", "ToolUse"]

/**
 * Fails with the outcome's {@link SemanticError} unless the response's
 * outcome is accepted: by default `Complete` or `ToolUse`; `accept` lists
 * the accepted outcomes instead. With `accept` written as an array literal,
 * the error type holds only the errors of the outcomes left out (see
 * {@link RejectionError}). Succeeds with the message unchanged.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Claude, Semantic } from "claude-resilience"
 *
 * const params = { model: "claude-sonnet-5-5", max_tokens: 1024, messages: [{ role: "user" as const, content: "Hi" }] }
 * const answer = Effect.flatMap(Claude.Claude, (claude) =>
 *   claude.messages.create(params).pipe(
 *     Semantic.requireComplete(),
 *     Effect.catchTag("RefusalError", (refusal) => Effect.succeed(refusal.response))
 *   ))
 *
 * // a truncated answer is acceptable too (no TruncatedError in the type)
 * const draft = Effect.flatMap(Claude.Claude, (claude) =>
 *   claude.messages.create(params).pipe(Semantic.requireComplete({ accept: ["Complete", "Truncated"] })))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const requireComplete: {
  <const Accept extends ReadonlyArray<OutcomeTag> = DefaultAccepted>(
    options?: RequireOptions<Accept>
  ): <E, R>(
    self: Effect.Effect<Messages.Message, E, R>
  ) => Effect.Effect<Messages.Message, E | RejectionError<Accept>, R>
  <E, R, const Accept extends ReadonlyArray<OutcomeTag> = DefaultAccepted>(
    self: Effect.Effect<Messages.Message, E, R>,
    options?: RequireOptions<Accept>
  ): Effect.Effect<Messages.Message, E | RejectionError<Accept>, R>
} = dual(
  (args) => Effect.isEffect(args[0]),
  <E, R>(
    self: Effect.Effect<Messages.Message, E, R>,
    options?: RequireOptions<ReadonlyArray<OutcomeTag>>
  ): Effect.Effect<Messages.Message, E | SemanticError, R> => {
    const accepted = options?.accept ?? defaultAccepted
    return Effect.flatMap(self, (message) => {
      const read = outcome(message)
      return accepted.includes(read._tag) ? Effect.succeed(message) : Effect.fail(errorOf(read, accepted, 0))
    })
  }
)

// ---------------------------------------------------------------------------
// continuations
// ---------------------------------------------------------------------------

/**
 * @since 0.1.0
 * @category combinators
 */
export interface ContinueOptions {
  /**
   * The most follow-up requests (a non-negative integer). Default 5 for
   * {@link continuePaused}, 3 for {@link continueTruncated}.
   */
  readonly maxContinuations?: number | undefined
  /**
   * Send the follow-ups with `messages.finalMessage` (streamed, then
   * accumulated) instead of `messages.create`. Default `false`.
   */
  readonly stream?: boolean | undefined
}

/**
 * Why a follow-up request failed: the client's errors.
 *
 * @since 0.1.0
 * @category combinators
 */
export type ContinuationError = Claude.StreamError | Preflight.LongRequestError

/**
 * The type of {@link continuePaused} and {@link continueTruncated}: a dual
 * combinator over an Effect that yields a `Message`. It keeps the input's
 * error and context, adds `Err` (the outcome still there when the
 * continuations run out), the follow-ups' {@link ContinuationError} and
 * {@link InvalidContinuationOptionsError}, and needs {@link Claude.Claude}
 * for the follow-ups.
 *
 * @since 0.1.0
 * @category continuations
 */
export interface Continuation<Err> {
  (
    params: Messages.MessageCreateParams,
    options?: ContinueOptions
  ): <E, R>(
    self: Effect.Effect<Messages.Message, E, R>
  ) => Effect.Effect<
    Messages.Message,
    E | Err | ContinuationError | InvalidContinuationOptionsError,
    R | Claude.Claude
  >
  <E, R>(
    self: Effect.Effect<Messages.Message, E, R>,
    params: Messages.MessageCreateParams,
    options?: ContinueOptions
  ): Effect.Effect<
    Messages.Message,
    E | Err | ContinuationError | InvalidContinuationOptionsError,
    R | Claude.Claude
  >
}

/** What a continuation's implementation returns, as in {@link Continuation}'s data-first call. */
type Continued<Err, E, R> = Effect.Effect<
  Messages.Message,
  E | Err | ContinuationError | InvalidContinuationOptionsError,
  R | Claude.Claude
>

/**
 * The assistant turn a follow-up sends: `content` with the trailing
 * whitespace of its last text block removed (the API rejects a final
 * assistant turn that ends with whitespace), and a last text block left
 * empty by that dropped, repeatedly.
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

const validateMax = (
  options: ContinueOptions | undefined,
  fallback: number
): Effect.Effect<number, InvalidContinuationOptionsError> => {
  const max = options?.maxContinuations ?? fallback
  return Number.isSafeInteger(max) && max >= 0
    ? Effect.succeed(max)
    : Effect.fail(
      new InvalidContinuationOptionsError({
        option: "maxContinuations",
        message: `maxContinuations must be a non-negative integer, got ${String(max)}`
      })
    )
}

const sender = (options: ContinueOptions | undefined) => (params: Messages.MessageCreateParams) =>
  Effect.flatMap(
    Claude.Claude,
    (claude): Effect.Effect<Messages.Message, ContinuationError> =>
      options?.stream === true ? claude.messages.finalMessage(params) : claude.messages.create(params)
  )

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

/**
 * Continues a turn paused in a server-tool loop (`stop_reason:
 * "pause_turn"`). While the response is paused, it sends `params` again with
 * the turn so far appended as an assistant message —
 * `messages: [...params.messages, { role: "assistant", content }]`, the
 * content passed through {@link assistantTurn} (empty content: `params`
 * unchanged) — through the {@link Claude.Claude} service in the context, at
 * most `maxContinuations` times (default 5); still paused after that, it
 * fails with {@link PausedTurnError}.
 *
 * It succeeds with the whole turn as one `Message` (see
 * {@link mergeContinuation}): the last response's fields, every part's
 * content in order, usage summed. A first response that is not paused comes
 * back unchanged, and no request is sent. The result may have any outcome
 * but `Paused`: pipe {@link requireComplete} after it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Claude, Semantic } from "claude-resilience"
 *
 * const params = {
 *   model: "claude-sonnet-5-5",
 *   max_tokens: 2048,
 *   tools: [{ type: "web_search_20250305", name: "web_search" }],
 *   messages: [{ role: "user" as const, content: "What happened in Paris today?" }]
 * }
 * const answer = Effect.flatMap(Claude.Claude, (claude) =>
 *   claude.messages.create(params).pipe(
 *     Semantic.continuePaused(params, { maxContinuations: 3 }),
 *     Semantic.requireComplete()
 *   ))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const continuePaused: Continuation<PausedTurnError> = dual(
  (args) => Effect.isEffect(args[0]),
  <E, R>(
    self: Effect.Effect<Messages.Message, E, R>,
    params: Messages.MessageCreateParams,
    options?: ContinueOptions
  ): Continued<PausedTurnError, E, R> =>
    Effect.gen(function*() {
      const max = yield* validateMax(options, 5)
      const send = sender(options)
      let turn = yield* self
      for (let n = 0;; n++) {
        if (turn.stop_reason !== "pause_turn") return turn
        if (n >= max) return yield* Effect.fail(errorOf(outcome(turn), [], n) as PausedTurnError)
        const sent = assistantTurn(turn.content)
        const next = yield* send(followUp(params, sent))
        turn = mergeContinuation(turn, sent, next)
      }
    })
)

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
 * `maxContinuations` times (default 3).
 *
 * Merged into one `Message` (see {@link mergeContinuation}): the last
 * response's `id`, `model`, `stop_reason`, `stop_sequence`, `stop_details`;
 * the content sent followed by the new content, the cut text block and the
 * continuation's first text block joined into one; usage summed.
 *
 * Fails with {@link TruncatedError} (its `response` the merged answer so
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
 * import { Claude, Semantic } from "claude-resilience"
 *
 * const params = { model: "claude-sonnet-5-5", max_tokens: 512, messages: [{ role: "user" as const, content: "Write a story" }] }
 * const story = Effect.flatMap(Claude.Claude, (claude) =>
 *   claude.messages.create(params).pipe(Semantic.continueTruncated(params, { maxContinuations: 2 })))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const continueTruncated: Continuation<TruncatedError> = dual(
  (args) => Effect.isEffect(args[0]),
  <E, R>(
    self: Effect.Effect<Messages.Message, E, R>,
    params: Messages.MessageCreateParams,
    options?: ContinueOptions
  ): Continued<TruncatedError, E, R> =>
    Effect.gen(function*() {
      const max = yield* validateMax(options, 3)
      const send = sender(options)
      let turn = yield* self
      for (let n = 0;; n++) {
        if (turn.stop_reason !== "max_tokens") return turn
        const sent = assistantTurn(turn.content)
        const stuck = continuable(sent)
        if (n >= max) return yield* Effect.fail(truncatedError(turn, n, Option.none()))
        if (Option.isSome(stuck)) return yield* Effect.fail(truncatedError(turn, n, stuck))
        const next = yield* send(followUp(params, sent))
        turn = mergeContinuation(turn, sent, next)
      }
    })
)

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

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/**
 * A path inside a tool input, written out: `input`, `input.location.city`,
 * `input.days[2]`, `input["first name"]`.
 *
 * @since 0.1.0
 * @category tool inputs
 */
export const formatPath = (path: ReadonlyArray<string | number>): string =>
  path.reduce<string>(
    (out, key) =>
      typeof key === "number"
        ? `${out}[${key}]`
        : identifier.test(key)
        ? `${out}.${key}`
        : `${out}[${JSON.stringify(key)}]`,
    "input"
  )

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
 * import { Messages, Semantic } from "claude-resilience"
 *
 * const Weather = Schema.Struct({ city: Schema.String, days: Schema.Number })
 * declare const message: Messages.Message
 * const calls = Semantic.decodeToolInputs(message, "get_weather", Weather)
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
 * import { Claude, Semantic } from "claude-resilience"
 *
 * const Weather = Schema.Struct({ city: Schema.String })
 * const params = { model: "claude-sonnet-5-5", max_tokens: 512, messages: [{ role: "user" as const, content: "Weather in Paris?" }] }
 * const checked = Effect.flatMap(Claude.Claude, (claude) =>
 *   claude.messages.create(params).pipe(
 *     Semantic.requireComplete(),
 *     Semantic.validateToolInput("get_weather", Weather)
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
