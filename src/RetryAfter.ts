/**
 * Parsing of the `retry-after-ms` and `retry-after` response headers.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import { utcMillis } from "./internal/dates.js"
import * as Headers from "./internal/headers.js"

/**
 * Anything that carries response headers: a plain record (names in any case)
 * or `@effect/platform` `Headers`.
 *
 * @since 0.1.0
 * @category models
 */
export type HeadersInput = Headers.HeadersInput

const decimal = /^\d+(?:\.\d+)?$/

const parseDecimal = (value: string): Option.Option<number> =>
  decimal.test(value) ? Option.some(Number(value)) : Option.none()

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const

// RFC 9110 §5.6.7: IMF-fixdate, the obsolete RFC 850 form and asctime.
const imfFixdate = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/
const rfc850 = /^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/
const asctime = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ( \d|\d{2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/

const toEpoch = (
  year: number,
  monthName: string,
  day: number,
  hour: number,
  minute: number,
  second: number
): Option.Option<number> =>
  utcMillis({ year, month: (MONTHS as ReadonlyArray<string>).indexOf(monthName) + 1, day, hour, minute, second })

/**
 * Parses an HTTP-date (RFC 9110: IMF-fixdate, RFC 850 or asctime) to epoch
 * milliseconds. A two-digit RFC 850 year is the year with those digits that
 * lies within 50 years of `now` (one more than 50 years ahead is read as the
 * previous century, as the RFC asks), so dates across a century boundary
 * read right.
 *
 * @example
 * ```ts
 * import { RetryAfter } from "claude-resilience"
 *
 * const now = Date.UTC(2026, 10, 23, 17, 0, 0)
 * RetryAfter.parseHttpDate("Mon, 23 Nov 2026 17:00:20 GMT", now) // Option.some(now + 20_000)
 * ```
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseHttpDate = (value: string, now: number): Option.Option<number> => {
  let m = imfFixdate.exec(value)
  if (m !== null) {
    return toEpoch(Number(m[4]), m[3]!, Number(m[2]), Number(m[5]), Number(m[6]), Number(m[7]))
  }
  m = rfc850.exec(value)
  if (m !== null) {
    const nowYear = new Date(now).getUTCFullYear()
    const yy = Number(m[4])
    // the year with these two digits within (nowYear - 50, nowYear + 50]
    let year = Math.floor(nowYear / 100) * 100 + yy
    if (year > nowYear + 50) year -= 100
    else if (year <= nowYear - 50) year += 100
    return toEpoch(year, m[3]!, Number(m[2]), Number(m[5]), Number(m[6]), Number(m[7]))
  }
  m = asctime.exec(value)
  if (m !== null) {
    return toEpoch(Number(m[7]), m[2]!, Number(m[3]!.trim()), Number(m[4]), Number(m[5]), Number(m[6]))
  }
  return Option.none()
}

/**
 * Reads how long the server asks the client to wait.
 *
 * - `retry-after-ms` (milliseconds) wins when it parses; a garbage value
 *   falls back to `retry-after`.
 * - `retry-after` is decimal seconds (`"20"`, `"1.5"`; no sign, no exponent)
 *   or an HTTP-date, measured from `now` (epoch milliseconds); a date at or
 *   before `now` is a wait of zero.
 * - Huge values are kept as they are: the retry policy decides what to do
 *   with a wait longer than its budget.
 * - Anything else (negative, empty, garbage) is `None`. Total: never throws,
 *   whatever it is given: headers that are not a record (`null`, a string)
 *   or that throw while read count as none, and an HTTP-date needs a finite
 *   `now`.
 *
 * @example
 * ```ts
 * import { RetryAfter } from "claude-resilience"
 *
 * RetryAfter.parse({ "Retry-After": "20" }, Date.now()) // Option.some(Duration.seconds(20))
 * ```
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (headers: HeadersInput, now: number): Option.Option<Duration.Duration> => {
  const normalized = Headers.normalize(headers)
  const fromMs = Headers.get(normalized, "retry-after-ms").pipe(
    Option.flatMap(parseDecimal),
    Option.map(Duration.millis)
  )
  if (Option.isSome(fromMs)) return fromMs
  return Headers.get(normalized, "retry-after").pipe(
    Option.flatMap((value) =>
      parseDecimal(value).pipe(
        Option.map(Duration.seconds),
        Option.orElse(() =>
          // a `now` from untyped code that is no finite number cannot measure a date
          (typeof now === "number" && Number.isFinite(now) ? parseHttpDate(value, now) : Option.none()).pipe(
            Option.map((at) => Duration.millis(Math.max(0, at - now)))
          )
        )
      )
    )
  )
}
