import { Effect, Option, Schema } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import { ApiError, Claude, MessageAccumulator, Messages, Preflight, RetryPolicy, Semantic, ToolInput } from "../src/index.js"
import type { DefaultRejections } from "./support/semantic.js"

type SemanticTags =
  | "RefusalError"
  | "TruncatedError"
  | "ContextWindowExceededError"
  | "EmptyResponseError"
  | "PausedTurnError"
  | "UnknownStopReasonError"
  | "UnacceptedOutcomeError"
  | "ToolInputSchemaError"

declare const refusal: Effect.Effect<string, Semantic.RefusalError>
declare const truncated: Effect.Effect<string, Semantic.TruncatedError>
declare const contextWindow: Effect.Effect<string, Semantic.ContextWindowExceededError>
declare const empty: Effect.Effect<string, Semantic.EmptyResponseError>
declare const paused: Effect.Effect<string, Semantic.PausedTurnError>
declare const unknownStop: Effect.Effect<string, Semantic.UnknownStopReasonError>
declare const unaccepted: Effect.Effect<string, Semantic.UnacceptedOutcomeError>
declare const toolInput: Effect.Effect<string, ToolInput.ToolInputSchemaError>
declare const anySemantic: Effect.Effect<string, Semantic.SemanticError>
declare const retryable: Effect.Effect<string, ApiError.Retryable>

declare const create: Effect.Effect<Messages.Message, Claude.StreamError | Preflight.LongRequestError>
declare const streamed: Effect.Effect<Messages.Message, Claude.StreamError>
declare const params: Messages.MessageCreateParams
declare const message: Messages.Message

describe("no semantic error reaches a RetryPolicy schedule", () => {
  it("a Retryable effect does (the control)", () => {
    expectTypeOf(Effect.retry(retryable, RetryPolicy.schedule())).toEqualTypeOf<
      Effect.Effect<string, ApiError.Retryable>
    >()
  })

  it("each semantic error, and the union, does not compile", () => {
    // @ts-expect-error a refusal is never retried by the transport policy
    Effect.retry(refusal, RetryPolicy.schedule())
    // @ts-expect-error
    Effect.retry(truncated, RetryPolicy.schedule())
    // @ts-expect-error
    Effect.retry(contextWindow, RetryPolicy.schedule())
    // @ts-expect-error
    Effect.retry(empty, RetryPolicy.schedule())
    // @ts-expect-error
    Effect.retry(paused, RetryPolicy.schedule())
    // @ts-expect-error
    Effect.retry(unknownStop, RetryPolicy.schedule())
    // @ts-expect-error
    Effect.retry(unaccepted, RetryPolicy.schedule())
    // @ts-expect-error
    Effect.retry(toolInput, RetryPolicy.schedule())
    // @ts-expect-error
    Effect.retry(anySemantic, RetryPolicy.schedule())
  })

  it("nor when the schedule is built from a policy", () => {
    // @ts-expect-error
    Effect.retry(refusal, RetryPolicy.schedule(RetryPolicy.defaults))
  })
})

describe("SemanticError is disjoint from ApiError", () => {
  it("shares no tag", () => {
    expectTypeOf<Extract<Semantic.SemanticError["_tag"], ApiError.ApiError["_tag"]>>().toBeNever()
    expectTypeOf<Extract<ApiError.ApiError["_tag"], Semantic.SemanticError["_tag"]>>().toBeNever()
    expectTypeOf<Extract<Semantic.SemanticError, ApiError.Retryable>>().toBeNever()
  })

  it("and from the client's other errors and the accumulator's", () => {
    expectTypeOf<Extract<Semantic.SemanticError["_tag"], Claude.StreamError["_tag"]>>().toBeNever()
    expectTypeOf<Extract<Semantic.SemanticError["_tag"], MessageAccumulator.AccumulateError["_tag"]>>().toBeNever()
  })

  it("holds ToolInput's error: the union stays whole after the split", () => {
    expectTypeOf<ToolInput.ToolInputSchemaError>().toExtend<Semantic.SemanticError>()
  })

  it("holds exactly its tags", () => {
    expectTypeOf<Semantic.SemanticError["_tag"]>().toEqualTypeOf<SemanticTags>()
    expectTypeOf<Schema.Schema.Type<typeof Semantic.SemanticError>>().toEqualTypeOf<Semantic.SemanticError>()
  })
})

describe("outcome", () => {
  it("is total: a Message in, an Outcome out", () => {
    expectTypeOf(Semantic.outcome).toEqualTypeOf<(message: Messages.Message) => Semantic.Outcome>()
    expectTypeOf<Semantic.OutcomeTag>().toEqualTypeOf<
      "Complete" | "ToolUse" | "Truncated" | "ContextWindowExceeded" | "Paused" | "Refused" | "Empty" | "Unknown"
    >()
  })

  it("carries what each case claims", () => {
    const read = Semantic.outcome(message)
    if (read._tag === "Refused") {
      expectTypeOf(read.category).toEqualTypeOf<Option.Option<string>>()
      expectTypeOf(read.explanation).toEqualTypeOf<Option.Option<string>>()
    }
    if (read._tag === "ToolUse") expectTypeOf(read.toolUses).toEqualTypeOf<ReadonlyArray<Messages.ToolUseBlock>>()
    if (read._tag === "Complete") expectTypeOf(read.stopSequence).toEqualTypeOf<Option.Option<string>>()
    if (read._tag === "Unknown") expectTypeOf(read.stopReason).toEqualTypeOf<string | null>()
    expectTypeOf(read.message).toEqualTypeOf<Messages.Message>()
  })

  it("toError gives the outcome's own error", () => {
    expectTypeOf(Semantic.toError(Semantic.Outcome.Empty({ message }))).toEqualTypeOf<Semantic.EmptyResponseError>()
    expectTypeOf(Semantic.toError(Semantic.outcome(message))).toEqualTypeOf<
      | Semantic.UnacceptedOutcomeError
      | Semantic.TruncatedError
      | Semantic.ContextWindowExceededError
      | Semantic.PausedTurnError
      | Semantic.RefusalError
      | Semantic.EmptyResponseError
      | Semantic.UnknownStopReasonError
    >()
  })
})

describe("requireComplete", () => {
  it("by default adds the errors of every outcome but Complete and ToolUse", () => {
    expectTypeOf(create.pipe(Semantic.requireComplete())).toEqualTypeOf<
      Effect.Effect<Messages.Message, Claude.StreamError | Preflight.LongRequestError | DefaultRejections>
    >()
    expectTypeOf(Semantic.requireComplete(streamed)).toEqualTypeOf<
      Effect.Effect<Messages.Message, Claude.StreamError | DefaultRejections>
    >()
  })

  it("accept narrows the error type to the outcomes left out", () => {
    expectTypeOf(create.pipe(Semantic.requireComplete({ accept: ["Complete", "ToolUse", "Truncated"] }))).toEqualTypeOf<
      Effect.Effect<
        Messages.Message,
        | Claude.StreamError
        | Preflight.LongRequestError
        | Semantic.ContextWindowExceededError
        | Semantic.PausedTurnError
        | Semantic.RefusalError
        | Semantic.EmptyResponseError
        | Semantic.UnknownStopReasonError
      >
    >()
    expectTypeOf(Semantic.requireComplete(streamed, { accept: ["ToolUse"] })).toEqualTypeOf<
      Effect.Effect<Messages.Message, Claude.StreamError | Semantic.UnacceptedOutcomeError | DefaultRejections>
    >()
  })

  it("an accept list whose elements the compiler does not know keeps every error", () => {
    const accept: ReadonlyArray<Semantic.OutcomeTag> = ["Complete"]
    expectTypeOf(streamed.pipe(Semantic.requireComplete({ accept }))).toEqualTypeOf<
      Effect.Effect<Messages.Message, Claude.StreamError | Semantic.UnacceptedOutcomeError | DefaultRejections>
    >()
    expectTypeOf(Semantic.requireComplete(streamed, { accept: [] })).toEqualTypeOf<
      Effect.Effect<Messages.Message, Claude.StreamError | Semantic.UnacceptedOutcomeError | DefaultRejections>
    >()
    expectTypeOf(
      streamed.pipe(Semantic.requireComplete({ accept: [...Semantic.outcomeTags] as const }))
    ).toEqualTypeOf<Effect.Effect<Messages.Message, Claude.StreamError | Semantic.UnacceptedOutcomeError | DefaultRejections>>()
  })

  it("accepting every outcome by name leaves no semantic error", () => {
    const all = Semantic.requireComplete(streamed, {
      accept: ["Complete", "ToolUse", "Truncated", "ContextWindowExceeded", "Paused", "Refused", "Empty", "Unknown"]
    })
    expectTypeOf(all).toEqualTypeOf<Effect.Effect<Messages.Message, Claude.StreamError>>()
  })

  it("accepts only outcome tags", () => {
    // @ts-expect-error "Done" is not an outcome
    Semantic.requireComplete({ accept: ["Done"] })
  })

  it("only pipes a Message", () => {
    // @ts-expect-error a string is not a Message
    Semantic.requireComplete(Effect.succeed("text"))
  })
})
