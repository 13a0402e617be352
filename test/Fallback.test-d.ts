/**
 * The fallback chain's types: the errors of every path (the answer
 * functions' own included) in the chain's error, the answer functions'
 * context in its requirements, the `on` option limited to real tags.
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as EffectValue from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import { describe, expectTypeOf, it } from "vitest"
import type { Claude, Messages, MessageStream, Options } from "../src/index.js"
import { Fallback } from "../src/index.js"

class Cache extends Context.Tag("test/Cache")<Cache, { readonly get: Effect.Effect<Messages.Message, "miss"> }>() {}

declare const client: Effect.Effect<Claude.Service, Options.InvalidOptionsError>
declare const params: Messages.MessageCreateParams

describe("Fallback.make", () => {
  it("types the chain's error with every path's error, and its context with the answer functions'", () => {
    const made = Fallback.make({
      client,
      alternatives: [Fallback.model("claude-haiku-5-5"), Fallback.answer(() => EffectValue.flatMap(Cache, (c) => c.get))]
    })
    type Chain = Effect.Effect.Success<typeof made>
    type E = Fallback.CallError | Options.InvalidOptionsError | "miss"
    expectTypeOf<Chain>().toEqualTypeOf<Fallback.Service<E, Cache>>()
    expectTypeOf<Effect.Effect.Context<typeof made>>().toEqualTypeOf<Scope.Scope>()
    const chain = {} as Chain
    const created = chain.create(params)
    expectTypeOf<Effect.Effect.Success<typeof created>>().toEqualTypeOf<Fallback.Answered<Messages.Message, E>>()
    expectTypeOf<Effect.Effect.Error<typeof created>>().toEqualTypeOf<Fallback.FallbackError<E>>()
    expectTypeOf<Effect.Effect.Context<typeof created>>().toEqualTypeOf<Cache>()
    const streamed = chain.stream(params)
    expectTypeOf<Effect.Effect.Success<typeof streamed>["value"]>().toEqualTypeOf<
      Stream.Stream<MessageStream.MessageStreamEvent, Claude.StreamError>
    >()
    expectTypeOf<Effect.Effect.Context<typeof streamed>>().toEqualTypeOf<Cache | Scope.Scope>()
  })

  it("a chain of models only adds no error of its own beyond the calls' and the client's", () => {
    const made = Fallback.make({ client, alternatives: [Fallback.model("claude-haiku-5-5")] })
    expectTypeOf<Effect.Effect.Success<typeof made>>().toEqualTypeOf<
      Fallback.Service<Fallback.CallError | Options.InvalidOptionsError, never>
    >()
  })

  it("`on` takes only the tags of the calls' errors", () => {
    Fallback.make({ client, alternatives: [Fallback.model("m")], on: ["InvalidRequestError", "RateLimitError"] })
    // @ts-expect-error: not a tag of a call's error
    Fallback.make({ client, alternatives: [Fallback.model("m")], on: ["NoSuchError"] })
  })

  it("a failure's error narrows by its tag", () => {
    const error = {} as Fallback.FallbackError<Fallback.CallError | "miss">
    const first = error.failures[0]
    expectTypeOf(first.error).toEqualTypeOf<Fallback.CallError | "miss">()
  })
})
