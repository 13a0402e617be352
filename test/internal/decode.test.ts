/**
 * The wire decoder is total and its messages are bounded: any text, any
 * nesting depth, a failure is a `Left` of at most ~500 characters, never a
 * throw.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as Decode from "../../src/internal/decode.js"
import * as MessageBatches from "../../src/MessageBatches.js"
import * as Messages from "../../src/Messages.js"
import * as MessageStream from "../../src/MessageStream.js"

const decoders: ReadonlyArray<(text: string) => Either.Either<unknown, string>> = [
  Decode.json(Messages.Message),
  Decode.json(MessageStream.MessageStreamEvent),
  Decode.json(MessageBatches.MessageBatchIndividualResponse),
  Decode.json(Messages.CountTokensResponse)
]

const nested = (depth: number, open: string, close: string, inner: string) =>
  open.repeat(depth) + inner + close.repeat(depth)

describe("internal/decode", () => {
  it("total over any string: a Right or a Left with a bounded message, never a throw", () => {
    FastCheck.assert(
      FastCheck.property(FastCheck.oneof(FastCheck.string(), FastCheck.json()), (text) => {
        for (const decode of decoders) {
          const result = decode(text)
          if (Either.isLeft(result)) expect(result.left.length).toBeLessThanOrEqual(520)
        }
      }),
      { numRuns: 500 }
    )
  })

  it("total over deep nesting (arrays, objects, inside a valid envelope), at any depth", () => {
    FastCheck.assert(
      FastCheck.property(FastCheck.integer({ min: 1, max: 20_000 }), FastCheck.boolean(), (depth, objects) => {
        const value = objects ? nested(depth, `{"a":`, "}", "1") : nested(depth, "[", "]", "")
        for (const text of [value, `{"type":"message_start","message":${value}}`, `{"custom_id":"a","result":${value}}`]) {
          for (const decode of decoders) {
            const result = decode(text)
            expect(Either.isLeft(result)).toBe(true)
            if (Either.isLeft(result)) expect(result.left.length).toBeLessThanOrEqual(520)
          }
        }
      }),
      { numRuns: 40 }
    )
  })

  it("says where and what, without printing the value", () => {
    const result = Decode.json(Messages.CountTokensResponse)(`{"input_tokens":"${"x".repeat(10_000)}"}`)
    expect(result).toEqual(Either.left(`["input_tokens"] expected number, got a string of 10000 characters`))
    expect(Decode.json(Messages.CountTokensResponse)("not json")).toSatisfy((r: Either.Either<unknown, string>) =>
      Either.isLeft(r) && r.left.startsWith("not JSON")
    )
  })
})
