/**
 * The continuations over the real client and the emulator: paused and
 * truncated turns continued with exact request counts and exact follow-up
 * bodies, through `messages.create` and through a stream's `finalMessage`.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { Continuation, Messages, Options, Semantic } from "../../src/index.js"
import { Emulator } from "../../src/testing/index.js"
import {
  failure,
  messageBody,
  params,
  rawJson,
  run,
  searchCall,
  searchParams,
  searchResult,
  send,
  success
} from "../support/semanticWire.js"

// ---------------------------------------------------------------------------
// continuePaused
// ---------------------------------------------------------------------------

const part1 = [
  { type: "text", text: "I'll search for this week's news." },
  searchCall(1, "paris news this week"),
  searchResult(1, "Paris this week")
]
const part2 = [searchCall(2, "paris seine flood"), searchResult(2, "Seine flood")]
const part3 = [{ type: "text", text: "Two things changed: the Seine flooded and a museum reopened." }]

const paused1 = messageBody("msg_p1", "pause_turn", part1, {
  input_tokens: 500,
  output_tokens: 40,
  server_tool_use: { web_search_requests: 1 }
})
const paused2 = messageBody("msg_p2", "pause_turn", part2, {
  input_tokens: 900,
  output_tokens: 30,
  server_tool_use: { web_search_requests: 1 }
})
const done = messageBody("msg_p3", "end_turn", part3, { input_tokens: 1400, output_tokens: 120 })

const userTurn = { role: "user", content: "What changed in Paris this week?" }
const searchParamsJson = {
  model: "claude-sonnet-5-5",
  max_tokens: 1024,
  tools: [{ type: "web_search_20250305", name: "web_search", max_uses: 5 }]
}

describe("continuePaused", () => {
  it.effect("re-sends with the paused content appended until the turn ends: N+1 requests, exact bodies", () =>
    Effect.gen(function*() {
      const script = Emulator.sequence([rawJson(paused1), rawJson(paused2), rawJson(done)])
      const { bodies, exit } = yield* run(
        script,
        send("create", searchParams).pipe(Continuation.continuePaused(searchParams), Semantic.requireComplete())
      )
      expect(bodies).toEqual([
        { ...searchParamsJson, messages: [userTurn] },
        { ...searchParamsJson, messages: [userTurn, { role: "assistant", content: part1 }] },
        { ...searchParamsJson, messages: [userTurn, { role: "assistant", content: [...part1, ...part2] }] }
      ])
      const message = success(exit)
      expect(message).toEqual({
        ...Schema.decodeUnknownSync(Messages.Message)(done),
        content: [...part1, ...part2, ...part3],
        usage: { input_tokens: 2800, output_tokens: 190, server_tool_use: { web_search_requests: 2 } }
      })
      expect(Semantic.outcome(message)._tag).toBe("Complete")
    }))

  it.effect("the first follow-up is exactly [...params.messages, Messages.toMessageParam(paused)]", () =>
    Effect.gen(function*() {
      const script = Emulator.sequence([rawJson(paused1), rawJson(done)])
      const { bodies, exit } = yield* run(script, send("create", searchParams).pipe(Continuation.continuePaused(searchParams)))
      expect(success(exit).id).toBe("msg_p3")
      const paused = Schema.decodeUnknownSync(Messages.Message)(paused1)
      const expected = Schema.encodeSync(Messages.MessageCreateParams)({
        ...searchParams,
        messages: [...searchParams.messages, Messages.toMessageParam(paused)]
      })
      expect(bodies).toHaveLength(2)
      expect(bodies[1]).toEqual(JSON.parse(JSON.stringify(expected)))
    }))

  it.effect("a request ending with an assistant prefill: the follow-up extends that one assistant message", () =>
    Effect.gen(function*() {
      const prefilled: Messages.MessageCreateParams = {
        ...searchParams,
        messages: [...searchParams.messages, { role: "assistant", content: "Here is what I found:" }]
      }
      const script = Emulator.sequence([rawJson(paused1), rawJson(done)])
      const { bodies, exit } = yield* run(script, send("create", prefilled).pipe(Continuation.continuePaused(prefilled)))
      expect(success(exit).id).toBe("msg_p3")
      expect(bodies).toHaveLength(2)
      expect(bodies[1]).toEqual({
        ...searchParamsJson,
        messages: [userTurn, {
          role: "assistant",
          content: [{ type: "text", text: "Here is what I found:" }, ...part1]
        }]
      })
    }))

  it.effect("a response that is not paused comes back unchanged, with no follow-up", () =>
    Effect.gen(function*() {
      const { bodies, exit } = yield* run(Emulator.sequence([rawJson(done)]), send("create", searchParams).pipe(Continuation.continuePaused(searchParams)))
      expect(bodies).toHaveLength(1)
      expect(success(exit)).toEqual(Schema.decodeUnknownSync(Messages.Message)(done))
    }))

  it.effect("still paused after maxContinuations: PausedTurnError, exactly max+1 requests", () =>
    Effect.gen(function*() {
      const { bodies, exit } = yield* run(
        () => rawJson(paused2),
        send("create", searchParams).pipe(Continuation.continuePaused(searchParams, { maxContinuations: 2 }))
      )
      expect(bodies).toHaveLength(3)
      expect(bodies[2]).toEqual({
        ...searchParamsJson,
        messages: [userTurn, { role: "assistant", content: [...part2, ...part2] }]
      })
      const error = failure(exit)
      expect(error).toBeInstanceOf(Semantic.PausedTurnError)
      expect(error).toMatchObject({ continuations: 2, messageId: "msg_p2" })
      const paused = error as Semantic.PausedTurnError
      expect(paused.response.content).toEqual([...part2, ...part2, ...part2])
      expect(paused.response.usage).toEqual({ input_tokens: 2700, output_tokens: 90, server_tool_use: { web_search_requests: 3 } })
      expect(paused.message).toContain("still paused (pause_turn) after 2 continuations")
    }))

  it.effect("the default limit is 5 continuations: 6 requests", () =>
    Effect.gen(function*() {
      const { bodies, exit } = yield* run(() => rawJson(paused2), send("create", searchParams).pipe(Continuation.continuePaused(searchParams)))
      expect(bodies).toHaveLength(6)
      expect(failure(exit)).toMatchObject({ _tag: "PausedTurnError", continuations: 5 })
    }))

  it.effect("maxContinuations 0: the first pause fails at once", () =>
    Effect.gen(function*() {
      const { bodies, exit } = yield* run(
        () => rawJson(paused1),
        send("create", searchParams).pipe(Continuation.continuePaused(searchParams, { maxContinuations: 0 }))
      )
      expect(bodies).toHaveLength(1)
      expect(failure(exit)).toMatchObject({ _tag: "PausedTurnError", continuations: 0 })
    }))

  for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    it.effect(`maxContinuations ${bad} fails before any request`, () =>
      Effect.gen(function*() {
        const { bodies, exit } = yield* run(
          () => rawJson(paused1),
          send("create", searchParams).pipe(Continuation.continuePaused(searchParams, { maxContinuations: bad }))
        )
        expect(bodies).toHaveLength(0)
        expect(failure(exit)).toMatchObject({
          _tag: "InvalidOptionsError",
          module: "Continuation",
          problems: [{
            path: "maxContinuations",
            message: `must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}, got ${bad}`
          }]
        })
      }))
  }

  it.effect("a misspelt option and a stream that is not a boolean fail together, before any request", () =>
    Effect.gen(function*() {
      const { bodies, exit } = yield* run(
        () => rawJson(paused1),
        send("create", searchParams).pipe(
          Continuation.continuePaused(searchParams, { maxContinuation: 2, stream: "yes" } as never)
        )
      )
      expect(bodies).toHaveLength(0)
      const error = failure(exit) as Options.InvalidOptionsError
      expect(error).toBeInstanceOf(Options.InvalidOptionsError)
      expect(error.module).toBe("Continuation")
      expect(error.problems.map((p) => p.path).sort()).toEqual(["maxContinuation", "stream"])
      expect(error.message).toContain(`did you mean "maxContinuations"?`)
    }))

  it.effect("stream: true streams the follow-ups and works on a finalMessage", () =>
    Effect.gen(function*() {
      const script = Emulator.sequence([
        Emulator.Reply.Ok({ content: part1, stopReason: "pause_turn" }),
        Emulator.Reply.Ok({ content: part2, stopReason: "pause_turn" }),
        Emulator.Reply.Ok({ content: part3, stopReason: "end_turn" })
      ])
      const { bodies, exit } = yield* run(
        script,
        send("stream", searchParams).pipe(Continuation.continuePaused(searchParams, { stream: true }), Semantic.requireComplete())
      )
      expect(bodies).toEqual([
        { ...searchParamsJson, stream: true, messages: [userTurn] },
        { ...searchParamsJson, stream: true, messages: [userTurn, { role: "assistant", content: part1 }] },
        { ...searchParamsJson, stream: true, messages: [userTurn, { role: "assistant", content: [...part1, ...part2] }] }
      ])
      const message = success(exit)
      expect(message.content).toEqual([...part1, ...part2, ...part3])
      expect(message.stop_reason).toBe("end_turn")
    }))
})

// ---------------------------------------------------------------------------
// continueTruncated
// ---------------------------------------------------------------------------

const storyParamsJson = { model: "claude-sonnet-5-5", max_tokens: 1024, messages: [userTurn] }

const cut1 = messageBody("msg_t1", "max_tokens", [{ type: "text", text: "The quick brown " }], { input_tokens: 20, output_tokens: 4 })
const cut2 = messageBody("msg_t2", "max_tokens", [{ type: "text", text: " fox jumps over" }], { input_tokens: 25, output_tokens: 4 })
const end = messageBody("msg_t3", "end_turn", [{ type: "text", text: " the lazy dog." }], { input_tokens: 30, output_tokens: 5 })

describe("continueTruncated", () => {
  it.effect("appends the partial answer as the last assistant turn and merges the parts: N+1 requests, exact bodies", () =>
    Effect.gen(function*() {
      const script = Emulator.sequence([rawJson(cut1), rawJson(cut2), rawJson(end)])
      const { bodies, exit } = yield* run(script, send("create", params).pipe(Continuation.continueTruncated(params)))
      expect(bodies).toEqual([
        storyParamsJson,
        { ...storyParamsJson, messages: [userTurn, { role: "assistant", content: [{ type: "text", text: "The quick brown" }] }] },
        {
          ...storyParamsJson,
          messages: [userTurn, { role: "assistant", content: [{ type: "text", text: "The quick brown fox jumps over" }] }]
        }
      ])
      expect(success(exit)).toEqual({
        ...Schema.decodeUnknownSync(Messages.Message)(end),
        content: [{ type: "text", text: "The quick brown fox jumps over the lazy dog." }],
        usage: { input_tokens: 75, output_tokens: 13 }
      })
    }))

  it.effect("still truncated after maxContinuations: TruncatedError with the merged answer, max+1 requests", () =>
    Effect.gen(function*() {
      const { bodies, exit } = yield* run(
        Emulator.sequence([rawJson(cut1)], rawJson(cut2)),
        send("create", params).pipe(Continuation.continueTruncated(params, { maxContinuations: 2 }))
      )
      expect(bodies).toHaveLength(3)
      const error = failure(exit) as Semantic.TruncatedError
      expect(error).toMatchObject({ _tag: "TruncatedError", continuations: 2, outputTokens: 12, messageId: "msg_t2" })
      expect(error.response.content).toEqual([{ type: "text", text: "The quick brown fox jumps over fox jumps over" }])
      expect(error.message).toContain("after 12 output tokens and 2 continuations")
    }))

  it.effect("the default limit is 3 continuations: 4 requests", () =>
    Effect.gen(function*() {
      const { bodies, exit } = yield* run(() => rawJson(cut2), send("create", params).pipe(Continuation.continueTruncated(params)))
      expect(bodies).toHaveLength(4)
      expect(failure(exit)).toMatchObject({ _tag: "TruncatedError", continuations: 3 })
    }))

  it.effect("an answer cut inside a tool call cannot be continued: one request, TruncatedError at once", () =>
    Effect.gen(function*() {
      const cutTool = messageBody("msg_tool", "max_tokens", [
        { type: "text", text: "Let me look that up." },
        { type: "tool_use", id: "toolu_cut", name: "get_weather", input: {} }
      ], { input_tokens: 20, output_tokens: 64 })
      const { bodies, exit } = yield* run(() => rawJson(cutTool), send("create", params).pipe(Continuation.continueTruncated(params)))
      expect(bodies).toHaveLength(1)
      const error = failure(exit) as Semantic.TruncatedError
      expect(error).toMatchObject({ _tag: "TruncatedError", continuations: 0 })
      expect(error.message).toContain(`it cannot be continued (it ends with a "tool_use" block): raise max_tokens`)
    }))

  it.effect("an empty truncated answer cannot be continued either", () =>
    Effect.gen(function*() {
      const blank = messageBody("msg_blank", "max_tokens", [{ type: "text", text: "   " }], { input_tokens: 20, output_tokens: 1 })
      const { bodies, exit } = yield* run(() => rawJson(blank), send("create", params).pipe(Continuation.continueTruncated(params)))
      expect(bodies).toHaveLength(1)
      expect(failure(exit)).toMatchObject({ _tag: "TruncatedError", message: expect.stringContaining("(no content to continue from)") })
    }))

  it.effect("stream: true on a finalMessage", () =>
    Effect.gen(function*() {
      const script = Emulator.sequence([
        Emulator.Reply.Ok({ content: [{ type: "text", text: "Once upon a time, " }], stopReason: "max_tokens" }),
        Emulator.Reply.Ok({ content: [{ type: "text", text: " there was a river." }], stopReason: "end_turn" })
      ])
      const { bodies, exit } = yield* run(
        script,
        send("stream", params).pipe(Continuation.continueTruncated(params, { stream: true }), Semantic.requireComplete())
      )
      expect(bodies).toEqual([
        { ...storyParamsJson, stream: true },
        {
          ...storyParamsJson,
          stream: true,
          messages: [userTurn, { role: "assistant", content: [{ type: "text", text: "Once upon a time," }] }]
        }
      ])
      expect(success(exit).content).toEqual([{ type: "text", text: "Once upon a time, there was a river." }])
    }))

  it.effect("composes after continuePaused: the whole turn so far is what is continued", () =>
    Effect.gen(function*() {
      const cutAfterSearch = messageBody("msg_c", "max_tokens", [{ type: "text", text: "In short: the river " }], {
        input_tokens: 800,
        output_tokens: 16
      })
      const rest = messageBody("msg_d", "end_turn", [{ type: "text", text: " rose by two metres." }], {
        input_tokens: 850,
        output_tokens: 6
      })
      const script = Emulator.sequence([rawJson(paused1), rawJson(cutAfterSearch), rawJson(rest)])
      const { bodies, exit } = yield* run(
        script,
        send("create", searchParams).pipe(
          Continuation.continuePaused(searchParams),
          Continuation.continueTruncated(searchParams),
          Semantic.requireComplete()
        )
      )
      expect(bodies[2]).toEqual({
        ...searchParamsJson,
        messages: [userTurn, { role: "assistant", content: [...part1, { type: "text", text: "In short: the river" }] }]
      })
      const message = success(exit)
      expect(message.content).toEqual([...part1, { type: "text", text: "In short: the river rose by two metres." }])
      expect(message.usage).toEqual({ input_tokens: 2150, output_tokens: 62, server_tool_use: { web_search_requests: 1 } })
    }))
})
