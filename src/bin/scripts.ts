/**
 * The fault scripts `claude-resilience emulate --script NAME` offers.
 *
 * @since 0.2.0
 */
import { Emulator } from "../testing/index.js"

const overloaded: Emulator.Script = (request) =>
  // a 529 storm for the first 20 s of every minute, then healthy
  request.receivedAt % 60_000 < 20_000 ? Emulator.Reply.Error({ status: 529 }) : Emulator.Reply.Ok({})

const rateLimited: Emulator.Script = (request) => {
  // at most 5 requests per 10 s window; the rest get a 429 that says how long to wait
  const window = Math.floor(request.receivedAt / 10_000)
  const inWindow = (counts.get(window) ?? 0) + 1
  counts.clear()
  counts.set(window, inWindow)
  if (inWindow <= 5) return Emulator.Reply.Ok({})
  const retryAfter = Math.max(1, Math.ceil(((window + 1) * 10_000 - request.receivedAt) / 1000))
  return Emulator.Reply.Error({ status: 429, headers: { "retry-after": String(retryAfter) } })
}
const counts = new Map<number, number>()

const flakyCycle = [
  Emulator.Reply.Error({ status: 529 }),
  Emulator.Reply.Ok({}),
  Emulator.Reply.Error({ status: 503 }),
  Emulator.Reply.Ok({}),
  Emulator.Reply.Error({ status: 500 }),
  Emulator.Reply.Ok({})
]

/**
 * The named scripts, with what each does:
 *
 * - `healthy`: every request is served;
 * - `overloaded`: 529 storms: every request in the first 20 s of each minute
 *   gets a 529 `overloaded_error`, the others are served;
 * - `rate-limited`: at most 5 requests per 10 s window are served, the rest
 *   get a 429 `rate_limit_error` with `retry-after` (seconds to the next
 *   window);
 * - `flaky`: a repeating cycle of 529, 200, 503, 200, 500, 200;
 * - `down`: every request gets a 503.
 *
 * @since 0.2.0
 * @category scripts
 */
export const scripts: Readonly<Record<string, { readonly script: Emulator.Script; readonly description: string }>> = {
  healthy: { script: Emulator.healthy, description: "every request is served" },
  overloaded: { script: overloaded, description: "529 storms: the first 20 s of every minute answer 529" },
  "rate-limited": {
    script: rateLimited,
    description: "5 requests per 10 s window, then 429 with retry-after"
  },
  flaky: {
    script: (request) => flakyCycle[(request.attempt - 1) % flakyCycle.length]!,
    description: "529, 200, 503, 200, 500, 200, repeating"
  },
  down: { script: () => Emulator.Reply.Error({ status: 503 }), description: "every request answers 503" }
}

/**
 * The names of {@link scripts}.
 *
 * @since 0.2.0
 * @category scripts
 */
export const scriptNames = Object.keys(scripts) as ReadonlyArray<string>
