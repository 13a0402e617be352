import type { Effect } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import { type Claude, Continuation, type Messages, type Options, type Preflight, Semantic } from "../src/index.js"
import type { DefaultRejections } from "./support/semantic.js"

declare const create: Effect.Effect<Messages.Message, Claude.StreamError | Preflight.LongRequestError>
declare const streamed: Effect.Effect<Messages.Message, Claude.StreamError>
declare const params: Messages.MessageCreateParams

describe("continuations", () => {
  it("continuePaused needs Claude and adds the client's errors and PausedTurnError", () => {
    expectTypeOf(create.pipe(Continuation.continuePaused(params))).toEqualTypeOf<
      Effect.Effect<
        Messages.Message,
        | Claude.StreamError
        | Preflight.LongRequestError
        | Semantic.PausedTurnError
        | Options.InvalidOptionsError,
        Claude.Claude
      >
    >()
    expectTypeOf(Continuation.continuePaused(streamed, params, { maxContinuations: 2, stream: true })).toEqualTypeOf<
      Effect.Effect<
        Messages.Message,
        | Claude.StreamError
        | Preflight.LongRequestError
        | Semantic.PausedTurnError
        | Options.InvalidOptionsError,
        Claude.Claude
      >
    >()
  })

  it("continueTruncated adds TruncatedError", () => {
    expectTypeOf(streamed.pipe(Continuation.continueTruncated(params))).toEqualTypeOf<
      Effect.Effect<
        Messages.Message,
        | Claude.StreamError
        | Preflight.LongRequestError
        | Semantic.TruncatedError
        | Options.InvalidOptionsError,
        Claude.Claude
      >
    >()
  })

  it("they compose with requireComplete", () => {
    const program = create.pipe(Continuation.continuePaused(params), Semantic.requireComplete())
    expectTypeOf<Effect.Effect.Error<typeof program>>().toEqualTypeOf<
      | Claude.StreamError
      | Preflight.LongRequestError
      | Options.InvalidOptionsError
      | DefaultRejections
    >()
    expectTypeOf<Effect.Effect.Context<typeof program>>().toEqualTypeOf<Claude.Claude>()
  })
})

describe("options", () => {
  it("are the Options schema's encoded side: a misspelt key or a wrong type does not compile", () => {
    // @ts-expect-error maxContinuation is not an option
    Continuation.continuePaused(params, { maxContinuation: 2 })
    // @ts-expect-error stream is a boolean
    Continuation.continueTruncated(params, { stream: "yes" })
    expectTypeOf<Continuation.Options>().toEqualTypeOf<{
      readonly maxContinuations?: number
      readonly stream?: boolean
    }>()
  })
})
