/**
 * The comparison policies, written here (they are what other clients do, not
 * what this library does):
 *
 * - `sdk-like`: as the official SDKs retry: 2 retries, waits of
 *   `min(0.5 s · 2ⁿ, 8 s)` less up to 25 % jitter, on 408, 409, 429 and
 *   every 5xx, and a `retry-after` obeyed whatever its length;
 * - `naive`: 5 immediate retries of any error;
 * - `no-jitter`, `equal-jitter`, `decorrelated-jitter`: capped exponential
 *   backoff (`min(cap, base · 2ⁿ)`) with the jitter of their name, on 408,
 *   429 and every 5xx, never sooner than `retry-after`, with the scenario's
 *   base, cap and retry count; no breaker, no retry budget, no wall-clock
 *   limit.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import type { Wrap } from "./ours.js"

/**
 * The backoff settings a scenario gives the comparison policies.
 *
 * @internal
 */
export interface Backoff {
  readonly baseMillis: number
  readonly capMillis: number
  readonly maxRetries: number
}

const statusOf = (error: unknown): number =>
  typeof error === "object" && error !== null && "status" in error && typeof error.status === "number"
    ? error.status
    : 0

const retryAfterOf = (error: unknown): number => {
  if (typeof error !== "object" || error === null || !("retryAfter" in error)) return 0
  const value: unknown = error.retryAfter
  if (!Option.isOption(value) || Option.isNone(value) || !Duration.isDuration(value.value)) return 0
  const millis = Duration.toMillis(value.value)
  return Number.isFinite(millis) && millis > 0 ? Math.ceil(millis) : 0
}

/** 408, 429 and every 5xx (529 included). */
const isTransient = (status: number) => status === 408 || status === 429 || status >= 500

/**
 * A retry loop: `decide(retry, error, previousWait)` gives the wait before
 * retry `retry` (0 for the first), or `undefined` to give up with `error`.
 */
const retrying = (
  decide: (retry: number, error: unknown, previous: number) => Effect.Effect<number | undefined>
): Wrap =>
<A, E>(call: Effect.Effect<A, E>): Effect.Effect<A, unknown> => {
  const attempt = (retry: number, previous: number): Effect.Effect<A, unknown> =>
    Effect.catchAll(call, (error) =>
      Effect.flatMap(decide(retry, error, previous), (wait) =>
        wait === undefined
          ? Effect.fail(error)
          : Effect.zipRight(Effect.sleep(wait), attempt(retry + 1, wait))))
  return attempt(0, -1)
}

/**
 * The official SDKs' retry rules.
 *
 * @internal
 */
export const sdkLike: Wrap = retrying((retry, error) => {
  const status = statusOf(error)
  if (retry >= 2 || !(isTransient(status) || status === 409)) return Effect.succeed(undefined)
  const retryAfter = retryAfterOf(error)
  if (retryAfter > 0) return Effect.succeed(retryAfter)
  const ceiling = Math.min(500 * 2 ** retry, 8_000)
  return Effect.map(Random.next, (r) => Math.round(ceiling * (1 - 0.25 * r)))
})

/**
 * Five immediate retries, whatever the error.
 *
 * @internal
 */
export const naive = (maxRetries: number): Wrap =>
  retrying((retry) => Effect.succeed(retry >= maxRetries ? undefined : 0))

const exponential = (backoff: Backoff, jittered: (ceiling: number, previous: number) => Effect.Effect<number>): Wrap =>
  retrying((retry, error, previous) => {
    const status = statusOf(error)
    if (retry >= backoff.maxRetries || !isTransient(status)) return Effect.succeed(undefined)
    const ceiling = Math.min(backoff.capMillis, backoff.baseMillis * 2 ** retry)
    return Effect.map(jittered(ceiling, previous), (wait) => Math.max(retryAfterOf(error), Math.round(wait)))
  })

/**
 * Capped exponential backoff, every client waiting the same.
 *
 * @internal
 */
export const noJitter = (backoff: Backoff): Wrap => exponential(backoff, (ceiling) => Effect.succeed(ceiling))

/**
 * Half the ceiling, plus a uniform draw over the other half.
 *
 * @internal
 */
export const equalJitter = (backoff: Backoff): Wrap =>
  exponential(backoff, (ceiling) => Effect.map(Random.next, (r) => ceiling / 2 + (r * ceiling) / 2))

/**
 * `min(cap, uniform(base, 3 · previous))`, `previous` starting at `base`.
 *
 * @internal
 */
export const decorrelatedJitter = (backoff: Backoff): Wrap =>
  exponential(backoff, (_, previous) =>
    Effect.map(Random.next, (r) => {
      const last = previous < 0 ? backoff.baseMillis : Math.max(previous, backoff.baseMillis)
      return Math.min(backoff.capMillis, backoff.baseMillis + r * (3 * last - backoff.baseMillis))
    }))
