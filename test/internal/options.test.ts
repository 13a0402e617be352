import { describe, expect, it } from "@effect/vitest"
import { Duration, FastCheck as fc, Option } from "effect"
import { decodeDuration, isNegativeDurationInput } from "../../src/internal/options.js"

describe("internal/options: isNegativeDurationInput", () => {
  it.each<readonly [string, unknown, boolean]>([
    ["NaN", Number.NaN, true],
    ["a negative number", -1, true],
    ["-Infinity", Number.NEGATIVE_INFINITY, true],
    ["zero", 0, false],
    ["-0", -0, false],
    ["a positive number", 250, false],
    ["Infinity", Number.POSITIVE_INFINITY, false],
    ["a negative bigint", BigInt(-5), true],
    ["a zero bigint", BigInt(0), false],
    ["a positive bigint", BigInt(5), false],
    ["a negative string", "-5 seconds", true],
    ["a negative fractional string", "-0.5 millis", true],
    ["a negative string after blanks", "  -5 seconds", true],
    ["a string of -0", "-0 seconds", false],
    ["a positive string", "5 seconds", false],
    ["a string that is no duration", "soon", false],
    ["a pair with a negative seconds part", [-1, 0], true],
    ["a pair with a negative nanos part", [5, -1], true],
    ["a pair with a NaN part", [1, Number.NaN], true],
    ["a pair of zeros", [0, 0], false],
    ["a positive pair", [1, 500], false],
    ["an array that is no pair", [-1, -2, -3], false],
    ["a Duration", Duration.seconds(1), false],
    ["an object", { seconds: -1 }, false],
    ["undefined", undefined, false]
  ])("%s ⇒ %s", (_, input, expected) => {
    expect(isNegativeDurationInput(input)).toBe(expected)
  })
})

describe("internal/options: decodeDuration", () => {
  it.each<readonly [string, unknown, Duration.Duration]>([
    ["a number of milliseconds", 1500, Duration.millis(1500)],
    ["zero", 0, Duration.zero],
    ["Infinity", Number.POSITIVE_INFINITY, Duration.infinity],
    ["a bigint of nanoseconds", BigInt(2_000), Duration.nanos(BigInt(2_000))],
    ["a string", "2 seconds", Duration.seconds(2)],
    ["a [seconds, nanos] pair", [1, 500_000_000], Duration.millis(1500)],
    ["a Duration", Duration.minutes(3), Duration.minutes(3)]
  ])("%s ⇒ Some", (_, input, expected) => {
    const decoded = decodeDuration(input)
    expect(Option.isSome(decoded) && Duration.equals(decoded.value, expected)).toBe(true)
  })

  it.each<readonly [string, unknown]>([
    ["NaN", Number.NaN],
    ["a negative number", -5],
    ["-Infinity", Number.NEGATIVE_INFINITY],
    ["a negative bigint", BigInt(-5)],
    ["a negative string", "-5 seconds"],
    ["a pair with a negative part", [1, -1]],
    ["a pair with a NaN part", [Number.NaN, 0]],
    ["an unparsable string", "soon"],
    ["a string with an unknown unit", "5 fortnights"],
    ["a pair of strings", ["1", "2"]],
    ["an object", { millis: 5 }],
    ["null", null],
    ["undefined", undefined]
  ])("%s ⇒ None", (_, input) => {
    expect(Option.isNone(decodeDuration(input))).toBe(true)
  })

  it("a number is None exactly when it is NaN or negative", () => {
    fc.assert(
      fc.property(fc.double(), (n) => Option.isNone(decodeDuration(n)) === (Number.isNaN(n) || n < 0))
    )
  })

  const neverNegative = (input: unknown) => {
    const decoded = decodeDuration(input)
    if (isNegativeDurationInput(input)) expect(Option.isNone(decoded)).toBe(true)
    if (Option.isSome(decoded)) expect(Duration.lessThan(decoded.value, Duration.zero)).toBe(false)
  }

  it("never throws on FastCheck.anything(), and never returns a negative duration", () => {
    fc.assert(fc.property(fc.anything(), neverNegative), { numRuns: 500 })
  })

  it("never throws on duration-shaped input (numbers, bigints, pairs, unit strings), and never returns a negative duration", () => {
    const durationLike = fc.oneof(
      fc.double(),
      fc.bigInt(),
      fc.tuple(fc.double(), fc.double()),
      fc.tuple(fc.integer({ min: -1_000, max: 1_000 }), fc.constantFrom("millis", "seconds", "minutes", "weeks"))
        .map(([n, unit]) => `${n} ${unit}`)
    )
    fc.assert(fc.property(durationLike, neverNegative), { numRuns: 500 })
  })
})
