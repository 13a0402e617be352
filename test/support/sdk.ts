/**
 * The official `@anthropic-ai/sdk` client, for the parity suites
 * (test/parity/): the same scripted loopback server answers it and ours, and
 * each test counts both clients' requests.
 */
import Anthropic from "@anthropic-ai/sdk"
import * as Effect from "effect/Effect"
import { key } from "./hardening.js"

/** The request every parity test sends, in the SDK's own type. */
export const sdkParams: Anthropic.MessageCreateParamsNonStreaming = {
  model: "claude-test-model",
  max_tokens: 256,
  messages: [{ role: "user", content: "Hello" }]
}

/** The SDK on `url`; `maxRetries` 2 (its default); waits come from the server's `retry-after-ms`. */
export const sdkOn = (url: string, maxRetries = 2) => new Anthropic({ apiKey: key, baseURL: url, maxRetries, timeout: 10_000 })

/** How an SDK call ended: its value, or what it threw. */
export type Settled<A> =
  | { readonly ok: true; readonly value: A }
  | { readonly ok: false; readonly error: unknown }

/** Runs an SDK call to its end, never failing (what it throws, at once or later, is its outcome). */
export const settle = <A>(call: () => Promise<A>): Effect.Effect<Settled<A>> =>
  Effect.promise(() =>
    Promise.resolve().then(call).then(
      (value): Settled<A> => ({ ok: true, value }),
      (error: unknown): Settled<A> => ({ ok: false, error })
    )
  )

/** An error's class name and message, for the report. */
export const describe = (error: unknown): string =>
  error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error)
