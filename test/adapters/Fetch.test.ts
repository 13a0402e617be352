/**
 * Issue 16, the official SDK: `Resilience.fetch` inside
 * `new Anthropic({ fetch, maxRetries: 0 })`, against scripted loopback
 * servers. The adapter's waits run on its runtime's TestClock with
 * `Random.fixed([0.5])` (full jitter: 500 ms, then 1 000 ms), so every
 * figure is exact; each test counts the requests the server received.
 */
import Anthropic from "@anthropic-ai/sdk"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { error, internal, key, overloaded, script, sdkParams, sdkWith, spendLimit, virtualFetch } from "./support.js"

describe("Resilience.fetch in the official SDK", () => {
  it.scoped("529, 529, 200: the SDK returns the message after 3 requests, the waits 500 ms and 1 000 ms", () =>
    Effect.gen(function*() {
      const server = yield* script([overloaded, overloaded])
      const { fetch, run } = virtualFetch()
      const sdk = sdkWith(server.url, fetch)
      const { at, outcome } = yield* run(() => sdk.messages.create(sdkParams))
      expect(Either.getOrThrow(outcome).id).toBe("msg_scripted_2")
      expect(server.requests).toHaveLength(3)
      expect(at).toBe(1500)
      // every attempt carried the same body and the key
      expect(new Set(server.requests.map((r) => r.body)).size).toBe(1)
      expect(server.requests.every((r) => r.headers.authorization === `Bearer ${key}`)).toBe(true)
      yield* Effect.promise(() => fetch.dispose())
    }))

  it.scoped("a spend-limit 429: 1 request, and the SDK's own RateLimitError with the server's message", () =>
    Effect.gen(function*() {
      const server = yield* script([spendLimit])
      const { fetch, run } = virtualFetch()
      const { at, outcome } = yield* run(() => sdkWith(server.url, fetch).messages.create(sdkParams))
      const failure = Either.flip(outcome).pipe(Either.getOrThrow)
      expect(failure).toBeInstanceOf(Anthropic.RateLimitError)
      expect((failure as Anthropic.RateLimitError).status).toBe(429)
      expect((failure as Anthropic.RateLimitError).message).toContain("spend limit")
      expect(server.requests).toHaveLength(1)
      expect(at).toBe(0)
      yield* Effect.promise(() => fetch.dispose())
    }))

  it.scoped("retry-after: 3600 fails at once (no wait taken): 1 request, the SDK's OverloadedError", () =>
    Effect.gen(function*() {
      const server = yield* script([{ ...overloaded, headers: { "retry-after": "3600" } }])
      const { fetch, run } = virtualFetch()
      const { at, outcome } = yield* run(() => sdkWith(server.url, fetch).messages.create(sdkParams))
      const failure = Either.flip(outcome).pipe(Either.getOrThrow)
      expect(failure).toBeInstanceOf(Anthropic.APIError)
      expect((failure as Anthropic.APIError).status).toBe(529)
      expect(server.requests).toHaveLength(1)
      expect(at).toBe(0)
      yield* Effect.promise(() => fetch.dispose())
    }))

  it.scoped("500, 500: 2 requests (a 500 is retried once), then the SDK's InternalServerError", () =>
    Effect.gen(function*() {
      const server = yield* script([internal, internal, internal])
      const { fetch, run } = virtualFetch()
      const { at, outcome } = yield* run(() => sdkWith(server.url, fetch).messages.create(sdkParams))
      const failure = Either.flip(outcome).pipe(Either.getOrThrow)
      expect(failure).toBeInstanceOf(Anthropic.InternalServerError)
      expect(server.requests).toHaveLength(2)
      expect(at).toBe(500)
      yield* Effect.promise(() => fetch.dispose())
    }))

  it.scoped("a stream answered 529 before any byte is retried: the events after 2 requests", () =>
    Effect.gen(function*() {
      const server = yield* script([overloaded])
      const { fetch, run } = virtualFetch()
      const sdk = sdkWith(server.url, fetch)
      const { at, outcome } = yield* run(async () => {
        const types: Array<string> = []
        const stream = await sdk.messages.create({ ...sdkParams, stream: true })
        for await (const event of stream) types.push(event.type)
        return types
      })
      expect(Either.getOrThrow(outcome)).toContain("message_stop")
      expect(server.requests).toHaveLength(2)
      expect(at).toBe(500)
      yield* Effect.promise(() => fetch.dispose())
    }))
})
