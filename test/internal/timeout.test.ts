/**
 * The attempt's timeout: on the live clock `self` is forked alone and the
 * wait is a timer; on any other clock it is `Effect.timeoutFail`. Both keep
 * Effect's semantics: the winner's exit (its fiber refs inherited on
 * success), `self` interrupted and waited for on a timeout, `self`
 * interrupted when the caller is. The live cases use a timeout of a few
 * milliseconds and check outcomes, never a timing.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as Timeout from "../../src/internal/timeout.js"

const options = (duration: Duration.DurationInput) => ({
  duration: Duration.decode(duration),
  onTimeout: () => "timed out" as const
})

describe("internal/timeout on the live clock", () => {
  it.live("self first: its value, and the fiber refs it set", () =>
    Effect.gen(function*() {
      const ref = FiberRef.unsafeMake(0)
      const value = yield* Timeout.timeoutFail(
        Effect.zipRight(Effect.sleep("1 millis"), Effect.as(FiberRef.set(ref, 7), "done")),
        options("10 seconds")
      )
      expect(value).toBe("done")
      expect(yield* FiberRef.get(ref)).toBe(7)
    }))

  it.live("self fails or dies first: that exit, unchanged", () =>
    Effect.gen(function*() {
      expect(yield* Effect.exit(Timeout.timeoutFail(Effect.fail("boom"), options("10 seconds"))))
        .toStrictEqual(Exit.fail("boom"))
      const died = yield* Effect.exit(Timeout.timeoutFail(Effect.die("bug"), options("10 seconds")))
      expect(Exit.isFailure(died) ? Cause.dieOption(died.cause) : undefined).toStrictEqual(Option.some("bug"))
    }))

  it.live("time out: self interrupted and its finalizer run before onTimeout's failure", () =>
    Effect.gen(function*() {
      const events: Array<string> = []
      const exit = yield* Effect.exit(Timeout.timeoutFail(
        Effect.never.pipe(Effect.onInterrupt(() => Effect.sync(() => events.push("self interrupted")))),
        options("5 millis")
      ))
      events.push("timed out")
      expect(exit).toStrictEqual(Exit.fail("timed out"))
      expect(events).toEqual(["self interrupted", "timed out"])
    }))

  it.live("the caller interrupted: self interrupted too, and waited for", () =>
    Effect.gen(function*() {
      const started = yield* Deferred.make<void>()
      const events: Array<string> = []
      const fiber = yield* Effect.fork(Timeout.timeoutFail(
        Effect.zipRight(Deferred.succeed(started, undefined), Effect.never).pipe(
          Effect.onInterrupt(() => Effect.sync(() => events.push("self interrupted")))
        ),
        options("10 seconds")
      ))
      yield* Deferred.await(started)
      yield* Fiber.interrupt(fiber)
      expect(events).toEqual(["self interrupted"])
    }))

  it.live("a duration past the longest timer never fires (a timer over 2^31 - 1 ms would fire at once)", () =>
    Effect.gen(function*() {
      const value = yield* Timeout.timeoutFail(Effect.as(Effect.sleep("20 millis"), "done"), options("30 days"))
      expect(value).toBe("done")
    }))
})

describe("internal/timeout on the TestClock", () => {
  it.effect("Effect.timeoutFail's: fails at exactly the duration, in virtual time", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(Timeout.timeoutFail(Effect.never, options("2 seconds")))
      yield* TestClock.adjust("1999 millis")
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 millis")
      expect(yield* Fiber.await(fiber)).toStrictEqual(Exit.fail("timed out"))
    }))
})
