/**
 * A loopback stand-in for the Messages endpoint of one organisation, for
 * the fleet tests: it enforces a request quota as the API documents it, a
 * token bucket (capacity `limit`, refilled continuously at `limit` per
 * `refillMillis`), and answers with the real `anthropic-ratelimit-requests-*`
 * headers (`reset`: when the bucket is full again) and, past the quota, a
 * 429 `rate_limit_error` with `retry-after` (whole seconds, rounded up, as
 * the API sends it). It can also fail everything with 529 (`outage`), and
 * hold each reply for a while, so that requests overlap as they do in
 * production. It records what it received, from which worker
 * (`x-worker`), and when.
 */
import * as Http from "node:http"
import { message } from "./wire.js"

export interface Arrival {
  readonly at: number
  readonly worker: string
  readonly status: number
}

export interface QuotaServer {
  readonly url: string
  readonly arrivals: () => ReadonlyArray<Arrival>
  readonly reset: () => void
  readonly setMode: (mode: "quota" | "outage" | "healthy") => void
  readonly setHold: (millis: number) => void
  readonly close: () => Promise<void>
}

const rfc3339 = (millis: number) => new Date(millis).toISOString()

export const startQuotaServer = (options: {
  readonly limit: number
  readonly refillMillis: number
  readonly holdMillis?: number
}): Promise<QuotaServer> => {
  const { limit, refillMillis } = options
  const perMilli = limit / refillMillis
  let tokens = limit
  let refilledAt = Date.now()
  let mode: "quota" | "outage" | "healthy" = "quota"
  let hold = options.holdMillis ?? 0
  let arrivals: Array<Arrival> = []

  const take = (now: number): { readonly ok: boolean; readonly headers: Record<string, string> } => {
    tokens = Math.min(limit, tokens + (now - refilledAt) * perMilli)
    refilledAt = now
    const ok = tokens >= 1
    if (ok) tokens -= 1
    // full again: rounded up to the millisecond, so that a client waiting until then finds it full
    const fullAt = now + Math.ceil((limit - tokens) / perMilli)
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "request-id": `req_${arrivals.length}`,
      "anthropic-ratelimit-requests-limit": String(limit),
      "anthropic-ratelimit-requests-remaining": String(Math.max(0, Math.floor(tokens))),
      "anthropic-ratelimit-requests-reset": rfc3339(fullAt)
    }
    if (!ok) headers["retry-after"] = String(Math.max(1, Math.ceil((1 - tokens) / perMilli / 1000)))
    return { ok, headers }
  }

  const server = Http.createServer((request, response) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => {
      const now = Date.now()
      const worker = String(request.headers["x-worker"] ?? "")
      let status = 200
      let headers: Record<string, string> = { "content-type": "application/json", "request-id": `req_${arrivals.length}` }
      let body = ""
      if (mode === "outage") {
        status = 529
        body = JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } })
      } else if (mode === "quota") {
        const taken = take(now)
        headers = taken.headers
        if (!taken.ok) {
          status = 429
          body = JSON.stringify({ type: "error", error: { type: "rate_limit_error", message: "Number of requests has exceeded your rate limit" } })
        }
      }
      if (status === 200) {
        body = JSON.stringify(message("ok", `msg_${arrivals.length}`))
      }
      arrivals.push({ at: now, worker, status })
      const send = () => {
        response.writeHead(status, headers)
        response.end(body)
      }
      if (hold > 0) setTimeout(send, hold)
      else send()
    })
  })
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      resolve({
        url: `http://127.0.0.1:${port}`,
        arrivals: () => arrivals,
        reset: () => {
          arrivals = []
          tokens = limit
          refilledAt = Date.now()
        },
        setMode: (next) => {
          mode = next
        },
        setHold: (millis) => {
          hold = millis
        },
        close: () =>
          new Promise((done) => {
            server.closeAllConnections()
            server.close(() => done())
          })
      })
    })
  })
}
