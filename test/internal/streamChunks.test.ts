/**
 * A stream's events are decoded per chunk of bytes: the events of one read
 * reach the consumer together, as one chunk, not one pull (and one fork, one
 * timer, one Schema decode) per event.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { rawServer } from "../support/hostileServer.js"
import { clientOn, params } from "../support/hardening.js"
import { types, virtual } from "../e2e/support.js"
import { messageStart } from "../support/wire.js"

describe("internal/stream: events decoded per chunk", () => {
  const head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"
  const sse = (value: { readonly type: string; readonly [key: string]: unknown }) => `event: ${value.type}\ndata: ${JSON.stringify(value)}\n\n`
  const deltas = 200
  const body = sse(messageStart() as { type: string; [key: string]: unknown }) +
    sse({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }) +
    Array.from({ length: deltas }, (_, i) =>
      sse({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: `${i} ` } })).join("") +
    sse({ type: "content_block_stop", index: 0 }) +
    sse({ type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 1 } }) +
    sse({ type: "message_stop" })

  it.scoped("a body written at once: its events in a few chunks, in order; the final text whole", () =>
    Effect.gen(function*() {
      const server = yield* rawServer((socket) => {
        socket.end(head + body)
      })
      const claude = yield* clientOn(server.url)
      const chunks = yield* virtual(Stream.runCollect(Stream.chunks(claude.messages.stream(params))))
      const events = Chunk.toReadonlyArray(Chunk.flatten(chunks))
      expect(events).toHaveLength(deltas + 5)
      expect(types(events).slice(0, 3)).toEqual(["message_start", "content_block_start", "content_block_delta"])
      expect(types(events).slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"])
      // one chunk per read of the socket, not one per event
      expect(chunks.length).toBeLessThan(events.length / 10)
      const message = yield* virtual(claude.messages.finalMessage(params))
      expect(message.content).toEqual([
        { type: "text", text: Array.from({ length: deltas }, (_, i) => `${i} `).join("") }
      ])
    }))
})
