/**
 * Circuit breaker options from a caller without the types (JavaScript, JSON
 * config, `as any`): every one of them is a typed `InvalidOptionsError`
 * whose problem is at the option's path (`""` for the options themselves),
 * from `make`, `layer` and `settings` alike. Nothing throws, nothing dies.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import { CircuitBreaker } from "../../../src/index.js"
import { throwingProxy } from "../../support/hardening.js"

const store = Effect.runSync(CircuitBreaker.makeMemoryStore())

const throwingGetter = Object.defineProperty({}, "minimumCalls", {
  enumerable: true,
  get: () => {
    throw new Error("hostile getter")
  }
})

// a value every inspection of which throws
const hostile = throwingProxy()

// [what the caller passed, the option's path ("" for the options themselves), a fragment of the message]
const cases: ReadonlyArray<readonly [string, unknown, string, string]> = [
  ["null options", null, "", "got null"],
  ["a string as options", "fast", "", `got "fast"`],
  ["a number as options", 3, "", "got 3"],
  ["an array as options", [1], "", "got [1]"],
  ["a string threshold", { failureRateThreshold: "0.5" }, "failureRateThreshold", `got "0.5"`],
  ["a null threshold", { failureRateThreshold: null }, "failureRateThreshold", "got null"],
  ["a NaN threshold", { failureRateThreshold: Number.NaN }, "failureRateThreshold", "got NaN"],
  ["an infinite threshold", { failureRateThreshold: Number.POSITIVE_INFINITY }, "failureRateThreshold", "got Infinity"],
  ["a string minimumCalls", { minimumCalls: "10" }, "minimumCalls", `got "10"`],
  ["a NaN minimumCalls", { minimumCalls: Number.NaN }, "minimumCalls", "got NaN"],
  ["an infinite minimumCalls", { minimumCalls: Number.POSITIVE_INFINITY }, "minimumCalls", "got Infinity"],
  ["a null minimumCalls", { minimumCalls: null }, "minimumCalls", "got null"],
  ["an unsafe integer minimumCalls", { minimumCalls: 2 ** 60 }, "minimumCalls", "got 1152921504606847000"],
  ["an infinite halfOpenProbes", { halfOpenProbes: Number.POSITIVE_INFINITY }, "halfOpenProbes", "got Infinity"],
  ["a boolean halfOpenProbes", { halfOpenProbes: true }, "halfOpenProbes", "got true"],
  ["a null window", { window: null }, "window", "got null"],
  ["an object window", { window: { seconds: 30 } }, "window", "got object"],
  ["a NaN window", { window: Number.NaN }, "window", "got NaN"],
  ["a window of a fraction of a millisecond", { window: 1.5 }, "window", "got 1.5"],
  ["a window over 365 days", { window: "366 days" }, "window", `got "366 days"`],
  ["an infinite window", { window: Number.POSITIVE_INFINITY }, "window", "got Infinity"],
  ["0 buckets", { windowBuckets: 0 }, "windowBuckets", "got 0"],
  ["1001 buckets", { windowBuckets: 1001 }, "windowBuckets", "got 1001"],
  ["a fraction of buckets", { windowBuckets: 2.5 }, "windowBuckets", "got 2.5"],
  ["a string of buckets", { windowBuckets: "30" }, "windowBuckets", `got "30"`],
  ["an infinite openDuration", { openDuration: Number.POSITIVE_INFINITY }, "openDuration", "got Infinity"],
  ["a garbage openDuration", { openDuration: "soon" }, "openDuration", `got "soon"`],
  ["a fractional openDuration", { openDuration: 0.5 }, "openDuration", "got 0.5"],
  ["a factor below 1", { openDurationFactor: 0.5 }, "openDurationFactor", "got 0.5"],
  ["a NaN factor", { openDurationFactor: Number.NaN }, "openDurationFactor", "got NaN"],
  ["an infinite factor", { openDurationFactor: Number.POSITIVE_INFINITY }, "openDurationFactor", "got Infinity"],
  ["a string factor", { openDurationFactor: "2" }, "openDurationFactor", `got "2"`],
  ["a cap below the first period", { openDuration: "5 seconds", maxOpenDuration: "4 seconds" }, "maxOpenDuration", "at least openDuration (5s)"],
  ["a cap below the default first period", { maxOpenDuration: 1_999 }, "maxOpenDuration", "got 1999"],
  ["an infinite cap", { maxOpenDuration: Number.POSITIVE_INFINITY }, "maxOpenDuration", "got Infinity"],
  ["a negative cap", { maxOpenDuration: -1 }, "maxOpenDuration", "got -1"],
  ["a string isFailure", { isFailure: "yes" }, "isFailure", `got "yes"`],
  ["a null isFailure", { isFailure: null }, "isFailure", "got null"],
  ["a store without modify", { store: { get: store.get } }, "store", "got object"],
  ["a store whose get is no Effect", { store: { get: () => 1, modify: store.modify } }, "store", "got object"],
  ["a null store", { store: null }, "store", "got null"],
  ["a numeric name", { name: 7 }, "name", "got 7"],
  ["a getter that throws", throwingGetter, "minimumCalls", "its getter threw"],
  ["a window that throws when inspected", { window: hostile }, "window", "got object"]
]

describe("CircuitBreaker options from an untyped caller", () => {
  for (const [label, options, option, fragment] of cases) {
    it.effect(`${label}: a typed error naming ${option === "" ? "the options" : option}`, () =>
      Effect.gen(function*() {
        const untyped = options as CircuitBreaker.Options
        // settings: an Either, never a throw
        const settings = CircuitBreaker.settings(untyped)
        expect(Either.isLeft(settings)).toBe(true)
        // make and layer: a typed failure, not a defect
        const exit = yield* Effect.exit(Effect.scoped(CircuitBreaker.make(untyped)))
        if (Exit.isSuccess(exit)) throw new Error(`${label}: built a breaker`)
        const error = Cause.failureOption(exit.cause)
        if (error._tag === "None") throw new Error(`${label}: not a typed failure: ${Cause.pretty(exit.cause)}`)
        expect(error.value._tag).toBe("InvalidOptionsError")
        expect(error.value.module).toBe("CircuitBreaker")
        expect(error.value.problems.map((problem) => problem.path)).toEqual([option])
        expect(error.value.problems[0]!.message).toContain(fragment)
        expect(error.value.message).toContain(fragment)
        if (option !== "") expect(error.value.message).toContain(`${option}: `)
        expect(Either.getLeft(settings)).toEqual(error)
        const fromLayer = yield* Effect.exit(Effect.scoped(Layer.build(CircuitBreaker.layer(untyped))))
        expect(fromLayer).toEqual(Exit.fail(error.value))
      }))
  }

  it.effect("undefined options and undefined fields are the defaults", () =>
    Effect.gen(function*() {
      const options = { window: undefined, minimumCalls: undefined, store: undefined } as CircuitBreaker.Options
      expect(CircuitBreaker.settings(undefined)).toEqual(Either.right(CircuitBreaker.defaults))
      expect(CircuitBreaker.settings(options)).toEqual(Either.right(CircuitBreaker.defaults))
      const breaker = yield* Effect.scoped(CircuitBreaker.make(undefined))
      expect(breaker.settings).toEqual(CircuitBreaker.defaults)
    }))

  it("a given first period longer than the default cap raises the cap to it", () => {
    expect(CircuitBreaker.settings({ openDuration: "1 minute" })).toEqual(
      Either.right({ ...CircuitBreaker.defaults, openDuration: Duration.minutes(1), maxOpenDuration: Duration.minutes(1) })
    )
    expect(CircuitBreaker.settings({ openDuration: "5 seconds", maxOpenDuration: "5 seconds" })).toEqual(
      Either.right({ ...CircuitBreaker.defaults, openDuration: Duration.seconds(5), maxOpenDuration: Duration.seconds(5) })
    )
  })
})
