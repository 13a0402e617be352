/**
 * The semantic layer: what a successful `Message` means. A 200 says the
 * request was served, not that the answer is the one asked for: the model may
 * have refused, run out of `max_tokens`, filled its context window, paused a
 * server-tool loop, or ended its turn with nothing to say.
 *
 * This module reads a `Message` into a tagged {@link Outcome} (a pure, total
 * function) and turns the outcomes a caller does not accept into
 * {@link SemanticError}s (their own union, disjoint from `ApiError`, so no
 * semantic failure can ever reach a `RetryPolicy` schedule). It sends
 * nothing: continuing paused and truncated turns is `Continuation`'s, and
 * checking tool inputs against a caller's `Schema` is `ToolInput`'s.
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
import * as Schema from "effect/Schema"
import { hasTagIn } from "./internal/tags.js"
import { clip, plural, quote, scrub, whose } from "./internal/text.js"
import type * as Messages from "./Messages.js"
import { Message } from "./Messages.js"
import { ToolInputSchemaError } from "./ToolInput.js"

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
 * @example
 * ```ts
 * import { Semantic } from "claude-resilience"
 *
 * Semantic.isEmptyContent([{ type: "text", text: " \n" }]) // true
 * Semantic.isEmptyContent([{ type: "text", text: "Hi" }]) // false
 * ```
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
  response: Message
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
 * `Continuation.continueTruncated`.
 *
 * @since 0.1.0
 * @category errors
 */
export class TruncatedError extends Schema.TaggedError<TruncatedError>()("TruncatedError", {
  ...responseFields,
  /** `usage.output_tokens` of `response`. */
  outputTokens: Schema.Number,
  /** How many continuations were made before giving up (0 outside `Continuation.continueTruncated`). */
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
 * `Continuation.continuePaused` (`continuations: 0`), or still paused after the
 * continuation limit.
 *
 * @since 0.1.0
 * @category errors
 */
export class PausedTurnError extends Schema.TaggedError<PausedTurnError>()("PausedTurnError", {
  ...responseFields,
  /** How many continuations were made (0 outside `Continuation.continuePaused`). */
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

const isSemanticTag = hasTagIn(new Set(semanticErrorTags))

/**
 * Whether a value is one of the {@link SemanticError}s (by its tag).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Semantic } from "claude-resilience"
 *
 * declare const program: Effect.Effect<string, unknown>
 * const logged = program.pipe(
 *   Effect.tapError((error) => Semantic.isSemanticError(error) ? Effect.logWarning(error.message) : Effect.void)
 * )
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isSemanticError = (u: unknown): u is SemanticError => isSemanticTag(u)

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
 * @example
 * ```ts
 * import { Semantic, type Messages } from "claude-resilience"
 *
 * declare const message: Messages.Message
 * const read = Semantic.outcome(message)
 * if (read._tag === "Refused") {
 *   const error = Semantic.toError(read) // RefusalError
 *   console.log(error.message)
 * }
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const toError = <O extends Outcome>(
  outcome: O,
  accepted: ReadonlyArray<OutcomeTag> = []
): ErrorByOutcome[O["_tag"]] => errorOf(outcome, accepted) as ErrorByOutcome[O["_tag"]]

/**
 * Builds a {@link TruncatedError} for a response cut off at `max_tokens`:
 * `continuations` is how many follow-ups were made before giving up
 * (default 0), `cannotContinue` why the answer cannot be continued, when it
 * cannot (the message then says to raise `max_tokens`).
 *
 * @example
 * ```ts
 * import { Semantic, type Messages } from "claude-resilience"
 *
 * declare const cut: Messages.Message
 * const error = Semantic.truncatedError(cut, { continuations: 3 })
 * error.message // "The response was cut off at max_tokens after … and 3 continuations (…): raise max_tokens or continue the response"
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const truncatedError = (
  message: Messages.Message,
  options?: { readonly continuations?: number | undefined; readonly cannotContinue?: string | undefined }
): TruncatedError => {
  const continuations = options?.continuations ?? 0
  const after = continuations > 0 ? ` and ${plural(continuations, "continuation")}` : ""
  const advice = options?.cannotContinue === undefined
    ? "raise max_tokens or continue the response"
    : `it cannot be continued (${options.cannotContinue}): raise max_tokens`
  return new TruncatedError({
    ...common(message),
    message: `The response was cut off at max_tokens after ${
      plural(message.usage.output_tokens, "output token")
    }${after} (${whose(message)}): ${advice}`,
    outputTokens: message.usage.output_tokens,
    continuations
  }, true)
}

/**
 * Builds a {@link PausedTurnError} for a turn paused in a server-tool loop:
 * `continuations` is how many follow-ups were made (default 0, when the
 * message says how to continue the turn).
 *
 * @example
 * ```ts
 * import { Semantic, type Messages } from "claude-resilience"
 *
 * declare const paused: Messages.Message
 * const error = Semantic.pausedTurnError(paused, { continuations: 5 })
 * error.continuations // 5
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const pausedTurnError = (
  message: Messages.Message,
  options?: { readonly continuations?: number | undefined }
): PausedTurnError => {
  const continuations = options?.continuations ?? 0
  return new PausedTurnError({
    ...common(message),
    message: continuations > 0
      ? `The turn was still paused (pause_turn) after ${
        plural(continuations, "continuation")
      } (${whose(message)}): continue it again or allow more continuations`
      : `The turn paused (pause_turn) in a server-tool loop (${whose(message)}): send the assistant content back to continue it (Continuation.continuePaused)`,
    continuations
  }, true)
}

const errorOf = (outcome: Outcome, accepted: ReadonlyArray<OutcomeTag>): ErrorByOutcome[OutcomeTag] => {
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
      return truncatedError(message)
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
      return pausedTurnError(message)
    case "Refused": {
      const category = Option.match(outcome.category, { onNone: () => "", onSome: (c) => `, category ${quote(c)}` })
      const explanation = Option.match(outcome.explanation, {
        onNone: () => "",
        onSome: (e) => `: ${clip(scrub(e), 300)}`
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
 * The options of {@link requireComplete}.
 *
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
      return accepted.includes(read._tag) ? Effect.succeed(message) : Effect.fail(errorOf(read, accepted))
    })
  }
)
