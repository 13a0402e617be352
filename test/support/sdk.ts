/**
/**
 * The official `@anthropic-ai/sdk` client, for the parity suites
 * (test/parity/): the same scripted loopback server answers it and ours, and
 * each test counts both clients' requests. It sleeps for real between
 * retries, so every scripted reply it retries carries `retry-after-ms: 1`.
 */
import Anthropic from "@anthropic-ai/sdk"
import * as Effect from "effect/Effect"
import { key } from "./hardening.js"
import type { HostileServer } from "./hostileServer.js"
import { apiKey, params } from "./scripted.js"

/** How one call ended: `"ok"`, or the SDK's error class and status. */
export interface SdkOutcome {
  readonly requests: number
  readonly outcome: string
}

/** One `messages.create` call by the official SDK (default `maxRetries: 2`). */
export const sdkCall = (server: HostileServer, options: { readonly maxRetries?: number } = {}): Effect.Effect<SdkOutcome> =>
  Effect.promise(async () => {
    const client = new Anthropic({ apiKey, baseURL: server.url, timeout: 10_000, ...options })
    const before = server.requests.length
    let outcome: string
    try {
      await client.messages.create({
        model: params.model,
        max_tokens: params.max_tokens,
        messages: [{ role: "user", content: "Hello" }]
      })
      outcome = "ok"
    } catch (error) {
      outcome = error instanceof Anthropic.APIError ? `${error.constructor.name} ${error.status}` : String(error)
    }
    return { requests: server.requests.length - before, outcome }
  })

/** The request every parity test sends, in the SDK's own type. */
export const sdkParams: Anthropic.MessageCreateParamsNonStreaming = {
  model: "claude-sonnet-5-5",
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
