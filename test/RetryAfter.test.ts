import * as Headers from "@effect/platform/Headers"
import { assert, describe, expect, it } from "@effect/vitest"
import { Duration, FastCheck as fc, Option } from "effect"
import { RetryAfter } from "../src/index.js"

// ---------------------------------------------------------------------------
// helpers: HTTP-date formatting written here, independently of the parser
// ---------------------------------------------------------------------------

const SHORT_DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const
const LONG_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"] as const
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const

const pad = (n: number, width: number) => String(n).padStart(width, "0")

const fields = (epoch: number) => {
  const d = new Date(epoch)
  return {
    weekday: d.getUTCDay(),
    day: d.getUTCDate(),
    month: d.getUTCMonth(),
    year: d.getUTCFullYear(),
    time: `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`
  }
}

/** `Sun, 06 Nov 1994 08:49:37 GMT` */
const imfFixdate = (epoch: number): string => {
  const f = fields(epoch)
  return `${SHORT_DAYS[f.weekday]}, ${pad(f.day, 2)} ${MONTHS[f.month]} ${pad(f.year, 4)} ${f.time} GMT`
}

/** `Sunday, 06-Nov-94 08:49:37 GMT` */
const rfc850 = (epoch: number): string => {
  const f = fields(epoch)
  return `${LONG_DAYS[f.weekday]}, ${pad(f.day, 2)}-${MONTHS[f.month]}-${pad(f.year % 100, 2)} ${f.time} GMT`
}

/** `Sun Nov  6 08:49:37 1994` */
const asctime = (epoch: number): string => {
  const f = fields(epoch)
  return `${SHORT_DAYS[f.weekday]} ${MONTHS[f.month]} ${String(f.day).padStart(2, " ")} ${f.time} ${pad(f.year, 4)}`
}

const millis = (headers: RetryAfter.HeadersInput, now: number): Option.Option<number> =>
  Option.map(RetryAfter.parse(headers, now), Duration.toMillis)

const NOW = Date.UTC(2026, 10, 23, 17, 52, 15)

// ---------------------------------------------------------------------------
// the rules
// ---------------------------------------------------------------------------

describe("RetryAfter.parse: seconds", () => {
  it.each([
    ["20", 20_000],
    ["1.5", 1_500],
    ["0", 0],
    ["0.0", 0],
    ["0.001", 1],
    ["007", 7_000],
    ["  20  ", 20_000],
    ["120", 120_000],
    ["31536000000", 31_536_000_000_000]
  ])("retry-after %j ⇒ %i ms", (value, expected) => {
    expect(millis({ "retry-after": value }, NOW)).toEqual(Option.some(expected))
  })

  it("keeps a fraction down to the nanosecond", () => {
    const d = RetryAfter.parse({ "retry-after": "1.000000001" }, NOW)
    expect(Option.flatMap(d, Duration.toNanos)).toEqual(Option.some(1_000_000_001n))
  })

  it("keeps a huge value as it is", () => {
    const huge = RetryAfter.parse({ "retry-after": "9".repeat(400) }, NOW)
    assert.isTrue(Option.isSome(huge))
    expect(Option.map(huge, Duration.toMillis)).toEqual(Option.some(Infinity))
  })

  it.each([
    "-1",
    "-0",
    "+1",
    "1e3",
    "1E3",
    "NaN",
    "Infinity",
    "-Infinity",
    "",
    "   ",
    "1.",
    ".5",
    "1,5",
    "0x10",
    "20s",
    "1 2",
    "٢٠",
    "twenty",
    "20\u0000",
    "2026-11-23T17:52:35Z",
    "1732384355000ms"
  ])("retry-after %j ⇒ None", (value) => {
    expect(RetryAfter.parse({ "retry-after": value }, NOW)).toEqual(Option.none())
  })

  it("no header at all ⇒ None", () => {
    expect(RetryAfter.parse({}, NOW)).toEqual(Option.none())
    expect(RetryAfter.parse(Headers.empty, NOW)).toEqual(Option.none())
  })
})

describe("RetryAfter.parse: retry-after-ms", () => {
  it.each([
    ["1500", 1_500],
    ["0", 0],
    ["1.5", 1.5],
    ["20000", 20_000]
  ])("retry-after-ms %j ⇒ %d ms, winning over retry-after", (value, expected) => {
    expect(millis({ "retry-after-ms": value, "retry-after": "60" }, NOW)).toEqual(Option.some(expected))
    expect(millis({ "retry-after-ms": value }, NOW)).toEqual(Option.some(expected))
  })

  it("wins over an HTTP-date retry-after too", () => {
    expect(millis({ "retry-after": imfFixdate(NOW + 60_000), "retry-after-ms": "250" }, NOW)).toEqual(
      Option.some(250)
    )
  })

  it.each(["", "-5", "abc", "1e3", "NaN", "+10", "Mon, 23 Nov 2026 17:52:35 GMT"])(
    "a garbage retry-after-ms %j falls back to retry-after",
    (value) => {
      expect(millis({ "retry-after-ms": value, "retry-after": "3" }, NOW)).toEqual(Option.some(3_000))
      expect(RetryAfter.parse({ "retry-after-ms": value }, NOW)).toEqual(Option.none())
    }
  )
})

describe("RetryAfter.parse: header names", () => {
  it.each([
    [{ "Retry-After": "5" }, 5_000],
    [{ "RETRY-AFTER": "5" }, 5_000],
    [{ "Retry-After-Ms": "5" }, 5],
    [{ "rEtRy-AfTeR-mS": "5", "RETRY-after": "9" }, 5]
  ])("%o ⇒ %d ms", (headers, expected) => {
    expect(millis(headers, NOW)).toEqual(Option.some(expected))
    expect(millis(Headers.fromInput(headers), NOW)).toEqual(Option.some(expected))
  })

  it("ignores headers with other names", () => {
    expect(RetryAfter.parse({ "x-retry-after": "5", "retry-after-seconds": "5", retry: "5" }, NOW)).toEqual(
      Option.none()
    )
  })
})

describe("RetryAfter.parse: HTTP-dates", () => {
  const now = Date.UTC(1994, 10, 6, 8, 49, 17)

  it.each([
    ["IMF-fixdate", "Sun, 06 Nov 1994 08:49:37 GMT"],
    ["RFC 850", "Sunday, 06-Nov-94 08:49:37 GMT"],
    ["asctime", "Sun Nov  6 08:49:37 1994"]
  ])("%s 20 s after now ⇒ 20 s", (_, value) => {
    expect(millis({ "retry-after": value }, now)).toEqual(Option.some(20_000))
  })

  it.each([
    ["IMF-fixdate", imfFixdate],
    ["RFC 850", rfc850],
    ["asctime", asctime]
  ])("%s at or before now ⇒ 0", (_, format) => {
    expect(millis({ "retry-after": format(NOW) }, NOW)).toEqual(Option.some(0))
    expect(millis({ "retry-after": format(NOW - 1_000) }, NOW)).toEqual(Option.some(0))
    expect(millis({ "retry-after": format(NOW - 10 * 365 * 86_400_000) }, NOW)).toEqual(Option.some(0))
  })

  it("measures from a `now` with milliseconds", () => {
    expect(millis({ "retry-after": imfFixdate(NOW + 20_000) }, NOW + 250)).toEqual(Option.some(19_750))
  })

  it("reads a leap second as the second before it", () => {
    expect(millis({ "retry-after": "Wed, 31 Dec 2036 23:59:60 GMT" }, Date.UTC(2036, 11, 31, 23, 59, 0))).toEqual(
      Option.some(59_000)
    )
  })

  it("keeps a date far in the future as it is", () => {
    const far = Date.UTC(9999, 11, 31, 23, 59, 59)
    expect(millis({ "retry-after": imfFixdate(far) }, NOW)).toEqual(Option.some(far - NOW))
  })

  it.each([
    "Mon, 31 Feb 2026 17:52:35 GMT",
    "Mon, 00 Nov 2026 17:52:35 GMT",
    "Mon, 32 Nov 2026 17:52:35 GMT",
    "Mon, 23 Nov 2026 24:00:00 GMT",
    "Mon, 23 Nov 2026 17:60:00 GMT",
    "Mon, 23 Nov 2026 17:52:61 GMT",
    "Mon, 23 Foo 2026 17:52:35 GMT",
    "Mon, 23 nov 2026 17:52:35 GMT",
    "Mon, 23 Nov 2026 17:52:35 gmt",
    "Mon, 23 Nov 2026 17:52:35 UTC",
    "Mon, 23 Nov 2026 17:52:35 +0000",
    "Mon, 23 Nov 26 17:52:35 GMT",
    "Mon 23 Nov 2026 17:52:35 GMT",
    "Mon, 3 Nov 2026 17:52:35 GMT",
    "Xyz, 23 Nov 2026 17:52:35 GMT",
    "Monday, 23-Nov-2026 17:52:35 GMT",
    "Mon, 23-Nov-26 17:52:35 GMT",
    "Mon Nov 23 17:52:35 26",
    "Mon Nov 023 17:52:35 2026",
    "2026-11-23T17:52:35Z",
    "Mon, 23 Nov 2026 17:52:35 GMT trailing"
  ])("%j ⇒ None", (value) => {
    expect(RetryAfter.parse({ "retry-after": value }, NOW)).toEqual(Option.none())
  })

  it("reads an RFC 850 two-digit year within 50 years of now", () => {
    const now2026 = Date.UTC(2026, 10, 23, 0, 0, 0)
    // 2076 is exactly 50 years ahead: read as such
    expect(RetryAfter.parseHttpDate("Monday, 23-Nov-76 00:00:00 GMT", now2026)).toEqual(
      Option.some(Date.UTC(2076, 10, 23))
    )
    // 2077 would be more than 50 years ahead: it is 1977
    expect(RetryAfter.parseHttpDate("Tuesday, 23-Nov-77 00:00:00 GMT", now2026)).toEqual(
      Option.some(Date.UTC(1977, 10, 23))
    )
    expect(RetryAfter.parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", now2026)).toEqual(
      Option.some(Date.UTC(1994, 10, 6, 8, 49, 37))
    )
  })

  it("reads an RFC 850 date across a century boundary", () => {
    const now = Date.UTC(2099, 11, 31, 23, 59, 50)
    expect(millis({ "retry-after": "Friday, 01-Jan-00 00:00:10 GMT" }, now)).toEqual(Option.some(20_000))
    expect(millis({ "retry-after": "Fri, 01 Jan 2100 00:00:10 GMT" }, now)).toEqual(Option.some(20_000))
  })

  it("reads four-digit years below 100 as written", () => {
    const year50 = new Date(0)
    year50.setUTCFullYear(50, 0, 1)
    year50.setUTCHours(0, 0, 20, 0)
    const at = year50.getTime()
    expect(RetryAfter.parseHttpDate(imfFixdate(at), 0)).toEqual(Option.some(at))
    expect(RetryAfter.parseHttpDate(asctime(at), 0)).toEqual(Option.some(at))
    expect(millis({ "retry-after": imfFixdate(at) }, at - 20_000)).toEqual(Option.some(20_000))
  })
})

// ---------------------------------------------------------------------------
// properties
// ---------------------------------------------------------------------------

const decimal = (wholeDigits: number, fractionDigits: number) =>
  fc
    .tuple(
      fc.stringMatching(new RegExp(`^\\d{1,${wholeDigits}}$`)),
      fc.option(fc.stringMatching(new RegExp(`^\\d{1,${fractionDigits}}$`)), { nil: undefined })
    )
    .map(([whole, fraction]) => (fraction === undefined ? whole : `${whole}.${fraction}`))

/** any decimal the grammar allows */
const decimalString = decimal(12, 9)

/**
 * Seconds with at most millisecond precision, and the exact number of
 * milliseconds they denote (computed on the digits, not with floating point).
 */
const secondsWithMillis = fc.oneof(
  fc.stringMatching(/^\d{1,12}$/),
  decimal(6, 3)
).map((value) => {
  const [whole = "", fraction = ""] = value.split(".")
  return { value, millis: Number(whole) * 1000 + Number(fraction.padEnd(3, "0")) }
})

/**
 * Milliseconds with at most nanosecond precision: a Duration holds them
 * exactly, so the result reads back as the same number.
 */
const millisString = decimal(9, 6)

const hostileValue = fc.oneof(
  fc.string({ unit: "binary" }),
  fc.constantFrom("-1", "-0.5", "NaN", "Infinity", "1e9", "1E-3", "+3", "", " ", "\r\n", "0x1f", "9".repeat(500)),
  decimalString.map((s) => `-${s}`),
  decimalString.map((s) => `${s}e2`),
  fc.integer().map(String),
  fc.date().map((d) => (Number.isNaN(d.getTime()) ? "" : d.toUTCString()))
)

const names = ["retry-after", "retry-after-ms", "Retry-After", "RETRY-AFTER-MS"]
const headersArb = fc.dictionary(
  fc.oneof(fc.mixedCase(fc.constantFrom(...names)), fc.string()),
  hostileValue,
  { maxKeys: 6 }
)

const nowArb = fc.oneof(
  fc.integer(),
  fc.maxSafeInteger(),
  fc.double(),
  fc.constantFrom(0, -1, NaN, Infinity, -Infinity, 8.64e15, -8.64e15)
)

/** 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z */
const MIN_EPOCH = -62_167_219_200_000
const MAX_EPOCH = 253_402_300_799_000
const CENTURY_EDGES = [1900, 2000, 2100, 2200, 2500, 100, 1000, 9900].map((year) => {
  const d = new Date(0)
  d.setUTCFullYear(year, 0, 1)
  return d.getTime()
})

/** `now` anywhere in years 0–9999, often right at a century boundary */
const datedNow = fc.oneof(
  fc.double({ min: MIN_EPOCH + 2e12, max: MAX_EPOCH - 2e12, noNaN: true }).map(Math.floor),
  fc.tuple(fc.constantFrom(...CENTURY_EDGES), fc.integer({ min: -120_000, max: 120_000 })).map(([edge, d]) =>
    edge + d
  )
)
/** seconds from now to the date: near, or up to ±30 years */
const offsetSeconds = fc.oneof(fc.integer({ min: -120, max: 120 }), fc.integer({ min: -946_000_000, max: 946_000_000 }))

describe("properties of RetryAfter.parse", () => {
  it("is total and never negative (10 000 runs)", () => {
    fc.assert(
      fc.property(headersArb, nowArb, fc.boolean(), (headers, now, asPlatform) => {
        const result = RetryAfter.parse(asPlatform ? Headers.fromInput(headers) : headers, now)
        Option.match(result, {
          onNone: () => undefined,
          onSome: (d) => {
            const value = Duration.toMillis(d)
            assert.isFalse(Number.isNaN(value))
            assert.isTrue(value >= 0, `negative wait ${value}`)
          }
        })
      }),
      { numRuns: 10_000 }
    )
  })

  it("reads decimal seconds exactly (10 000 runs)", () => {
    fc.assert(
      fc.property(secondsWithMillis, fc.mixedCase(fc.constant("retry-after")), nowArb, (seconds, name, now) => {
        expect(millis({ [name]: seconds.value }, now)).toEqual(Option.some(seconds.millis))
      }),
      { numRuns: 10_000 }
    )
  })

  it("retry-after-ms wins when it parses, and falls back when it does not (10 000 runs)", () => {
    fc.assert(
      fc.property(millisString, hostileValue, secondsWithMillis, (ms, garbage, seconds) => {
        expect(millis({ "retry-after-ms": ms, "retry-after": seconds.value }, NOW)).toEqual(Option.some(Number(ms)))
        fc.pre(!/^\d+(?:\.\d+)?$/.test(garbage.trim()))
        expect(millis({ "retry-after-ms": garbage, "retry-after": seconds.value }, NOW)).toEqual(
          Option.some(seconds.millis)
        )
      }),
      { numRuns: 10_000 }
    )
  })

  it("rejects signs, exponents and anything not a decimal or a date (10 000 runs)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          decimalString.map((s) => `-${s}`),
          decimalString.map((s) => `+${s}`),
          fc.tuple(decimalString, fc.constantFrom("e", "E"), fc.integer({ min: -5, max: 5 })).map(([m, e, x]) =>
            `${m}${e}${x}`
          ),
          fc.constantFrom("NaN", "Infinity", "", " ")
        ),
        nowArb,
        (value, now) => {
          expect(RetryAfter.parse({ "retry-after": value }, now)).toEqual(Option.none())
          expect(RetryAfter.parse({ "retry-after-ms": value }, now)).toEqual(Option.none())
        }
      ),
      { numRuns: 10_000 }
    )
  })

  it("reads HTTP-dates in all three formats exactly, relative to now (10 000 runs)", () => {
    fc.assert(
      fc.property(
        datedNow,
        offsetSeconds,
        fc.constantFrom(imfFixdate, rfc850, asctime),
        (now, offset, format) => {
          const at = (Math.floor(now / 1000) + offset) * 1000
          fc.pre(at >= MIN_EPOCH && at <= MAX_EPOCH)
          expect(millis({ "retry-after": format(at) }, now)).toEqual(Option.some(Math.max(0, at - now)))
        }
      ),
      { numRuns: 10_000 }
    )
  })
})
