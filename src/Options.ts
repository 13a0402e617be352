/**
 * The one error every module of this library fails with when it is given
 * options it cannot use: which module, and every problem found, each at its
 * path in the options object.
 *
 * Options are checked in full before anything is built: a misspelt key
 * (`longRequests: "strem"`, `maxRetires: 3`), a value of the wrong type, a
 * number out of its range and a duration that is negative or unparsable are
 * all reported at once, never ignored, and never thrown (JavaScript callers
 * passing `null`, a string or an object with a throwing getter get the same
 * typed error).
 *
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { Continuation, type Options } from "claude-resilience"
 *
 * const checked = Continuation.settings({ maxContinuations: -1, strem: true } as Continuation.Options)
 * if (Either.isLeft(checked)) {
 *   const error: Options.InvalidOptionsError = checked.left
 *   error.module // "Continuation"
 *   error.problems.map((p) => p.path) // ["maxContinuations", "strem"]
 * }
 * ```
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"

/**
 * One problem with the options: where (`"maxRetries"`, `"breaker.window"`,
 * `""` for the options object itself) and what is wrong with the value there.
 *
 * @since 0.2.0
 * @category models
 */
export const Problem = Schema.Struct({
  path: Schema.String,
  message: Schema.String
})

/**
 * @since 0.2.0
 * @category models
 */
export type Problem = typeof Problem.Type

/**
 * The options given to a constructor or layer of `module` are not valid.
 * `problems` lists every one found; `message` says them all in one line.
 * Nothing was built and nothing was sent.
 *
 * @since 0.2.0
 * @category errors
 */
export class InvalidOptionsError extends Schema.TaggedError<InvalidOptionsError>()("InvalidOptionsError", {
  /** The module whose options were rejected: `"RetryPolicy"`, `"CircuitBreaker"`, `"Claude"`, … */
  module: Schema.String,
  problems: Schema.Array(Problem),
  message: Schema.String
}) {
  /**
   * Builds the error, with a message that lists every problem.
   *
   * @since 0.2.0
   */
  static of(module: string, problems: ReadonlyArray<Problem>): InvalidOptionsError {
    const listed = problems.map((p) => (p.path === "" ? p.message : `${p.path}: ${p.message}`)).join("; ")
    return new InvalidOptionsError({ module, problems, message: `Invalid ${module} options: ${listed}` })
  }
}

/**
 * Whether a value is an {@link InvalidOptionsError}.
 *
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { Continuation, Options } from "claude-resilience"
 *
 * const result = Continuation.settings({ maxContinuations: -1 })
 * Either.isLeft(result) && Options.isInvalidOptionsError(result.left) // true
 * ```
 *
 * @since 0.2.0
 * @category guards
 */
export const isInvalidOptionsError = (u: unknown): u is InvalidOptionsError => u instanceof InvalidOptionsError
