import type { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Config, type ConfigError, Effect, Either, Layer, Redacted } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import { type CircuitBreaker, Claude, type Options, Resilience, type RetryBudget, RetryPolicy } from "../src/index.js"
import { Emulator } from "../src/testing/index.js"

type Needs = HttpClient.HttpClient | CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget

const options: Claude.Options = { apiKey: Redacted.make("sk-ant-…") }

describe("the client's wiring is in its type", () => {
  it("Claude.layer needs exactly HttpClient, CircuitBreaker and RetryBudget, and provides Claude", () => {
    const layer = Claude.layer(options)
    expectTypeOf<Layer.Layer.Context<typeof layer>>().toEqualTypeOf<Needs>()
    expectTypeOf<Layer.Layer.Success<typeof layer>>().toEqualTypeOf<Claude.Claude>()
    expectTypeOf<Layer.Layer.Error<typeof layer>>().toEqualTypeOf<Options.InvalidOptionsError>()
  })

  it("Claude.layerConfig needs the same three, and may fail with a ConfigError too", () => {
    const layer = Claude.layerConfig()
    expectTypeOf<Layer.Layer.Context<typeof layer>>().toEqualTypeOf<Needs>()
    expectTypeOf<Layer.Layer.Error<typeof layer>>().toEqualTypeOf<
      ConfigError.ConfigError | Options.InvalidOptionsError
    >()
  })

  it("Claude.make needs the same three, and no Scope", () => {
    const made = Claude.make(options)
    expectTypeOf<Effect.Effect.Context<typeof made>>().toEqualTypeOf<Needs>()
    expectTypeOf<Effect.Effect.Success<typeof made>>().toEqualTypeOf<Claude.Service>()
  })

  it("an HttpClient alone leaves the breaker and the budget to provide; Resilience.layer() provides them", () => {
    const partly = Claude.layer(options).pipe(Layer.provide(NodeHttpClient.layer))
    expectTypeOf<Layer.Layer.Context<typeof partly>>().toEqualTypeOf<
      CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget
    >()
    const whole = Claude.layer(options).pipe(Layer.provide(Layer.mergeAll(NodeHttpClient.layer, Resilience.layer())))
    expectTypeOf<Layer.Layer.Context<typeof whole>>().toEqualTypeOf<never>()
  })

  it("Emulator.layerClaude needs nothing and gives the breaker and the budget it runs on", () => {
    const layer = Emulator.layerClaude()
    expectTypeOf<Layer.Layer.Context<typeof layer>>().toEqualTypeOf<never>()
    expectTypeOf<Layer.Layer.Success<typeof layer>>().toEqualTypeOf<
      Emulator.Emulator | Claude.Claude | CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget
    >()
  })

  it("a service's calls need nothing from the caller's context", () => {
    const program = Effect.flatMap(Claude.Claude, (claude) => claude.batches.list())
    expectTypeOf<Effect.Effect.Context<typeof program>>().toEqualTypeOf<Claude.Claude>()
  })
})

describe("the options", () => {
  it("there is no breaker option", () => {
    // @ts-expect-error the breaker is a service: Resilience.layer({ breaker })
    Claude.layer({ ...options, breaker: { minimumCalls: 5 } })
  })

  it("retry takes RetryPolicy.Options or a built RetryPolicy", () => {
    Claude.layer({ ...options, retry: { maxRetries: 3, maxElapsed: "30 seconds" } })
    Claude.layer({ ...options, retry: Either.getOrThrow(RetryPolicy.make({ jitter: "equal" })) })
    // @ts-expect-error an unknown jitter
    Claude.layer({ ...options, retry: { jitter: "wild" } })
  })

  it("longRequests is one of two literals; apiKey must be Redacted", () => {
    // @ts-expect-error a misspelt literal
    Claude.layer({ ...options, longRequests: "strem" })
    // @ts-expect-error a plain string key
    Claude.layer({ apiKey: "sk-ant-…" })
  })

  it("transformClient maps an HttpClient to an HttpClient", () => {
    Claude.layer({ ...options, transformClient: (client) => client })
    // @ts-expect-error not an HttpClient
    Claude.layer({ ...options, transformClient: () => "client" })
  })

  it("Claude.settings gives the Settings, durations as Durations and the policy built", () => {
    expectTypeOf(Claude.settings(options)).toEqualTypeOf<Either.Either<Claude.Settings, Options.InvalidOptionsError>>()
    expectTypeOf<Claude.Settings["retry"]>().toEqualTypeOf<RetryPolicy.RetryPolicy>()
  })

  it("layerConfig takes a Config per option, nested for retry", () => {
    Claude.layerConfig({
      apiKey: Config.redacted("MY_KEY"),
      retry: { maxRetries: Config.integer("RETRIES") },
      longRequests: Config.literal("stream", "fail")("LONG_REQUESTS")
    })
    // @ts-expect-error a Config of the wrong type
    Claude.layerConfig({ maxEventSize: Config.string("SIZE") })
  })
})
