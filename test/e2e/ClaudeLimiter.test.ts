/**
 * The client with a `RateLimits.Limiter` in its context: each attempt of a
 * Messages call is admitted before it is sent, each response's snapshot
 * feeds the limiter, and a 429's `retry-after` blocks the organisation.
 * Without one, the client behaves as it did. Real loopback I/O under
 * TestClock (runVirtual): the instant each request is sent is the virtual
 * instant `transformClient` sees it leave.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Fiber, Layer, Option, Redacted, Ref, Stream } from "effect"
import { Claude, RateLimits, Resilience } from "../../src/index.js"
import { httpServer } from "../support/hostileServer.js"
import { countParams, params } from "../support/messages.js"
import { runVirtual } from "../support/virtualTime.js"
import { errorBody, message, replyJson, replySse, textEvents } from "../support/wire.js"

const iso = (millis: number) => new Date(millis).toISOString()

/** The requests quota: `remaining` left, full again at `reset` (virtual epoch milliseconds). */
const quota = (remaining: number, reset: number) => ({
  "anthropic-ratelimit-requests-limit": "50",
  "anthropic-ratelimit-requests-remaining": String(remaining),
  "anthropic-ratelimit-requests-reset": iso(reset)
})

/** A client on `url` that records the virtual instant of every request it sends (and its path). */
const clientOn = (url: string, sent: Ref.Ref<ReadonlyArray<readonly [number, string]>>, retry?: Claude.Options["retry"]) =>
  Claude.make({
    apiKey: Redacted.make("sk-ant-test"),
    baseUrl: url,
    ...(retry !== undefined ? { retry } : {}),
    transformClient: HttpClient.tapRequest((request) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Ref.update(sent, (all) => [...all, [now, new URL(request.url).pathname] as const])))
  })

const withLimiter = Layer.mergeAll(NodeHttpClient.layer, Resilience.layer(), RateLimits.layerMemory({ headroom: 0 }))
const withoutLimiter = Layer.merge(NodeHttpClient.layer, Resilience.layer())

const instants = (sent: Ref.Ref<ReadonlyArray<readonly [number, string]>>) =>
  Effect.map(Ref.get(sent), (all) => all.map(([at]) => at))

describe("Claude with a RateLimits.Limiter", () => {
  it.scoped("a response saying 0 requests are left until 5 s: the next call's request is sent at 5 s, not before", () =>
    Effect.gen(function*() {
      const server = yield* httpServer((_request, res) => replyJson(res, 200, message("ok"), quota(0, 5_000)))
      const sent = yield* Ref.make<ReadonlyArray<readonly [number, string]>>([])
      const claude = yield* clientOn(server.url, sent)
      yield* runVirtual(claude.messages.create(params))
      yield* runVirtual(claude.messages.create(params))
      expect(yield* instants(sent)).toEqual([0, 5_000])
      expect(server.requests).toHaveLength(2)
    }).pipe(Effect.provide(withLimiter)))

  it.scoped("without a limiter the client behaves as it did: the second request goes at once", () =>
    Effect.gen(function*() {
      const server = yield* httpServer((_request, res) => replyJson(res, 200, message("ok"), quota(0, 5_000)))
      const sent = yield* Ref.make<ReadonlyArray<readonly [number, string]>>([])
      const claude = yield* clientOn(server.url, sent)
      yield* runVirtual(claude.messages.create(params))
      yield* runVirtual(claude.messages.create(params))
      expect(yield* instants(sent)).toEqual([0, 0])
    }).pipe(Effect.provide(withoutLimiter)))

  it.scoped("messages.stream is admitted the same way; Token Counting (limits of its own) is not", () =>
    Effect.gen(function*() {
      const server = yield* httpServer((request, res) =>
        request.url.endsWith("/count_tokens")
          ? replyJson(res, 200, { input_tokens: 12 })
          : request.body.includes(`"stream":true`)
          ? replySse(res, textEvents("streamed"))
          : replyJson(res, 200, message("ok"), quota(0, 5_000))
      )
      const sent = yield* Ref.make<ReadonlyArray<readonly [number, string]>>([])
      const claude = yield* clientOn(server.url, sent)
      yield* runVirtual(claude.messages.create(params))
      yield* runVirtual(claude.messages.countTokens(countParams))
      yield* runVirtual(Stream.runDrain(claude.messages.stream(params)))
      expect(yield* Ref.get(sent)).toEqual([[0, "/v1/messages"], [0, "/v1/messages/count_tokens"], [5_000, "/v1/messages"]])
    }).pipe(Effect.provide(withLimiter)))

  it.scoped("a 429's retry-after seen by one call blocks another call's request until then", () =>
    Effect.gen(function*() {
      let first = true
      const server = yield* httpServer((_request, res) => {
        if (first) {
          first = false
          replyJson(res, 429, errorBody("rate_limit_error", "slow down"), { "retry-after": "3" })
        } else {
          replyJson(res, 200, message("ok"))
        }
      })
      const sent = yield* Ref.make<ReadonlyArray<readonly [number, string]>>([])
      // no retry: the call that met the 429 ends with it
      const claude = yield* clientOn(server.url, sent, { maxRetries: 0 })
      const limited = yield* Effect.either(runVirtual(claude.messages.create(params)))
      assert(limited._tag === "Left")
      expect(limited.left).toMatchObject({ _tag: "RateLimitError" })
      // another call, from another fiber: sent when the retry-after ends
      const other = yield* Effect.fork(runVirtual(claude.messages.create(params)))
      yield* Fiber.join(other)
      expect(yield* instants(sent)).toEqual([0, 3_000])
    }).pipe(Effect.provide(withLimiter)))

  it.scoped("a wait longer than the call's wall-clock limit (maxElapsed) fails at once with the RateLimitError it would meet; nothing is sent", () =>
    Effect.gen(function*() {
      const server = yield* httpServer((_request, res) => replyJson(res, 200, message("ok"), quota(0, 60_000)))
      const sent = yield* Ref.make<ReadonlyArray<readonly [number, string]>>([])
      const claude = yield* clientOn(server.url, sent, { maxElapsed: "15 seconds" })
      yield* runVirtual(claude.messages.create(params))
      const refused = yield* Effect.either(runVirtual(claude.messages.create(params)))
      assert(refused._tag === "Left")
      const error = refused.left
      assert(typeof error === "object" && error._tag === "RateLimitError")
      expect(error.message).toContain("The request was not sent")
      expect(Option.map(error.retryAfter, (d) => d.value)).toBeDefined()
      expect(yield* Clock.currentTimeMillis).toBe(0)
      expect(server.requests).toHaveLength(1)
      expect(yield* instants(sent)).toEqual([0])
    }).pipe(Effect.provide(withLimiter)))
})
