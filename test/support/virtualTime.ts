/**
 * The tests' name for `VirtualTime.run` (exported to users from
 * `claude-resilience/testing`), with its old contract: a run that cannot be
 * driven fails with the error's message, a string.
 */
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import * as VirtualTime from "../../src/testing/VirtualTime.js"

export type VirtualTimeOptions = VirtualTime.Options

export const runVirtual = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  options: VirtualTimeOptions = {}
): Effect.Effect<A, E | string, R> =>
  VirtualTime.run(effect, options).pipe(
    Effect.catchIf(
      (error): error is VirtualTime.VirtualTimeError => error instanceof VirtualTime.VirtualTimeError,
      (error) => Effect.fail(error.message)
    )
  )

/** The virtual time now, in milliseconds. */
export const virtualNow = TestClock.currentTimeMillis
