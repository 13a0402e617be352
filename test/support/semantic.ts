/**
 * Responses for the tests of the semantic layer (Semantic, Continuation,
 * ToolInput): a `Message` body with a given `stop_reason` and content, its
 * blocks, and a way to read the one failure of an effect.
 */
import { Cause, Effect, Exit, FastCheck as fc, Option, Schema } from "effect"
import { Messages, type Semantic } from "../../src/index.js"

export const usage = { input_tokens: 1200, output_tokens: 310, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 }

export const body = (stop_reason: unknown, content: ReadonlyArray<unknown>, extra: Record<string, unknown> = {}) => ({
  id: "msg_01XFDUDYJgAACzvnptvVoYEL",
  type: "message",
  role: "assistant",
  model: "claude-sonnet-5-5",
  content,
  stop_reason,
  stop_sequence: null,
  usage,
  ...extra
})

export const decode = (u: unknown): Messages.Message => Schema.decodeUnknownSync(Messages.Message)(u)

export const text = (t: string) => ({ type: "text", text: t })
export const toolUse = (id: string, name: string, input: unknown) => ({ type: "tool_use", id, name, input })
export const serverToolUse = { type: "server_tool_use", id: "srvtoolu_01", name: "web_search", input: { query: "paris" } }
export const thinking = { type: "thinking", thinking: "Let me think.", signature: "c2lnbmF0dXJl" }

export const failure = <A, E>(effect: Effect.Effect<A, E>): E => {
  const exit = Effect.runSyncExit(effect)
  if (Exit.isSuccess(exit)) throw new Error(`expected a failure, got ${JSON.stringify(exit.value)}`)
  return Option.getOrThrow(Cause.failureOption(exit.cause))
}

export const whitespace = fc
  .array(fc.constantFrom(" ", "\n", "\t", "\r", "\u00a0", "\u2003", "\u3000", "\ufeff", "\u2028"), { maxLength: 5 })
  .map((chars) => chars.join(""))

export const whitespaceText = whitespace.map((t): Messages.ContentBlock => ({ type: "text", text: t }))

/** The errors `Semantic.requireComplete()` adds by default: those of every outcome but Complete and ToolUse. */
export type DefaultRejections =
  | Semantic.TruncatedError
  | Semantic.ContextWindowExceededError
  | Semantic.PausedTurnError
  | Semantic.RefusalError
  | Semantic.EmptyResponseError
  | Semantic.UnknownStopReasonError
