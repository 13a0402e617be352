/**
 * Reading response bodies under a byte cap: a whole body (JSON replies), or
 * one line at a time (JSONL). Past the cap the read stops and fails; the
 * platform's response stream aborts its request when its consumption ends,
 * so the connection is closed and memory stays bounded by the cap.
 *
 * @internal
 */
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

/** @internal */
export class TooLarge {
  readonly _tag = "TooLarge"
  constructor(readonly limit: number, readonly what: "body" | "line") {}
}

const concat = (parts: ReadonlyArray<Uint8Array>, size: number): Uint8Array => {
  if (parts.length === 1) return parts[0]!
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const part of parts) {
    bytes.set(part, offset)
    offset += part.length
  }
  return bytes
}

// without `stream`, a TextDecoder keeps no state between calls: one will do
const utf8 = new TextDecoder("utf-8", { fatal: false })

const decode = (bytes: Uint8Array): string => utf8.decode(bytes)

/**
 * The size of the body when the response declares it and the bytes read
 * are the bytes sent: a `content-length` of digits, and no
 * `content-encoding` (a client that decompresses, as `fetch` does, would
 * read more than the length says). `undefined` otherwise.
 */
const declaredLength = (response: HttpClientResponse.HttpClientResponse): number | undefined => {
  const headers = response.headers
  const encoding = headers["content-encoding"]
  if (encoding !== undefined && encoding.trim().toLowerCase() !== "identity") return undefined
  const length = headers["content-length"]
  return length !== undefined && /^\d{1,15}$/.test(length) ? Number(length) : undefined
}

/**
 * The whole body as text (UTF-8, a BOM dropped), failing with
 * {@link TooLarge} as soon as more than `maxBytes` bytes have arrived. A
 * response without a body reads as "".
 *
 * A body whose declared length (see `declaredLength`) is within the cap is
 * read at once with `response.arrayBuffer` (the HTTP framing stops the read
 * at that length); any other is read as a stream of chunks, counted as
 * they arrive.
 *
 * @internal
 */
export const text = (
  response: HttpClientResponse.HttpClientResponse,
  maxBytes: number
): Effect.Effect<string, HttpClientError.ResponseError | TooLarge> =>
  Effect.suspend(() => {
    const length = declaredLength(response)
    if (length !== undefined && length <= maxBytes) {
      return Effect.flatMap(response.arrayBuffer, (buffer) =>
        buffer.byteLength > maxBytes
          ? Effect.fail(new TooLarge(maxBytes, "body"))
          : Effect.succeed(decode(new Uint8Array(buffer))))
    }
    const parts: Array<Uint8Array> = []
    let size = 0
    return response.stream.pipe(
      Stream.runForEach((chunk) => {
        size += chunk.length
        if (size > maxBytes) return Effect.fail(new TooLarge(maxBytes, "body"))
        parts.push(chunk)
        return Effect.void
      }),
      Effect.catchIf(
        (error): error is HttpClientError.ResponseError => error._tag === "ResponseError" && error.reason === "EmptyBody",
        () => Effect.void
      ),
      Effect.map(() => decode(concat(parts, size)))
    )
  })

/**
 * Splits bytes into lines at LF (a trailing CR stays on the line; a last
 * line without LF is kept), each decoded as UTF-8, failing with
 * {@link TooLarge} as soon as one line holds more than `maxLineBytes` bytes.
 * Splitting bytes at 0x0A is safe in UTF-8: no multi-byte sequence contains
 * it.
 *
 * @internal
 */
export const lines = (maxLineBytes: number) =>
<E, R>(bytes: Stream.Stream<Uint8Array, E, R>): Stream.Stream<string, E | TooLarge, R> =>
  Stream.suspend(() => {
    let parts: Array<Uint8Array> = []
    let size = 0
    const split = (chunk: Uint8Array): Stream.Stream<string, TooLarge> => {
      const out: Array<string> = []
      let start = 0
      for (let lf = chunk.indexOf(10); lf !== -1; lf = chunk.indexOf(10, start)) {
        const part = chunk.subarray(start, lf)
        if (size + part.length > maxLineBytes) {
          return Stream.concat(Stream.fromIterable(out), Stream.fail(new TooLarge(maxLineBytes, "line")))
        }
        parts.push(part)
        out.push(decode(concat(parts, size + part.length)))
        parts = []
        size = 0
        start = lf + 1
      }
      const rest = chunk.subarray(start)
      size += rest.length
      if (rest.length > 0) parts.push(rest)
      return size > maxLineBytes
        ? Stream.concat(Stream.fromIterable(out), Stream.fail(new TooLarge(maxLineBytes, "line")))
        : Stream.fromIterable(out)
    }
    return Stream.concat(
      Stream.flatMap(bytes, split),
      Stream.suspend(() => size > 0 ? Stream.make(decode(concat(parts, size))) : Stream.empty)
    )
  })
