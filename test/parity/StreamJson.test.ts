/**
 * Issue 10, item 7: `stream()` against a 200 JSON reply (a proxy or mock
 * that ignores `stream: true`) retried for 8 s and ended as a retryable
 * `TransportError` ("ended before its first event"). The same request gets
 * the same body: it is a `MalformedResponseError`, after 1 request, with no
 * wait. Side by side with the official SDK.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { Claude } from "../../src/index.js"
import { clientOn, params } from "../support/hardening.js"
import { httpServer } from "../support/hostileServer.js"
import { sdkOn, sdkParams, settle } from "../support/sdk.js"
import { message, replyJson } from "../support/wire.js"
import { consume, oneFailure } from "../e2e/support.js"

const jsonServer = httpServer((_request, res) => replyJson(res, 200, message("I ignored stream: true")))

describe("parity: a stream request answered with 200 JSON", () => {
  it.scoped("ours: MalformedResponseError, 1 request, no time waited; the SDK: 1 request", () =>
    Effect.gen(function*() {
      const ours = yield* jsonServer
      const claude = yield* clientOn(ours.url)
      const { exit, received } = yield* consume(claude.messages.stream(params))
      const error = oneFailure(exit)
      expect(error).toBeInstanceOf(Claude.MalformedResponseError)
      expect(error.message).toContain("text/event-stream")
      expect(received).toHaveLength(0)
      expect(ours.requests).toHaveLength(1)
      expect(yield* TestClock.currentTimeMillis).toBe(0)
      // finalMessage and a long create too
      expect(oneFailure(yield* Effect.exit(claude.messages.finalMessage(params)))._tag).toBe("MalformedResponseError")
      expect(ours.requests).toHaveLength(2)

      const theirs = yield* jsonServer
      const seen: Array<string> = []
      const outcome = yield* settle(async () => {
        for await (const event of await sdkOn(theirs.url).messages.create({ ...sdkParams, stream: true })) {
          seen.push(event.type)
        }
      })
      // the SDK reads the JSON as an event stream with no events: it ends, empty, without an error
      expect({ ok: outcome.ok, seen }).toEqual({ ok: true, seen: [] })
      expect(theirs.requests).toHaveLength(1)
    }))

  it.scoped("a 2xx text/event-stream that ends before any event is still retried (a TransportError)", () =>
    Effect.gen(function*() {
      let n = 0
      const server = yield* httpServer((_request, res) => {
        n++
        res.writeHead(200, { "content-type": "text/event-stream", connection: "close" })
        res.end(n === 1 ? "" : "event: ping\ndata: {\"type\":\"ping\"}\n\n")
      })
      const claude = yield* clientOn(server.url, { retry: { maxRetries: 1 } })
      const error = oneFailure((yield* consume(Stream.take(claude.messages.stream(params), 1))).exit)
      expect(error._tag).toBe("IncompleteStreamError")
      expect(server.requests).toHaveLength(2)
    }))
})
