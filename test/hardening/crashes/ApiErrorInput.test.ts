/**
 * Issue 9, item 3: `ApiError.fromResponse` is documented as total. Input of
 * the wrong type from JavaScript callers (headers that are `null`, a string,
 * a number or throw when read; a status that is a string or no number at
 * all; no object at all) must decode to exactly one typed error whose
 * message names the problem, never throw.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Duration, FastCheck as fc, Option } from "effect"
import { ApiError } from "../../../src/index.js"
import { throwingProxy } from "../../support/hardening.js"

const OVERLOADED = JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } })
const CONTROL = /[\u0000-\u001f\u007f]/

/** Decodes input a typed caller could not write. */
const decodeUntyped = (input: unknown) => ApiError.fromResponse(input as ApiError.ResponseInput)

const throwingGetter = () => {
  const headers = { "retry-after": "2" }
  Object.defineProperty(headers, "request-id", {
    enumerable: true,
    get() {
      throw new Error("getter exploded")
    }
  })
  return headers
}

const hostileHeaders = throwingProxy()

describe("fromResponse: headers of the wrong type are ignored, and the message says so", () => {
  it.each([
    ["null", null, "headers: not a record or Headers (got null)"],
    ["a string", "retry-after: 2", "headers: not a record or Headers (got a string)"],
    ["a number", 42, "headers: not a record or Headers (got a number)"],
    ["a boolean", true, "headers: not a record or Headers (got a boolean)"],
    ["an object with a throwing getter", throwingGetter(), "headers: they threw while being read"],
    ["a Proxy that throws on every access", hostileHeaders, "headers: they threw while being read"]
  ] as const)("%s", (_name, headers, problem) => {
    const error = decodeUntyped({ status: 529, headers, body: OVERLOADED, now: 0 })
    // the status and the body still decide: one typed, Retryable error
    assert.strictEqual(error._tag, "OverloadedError")
    assert.strictEqual(error.status, 529)
    expect(error.message).toBe(`HTTP 529 overloaded_error: Overloaded [input ignored: ${problem}]`)
    if (error._tag !== "OverloadedError") return
    expect(error.retryAfter).toEqual(Option.none())
    expect(error.requestId).toEqual(Option.none())
  })
})

describe("fromResponse: a status that is not a number", () => {
  it("a numeric string is read as its number: \"429\" is a RateLimitError with status 429", () => {
    const error = decodeUntyped({ status: "429", headers: { "retry-after": "1" }, body: "", now: 0 })
    assert.strictEqual(error._tag, "RateLimitError")
    // a number, not the string "429"
    assert.strictEqual(error.status, 429)
    assert.strictEqual(typeof error.status, "number")
    expect(error.message).toBe("HTTP 429 (no error type): empty body")
    if (error._tag !== "RateLimitError") return
    expect(Option.map(error.retryAfter, Duration.toMillis)).toEqual(Option.some(1000))
    assert.strictEqual(decodeUntyped({ status: " 520 ", body: "" })._tag, "UnexpectedServerError")
  })

  it.each([
    ["a word", "overloaded", "\"overloaded\""],
    ["an empty string", "", "\"\""],
    ["a decimal string", "429.5", "\"429.5\""],
    ["a fraction", 429.5, "429.5"],
    ["NaN", Number.NaN, "NaN"],
    ["Infinity", Number.POSITIVE_INFINITY, "Infinity"],
    ["an unsafe integer", 1e300, "1e+300"],
    ["null", null, "null"],
    ["missing", undefined, "undefined"],
    ["an object", { code: 429 }, "object"],
    ["a bigint", BigInt(429), "429n"]
  ] as const)("%s: an UnexpectedStatusError with status 0, naming what was given", (_name, status, shown) => {
    // even a body and a header that would make it Retryable do not: nothing says what the status was
    const error = decodeUntyped({ status, headers: { "x-should-retry": "true" }, body: OVERLOADED, now: 0 })
    assert.strictEqual(error._tag, "UnexpectedStatusError")
    assert.isTrue(ApiError.isFatal(error))
    assert.strictEqual(error.status, 0)
    expect(error.message).toBe(`Invalid HTTP status ${shown} (read as 0) overloaded_error: Overloaded`)
  })
})

describe("fromResponse: input that is not an object at all", () => {
  it.each([null, undefined, 529, "529", [529, {}, ""]] as const)("%o", (input) => {
    const error = decodeUntyped(input)
    assert.strictEqual(error._tag, "UnexpectedStatusError")
    assert.strictEqual(error.status, 0)
    expect(error.message).toContain("Invalid HTTP status undefined (read as 0) (no error type): empty body")
    expect(error.message).toContain("[input ignored: the input is not an object (got ")
  })

  it("an input whose fields throw when read", () => {
    const input = {
      get status(): number {
        throw new Error("status exploded")
      },
      get body(): string {
        throw new Error("body exploded")
      }
    }
    const error = decodeUntyped(input)
    assert.strictEqual(error._tag, "UnexpectedStatusError")
    expect(error.message).toBe(
      "Invalid HTTP status undefined (read as 0) (no error type): empty body [input ignored: status threw when read; body threw when read]"
    )
  })

  it("a body that is not a string, and a now that is not a finite number, are named", () => {
    const error = decodeUntyped({ status: 503, body: new Uint8Array([123]), now: "yesterday" })
    assert.strictEqual(error._tag, "ServiceUnavailableError")
    expect(error.message).toBe(
      "HTTP 503 (no error type): empty body [input ignored: body: not a string (got object); now: not a finite number (got \"yesterday\"), the system clock was read]"
    )
  })
})

describe("properties: fromResponse is total over anything", () => {
  const check = (error: ReturnType<typeof ApiError.fromResponse>) => {
    assert.isTrue(ApiError.isApiError(error))
    assert.notStrictEqual(ApiError.isRetryable(error), ApiError.isFatal(error))
    assert.isTrue(Number.isSafeInteger(error.status))
    assert.strictEqual(typeof error.message, "string")
    assert.notMatch(error.message, CONTROL)
    expect(error.message.length).toBeLessThan(8_000)
    if (ApiError.isRetryable(error)) {
      Option.map(error.retryAfter, (d) => assert.isTrue(Duration.toMillis(d) >= 0))
    }
  }

  it("over fc.anything() as the whole input (5 000 runs)", () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true }), (input) => check(decodeUntyped(input))),
      { numRuns: 5_000 }
    )
  })

  it("over fc.anything() in each field (5 000 runs)", () => {
    const anything = fc.anything({ withBigInt: true, withDate: true, withNullPrototype: true, withObjectString: true })
    fc.assert(
      fc.property(
        fc.record({
          status: fc.oneof(anything, fc.integer({ min: 100, max: 599 }), fc.integer({ min: 100, max: 599 }).map(String)),
          headers: fc.oneof(anything, fc.dictionary(fc.string(), anything)),
          body: fc.oneof(anything, fc.string()),
          now: anything
        }, { requiredKeys: [] }),
        (input) => check(decodeUntyped(input))
      ),
      { numRuns: 5_000 }
    )
  })
})
