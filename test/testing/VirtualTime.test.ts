import { describe, expect, it } from "@effect/vitest"
import { Clock, Deferred, Effect, Exit, Ref, Schedule, TestClock } from "effect"
import { VirtualTime } from "../../src/testing/index.js"

describe("VirtualTime.run", () => {
  it.effect("moves the TestClock to each pending wake-up in turn: the effect sees its exact virtual instants", () =>
    Effect.gen(function*() {
      const seen = yield* Ref.make<Array<number>>([])
      const mark = Effect.flatMap(Clock.currentTimeMillis, (now) => Ref.update(seen, (list) => [...list, now]))
      const result = yield* VirtualTime.run(
        Effect.gen(function*() {
          yield* mark
          yield* Effect.sleep("1500 millis")
          yield* mark
          yield* Effect.sleep("10 seconds")
          yield* mark
          return "done"
        })
      )
      expect(result).toBe("done")
      expect(yield* Ref.get(seen)).toEqual([0, 1_500, 11_500])
      expect(yield* TestClock.currentTimeMillis).toBe(11_500)
    }))

  it.effect("is pipeable, and returns the effect's own failure unchanged", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.sleep("2 seconds").pipe(
        Effect.zipRight(Effect.fail({ _tag: "Mine" as const, at: 2 })),
        VirtualTime.run({ pollMillis: 1 }),
        Effect.exit
      )
      expect(exit).toEqual(Exit.fail({ _tag: "Mine", at: 2 }))
    }))

  it.effect("StepLimit: an effect still running after maxSteps clock moves is interrupted, and the run fails", () =>
    Effect.gen(function*() {
      const interrupted = yield* Deferred.make<void>()
      const error = yield* Effect.flip(
        VirtualTime.run(
          Effect.repeat(Effect.void, Schedule.spaced("1 second")).pipe(
            Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined))
          ),
          { maxSteps: 3 }
        )
      )
      expect(error).toBeInstanceOf(VirtualTime.VirtualTimeError)
      expect(error.reason).toBe("StepLimit")
      expect(error.message).toContain("after 3 clock moves")
      expect(yield* Deferred.isDone(interrupted)).toBe(true)
      expect(yield* TestClock.currentTimeMillis).toBe(3_000)
    }))

  it.effect("InvalidOptions: each option out of range is named, and the effect never starts", () =>
    Effect.gen(function*() {
      const started = yield* Ref.make(0)
      const effect = Ref.update(started, (n) => n + 1)
      const cases = [
        [{ pollMillis: 0 }, "pollMillis must be a positive number, got 0"],
        [{ pollMillis: Number.NaN }, "pollMillis must be a positive number, got NaN"],
        [{ stablePolls: 1.5 }, "stablePolls must be a positive integer, got 1.5"],
        [{ maxSteps: -1 }, "maxSteps must be a positive integer, got -1"],
        [{ maxSteps: Number.POSITIVE_INFINITY }, "maxSteps must be a positive integer, got Infinity"]
      ] as const
      for (const [options, message] of cases) {
        const error = yield* Effect.flip(VirtualTime.run(effect, options))
        expect(error.reason).toBe("InvalidOptions")
        expect(error.message).toBe(`VirtualTime.run: ${message}`)
      }
      expect(yield* Ref.get(started)).toBe(0)
    }))
})

describe("VirtualTime.run without a TestClock", () => {
  it("NoTestClock: a typed failure that says what to provide, not a defect", async () => {
    const exit = await Effect.runPromiseExit(VirtualTime.run(Effect.succeed(1)))
    expect(Exit.isFailure(exit)).toBe(true)
    const error = await Effect.runPromise(Effect.flip(VirtualTime.run(Effect.succeed(1))))
    expect(error.reason).toBe("NoTestClock")
    expect(error.message).toContain("TestContext.TestContext")
  })
})
