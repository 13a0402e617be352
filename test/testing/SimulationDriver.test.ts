/**
 * The simulation runs its fleets on a discrete-event driver (a virtual
 * `Clock` and a queueing `Scheduler`) instead of Effect's `TestClock`, which
 * costs milliseconds of real time per step. The driver must mean the same
 * virtual time: the same program, run under the driver and under `TestClock`,
 * wakes every fiber at the same virtual instants, reads the same `Clock`
 * there, and ends at the same instant with the same result.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as TestClock from "effect/TestClock"
import { Driver } from "../../src/testing/simulation/driver.js"

interface Wake {
  readonly fiber: number
  readonly step: number
  readonly at: number
}

/**
 * `fibers` fibers, each sleeping `steps` times for seeded random durations
 * (some of them zero, many of them equal, so instants collide), racing a
 * timeout now and then, and recording the `Clock` at each wake.
 */
const program = (fibers: number, steps: number, seed: number, log: Array<Wake>) =>
  Effect.forEach(
    Array.from({ length: fibers }, (_, i) => i),
    (fiber) =>
      Effect.gen(function*() {
        for (let step = 0; step < steps; step++) {
          const millis = (yield* Random.nextIntBetween(0, 8)) * 250
          if (step % 3 === 2) {
            // a sleep raced by a timeout: whichever is due first wins
            yield* Effect.sleep(Duration.millis(millis)).pipe(Effect.timeoutOption(Duration.millis(500)))
          } else {
            yield* Effect.sleep(Duration.millis(millis))
          }
          log.push({ fiber, step, at: yield* Clock.currentTimeMillis })
        }
        return yield* Clock.currentTimeMillis
      }).pipe(Effect.withRandom(Random.make(`${seed}-${fiber}`))),
    { concurrency: "unbounded" }
  )

const sorted = (log: ReadonlyArray<Wake>) =>
  [...log].sort((a, b) => a.fiber - b.fiber || a.step - b.step)

const onDriver = (fibers: number, steps: number, seed: number) => {
  const log: Array<Wake> = []
  const driver = new Driver(0)
  const fiber = driver.fork(program(fibers, steps, seed, log))
  const exit = driver.advance(fiber, Number.MAX_SAFE_INTEGER)
  if (exit === undefined || exit === "deadlock" || Exit.isFailure(exit)) throw new Error(`driver: ${String(exit)}`)
  return { log: sorted(log), ends: exit.value, time: driver.time }
}

/** The same program under TestClock, moving the clock to each next pending sleep. */
const onTestClock = (fibers: number, steps: number, seed: number) =>
  Effect.gen(function*() {
    const log: Array<Wake> = []
    const fiber = yield* Effect.fork(program(fibers, steps, seed, log))
    for (;;) {
      // let every fiber run until it sleeps or ends
      for (let i = 0; i < 50; i++) yield* Effect.yieldNow()
      const done = yield* Fiber.poll(fiber)
      if (Option.isSome(done)) {
        const ends = yield* done.value
        return { log: sorted(log), ends, time: yield* Clock.currentTimeMillis }
      }
      const sleeps = Chunk.toReadonlyArray(yield* TestClock.sleeps())
      yield* TestClock.setTime(Math.min(...sleeps))
    }
  })

describe("Simulation's driver keeps the same virtual time as TestClock", () => {
  for (const [fibers, steps, seed] of [[1, 6, 1], [5, 6, 2], [20, 9, 3]] as const) {
    it.effect(`${fibers} fibers × ${steps} sleeps (seed ${seed}): the same wakes at the same instants, the same end`, () =>
      Effect.gen(function*() {
        const driven = onDriver(fibers, steps, seed)
        const tested = yield* onTestClock(fibers, steps, seed)
        expect(driven.log).toHaveLength(fibers * steps)
        expect(driven.log).toEqual(tested.log)
        expect(driven.ends).toEqual(tested.ends)
        expect(driven.time).toBe(tested.time)
        // a control: another seed moves the instants
        expect(onDriver(fibers, steps, seed + 100).log).not.toEqual(driven.log)
      }))
  }
})
