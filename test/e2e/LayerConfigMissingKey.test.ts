/**
 * A missing ANTHROPIC_API_KEY reads as missing: `Config.redacted` replaces
 * the message of a secret's error with "<redacted>", which reads as if a key
 * were there and hidden. `Claude.layerConfig` says the variable is not set
 * and how to set it.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Claude, Options, Resilience } from "../../src/index.js"

const buildWith = (entries: ReadonlyArray<readonly [string, string]>) =>
  Layer.build(Claude.layerConfig()).pipe(
    Effect.provide(Layer.merge(NodeHttpClient.layer, Resilience.layer())),
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(entries))),
    Effect.scoped,
    Effect.flip
  )

describe("Claude.layerConfig without ANTHROPIC_API_KEY", () => {
  it.effect("fails with a ConfigError (MissingData) that says the variable is not set and how to set it", () =>
    Effect.gen(function*() {
      const error = yield* buildWith([["ANTHROPIC_BASE_URL", "http://127.0.0.1:1"]])
      expect(ConfigError.isConfigError(error)).toBe(true)
      const configError = error as ConfigError.ConfigError
      expect(ConfigError.isMissingDataOnly(configError)).toBe(true)
      const printed = [String(configError), Cause.pretty(Cause.fail(configError)), JSON.stringify(configError)].join("\n")
      expect(printed).toContain("ANTHROPIC_API_KEY is not set")
      expect(printed).toContain("export ANTHROPIC_API_KEY=")
      expect(printed).toContain("Redacted.make(key)")
      expect(printed).not.toContain("<redacted>")
    }))

  it.effect("a key that is set but blank is an InvalidOptionsError at apiKey (the control: not a missing key)", () =>
    Effect.gen(function*() {
      const error = yield* buildWith([["ANTHROPIC_API_KEY", ""]])
      expect(error).toBeInstanceOf(Options.InvalidOptionsError)
      expect(error).toMatchObject({ module: "Claude", problems: [{ path: "apiKey" }] })
    }))
})
