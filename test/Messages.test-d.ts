import { pipe } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import { Messages } from "../src/index.js"

const user = { role: "user", content: "Hello, Claude" } as const

describe("request params are closed", () => {
  it("the named params compile (the control)", () => {
    const params: Messages.MessageCreateParams = {
      model: "claude-sonnet-5-5",
      max_tokens: 1024,
      temperature: 0.2,
      system: "Be brief.",
      messages: [user]
    }
    expectTypeOf(params.temperature).toEqualTypeOf<number | undefined>()
  })

  it("a misspelt param does not compile", () => {
    const misspeltTemperature: Messages.MessageCreateParams = {
      model: "claude-sonnet-5-5",
      max_tokens: 1024,
      // @ts-expect-error "temprature" is not a param
      temprature: 0.2,
      messages: [user]
    }
    const misspeltSystem: Messages.MessageCreateParams = {
      model: "claude-sonnet-5-5",
      max_tokens: 1024,
      // @ts-expect-error "sytem" is not a param
      sytem: "Be brief.",
      messages: [user]
    }
    const countTokens: Messages.CountTokensParams = {
      model: "claude-sonnet-5-5",
      // @ts-expect-error "sytem" is not a param of CountTokensParams either
      sytem: "Be brief.",
      messages: [user]
    }
    void [misspeltTemperature, misspeltSystem, countTokens]
  })

  it("max_tokens is not a param of CountTokensParams", () => {
    const params: Messages.CountTokensParams = {
      model: "claude-sonnet-5-5",
      // @ts-expect-error Token Counting takes no max_tokens
      max_tokens: 1024,
      messages: [user]
    }
    void params
  })

  it("a param this version does not know goes in extraParams, typed as JSON", () => {
    const params: Messages.MessageCreateParams = {
      model: "claude-sonnet-5-5",
      max_tokens: 1024,
      messages: [user],
      extraParams: { context_management: { edits: [] } }
    }
    expectTypeOf(params.extraParams).toEqualTypeOf<Messages.ExtraParams | undefined>()
    expectTypeOf<Messages.ExtraParams>().toEqualTypeOf<{ readonly [x: string]: unknown }>()
  })

  it("withExtraParams keeps the params' type, data-first and piped", () => {
    const base: Messages.MessageCreateParams = { model: "claude-sonnet-5-5", max_tokens: 1024, messages: [user] }
    expectTypeOf(Messages.withExtraParams(base, { a: 1 })).toExtend<Messages.MessageCreateParams>()
    expectTypeOf(pipe(base, Messages.withExtraParams({ a: 1 }))).toExtend<Messages.MessageCreateParams>()
    const count: Messages.CountTokensParams = { model: "claude-sonnet-5-5", messages: [user] }
    expectTypeOf(Messages.withExtraParams(count, { a: 1 })).toExtend<Messages.CountTokensParams>()
    // @ts-expect-error only request params take extra params
    Messages.withExtraParams({ custom_id: "a" }, { a: 1 })
  })
})
