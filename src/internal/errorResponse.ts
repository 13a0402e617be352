/**
 * Reading an error response for `ApiError`'s decoder: the body's envelope
 * (documented, wrapper-less or neither), the input of `fromResponse` as an
 * untyped caller may give it, and the one-line message of the error, every
 * string from the wire scrubbed and bounded. See
 * https://docs.anthropic.com/en/api/errors for the envelope.
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import { parseJson } from "./decode.js"
import { excerpt } from "./excerpt.js"
import * as Headers from "./headers.js"
import { clip, describeValue, scrub } from "./text.js"

const MAX_SERVER_MESSAGE = 2000

export interface ParsedBody {
  readonly errorType: Option.Option<string>
  readonly serverMessage: Option.Option<string>
  readonly requestId: Option.Option<string>
  readonly shape: "envelope" | "flat" | "json" | "text" | "empty"
}

const nonEmptyString = (u: unknown): Option.Option<string> =>
  typeof u === "string" && u.length > 0 ? Option.some(u) : Option.none()

// strip the characters a hostile body could use to forge, hide or reorder log lines
export const cleanMessage = (message: string): string => clip(scrub(message).trim(), MAX_SERVER_MESSAGE)

// a request id is echoed into messages and logs: no control characters, and
// one that is nothing but control characters is no request id
export const cleanRequestId = (u: unknown): Option.Option<string> =>
  nonEmptyString(u).pipe(Option.map(cleanMessage), Option.filter((id) => id.length > 0))

export const parseBody = (body: string): ParsedBody => {
  if (body.trim().length === 0) {
    return { errorType: Option.none(), serverMessage: Option.none(), requestId: Option.none(), shape: "empty" }
  }
  const json = Either.getRight(parseJson(body))
  if (Option.isNone(json)) {
    return { errorType: Option.none(), serverMessage: Option.none(), requestId: Option.none(), shape: "text" }
  }
  const value = json.value
  if (Predicate.isRecord(value) && Predicate.isRecord(value.error)) {
    // the documented envelope (or the same without its `type: "error"`)
    return {
      errorType: nonEmptyString(value.error.type),
      serverMessage: nonEmptyString(value.error.message).pipe(Option.map(cleanMessage)),
      requestId: cleanRequestId(value.request_id),
      shape: "envelope"
    }
  }
  if (Predicate.isRecord(value) && typeof value.type === "string" && value.type !== "error") {
    // wrapper-less: the edge's `{"type":"request_too_large","message":…}`
    return {
      errorType: nonEmptyString(value.type),
      serverMessage: nonEmptyString(value.message).pipe(Option.map(cleanMessage)),
      requestId: cleanRequestId(value.request_id),
      shape: "flat"
    }
  }
  return { errorType: Option.none(), serverMessage: Option.none(), requestId: Option.none(), shape: "json" }
}

export const parseShouldRetry = (value: string): Option.Option<boolean> => {
  const lower = value.toLowerCase()
  return lower === "true" ? Option.some(true) : lower === "false" ? Option.some(false) : Option.none()
}

export const describe = (
  head: string,
  errorType: Option.Option<string>,
  requestId: Option.Option<string>,
  serverMessage: Option.Option<string>,
  parsed: ParsedBody,
  body: string,
  problems: ReadonlyArray<string>
): string => {
  // the raw type is kept on the error; the message gets a clean copy
  const type = Option.map(errorType, cleanMessage).pipe(Option.filter((t) => t.length > 0))
  const typePart = Option.getOrElse(type, () => "(no error type)")
  const id = Option.match(requestId, { onNone: () => "", onSome: (id) => ` (request ${id})` })
  const detail = Option.match(serverMessage, {
    onSome: (message) => `: ${message}`,
    onNone: () =>
      parsed.shape === "empty"
        ? ": empty body"
        : parsed.shape === "text"
        ? `: non-JSON body of ${body.length} characters${
          Option.match(excerpt(body), { onNone: () => "", onSome: (text) => `: "${text}"` })
        }`
        : parsed.shape === "json"
        ? `: JSON body not in the Claude error format`
        : ""
  })
  const ignored = problems.length === 0 ? "" : ` [input ignored: ${problems.join("; ")}]`
  return `${head} ${typePart}${id}${detail}${ignored}`
}

export interface ReadInput {
  readonly status: Either.Either<number, string>
  readonly headers: ReturnType<typeof Headers.normalize>
  readonly body: string
  readonly now: number
  readonly problems: ReadonlyArray<string>
}

/** Reads `fromResponse`'s input from whatever it is given, never throwing. */
export const readInput = (input: unknown): ReadInput => {
  const problems: Array<string> = []
  const isRecord = Predicate.isRecord(input)
  if (!isRecord) problems.push(`the input is not an object (got ${describeValue(input)})`)
  const field = (name: string): unknown =>
    isRecord
      ? Either.getOrElse(Either.try(() => (input as { readonly [key: string]: unknown })[name]), () => {
        problems.push(`${name} threw when read`)
        return undefined
      })
      : undefined
  const rawStatus = field("status")
  const status: Either.Either<number, string> = typeof rawStatus === "number" && Number.isSafeInteger(rawStatus)
    ? Either.right(rawStatus === 0 ? 0 : rawStatus) // never -0
    : typeof rawStatus === "string" && /^\s*\d{1,15}\s*$/.test(rawStatus)
    ? Either.right(Number(rawStatus.trim()))
    : Either.left(describeValue(rawStatus))
  const headers = Either.getOrElse(Headers.read(field("headers")), (problem) => {
    problems.push(`headers: ${problem}`)
    return Headers.normalize(undefined)
  })
  const rawBody = field("body")
  if (rawBody !== undefined && rawBody !== null && typeof rawBody !== "string") {
    problems.push(`body: not a string (got ${describeValue(rawBody)})`)
  }
  const rawNow = field("now")
  if (rawNow !== undefined && !(typeof rawNow === "number" && Number.isFinite(rawNow))) {
    problems.push(`now: not a finite number (got ${describeValue(rawNow)}), the system clock was read`)
  }
  return {
    status,
    headers,
    body: typeof rawBody === "string" ? rawBody : "",
    now: typeof rawNow === "number" && Number.isFinite(rawNow) ? rawNow : Date.now(),
    problems
  }
}

export const sanitizeUrl = (url: string): string => {
  if (!URL.canParse(url)) return cleanMessage(url).slice(0, 200)
  const parsed = new URL(url)
  parsed.username = ""
  parsed.password = ""
  return parsed.toString()
}

export const causeMessage = (cause: unknown): string => {
  if (Predicate.hasProperty(cause, "message") && typeof cause.message === "string") {
    const code = Predicate.hasProperty(cause, "code") && typeof cause.code === "string" ? `${cause.code}: ` : ""
    return cleanMessage(`${code}${cause.message}`)
  }
  return "no detail"
}
