/**
 * Runs an effect whose waits are on the `TestClock` while real sockets carry
 * its bytes. `TestClock.adjust` alone races the I/O: it can fire a timeout
 * while a reply is still on the wire. This helper lets real I/O settle first:
 * it yields in real time until the set of pending TestClock sleeps has stayed
 * the same for a few polls (nothing is moving but virtual timers), then moves
 * the clock to the earliest pending wake-up, and repeats until the effect is
 * done.
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as TestServices from "effect/TestServices"

export interface VirtualTimeOptions {
  /** Real milliseconds between two polls (default 5). */
  readonly pollMillis?: number
  /** Polls with an unchanged set of sleeps before the clock moves (default 4). */
  readonly stablePolls?: number
  /** The most clock moves before giving up (default 10 000). */
  readonly maxSteps?: number
}

const liveSleep = (millis: number) => TestServices.provideLive(Effect.sleep(millis))

const snapshot = Effect.map(TestClock.sleeps(), (sleeps) => Chunk.toReadonlyArray(sleeps).join(","))

export const runVirtual = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  options: VirtualTimeOptions = {}
): Effect.Effect<A, E | string, R> =>
  Effect.gen(function*() {
    const pollMillis = options.pollMillis ?? 5
    const stablePolls = options.stablePolls ?? 4
    const maxSteps = options.maxSteps ?? 10_000
    const fiber = yield* Effect.fork(effect)
    for (let step = 0; step < maxSteps; step++) {
      let stable = 0
      let last = yield* snapshot
      while (true) {
        yield* liveSleep(pollMillis)
        const exit = yield* Fiber.poll(fiber)
        if (Option.isSome(exit)) {
          return yield* Exit.matchEffect(exit.value, { onFailure: Effect.failCause, onSuccess: Effect.succeed })
        }
        const now = yield* snapshot
        if (now !== "" && now === last) {
          stable++
          if (stable >= stablePolls) break
        } else {
          stable = 0
          last = now
        }
      }
      const sleeps = Chunk.toReadonlyArray(yield* TestClock.sleeps())
      const next = Math.min(...sleeps)
      yield* TestClock.setTime(next)
    }
    yield* Fiber.interrupt(fiber)
    return yield* Effect.fail(`runVirtual: gave up after ${maxSteps} clock moves`)
  })

/** The virtual time now, in milliseconds. */
export const virtualNow = TestClock.currentTimeMillis
