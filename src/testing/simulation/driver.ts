/**
 * A discrete-event driver for Effect programs: a virtual `Clock` whose
 * `sleep` is an entry in a timer queue, and a `Scheduler` that queues fiber
 * work instead of handing it to the event loop. The driver runs every queued
 * task until none is left (every fiber is then done or waiting on the clock),
 * moves the clock to the earliest timer, wakes its fiber, and so on.
 *
 * This is what `TestClock` does, without its costs per step (it sorts every
 * pending sleep and waits for real `setTimeout` turns to see the fibers
 * settle, milliseconds per step): here a step is a heap operation, so a fleet
 * of a thousand clients runs an hour of virtual time in seconds. Timers due
 * at the same instant fire in the order they were set, and tasks run in the
 * order they were queued, so a run is a pure function of the program and its
 * `Random` seed values: the same on every machine.
 *
 * Only for programs that do no real I/O: a fiber waiting on a socket looks
 * like one waiting forever.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Scheduler from "effect/Scheduler"

interface Timer {
  readonly at: number
  readonly seq: number
  wake: (() => void) | undefined
}

/** A binary min-heap of timers, by instant then by the order they were set. */
class Timers {
  private readonly heap: Array<Timer> = []
  private seq = 0

  get size(): number {
    return this.heap.length
  }

  private before(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq)
  }

  push(at: number, wake: () => void): Timer {
    const timer: Timer = { at, seq: this.seq++, wake }
    const heap = this.heap
    heap.push(timer)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.before(heap[i]!, heap[parent]!)) break
      ;[heap[i], heap[parent]] = [heap[parent]!, heap[i]!]
      i = parent
    }
    return timer
  }

  peek(): Timer | undefined {
    return this.heap[0]
  }

  pop(): Timer | undefined {
    const heap = this.heap
    const top = heap[0]
    const last = heap.pop()
    if (top === undefined || last === undefined || heap.length === 0) return top
    heap[0] = last
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      const right = left + 1
      let least = i
      if (left < heap.length && this.before(heap[left]!, heap[least]!)) least = left
      if (right < heap.length && this.before(heap[right]!, heap[least]!)) least = right
      if (least === i) break
      ;[heap[i], heap[least]] = [heap[least]!, heap[i]!]
      i = least
    }
    return top
  }
}

/**
 * One virtual world: its clock, its scheduler, and the loop that runs them.
 *
 * @internal
 */
export class Driver {
  private now: number
  private readonly timers = new Timers()
  private tasks: Array<Scheduler.Task> = []
  private head = 0
  /** Timers fired so far: the number of steps the world took. */
  steps = 0

  readonly scheduler: Scheduler.Scheduler = Scheduler.make(
    (task) => void this.tasks.push(task),
    // a fiber runs until it waits: nothing else needs the thread
    () => false
  )

  readonly clock: Clock.Clock

  constructor(start = 0) {
    this.now = start
    const self = this
    this.clock = {
      [Clock.ClockTypeId]: Clock.ClockTypeId,
      unsafeCurrentTimeMillis: () => self.now,
      currentTimeMillis: Effect.sync(() => self.now),
      unsafeCurrentTimeNanos: () => BigInt(self.now) * 1_000_000n,
      currentTimeNanos: Effect.sync(() => BigInt(self.now) * 1_000_000n),
      sleep: (duration) =>
        Effect.async<void>((resume) => {
          const millis = Duration.toMillis(duration)
          // a sleep of no time (or of a bad value) still yields, as the real clock's does
          const at = self.now + (Number.isFinite(millis) && millis > 0 ? millis : 0)
          const timer = self.timers.push(at, () => resume(Effect.void))
          // an interrupted sleep forgets its timer (the fiber is gone)
          return Effect.sync(() => {
            timer.wake = undefined
          })
        })
    }
  }

  /** The virtual time, epoch milliseconds. */
  get time(): number {
    return this.now
  }

  /** Runs queued tasks until there are none. */
  private drain(): void {
    while (this.head < this.tasks.length) {
      const task = this.tasks[this.head++]!
      task()
      if (this.head > 4096 && this.head * 2 > this.tasks.length) {
        this.tasks = this.tasks.slice(this.head)
        this.head = 0
      }
    }
    this.tasks.length = 0
    this.head = 0
  }

  /**
   * Starts `effect` in this world (with its clock and scheduler). Nothing
   * runs until {@link advance}.
   */
  fork<A, E>(effect: Effect.Effect<A, E>): Fiber.RuntimeFiber<A, E> {
    return Effect.runFork(Effect.withClock(effect, this.clock), { scheduler: this.scheduler })
  }

  /**
   * Runs the world until `fiber` is done or the clock would pass `until`
   * (then the clock stands at `until`). Returns the fiber's exit if it is
   * done. A world with neither a task nor a timer left while the fiber runs
   * is deadlocked: it waits on something no timer will bring.
   */
  advance<A, E>(fiber: Fiber.RuntimeFiber<A, E>, until: number): Exit.Exit<A, E> | "deadlock" | undefined {
    for (;;) {
      this.drain()
      const exit = fiber.unsafePoll()
      if (exit !== null) return exit
      const next = this.timers.peek()
      if (next === undefined) return "deadlock"
      if (next.at > until) {
        this.now = Math.max(this.now, until)
        return undefined
      }
      this.timers.pop()
      if (next.at > this.now) this.now = next.at
      const wake = next.wake
      if (wake !== undefined) {
        this.steps++
        wake()
      }
    }
  }
}
