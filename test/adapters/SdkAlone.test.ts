/**
 * The other column of docs/migrating-from-the-sdk.md: the official SDK on
 * its own (`maxRetries` 2, its default, no adapter) against the same scripts
 * as test/adapters/Fetch.test.ts, measured. Its waits are `setTimeout`s, so
 * they run on vitest's fake timers (with `Math.random` pinned at 0, its
 * backoff has no jitter: 500 ms, then 1 000 ms); the loopback I/O is real.
 * Each request's arrival is stamped with the fake clock.
 */
import Anthropic, { APIConnectionError, InternalServerError, OverloadedError, RateLimitError } from "@anthropic-ai/sdk"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { type Reply, sdkParams } from "./support.js"
import { message, sse, textEvents } from "../support/wire.js"

const realSetTimeout = globalThis.setTimeout
const pause = (ms: number) => new Promise<void>((resolve) => realSetTimeout(resolve, ms))

/** A plain loopback server answering request n with `replies[n]` (later ones: a 200), stamping each arrival with `Date.now()`. */
const serve = async (replies: ReadonlyArray<Reply | "cut">) => {
  const arrivals: Array<number> = []
  const server = Http.createServer((req, res) => {
    let body = ""
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")))
    req.on("end", () => {
      const i = arrivals.length
      arrivals.push(Date.now())
      const reply = replies[i] ?? (body.includes(`"stream":true`) ? { stream: "Hello, streamed" } : undefined)
      if (reply === "cut") return res.socket?.destroy()
      if (reply === undefined) {
        res.writeHead(200, { "content-type": "application/json" })
        return res.end(JSON.stringify(message("ok", `msg_${i}`)))
      }
      if ("stream" in reply) {
        res.writeHead(200, { "content-type": "text/event-stream", connection: "close" })
        return res.end(sse(textEvents(reply.stream)))
      }
      res.writeHead(reply.status, { "content-type": "application/json", connection: "close", ...reply.headers })
      res.end(JSON.stringify(reply.body))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()))
  return { url, arrivals, close }
}

/**
 * Runs one SDK call to its end: whenever no request is on the wire and the
 * call is still pending, the fake clock moves to the next timer (the SDK's
 * sleep). A wrapped `fetch` tells when a request is on the wire.
 */
const drive = async <A>(call: (client: Anthropic) => Promise<A>, url: string) => {
  let inFlight = 0
  const fetch: typeof globalThis.fetch = async (input, init) => {
    inFlight++
    try {
      return await globalThis.fetch(input, init)
    } finally {
      inFlight--
    }
  }
  const client = new Anthropic({ apiKey: "sk-ant-alone-0123456789", baseURL: url, fetch })
  let settled: { ok: true; value: A } | { ok: false; error: unknown } | undefined
  call(client).then((value) => (settled = { ok: true, value }), (error: unknown) => (settled = { ok: false, error }))
  for (let steps = 0; settled === undefined && steps < 10_000; steps++) {
    await pause(2)
    if (inFlight === 0 && settled === undefined) await vi.advanceTimersToNextTimerAsync()
  }
  return { settled: settled!, endedAt: Date.now() }
}

const error = (type: string, message: string) => ({ type: "error", error: { type, message }, request_id: "req_err" })
const overloaded = { status: 529, body: error("overloaded_error", "Overloaded") }

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"], now: 0 })
  vi.spyOn(Math, "random").mockReturnValue(0)
})

afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

describe("the official SDK alone (maxRetries 2)", () => {
  it("529, 529, 200: the message after 3 requests, sent at 0, 0.5 and 1.5 s", async () => {
    const server = await serve([overloaded, overloaded])
    const { settled } = await drive((c) => c.messages.create(sdkParams), server.url)
    expect(settled.ok).toBe(true)
    expect(server.arrivals).toEqual([0, 500, 1500])
    await server.close()
  })

  it("a spend-limit 429: retried, 3 requests over 1.5 s, then its RateLimitError", async () => {
    const server = await serve(Array.from({ length: 5 }, () => ({
      status: 429,
      body: error("rate_limit_error", "You have reached your specified API usage limits (spend limit).")
    })))
    const { settled } = await drive((c) => c.messages.create(sdkParams), server.url)
    expect(settled.ok ? undefined : settled.error).toBeInstanceOf(RateLimitError)
    expect(server.arrivals).toEqual([0, 500, 1500])
    await server.close()
  })

  it("retry-after: 3600: it waits the hour, the second request at 3 600 s", async () => {
    const server = await serve([{ ...overloaded, headers: { "retry-after": "3600" } }])
    const { endedAt, settled } = await drive((c) => c.messages.create(sdkParams), server.url)
    expect(settled.ok).toBe(true)
    expect(server.arrivals).toEqual([0, 3_600_000])
    expect(endedAt).toBe(3_600_000)
    await server.close()
  })

  it("500, 500, 500: 3 requests, then its InternalServerError", async () => {
    const internal = { status: 500, body: error("api_error", "Internal server error") }
    const server = await serve([internal, internal, internal])
    const { settled } = await drive((c) => c.messages.create(sdkParams), server.url)
    expect(settled.ok ? undefined : settled.error).toBeInstanceOf(InternalServerError)
    expect(server.arrivals).toEqual([0, 500, 1500])
    await server.close()
  })

  it("a stream answered 529 before any byte: retried, every event after 2 requests", async () => {
    const server = await serve([overloaded])
    const { settled } = await drive(async (c) => {
      const types: Array<string> = []
      for await (const event of await c.messages.create({ ...sdkParams, stream: true })) types.push(event.type)
      return types
    }, server.url)
    expect(settled.ok ? settled.value : settled.error).toContain("message_stop")
    expect(server.arrivals).toEqual([0, 500])
    await server.close()
  })

  it("a 529 storm: 3 requests at 0, 0.5 and 1.5 s, then its OverloadedError", async () => {
    const server = await serve(Array.from({ length: 10 }, () => overloaded))
    const { settled } = await drive((c) => c.messages.create(sdkParams), server.url)
    expect(settled.ok ? undefined : settled.error).toBeInstanceOf(OverloadedError)
    expect(server.arrivals).toEqual([0, 500, 1500])
    await server.close()
  })

  it("the connection cut on every request: 3 requests, then its APIConnectionError", async () => {
    const server = await serve(Array.from({ length: 10 }, () => "cut" as const))
    const { settled } = await drive((c) => c.messages.create(sdkParams), server.url)
    expect(settled.ok ? undefined : settled.error).toBeInstanceOf(APIConnectionError)
    expect(server.arrivals).toEqual([0, 500, 1500])
    await server.close()
  })

  it("x-should-retry: false on a 529: 1 request, then its OverloadedError", async () => {
    const server = await serve([{ ...overloaded, headers: { "x-should-retry": "false" } }])
    const { settled } = await drive((c) => c.messages.create(sdkParams), server.url)
    expect(settled.ok ? undefined : settled.error).toBeInstanceOf(OverloadedError)
    expect(server.arrivals).toEqual([0])
    await server.close()
  })
})
