/**
 * The options model every module decodes its options with: a Schema, every
 * problem listed at its path, unknown keys refused, never a throw.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Either, FastCheck as fc, Schema } from "effect"
import * as O from "../../src/internal/options.js"
import { InvalidOptionsError } from "../../src/Options.js"
import { throwingProxy } from "../support/hardening.js"

const isFunction = (u: unknown): u is (error: unknown) => boolean => typeof u === "function"

const Sample = Schema.Struct({
  base: O.withDefault(O.duration({ finite: true }), () => Duration.seconds(1)),
  window: O.withDefault(O.duration({ positive: true, max: Duration.hours(1) }), () => Duration.seconds(30)),
  maxRetries: O.withDefault(O.number({ min: 0, max: 1000, integer: true }), () => 5),
  threshold: O.withDefault(O.number({ min: 0, max: 1, minExclusive: true }), () => 0.3),
  jitter: O.withDefault(O.literals("full", "equal"), () => "full" as const),
  strict: O.withDefault(O.boolean, () => true),
  isFailure: Schema.optionalWith(O.satisfying("a function", isFunction), { exact: true }),
  nested: Schema.optionalWith(Schema.Struct({ limit: O.number({ min: 1, max: 10, integer: true }) }), { exact: true })
})

const decode = O.decodeOptions("Sample", Sample)

const problemsOf = (input: unknown) =>
  Either.match(decode(input), {
    onLeft: (error) => error.problems,
    onRight: () => expect.fail("expected the options to be refused")
  })

describe("internal/options: decodeOptions", () => {
  it("no options, {} and keys set to undefined all give the defaults", () => {
    for (const input of [undefined, {}, { base: undefined, jitter: undefined }]) {
      const settings = Either.getOrThrow(decode(input))
      expect(Duration.toMillis(settings.base)).toBe(1000)
      expect(Duration.toMillis(settings.window)).toBe(30_000)
      expect(settings).toMatchObject({ maxRetries: 5, threshold: 0.3, jitter: "full", strict: true })
    }
  })

  it("a valid value is decoded: durations from any DurationInput, numbers as given", () => {
    const settings = Either.getOrThrow(
      decode({ base: "2 seconds", window: Duration.minutes(1), maxRetries: 0, threshold: 1, jitter: "equal" })
    )
    expect(Duration.toMillis(settings.base)).toBe(2000)
    expect(Duration.toMillis(settings.window)).toBe(60_000)
    expect(settings).toMatchObject({ maxRetries: 0, threshold: 1, jitter: "equal" })
  })

  it("every problem is listed at its path, unknown keys and wrong literals included", () => {
    const problems = problemsOf({
      maxRetires: 3,
      jitter: "strem",
      base: -1,
      window: 0,
      threshold: 0,
      strict: "yes",
      isFailure: 3,
      nested: { limit: 11, extra: true }
    })
    expect(problems.map((p) => p.path).sort()).toEqual(
      ["base", "isFailure", "jitter", "maxRetires", "nested.extra", "nested.limit", "strict", "threshold", "window"]
    )
    const at = (path: string) => problems.find((p) => p.path === path)?.message
    expect(at("maxRetires")).toContain(`did you mean "maxRetries"?`)
    expect(at("jitter")).toBe(`must be one of "full", "equal", got "strem"`)
    expect(at("base")).toContain("got -1")
    expect(at("window")).toContain("above zero")
    expect(at("threshold")).toBe("must be a number above 0 to 1, got 0")
    expect(at("nested.limit")).toBe("must be an integer from 1 to 10, got 11")
    expect(at("isFailure")).toBe("must be a function, got 3")
  })

  it("the error names its module and says every problem in its message", () => {
    const error = Either.getLeft(decode({ jitter: "strem", maxRetries: 1.5 }))
    expect(error._tag).toBe("Some")
    if (error._tag === "Some") {
      expect(error.value).toBeInstanceOf(InvalidOptionsError)
      expect(error.value.module).toBe("Sample")
      expect(error.value.message).toBe(
        `Invalid Sample options: maxRetries: must be an integer from 0 to 1000, got 1.5; jitter: must be one of "full", "equal", got "strem"`
      )
    }
  })

  it.each<readonly [string, unknown]>([
    ["null", null],
    ["a string", "fast"],
    ["a number", 3],
    ["an array", [1]],
    ["a function", () => ({})],
    ["a class instance", new Date(0)]
  ])("options that are %s: one problem at the path \"\"", (_, input) => {
    const problems = problemsOf(input)
    expect(problems).toHaveLength(1)
    expect(problems[0]!.path).toBe("")
    expect(problems[0]!.message).toMatch(/^options must be an object, got /)
  })

  it("a throwing getter or Proxy is a problem, not a throw", () => {
    expect(problemsOf({ get base() { throw new Error("boom") } })).toEqual([
      { path: "base", message: "could not be read (its getter threw)" }
    ])
    const hostile = new Proxy({}, {
      ownKeys() {
        throw new Error("no keys")
      }
    })
    expect(problemsOf(hostile)).toEqual([{ path: "", message: "could not be read (its keys threw)" }])
    const noProto = new Proxy({}, {
      getPrototypeOf() {
        throw new Error("no prototype")
      }
    })
    expect(problemsOf(noProto)[0]!.message).toMatch(/^options must be an object/)
  })

  it("property: total, over any input, and accepts exactly what it decodes", () =>
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.record({ base: fc.anything(), jitter: fc.anything() })), (input) => {
        const result = decode(input)
        if (Either.isLeft(result)) expect(result.left.problems.length).toBeGreaterThan(0)
        else expect(Duration.isDuration(result.right.base)).toBe(true)
      }),
      { numRuns: 2000 }
    ))

  it("wholeMillis refuses a fraction of a millisecond; a number without max is open-ended but finite", () => {
    const Whole = Schema.Struct({
      period: O.withDefault(O.duration({ wholeMillis: true, max: Duration.days(1) }), () => Duration.seconds(1)),
      factor: O.withDefault(O.number({ min: 1 }), () => 2),
      calls: O.withDefault(O.number({ min: 1, integer: true }), () => 10)
    })
    const decodeWhole = O.decodeOptions("Whole", Whole)
    expect(Duration.toMillis(Either.getOrThrow(decodeWhole({ period: 1500 })).period)).toBe(1500)
    expect(Either.getOrThrow(decodeWhole({ factor: 1e300 })).factor).toBe(1e300)
    const error = Either.getLeft(decodeWhole({ period: 1.5, factor: Infinity, calls: 0 }))
    expect(error._tag === "Some" && error.value.problems).toEqual([
      {
        path: "period",
        message:
          `must be a duration from zero to 1d, in whole milliseconds, such as "2 seconds" or a number of milliseconds; got 1.5`
      },
      { path: "factor", message: "must be a finite number of 1 or more, got Infinity" },
      { path: "calls", message: "must be an integer of 1 or more, got 0" }
    ])
  })

  it("a value whose inspection throws (a hostile Proxy) is a problem at its own path", () => {
    const hostile = throwingProxy()
    const throwingCheck = O.satisfying("a thing", (u): u is object => (u as { readonly ok: boolean }).ok)
    const decodeHostile = O.decodeOptions(
      "Hostile",
      Schema.Struct({
        base: Schema.optionalWith(O.duration(), { exact: true }),
        thing: Schema.optionalWith(throwingCheck, { exact: true })
      })
    )
    expect(problemsOf(Object.assign({}, { base: hostile }))).toEqual([
      { path: "base", message: expect.stringContaining("got object") }
    ])
    const error = Either.getLeft(decodeHostile({ base: hostile, thing: hostile }))
    expect(error._tag === "Some" && error.value.problems.map((p) => p.path)).toEqual(["base", "thing"])
  })
})
