/**
 * Issue 10, item 8 (part): requests say who sends them
 * (`user-agent: claude-resilience/<version>`, the version a constant this
 * test checks against package.json), and a socket cut mid-stream says so
 * instead of the platform's "Decode error". Side by side with the official
 * SDK, against the same scripted loopback servers.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { readFileSync } from "node:fs"
import { version } from "../../src/internal/version.js"
import { ApiError } from "../../src/index.js"
import { clientOn, params, platforms, settled } from "../support/hardening.js"
import { httpServer, rawServer } from "../support/hostileServer.js"
import { describe as describeError, sdkOn, sdkParams, settle } from "../support/sdk.js"
import { replyJson, message, sse, textEvents } from "../support/wire.js"
import { consume, oneFailure, types } from "../e2e/support.js"

const packageVersion = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string
}).version

describe("parity: user-agent", () => {
  it("the version constant is package.json's", () => {
    expect(version).toBe(packageVersion)
  })

  it.scoped(`ours sends claude-resilience/${packageVersion} on every platform client; the SDK sends its own`, () =>
    Effect.gen(function*() {
      const server = yield* httpServer((_request, res) => replyJson(res, 200, message("hi")))
      for (const [, http] of platforms) {
        const claude = yield* clientOn(server.url, {}, http)
        yield* claude.messages.create(params)
      }
      expect(server.requests.map((r) => r.headers["user-agent"])).toEqual(
        platforms.map(() => `claude-resilience/${packageVersion}`)
      )
      const theirs = yield* httpServer((_request, res) => replyJson(res, 200, message("hi")))
      yield* settle(() => sdkOn(theirs.url).messages.create(sdkParams))
      expect(theirs.requests[0]?.headers["user-agent"]).toMatch(/^Anthropic\/JS /)
    }))
})

describe("parity: a socket cut mid-stream", () => {
  // three events, then the socket destroyed with the chunked body unfinished
  const cutServer = rawServer((socket) => {
    const body = sse(textEvents("Hello").slice(0, 3))
    socket.write(
      "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n" +
        `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n`,
      () => setTimeout(() => socket.destroy(), 20)
    )
  })

  for (const [name, http] of platforms) {
    it.scoped(`${name}: ours: TransportError "cut mid-stream after 3 events", the 3 events kept, 1 request`, () =>
      Effect.gen(function*() {
        const server = yield* cutServer
        const claude = yield* clientOn(server.url, {}, http)
        const { exit, received } = yield* consume(claude.messages.stream(params))
        const error = oneFailure(exit)
        expect(error).toBeInstanceOf(ApiError.TransportError)
        expect(error.message).toContain("the connection was cut mid-stream after 3 events")
        expect(error.message).not.toContain("Decode error")
        expect(types(received)).toEqual(["message_start", "ping", "content_block_start"])
        expect(server.requests).toHaveLength(1)
        expect(yield* settled(server)).toBe(0)
      }))
  }

  it.scoped("the SDK: an error after the events it yielded, 1 request", () =>
    Effect.gen(function*() {
      const server = yield* cutServer
      const seen: Array<string> = []
      const outcome = yield* settle(async () => {
        for await (const event of await sdkOn(server.url).messages.create({ ...sdkParams, stream: true })) {
          seen.push(event.type)
        }
      })
      expect(outcome.ok).toBe(false)
      if (!outcome.ok) expect(describeError(outcome.error)).toBeTruthy()
      expect(seen).toEqual(["message_start", "content_block_start"])
      expect(server.requests).toHaveLength(1)
    }))
})
