/**
 * Issue 9, item 4: a redirect must never carry the key to another origin.
 * Over each platform client the issue names, a 301/302/303/307/308 to a
 * second loopback server is a `RedirectError` naming that server's origin,
 * not retried, and the second server receives nothing.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { Claude } from "../../../src/index.js"
import { controlCase, makeCapture } from "../../support/capture.js"
import { httpServer } from "../../support/hostileServer.js"
import { clientOn, key, params, platforms, settled } from "../../support/hardening.js"
import { oneFailure, virtual } from "../../e2e/support.js"

describe("hardening: redirects are never followed", () => {
  for (const [name, http] of platforms) {
    it.scoped(`${name}: 301, 302, 303, 307, 308 to another origin ⇒ RedirectError naming it, 1 request, nothing reaches it`, () => {
      const capture = makeCapture()
      return Effect.gen(function*() {
        const other = yield* httpServer((_request, res) => {
          res.writeHead(200, { "content-type": "application/json" })
          res.end("{}")
        })
        let status = 301
        const redirecting = yield* httpServer((_request, res) => {
          res.writeHead(status, { location: `${other.url}/v1/messages?steal=1`, connection: "close" })
          res.end()
        })
        const claude = yield* clientOn(redirecting.url, {}, http)
        const exits = []
        for (const code of [301, 302, 303, 307, 308]) {
          status = code
          const exit = yield* Effect.exit(virtual(claude.messages.create(params)))
          exits.push(exit)
          const error = oneFailure(exit)
          expect(error).toBeInstanceOf(Claude.RedirectError)
          if (!(error instanceof Claude.RedirectError)) continue
          expect(error.status).toBe(code)
          expect(Option.getOrUndefined(error.location)).toBe(other.url)
          expect(error.message).toContain(other.url)
          expect(error.message).not.toContain("steal")
        }
        expect(redirecting.requests).toHaveLength(5)
        expect(other.requests).toHaveLength(0)
        expect(other.connections()).toBe(0)
        expect(yield* settled(redirecting)).toBe(0)
        capture.assertNoLeak(key, exits)
      }).pipe(capture.provide)
    })
  }

  it.scoped("a stream request and a batch's results are not redirected either", () =>
    Effect.gen(function*() {
      const other = yield* httpServer((_request, res) => res.end())
      const redirecting = yield* httpServer((_request, res) => {
        res.writeHead(302, { location: `${other.url}/x`, connection: "close" })
        res.end()
      })
      for (const [, http] of platforms) {
        const claude = yield* clientOn(redirecting.url, {}, http)
        expect(oneFailure(yield* Effect.exit(virtual(Stream.runDrain(claude.messages.stream(params)))))._tag)
          .toBe("RedirectError")
        expect(oneFailure(yield* Effect.exit(virtual(claude.messages.finalMessage(params))))._tag).toBe("RedirectError")
        expect(oneFailure(yield* Effect.exit(virtual(Stream.runDrain(claude.batches.results("msgbatch_1")))))._tag)
          .toBe("RedirectError")
      }
      expect(redirecting.requests).toHaveLength(9)
      expect(other.requests).toHaveLength(0)
    }))

  it.scoped("a location with credentials: the error names the origin only", () =>
    Effect.gen(function*() {
      const redirecting = yield* httpServer((_request, res) => {
        res.writeHead(307, { location: "http://thief:pa55w0rd-x@127.0.0.1:9/collect?k=1", connection: "close" })
        res.end()
      })
      for (const [, http] of platforms) {
        const claude = yield* clientOn(redirecting.url, {}, http)
        const exit = yield* Effect.exit(virtual(claude.messages.create(params)))
        const error = oneFailure(exit)
        expect(error instanceof Claude.RedirectError && Option.getOrUndefined(error.location)).toBe("http://127.0.0.1:9")
        expect(JSON.stringify(error)).not.toContain("pa55w0rd")
        expect(String(error)).not.toContain("pa55w0rd")
        expect(String(error)).not.toContain("collect")
      }
    }))

  it.scoped("a redirect whose body never ends: the connection is closed at once", () =>
    Effect.gen(function*() {
      const redirecting = yield* httpServer((_request, res) => {
        res.writeHead(302, { location: "http://127.0.0.1:9/" })
        res.write("and more")
      })
      for (const [, http] of platforms) {
        const claude = yield* clientOn(redirecting.url, {}, http)
        expect(oneFailure(yield* Effect.exit(virtual(claude.messages.create(params))))._tag).toBe("RedirectError")
      }
      expect(redirecting.requests).toHaveLength(3)
      expect(yield* settled(redirecting)).toBe(0)
    }))
})

it.effect("control: the capture finds a key that is there", () => controlCase(key))
