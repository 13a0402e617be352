/**
 * Issue 9, item 6: a user name and password in `baseUrl` are taken out of
 * the URL and sent as `authorization: Basic` (redacted like the key); no
 * error (encode failures, bad batch ids, transport errors, option errors),
 * log line or span (the platform's `http.client` `url.full` included)
 * carries them, and a server that echoes them is scrubbed like the key.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Inspectable from "effect/Inspectable"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { Claude } from "../../../src/index.js"
import { controlCase, makeCapture } from "../../support/capture.js"
import { httpServer } from "../../support/hostileServer.js"
import { clientOn, key, params, platforms, resilience, settled } from "../../support/hardening.js"
import { oneFailure, virtual } from "../../e2e/support.js"

const user = "gateway-user"
const password = "p4ss-w0rd/with@specials"
const encoded = encodeURIComponent(password)
const token = Buffer.from(`${user}:${password}`).toString("base64")
const secrets = [password, encoded, token, key]

const withCredentials = (url: string) => url.replace("http://", `http://${user}:${encoded}@`)

describe("hardening: credentials in baseUrl", () => {
  for (const [name, http] of platforms) {
    it.scoped(`${name}: sent as authorization: Basic, absent from the URL, every error, log line and span`, () => {
      const capture = makeCapture()
      return Effect.gen(function*() {
        const server = yield* httpServer((_request, res) => {
          // a gateway that echoes what it got
          res.writeHead(500, {
            "content-type": "application/json",
            "request-id": `req ${token} ${password}`,
            connection: "close"
          })
          res.end(JSON.stringify({ type: "error", error: { type: "api_error", message: `denied ${password} ${token}` } }))
        })
        const claude = yield* clientOn(withCredentials(server.url), { retry: { maxRetries: 0 } }, http)
        const exits: Array<Exit.Exit<unknown, unknown>> = []
        exits.push(yield* Effect.exit(virtual(claude.messages.create(params))))
        // local failures that name the URL
        exits.push(yield* Effect.exit(virtual(claude.batches.retrieve("../admin"))))
        exits.push(yield* Effect.exit(virtual(claude.batches.list({ limit: 0 }))))
        exits.push(
          yield* Effect.exit(virtual(claude.messages.create({ ...params, max_tokens: Number.NaN } as never)))
        )
        exits.push(yield* Effect.exit(virtual(Stream.runDrain(claude.messages.stream(params)))))
        expect(exits.every(Exit.isFailure)).toBe(true)
        const tagOf = (exit: Exit.Exit<unknown, unknown>) => (oneFailure(exit) as { readonly _tag: string })._tag
        expect(tagOf(exits[0]!)).toBe("InternalServerError")
        expect(tagOf(exits[1]!)).toBe("ClientRequestError")

        expect(server.requests.length).toBeGreaterThanOrEqual(2)
        for (const request of server.requests) {
          expect(request.headers.authorization).toBe(`Basic ${token}`)
          expect(request.headers["x-api-key"]).toBe(key)
          expect(request.url.startsWith("/v1/")).toBe(true)
        }
        const spans = capture.traced.spans.filter((s) => s.name.startsWith("http.client"))
        expect(spans.length).toBeGreaterThanOrEqual(2)
        for (const span of spans) {
          expect(span.attributes.get("url.full")).toBe(`${server.url}/v1/messages`)
          expect(span.attributes.get("http.request.header.authorization")).toBe("<redacted>")
        }
        expect(yield* settled(server)).toBe(0)
        for (const secret of secrets) capture.assertNoLeak(secret, exits)
      }).pipe(capture.provide)
    })
  }

  it.scoped("a transport failure (nothing listening) carries the URL without credentials", () =>
    Effect.gen(function*() {
      const claude = yield* clientOn(withCredentials("http://127.0.0.1:9"), { retry: { maxRetries: 0 } })
      const error = oneFailure(yield* Effect.exit(virtual(claude.messages.create(params))))
      expect(error._tag).toBe("TransportError")
      expect(error._tag === "TransportError" && error.url).toBe("http://127.0.0.1:9/v1/messages")
      for (const secret of secrets) expect(JSON.stringify(error) + String(error)).not.toContain(secret)
    }))

  it.scoped("an unparsable baseUrl with credentials: the option error does not repeat them", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Claude.make({
        apiKey: Redacted.make(key),
        baseUrl: `http://${user}:${password}@[not a host`
      }).pipe(Effect.provide(Layer.merge(NodeHttpClient.layer, resilience))))
      expect(error._tag).toBe("InvalidOptionsError")
      expect(error.problems.map((p) => p.path)).toEqual(["baseUrl"])
      expect(error.message).toContain("[redacted]@")
      expect(error.message).not.toContain(password)
      expect(error.message).not.toContain(user)
    }))

  it("the settings keep the credentials out of baseUrl, the password Redacted: printing them shows neither", () => {
    const settings = Either.getOrThrow(Claude.settings({ apiKey: Redacted.make(key), baseUrl: withCredentials("http://127.0.0.1:9") }))
    expect(settings.baseUrl).toBe("http://127.0.0.1:9")
    const basic = Option.getOrThrow(settings.basicAuth)
    expect(basic.user).toBe(user)
    expect(Redacted.value(basic.password)).toBe(password)
    const printed = JSON.stringify(settings) + String(settings.basicAuth) + Inspectable.format(settings)
    expect(printed).not.toContain(password)
    expect(printed).not.toContain(key)
  })

  it.scoped("a base URL without credentials sends no authorization header", () =>
    Effect.gen(function*() {
      const server = yield* httpServer((_request, res) => {
        res.writeHead(400, { "content-type": "application/json" })
        res.end("{}")
      })
      const claude = yield* clientOn(server.url)
      yield* Effect.exit(virtual(claude.messages.create(params)))
      expect(server.requests[0]?.headers.authorization).toBeUndefined()
    }))
})

it.effect("control: the capture finds a key that is there", () => controlCase(password))
