import * as Headers from "@effect/platform/Headers"
import { assert, describe, expect, it } from "@effect/vitest"
import { DateTime, FastCheck as fc, Option } from "effect"
import { RateLimits } from "../src/index.js"

type Field = keyof RateLimits.Snapshot

/** The header families, written out from the API's documentation. */
const families: ReadonlyArray<readonly [Field, string]> = [
  ["requests", "anthropic-ratelimit-requests"],
  ["tokens", "anthropic-ratelimit-tokens"],
  ["inputTokens", "anthropic-ratelimit-input-tokens"],
  ["outputTokens", "anthropic-ratelimit-output-tokens"],
  ["priorityInputTokens", "anthropic-priority-input-tokens"],
  ["priorityOutputTokens", "anthropic-priority-output-tokens"]
]

const resetMillis = (quota: RateLimits.Quota): Option.Option<number> => Option.map(quota.reset, DateTime.toEpochMillis)

/** A realistic set of headers from a Messages response. */
const RESPONSE_HEADERS = {
  "anthropic-ratelimit-requests-limit": "4000",
  "anthropic-ratelimit-requests-remaining": "3999",
  "anthropic-ratelimit-requests-reset": "2026-11-23T17:52:35Z",
  "anthropic-ratelimit-tokens-limit": "2400000",
  "anthropic-ratelimit-tokens-remaining": "2399000",
  "anthropic-ratelimit-tokens-reset": "2026-11-23T17:52:36Z",
  "anthropic-ratelimit-input-tokens-limit": "2000000",
  "anthropic-ratelimit-input-tokens-remaining": "1999500",
  "anthropic-ratelimit-input-tokens-reset": "2026-11-23T17:52:37Z",
  "anthropic-ratelimit-output-tokens-limit": "400000",
  "anthropic-ratelimit-output-tokens-remaining": "399500",
  "anthropic-ratelimit-output-tokens-reset": "2026-11-23T17:52:38Z",
  "anthropic-priority-input-tokens-limit": "100000",
  "anthropic-priority-input-tokens-remaining": "90000",
  "anthropic-priority-input-tokens-reset": "2026-11-23T17:53:00Z",
  "anthropic-priority-output-tokens-limit": "20000",
  "anthropic-priority-output-tokens-remaining": "0",
  "anthropic-priority-output-tokens-reset": "2026-11-23T17:53:30Z",
  "request-id": "req_011CRateLimits",
  "retry-after": "20"
}

describe("RateLimits.parse", () => {
  it("reads every quota of a realistic response", () => {
    const snapshot = RateLimits.parse(RESPONSE_HEADERS)
    assert.instanceOf(snapshot, RateLimits.Snapshot)
    expect(snapshot.requests.limit).toEqual(Option.some(4000))
    expect(snapshot.requests.remaining).toEqual(Option.some(3999))
    expect(resetMillis(snapshot.requests)).toEqual(Option.some(Date.UTC(2026, 10, 23, 17, 52, 35)))
    expect(snapshot.tokens.limit).toEqual(Option.some(2_400_000))
    expect(snapshot.tokens.remaining).toEqual(Option.some(2_399_000))
    expect(resetMillis(snapshot.tokens)).toEqual(Option.some(Date.UTC(2026, 10, 23, 17, 52, 36)))
    expect(snapshot.inputTokens.limit).toEqual(Option.some(2_000_000))
    expect(snapshot.inputTokens.remaining).toEqual(Option.some(1_999_500))
    expect(resetMillis(snapshot.inputTokens)).toEqual(Option.some(Date.UTC(2026, 10, 23, 17, 52, 37)))
    expect(snapshot.outputTokens.limit).toEqual(Option.some(400_000))
    expect(snapshot.outputTokens.remaining).toEqual(Option.some(399_500))
    expect(resetMillis(snapshot.outputTokens)).toEqual(Option.some(Date.UTC(2026, 10, 23, 17, 52, 38)))
    expect(snapshot.priorityInputTokens.limit).toEqual(Option.some(100_000))
    expect(snapshot.priorityInputTokens.remaining).toEqual(Option.some(90_000))
    expect(resetMillis(snapshot.priorityInputTokens)).toEqual(Option.some(Date.UTC(2026, 10, 23, 17, 53, 0)))
    expect(snapshot.priorityOutputTokens.limit).toEqual(Option.some(20_000))
    expect(snapshot.priorityOutputTokens.remaining).toEqual(Option.some(0))
    expect(resetMillis(snapshot.priorityOutputTokens)).toEqual(Option.some(Date.UTC(2026, 10, 23, 17, 53, 30)))
  })

  it.each(families)("%s comes from %s-{limit,remaining,reset} and nothing else", (field, prefix) => {
    const snapshot = RateLimits.parse({
      [`${prefix}-limit`]: "7",
      [`${prefix}-remaining`]: "3",
      [`${prefix}-reset`]: "2030-01-02T03:04:05Z"
    })
    expect(snapshot[field].limit).toEqual(Option.some(7))
    expect(snapshot[field].remaining).toEqual(Option.some(3))
    expect(resetMillis(snapshot[field])).toEqual(Option.some(Date.UTC(2030, 0, 2, 3, 4, 5)))
    for (const [other] of families) {
      if (other === field) continue
      expect(snapshot[other]).toEqual(RateLimits.empty[other])
    }
  })

  it("matches the documented header prefixes", () => {
    expect(Object.entries(RateLimits.headerPrefixes)).toEqual(families)
  })

  it("reads names in any case, from a record or @effect/platform Headers", () => {
    const headers = {
      "Anthropic-RateLimit-Requests-Remaining": "12",
      "ANTHROPIC-RATELIMIT-TOKENS-RESET": "2026-11-23T17:52:35Z",
      "anthropic-priority-output-tokens-LIMIT": "5"
    }
    for (const input of [headers, Headers.fromInput(headers)]) {
      const snapshot = RateLimits.parse(input)
      expect(snapshot.requests.remaining).toEqual(Option.some(12))
      expect(resetMillis(snapshot.tokens)).toEqual(Option.some(Date.UTC(2026, 10, 23, 17, 52, 35)))
      expect(snapshot.priorityOutputTokens.limit).toEqual(Option.some(5))
    }
  })

  it("no headers ⇒ the empty snapshot, every field None", () => {
    const snapshot = RateLimits.parse({})
    expect(snapshot).toEqual(RateLimits.empty)
    for (const [field] of families) {
      expect(snapshot[field].limit).toEqual(Option.none())
      expect(snapshot[field].remaining).toEqual(Option.none())
      expect(snapshot[field].reset).toEqual(Option.none())
    }
  })

  it.each([
    ["0", 0],
    ["007", 7],
    [" 42 ", 42],
    ["999999999999999", 999_999_999_999_999]
  ])("count %j ⇒ %d", (value, expected) => {
    const snapshot = RateLimits.parse({ "anthropic-ratelimit-tokens-remaining": value })
    expect(snapshot.tokens.remaining).toEqual(Option.some(expected))
  })

  it.each([
    "",
    " ",
    "-1",
    "+1",
    "1.5",
    "1e3",
    "0x10",
    "NaN",
    "Infinity",
    "1,000",
    "1 000",
    "ten",
    "٣",
    "1234567890123456",
    "2026-11-23T17:52:35Z"
  ])("count %j ⇒ None", (value) => {
    const snapshot = RateLimits.parse({
      "anthropic-ratelimit-requests-limit": value,
      "anthropic-ratelimit-requests-remaining": value
    })
    expect(snapshot.requests.limit).toEqual(Option.none())
    expect(snapshot.requests.remaining).toEqual(Option.none())
  })

  it.each([
    ["2026-11-23T17:52:35Z", Date.UTC(2026, 10, 23, 17, 52, 35)],
    ["2026-11-23T17:52:35.5Z", Date.UTC(2026, 10, 23, 17, 52, 35, 500)],
    ["2026-11-23T17:52:35.123Z", Date.UTC(2026, 10, 23, 17, 52, 35, 123)],
    ["2026-11-23T17:52:35.123456789Z", Date.UTC(2026, 10, 23, 17, 52, 35, 123)],
    ["2026-11-23T17:52:35+05:30", Date.UTC(2026, 10, 23, 12, 22, 35)],
    ["2026-11-23T17:52:35-08:00", Date.UTC(2026, 10, 24, 1, 52, 35)],
    ["2026-11-23T17:52:35-00:00", Date.UTC(2026, 10, 23, 17, 52, 35)],
    ["2026-11-23t17:52:35z", Date.UTC(2026, 10, 23, 17, 52, 35)],
    ["2026-11-23 17:52:35Z", Date.UTC(2026, 10, 23, 17, 52, 35)],
    ["2028-02-29T00:00:00Z", Date.UTC(2028, 1, 29)],
    ["2000-02-29T00:00:00Z", Date.UTC(2000, 1, 29)],
    ["2026-12-31T23:59:60Z", Date.UTC(2026, 11, 31, 23, 59, 59)]
  ])("reset %j ⇒ %d", (value, expected) => {
    const snapshot = RateLimits.parse({ "anthropic-ratelimit-requests-reset": value })
    expect(resetMillis(snapshot.requests)).toEqual(Option.some(expected))
  })

  it.each([
    "",
    "garbage",
    "2026-11-23",
    "17:52:35",
    "2026-11-23T17:52Z",
    "2026-11-23T17:52:35",
    "2026-11-23T17:52:35.Z",
    "2026-11-23T17:52:35+0530",
    "2026-11-23T17:52:35 GMT",
    "Mon, 23 Nov 2026 17:52:35 GMT",
    "1795456355",
    "2026-13-01T00:00:00Z",
    "2026-00-10T00:00:00Z",
    "2026-11-00T00:00:00Z",
    "2026-11-31T00:00:00Z",
    "2026-02-29T00:00:00Z",
    "1900-02-29T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-11-23T24:00:00Z",
    "2026-11-23T17:60:00Z",
    "2026-11-23T17:52:61Z",
    "2026-11-23T17:52:35+24:00",
    "2026-11-23T17:52:35+05:60",
    "+2026-11-23T17:52:35Z",
    "2026-11-23T17:52:35Z\u0000"
  ])("reset %j ⇒ None", (value) => {
    const snapshot = RateLimits.parse({ "anthropic-ratelimit-tokens-reset": value })
    expect(snapshot.tokens.reset).toEqual(Option.none())
  })

  it("one garbage field leaves the others of its quota alone", () => {
    const snapshot = RateLimits.parse({
      "anthropic-ratelimit-tokens-limit": "100",
      "anthropic-ratelimit-tokens-remaining": "lots",
      "anthropic-ratelimit-tokens-reset": "2026-11-23T17:52:35Z"
    })
    expect(snapshot.tokens.limit).toEqual(Option.some(100))
    expect(snapshot.tokens.remaining).toEqual(Option.none())
    expect(resetMillis(snapshot.tokens)).toEqual(Option.some(Date.UTC(2026, 10, 23, 17, 52, 35)))
  })
})

// ---------------------------------------------------------------------------
// properties
// ---------------------------------------------------------------------------

const allNames = families.flatMap(([, prefix]) => [`${prefix}-limit`, `${prefix}-remaining`, `${prefix}-reset`])

const hostileValue = fc.oneof(
  fc.string({ unit: "binary" }),
  fc.constantFrom("", "-1", "1.5", "1e3", "NaN", "9".repeat(400), "2026-02-30T00:00:00Z", "\r\nx: y"),
  fc.nat().map(String),
  fc.date().map((d) => (Number.isNaN(d.getTime()) ? "x" : d.toISOString()))
)

const headersArb = fc.dictionary(
  fc.oneof(fc.mixedCase(fc.constantFrom(...allNames)), fc.string(), fc.constantFrom("__proto__", "constructor")),
  hostileValue,
  { maxKeys: 10 }
)

const pad = (n: number, width: number) => String(Math.abs(n)).padStart(width, "0")

/** An instant in years 1–9998 and an RFC 3339 rendering of it at some offset. */
const resetArb = fc
  .record({
    instant: fc
      .tuple(fc.integer({ min: -62_000, max: 253_000 }), fc.integer({ min: 0, max: 999_999 }))
      .map(([high, low]) => (high * 1_000_000 + low) * 1000),
    millis: fc.integer({ min: 0, max: 999 }),
    fractionDigits: fc.integer({ min: 0, max: 3 }),
    offsetMinutes: fc.oneof(fc.constant(0), fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 })),
    zulu: fc.boolean(),
    separator: fc.constantFrom("T", "t", " ")
  })
  .map(({ fractionDigits, instant, millis, offsetMinutes, separator, zulu }) => {
    const fraction = pad(millis, 3).slice(0, fractionDigits)
    const exact = instant + (fractionDigits === 0 ? 0 : Number(fraction.padEnd(3, "0")))
    const offset = zulu ? 0 : offsetMinutes
    const local = new Date(exact + offset * 60_000)
    const date = `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1, 2)}-${pad(local.getUTCDate(), 2)}`
    const time = `${pad(local.getUTCHours(), 2)}:${pad(local.getUTCMinutes(), 2)}:${pad(local.getUTCSeconds(), 2)}`
    const zone = zulu
      ? "Z"
      : `${offset < 0 ? "-" : "+"}${pad(Math.trunc(offset / 60), 2)}:${pad(offset % 60, 2)}`
    return { text: `${date}${separator}${time}${fractionDigits === 0 ? "" : `.${fraction}`}${zone}`, exact }
  })

/** 0 to 999 999 999 999 999, the 15 digits a count may have */
const count = fc.oneof(
  fc.nat(1000),
  fc.tuple(fc.integer({ min: 0, max: 999_999 }), fc.integer({ min: 0, max: 999_999_999 })).map(([high, low]) =>
    high * 1_000_000_000 + low
  )
)

describe("properties of RateLimits.parse", () => {
  it("is total over any headers (10 000 runs)", () => {
    fc.assert(
      fc.property(headersArb, fc.boolean(), (headers, asPlatform) => {
        const snapshot = RateLimits.parse(asPlatform ? Headers.fromInput(headers) : headers)
        assert.instanceOf(snapshot, RateLimits.Snapshot)
        for (const [field] of families) {
          const quota = snapshot[field]
          Option.map(quota.limit, (n) => assert.isTrue(Number.isSafeInteger(n) && n >= 0))
          Option.map(quota.remaining, (n) => assert.isTrue(Number.isSafeInteger(n) && n >= 0))
          Option.map(quota.reset, (d) => assert.isFalse(Number.isNaN(DateTime.toEpochMillis(d))))
        }
      }),
      { numRuns: 10_000 }
    )
  })

  it("reads valid values exactly (10 000 runs)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...families),
        count,
        count,
        resetArb,
        fc.boolean(),
        ([field, prefix], limit, remaining, reset, shout) => {
          const name = (suffix: string) => (shout ? `${prefix}-${suffix}`.toUpperCase() : `${prefix}-${suffix}`)
          const snapshot = RateLimits.parse({
            [name("limit")]: String(limit),
            [name("remaining")]: String(remaining),
            [name("reset")]: reset.text
          })
          expect(snapshot[field].limit).toEqual(Option.some(limit))
          expect(snapshot[field].remaining).toEqual(Option.some(remaining))
          expect(resetMillis(snapshot[field])).toEqual(Option.some(reset.exact))
        }
      ),
      { numRuns: 10_000 }
    )
  })
})
