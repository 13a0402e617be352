/**
 * Issue 10, item 4: stream retries almost never applied. `message_start`
 * counted as handed to the consumer, and the API sends it first, so an
 * `event: error` right after it was never retried. Now `message_start` and
 * `ping` are held back until the first content event (or `message_stop`):
 * an error before it is retried transparently, and the consumer sees one
 * clean stream (each event once, in order). Side by side with the official
 * SDK, against the same scripted loopback server.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { clientOn, params } from "../support/hardening.js"
import { httpServer } from "../support/hostileServer.js"
import { sdkOn, sdkParams, settle } from "../support/sdk.js"
import { errorEvent, replySse, type SseEvent, textEvents } from "../support/wire.js"
import { consume, oneFailure, types } from "../e2e/support.js"

const full = textEvents("Hello again")
const allTypes = full.map(([event]) => event)

/** The first request gets `first`, every later one the full stream. */
const script = (first: ReadonlyArray<SseEvent>) => {
  let n = 0
  return httpServer((_request, res) => replySse(res, ++n === 1 ? first : full))
}

/** The SDK's raw event stream: the types it yielded, and how it ended. */
const sdkStream = (url: string) => {
  const seen: Array<string> = []
  return Effect.map(
    settle(async () => {
      const events = await sdkOn(url).messages.create({ ...sdkParams, stream: true })
      for await (const event of events) seen.push(event.type)
    }),
    (outcome) => ({ seen, outcome })
  )
}

describe("parity: an error event right after message_start (and ping)", () => {
  it.scoped("ours: retried, one clean stream after 2 requests; the SDK: message_start, then the error, 1 request", () =>
    Effect.gen(function*() {
      const first = [full[0]!, full[1]!, errorEvent("overloaded_error")]
      const ours = yield* script(first)
      const claude = yield* clientOn(ours.url)
      const { exit, received } = yield* consume(claude.messages.stream(params))
      expect(exit._tag).toBe("Success")
      expect(types(received)).toEqual(allTypes)
      expect(ours.requests).toHaveLength(2)

      const theirs = yield* script(first)
      const { outcome, seen } = yield* sdkStream(theirs.url)
      expect(outcome.ok).toBe(false)
      // (the SDK does not yield ping events)
      expect(seen).toEqual(["message_start"])
      expect(theirs.requests).toHaveLength(1)
    }))

  it.scoped("right after message_start alone: the same, retried once", () =>
    Effect.gen(function*() {
      const ours = yield* script([full[0]!, errorEvent("api_error", "Internal")])
      const claude = yield* clientOn(ours.url)
      const events = yield* consume(claude.messages.stream(params))
      expect(types(events.received)).toEqual(allTypes)
      expect(ours.requests).toHaveLength(2)
    }))

  it.scoped("after content_block_start, events were handed over: neither client retries (1 request each)", () =>
    Effect.gen(function*() {
      const first = [full[0]!, full[1]!, full[2]!, errorEvent("overloaded_error")]
      const ours = yield* script(first)
      const claude = yield* clientOn(ours.url)
      const { exit, received } = yield* consume(claude.messages.stream(params))
      expect(oneFailure(exit)._tag).toBe("OverloadedError")
      expect(types(received)).toEqual(["message_start", "ping", "content_block_start"])
      expect(ours.requests).toHaveLength(1)

      const theirs = yield* script(first)
      const { outcome, seen } = yield* sdkStream(theirs.url)
      expect(outcome.ok).toBe(false)
      expect(seen).toEqual(["message_start", "content_block_start"])
      expect(theirs.requests).toHaveLength(1)
    }))

  it.scoped("a consumer that takes 2 events still gets message_start and ping, once each", () =>
    Effect.gen(function*() {
      const ours = yield* script(full)
      const claude = yield* clientOn(ours.url)
      const taken = yield* Stream.runCollect(Stream.take(claude.messages.stream(params), 2))
      expect(types(Chunk.toReadonlyArray(taken))).toEqual(["message_start", "ping"])
      expect(ours.requests).toHaveLength(1)
    }))
})
