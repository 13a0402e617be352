/**
 * Issue 9, item 1: a huge 2xx body must not kill the process or grow memory
 * without bound. Every body is read through `maxResponseBytes`: past it the
 * call fails with `ResponseTooLargeError` (not retried), the connection is
 * closed, and the read stops.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import type * as Http from "node:http"
import { Claude } from "../../../src/index.js"
import { controlCase, makeCapture } from "../../support/capture.js"
import { httpServer } from "../../support/hostileServer.js"
import { clientOn, countParams, key, params, resilience, settled } from "../../support/hardening.js"
import { oneFailure, virtual } from "../../e2e/support.js"
import { message as wireMessage } from "../../support/wire.js"

const MiB = 1024 * 1024

const message = (text: string) => JSON.stringify(wireMessage(text))

/** Writes `total` bytes of a JSON string in 64 KiB chunks (honouring backpressure); records how much went out. */
const hugeBody = (total: number, written: { bytes: number; closed: boolean }) => (res: Http.ServerResponse) => {
  res.writeHead(200, { "content-type": "application/json", "request-id": "req_huge" })
  const chunk = Buffer.alloc(64 * 1024, "a")
  res.on("close", () => {
    written.closed = true
  })
  const pump = () => {
    while (written.bytes < total && !written.closed) {
      written.bytes += chunk.length
      if (!res.write(chunk)) return void res.once("drain", pump)
    }
    if (!written.closed) res.end()
  }
  res.write(`{"text":"`)
  pump()
}

describe("hardening: a 2xx body larger than maxResponseBytes", () => {
  it.scoped("create: ResponseTooLargeError after about the cap, 1 request, the connection closed, no key anywhere", () => {
    const capture = makeCapture()
    return Effect.gen(function*() {
      const written = { bytes: 0, closed: false }
      // 1 GiB: unread, it would pass V8's string limit and end the process
      const server = yield* httpServer((_request, res) => hugeBody(1024 * MiB, written)(res))
      const claude = yield* clientOn(server.url, { maxResponseBytes: MiB })
      const exit = yield* Effect.exit(virtual(claude.messages.create(params)))
      const error = oneFailure(exit)
      expect(error).toBeInstanceOf(Claude.ResponseTooLargeError)
      if (!(error instanceof Claude.ResponseTooLargeError)) return
      expect(error.maxResponseBytes).toBe(MiB)
      expect(error.status).toBe(200)
      expect(Option.getOrUndefined(error.requestId)).toBe("req_huge")
      expect(error.message).toContain("maxResponseBytes")
      expect(server.requests).toHaveLength(1)
      expect(yield* settled(server)).toBe(0)
      expect(written.closed).toBe(true)
      // the read stopped near the cap (socket buffers aside), far from the body's end
      expect(written.bytes).toBeLessThan(64 * MiB)
      capture.assertNoLeak(key, [exit])
    }).pipe(capture.provide)
  })

  it.scoped("countTokens and batches.retrieve: the same error, each after 1 request", () =>
    Effect.gen(function*() {
      const server = yield* httpServer((_request, res) => hugeBody(32 * MiB, { bytes: 0, closed: false })(res))
      const claude = yield* clientOn(server.url, { maxResponseBytes: 256 * 1024 })
      // no retry is due, so no virtual time: real bytes take real time, and
      // moving the TestClock while they flow would fire requestTimeout
      const tokens = oneFailure(yield* Effect.exit(claude.messages.countTokens(countParams)))
      expect(tokens._tag, tokens.message).toBe("ResponseTooLargeError")
      const batch = oneFailure(yield* Effect.exit(claude.batches.retrieve("msgbatch_1")))
      expect(batch._tag).toBe("ResponseTooLargeError")
      expect(server.requests).toHaveLength(2)
      expect(yield* settled(server)).toBe(0)
    }))

  it.scoped("the default cap is 64 MiB: a 65 MiB body fails, a 1 MiB Message decodes", () =>
    Effect.gen(function*() {
      const written = { bytes: 0, closed: false }
      let big = true
      const server = yield* httpServer((_request, res) => {
        if (big) return hugeBody(65 * MiB, written)(res)
        res.writeHead(200, { "content-type": "application/json" })
        res.end(message("x".repeat(MiB)))
      })
      const claude = yield* clientOn(server.url)
      const error = oneFailure(yield* Effect.exit(claude.messages.create(params)))
      expect(error instanceof Claude.ResponseTooLargeError && error.maxResponseBytes, error.message).toBe(64 * MiB)
      big = false
      const ok = yield* claude.messages.create(params)
      expect(ok.content[0]?.type === "text" && ok.content[0].text.length).toBe(MiB)
      expect(yield* settled(server)).toBe(0)
    }))

  it.scoped("a body exactly at the cap is read; one byte over fails", () =>
    Effect.gen(function*() {
      const body = message("hello")
      const server = yield* httpServer((_request, res) => {
        res.writeHead(200, { "content-type": "application/json" })
        res.end(body)
      })
      const exact = yield* clientOn(server.url, { maxResponseBytes: Buffer.byteLength(body) })
      expect((yield* virtual(exact.messages.create(params))).id).toBe("msg_1")
      const under = yield* clientOn(server.url, { maxResponseBytes: Buffer.byteLength(body) - 1 })
      expect(oneFailure(yield* Effect.exit(virtual(under.messages.create(params))))._tag).toBe("ResponseTooLargeError")
    }))

  it.scoped("batch results: a line over the cap fails after the lines before it, the connection closed", () =>
    Effect.gen(function*() {
      const written = { bytes: 0, closed: false }
      const line = JSON.stringify({ custom_id: "a", result: { type: "succeeded", message: JSON.parse(message("hi")) } })
      const server = yield* httpServer((_request, res) => {
        res.writeHead(200, { "content-type": "application/binary" })
        res.write(`${line}\n${line}\n{"custom_id":"b","result":{"type":"succeeded","message":"`)
        // an endless line
        const chunk = Buffer.alloc(64 * 1024, "z")
        res.on("close", () => {
          written.closed = true
        })
        const pump = () => {
          while (!written.closed && written.bytes < 1024 * MiB) {
            written.bytes += chunk.length
            if (!res.write(chunk)) return void res.once("drain", pump)
          }
        }
        pump()
      })
      const claude = yield* clientOn(server.url, { maxResponseBytes: 4 * 1024 })
      const received: Array<string> = []
      const exit = yield* Effect.exit(
        virtual(Stream.runForEach(claude.batches.results("msgbatch_1"), (r) => Effect.sync(() => received.push(r._tag))))
      )
      const error = oneFailure(exit)
      expect(error._tag).toBe("ResponseTooLargeError")
      expect(error.message).toContain("a line of the results")
      expect(received).toEqual(["Succeeded", "Succeeded"])
      expect(server.requests).toHaveLength(1)
      expect(yield* settled(server)).toBe(0)
      expect(written.bytes).toBeLessThan(64 * MiB)
    }))

  it.scoped("maxResponseBytes must be an integer from 1 to 256 MiB: a typed option error otherwise", () =>
    Effect.gen(function*() {
      for (const bad of [0, -1, 1.5, Number.NaN, 256 * MiB + 1]) {
        const error = yield* Effect.flip(
          Claude.make({ apiKey: Redacted.make(key), maxResponseBytes: bad }).pipe(
            Effect.provide(Layer.merge(NodeHttpClient.layer, resilience))
          )
        )
        expect(error._tag).toBe("InvalidOptionsError")
        expect(error.problems.map((p) => p.path)).toEqual(["maxResponseBytes"])
      }
    }))
})

it.effect("control: the capture finds a key that is there", () => controlCase(key))
