/**
 * Issue 10, item 3: a long `create` (past the 10-minute rule it is sent as a
 * stream and accumulated) kept none of its overload retries: an
 * `overloaded_error` after `message_start` ended the call after 1 request,
 * while the same overload as an HTTP 529 was retried. The caller of
 * `create` / `finalMessage` sees no events, so the whole request is retried
 * while nothing has been returned. Side by side with the official SDK,
 * against the same scripted loopback server.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import Anthropic from "@anthropic-ai/sdk"
import { clientOn, key, params, settled } from "../support/hardening.js"
import { httpServer } from "../support/hostileServer.js"
import { describe as describeError, sdkOn, sdkParams, settle } from "../support/sdk.js"
import { errorBody, errorEvent, replyJson, replySse, textEvents } from "../support/wire.js"
import { virtual } from "../e2e/support.js"
import * as Preflight from "../../src/Preflight.js"

const long = { ...params, max_tokens: 64000 }
const sdkLong = { ...sdkParams, max_tokens: 64000 }

/** The first request gets `first`, every later one a healthy stream. */
const script = (first: "overload event" | "529") => {
  let n = 0
  return httpServer((_request, res) => {
    n++
    if (n > 1) return replySse(res, textEvents("Hello after the overload"))
    if (first === "overload event") return replySse(res, [textEvents("")[0]!, errorEvent("overloaded_error")])
    replyJson(res, 529, errorBody("overloaded_error"), { "retry-after-ms": "10" })
  })
}

describe("parity: a long create (sent as a stream) and an overload after message_start", () => {
  it.scoped("ours: retried, the Message after 2 requests; the SDK's finalMessage: the error after 1 request", () =>
    Effect.gen(function*() {
      expect(Preflight.isLongRequest(long.max_tokens)).toBe(true)
      const ours = yield* script("overload event")
      const claude = yield* clientOn(ours.url)
      const message = yield* virtual(claude.messages.create(long))
      expect(message.content).toEqual([{ type: "text", text: "Hello after the overload" }])
      expect(ours.requests).toHaveLength(2)
      expect(ours.requests.map((r) => JSON.parse(r.body).stream)).toEqual([true, true])
      // finalMessage is the same path
      const again = yield* script("overload event")
      const claude2 = yield* clientOn(again.url)
      expect((yield* virtual(claude2.messages.finalMessage(params))).id).toBe("msg_1")
      expect(again.requests).toHaveLength(2)

      const theirs = yield* script("overload event")
      const sdk = sdkOn(theirs.url)
      const outcome = yield* settle(() => sdk.messages.stream(sdkLong).finalMessage())
      expect(outcome.ok).toBe(false)
      if (!outcome.ok) expect(describeError(outcome.error)).toMatch(/overload/i)
      expect(theirs.requests).toHaveLength(1)
      yield* settled(ours)
    }))

  it.scoped("the SDK's non-streaming create refuses a request that long: 0 requests", () =>
    Effect.gen(function*() {
      const theirs = yield* script("overload event")
      // the SDK checks this only when no timeout is given
      const outcome = yield* settle(() => new Anthropic({ apiKey: key, baseURL: theirs.url }).messages.create(sdkLong))
      expect(outcome.ok).toBe(false)
      if (!outcome.ok) expect(describeError(outcome.error)).toMatch(/10 minutes/)
      expect(theirs.requests).toHaveLength(0)
    }))

  it.scoped("the same overload as an HTTP 529: both retry, both get the Message after 2 requests", () =>
    Effect.gen(function*() {
      const ours = yield* script("529")
      const claude = yield* clientOn(ours.url)
      expect((yield* virtual(claude.messages.create(long))).id).toBe("msg_1")
      expect(ours.requests).toHaveLength(2)

      const theirs = yield* script("529")
      const outcome = yield* settle(() => sdkOn(theirs.url).messages.stream(sdkLong).finalMessage())
      expect(outcome.ok && outcome.value.id).toBe("msg_1")
      expect(theirs.requests).toHaveLength(2)
    }))
})
