/**
 * The semantic layer over the real client and the emulator: each outcome
 * from realistic bodies, through `messages.create` and through a stream's
 * `finalMessage`; refusals never retried.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { Messages, RetryPolicy, Semantic } from "../../src/index.js"
import { Emulator } from "../../src/testing/index.js"
import {
  failure,
  messageBody,
  modes,
  params,
  raw,
  run,
  searchCall,
  searchResult,
  send,
  success
} from "../support/semanticWire.js"

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
