/**
 * The JSONL line splitter: any split of the bytes into chunks (multi-byte
 * UTF-8 characters cut in two included) yields the lines of the whole text,
 * and a line over the cap fails as soon as it is over, after the lines
 * before it.
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
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

describe("internal/body text", () => {
  /** A response over `body` that counts how it is read: as a stream, or at once. */
  const response = (body: Uint8Array, headers: Record<string, string>) => {
    const inner = HttpClientResponse.fromWeb(
      HttpClientRequest.post("http://localhost/v1/messages"),
      new Response(body.slice().buffer, { status: 200, headers })
    )
    const reads = { stream: 0, whole: 0 }
    const counted = Object.create(inner, {
      stream: {
        get: () => {
          reads.stream++
          return inner.stream
        }
      },
      arrayBuffer: {
        get: () => {
          reads.whole++
          return inner.arrayBuffer
        }
      }
    }) as HttpClientResponse.HttpClientResponse
    return { response: counted, reads }
  }
  const text = "\uFEFF{\"text\":\"héllo\"}"
  const bytes = encoder.encode(text)

  it.effect("a declared length within the cap: read at once, not chunk by chunk; the BOM dropped", () =>
    Effect.gen(function*() {
      const { reads, response: r } = response(bytes, { "content-length": String(bytes.length) })
      expect(yield* Body.text(r, bytes.length)).toBe(text.slice(1))
      expect(reads).toEqual({ stream: 0, whole: 1 })
    }))

  it.effect("no length, a length over the cap, or a content-encoding: read as a stream and counted", () =>
    Effect.gen(function*() {
      for (
        const headers of [
          {},
          { "content-length": String(bytes.length + 1) },
          { "content-length": "1e3" },
          { "content-length": String(bytes.length), "content-encoding": "gzip" }
        ]
      ) {
        const { reads, response: r } = response(bytes, headers)
        // the cap one byte short: a read that trusted the headers would not see it
        const result = yield* Effect.either(Body.text(r, bytes.length - 1))
        expect(Either.isLeft(result) && result.left, JSON.stringify(headers)).toBeInstanceOf(Body.TooLarge)
        expect(reads.stream, JSON.stringify(headers)).toBe(1)
        expect(reads.whole).toBe(0)
      }
    }))

  it.effect("a declared length that lies: more bytes than the cap still fail", () =>
    Effect.gen(function*() {
      const { response: r } = response(bytes, { "content-length": "3" })
      const result = yield* Effect.either(Body.text(r, 5))
      expect(Either.isLeft(result) && result.left).toBeInstanceOf(Body.TooLarge)
    }))
})
