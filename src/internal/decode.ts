/**
 * Decoding bodies from the wire, total and bounded: `JSON.parse`, then the
 * Schema, each inside a `try` (a stack overflow or any other exception is a
 * failure value, never a defect), and a parse error described by a formatter
 * whose work and output are bounded: it follows one path of the issue tree
 * to a depth of at most 32 and describes the value found there by its kind
 * and size, never by printing it. Effect's `TreeFormatter` prints the whole
 * actual value, recursively: a few kilobytes of nested arrays overflow the
 * stack there, and a large value makes a large message.
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as AST from "effect/SchemaAST"
import * as Schema from "effect/Schema"
import { clip, plural } from "./text.js"

const maxDepth = 32
const maxMessage = 500


/** The value's kind and size, never its contents beyond a short string prefix. @internal */
export const preview = (u: unknown): string => {
  if (typeof u === "string") return u.length > 40 ? `a string of ${u.length} characters` : JSON.stringify(u)
  if (u === null || u === undefined || typeof u === "number" || typeof u === "boolean") return String(u)
  if (Array.isArray(u)) return `an array of ${plural(u.length, "element")}`
  if (typeof u === "object") {
    const keys = Object.keys(u)
    const shown = keys.slice(0, 5).map((key) => JSON.stringify(clip(key, 30))).join(", ")
    return keys.length === 0 ? "an empty object" : `an object with keys ${shown}${keys.length > 5 ? ", …" : ""}`
  }
  return typeof u
}

const pathText = (path: ReadonlyArray<PropertyKey>): string =>
  path.slice(0, maxDepth).map((key) =>
    typeof key === "number" ? `[${key}]` : `[${JSON.stringify(clip(String(key), 40))}]`
  ).join("") + (path.length > maxDepth ? "…" : "")

const astText = (ast: unknown): string => {
  try {
    return clip(String(ast), 120)
  } catch {
    return "the expected type"
  }
}

/**
 * The schema's own message for an issue (a `message` annotation), when it
 * gives a plain string. Called inside a `try`: it is the schema author's
 * code, run on a value from the wire.
 */
const annotated = (issue: ParseResult.ParseIssue): { readonly message: string; readonly override: boolean } | undefined => {
  if (!("ast" in issue)) return undefined
  const annotation = AST.getMessageAnnotation(issue.ast)
  if (Option.isNone(annotation)) return undefined
  try {
    const message: unknown = annotation.value(issue)
    if (typeof message === "string") return { message: clip(message, 300), override: false }
    if (Predicate.hasProperty(message, "message") && typeof message.message === "string") {
      return {
        message: clip(message.message, 300),
        override: Predicate.hasProperty(message, "override") && message.override === true
      }
    }
  } catch {
    // fall back to the generic description
  }
  return undefined
}

/**
 * One line describing a parse issue: where (the path) and what (expected,
 * found), bounded in depth and length.
 *
 * @internal
 */
export const formatIssue = (issue: ParseResult.ParseIssue): string => {
  const path: Array<PropertyKey> = []
  let more = 0
  let current: ParseResult.ParseIssue = issue
  let leaf = "does not match its schema"
  for (let depth = 0; depth < maxDepth; depth++) {
    // the schema's own message, by Effect's TreeFormatter rule: an
    // annotation on a composite, a refinement's "From" side or a
    // transformation's ends gives way to the inner one unless it overrides
    const custom = annotated(current)
    const inner = current._tag === "Composite" ||
      (current._tag === "Refinement" && current.kind === "From") ||
      (current._tag === "Transformation" && current.kind !== "Transformation")
    if (custom !== undefined && (custom.override || !inner)) {
      leaf = custom.message
      break
    }
    if (current._tag === "Pointer") {
      if (Array.isArray(current.path)) path.push(...(current.path as ReadonlyArray<PropertyKey>))
      else path.push(current.path as PropertyKey)
      current = current.issue
      continue
    }
    if (current._tag === "Composite") {
      const issues: ParseResult.ParseIssue | ReadonlyArray<ParseResult.ParseIssue> = current.issues
      if (Array.isArray(issues)) {
        more += issues.length - 1
        current = issues[0]!
      } else {
        current = issues as ParseResult.ParseIssue
      }
      continue
    }
    if (current._tag === "Transformation" || current._tag === "Refinement") {
      current = current.issue
      continue
    }
    switch (current._tag) {
      case "Type":
        leaf = current.message !== undefined
          ? clip(current.message, 200)
          : `expected ${astText(current.ast)}, got ${preview(current.actual)}`
        break
      case "Missing":
        leaf = "is missing"
        break
      case "Unexpected":
        leaf = "is unexpected"
        break
      case "Forbidden":
        leaf = "could not be decoded here"
        break
    }
    break
  }
  const where = path.length === 0 ? "the value" : pathText(path)
  return clip(`${where} ${leaf}${more > 0 ? ` (and ${plural(more, "other issue")})` : ""}`, maxMessage)
}

/**
 * Parses JSON text. Total: a text that is not JSON (or nests deep enough to
 * overflow the stack) is a `Left` with the parser's reason, at most 200
 * characters.
 *
 * @internal
 */
export const parseJson = (text: string): Either.Either<unknown, string> =>
  Either.try({
    try: (): unknown => JSON.parse(text),
    catch: (error) => clip(error instanceof Error ? error.message : String(error), 200)
  })

/**
 * Decodes a value already parsed from JSON with the schema (the decoder
 * built once). Total: every failure, thrown or not, is a `Left` with a
 * bounded description.
 *
 * @internal
 */
export const value = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknownEither(schema)
  return (value: unknown): Either.Either<A, string> => {
    try {
      return Either.mapLeft(decode(value, { errors: "first" }), (error) => formatIssue(error.issue))
    } catch (error) {
      return Either.left(`could not be decoded (${error instanceof Error ? error.name : "an exception"})`)
    }
  }
}

/**
 * Parses JSON text and decodes it with the schema (the decoder built once).
 * Total: every failure, thrown or not, is a `Left` with a bounded
 * description.
 *
 * @internal
 */
export const json = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = value(schema)
  return (text: string): Either.Either<A, string> => {
    const parsed = parseJson(text)
    return Either.isLeft(parsed) ? Either.left(`not JSON (${parsed.left})`) : decode(parsed.right)
  }
}
