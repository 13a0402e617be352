/**
 * The adapters' types: `Resilience.fetch()` is what the official SDK's
 * `fetch` option takes, `Resilience.transformClient()` what
 * `AnthropicClient.layer` / `layerConfig` take, and their options are the
 * policy modules' options (a misspelt key does not compile).
 */
import type { ClientOptions } from "@anthropic-ai/sdk"
import * as AnthropicClient from "@effect/ai-anthropic/AnthropicClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import { Config } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import { Resilience } from "../../src/index.js"

describe("Resilience.fetch", () => {
  it("is a fetch the SDK takes, and the global fetch is a Resilience.Fetch", () => {
    const fetch = Resilience.fetch()
    expectTypeOf(fetch).toMatchTypeOf<NonNullable<ClientOptions["fetch"]>>()
    expectTypeOf(fetch).toMatchTypeOf<Resilience.Fetch>()
    expectTypeOf(globalThis.fetch).toMatchTypeOf<Resilience.Fetch>()
    expectTypeOf(fetch.dispose).toEqualTypeOf<() => Promise<void>>()
    expectTypeOf(fetch[Symbol.asyncDispose]).toEqualTypeOf<() => Promise<void>>()
  })

  it("takes the policy modules' options, every one optional", () => {
    Resilience.fetch({})
    Resilience.fetch({ retry: { maxRetries: 3, maxElapsed: "10 seconds" }, breaker: { name: "sdk" }, budget: { percent: 0.1 } })
    Resilience.fetch({ fetch: globalThis.fetch, retry: undefined })
    // @ts-expect-error a misspelt option
    Resilience.fetch({ retry: { maxRetires: 3 } })
    // @ts-expect-error an option that is not the adapter's
    Resilience.fetch({ maxRetries: 3 })
  })
})

describe("Resilience.transformClient", () => {
  it("is an HttpClient => HttpClient middleware that AnthropicClient.layer and layerConfig take", () => {
    const transformClient = Resilience.transformClient()
    expectTypeOf(transformClient).toEqualTypeOf<(client: HttpClient.HttpClient) => HttpClient.HttpClient>()
    AnthropicClient.layer({ transformClient })
    AnthropicClient.layerConfig({ apiKey: Config.redacted("ANTHROPIC_API_KEY"), transformClient })
  })

  it("takes the policy modules' options, and no fetch", () => {
    Resilience.transformClient({ retry: { jitter: "equal" }, breaker: { minimumCalls: 20 }, budget: { ttl: "30 seconds" } })
    // @ts-expect-error the middleware sends through the client it wraps
    Resilience.transformClient({ fetch: globalThis.fetch })
    // @ts-expect-error a misspelt option
    Resilience.transformClient({ breaker: { minimumCall: 20 } })
  })
})
