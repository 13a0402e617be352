/**
 * The benchmark's loopback server, run in a child process of the harness
 * (`child_process.fork`) so that it never competes with the client for the
 * client's event loop. Plain `node:http`, keep-alive on, every byte it can
 * prepare prepared once:
 *
 * - `POST …/v1/messages` answers a fixed, valid `Message` as JSON, with the
 *   headers the API sends (`request-id`, `anthropic-ratelimit-*`).
 * - the same with `"stream": true` in the body answers an SSE stream framed
 *   like the API's (message_start, ping, content_block_start, N
 *   content_block_delta text_delta events, content_block_stop,
 *   message_delta, message_stop). N comes from a path prefix
 *   (`/deltas/5000/v1/messages`, so that any client can be pointed at it
 *   through its base URL), or the `x-bench-deltas` header, or the `deltas`
 *   query parameter; default 100.
 *
 * It counts connections and requests; the parent reads and resets the
 * counters over the IPC channel (`{ type: "stats" }`, answered with
 * `{ type: "stats", connections, requests }`).
 *
 * Standalone: `npx tsx test/bench/server.ts` prints its URL.
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { deltaText, model, replyText } from "./fixture.js"

const usage = {
  input_tokens: 12,
  output_tokens: 25,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
  service_tier: "standard"
}

const message = {
  id: "msg_01BenchmarkFixedReply0000",
  type: "message",
  role: "assistant",
  model,
  content: [{ type: "text", text: replyText, citations: null }],
  stop_reason: "end_turn",
  stop_sequence: null,
  usage
}

const jsonBody = Buffer.from(JSON.stringify(message))

const reset = new Date(Date.now() + 60_000).toISOString()
const apiHeaders: Record<string, string> = {
  "anthropic-organization-id": "00000000-0000-4000-8000-000000000000",
  "anthropic-ratelimit-requests-limit": "4000",
  "anthropic-ratelimit-requests-remaining": "3999",
  "anthropic-ratelimit-requests-reset": reset,
  "anthropic-ratelimit-input-tokens-limit": "2000000",
  "anthropic-ratelimit-input-tokens-remaining": "2000000",
  "anthropic-ratelimit-input-tokens-reset": reset,
  "anthropic-ratelimit-output-tokens-limit": "400000",
  "anthropic-ratelimit-output-tokens-remaining": "400000",
  "anthropic-ratelimit-output-tokens-reset": reset,
  "anthropic-ratelimit-tokens-limit": "2400000",
  "anthropic-ratelimit-tokens-remaining": "2400000",
  "anthropic-ratelimit-tokens-reset": reset
}

const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`

const streamHead = Buffer.from(
  sse("message_start", {
    type: "message_start",
    message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } }
  }) +
    sse("ping", { type: "ping" }) +
    sse("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } })
)

const delta = sse("content_block_delta", {
  type: "content_block_delta",
  index: 0,
  delta: { type: "text_delta", text: deltaText }
})

/** Deltas per `write`: a fast client reads them as they come, a slow one finds several per read. */
export const deltasPerWrite = 32
const deltaGroup = Buffer.from(delta.repeat(deltasPerWrite))

const streamTail = (deltas: number) =>
  Buffer.from(
    sse("content_block_stop", { type: "content_block_stop", index: 0 }) +
      sse("message_delta", {
        type: "message_delta",
        delta: { stop_reason: "end_turn", stop_sequence: null },
        usage: { output_tokens: deltas }
      }) +
      sse("message_stop", { type: "message_stop" })
  )

const prefix = /^\/deltas\/(\d+)(\/.*)$/

let connections = 0
let requests = 0
let nextId = 0

const deltasOf = (req: Http.IncomingMessage, url: string): { readonly path: string; readonly deltas: number } => {
  const query = url.indexOf("?")
  let path = query < 0 ? url : url.slice(0, query)
  let deltas = 100
  const match = prefix.exec(path)
  if (match !== null) {
    deltas = Number(match[1])
    path = match[2]!
  } else if (typeof req.headers["x-bench-deltas"] === "string") {
    deltas = Number(req.headers["x-bench-deltas"])
  } else if (query >= 0) {
    const fromQuery = new URLSearchParams(url.slice(query + 1)).get("deltas")
    if (fromQuery !== null) deltas = Number(fromQuery)
  }
  return { path, deltas: Number.isSafeInteger(deltas) && deltas >= 0 ? deltas : 100 }
}

const writeStream = (res: Http.ServerResponse, deltas: number) => {
  res.writeHead(200, {
    ...apiHeaders,
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    "request-id": `req_bench_${++nextId}`
  })
  res.write(streamHead)
  let left = deltas
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, deltasPerWrite)
      left -= n
      const ok = res.write(n === deltasPerWrite ? deltaGroup : delta.repeat(n))
      if (!ok) {
        res.once("drain", pump)
        return
      }
    }
    res.end(streamTail(deltas))
  }
  pump()
}

const server = Http.createServer({ keepAlive: true, noDelay: true }, (req, res) => {
  requests++
  const url = req.url ?? "/"
  const chunks: Array<Buffer> = []
  req.on("data", (chunk: Buffer) => chunks.push(chunk))
  req.on("end", () => {
    const { deltas, path } = deltasOf(req, url)
    if (req.method !== "POST" || path !== "/v1/messages") {
      res.writeHead(404, { "content-type": "application/json" })
      res.end(`{"type":"error","error":{"type":"not_found_error","message":"Not found"}}`)
      return
    }
    // the body is small: a substring test is enough to tell a stream request
    const body = chunks.length === 1 ? chunks[0]!.toString("latin1") : Buffer.concat(chunks).toString("latin1")
    if (/"stream"\s*:\s*true/.test(body)) {
      writeStream(res, deltas)
      return
    }
    res.writeHead(200, {
      ...apiHeaders,
      "content-type": "application/json",
      "content-length": String(jsonBody.length),
      "request-id": `req_bench_${++nextId}`
    })
    res.end(jsonBody)
  })
})
server.keepAliveTimeout = 120_000
server.headersTimeout = 125_000
server.requestTimeout = 0
server.maxRequestsPerSocket = 0
server.on("connection", () => {
  connections++
})

server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo
  if (process.send !== undefined) {
    process.send({ type: "ready", port })
  } else {
    console.log(`benchmark server on http://127.0.0.1:${port}`)
  }
})

process.on("message", (msg: { readonly type?: string }) => {
  if (msg.type === "stats") {
    process.send!({ type: "stats", connections, requests })
  } else if (msg.type === "close") {
    server.closeAllConnections()
    server.close(() => process.exit(0))
  }
})
// the harness gone (killed, crashed): go too
process.on("disconnect", () => process.exit(0))
