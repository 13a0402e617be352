/**
 * Option validation shared by the modules that take options (`RetryPolicy`,
 * `RetryBudget`, `CircuitBreaker`, `Claude`): how a rejected value is shown
 * in an error message, and how a `Duration.DurationInput` given by a user is
 * decoded without letting a negative or NaN input slip through as zero.
 *
 * Each module declares its options as a Schema built from the blocks below
 * and decodes them with {@link decodeOptions} into its settings, failing
 * with the one `Options.InvalidOptionsError`.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { InvalidOptionsError, type Problem } from "../Options.js"

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
export const describeValue = (value: unknown): string => {
  try {
    return describe(value, [])
  } catch {
    // a Proxy whose traps throw
    return typeof value
  }
}

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

// ---------------------------------------------------------------------------
// the options model: a Schema per module, decoded with every problem listed
// ---------------------------------------------------------------------------

/**
 * A duration option: any `Duration.DurationInput` (`"2 seconds"`, a number
 * of milliseconds, a `Duration`, …) decoded to a `Duration`. Negative, NaN
 * and unparsable input is refused (where `Duration.decode` would read it as
 * zero); `positive` refuses zero, `finite` refuses infinity, `max` is an
 * inclusive ceiling, `wholeMillis` refuses a fraction of a millisecond
 * (for a module that keeps its durations as integer milliseconds).
 *
 * @internal
 */
export const duration = (
  constraints: {
    readonly positive?: boolean | undefined
    readonly finite?: boolean | undefined
    readonly max?: Duration.Duration | undefined
    readonly wholeMillis?: boolean | undefined
  } = {}
): Schema.Schema<Duration.Duration, Duration.DurationInput> => {
  const expected = [
    constraints.positive === true ? "a duration above zero" : "a duration of zero or more",
    constraints.max !== undefined ? `of at most ${Duration.format(constraints.max)}` : undefined,
    constraints.finite === true && constraints.max === undefined ? "(finite)" : undefined,
    constraints.wholeMillis === true ? "in whole milliseconds" : undefined
  ].filter((part) => part !== undefined).join(" ")
  const message = (actual: unknown) =>
    `must be ${expected}, such as "2 seconds" or a number of milliseconds; got ${describeValue(actual)}`
  const accepts = (u: unknown): boolean => {
    const decoded = decodeDuration(u)
    if (Option.isNone(decoded)) return false
    const d = decoded.value
    if (constraints.positive === true && Duration.toMillis(d) <= 0) return false
    if (constraints.finite === true && !Duration.isFinite(d)) return false
    if (constraints.max !== undefined && Duration.greaterThan(d, constraints.max)) return false
    if (constraints.wholeMillis === true && !Number.isSafeInteger(Duration.toMillis(d))) return false
    return true
  }
  const input = Schema.declare((u: unknown): u is Duration.DurationInput => safely(accepts, u), {
    identifier: "DurationInput",
    message: (issue) => message(issue.actual)
  })
  return Schema.transform(input, Schema.DurationFromSelf, {
    strict: false,
    decode: (i) => Duration.decode(i),
    encode: (d) => d
  })
}

/** A predicate that throws (a hostile Proxy's traps) refuses the value: a problem at its path, never a throw. */
const safely = (is: (u: unknown) => boolean, u: unknown): boolean => {
  try {
    return is(u)
  } catch {
    return false
  }
}

/**
 * A number option: finite, within `[min, max]` (both inclusive unless
 * `minExclusive`; no ceiling but finiteness when `max` is absent), a safe
 * integer (below 2⁵³) when `integer` is set. One message names the whole range.
 *
 * @internal
 */
export const number = (constraints: {
  readonly min: number
  readonly max?: number | undefined
  readonly integer?: boolean | undefined
  readonly minExclusive?: boolean | undefined
}): Schema.Schema<number> => {
  const max = constraints.max
  // without a ceiling, say that the number must still be finite
  const kind = constraints.integer === true ? "an integer" : max === undefined ? "a finite number" : "a number"
  const range = constraints.minExclusive === true
    ? `above ${constraints.min}${max !== undefined ? ` to ${max}` : ""}`
    : max !== undefined
    ? `from ${constraints.min} to ${max}`
    : `of ${constraints.min} or more`
  const expected = `${kind} ${range}`
  return Schema.declare(
    (u: unknown): u is number =>
      typeof u === "number" && Number.isFinite(u) &&
      (constraints.minExclusive === true ? u > constraints.min : u >= constraints.min) &&
      (max === undefined || u <= max) &&
      (constraints.integer !== true || Number.isSafeInteger(u)),
    { identifier: "number", message: (issue) => `must be ${expected}, got ${describeValue(issue.actual)}` }
  )
}

/**
 * One of a few string literals, with one message that names them all.
 *
 * @internal
 */
export const literals = <const L extends ReadonlyArray<string>>(...values: L): Schema.Schema<L[number]> =>
  Schema.declare((u: unknown): u is L[number] => typeof u === "string" && values.includes(u), {
    identifier: values.map((v) => JSON.stringify(v)).join(" | "),
    message: (issue) =>
      `must be one of ${values.map((v) => JSON.stringify(v)).join(", ")}, got ${describeValue(issue.actual)}`
  })

/**
 * A value that satisfies `is`, described as `expected` in the message
 * (`"a function"`, `"a store with get and modify"`).
 *
 * @internal
 */
export const satisfying = <A>(expected: string, is: (u: unknown) => u is A): Schema.Schema<A> =>
  Schema.declare((u: unknown): u is A => safely(is, u), {
    identifier: expected,
    message: (issue) => `must be ${expected}, got ${describeValue(issue.actual)}`
  })

/**
 * A boolean option.
 *
 * @internal
 */
export const boolean: Schema.Schema<boolean> = satisfying(
  "true or false",
  (u): u is boolean => typeof u === "boolean"
)

/**
 * An optional field with a default: absent or `undefined` in the options,
 * the default in the settings.
 *
 * @internal
 */
export const withDefault = <A, I>(schema: Schema.Schema<A, I>, value: () => NoInfer<A>) =>
  Schema.optionalWith(schema, { default: value, exact: true })

/**
 * An optional field without a default: absent or `undefined` in the
 * options, absent in the settings (the module decides what absence means).
 *
 * @internal
 */
export const optional = <A, I>(schema: Schema.Schema<A, I>) => Schema.optionalWith(schema, { exact: true })

/**
 * What a user writes for options whose Schema's encoded side is `O`: every
 * key optional and admitting `undefined`, which {@link decodeOptions} reads
 * as absent, so that a caller under `exactOptionalPropertyTypes` may pass a
 * value that is maybe there (`{ maxRetries: config.retries }`). One level
 * deep: a nested part is typed by its own module's options type.
 *
 * @internal
 */
export type Input<O> = { readonly [K in keyof O]?: O[K] | undefined }

/** A plain object (`{}` or `Object.create(null)`), never a throw. @internal */
export const isPlainObject = (u: unknown): u is Record<string, unknown> => {
  try {
    if (typeof u !== "object" || u === null || Array.isArray(u)) return false
    const proto = Object.getPrototypeOf(u)
    return proto === Object.prototype || proto === null
  } catch {
    // a Proxy whose getPrototypeOf trap throws is no options object
    return false
  }
}

/**
 * A copy of plain options objects (nested ones included) without the keys
 * whose value is `undefined`, reading each key once. A key whose getter
 * throws (or a Proxy that throws) becomes a problem at its path.
 */
const readPlain = (
  input: Record<string, unknown>,
  path: ReadonlyArray<string>,
  problems: Array<Problem>
): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  let keys: ReadonlyArray<string>
  try {
    keys = Object.keys(input)
  } catch {
    problems.push({ path: path.join("."), message: "could not be read (its keys threw)" })
    return out
  }
  for (const key of keys) {
    let value: unknown
    try {
      value = input[key]
    } catch {
      problems.push({ path: [...path, key].join("."), message: "could not be read (its getter threw)" })
      continue
    }
    if (value === undefined) continue
    out[key] = isPlainObject(value) ? readPlain(value, [...path, key], problems) : value
  }
  return out
}

const UNEXPECTED = /^is unexpected, expected: (.*)$/

const editDistance = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1))
      previous = current
    }
  }
  return row[b.length]!
}

const unknownOption = (key: string, expected: string): string => {
  const known = expected.split(" | ").map((k) => k.replace(/^"|"$/g, ""))
  const close = known
    .map((k) => [k, editDistance(key.toLowerCase(), k.toLowerCase())] as const)
    .filter(([, d]) => d <= Math.max(1, Math.floor(key.length / 3)))
    .sort((a, b) => a[1] - b[1])[0]
  return `is not an option${close !== undefined ? ` (did you mean "${close[0]}"?)` : ""}; the options are ${
    known.join(", ")
  }`
}

/**
 * Decodes a module's options with its Schema into its settings: every
 * problem listed (unknown keys included), `undefined` read as absent,
 * never a throw. `undefined` options are `{}`; anything but a plain object
 * is one problem at the path `""`.
 *
 * @internal
 */
export const decodeOptions = <A, I>(module: string, schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknownEither(schema, { errors: "all", onExcessProperty: "error" })
  return (input: unknown): Either.Either<A, InvalidOptionsError> => {
    if (input !== undefined && !isPlainObject(input)) {
      return Either.left(
        InvalidOptionsError.of(module, [{ path: "", message: `options must be an object, got ${describeValue(input)}` }])
      )
    }
    const problems: Array<Problem> = []
    const plain = input === undefined ? {} : readPlain(input, [], problems)
    let result: Either.Either<A, ParseResult.ParseError>
    try {
      result = decode(plain)
    } catch (error) {
      problems.push({ path: "", message: `could not be read: ${describeValue(String(error)).slice(0, 200)}` })
      return Either.left(InvalidOptionsError.of(module, problems))
    }
    if (Either.isLeft(result)) {
      for (const issue of ParseResult.ArrayFormatter.formatErrorSync(result.left)) {
        const path = issue.path.map(String).join(".")
        const unexpected = issue._tag === "Unexpected" ? UNEXPECTED.exec(issue.message) : null
        const message = unexpected !== null
          ? unknownOption(String(issue.path[issue.path.length - 1] ?? ""), unexpected[1]!)
          : issue.message
        if (!problems.some((p) => p.path === path && p.message === message)) problems.push({ path, message })
      }
    }
    return problems.length > 0 || Either.isLeft(result)
      ? Either.left(InvalidOptionsError.of(module, problems))
      : Either.right(result.right)
  }
}
