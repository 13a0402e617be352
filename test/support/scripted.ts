/**
 * A scripted loopback server (over `httpServer` from `hostileServer.ts`) that
 * answers the n-th request with the n-th reply of a script and every later
 * one with a valid Messages 200; and our client wired to it. Used by the
 * boundedness and parity tests, so that our client and the official SDK meet
 * exactly the same server.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { Claude, Resilience } from "../../src/index.js"
import type * as Messages from "../../src/Messages.js"
import { type HostileServer, httpServer } from "./hostileServer.js"
import { message } from "./wire.js"

/** One scripted reply. */
export interface ScriptedReply {
  readonly status: number
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string
}

export const apiKey = "sk-ant-scripted-0123456789abcdef"

export const params: Messages.MessageCreateParams = {
  model: "claude-sonnet-5-5",
  max_tokens: 16,
  messages: [{ role: "user", content: "Hello" }]
}

/** A Messages 200 body both clients accept. */
export const okBody = (n: number): string => JSON.stringify(message("ok", `msg_scripted_${n}`))

/** The documented error envelope. */
export const errorBody = (type: string, message: string): string =>
  JSON.stringify({ type: "error", error: { type, message }, request_id: "req_scripted" })

/**
 * A server answering request n (from 0) with `script[n]` and any later
 * request with a 200. Each reply gets `content-type` from its body (JSON or
 * HTML/text).
 */
export const scriptedServer = (
  script: ReadonlyArray<ScriptedReply>
): Effect.Effect<HostileServer, never, Scope.Scope> =>
  Effect.gen(function*() {
    let n = 0
    return yield* httpServer((_request, response) => {
      const i = n++
      const reply = script[i] ?? { status: 200, body: okBody(i) }
      const body = reply.body ?? ""
      const json = body.startsWith("{")
      response.writeHead(reply.status, {
        "content-type": json ? "application/json" : body.startsWith("<") ? "text/html" : "text/plain",
        "request-id": `req_scripted_${i}`,
        ...reply.headers
      })
      response.end(body)
    })
  })

/**
 * Our client against `url`, with the given client options, on a breaker and
 * a budget of its own (the defaults, or `resilience`).
 */
export const ourClient = (
  url: string,
  options: Omit<Claude.Options, "apiKey" | "baseUrl"> = {},
  resilience: Resilience.Options = {}
) =>
  Claude.layer({ ...options, apiKey: Redacted.make(apiKey), baseUrl: url }).pipe(
    Layer.provide(Layer.mergeAll(NodeHttpClient.layer, Resilience.layer(resilience)))
  )
