/**
 * Header access shared by the decoders: names in any case, plain records or
 * `@effect/platform` `Headers`.
 *
 * @internal
 */
import * as Headers from "@effect/platform/Headers"
import * as Option from "effect/Option"

/** @internal */
export type HeadersInput = Headers.Input | Headers.Headers

/** @internal */
export const normalize = (input: HeadersInput | undefined): Headers.Headers =>
  input === undefined ? Headers.empty : Headers.isHeaders(input) ? input : Headers.fromInput(input)

/** @internal */
export const get = (headers: Headers.Headers, name: string): Option.Option<string> =>
  // a record from untyped code may carry a non-string value: treat it as absent
  Headers.get(headers, name).pipe(
    Option.filter((value: unknown) => typeof value === "string"),
    Option.map((value) => value.trim())
  )
