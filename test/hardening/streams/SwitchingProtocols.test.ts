/**
 * Issue 9, item 9: a `101 Switching Protocols` reply leaked a socket per call
 * (Node's client hands the upgraded socket to an `upgrade` listener and
 * nobody closed it: 50 calls, 50 sockets open on both sides). Now every
 * platform client closes it and the call fails typed, unretried
 * (`UnexpectedStatusError`, status 101).
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Stream from "effect/Stream"
import { ApiError } from "../../../src/index.js"
import { controlCase, makeCapture } from "../../support/capture.js"
import { rawServer } from "../../support/hostileServer.js"
import { clientOn, key, params, platforms, settled } from "../../support/hardening.js"
import { oneFailure, virtual } from "../../e2e/support.js"

const upgrade = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"

describe("hardening: 101 Switching Protocols", () => {
  for (const [name, http] of platforms) {
    it.scoped(`${name}: 50 calls ⇒ 50 typed failures (status 101), 50 requests, no socket left open`, () => {
      const capture = makeCapture()
      return Effect.gen(function*() {
        const server = yield* rawServer((socket) => {
          socket.write(upgrade)
        })
        const claude = yield* clientOn(server.url, {}, http)
        const exits: Array<Exit.Exit<unknown, unknown>> = []
        for (let i = 0; i < 50; i++) {
          const exit = yield* Effect.exit(virtual(claude.messages.create(params)))
          exits.push(exit)
          const error = oneFailure(exit)
          expect(error).toBeInstanceOf(ApiError.UnexpectedStatusError)
          expect(error._tag === "UnexpectedStatusError" && error.status).toBe(101)
          expect(ApiError.isRetryable(error)).toBe(false)
        }
        expect(server.requests).toHaveLength(50)
        expect(yield* settled(server)).toBe(0)
        capture.assertNoLeak(key, exits)
      }).pipe(capture.provide)
    })
  }

  it.scoped("a stream request and finalMessage: the same, the socket closed", () =>
    Effect.gen(function*() {
      const server = yield* rawServer((socket) => {
        socket.write(upgrade)
      })
      for (const [, http] of platforms) {
        const claude = yield* clientOn(server.url, {}, http)
        expect(oneFailure(yield* Effect.exit(virtual(Stream.runDrain(claude.messages.stream(params)))))._tag)
          .toBe("UnexpectedStatusError")
        expect(oneFailure(yield* Effect.exit(virtual(claude.messages.finalMessage(params))))._tag)
          .toBe("UnexpectedStatusError")
      }
      expect(server.requests).toHaveLength(6)
      expect(yield* settled(server)).toBe(0)
    }))
})

it.effect("control: the capture finds a key that is there", () => controlCase(key))
