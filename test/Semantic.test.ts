import { describe, expect, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { Arbitrary, Effect, Exit, FastCheck as fc, Option, Schema } from "effect"
import { ApiError, Messages, Semantic } from "../src/index.js"
import { body, decode, failure, serverToolUse, text, thinking, toolUse, whitespaceText } from "./support/semantic.js"

const refusalDetails = {
  type: "refusal",
  category: "cyber",
  explanation: "The request asks for a working exploit for a specific system."
}

// ---------------------------------------------------------------------------
// outcome
// ---------------------------------------------------------------------------

describe("outcome", () => {
  it("end_turn with text is Complete, no stop sequence", () => {
    const message = decode(body("end_turn", [text("Paris is the capital of France.")]))
    expect(Semantic.outcome(message)).toEqual(
      Semantic.Outcome.Complete({ message, stopReason: "end_turn", stopSequence: Option.none() })
    )
  })

  it("stop_sequence is Complete and carries the sequence", () => {
    const message = decode(body("stop_sequence", [text("1. apples\n2. pears")], { stop_sequence: "\n3." }))
    const read = Semantic.outcome(message)
    expect(read).toEqual(Semantic.Outcome.Complete({ message, stopReason: "stop_sequence", stopSequence: Option.some("\n3.") }))
  })

  it("tool_use is ToolUse and carries the client tool_use blocks in order", () => {
    const message = decode(body("tool_use", [
      text("I'll check both cities."),
      toolUse("toolu_a", "get_weather", { city: "Paris" }),
      serverToolUse,
      toolUse("toolu_b", "get_weather", { city: "Lyon" })
    ]))
    const read = Semantic.outcome(message)
    expect(read._tag).toBe("ToolUse")
    if (read._tag !== "ToolUse") return
    expect(read.toolUses.map((b) => [b.id, b.name, b.input])).toEqual([
      ["toolu_a", "get_weather", { city: "Paris" }],
      ["toolu_b", "get_weather", { city: "Lyon" }]
    ])
    expect(read.toolUses[0]).toBe(message.content[1])
  })

  it("tool_use with only a server tool pending is ToolUse with no client blocks", () => {
    const read = Semantic.outcome(decode(body("tool_use", [serverToolUse])))
    expect(read).toMatchObject({ _tag: "ToolUse", toolUses: [] })
  })

  it("max_tokens is Truncated, with or without content", () => {
    expect(Semantic.outcome(decode(body("max_tokens", [text("The history of Rome begins")])))._tag).toBe("Truncated")
    expect(Semantic.outcome(decode(body("max_tokens", [])))._tag).toBe("Truncated")
    expect(Semantic.outcome(decode(body("max_tokens", [text("  ")])))._tag).toBe("Truncated")
  })

  it("model_context_window_exceeded is ContextWindowExceeded", () => {
    const message = decode(body("model_context_window_exceeded", [text("…and so")]))
    expect(Semantic.outcome(message)).toEqual(Semantic.Outcome.ContextWindowExceeded({ message }))
  })

  it("pause_turn is Paused", () => {
    const message = decode(body("pause_turn", [serverToolUse]))
    expect(Semantic.outcome(message)).toEqual(Semantic.Outcome.Paused({ message }))
  })

  it("refusal is Refused with the stop_details category and explanation", () => {
    const message = decode(body("refusal", [text("I can't help with that.")], { stop_details: refusalDetails }))
    expect(Semantic.outcome(message)).toEqual(Semantic.Outcome.Refused({
      message,
      category: Option.some("cyber"),
      explanation: Option.some(refusalDetails.explanation),
      details: Option.some(message.stop_details!)
    }))
  })

  it("a refusal with null category and explanation has neither", () => {
    const message = decode(body("refusal", [], { stop_details: { type: "refusal", category: null, explanation: null } }))
    expect(Semantic.outcome(message)).toMatchObject({
      _tag: "Refused",
      category: Option.none(),
      explanation: Option.none(),
      details: Option.some({ type: "refusal", category: null, explanation: null })
    })
  })

  it("a refusal with no stop_details and empty content stays Refused", () => {
    const message = decode(body("refusal", []))
    expect(Semantic.outcome(message)).toEqual(Semantic.Outcome.Refused({
      message,
      category: Option.none(),
      explanation: Option.none(),
      details: Option.none()
    }))
  })

  it("end_turn with no content is Empty", () => {
    const message = decode(body("end_turn", []))
    expect(Semantic.outcome(message)).toEqual(Semantic.Outcome.Empty({ message }))
  })

  it("end_turn with only whitespace text is Empty", () => {
    expect(Semantic.outcome(decode(body("end_turn", [text(" \n\t"), text("\u00a0\u2003")])))._tag).toBe("Empty")
    expect(Semantic.outcome(decode(body("end_turn", [text("")])))._tag).toBe("Empty")
  })

  it("end_turn with a non-text block or one visible character is not Empty", () => {
    expect(Semantic.outcome(decode(body("end_turn", [thinking])))._tag).toBe("Complete")
    expect(Semantic.outcome(decode(body("end_turn", [text("  "), text(" .")])))._tag).toBe("Complete")
  })

  it("stop_sequence with empty content stays Complete (Empty refines end_turn only)", () => {
    expect(Semantic.outcome(decode(body("stop_sequence", [], { stop_sequence: "END" })))._tag).toBe("Complete")
  })

  it("a null or absent stop_reason is Unknown(null)", () => {
    const message = decode(body(null, [text("partial")]))
    expect(Semantic.outcome(message)).toEqual(Semantic.Outcome.Unknown({ message, stopReason: null }))
    const { stop_reason: _, ...absent } = body(null, [])
    expect(Semantic.outcome(decode(absent))).toMatchObject({ _tag: "Unknown", stopReason: null })
  })

  it("an unknown stop_reason is Unknown with the raw value", () => {
    const message = decode(body("compaction_requested", [text("ok")]))
    expect(Semantic.outcome(message)).toEqual(Semantic.Outcome.Unknown({ message, stopReason: "compaction_requested" }))
    expect(Semantic.outcome(decode(body("END_TURN", [text("ok")])))).toMatchObject({ stopReason: "END_TURN" })
  })
})

// ---------------------------------------------------------------------------
// errors
// ---------------------------------------------------------------------------

describe("toError", () => {
  it("a refusal: category, explanation, ids, the response kept", () => {
    const message = decode(body("refusal", [text("I can't help with that.")], { stop_details: refusalDetails }))
    const error = Semantic.toError(Semantic.outcome(message))
    expect(error).toBeInstanceOf(Semantic.RefusalError)
    expect(error).toMatchObject({
      _tag: "RefusalError",
      messageId: "msg_01XFDUDYJgAACzvnptvVoYEL",
      model: "claude-sonnet-5-5",
      category: Option.some("cyber"),
      explanation: Option.some(refusalDetails.explanation)
    })
    expect((error as Semantic.RefusalError).response).toBe(message)
    expect(error.message).toBe(
      `Claude declined to answer (refusal; message "msg_01XFDUDYJgAACzvnptvVoYEL", model "claude-sonnet-5-5", category "cyber"): ` +
        `${refusalDetails.explanation}. The same request gets the same refusal: rephrase it or send it to a fallback model`
    )
  })

  it("a refusal's explanation has its control characters blanked and is clipped", () => {
    const explanation = `line one\nline two\u0007${"x".repeat(400)}`
    const message = decode(body("refusal", [], { stop_details: { type: "refusal", category: null, explanation } }))
    const error = Semantic.toError(Semantic.outcome(message))
    expect(error.message).toContain(": line one line two xxx")
    expect(error.message).not.toMatch(/[\u0000-\u001f]/)
    expect(error.message).toContain("x…. The same request")
    expect((error as Semantic.RefusalError).explanation).toEqual(Option.some(explanation))
  })

  it("a truncation: output tokens, no continuations", () => {
    const error = Semantic.toError(Semantic.outcome(decode(body("max_tokens", [text("The")]))))
    expect(error).toMatchObject({ _tag: "TruncatedError", outputTokens: 310, continuations: 0 })
    expect(error.message).toBe(
      `The response was cut off at max_tokens after 310 output tokens (message "msg_01XFDUDYJgAACzvnptvVoYEL", model "claude-sonnet-5-5"): raise max_tokens or continue the response`
    )
  })

  it("a full context window: input and output tokens", () => {
    const error = Semantic.toError(Semantic.outcome(decode(body("model_context_window_exceeded", [text("…")]))))
    expect(error).toMatchObject({ _tag: "ContextWindowExceededError", inputTokens: 1200, outputTokens: 310 })
    expect(error.message).toContain("(1200 input tokens, 310 output tokens;")
  })

  it("an empty answer says which kind of empty", () => {
    expect(Semantic.toError(Semantic.outcome(decode(body("end_turn", []))))).toMatchObject({
      _tag: "EmptyResponseError",
      message: expect.stringContaining("(end_turn, no content;")
    })
    expect(Semantic.toError(Semantic.outcome(decode(body("end_turn", [text(" ")]))))).toMatchObject({
      message: expect.stringContaining("(end_turn, only whitespace text;")
    })
  })

  it("a paused turn outside continuePaused says how to continue", () => {
    const error = Semantic.toError(Semantic.outcome(decode(body("pause_turn", [serverToolUse]))))
    expect(error).toMatchObject({ _tag: "PausedTurnError", continuations: 0 })
    expect(error.message).toContain("send the assistant content back to continue it (Continuation.continuePaused)")
  })

  it("an unknown stop reason, quoted, and a null one", () => {
    const odd = Semantic.toError(Semantic.outcome(decode(body("new\nreason", [text("x")]))))
    expect(odd).toMatchObject({ _tag: "UnknownStopReasonError", stopReason: "new\nreason" })
    expect(odd.message).toContain(`does not know: "new\\nreason" (message`)
    const none = Semantic.toError(Semantic.outcome(decode(body(null, []))))
    expect(none).toMatchObject({ _tag: "UnknownStopReasonError", stopReason: null })
    expect(none.message).toContain("has no stop_reason")
  })

  it("Complete and ToolUse give UnacceptedOutcomeError naming what was accepted", () => {
    const error = Semantic.toError(Semantic.outcome(decode(body("end_turn", [text("hi")]))), ["ToolUse"])
    expect(error).toMatchObject({ _tag: "UnacceptedOutcomeError", outcome: "Complete", stopReason: "end_turn", accepted: ["ToolUse"] })
    expect(error.message).toContain("(accepted: ToolUse)")
    expect(Semantic.toError(Semantic.outcome(decode(body("tool_use", [toolUse("t", "x", {})]))))).toMatchObject({
      outcome: "ToolUse",
      accepted: [],
      message: expect.stringContaining("(accepted: none)")
    })
  })

  it("every semantic error is recognised by isSemanticError and by no ApiError guard", () => {
    const all = [
      Semantic.toError(Semantic.outcome(decode(body("refusal", [])))),
      Semantic.toError(Semantic.outcome(decode(body("max_tokens", [])))),
      Semantic.toError(Semantic.outcome(decode(body("model_context_window_exceeded", [])))),
      Semantic.toError(Semantic.outcome(decode(body("end_turn", [])))),
      Semantic.toError(Semantic.outcome(decode(body("pause_turn", [])))),
      Semantic.toError(Semantic.outcome(decode(body("x", [])))),
      Semantic.toError(Semantic.outcome(decode(body("end_turn", [text("a")]))))
    ]
    expect(all.map((e) => e._tag)).toEqual(Semantic.semanticErrorTags.slice(0, 7))
    for (const error of all) {
      expect(Semantic.isSemanticError(error)).toBe(true)
      expect(ApiError.isApiError(error)).toBe(false)
      expect(ApiError.isRetryable(error)).toBe(false)
    }
    expect(Semantic.isSemanticError({ _tag: "RateLimitError" })).toBe(false)
    expect(Semantic.isSemanticError(null)).toBe(false)
  })
})

// ---------------------------------------------------------------------------
// requireComplete (pure: the message is given)
// ---------------------------------------------------------------------------

const each: ReadonlyArray<readonly [Semantic.OutcomeTag, unknown, string]> = [
  ["Complete", body("end_turn", [text("done")]), "UnacceptedOutcomeError"],
  ["ToolUse", body("tool_use", [toolUse("toolu_1", "t", {})]), "UnacceptedOutcomeError"],
  ["Truncated", body("max_tokens", [text("cut")]), "TruncatedError"],
  ["ContextWindowExceeded", body("model_context_window_exceeded", []), "ContextWindowExceededError"],
  ["Paused", body("pause_turn", [serverToolUse]), "PausedTurnError"],
  ["Refused", body("refusal", [], { stop_details: refusalDetails }), "RefusalError"],
  ["Empty", body("end_turn", [text("\n")]), "EmptyResponseError"],
  ["Unknown", body(null, []), "UnknownStopReasonError"]
]

describe("requireComplete", () => {
  for (const [tag, wire, errorTag] of each) {
    const accepted = tag === "Complete" || tag === "ToolUse"
    it(`${tag} ${accepted ? "passes" : `fails with ${errorTag}`} by default`, () => {
      const message = decode(wire)
      const exit = Effect.runSyncExit(Effect.succeed(message).pipe(Semantic.requireComplete()))
      if (accepted) {
        expect(exit).toEqual(Exit.succeed(message))
      } else {
        expect(failure(Semantic.requireComplete(Effect.succeed(message)))).toMatchObject({ _tag: errorTag, response: message })
      }
    })
  }

  it("accept lists the outcomes that pass; the rest fail with their error", () => {
    const truncated = decode(each[2]![1])
    const complete = decode(each[0]![1])
    expect(Effect.runSync(Semantic.requireComplete(Effect.succeed(truncated), { accept: ["Truncated"] }))).toBe(truncated)
    expect(failure(Effect.succeed(complete).pipe(Semantic.requireComplete({ accept: ["Truncated"] })))).toMatchObject({
      _tag: "UnacceptedOutcomeError",
      outcome: "Complete",
      accepted: ["Truncated"]
    })
    expect(failure(Effect.succeed(complete).pipe(Semantic.requireComplete({ accept: [] })))).toMatchObject({
      _tag: "UnacceptedOutcomeError"
    })
  })

  it("an upstream failure passes through untouched", () => {
    const upstream = Effect.fail("boom" as const)
    expect(failure(upstream.pipe(Semantic.requireComplete()))).toBe("boom")
  })

  it("property: passes exactly when the outcome is accepted, else fails with the outcome's error", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...each),
        fc.subarray([...Semantic.outcomeTags]),
        ([tag, wire, errorTag], accept) => {
          const message = decode(wire)
          const exit = Effect.runSyncExit(Semantic.requireComplete(Effect.succeed(message), { accept }))
          if (accept.includes(tag)) expect(exit).toEqual(Exit.succeed(message))
          else expect(failure(Semantic.requireComplete(Effect.succeed(message), { accept }))._tag).toBe(errorTag)
        }
      ),
      { numRuns: 300 }
    )
  })
})

// ---------------------------------------------------------------------------
// properties
// ---------------------------------------------------------------------------

/** The outcome tag by table, written independently of the module. */
const oracle = (message: Messages.Message): Semantic.OutcomeTag => {
  const table: Readonly<Record<string, Semantic.OutcomeTag>> = {
    end_turn: "Complete",
    stop_sequence: "Complete",
    tool_use: "ToolUse",
    max_tokens: "Truncated",
    model_context_window_exceeded: "ContextWindowExceeded",
    pause_turn: "Paused",
    refusal: "Refused"
  }
  const reason = message.stop_reason
  if (reason === null || !Object.hasOwn(table, reason)) return "Unknown"
  if (reason === "end_turn") {
    const answered = message.content.filter((b) => b.type !== "text" || /\S/.test(b.text))
    if (answered.length === 0) return "Empty"
  }
  return table[reason]!
}

const stopReasons = fc.oneof(
  fc.constantFrom<string>(...Messages.knownStopReasons),
  fc.string(),
  fc.constant(null),
  fc.constantFrom("__proto__", "toString", "constructor", "hasOwnProperty", "END_TURN", " end_turn", "refusal\u0000")
)

const contents = fc.oneof(
  fc.constant<ReadonlyArray<Messages.ContentBlock>>([]),
  fc.array(whitespaceText, { maxLength: 3 }),
  fc.array(fc.oneof(Arbitrary.make(Messages.ContentBlock), whitespaceText), { maxLength: 4 })
)

const messages = fc
  .tuple(Arbitrary.make(Messages.Message), stopReasons, contents)
  .map(([m, stop_reason, content]): Messages.Message => ({ ...m, stop_reason, content }))

describe("properties", () => {
  it("the generated messages are valid Messages", () => {
    fc.assert(
      fc.property(messages, (m) => {
        expect(Schema.is(Messages.Message)(m)).toBe(true)
      }),
      { numRuns: 200 }
    )
  })

  it("outcome is total and agrees with the oracle", () => {
    fc.assert(
      fc.property(messages, (message) => {
        const read = Semantic.outcome(message)
        expect(Semantic.outcomeTags).toContain(read._tag)
        expect(read._tag).toBe(oracle(message))
        expect(read.message).toBe(message)
      }),
      { numRuns: 1000 }
    )
  })

  it("each outcome carries what the message says", () => {
    fc.assert(
      fc.property(messages, (message) => {
        const read = Semantic.outcome(message)
        switch (read._tag) {
          case "Complete":
            expect(read.stopReason).toBe(message.stop_reason)
            expect(read.stopSequence).toEqual(
              message.stop_reason === "stop_sequence" && typeof message.stop_sequence === "string"
                ? Option.some(message.stop_sequence)
                : Option.none()
            )
            break
          case "ToolUse":
            expect(read.toolUses).toEqual(message.content.filter((b) => b.type === "tool_use"))
            break
          case "Refused":
            expect(Option.getOrNull(read.category)).toBe(message.stop_details?.category ?? null)
            expect(Option.getOrNull(read.explanation)).toBe(message.stop_details?.explanation ?? null)
            break
          case "Unknown":
            expect(read.stopReason).toBe(message.stop_reason)
            break
        }
      }),
      { numRuns: 500 }
    )
  })

  it("toError of any outcome is a semantic error, never an ApiError", () => {
    fc.assert(
      fc.property(messages, (message) => {
        const error = Semantic.toError(Semantic.outcome(message))
        expect(Semantic.isSemanticError(error)).toBe(true)
        expect(ApiError.isApiError(error)).toBe(false)
        expect(error.messageId).toBe(message.id)
      }),
      { numRuns: 300 }
    )
  })

})

describe("module boundaries", () => {
  // the semantic layer reads responses; only Continuation sends requests
  const imports = (file: string): ReadonlyArray<string> =>
    [...readFileSync(file, "utf8").matchAll(/^import[^"]*"(\.{1,2}\/[^"]+)\.js"/gm)].map((m) =>
      Path.resolve(Path.dirname(file), `${m[1]}.ts`)
    )
  const closure = (file: string, seen = new Set<string>()): ReadonlySet<string> => {
    if (seen.has(file)) return seen
    seen.add(file)
    for (const next of imports(file)) closure(next, seen)
    return seen
  }
  const src = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../src")

  it("Semantic imports nothing that reaches the client, directly or not", () => {
    const reached = [...closure(Path.join(src, "Semantic.ts"))].map((file) => Path.relative(src, file))
    expect(reached).toContain("ToolInput.ts")
    expect(reached).not.toContain("Claude.ts")
    expect(reached).not.toContain("Continuation.ts")
  })

  it("Continuation does reach the client (the control)", () => {
    expect([...closure(Path.join(src, "Continuation.ts"))].map((file) => Path.relative(src, file))).toContain("Claude.ts")
  })
})
