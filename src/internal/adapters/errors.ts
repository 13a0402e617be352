/**
 * The adapters' own error, in a module of its own: `Resilience` re-exports
 * it, and the adapters import `Resilience`.
 *
 * @internal
 */
import * as Schema from "effect/Schema"

/**
 * A call to a `Resilience.fetch` adapter that was disposed (`dispose()`),
 * before the call or while it ran. Nothing more was sent.
 *
 * @internal
 */
export class FetchDisposedError extends Schema.TaggedError<FetchDisposedError>()("FetchDisposedError", {
  message: Schema.String
}) {}
