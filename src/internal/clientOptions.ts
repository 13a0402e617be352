/**
 * What the client's options are made of, each a Schema for the options
 * model (`Claude.Options` puts them together): the API key (a `Redacted`
 * string of visible ASCII, never printed), the base URL (http(s), its user
 * info split off as Basic credentials, never printed), the header tokens
 * (`apiVersion`, `beta`), the retry policy (its options or a built policy)
 * and `transformClient`.
 *
 * @internal
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import { identity } from "effect/Function"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type { BasicAuth } from "../Claude.js"
import * as RetryPolicy from "../RetryPolicy.js"
import { describeValue } from "./options.js"
import { describeUrl } from "./text.js"

/** @internal */
export const defaultBaseUrl = "https://api.anthropic.com"

/** The largest `maxResponseBytes` allowed: its text must stay well below V8's longest string. @internal */
export const maxResponseBytesLimit = 256 * 1024 * 1024

const apiKeyValue = /^[\x21-\x7e]+$/
const token = /^[A-Za-z0-9._-]+$/

/** A check that throws (a hostile Proxy) refuses the value. @internal */
export const safely = (check: () => boolean): boolean => {
  try {
    return check()
  } catch {
    return false
  }
}

/** @internal */
export const wrapTheKey =
  "wrap the key with Redacted.make(key) (or use Claude.layerConfig, which reads ANTHROPIC_API_KEY), so that it is never printed"

/** What was given as a key, never the key itself. */
const kindOfKey = (u: unknown): string =>
  typeof u === "string"
    ? "a plain string"
    : u === null
    ? "null"
    : typeof u === "object"
    ? "an object that is not Redacted"
    : typeof u

// header values: visible ASCII only, so that a stray newline or control
// character is a typed problem (never echoing the key), not a defect or a
// transport failure quoting the header
/** @internal */
export const ApiKey = Schema.declare(
  (u: unknown): u is Redacted.Redacted<string> =>
    safely(() => {
      if (!Redacted.isRedacted(u)) return false
      const key: unknown = Redacted.value(u)
      return typeof key === "string" && apiKeyValue.test(key)
    }),
  {
    identifier: "Redacted<string>",
    message: (issue) =>
      safely(() => Redacted.isRedacted(issue.actual))
        ? "must be non-empty visible ASCII (no spaces, newlines or control characters); check how the key was pasted or loaded"
        : `must be a Redacted value, got ${kindOfKey(issue.actual)}: ${wrapTheKey}`
  }
)

/** A base URL split: the URL without user info, and the user info. @internal */
export interface BaseUrl {
  readonly url: string
  readonly basicAuth: Option.Option<BasicAuth>
}

/**
 * The base URL without user info, and that user info as Basic credentials.
 * `URL` keeps user name and password percent-encoded: decode them for the
 * header (a malformed escape is kept as written). Trailing slashes dropped.
 */
const parseBaseUrl = (raw: string): BaseUrl => {
  const url = new URL(raw)
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s)
    } catch {
      return s
    }
  }
  const basicAuth = url.username === "" && url.password === ""
    ? Option.none()
    : Option.some({ user: decode(url.username), password: Redacted.make(decode(url.password)) })
  url.username = ""
  url.password = ""
  return { url: url.toString().replace(/\/+$/, ""), basicAuth }
}

/** @internal */
export const BaseUrl = Schema.transform(
  Schema.declare(
    (u: unknown): u is string =>
      typeof u === "string" && URL.canParse(u) && /^https?:$/.test(new URL(u).protocol),
    {
      identifier: "http(s) URL",
      message: (issue) =>
        `must be an http(s) URL, got ${
          typeof issue.actual === "string" ? describeUrl(issue.actual) : describeValue(issue.actual)
        }`
    }
  ),
  Schema.declare((u: unknown): u is BaseUrl => Predicate.isRecord(u), { identifier: "BaseUrl" }),
  { strict: true, decode: parseBaseUrl, encode: (base) => base.url }
)

/** @internal */
export const Token = (example: string) =>
  Schema.declare((u: unknown): u is string => typeof u === "string" && token.test(u), {
    identifier: "token",
    message: (issue) =>
      `must be a token of letters, digits and - _ . such as ${JSON.stringify(example)}, got ${
        describeValue(issue.actual)
      }`
  })

const isFlag = (u: unknown): boolean => typeof u === "string" && token.test(u)

/** @internal */
export const Beta = Schema.transform(
  Schema.declare(
    (u: unknown): u is string | ReadonlyArray<string> =>
      safely(() => isFlag(u) || (Array.isArray(u) && u.every(isFlag))),
    {
      identifier: "beta flags",
      message: (issue) =>
        `must be a flag or a list of flags, each a non-empty token of letters, digits and - _ . ; got ${
          describeValue(
            safely(() => Array.isArray(issue.actual))
              ? (issue.actual as ReadonlyArray<unknown>).find((flag) => !isFlag(flag))
              : issue.actual
          )
        }`
    }
  ),
  Schema.Array(Schema.String),
  { strict: true, decode: (flags) => typeof flags === "string" ? [flags] : [...flags], encode: identity }
)

/** @internal */
export const Policy = Schema.transform(
  RetryPolicy.Options,
  Schema.declare(RetryPolicy.isRetryPolicy, { identifier: "RetryPolicy" }),
  {
    strict: true,
    decode: (fields): RetryPolicy.RetryPolicy => ({ [RetryPolicy.TypeId]: RetryPolicy.TypeId, ...fields }),
    encode: ({ [RetryPolicy.TypeId]: _, ...fields }) => fields
  }
)

/** @internal */
export const isTransform = (u: unknown): u is (client: HttpClient.HttpClient) => HttpClient.HttpClient =>
  typeof u === "function"
