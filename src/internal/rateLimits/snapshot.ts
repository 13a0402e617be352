/**
 * The `anthropic-ratelimit-*` and `anthropic-priority-*` response headers as a
 * typed snapshot. The public `RateLimits` module re-exports all of it; it
 * lives apart so that `ApiError` (whose retryable errors carry a snapshot)
 * and `RateLimits` (whose limiter fails with `ApiError.RateLimitError`) do
 * not import each other.
 *
 * @internal
 */
import * as DateTime from "effect/DateTime"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { utcMillis } from "../dates.js"
import * as Headers from "../headers.js"

/**
 * One quota as the server reports it: its limit, what is left of it, and when
 * it is fully replenished. Every field is optional: the server may omit any
 * header, and a garbage value reads as `None`.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { RateLimits } from "claude-resilience"
 *
 * const requests: RateLimits.Quota = RateLimits.parse({ "anthropic-ratelimit-requests-remaining": "0" }).requests
 * Option.getOrUndefined(requests.remaining) // 0
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class Quota extends Schema.Class<Quota>("claude-resilience/RateLimits/Quota")({
  limit: Schema.Option(Schema.NonNegativeInt),
  remaining: Schema.Option(Schema.NonNegativeInt),
  reset: Schema.Option(Schema.DateTimeUtc)
}) {}

/**
 * Every quota the server reports on a response.
 *
 * @example
 * ```ts
 * import { RateLimits } from "claude-resilience"
 *
 * const snapshot: RateLimits.Snapshot = RateLimits.parse({ "anthropic-ratelimit-tokens-limit": "80000" })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class Snapshot extends Schema.Class<Snapshot>("claude-resilience/RateLimits/Snapshot")({
  requests: Quota,
  tokens: Quota,
  inputTokens: Quota,
  outputTokens: Quota,
  priorityInputTokens: Quota,
  priorityOutputTokens: Quota
}) {}

/**
 * The header prefix of each quota in a {@link Snapshot}.
 *
 * @example
 * ```ts
 * import { RateLimits } from "claude-resilience"
 *
 * RateLimits.headerPrefixes.inputTokens // "anthropic-ratelimit-input-tokens"
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const headerPrefixes: { readonly [K in keyof Snapshot]: string } = {
  requests: "anthropic-ratelimit-requests",
  tokens: "anthropic-ratelimit-tokens",
  inputTokens: "anthropic-ratelimit-input-tokens",
  outputTokens: "anthropic-ratelimit-output-tokens",
  priorityInputTokens: "anthropic-priority-input-tokens",
  priorityOutputTokens: "anthropic-priority-output-tokens"
}

const count = /^\d{1,15}$/

// RFC 3339 date-time, e.g. 2026-11-23T17:52:35Z or with a fraction and an offset
const rfc3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/

const parseCount = (value: string): Option.Option<number> =>
  count.test(value) ? Option.some(Number(value)) : Option.none()

// Built from the fields, not with the platform's date parser: that one rolls
// impossible dates over (31 Nov ⇒ 1 Dec, 24:00 ⇒ the next day), refuses the
// lowercase "z" RFC 3339 allows, and reads years below 100 as 19xx when the
// separator is a space.
const parseReset = (value: string): Option.Option<DateTime.Utc> => {
  const m = rfc3339.exec(value)
  if (m === null) return Option.none()
  const field = (group: number) => Number(m[group])
  const offsetHours = m[8] === undefined ? 0 : Number(m[9])
  const offsetMinutes = m[8] === undefined ? 0 : Number(m[10])
  if (offsetHours > 23 || offsetMinutes > 59) return Option.none()
  const offset = (m[8] === "-" ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000
  return utcMillis({
    year: field(1),
    month: field(2),
    day: field(3),
    hour: field(4),
    minute: field(5),
    second: field(6),
    // the fraction is kept to the millisecond
    millis: Number((m[7] ?? "").padEnd(3, "0").slice(0, 3))
  }).pipe(
    Option.flatMap((millis) => DateTime.make(millis - offset)),
    Option.map(DateTime.toUtc)
  )
}

const quota = (headers: Headers.HeadersInput, prefix: string): Quota => {
  const h = Headers.normalize(headers)
  return new Quota({
    limit: Option.flatMap(Headers.get(h, `${prefix}-limit`), parseCount),
    remaining: Option.flatMap(Headers.get(h, `${prefix}-remaining`), parseCount),
    reset: Option.flatMap(Headers.get(h, `${prefix}-reset`), parseReset)
  })
}

/**
 * A snapshot with every field `None`.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { RateLimits } from "claude-resilience"
 *
 * Option.isNone(RateLimits.empty.requests.limit) // true
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const empty: Snapshot = (() => {
  const none = new Quota({ limit: Option.none(), remaining: Option.none(), reset: Option.none() })
  return new Snapshot({
    requests: none,
    tokens: none,
    inputTokens: none,
    outputTokens: none,
    priorityInputTokens: none,
    priorityOutputTokens: none
  })
})()

/**
 * Reads the rate-limit headers of a response. Counts are non-negative
 * integers, resets are RFC 3339 date-times; a missing or garbage value is
 * `None`. Total: never throws.
 *
 * @example
 * ```ts
 * import { RateLimits } from "claude-resilience"
 *
 * const snapshot = RateLimits.parse({ "anthropic-ratelimit-requests-remaining": "0" })
 * snapshot.requests.remaining // Option.some(0)
 * ```
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (headers: Headers.HeadersInput): Snapshot => {
  const h = Headers.normalize(headers)
  return new Snapshot({
    requests: quota(h, headerPrefixes.requests),
    tokens: quota(h, headerPrefixes.tokens),
    inputTokens: quota(h, headerPrefixes.inputTokens),
    outputTokens: quota(h, headerPrefixes.outputTokens),
    priorityInputTokens: quota(h, headerPrefixes.priorityInputTokens),
    priorityOutputTokens: quota(h, headerPrefixes.priorityOutputTokens)
  })
}
