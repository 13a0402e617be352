/**
 * Calendar fields to a UTC instant, for the dates read from response headers
 * (`retry-after` HTTP-dates, `anthropic-ratelimit-*-reset` RFC 3339
 * date-times).
 *
 * @internal
 */
import * as Option from "effect/Option"

/**
 * The epoch milliseconds of a UTC date and time, or `None` when the fields
 * name no such instant: a month outside 1–12, an hour past 23, a minute past
 * 59, a second past 60, or a day the month does not have (31 November, 29
 * February of a common year). A leap second (`:60`) reads as the second
 * before it. Built with the `Date` setters, not `Date.UTC` (which reads the
 * years 0–99 as 1900–1999) nor the platform's date parser (which rolls
 * impossible dates over).
 *
 * @internal
 */
export const utcMillis = (fields: {
  readonly year: number
  /** 1 to 12. */
  readonly month: number
  readonly day: number
  readonly hour: number
  readonly minute: number
  readonly second: number
  readonly millis?: number | undefined
}): Option.Option<number> => {
  const { day, hour, minute, month, second, year } = fields
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return Option.none()
  }
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  date.setUTCHours(hour, minute, Math.min(second, 59), fields.millis ?? 0)
  // a day the month does not have rolls over into the next month: refuse it
  return date.getUTCDate() === day ? Option.some(date.getTime()) : Option.none()
}
