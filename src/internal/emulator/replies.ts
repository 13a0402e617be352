/**
 * The emulator's canned replies: the `Message` it serves for an `Ok` reply,
 * the SSE events of that message as the API streams them (see
 * https://docs.anthropic.com/en/api/messages-streaming), the API's error
 * envelope with its default messages, the edge's HTML pages, and the HTTP
 * responses that carry them.
 *
 * @internal
 */
import * as Headers from "@effect/platform/Headers"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Sse from "@effect/experimental/Sse"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Stream from "effect/Stream"
import * as Http from "node:http"
import type { Reply } from "../../testing/Emulator.js"

/** The edge's HTML page for a 413. @internal */
export const edgeHtml413 =
  "<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n"

export const edgeHtml = (status: number): string =>
  status === 413
    ? edgeHtml413
    : `<html>\r\n<head><title>${status} ${Http.STATUS_CODES[status] ?? "Error"}</title></head>\r\n<body>\r\n<center><h1>${status} ${
      Http.STATUS_CODES[status] ?? "Error"
    }</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n`

export const defaultErrorMessage = (type: string): string => {
  switch (type) {
    case "invalid_request_error":
      return "messages: field required"
    case "authentication_error":
      return "invalid x-api-key"
    case "billing_error":
      return "Your credit balance is too low to access the Anthropic API."
    case "permission_error":
      return "Your API key does not have permission to use the specified resource."
    case "not_found_error":
      return "Not found"
    case "request_too_large":
      return "Request exceeds the maximum allowed number of bytes."
    case "rate_limit_error":
      return "Number of request tokens has exceeded your per-minute rate limit."
    case "api_error":
      return "Internal server error"
    case "timeout_error":
      return "Request timed out"
    case "overloaded_error":
      return "Overloaded"
    default:
      return type
  }
}

/** The model of a reply whose request named none (validation off). */
const fallbackModel = "claude-sonnet-5-5"

export const estimateTokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4))

/** What an `Ok` reply says about the message it serves. */
type OkReply = Extract<Reply, { readonly _tag: "Ok" }>

const messageContent = (reply: OkReply): ReadonlyArray<Readonly<Record<string, unknown>>> =>
  reply.content ?? [{ type: "text", text: reply.text ?? "Hello from the claude-resilience emulator.", citations: null }]

const outputText = (content: ReadonlyArray<Readonly<Record<string, unknown>>>): string =>
  content.map((block) => JSON.stringify(block)).join("")

export const buildMessage = (
  id: string,
  request: { readonly body: string; readonly json: Option.Option<unknown> },
  reply: OkReply
): Record<string, unknown> => {
  const content = messageContent(reply)
  const params = Option.getOrUndefined(request.json)
  const model = Predicate.isRecord(params) && typeof params.model === "string" ? params.model : fallbackModel
  const stopReason = reply.stopReason !== undefined
    ? reply.stopReason
    : content.some((block) => block.type === "tool_use")
    ? "tool_use"
    : "end_turn"
  return {
    id,
    type: "message",
    role: "assistant",
    model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    ...(reply.stopDetails !== undefined ? { stop_details: reply.stopDetails } : {}),
    usage: {
      input_tokens: estimateTokens(request.body),
      output_tokens: estimateTokens(outputText(content)),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      service_tier: "standard"
    }
  }
}

const chunkText = (text: string, size = 16): ReadonlyArray<string> => {
  const parts: Array<string> = []
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size))
  return parts.length === 0 ? [""] : parts
}

export type SseEvent = { readonly event: string; readonly data: Record<string, unknown> }

/** The SSE events of a message, as the API sends them. */
export const streamEvents = (message: Record<string, unknown>): ReadonlyArray<SseEvent> => {
  const content = (message.content as ReadonlyArray<Readonly<Record<string, unknown>>>) ?? []
  const usage = message.usage as Record<string, unknown>
  const events: Array<SseEvent> = [
    {
      event: "message_start",
      data: {
        type: "message_start",
        message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } }
      }
    },
    { event: "ping", data: { type: "ping" } }
  ]
  content.forEach((block, index) => {
    const delta = (d: Record<string, unknown>): SseEvent => ({
      event: "content_block_delta",
      data: { type: "content_block_delta", index, delta: d }
    })
    if (block.type === "text") {
      const { citations: _citations, text, ...rest } = block
      events.push({
        event: "content_block_start",
        data: { type: "content_block_start", index, content_block: { ...rest, type: "text", text: "" } }
      })
      for (const part of chunkText(typeof text === "string" ? text : "")) {
        events.push(delta({ type: "text_delta", text: part }))
      }
    } else if (block.type === "tool_use" || block.type === "server_tool_use") {
      events.push({
        event: "content_block_start",
        data: { type: "content_block_start", index, content_block: { ...block, input: {} } }
      })
      for (const part of chunkText(JSON.stringify(block.input ?? {}), 8)) {
        events.push(delta({ type: "input_json_delta", partial_json: part }))
      }
    } else if (block.type === "thinking") {
      events.push({
        event: "content_block_start",
        data: { type: "content_block_start", index, content_block: { type: "thinking", thinking: "", signature: "" } }
      })
      for (const part of chunkText(typeof block.thinking === "string" ? block.thinking : "")) {
        events.push(delta({ type: "thinking_delta", thinking: part }))
      }
      events.push(delta({ type: "signature_delta", signature: typeof block.signature === "string" ? block.signature : "" }))
    } else {
      events.push({ event: "content_block_start", data: { type: "content_block_start", index, content_block: block } })
    }
    events.push({ event: "content_block_stop", data: { type: "content_block_stop", index } })
  })
  events.push({
    event: "message_delta",
    data: {
      type: "message_delta",
      delta: {
        stop_reason: message.stop_reason,
        stop_sequence: message.stop_sequence,
        ...(message.stop_details !== undefined ? { stop_details: message.stop_details } : {})
      },
      usage: { output_tokens: usage.output_tokens }
    }
  })
  events.push({ event: "message_stop", data: { type: "message_stop" } })
  return events
}

const encoder = new TextEncoder()

export const encodeEvent = (event: SseEvent): Uint8Array =>
  encoder.encode(Sse.encoder.write({ _tag: "Event", event: event.event, id: undefined, data: JSON.stringify(event.data) }))


export const errorObject = (type: string, message: string, requestId: Option.Option<string>) => ({
  type: "error",
  error: { type, message },
  ...(Option.isSome(requestId) ? { request_id: requestId.value } : {})
})

export const jsonResponse = (status: number, body: unknown, headers: Record<string, string>) =>
  HttpServerResponse.text(JSON.stringify(body), {
    status,
    contentType: "application/json",
    headers: Headers.fromInput(headers)
  })

export const sseResponse = (
  events: ReadonlyArray<SseEvent>,
  headers: Record<string, string>,
  tail: Stream.Stream<Uint8Array> = Stream.empty
) =>
  HttpServerResponse.stream(
    // Node sends the headers with the first write: an empty first chunk
    // sends them at once, as the API does, even if no event follows
    Stream.make(new Uint8Array(0)).pipe(
      Stream.concat(Stream.fromIterable(events).pipe(Stream.map(encodeEvent))),
      Stream.concat(tail)
    ),
    {
      status: 200,
      contentType: "text/event-stream",
      headers: Headers.fromInput({ ...headers, "cache-control": "no-cache" })
    }
  )
