/**
 * Header access shared by the decoders: names in any case, plain records or
 * `@effect/platform` `Headers`.
 *
 * @internal
 */
import * as Headers from "@effect/platform/Headers"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"

/** @internal */
export type HeadersInput = Headers.Input | Headers.Headers

/**
 * Reads headers from untrusted input. `undefined` is no headers; anything
 * that is not an object (`null`, a string, a number), and an object that
 * throws while it is read (a getter, a `Proxy`), is no headers too, with the
 * problem named in `Left`. Never throws.
 *
 * @internal
 */
export const read = (input: unknown): Either.Either<Headers.Headers, string> => {
  if (input === undefined) return Either.right(Headers.empty)
  if (!Predicate.isObject(input)) {
    return Either.left(`not a record or Headers (got ${input === null ? "null" : `a ${typeof input}`})`)
  }
  return Either.try({
    try: () => (Headers.isHeaders(input) ? input : Headers.fromInput(input as Headers.Input)),
    catch: () => "they threw while being read"
  })
}

/** @internal */
export const normalize = (input: HeadersInput | undefined): Headers.Headers =>
  Either.getOrElse(read(input), () => Headers.empty)

/** @internal */
export const get = (headers: Headers.Headers, name: string): Option.Option<string> => {
  // a record from untyped code may carry a non-string value, or a getter that
  // throws: treat either as absent
  const value: Option.Option<unknown> = Either.getOrElse(
    Either.try((): Option.Option<unknown> => Headers.get(headers, name)),
    () => Option.none()
  )
  return value.pipe(Option.filter(Predicate.isString), Option.map((value) => value.trim()))
}
