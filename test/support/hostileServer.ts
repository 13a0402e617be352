/**
 * Loopback servers that lie, for the hardening tests: an HTTP server whose
 * handler a test writes (huge, deep, truncated, redirected, echoing replies),
 * and a raw TCP server that answers with whatever bytes the test writes
 * (101 upgrades, mixed line endings, never answering). Both record what they
 * receive and count the sockets still open, so a test can assert that
 * nothing leaked. Closed, with every socket destroyed, when the scope closes.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as Net from "node:net"

/** One request as the server received it. */
export interface ReceivedRequest {
  readonly method: string
  readonly url: string
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
}

/** A running loopback server. */
export interface HostileServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  readonly port: number
  /** Requests received so far (raw servers: each connection's first bytes). */
  readonly requests: ReadonlyArray<ReceivedRequest>
  /** Sockets accepted and not yet closed, on the server's side. */
  readonly openSockets: () => number
  /** Connections accepted so far. */
  readonly connections: () => number
}

const track = (server: Net.Server) => {
  const sockets = new Set<Net.Socket>()
  let connections = 0
  server.on("connection", (socket: Net.Socket) => {
    connections++
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
    // a client that resets is not the test's failure
    socket.on("error", () => {})
  })
  return { sockets, connections: () => connections }
}

const listen = (
  server: Net.Server,
  sockets: Set<Net.Socket>
): Effect.Effect<number, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<number>((resume) => {
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as AddressInfo).port)))
    }),
    () =>
      Effect.async<void>((resume) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resume(Effect.void))
      })
  )

/**
 * An HTTP server on a free loopback port. The handler gets each request with
 * its whole body read, and answers (or does not) as it likes.
 */
export const httpServer = (
  handler: (request: ReceivedRequest, response: Http.ServerResponse, raw: Http.IncomingMessage) => void
): Effect.Effect<HostileServer, never, Scope.Scope> =>
  Effect.gen(function*() {
    const requests: Array<ReceivedRequest> = []
    const server = Http.createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (chunk: Buffer) => chunks.push(chunk))
      req.on("end", () => {
        const received: ReceivedRequest = {
          method: req.method ?? "",
          url: req.url ?? "",
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8")
        }
        requests.push(received)
        handler(received, res, req)
      })
    })
    const { connections, sockets } = track(server)
    const port = yield* listen(server, sockets)
    return { url: `http://127.0.0.1:${port}`, port, requests, openSockets: () => sockets.size, connections }
  })

/**
 * A TCP server on a free loopback port that hands each connection's socket
 * to the test once the request's head has arrived (up to the blank line),
 * so the test writes the reply byte for byte.
 */
export const rawServer = (
  onRequest: (socket: Net.Socket, head: string) => void
): Effect.Effect<HostileServer, never, Scope.Scope> =>
  Effect.gen(function*() {
    const requests: Array<ReceivedRequest> = []
    const server = Net.createServer((socket) => {
      let buffered = ""
      let answered = false
      socket.on("data", (chunk: Buffer) => {
        if (answered) return
        buffered += chunk.toString("latin1")
        const end = buffered.indexOf("\r\n\r\n")
        if (end < 0) return
        answered = true
        const head = buffered.slice(0, end)
        const [line = "", ...fields] = head.split("\r\n")
        const [method = "", url = ""] = line.split(" ")
        const headers: Record<string, string> = {}
        for (const field of fields) {
          const colon = field.indexOf(":")
          if (colon > 0) headers[field.slice(0, colon).trim().toLowerCase()] = field.slice(colon + 1).trim()
        }
        requests.push({ method, url, headers, body: buffered.slice(end + 4) })
        onRequest(socket, head)
      })
    })
    const { connections, sockets } = track(server)
    const port = yield* listen(server, sockets)
    return { url: `http://127.0.0.1:${port}`, port, requests, openSockets: () => sockets.size, connections }
  })
