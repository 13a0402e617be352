/**
 * Issue 9, item 2: deeply nested JSON must end as a typed error. A few
 * kilobytes of nested arrays (depth 2 500) decode fine with `JSON.parse`,
 * but Effect's TreeFormatter prints the value recursively and overflows the
 * stack: the call died, and the breaker counted the defect as a success.
 * Now: `MalformedResponseError`, 1 request, for every body the client
 * decodes (create, countTokens, an SSE event, a batch results line).
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Stream from "effect/Stream"
import { Claude } from "../../../src/index.js"
import { controlCase, makeCapture } from "../../support/capture.js"
import { httpServer } from "../../support/hostileServer.js"
import { clientOn, countParams, key, params, settled } from "../../support/hardening.js"
import { oneFailure, virtual } from "../../e2e/support.js"

const depth = 2500
const deep = "[".repeat(depth) + "]".repeat(depth)
// the key inside the body too: a parse error must not quote it
const deepWithKey = "[".repeat(depth) + JSON.stringify(key) + "]".repeat(depth)

const sse = (events: ReadonlyArray<readonly [string, string]>) =>
  events.map(([event, data]) => `event: ${event}\ndata: ${data}\n\n`).join("")

describe("hardening: deeply nested JSON in a 2xx body", () => {
  it.scoped("create, countTokens, batches.retrieve: MalformedResponseError, 1 request each, never a defect", () => {
    const capture = makeCapture()
    return Effect.gen(function*() {
      const server = yield* httpServer((request, res) => {
        res.writeHead(200, { "content-type": "application/json" })
        res.end(request.url.includes("count_tokens") ? deepWithKey : deep)
      })
      expect(deep.length).toBe(5000)
      const claude = yield* clientOn(server.url)
      const exits: Array<Exit.Exit<unknown, unknown>> = [
        yield* Effect.exit(virtual(claude.messages.create(params))),
        yield* Effect.exit(virtual(claude.messages.countTokens(countParams))),
        yield* Effect.exit(virtual(claude.batches.retrieve("msgbatch_1")))
      ]
      for (const exit of exits) {
        const error = oneFailure(exit)
        expect(error).toBeInstanceOf(Claude.MalformedResponseError)
        const message = error instanceof Claude.MalformedResponseError ? error.message : ""
        expect(message).toContain("an array of 1 element")
        expect(message.length).toBeLessThan(800)
      }
      expect(server.requests).toHaveLength(3)
      expect(yield* settled(server)).toBe(0)
      // the attempt's outcome is the typed error, not "Defect"
      const outcomes = capture.traced.spans.filter((s) => s.name === "claude.attempt").map((s) =>
        s.attributes.get("claude.outcome")
      )
      expect(outcomes).toEqual(["MalformedResponseError", "MalformedResponseError", "MalformedResponseError"])
      capture.assertNoLeak(key, exits)
    }).pipe(capture.provide)
  })

  it.scoped("an SSE event of nested arrays: MalformedResponseError, 1 request", () =>
    Effect.gen(function*() {
      const server = yield* httpServer((_request, res) => {
        res.writeHead(200, { "content-type": "text/event-stream" })
        res.end(sse([["message_start", deep]]))
      })
      const claude = yield* clientOn(server.url)
      const streamed = oneFailure(yield* Effect.exit(virtual(Stream.runDrain(claude.messages.stream(params)))))
      expect(streamed).toBeInstanceOf(Claude.MalformedResponseError)
      expect(streamed.message).toContain("event 1")
      const final = oneFailure(yield* Effect.exit(virtual(claude.messages.finalMessage(params))))
      expect(final).toBeInstanceOf(Claude.MalformedResponseError)
      expect(server.requests).toHaveLength(2)
      expect(yield* settled(server)).toBe(0)
    }))

  it.scoped("a batch results line of nested arrays: MalformedResponseError after the good lines, 1 request", () =>
    Effect.gen(function*() {
      const server = yield* httpServer((_request, res) => {
        res.writeHead(200, { "content-type": "application/binary" })
        res.end(`{"custom_id":"a","result":{"type":"canceled"}}\n${deep}\n`)
      })
      const claude = yield* clientOn(server.url)
      const received: Array<string> = []
      const exit = yield* Effect.exit(
        virtual(Stream.runForEach(claude.batches.results("msgbatch_1"), (r) => Effect.sync(() => received.push(r._tag))))
      )
      expect(oneFailure(exit)).toBeInstanceOf(Claude.MalformedResponseError)
      expect(received).toEqual(["Canceled"])
      expect(server.requests).toHaveLength(1)
    }))

  it.scoped("depth 100 000 (200 KB): still a typed error", () =>
    Effect.gen(function*() {
      const deeper = "[".repeat(100_000) + "]".repeat(100_000)
      const server = yield* httpServer((_request, res) => {
        res.writeHead(200, { "content-type": "application/json" })
        res.end(deeper)
      })
      const claude = yield* clientOn(server.url)
      expect(oneFailure(yield* Effect.exit(virtual(claude.messages.create(params))))._tag).toBe("MalformedResponseError")
    }))
})

it.effect("control: the capture finds a key that is there", () => controlCase(key))
