/**
 * Issue 9, item 5: a key echoed by a server or proxy (in `error.message`,
 * the `request-id` header, the body's `request_id`, a malformed body, an SSE
 * `error` event, a batch result's error, any response header) never reaches
 * an error, a log line or a span: every string from the wire is scrubbed of
 * the configured key before it becomes an error, and the platform's
 * `http.client` span attributes are scrubbed too.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { ApiError } from "../../../src/index.js"
import { controlCase, makeCapture } from "../../support/capture.js"
import { httpServer } from "../../support/hostileServer.js"
import { clientOn, countParams, key, params, settled } from "../../support/hardening.js"
import { oneFailure, virtual } from "../../e2e/support.js"
import { messageStart, sse } from "../../support/wire.js"

const echoHeaders = {
  "request-id": `req_${key}`,
  "x-echo": `your key is ${key}`,
  "retry-after-ms": "10"
}

const errorBody = (type: string) =>
  JSON.stringify({ type: "error", error: { type, message: `invalid x-api-key: ${key}` }, request_id: `req_${key}` })

describe("hardening: a key echoed from the wire is scrubbed everywhere", () => {
  it.scoped("error bodies, request ids, headers, malformed bodies, SSE error events, batch errors: no key in errors, logs or spans", () => {
    const capture = makeCapture()
    return Effect.gen(function*() {
      let reply = "401"
      const server = yield* httpServer((_request, res) => {
        switch (reply) {
          case "401":
            res.writeHead(401, { "content-type": "application/json", ...echoHeaders })
            return res.end(errorBody("authentication_error"))
          case "529":
            res.writeHead(529, { "content-type": "application/json", ...echoHeaders })
            return res.end(errorBody("overloaded_error"))
          case "html":
            res.writeHead(502, { "content-type": "text/html", ...echoHeaders })
            return res.end(`<html><body>${key}</body></html>`)
          case "malformed":
            res.writeHead(200, { "content-type": "application/json", ...echoHeaders })
            return res.end(JSON.stringify({ id: key, type: "message" }))
          case "not json":
            res.writeHead(200, { "content-type": "application/json", ...echoHeaders })
            return res.end(`${key} is not JSON`)
          case "sse":
            res.writeHead(200, { "content-type": "text/event-stream", ...echoHeaders })
            return res.end(sse([
              ["message_start", messageStart()],
              ["content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }],
              ["error", { type: "error", error: { type: "overloaded_error", message: `overloaded for ${key}` } }]
            ]))
          case "results":
            res.writeHead(200, { "content-type": "application/binary", ...echoHeaders })
            return res.end(
              `${JSON.stringify({ custom_id: "a", result: { type: "errored", error: JSON.parse(errorBody("invalid_request_error")) } })}\n`
            )
        }
      })
      const claude = yield* clientOn(server.url, { retry: { maxRetries: 1 } })
      const exits: Array<Exit.Exit<unknown, unknown>> = []
      const run = <A, E>(name: string, effect: Effect.Effect<A, E>) =>
        Effect.gen(function*() {
          reply = name
          const exit = yield* Effect.exit(virtual(effect))
          exits.push(exit)
          return exit
        })

      const auth = oneFailure(yield* run("401", claude.messages.create(params)))
      expect(auth._tag).toBe("AuthenticationError")
      expect(auth.message).toContain("[redacted]")
      expect(Option.getOrUndefined((auth as ApiError.AuthenticationError).requestId)).toBe("req_[redacted]")
      expect(Option.getOrUndefined((auth as ApiError.AuthenticationError).serverMessage)).toBe(
        "invalid x-api-key: [redacted]"
      )
      const overloaded = oneFailure(yield* run("529", claude.messages.countTokens(countParams)))
      expect(overloaded._tag).toBe("OverloadedError")
      expect(oneFailure(yield* run("html", claude.messages.create(params)))._tag).toBe("BadGatewayError")
      const malformed = oneFailure(yield* run("malformed", claude.messages.create(params)))
      expect(malformed._tag).toBe("MalformedResponseError")
      expect(oneFailure(yield* run("not json", claude.messages.create(params)))._tag).toBe("MalformedResponseError")
      const streamed = oneFailure(yield* run("sse", Stream.runDrain(claude.messages.stream(params))))
      expect(streamed._tag).toBe("OverloadedError")
      expect(Option.getOrUndefined((streamed as ApiError.OverloadedError).serverMessage)).toBe(
        "overloaded for [redacted]"
      )
      const results = yield* run("results", Stream.runCollect(claude.batches.results("msgbatch_1")))
      expect(Exit.isSuccess(results)).toBe(true)
      if (Exit.isSuccess(results)) {
        const [line] = results.value
        expect(line?._tag).toBe("Errored")
        expect(line?._tag === "Errored" && line.error.message).toContain("[redacted]")
      }
      // 1 + 2 (529 retried once) + 2 (502 retried once) + 1 + 1 + 1 (the error came after content) + 1
      expect(server.requests).toHaveLength(9)
      expect(yield* settled(server)).toBe(0)

      // the scan saw the places a key could land: attempts' request ids, the
      // retry policy's debug log, the platform's response header attributes
      const attempts = capture.traced.spans.filter((s) => s.name === "claude.attempt")
      expect(attempts.map((s) => s.attributes.get("claude.request_id"))).toContain("req_[redacted]")
      const http = capture.traced.spans.filter((s) => s.name.startsWith("http.client"))
      expect(http.length).toBe(9)
      expect(http.map((s) => s.attributes.get("http.response.header.x-echo"))).toContain("your key is [redacted]")
      expect(capture.logged.lines.some((line) => line.includes("retrying after"))).toBe(true)
      capture.assertNoLeak(key, exits)
    }).pipe(capture.provide)
  })
})

it.effect("control: the capture finds a key that is there", () => controlCase(key))
