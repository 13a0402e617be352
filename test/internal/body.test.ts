/**
 * The JSONL line splitter: any split of the bytes into chunks (multi-byte
 * UTF-8 characters cut in two included) yields the lines of the whole text,
 * and a line over the cap fails as soon as it is over, after the lines
 * before it.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import * as Stream from "effect/Stream"
import * as Body from "../../src/internal/body.js"

const encoder = new TextEncoder()

const split = (bytes: Uint8Array, cuts: ReadonlyArray<number>): ReadonlyArray<Uint8Array> => {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  return [...points, bytes.length].map((end, i, all) => bytes.subarray(i === 0 ? 0 : all[i - 1]!, end))
}

const lines = (chunks: ReadonlyArray<Uint8Array>, max: number) =>
  Stream.runCollect(Stream.fromIterable(chunks).pipe(Body.lines(max))).pipe(Effect.map(Chunk.toReadonlyArray))

describe("internal/body lines", () => {
  it("property: any split yields the lines of the whole text", () => {
    FastCheck.assert(
      FastCheck.property(
        FastCheck.array(FastCheck.string({ unit: "grapheme", maxLength: 12 }).map((s) => s.replace(/\n/g, "")), {
          maxLength: 8
        }),
        FastCheck.boolean(),
        FastCheck.array(FastCheck.nat({ max: 200 }), { maxLength: 8 }),
        (list, trailingNewline, cuts) => {
          const text = list.join("\n") + (trailingNewline && list.length > 0 ? "\n" : "")
          const expected = text === "" ? [] : text.split("\n").filter((line, i, all) => i < all.length - 1 || line !== "")
          const got = Effect.runSync(lines(split(encoder.encode(text), cuts), 1024))
          expect(got).toEqual(expected)
        }
      ),
      { numRuns: 400 }
    )
  })

  it.effect("a line over the cap fails after the lines before it, without waiting for its end", () =>
    Effect.gen(function*() {
      let pulled = 0
      const endless = Stream.repeatEffect(Effect.sync(() => {
        pulled++
        return encoder.encode("z".repeat(1000))
      }))
      const received: Array<string> = []
      const error = yield* Effect.flip(
        Stream.concat(Stream.make(encoder.encode("one\ntwo\n")), endless).pipe(
          Body.lines(4096),
          Stream.runForEach((line) => Effect.sync(() => received.push(line)))
        )
      )
      expect(error).toBeInstanceOf(Body.TooLarge)
      expect(received).toEqual(["one", "two"])
      expect(pulled).toBe(5)
    }))
})
