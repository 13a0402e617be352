import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FastCheck from "effect/FastCheck"
import * as Option from "effect/Option"
import { ApiError, Preflight } from "../src/index.js"

const MiB = 1024 * 1024

const check = (endpoint: Preflight.Endpoint, body: string) => Effect.runSyncExit(Preflight.checkSize(endpoint, body))

/** The check's error; throws (fails the test) if the body passes. */
const failure = (endpoint: Preflight.Endpoint, body: string): ApiError.RequestTooLargeError =>
  Effect.runSync(Effect.flip(Preflight.checkSize(endpoint, body)))

describe("Preflight.limits", () => {
  it("are the documented sizes, MB read as 2^20 bytes", () => {
    expect(Preflight.limits).toEqual({
      messages: 32 * MiB,
      countTokens: 32 * MiB,
      batches: 256 * MiB,
      files: 500 * MiB
    })
  })
})

describe("Preflight.byteLength", () => {
  it("counts UTF-8 bytes: 1 for ASCII, 2 for é, 3 for €, 4 for an emoji (a surrogate pair)", () => {
    expect(Preflight.byteLength("")).toBe(0)
    expect(Preflight.byteLength("abc")).toBe(3)
    expect(Preflight.byteLength("é")).toBe(2)
    expect(Preflight.byteLength("€")).toBe(3)
    expect(Preflight.byteLength("😀")).toBe(4)
    expect("😀".length).toBe(2)
    expect(Preflight.byteLength("a é € 😀")).toBe(1 + 1 + 2 + 1 + 3 + 1 + 4)
  })

  it("a lone surrogate counts as the 3 bytes of the replacement character it is sent as", () => {
    expect(Preflight.byteLength("\uD800")).toBe(3)
    expect(Preflight.byteLength("a\uDC00b")).toBe(5)
  })

  it("property: equals Node's own UTF-8 length for any string", () => {
    FastCheck.assert(
      FastCheck.property(FastCheck.string({ unit: "binary", maxLength: 200 }), (s) =>
        Preflight.byteLength(s) === Buffer.byteLength(s, "utf8")),
      { numRuns: 200 }
    )
    FastCheck.assert(
      FastCheck.property(
        FastCheck.array(FastCheck.integer({ min: 0, max: 0xffff }), { maxLength: 50 }),
        (units) => {
          const s = String.fromCharCode(...units)
          return Preflight.byteLength(s) === Buffer.byteLength(s, "utf8")
        }
      ),
      { numRuns: 200 }
    )
  })
})

describe("Preflight.checkSize", () => {
  it("passes a body of exactly the limit, refuses one byte more (ASCII)", () => {
    const atLimit = "a".repeat(32 * MiB)
    expect(Exit.isSuccess(check("messages", atLimit))).toBe(true)
    expect(Exit.isSuccess(check("countTokens", atLimit))).toBe(true)
    const over = `${atLimit}a`
    expect(failure("messages", over)).toBeInstanceOf(ApiError.RequestTooLargeError)
    expect(failure("countTokens", over)).toBeInstanceOf(ApiError.RequestTooLargeError)
  })

  it("counts bytes, not characters: 16 Mi of é is exactly 32 MiB and passes; one more é does not", () => {
    const atLimit = "é".repeat(16 * MiB)
    expect(atLimit.length).toBe(16 * MiB)
    expect(Exit.isSuccess(check("messages", atLimit))).toBe(true)
    const over = `${atLimit}é`
    const error = failure("messages", over)
    expect(error.message).toContain(`${32 * MiB + 2} bytes`)
    // about 11 Mi characters of € are over 32 MiB although far under 32 Mi characters
    const euros = "€".repeat(Math.floor((32 * MiB) / 3) + 1)
    expect(euros.length).toBeLessThan(32 * MiB)
    expect(Exit.isFailure(check("messages", euros))).toBe(true)
  })

  it("a Batches body between 32 MiB and 256 MiB passes the Batches check and fails the Messages one", () => {
    const body = "b".repeat(33 * MiB)
    expect(Exit.isSuccess(check("batches", body))).toBe(true)
    expect(Exit.isSuccess(check("files", body))).toBe(true)
    expect(Exit.isFailure(check("messages", body))).toBe(true)
    expect(Exit.isFailure(check("countTokens", body))).toBe(true)
  })

  it("the error: 413 request_too_large, no request id (nothing was sent), not to be retried, the sizes and the API named", () => {
    const error = failure("countTokens", "x".repeat(32 * MiB + 5))
    expect(error).toMatchObject({
      _tag: "RequestTooLargeError",
      status: 413,
      requestId: Option.none(),
      errorType: Option.some("request_too_large"),
      shouldRetry: Option.some(false)
    })
    expect(ApiError.isFatal(error)).toBe(true)
    expect(error.message).toContain("Token Counting API")
    expect(error.message).toContain(`${32 * MiB + 5} bytes`)
    expect(error.message).toContain(`${32 * MiB} bytes`)
    expect(error.message).toContain("Nothing was sent")
    expect(Option.getOrUndefined(error.serverMessage)).toContain("Files API")
  })

  it("small bodies pass without being encoded (the fast path) on every endpoint", () => {
    for (const endpoint of ["messages", "countTokens", "batches", "files"] as const) {
      expect(Exit.isSuccess(check(endpoint, ""))).toBe(true)
      expect(Exit.isSuccess(check(endpoint, "😀".repeat(1000)))).toBe(true)
    }
  })
})

describe("Preflight: the 10-minute rule", () => {
  it("expectedSeconds is max_tokens at 128 000 tokens per hour", () => {
    expect(Preflight.tokensPerHour).toBe(128_000)
    expect(Preflight.nonStreamingLimitSeconds).toBe(600)
    expect(Preflight.expectedSeconds(128_000)).toBe(3600)
    expect(Preflight.expectedSeconds(64_000)).toBe(1800)
    expect(Preflight.expectedSeconds(0)).toBe(0)
  })

  it("isLongRequest: 21 333 is not, 21 334 is (the edge of 600 s)", () => {
    expect(Preflight.expectedSeconds(21_333)).toBeLessThan(600)
    expect(Preflight.expectedSeconds(21_334)).toBeGreaterThan(600)
    expect(Preflight.isLongRequest(21_333)).toBe(false)
    expect(Preflight.isLongRequest(21_334)).toBe(true)
    expect(Preflight.isLongRequest(1024)).toBe(false)
    expect(Preflight.isLongRequest(64_000)).toBe(true)
  })

  it("property: isLongRequest(n) exactly when n · 3600 > 600 · 128 000", () => {
    FastCheck.assert(
      FastCheck.property(FastCheck.integer({ min: 0, max: 1_000_000 }), (n) =>
        Preflight.isLongRequest(n) === n * 3600 > 600 * 128_000)
    )
  })

  it("longRequestError says what to do: stream, finalMessage or batches", () => {
    const error = Preflight.longRequestError(64_000)
    expect(error).toBeInstanceOf(Preflight.LongRequestError)
    expect(error).toMatchObject({ _tag: "LongRequestError", maxTokens: 64_000, expectedSeconds: 1800 })
    expect(error.message).toBe(
      "max_tokens 64000 could keep a non-streaming request open for 1800 s, past the 600 s limit: " +
        "use messages.stream or messages.finalMessage, or the Message Batches API."
    )
  })
})
