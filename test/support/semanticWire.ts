/**
 * The semantic layer over the real client and the emulator: requests sent
 * with \`messages.create\` or through a stream's \`finalMessage\`, run against a
 * fresh emulator under virtual time, with the bodies the emulator received;
 * realistic message bodies served as JSON or SSE. Shared by the e2e tests
 * of Semantic, Continuation and ToolInput.
 */
import { expect } from "@effect/vitest"
import { Cause, Chunk, Effect, Exit, Option, Random } from "effect"
import { Claude, type Continuation, type Messages } from "../../src/index.js"
import { Emulator } from "../../src/testing/index.js"
import { body } from "./semantic.js"
import { runVirtual } from "./virtualTime.js"

export const params: Messages.MessageCreateParams = {
  model: "claude-sonnet-5-5",
  max_tokens: 1024,
  messages: [{ role: "user", content: "What changed in Paris this week?" }]
}

export const searchParams: Messages.MessageCreateParams = {
  ...params,
  tools: [{ type: "web_search_20250305", name: "web_search", max_uses: 5 }]
}

export type Mode = "create" | "stream"
export const modes: ReadonlyArray<Mode> = ["create", "stream"]

export const send = (mode: Mode, p: Messages.MessageCreateParams) =>
  Effect.flatMap(
    Claude.Claude,
    (claude): Effect.Effect<Messages.Message, Continuation.ContinuationError> =>
      mode === "create" ? claude.messages.create(p) : claude.messages.finalMessage(p)
  )

export interface Run<A, E> {
  readonly exit: Exit.Exit<A, E | string>
  /** The JSON body of every request the emulator received, in order. */
  readonly bodies: ReadonlyArray<unknown>
}

/**
 * Runs `program` against a fresh emulator (virtual time, every random draw
 * 0.5) and returns its exit and the bodies the emulator received.
 */
export const run = <A, E>(script: Emulator.Script, program: Effect.Effect<A, E, Claude.Claude>) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const exit = yield* Effect.exit(runVirtual(program))
    const requests = yield* emulator.requests
    return { exit, bodies: requests.map((r) => Option.getOrNull(r.json)) } as Run<A, E>
  }).pipe(Effect.provide(Emulator.layerClaude({ script })), Effect.withRandom(Random.fixed([0.5])))

export const success = <A, E>(exit: Exit.Exit<A, E>): A => {
  if (Exit.isFailure(exit)) throw new Error(`expected a success, got ${Cause.pretty(exit.cause)}`)
  return exit.value
}

/** Exactly one typed failure: no defect, no interruption. */
export const failure = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error(`expected a failure, got ${JSON.stringify(exit.value)}`)
  expect(Chunk.size(Cause.defects(exit.cause)), Cause.pretty(exit.cause)).toBe(0)
  expect(Cause.isInterrupted(exit.cause)).toBe(false)
  const failures = Chunk.toReadonlyArray(Cause.failures(exit.cause))
  expect(failures).toHaveLength(1)
  return failures[0]!
}

export const isStream = (request: Emulator.RecordedRequest): boolean =>
  Option.exists(request.json, (json) => typeof json === "object" && json !== null && (json as { stream?: unknown }).stream === true)

/** The wire form of a stream for a full message body, as the API sends it (text blocks only). */
export const sse = (message: Record<string, unknown>): string => {
  const content = message.content as ReadonlyArray<{ readonly type: string; readonly text: string }>
  const usage = message.usage as { readonly output_tokens: number }
  const events: Array<readonly [string, unknown]> = [
    ["message_start", { type: "message_start", message: { ...message, content: [], stop_reason: null, stop_sequence: null } }]
  ]
  content.forEach((block, index) => {
    events.push(["content_block_start", { type: "content_block_start", index, content_block: { type: "text", text: "" } }])
    events.push(["content_block_delta", { type: "content_block_delta", index, delta: { type: "text_delta", text: block.text } }])
    events.push(["content_block_stop", { type: "content_block_stop", index }])
  })
  events.push(["message_delta", {
    type: "message_delta",
    delta: { stop_reason: message.stop_reason, stop_sequence: message.stop_sequence },
    usage: { output_tokens: usage.output_tokens }
  }])
  events.push(["message_stop", { type: "message_stop" }])
  return events.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join("")
}

/** Serves `message` as JSON, or as SSE to a streaming request. */
export const raw = (message: Record<string, unknown>): Emulator.Script => (request) =>
  isStream(request)
    ? Emulator.Reply.Raw({ status: 200, body: sse(message), contentType: "text/event-stream" })
    : Emulator.Reply.Raw({ status: 200, body: JSON.stringify(message) })

export const rawJson = (message: Record<string, unknown>): Emulator.Reply =>
  Emulator.Reply.Raw({ status: 200, body: JSON.stringify(message) })

export const messageBody = (
  id: string,
  stop_reason: string | null,
  content: ReadonlyArray<Record<string, unknown>>,
  usage: Record<string, unknown>,
  extra: Record<string, unknown> = {}
): Record<string, unknown> => body(stop_reason, content, { id, usage, ...extra })

// realistic blocks of a web search turn
export const searchCall = (n: number, query: string) => ({
  type: "server_tool_use",
  id: `srvtoolu_0${n}`,
  name: "web_search",
  input: { query }
})

export const searchResult = (n: number, title: string) => ({
  type: "web_search_tool_result",
  tool_use_id: `srvtoolu_0${n}`,
  content: [{
    type: "web_search_result",
    url: `https://example.org/paris/${n}`,
    title,
    encrypted_content: `EqgfCioIARgBIiQ3YTAwMjY1Mi0${n}`,
    page_age: "June 3, 2025"
  }]
})
