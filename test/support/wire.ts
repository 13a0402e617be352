/**
 * The Claude wire format, written by hand for scripted loopback servers (the
 * parity and hardening suites): a `Message` as JSON, and the SSE events of a
 * message with one text block, as the API sends them.
 */
import type * as Http from "node:http"

export const message = (text: string, id = "msg_1") => ({
  id,
  type: "message",
  role: "assistant",
  model: "claude-sonnet-5-5",
  content: [{ type: "text", text }],
  stop_reason: "end_turn",
  stop_sequence: null,
  usage: { input_tokens: 5, output_tokens: 3 }
})

export type SseEvent = readonly [event: string, data: unknown]

/** A stream's `message_start`: the message with no content and no stop reason yet. */
export const messageStart = (id = "msg_1") => ({
  type: "message_start",
  message: { ...message("", id), content: [], stop_reason: null, usage: { input_tokens: 5, output_tokens: 1 } }
})

/** The events of a message with one text block: start, ping, the block in one delta, its stop, delta, stop. */
export const textEvents = (text: string, id = "msg_1"): ReadonlyArray<SseEvent> => [
  ["message_start", messageStart(id)],
  ["ping", { type: "ping" }],
  ["content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }],
  ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } }],
  ["content_block_stop", { type: "content_block_stop", index: 0 }],
  ["message_delta", {
    type: "message_delta",
    delta: { stop_reason: "end_turn", stop_sequence: null },
    usage: { output_tokens: 3 }
  }],
  ["message_stop", { type: "message_stop" }]
]

export const errorEvent = (type: string, text = "Overloaded"): SseEvent => [
  "error",
  { type: "error", error: { type, message: text } }
]

export const sse = (events: ReadonlyArray<SseEvent>): string =>
  events.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join("")

/** Answers with SSE (closing the connection after it, so no socket lingers in a pool). */
export const replySse = (res: Http.ServerResponse, events: ReadonlyArray<SseEvent>) => {
  res.writeHead(200, { "content-type": "text/event-stream", "request-id": "req_sse", connection: "close" })
  res.end(sse(events))
}

/** Answers with JSON. */
export const replyJson = (res: Http.ServerResponse, status: number, body: unknown, headers: Http.OutgoingHttpHeaders = {}) => {
  res.writeHead(status, { "content-type": "application/json", "request-id": "req_json", connection: "close", ...headers })
  res.end(JSON.stringify(body))
}

/** The API's error envelope. */
export const errorBody = (type: string, text = "Overloaded") => ({
  type: "error",
  error: { type, message: text },
  request_id: "req_err"
})
