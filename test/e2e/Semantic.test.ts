/**
 * The semantic layer over the real client and the emulator: each outcome
 * from realistic bodies, through `messages.create` and through a stream's
 * `finalMessage`; refusals never retried; continuations with exact request
 * counts and exact follow-up bodies.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Chunk, Effect, Exit, Option, Random, Schema } from "effect"
import { Claude, Messages, RetryPolicy, Semantic } from "../../src/index.js"
import { Emulator } from "../../src/testing/index.js"
import { runVirtual } from "../support/virtualTime.js"

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

const params: Messages.MessageCreateParams = {
  model: "claude-sonnet-5-5",
  max_tokens: 1024,
  messages: [{ role: "user", content: "What changed in Paris this week?" }]
}

const searchParams: Messages.MessageCreateParams = {
  ...params,
  tools: [{ type: "web_search_20250305", name: "web_search", max_uses: 5 }]
}

type Mode = "create" | "stream"
const modes: ReadonlyArray<Mode> = ["create", "stream"]

const send = (mode: Mode, p: Messages.MessageCreateParams) =>
  Effect.flatMap(
    Claude.Claude,
    (claude): Effect.Effect<Messages.Message, Semantic.ContinuationError> =>
      mode === "create" ? claude.messages.create(p) : claude.messages.finalMessage(p)
  )

interface Run<A, E> {
  readonly exit: Exit.Exit<A, E | string>
  /** The JSON body of every request the emulator received, in order. */
  readonly bodies: ReadonlyArray<unknown>
}

/**
 * Runs `program` against a fresh emulator (virtual time, every random draw
 * 0.5) and returns its exit and the bodies the emulator received.
 */
const run = <A, E>(script: Emulator.Script, program: Effect.Effect<A, E, Claude.Claude>) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const exit = yield* Effect.exit(runVirtual(program))
    const requests = yield* emulator.requests
    return { exit, bodies: requests.map((r) => Option.getOrNull(r.json)) } as Run<A, E>
  }).pipe(Effect.provide(Emulator.layerClaude({ script })), Effect.withRandom(Random.fixed([0.5])))

const success = <A, E>(exit: Exit.Exit<A, E>): A => {
  if (Exit.isFailure(exit)) throw new Error(`expected a success, got ${Cause.pretty(exit.cause)}`)
  return exit.value
}

/** Exactly one typed failure: no defect, no interruption. */
const failure = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error(`expected a failure, got ${JSON.stringify(exit.value)}`)
  expect(Chunk.size(Cause.defects(exit.cause)), Cause.pretty(exit.cause)).toBe(0)
  expect(Cause.isInterrupted(exit.cause)).toBe(false)
  const failures = Chunk.toReadonlyArray(Cause.failures(exit.cause))
  expect(failures).toHaveLength(1)
  return failures[0]!
}

const isStream = (request: Emulator.RecordedRequest): boolean =>
  Option.exists(request.json, (json) => typeof json === "object" && json !== null && (json as { stream?: unknown }).stream === true)

/** The wire form of a stream for a full message body, as the API sends it (text blocks only). */
const sse = (message: Record<string, unknown>): string => {
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
const raw = (message: Record<string, unknown>): Emulator.Script => (request) =>
  isStream(request)
    ? Emulator.Reply.Raw({ status: 200, body: sse(message), contentType: "text/event-stream" })
    : Emulator.Reply.Raw({ status: 200, body: JSON.stringify(message) })

const rawJson = (message: Record<string, unknown>): Emulator.Reply =>
  Emulator.Reply.Raw({ status: 200, body: JSON.stringify(message) })

const messageBody = (
  id: string,
  stop_reason: string | null,
  content: ReadonlyArray<Record<string, unknown>>,
  usage: Record<string, unknown>,
  extra: Record<string, unknown> = {}
): Record<string, unknown> => ({
  id,
  type: "message",
  role: "assistant",
  model: "claude-sonnet-5-5",
  content,
  stop_reason,
  stop_sequence: null,
  usage,
  ...extra
})

// realistic blocks of a web search turn
const searchCall = (n: number, query: string) => ({
  type: "server_tool_use",
  id: `srvtoolu_0${n}`,
  name: "web_search",
  input: { query }
})

const searchResult = (n: number, title: string) => ({
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

const refusalDetails = {
  type: "refusal",
  category: "bio",
  explanation: "The request asks for methods that could enable biological harm."
}

// ---------------------------------------------------------------------------
// one test per outcome, through create and through a stream
// ---------------------------------------------------------------------------

interface Case {
  readonly name: string
  readonly script: Emulator.Script
  readonly tag: Semantic.OutcomeTag
  /** The error of requireComplete(), if any. */
  readonly error?: string
  readonly check?: (outcome: Semantic.Outcome) => void
}

const cases: ReadonlyArray<Case> = [
  {
    name: "end_turn with text",
    script: () => Emulator.Reply.Ok({ content: [{ type: "text", text: "The Seine flooded its lower quays." }], stopReason: "end_turn" }),
    tag: "Complete",
    check: (o) => expect(o).toMatchObject({ stopReason: "end_turn", stopSequence: Option.none() })
  },
  {
    name: "stop_sequence",
    script: raw(messageBody("msg_seq", "stop_sequence", [{ type: "text", text: "1. Louvre\n2. Orsay" }], {
      input_tokens: 30,
      output_tokens: 9
    }, { stop_sequence: "\n3." })),
    tag: "Complete",
    check: (o) => expect(o).toMatchObject({ stopReason: "stop_sequence", stopSequence: Option.some("\n3.") })
  },
  {
    name: "tool_use",
    script: () =>
      Emulator.Reply.Ok({
        content: [
          { type: "text", text: "Let me check the weather." },
          { type: "tool_use", id: "toolu_01A09q90qw90lq917835lq9", name: "get_weather", input: { city: "Paris", unit: "celsius" } }
        ]
      }),
    tag: "ToolUse",
    check: (o) =>
      expect(o).toMatchObject({
        toolUses: [{
          type: "tool_use",
          id: "toolu_01A09q90qw90lq917835lq9",
          name: "get_weather",
          input: { city: "Paris", unit: "celsius" }
        }]
      })
  },
  {
    name: "max_tokens",
    script: () => Emulator.Reply.Ok({ text: "The history of the city begins with the Parisii, a", stopReason: "max_tokens" }),
    tag: "Truncated",
    error: "TruncatedError"
  },
  {
    name: "max_tokens with empty content",
    script: () => Emulator.Reply.Ok({ content: [], stopReason: "max_tokens" }),
    tag: "Truncated",
    error: "TruncatedError"
  },
  {
    name: "model_context_window_exceeded",
    script: () => Emulator.Reply.Ok({ text: "…and in summary", stopReason: "model_context_window_exceeded" }),
    tag: "ContextWindowExceeded",
    error: "ContextWindowExceededError"
  },
  {
    name: "pause_turn",
    script: () =>
      Emulator.Reply.Ok({
        content: [{ type: "text", text: "I'll search." }, searchCall(1, "paris news"), searchResult(1, "Paris news")],
        stopReason: "pause_turn"
      }),
    tag: "Paused",
    error: "PausedTurnError"
  },
  {
    name: "refusal with stop_details",
    script: () =>
      Emulator.Reply.Ok({
        content: [{ type: "text", text: "I can't help with that." }],
        stopReason: "refusal",
        stopDetails: refusalDetails
      }),
    tag: "Refused",
    error: "RefusalError",
    check: (o) =>
      expect(o).toMatchObject({
        category: Option.some("bio"),
        explanation: Option.some(refusalDetails.explanation),
        details: Option.some(refusalDetails)
      })
  },
  {
    name: "refusal with empty content and null details",
    script: () =>
      Emulator.Reply.Ok({
        content: [],
        stopReason: "refusal",
        stopDetails: { type: "refusal", category: null, explanation: null }
      }),
    tag: "Refused",
    error: "RefusalError",
    check: (o) => expect(o).toMatchObject({ category: Option.none(), explanation: Option.none() })
  },
  {
    name: "end_turn with empty content",
    script: () => Emulator.Reply.Ok({ content: [], stopReason: "end_turn" }),
    tag: "Empty",
    error: "EmptyResponseError"
  },
  {
    name: "end_turn with whitespace-only text",
    script: () => Emulator.Reply.Ok({ content: [{ type: "text", text: " \n\n  \t" }], stopReason: "end_turn" }),
    tag: "Empty",
    error: "EmptyResponseError"
  },
  {
    name: "a null stop_reason",
    script: () => Emulator.Reply.Ok({ text: "partial", stopReason: null }),
    tag: "Unknown",
    error: "UnknownStopReasonError",
    check: (o) => expect(o).toMatchObject({ stopReason: null })
  },
  {
    name: "an unknown stop_reason",
    script: () => Emulator.Reply.Ok({ text: "ok", stopReason: "compaction_requested" }),
    tag: "Unknown",
    error: "UnknownStopReasonError",
    check: (o) => expect(o).toMatchObject({ stopReason: "compaction_requested" })
  }
]

describe("outcomes from the wire", () => {
  for (const mode of modes) {
    for (const c of cases) {
      it.effect(`${mode}: ${c.name} is ${c.tag}${c.error ? `; requireComplete fails with ${c.error}` : ""}`, () =>
        Effect.gen(function*() {
          const { bodies, exit } = yield* run(c.script, send(mode, params).pipe(Semantic.requireComplete()))
          expect(bodies).toHaveLength(1)
          let message: Messages.Message
          if (c.error === undefined) {
            message = success(exit)
          } else {
            const error = failure(exit)
            expect(error).toMatchObject({ _tag: c.error, model: "claude-sonnet-5-5" })
            expect(Semantic.isSemanticError(error)).toBe(true)
            message = (error as { readonly response: Messages.Message }).response
            expect((error as { readonly messageId: string }).messageId).toBe(message.id)
          }
          const outcome = Semantic.outcome(message)
          expect(outcome._tag).toBe(c.tag)
          expect(outcome.message).toBe(message)
          c.check?.(outcome)
        }))
    }
  }

  it.effect("the stream's final message and the JSON message have the same outcome and content", () =>
    Effect.gen(function*() {
      const reply = () =>
        Emulator.Reply.Ok({
          content: [{ type: "text", text: "I can't help with that request." }],
          stopReason: "refusal",
          stopDetails: refusalDetails
        })
      const both = Effect.all([send("create", params), send("stream", params)])
      const { bodies, exit } = yield* run(reply, both)
      const [json, streamed] = success(exit)
      expect(bodies).toHaveLength(2)
      expect(Semantic.outcome(streamed)).toEqual({ ...Semantic.outcome(json), message: streamed })
      expect(streamed.content).toEqual(json.content)
      expect(streamed.stop_details).toEqual(json.stop_details)
    }))
})

// ---------------------------------------------------------------------------
// a refusal is never retried
// ---------------------------------------------------------------------------

describe("a refusal is never retried by the transport policy", () => {
  const refusal = () =>
    Emulator.Reply.Ok({ content: [{ type: "text", text: "I can't help with that." }], stopReason: "refusal", stopDetails: refusalDetails })

  for (const mode of modes) {
    it.effect(`${mode}: exactly one request, even under RetryPolicy.retry`, () =>
      Effect.gen(function*() {
        const { bodies, exit } = yield* run(
          refusal,
          send(mode, params).pipe(Semantic.requireComplete(), RetryPolicy.retry())
        )
        expect(bodies).toHaveLength(1)
        expect(failure(exit)).toMatchObject({ _tag: "RefusalError", category: Option.some("bio") })
      }))
  }

  it.effect("a 529 is retried, the refusal after it is not: exactly two requests", () =>
    Effect.gen(function*() {
      const script = Emulator.sequence([Emulator.Reply.Error({ status: 529 })], refusal())
      const { bodies, exit } = yield* run(script, send("create", params).pipe(Semantic.requireComplete(), RetryPolicy.retry()))
      expect(bodies).toHaveLength(2)
      expect(failure(exit)).toMatchObject({ _tag: "RefusalError" })
    }))
})

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
        send("create", searchParams).pipe(Semantic.continuePaused(searchParams), Semantic.requireComplete())
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
      const { bodies, exit } = yield* run(script, send("create", searchParams).pipe(Semantic.continuePaused(searchParams)))
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
      const { bodies, exit } = yield* run(script, send("create", prefilled).pipe(Semantic.continuePaused(prefilled)))
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
      const { bodies, exit } = yield* run(Emulator.sequence([rawJson(done)]), send("create", searchParams).pipe(Semantic.continuePaused(searchParams)))
      expect(bodies).toHaveLength(1)
      expect(success(exit)).toEqual(Schema.decodeUnknownSync(Messages.Message)(done))
    }))

  it.effect("still paused after maxContinuations: PausedTurnError, exactly max+1 requests", () =>
    Effect.gen(function*() {
      const { bodies, exit } = yield* run(
        () => rawJson(paused2),
        send("create", searchParams).pipe(Semantic.continuePaused(searchParams, { maxContinuations: 2 }))
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
      const { bodies, exit } = yield* run(() => rawJson(paused2), send("create", searchParams).pipe(Semantic.continuePaused(searchParams)))
      expect(bodies).toHaveLength(6)
      expect(failure(exit)).toMatchObject({ _tag: "PausedTurnError", continuations: 5 })
    }))

  it.effect("maxContinuations 0: the first pause fails at once", () =>
    Effect.gen(function*() {
      const { bodies, exit } = yield* run(
        () => rawJson(paused1),
        send("create", searchParams).pipe(Semantic.continuePaused(searchParams, { maxContinuations: 0 }))
      )
      expect(bodies).toHaveLength(1)
      expect(failure(exit)).toMatchObject({ _tag: "PausedTurnError", continuations: 0 })
    }))

  for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    it.effect(`maxContinuations ${bad} fails before any request`, () =>
      Effect.gen(function*() {
        const { bodies, exit } = yield* run(
          () => rawJson(paused1),
          send("create", searchParams).pipe(Semantic.continuePaused(searchParams, { maxContinuations: bad }))
        )
        expect(bodies).toHaveLength(0)
        expect(failure(exit)).toMatchObject({
          _tag: "InvalidContinuationOptionsError",
          option: "maxContinuations",
          message: `maxContinuations must be a non-negative integer, got ${bad}`
        })
      }))
  }

  it.effect("stream: true streams the follow-ups and works on a finalMessage", () =>
    Effect.gen(function*() {
      const script = Emulator.sequence([
        Emulator.Reply.Ok({ content: part1, stopReason: "pause_turn" }),
        Emulator.Reply.Ok({ content: part2, stopReason: "pause_turn" }),
        Emulator.Reply.Ok({ content: part3, stopReason: "end_turn" })
      ])
      const { bodies, exit } = yield* run(
        script,
        send("stream", searchParams).pipe(Semantic.continuePaused(searchParams, { stream: true }), Semantic.requireComplete())
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
      const { bodies, exit } = yield* run(script, send("create", params).pipe(Semantic.continueTruncated(params)))
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
        send("create", params).pipe(Semantic.continueTruncated(params, { maxContinuations: 2 }))
      )
      expect(bodies).toHaveLength(3)
      const error = failure(exit) as Semantic.TruncatedError
      expect(error).toMatchObject({ _tag: "TruncatedError", continuations: 2, outputTokens: 12, messageId: "msg_t2" })
      expect(error.response.content).toEqual([{ type: "text", text: "The quick brown fox jumps over fox jumps over" }])
      expect(error.message).toContain("after 12 output tokens and 2 continuations")
    }))

  it.effect("the default limit is 3 continuations: 4 requests", () =>
    Effect.gen(function*() {
      const { bodies, exit } = yield* run(() => rawJson(cut2), send("create", params).pipe(Semantic.continueTruncated(params)))
      expect(bodies).toHaveLength(4)
      expect(failure(exit)).toMatchObject({ _tag: "TruncatedError", continuations: 3 })
    }))

  it.effect("an answer cut inside a tool call cannot be continued: one request, TruncatedError at once", () =>
    Effect.gen(function*() {
      const cutTool = messageBody("msg_tool", "max_tokens", [
        { type: "text", text: "Let me look that up." },
        { type: "tool_use", id: "toolu_cut", name: "get_weather", input: {} }
      ], { input_tokens: 20, output_tokens: 64 })
      const { bodies, exit } = yield* run(() => rawJson(cutTool), send("create", params).pipe(Semantic.continueTruncated(params)))
      expect(bodies).toHaveLength(1)
      const error = failure(exit) as Semantic.TruncatedError
      expect(error).toMatchObject({ _tag: "TruncatedError", continuations: 0 })
      expect(error.message).toContain(`it cannot be continued (it ends with a "tool_use" block): raise max_tokens`)
    }))

  it.effect("an empty truncated answer cannot be continued either", () =>
    Effect.gen(function*() {
      const blank = messageBody("msg_blank", "max_tokens", [{ type: "text", text: "   " }], { input_tokens: 20, output_tokens: 1 })
      const { bodies, exit } = yield* run(() => rawJson(blank), send("create", params).pipe(Semantic.continueTruncated(params)))
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
        send("stream", params).pipe(Semantic.continueTruncated(params, { stream: true }), Semantic.requireComplete())
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
          Semantic.continuePaused(searchParams),
          Semantic.continueTruncated(searchParams),
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

// ---------------------------------------------------------------------------
// tool inputs
// ---------------------------------------------------------------------------

describe("validateToolInput", () => {
  const Weather = Schema.Struct({ city: Schema.String, days: Schema.Number })
  const reply = (input: unknown) => () =>
    Emulator.Reply.Ok({ content: [{ type: "tool_use", id: "toolu_01W", name: "get_weather", input }] })

  for (const mode of modes) {
    it.effect(`${mode}: a matching input passes, the message unchanged`, () =>
      Effect.gen(function*() {
        const { exit } = yield* run(
          reply({ city: "Paris", days: 3 }),
          send(mode, params).pipe(Semantic.requireComplete(), Semantic.validateToolInput("get_weather", Weather))
        )
        expect(Semantic.outcome(success(exit))).toMatchObject({ _tag: "ToolUse", toolUses: [{ input: { city: "Paris", days: 3 } }] })
      }))

    it.effect(`${mode}: a mismatched field fails with the tool, the id and the path`, () =>
      Effect.gen(function*() {
        const { bodies, exit } = yield* run(
          reply({ city: "Paris", days: "three" }),
          send(mode, params).pipe(Semantic.requireComplete(), Semantic.validateToolInput("get_weather", Weather))
        )
        expect(bodies).toHaveLength(1)
        expect(failure(exit)).toMatchObject({
          _tag: "ToolInputSchemaError",
          toolName: "get_weather",
          toolUseId: "toolu_01W",
          path: ["days"],
          field: "input.days"
        })
      }))
  }
})
