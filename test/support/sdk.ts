/**
 * The official `@anthropic-ai/sdk`, run against a loopback URL for the
 * parity tests: how many requests it sent and how the call ended. It sleeps
 * for real between retries, so every scripted reply it retries carries
 * `retry-after-ms: 1`.
 */
import Anthropic from "@anthropic-ai/sdk"
import * as Effect from "effect/Effect"
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
