/**
 * Issue 9, item 3: options of the wrong type from JavaScript callers
 * (`RetryPolicy.make(null)`, `RetryBudget` options of `null`, numbers such as
 * `1e308`) must fail typed, naming the problem, never throw, and never build
 * a budget whose arithmetic breaks (a `NaN` balance, unlimited retries).
 * Every number has a finite range. (Issue 11: one error for them all,
 * `Options.InvalidOptionsError`, whose problems carry the option's path.)
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Cause, Duration, Effect, Either, Exit, FastCheck as fc, Option, Redacted } from "effect"
import { Claude, Options, Resilience, RetryBudget, RetryPolicy } from "../../../src/index.js"
import { throwingProxy } from "../../support/hardening.js"

const untyped = <A>(value: unknown): A => value as A

/** The exit is exactly one typed failure (no defect): returns it. */
const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) return assert.fail("expected a typed failure, got a success")
  expect(Cause.isDie(exit.cause), Cause.pretty(exit.cause)).toBe(false)
  return Option.getOrThrow(Cause.failureOption(exit.cause))
}

const throwing = (name: string) => {
  const options = {}
  Object.defineProperty(options, name, {
    enumerable: true,
    get() {
      throw new Error(`${name} exploded`)
    }
  })
  return options
}

const atMostAnHour = `must be a duration from zero to 1h, such as "2 seconds" or a number of milliseconds`

describe("RetryPolicy.make: options that are not an object, or that throw", () => {
  it.each([
    ["null", null, "null"],
    ["a string", "fast", "\"fast\""],
    ["a number", 3, "3"],
    ["an array", [1, 2], "[1, 2]"],
    ["a function", () => 3, "a function"]
  ] as const)("%s ⇒ InvalidOptionsError at the path \"\"", (_name, options, shown) => {
    const result = RetryPolicy.make(untyped(options))
    assert.isTrue(Either.isLeft(result))
    const error = Either.getLeft(result).pipe(Option.getOrThrow)
    assert.instanceOf(error, Options.InvalidOptionsError)
    expect(error.problems).toEqual([{ path: "", message: `options must be an object, got ${shown}` }])
    expect(error.message).toBe(`Invalid RetryPolicy options: options must be an object, got ${shown}`)
  })

  it("an option whose getter throws is a problem naming it", () => {
    const error = Either.getLeft(RetryPolicy.make(untyped(throwing("maxRetries")))).pipe(Option.getOrThrow)
    expect(error.problems).toEqual([{ path: "maxRetries", message: "could not be read (its getter threw)" }])
  })

  it.effect("retry and protect given null from untyped code fail the effect with InvalidOptionsError, before any attempt", () =>
    Effect.gen(function*() {
      let attempts = 0
      const call = Effect.suspend(() => {
        attempts++
        return Effect.succeed("ok")
      })
      const error = failureOf(yield* Effect.exit(RetryPolicy.retry(call, untyped<RetryPolicy.RetryPolicy>(null))))
      assert.instanceOf(error, Options.InvalidOptionsError)
      const viaProtect = failureOf(
        yield* Effect.exit(
          call.pipe(Resilience.protect(untyped<RetryPolicy.RetryPolicy>(null)), Effect.provide(Resilience.layer()))
        )
      )
      assert.instanceOf(viaProtect, Options.InvalidOptionsError)
      assert.strictEqual(attempts, 0)
    }))

  it.each([
    ["maxRetries", 1e308, "must be an integer from 0 to 1000, got 1e+308"],
    ["maxRetries", 1001, "must be an integer from 0 to 1000, got 1001"],
    ["internalServerErrorRetries", 2 ** 53, "must be an integer from 0 to 1000, got 9007199254740992"],
    ["factor", 1e308, "must be a number from 1 to 100, got 1e+308"],
    ["factor", 101, "must be a number from 1 to 100, got 101"],
    ["base", 1e308, `${atMostAnHour}; got 1e+308`],
    ["base", "2 hours", `${atMostAnHour}; got "2 hours"`],
    ["maxElapsed", Number.POSITIVE_INFINITY, `${atMostAnHour}; got Infinity`],
    ["maxElapsed", Duration.infinity, `${atMostAnHour}; got Infinity`],
    ["maxElapsed", "61 minutes", `${atMostAnHour}; got "61 minutes"`]
  ] as const)("%s: %s is out of range", (option, value, message) => {
    const error = Either.getLeft(RetryPolicy.make({ [option]: value })).pipe(Option.getOrThrow)
    expect(error.problems).toEqual([{ path: option, message }])
  })

  it("the limits themselves are accepted", () => {
    const policy = Either.getOrThrow(
      RetryPolicy.make({ maxRetries: 1000, internalServerErrorRetries: 1000, factor: 100, base: "1 hour", maxElapsed: "1 hour" })
    )
    expect(Duration.toMillis(policy.maxElapsed)).toBe(3_600_000)
    expect(Duration.toMillis(RetryPolicy.limits.maxElapsed)).toBe(3_600_000)
  })
})

const ttlRange = `must be a duration from 100ms to 1h, in whole milliseconds, such as "2 seconds" or a number of milliseconds`

describe("RetryBudget: options of the wrong type fail typed, never throw", () => {
  it.each([
    ["null", null, "null"],
    ["a string", "strict", "\"strict\""],
    ["a number", 0.2, "0.2"]
  ] as const)("make(%s) does not throw, and fails with InvalidOptionsError", (_name, options, shown) =>
    Effect.gen(function*() {
      // building the effect must not throw synchronously
      const made = RetryBudget.make(untyped(options))
      const error = failureOf(yield* Effect.exit(made))
      assert.instanceOf(error, Options.InvalidOptionsError)
      expect(error.module).toBe("RetryBudget")
      expect(error.problems).toEqual([{ path: "", message: `options must be an object, got ${shown}` }])
      const fromLayer = failureOf(
        yield* Effect.exit(Effect.provide(RetryBudget.RetryBudget, RetryBudget.layer(untyped(options))))
      )
      expect(fromLayer).toEqual(error)
      assert.isTrue(Either.isLeft(RetryBudget.settings(untyped(options))))
    }).pipe(Effect.runPromise))

  it.effect("Resilience.layer(null) fails typed, at the path \"\"; a null part, at its own path", () =>
    Effect.gen(function*() {
      const error = failureOf(yield* Effect.exit(Effect.provide(Effect.void, Resilience.layer(untyped(null)))))
      assert.instanceOf(error, Options.InvalidOptionsError)
      expect(error.message).toBe("Invalid Resilience options: options must be an object, got null")
      const nested = failureOf(
        yield* Effect.exit(Effect.provide(Effect.void, Resilience.layer({ budget: untyped(null) })))
      )
      assert.instanceOf(nested, Options.InvalidOptionsError)
      expect(nested.problems.map((p) => p.path)).toEqual(["budget"])
    }))

  it.each([
    ["percent", 1e308, "must be a number from 0 to 1000, got 1e+308"],
    ["percent", 1001, "must be a number from 0 to 1000, got 1001"],
    ["minRetriesPerSecond", 1e308, "must be a number from 0 to 100000, got 1e+308"],
    ["minRetriesPerSecond", "10", "must be a number from 0 to 100000, got \"10\""],
    ["ttl", 1e308, `${ttlRange}; got 1e+308`],
    ["ttl", "2 hours", `${ttlRange}; got "2 hours"`]
  ] as const)("%s: %s is out of range", (option, value, message) => {
    const error = Either.getLeft(RetryBudget.settings({ [option]: value })).pipe(Option.getOrThrow)
    expect(error.problems).toEqual([{ path: option, message }])
  })

  it("an option whose getter throws is a problem naming it", () => {
    const error = Either.getLeft(RetryBudget.settings(untyped(throwing("percent")))).pipe(Option.getOrThrow)
    expect(error.problems).toEqual([{ path: "percent", message: "could not be read (its getter threw)" }])
  })

  it.effect("at the limits the balance stays finite and exact, and retries stay bounded", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.make({ percent: 1000, minRetriesPerSecond: 100_000, ttl: "1 hour" })
      // the full reserve: 100 000 per second for an hour
      expect(yield* budget.balance).toEqual({ deposits: 0, reserve: 360_000_000, total: 360_000_000 })
      yield* budget.deposit
      const balance = yield* budget.balance
      expect(balance).toEqual({ deposits: 1000, reserve: 360_000_000, total: 360_001_000 })
      assert.isTrue(Number.isFinite(balance.total))
      const strict = yield* RetryBudget.make({ percent: 0, minRetriesPerSecond: 0 })
      expect(yield* strict.tryWithdraw).toBe(false)
    }))
})

describe("properties: option validation is total", () => {
  const anything = fc.anything({ withBigInt: true, withDate: true, withNullPrototype: true, withBoxedValues: true })
  const field = fc.oneof(anything, fc.double(), fc.integer(), fc.constantFrom(1e308, -0, Number.NaN, Infinity))

  it("RetryPolicy.make never throws; what it accepts is within the limits (3 000 runs)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anything,
          fc.record({ base: field, cap: field, maxElapsed: field, factor: field, maxRetries: field }, { requiredKeys: [] })
        ),
        (options) => {
          const result = RetryPolicy.make(untyped(options))
          if (Either.isLeft(result)) {
            assert.isAbove(result.left.problems.length, 0)
            return
          }
          assert.isTrue(Duration.lessThanOrEqualTo(result.right.maxElapsed, RetryPolicy.limits.maxElapsed))
          assert.isTrue(Duration.isFinite(result.right.base))
          assert.isTrue(result.right.maxRetries <= 1000)
        }
      ),
      { numRuns: 3_000 }
    )
  })

  it("RetryBudget.settings never throws; a budget it accepts has a finite balance (3 000 runs)", () => {
    fc.assert(
      fc.property(
        fc.oneof(anything, fc.record({ percent: field, ttl: field, minRetriesPerSecond: field }, { requiredKeys: [] })),
        (options) => {
          const result = RetryBudget.settings(untyped(options))
          if (Either.isLeft(result)) return
          const balance = Effect.runSync(Effect.gen(function*() {
            const budget = yield* RetryBudget.make(result.right)
            yield* budget.deposit
            yield* budget.tryWithdraw
            return yield* budget.balance
          }))
          assert.isTrue(Number.isFinite(balance.total), JSON.stringify(balance))
          assert.isTrue(balance.total >= 0)
        }
      ),
      { numRuns: 3_000 }
    )
  })
})

describe("Claude: options of the wrong type fail typed, never throw, never print the key", () => {
  const secret = "sk-ant-options-s3cr3t-0123"
  const apiKey = Redacted.make(secret)
  const problemsOf = (options: unknown) => {
    const result = Claude.settings(untyped(options))
    assert.isTrue(Either.isLeft(result))
    const error = Either.getLeft(result).pipe(Option.getOrThrow)
    assert.instanceOf(error, Options.InvalidOptionsError)
    expect(error.module).toBe("Claude")
    expect(JSON.stringify(error) + String(error)).not.toContain(secret)
    return error.problems
  }

  it.each([
    ["null", null],
    ["a number", 3],
    ["an array", [apiKey]],
    ["the key as a string", secret]
  ] as const)("%s as the options ⇒ one problem at the path \"\"", (_name, options) => {
    expect(problemsOf(options).map((p) => p.path)).toEqual([""])
  })

  it("a Proxy whose every trap throws is a problem, not a throw", () => {
    const hostile = throwingProxy()
    expect(problemsOf(hostile).map((p) => p.path)).toEqual([""])
    // a hostile key is a problem at its path; a hostile part that the
    // options model cannot even inspect is one about the options as a whole
    expect(problemsOf({ apiKey: hostile }).map((p) => p.path)).toEqual(["apiKey"])
    expect(problemsOf({ apiKey, retry: hostile }).map((p) => p.path)).toEqual([""])
  })

  it("a getter that throws is a problem at its path, nested ones too", () => {
    // (the key, unread, is also reported missing: both problems are at apiKey)
    const key = problemsOf(throwing("apiKey"))
    expect(key).toContainEqual({ path: "apiKey", message: "could not be read (its getter threw)" })
    expect(new Set(key.map((p) => p.path))).toEqual(new Set(["apiKey"]))
    expect(problemsOf({ apiKey, retry: throwing("maxRetries") })).toEqual([
      { path: "retry.maxRetries", message: "could not be read (its getter threw)" }
    ])
  })

  it("Claude.settings never throws, and never prints the key (3 000 runs)", () => {
    const anything = fc.anything({ withBigInt: true, withDate: true, withNullPrototype: true, withBoxedValues: true })
    const field = fc.oneof(anything, fc.double(), fc.integer(), fc.string(), fc.constantFrom(1e308, -0, Number.NaN))
    fc.assert(
      fc.property(
        fc.oneof(
          anything,
          fc.record({
            apiKey: fc.oneof(fc.constant(apiKey), fc.constant(secret), field),
            baseUrl: fc.oneof(field, fc.webUrl(), fc.constant(`https://u:${secret}@h.example`)),
            apiVersion: field,
            beta: fc.oneof(field, fc.array(fc.string())),
            retry: fc.oneof(field, fc.record({ maxRetries: field, base: field }, { requiredKeys: [] })),
            requestTimeout: field,
            streamIdleTimeout: field,
            longRequests: fc.oneof(field, fc.constantFrom("stream", "fail", "strem")),
            maxEventSize: field,
            maxResponseBytes: field,
            transformClient: fc.oneof(field, fc.func(anything))
          }, { requiredKeys: [] })
        ),
        (options) => {
          const result = Claude.settings(untyped(options))
          if (Either.isLeft(result)) {
            assert.isAbove(result.left.problems.length, 0)
            assert.notInclude(JSON.stringify(result.left) + String(result.left), secret)
            return
          }
          assert.isTrue(Duration.isFinite(result.right.requestTimeout))
          assert.isTrue(result.right.maxResponseBytes <= 256 * 1024 * 1024)
          assert.isTrue(RetryPolicy.isRetryPolicy(result.right.retry))
          assert.notInclude(result.right.baseUrl, secret)
        }
      ),
      { numRuns: 3_000 }
    )
  })
})
