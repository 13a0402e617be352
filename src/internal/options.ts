/**
 * Option validation shared by every module that takes options (the policy
 * modules, `RateLimits`, the Redis layers, `Claude`, `Continuation`, the
 * adapters, `Simulation`): how a
 * `Duration.DurationInput` given by a user is decoded without letting a
 * negative or NaN input slip through as zero, and the options model.
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
import { closest, describeValue } from "./text.js"

/**
 * How a rejected value is shown in a message: see `internal/text`. Exported
 * here too for the modules that read it from the options helpers.
 *
 * @internal
 */
export { describeValue } from "./text.js"

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
 * zero); `positive` refuses zero, `finite` refuses infinity, `min` and
 * `max` are inclusive bounds, `wholeMillis` refuses a fraction of a millisecond
 * (for a module that keeps its durations as integer milliseconds).
 *
 * @internal
 */
export const duration = (
  constraints: {
    readonly positive?: boolean | undefined
    readonly finite?: boolean | undefined
    readonly min?: Duration.Duration | undefined
    readonly max?: Duration.Duration | undefined
    readonly wholeMillis?: boolean | undefined
  } = {}
): Schema.Schema<Duration.Duration, Duration.DurationInput> => {
  const { max, min } = constraints
  const range = min !== undefined && max !== undefined
    ? `a duration from ${Duration.format(min)} to ${Duration.format(max)}`
    : min !== undefined
    ? `a duration of at least ${Duration.format(min)}`
    : constraints.positive === true
    ? `a duration above zero${max !== undefined ? ` and at most ${Duration.format(max)}` : ""}`
    : max !== undefined
    ? `a duration from zero to ${Duration.format(max)}`
    : "a duration of zero or more"
  const expected = range +
    (constraints.finite === true && max === undefined ? " (finite)" : "") +
    (constraints.wholeMillis === true ? ", in whole milliseconds" : "")
  const message = (actual: unknown) =>
    `must be ${expected}, such as "2 seconds" or a number of milliseconds; got ${describeValue(actual)}`
  const accepts = (u: unknown): boolean => {
    const decoded = decodeDuration(u)
    if (Option.isNone(decoded)) return false
    const d = decoded.value
    if (constraints.positive === true && Duration.toMillis(d) <= 0) return false
    if (constraints.finite === true && !Duration.isFinite(d)) return false
    if (constraints.min !== undefined && Duration.lessThan(d, constraints.min)) return false
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
export const satisfying = <A>(
  expected: string,
  is: (u: unknown) => u is A,
  describe: (u: unknown) => string = describeValue
): Schema.Schema<A> =>
  Schema.declare((u: unknown): u is A => safely(is, u), {
    identifier: expected,
    message: (issue) => `must be ${expected}, got ${describe(issue.actual)}`
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

const unknownOption = (key: string, expected: string): string => {
  const known = expected.split(" | ").map((k) => k.replace(/^"|"$/g, ""))
  const close = closest(key, known)
  return `is not an option${close !== undefined ? ` (did you mean "${close}"?)` : ""}; the options are ${
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
