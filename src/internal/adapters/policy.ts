/**
 * The policy around one request of someone else's client, shared by
 * `Resilience.fetch` (the official SDK) and `Resilience.transformClient`
 * (`@effect/ai`): each attempt through the breaker, a non-2xx response
 * decoded with `ApiError.fromResponse` to decide, `Resilience.retry` over
 * the attempts, and, when the policy gives up, what the last attempt got
 * handed back as it was (the response, or the transport failure), so that
 * the client reports it as it always does.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as ApiError from "../../ApiError.js"
import * as CircuitBreaker from "../../CircuitBreaker.js"
import * as Resilience from "../../Resilience.js"
import * as RetryBudget from "../../RetryBudget.js"
import * as RetryPolicy from "../../RetryPolicy.js"
import type { HeadersInput } from "../headers.js"
import { decodeOptions, optional, satisfying } from "../options.js"
import * as Secrets from "../secrets.js"

// ---------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------

/**
 * The options both adapters share: the retry policy's, the breaker's and
 * the budget's, each decoded by its own module's Schema (a problem is
 * reported at its nested path, `retry.maxRetries`, `breaker.window`).
 *
 * @internal
 */
export const policyFields = {
  retry: optional(RetryPolicy.Options),
  breaker: optional(CircuitBreaker.Options),
  budget: optional(RetryBudget.Options)
} as const

/**
 * The options of `Resilience.fetch`: the shared ones and the `fetch` that
 * sends each attempt.
 *
 * @internal
 */
export const FetchOptions = Schema.Struct({
  ...policyFields,
  fetch: optional(satisfying("a fetch function", (u): u is typeof globalThis.fetch => typeof u === "function"))
})

/**
 * The options of `Resilience.transformClient`.
 *
 * @internal
 */
export const TransformClientOptions = Schema.Struct(policyFields)

/** @internal */
export const decodeFetchOptions = decodeOptions("Resilience.fetch", FetchOptions)

/** @internal */
export const decodeTransformClientOptions = decodeOptions("Resilience.transformClient", TransformClientOptions)

/**
 * The policy of decoded `retry` options: their settings are a policy's
 * fields, defaults filled in.
 *
 * @internal
 */
export const policyOf = (settings: Omit<RetryPolicy.RetryPolicy, RetryPolicy.TypeId> | undefined): RetryPolicy.RetryPolicy =>
  settings === undefined ? RetryPolicy.defaults : { ...RetryPolicy.defaults, ...settings }

/**
 * The same policy with no retry: for a request whose body cannot be sent
 * twice. It still passes through the breaker.
 *
 * @internal
 */
export const once = (policy: RetryPolicy.RetryPolicy): RetryPolicy.RetryPolicy => ({ ...policy, maxRetries: 0 })

// ---------------------------------------------------------------------------
// secrets
// ---------------------------------------------------------------------------

/**
 * The secrets a request carries in its headers: the `x-api-key`, and the
 * `authorization` value with its credentials alone (a bearer token, a
 * basic token). Only values long enough to be secrets (8 characters) are
 * kept, so that a short value does not redact every word that contains it.
 *
 * @internal
 */
export const secretsOf = (get: (name: string) => string | null | undefined): Secrets.Scrubber => {
  const values: Array<string> = []
  const add = (value: string | null | undefined) => {
    if (typeof value === "string" && value.trim().length >= 8) values.push(value.trim())
  }
  add(get("x-api-key"))
  const authorization = get("authorization")
  add(authorization)
  if (typeof authorization === "string") add(authorization.trim().split(/\s+/).slice(1).join(" "))
  return Secrets.make(values)
}

// ---------------------------------------------------------------------------
// one request under the policy
// ---------------------------------------------------------------------------

/**
 * A non-2xx response, read: the start of its body (for the decoder), its
 * headers, and the response to hand back if the policy gives up on it
 * (same status, headers and body as received).
 *
 * @internal
 */
export interface Inspected<Response> {
  readonly body: string
  readonly headers: HeadersInput
  readonly handBack: Response
}

/**
 * How an adapter sends a request once and reads what it got.
 *
 * @internal
 */
export interface Exchange<Response, Failure> {
  /** Sends the request once (each run sends it again). */
  readonly send: Effect.Effect<Response, Failure>
  readonly status: (response: Response) => number
  /** Reads a non-2xx response's body (at most `ApiError.maxErrorBodyBytes`). */
  readonly inspect: (response: Response) => Effect.Effect<Inspected<Response>, Failure>
  /** A failure of `send` or `inspect` as the policy sees it. */
  readonly transport: (failure: Failure, during: "Transport" | "ResponseBody") => Effect.Effect<ApiError.ApiError>
}

type Outcome<Response, Failure> =
  | { readonly _tag: "Response"; readonly response: Response }
  | { readonly _tag: "Failure"; readonly failure: Failure }

const isSuccessful = (status: number) => status >= 200 && status <= 299

/**
 * Sends a request under `policy` (see the module's description): the
 * attempts pass through the breaker and are retried by `Resilience.retry`;
 * a 2xx response is returned at once (its body is never read here, so a
 * stream is handed on as it arrives, and never retried once handed on); a
 * non-2xx response or a transport failure is decoded into an `ApiError`
 * (the secrets scrubbed from it) for the policy to decide on. When the
 * policy gives up, the call ends with what the last attempt got: its
 * response, rebuilt with the body read, or its transport failure,
 * unchanged. A call the breaker refused before anything was sent fails
 * with the `CircuitOpenError`.
 *
 * @internal
 */
export const send = <Response, Failure>(
  exchange: Exchange<Response, Failure>,
  policy: RetryPolicy.RetryPolicy,
  secrets: Secrets.Scrubber
): Effect.Effect<
  Response,
  Failure | CircuitBreaker.CircuitOpenError,
  CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget
> =>
  Effect.suspend(() => {
    // what the last attempt that sent a request got. The call ends with its
    // error (the policy gives up with the last error, and with the last real
    // one when the breaker refused a retry), so this is what is handed back.
    // (Not looked up by the error: a failure inside a span reaches the
    // caller wrapped in a proxy that carries the span.)
    let last: Outcome<Response, Failure> | undefined
    const failWith = (error: ApiError.ApiError, outcome: Outcome<Response, Failure>) => {
      last = outcome
      return Effect.fail(secrets.error(error))
    }
    const failed = (failure: Failure, during: "Transport" | "ResponseBody") =>
      Effect.flatMap(exchange.transport(failure, during), (error) => failWith(error, { _tag: "Failure", failure }))
    const attempt: Effect.Effect<Response, ApiError.ApiError> = Effect.matchEffect(exchange.send, {
      onFailure: (failure) => failed(failure, "Transport"),
      onSuccess: (response) => {
        const status = exchange.status(response)
        if (isSuccessful(status)) return Effect.succeed(response)
        return Effect.matchEffect(exchange.inspect(response), {
          onFailure: (failure) => failed(failure, "ResponseBody"),
          onSuccess: ({ body, handBack, headers }) =>
            Effect.flatMap(
              Clock.currentTimeMillis,
              (now) => failWith(ApiError.fromResponse({ status, headers, body, now }), { _tag: "Response", response: handBack })
            )
        })
      }
    })
    return Resilience.protect(attempt, policy).pipe(
      Effect.catchAll((error): Effect.Effect<Response, Failure | CircuitBreaker.CircuitOpenError> => {
        // a call the breaker refused before anything was sent
        if (last === undefined) return Effect.fail(error as CircuitBreaker.CircuitOpenError)
        return last._tag === "Response" ? Effect.succeed(last.response) : Effect.fail(last.failure)
      })
    )
  })

// ---------------------------------------------------------------------------
// reading an error body
// ---------------------------------------------------------------------------

/**
 * Statuses whose response has no body (`new Response` refuses one).
 *
 * @internal
 */
export const nullBodyStatuses: ReadonlySet<number> = new Set([101, 103, 204, 205, 304])

/**
 * Whether a response of this status can be rebuilt as a web `Response`
 * with a body: 200 to 599, and not a null-body status.
 *
 * @internal
 */
export const rebuildable = (status: number): boolean =>
  Number.isInteger(status) && status >= 200 && status <= 599 && !nullBodyStatuses.has(status)

/**
 * The first `ApiError.maxErrorBodyBytes` of a sequence of chunks, in one
 * array: the body as received, cut there.
 *
 * @internal
 */
export const concatBounded = (chunks: ReadonlyArray<Uint8Array>): Uint8Array<ArrayBuffer> => {
  const size = chunks.reduce((n, chunk) => n + chunk.length, 0)
  const bytes = new Uint8Array(Math.min(size, ApiError.maxErrorBodyBytes))
  let offset = 0
  for (const chunk of chunks) {
    if (offset >= bytes.length) break
    const part = chunk.subarray(0, bytes.length - offset)
    bytes.set(part, offset)
    offset += part.length
  }
  return bytes
}

/** @internal */
export const utf8 = (bytes: Uint8Array): string => new TextDecoder("utf-8", { fatal: false }).decode(bytes)

/**
 * A short, clean description of a failure (an `Error`'s message and its
 * cause's code), for a `TransportError`'s detail.
 *
 * @internal
 */
export const describeFailure = (failure: unknown): string => {
  const own = describePart(failure)
  const cause = describePart(read(failure, "cause"))
  return own === undefined ? cause ?? "no detail" : cause === undefined ? own : `${own} (${cause})`
}

/** A property of an untrusted value, `undefined` when it throws. */
const read = (u: unknown, key: string): unknown =>
  typeof u === "object" && u !== null ? Either.getOrUndefined(Either.try(() => (u as Record<string, unknown>)[key])) : undefined

const describePart = (u: unknown): string | undefined => {
  if (typeof u === "string") return u.length > 0 ? u : undefined
  const message = read(u, "message")
  const code = read(u, "code")
  const text = typeof message === "string" && message.length > 0 ? message : undefined
  return typeof code === "string" ? (text === undefined ? code : `${code}: ${text}`) : text
}
