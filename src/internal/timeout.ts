/**
 * `Effect.timeoutFail` with one fiber fewer on the live clock. Effect's
 * races `self` against a sleep, each in a fiber of its own, and waits for
 * the sleep's interruption once `self` has won (about 120 µs of CPU per
 * attempt of a client call). On the live `Clock`, `self` is forked alone and
 * the wait is a timer; on any other clock (`TestClock`, a clock of your
 * own) it is `Effect.timeoutFail`, so that virtual time drives it.
 *
 * The same semantics either way: `self`'s exit when it ends first (its
 * fiber refs inherited on success, as a winner's are), otherwise `self`
 * interrupted, waited for (its finalizers run), then `onTimeout()`; an
 * interruption of the caller interrupts `self` and waits for it.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"

/** The live clock's prototype: a clock of another kind takes Effect's own timeout. */
const live: object | null = Object.getPrototypeOf(Clock.make())

/** The longest delay a timer takes (a longer one fires at once): past it, the live clock never fires either. */
const maxTimer = 2 ** 31 - 1

/** @internal */
export const timeoutFail = <A, E, R, E1>(
  self: Effect.Effect<A, E, R>,
  options: { readonly duration: Duration.Duration; readonly onTimeout: () => E1 }
): Effect.Effect<A, E | E1, R> =>
  Effect.clockWith((clock) => {
    if (Object.getPrototypeOf(clock) !== live) return Effect.timeoutFail(self, options)
    const millis = Duration.toMillis(options.duration)
    return Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(Effect.fork(restore(self)), (child) =>
        Effect.flatMap(
          restore(Effect.async<Exit.Exit<A, E> | undefined>((resume) => {
            let timer: ReturnType<typeof setTimeout> | undefined
            const observer = (exit: Exit.Exit<A, E>) => {
              if (timer !== undefined) clearTimeout(timer)
              resume(Effect.succeed(exit))
            }
            if (millis <= maxTimer) {
              timer = setTimeout(() => {
                child.removeObserver(observer)
                resume(Effect.succeed(undefined))
              }, millis)
            }
            child.addObserver(observer)
            return Effect.sync(() => {
              if (timer !== undefined) clearTimeout(timer)
              child.removeObserver(observer)
            })
          })).pipe(Effect.onInterrupt(() => Fiber.interrupt(child))),
          (exit): Effect.Effect<A, E | E1> =>
            exit === undefined
              ? Effect.zipRight(Fiber.interrupt(child), Effect.fail(options.onTimeout()))
              : Exit.isSuccess(exit)
              ? Effect.as(Fiber.inheritAll(child), exit.value)
              : exit
        )))
  })
