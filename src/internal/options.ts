/**
 * Option validation shared by the modules that take options (`RetryPolicy`,
 * `RetryBudget`, `CircuitBreaker`, `Claude`): how a rejected value is shown
 * in an error message, and how a `Duration.DurationInput` given by a user is
 * decoded without letting a negative or NaN input slip through as zero.
 *
 * Each module keeps its own error class, option names and constraints; only
 * these helpers are shared.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"

/**
 * A short, readable rendering of an option's value for an error message:
 * strings JSON-quoted, numbers and booleans as written, a bigint as `5n`, a
 * `Duration` formatted (`"1s 500ms"`, `"Infinity"`), arrays item by item,
 * `null` as `null`, a function as `a function`, anything else by its
 * `typeof` (an object's contents are never printed). Never throws: an array
 * that contains itself is shown as `[…]` where it recurs.
 *
 * @internal
 */
export const describeValue = (value: unknown): string => describe(value, [])

const describe = (value: unknown, enclosing: ReadonlyArray<unknown>): string => {
  if (typeof value === "string") return JSON.stringify(value)
  if (typeof value === "number" || typeof value === "boolean") return String(value)
  if (typeof value === "bigint") return `${value}n`
  if (typeof value === "function") return "a function"
  if (value === null) return "null"
  if (Duration.isDuration(value)) return Duration.format(value)
  if (Array.isArray(value)) {
    if (enclosing.includes(value)) return "[…]"
    const inner = [...enclosing, value]
    return `[${value.map((item) => describe(item, inner)).join(", ")}]`
  }
  return typeof value
}

// the number a `"<number> <unit>"` string starts with, as `Duration.decode` reads it
const LEADING_NUMBER = /^\s*(-?\d+(?:\.\d+)?)/

const isNegativeNumber = (n: unknown): boolean => typeof n === "number" && (Number.isNaN(n) || n < 0)

/**
 * Whether a would-be `Duration.DurationInput` is negative or NaN, which
 * `Duration.decode` would silently turn into a zero duration: NaN, a negative
 * number (`-Infinity` included), a negative bigint, a string whose number is
 * negative (`"-5 seconds"`), or a `[seconds, nanos]` pair with a NaN or
 * negative part. Anything else (including input that is no duration at all)
 * is `false`; `-0` is not negative.
 *
 * @internal
 */
export const isNegativeDurationInput = (input: unknown): boolean => {
  if (typeof input === "number") return isNegativeNumber(input)
  if (typeof input === "bigint") return input < BigInt(0)
  if (typeof input === "string") {
    const match = LEADING_NUMBER.exec(input)
    return match !== null && Number(match[1]) < 0
  }
  if (Array.isArray(input) && input.length === 2) return input.some(isNegativeNumber)
  return false
}

/**
 * Decodes a user's duration option. `None` for input that is negative or NaN
 * (see {@link isNegativeDurationInput}) or that `Duration.decodeUnknown` does
 * not accept; otherwise the duration, which is never negative and may be
 * zero or infinite (each caller applies its own bounds). Never throws.
 *
 * @internal
 */
export const decodeDuration = (input: unknown): Option.Option<Duration.Duration> =>
  isNegativeDurationInput(input) ? Option.none() : Duration.decodeUnknown(input)
