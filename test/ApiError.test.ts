import * as Headers from "@effect/platform/Headers"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, expect, it } from "@effect/vitest"
import { Cause, Duration, Effect, FastCheck as fc, Option, Schema, TestClock } from "effect"
import { ApiError, CircuitBreaker, RateLimits } from "../src/index.js"

// ---------------------------------------------------------------------------
// fixtures
// ---------------------------------------------------------------------------

const SECRET = "sk-ant-api03-THIS-IS-THE-SECRET-KEY-0123456789"
const MESSAGES_URL = "https://api.anthropic.com/v1/messages"

const CONTROL = /[\u0000-\u001f\u007f]/
/** Every character a wire string is scrubbed of: C0 and C1 controls, DEL, invisible format characters. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/

const envelope = (type: string, message: string, requestId?: string | null): string =>
  JSON.stringify({
    type: "error",
    error: { type, message },
    ...(requestId === undefined ? {} : { request_id: requestId })
  })

const CLOUDFLARE_413 = [
  "<html>",
  "<head><title>413 Request Entity Too Large</title></head>",
  "<body>",
  "<center><h1>413 Request Entity Too Large</h1></center>",
  "<hr><center>cloudflare</center>",
  "</body>",
  "</html>",
  ""
].join("\r\n")

const BAD_GATEWAY_HTML =
  "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>"

const CLOUDFLARE_520 = [
  "<!DOCTYPE html>",
  "<html>",
  "<head><title>api.anthropic.com | 520: Web server is returning an unknown error</title>",
  "<style>body{font-family:sans-serif}</style></head>",
  "<body><h1>Web server is returning an unknown error</h1><p>Error code 520</p>",
  "<script>window.cf = 1</script></body>",
  "</html>"
].join("\n")

const UNAVAILABLE_TEXT = "upstream connect error or disconnect/reset before headers. reset reason: overflow"

const SPEND_429 = "This request would exceed your account's monthly spend limit."
const USAGE_400 = "You have reached your specified API usage limits. You will regain access on 2026-12-01 at 00:00 UTC."

const ms = (duration: Option.Option<Duration.Duration>): Option.Option<number> =>
  Option.map(duration, Duration.toMillis)

/** The rate-limit headers of a realistic 429, and the values they must read as. */
const RATE_LIMIT_HEADERS = {
  "retry-after": "20",
  "anthropic-ratelimit-requests-limit": "50",
  "anthropic-ratelimit-requests-remaining": "0",
  "anthropic-ratelimit-requests-reset": "2026-11-23T17:52:35Z",
  "anthropic-ratelimit-tokens-limit": "80000",
  "anthropic-ratelimit-tokens-remaining": "12345",
  "anthropic-ratelimit-input-tokens-limit": "40000",
  "anthropic-ratelimit-input-tokens-remaining": "0",
  "anthropic-ratelimit-input-tokens-reset": "2026-11-23T17:52:40Z"
} as const

interface Row {
  readonly tag: ApiError.Tag
  readonly status: number
  readonly retryable: boolean
  /** the documented `error.type`, or an unknown one where the API documents none */
  readonly errorType: string | undefined
  readonly serverMessage: string | undefined
  /** builds the body; the request id is only used by JSON bodies */
  readonly body: (requestId?: string | null) => string
  /** whether the body can carry a `request_id` */
  readonly json: boolean
  /** headers the row needs (x-should-retry), sent with every decode of the row */
  readonly headers?: Readonly<Record<string, string>>
}

const jsonRow = (
  tag: ApiError.Tag,
  status: number,
  retryable: boolean,
  errorType: string,
  serverMessage: string
): Row => ({
  tag,
  status,
  retryable,
  errorType,
  serverMessage,
  json: true,
  body: (requestId) => envelope(errorType, serverMessage, requestId)
})

const textRow = (tag: ApiError.Tag, status: number, retryable: boolean, body: string): Row => ({
  tag,
  status,
  retryable,
  errorType: undefined,
  serverMessage: undefined,
  json: false,
  body: () => body
})

/** Every HTTP row of the tag table, each from a realistic body. */
const rows: ReadonlyArray<Row> = [
  jsonRow(
    "InvalidRequestError",
    400,
    false,
    "invalid_request_error",
    "messages: roles must alternate between \"user\" and \"assistant\", but found multiple \"user\" roles in a row"
  ),
  jsonRow("AuthenticationError", 401, false, "authentication_error", "invalid x-api-key"),
  jsonRow(
    "BillingError",
    402,
    false,
    "billing_error",
    "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."
  ),
  jsonRow(
    "PermissionError",
    403,
    false,
    "permission_error",
    "Your API key does not have permission to use the specified resource."
  ),
  jsonRow("NotFoundError", 404, false, "not_found_error", "model: claude-does-not-exist"),
  jsonRow(
    "RequestTooLargeError",
    413,
    false,
    "request_too_large",
    "Request exceeds the maximum allowed number of bytes."
  ),
  // 422 has no documented error.type: an unknown one lets the status decide
  jsonRow("UnprocessableEntityError", 422, false, "unprocessable_entity_error", "The request could not be processed."),
  jsonRow("SpendLimitError", 429, false, "rate_limit_error", SPEND_429),
  jsonRow("SpendLimitError", 400, false, "invalid_request_error", USAGE_400),
  jsonRow(
    "RateLimitError",
    429,
    true,
    "rate_limit_error",
    "Number of request tokens has exceeded your per-minute rate limit (https://docs.claude.com/en/api/rate-limits); see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later."
  ),
  jsonRow("InternalServerError", 500, true, "api_error", "Internal server error"),
  textRow("BadGatewayError", 502, true, BAD_GATEWAY_HTML),
  textRow("ServiceUnavailableError", 503, true, UNAVAILABLE_TEXT),
  jsonRow("GatewayTimeoutError", 504, true, "timeout_error", "Request timed out"),
  jsonRow("OverloadedError", 529, true, "overloaded_error", "Overloaded"),
  // "any other status": an undocumented type and an undocumented status
  jsonRow("UnexpectedStatusError", 418, false, "teapot_error", "I'm a teapot"),
  textRow("UnexpectedStatusError", 301, false, "<html><body>Moved Permanently</body></html>"),
  // transient statuses outside the table: retried, as the official SDK does
  textRow("RequestTimeoutError", 408, true, "<html><head><title>408 Request Time-out</title></head><body></body></html>"),
  textRow("UnexpectedServerError", 520, true, CLOUDFLARE_520),
  // the server's x-should-retry: true makes a Fatal status Retryable
  {
    ...jsonRow("ServerRetryableError", 400, true, "invalid_request_error", "Transient validation failure, please retry"),
    headers: { "x-should-retry": "true" }
  }
]

const classes = {
  InvalidRequestError: ApiError.InvalidRequestError,
  AuthenticationError: ApiError.AuthenticationError,
  BillingError: ApiError.BillingError,
  PermissionError: ApiError.PermissionError,
  NotFoundError: ApiError.NotFoundError,
  RequestTooLargeError: ApiError.RequestTooLargeError,
  UnprocessableEntityError: ApiError.UnprocessableEntityError,
  SpendLimitError: ApiError.SpendLimitError,
  UnexpectedStatusError: ApiError.UnexpectedStatusError,
  ClientRequestError: ApiError.ClientRequestError,
  RateLimitError: ApiError.RateLimitError,
  InternalServerError: ApiError.InternalServerError,
  BadGatewayError: ApiError.BadGatewayError,
  ServiceUnavailableError: ApiError.ServiceUnavailableError,
  GatewayTimeoutError: ApiError.GatewayTimeoutError,
  OverloadedError: ApiError.OverloadedError,
  RequestTimeoutError: ApiError.RequestTimeoutError,
  UnexpectedServerError: ApiError.UnexpectedServerError,
  ServerRetryableError: ApiError.ServerRetryableError,
  TransportError: ApiError.TransportError
} as const

type HttpError = ReturnType<typeof ApiError.fromResponse>

const decode = (status: number, body: string, headers: Record<string, string> = {}, now = 0) =>
  ApiError.fromResponse({ status, headers, body, now })

// ---------------------------------------------------------------------------
// the table, row by row
// ---------------------------------------------------------------------------

describe("ApiError.fromResponse: every row of the tag table", () => {
  describe.each(rows)("$status → $tag", (row) => {
    const check = (error: HttpError, requestId: Option.Option<string>) => {
      assert.strictEqual(error._tag, row.tag)
      expect(error).toBeInstanceOf(classes[row.tag])
      assert.strictEqual(ApiError.isRetryable(error), row.retryable)
      assert.strictEqual(ApiError.isFatal(error), !row.retryable)
      assert.isTrue(ApiError.isApiError(error))
      assert.strictEqual(error.status, row.status)
      expect(error.errorType).toEqual(Option.fromNullable(row.errorType))
      expect(error.serverMessage).toEqual(Option.fromNullable(row.serverMessage))
      expect(error.requestId).toEqual(requestId)
      // the message: status, type, request id and the server's own words
      expect(error.message).toContain(`HTTP ${row.status}`)
      if (row.errorType !== undefined) expect(error.message).toContain(row.errorType)
      if (row.serverMessage !== undefined) expect(error.message).toContain(row.serverMessage)
      if (Option.isSome(requestId)) expect(error.message).toContain(requestId.value)
      assert.notMatch(error.message, CONTROL)
    }

    if (row.json) {
      it("with a request_id in the body: the body's id wins over the request-id header", () => {
        const error = decode(row.status, row.body("req_011CBodyWins"), { ...row.headers, "request-id": "req_011CHeaderLoses" })
        check(error, Option.some("req_011CBodyWins"))
        expect(error.message).not.toContain("req_011CHeaderLoses")
      })
      it("with a null request_id in the body: the header is used", () => {
        check(decode(row.status, row.body(null), { ...row.headers, "request-id": "req_011CHeader" }), Option.some("req_011CHeader"))
      })
      it("with a request_id in the body and no header", () => {
        check(decode(row.status, row.body("req_011COnlyBody"), { ...row.headers }), Option.some("req_011COnlyBody"))
      })
    }
    it("without a request_id in the body: the request-id header is used", () => {
      check(decode(row.status, row.body(), { ...row.headers, "Request-Id": "req_011CFromHeader" }), Option.some("req_011CFromHeader"))
    })
    it("with no request id anywhere", () => {
      const error = decode(row.status, row.body(), { ...row.headers })
      check(error, Option.none())
      expect(error.message).not.toContain("(request ")
    })
    it("from @effect/platform Headers as well as a plain record", () => {
      const error = ApiError.fromResponse({
        status: row.status,
        headers: Headers.fromInput({ ...row.headers, "request-id": "req_011CPlatform" }),
        body: row.body(),
        now: 0
      })
      check(error, Option.some("req_011CPlatform"))
    })
    if (row.retryable) {
      it("carries retryAfter and the rate-limit snapshot", () => {
        const error = decode(row.status, row.body(), { ...row.headers, ...RATE_LIMIT_HEADERS })
        assert.isTrue(ApiError.isRetryable(error))
        if (!ApiError.isRetryable(error)) return assert.fail("not retryable")
        expect(ms(error.retryAfter)).toEqual(Option.some(20_000))
        expect(ms(ApiError.retryAfter(error))).toEqual(Option.some(20_000))
        assert.instanceOf(error.rateLimits, RateLimits.Snapshot)
        expect(error.rateLimits.requests.limit).toEqual(Option.some(50))
        expect(error.rateLimits.requests.remaining).toEqual(Option.some(0))
        expect(Option.map(error.rateLimits.requests.reset, (d) => d.epochMillis)).toEqual(
          Option.some(Date.UTC(2026, 10, 23, 17, 52, 35))
        )
        expect(error.rateLimits.tokens.remaining).toEqual(Option.some(12345))
        expect(error.rateLimits.tokens.reset).toEqual(Option.none())
        expect(error.rateLimits.inputTokens.remaining).toEqual(Option.some(0))
        expect(error.rateLimits.outputTokens.limit).toEqual(Option.none())
      })
      it("has no retryAfter and an empty snapshot when the headers say nothing", () => {
        const error = decode(row.status, row.body(), { ...row.headers })
        if (!ApiError.isRetryable(error)) return assert.fail("not retryable")
        expect(error.retryAfter).toEqual(Option.none())
        expect(error.rateLimits).toEqual(RateLimits.empty)
      })
    } else {
      it("carries no retryAfter or rate-limit snapshot", () => {
        const error = decode(row.status, row.body(), { ...row.headers, ...RATE_LIMIT_HEADERS })
        assert.isFalse("retryAfter" in error)
        assert.isFalse("rateLimits" in error)
      })
    }
  })

  it("covers every HTTP tag of the table", () => {
    const httpTags = [...ApiError.retryableTags, ...ApiError.fatalTags].filter(
      (tag) => tag !== "TransportError" && tag !== "ClientRequestError"
    )
    expect(new Set(rows.map((row) => row.tag))).toEqual(new Set(httpTags))
    expect(httpTags).toHaveLength(18)
  })

  it("an unknown or undocumented status that is not transient is an UnexpectedStatusError, known statuses are not", () => {
    for (const status of [0, 100, 201, 204, 301, 304, 405, 409, 410, 418, 451, 501, 505, 600, 999, -1]) {
      const error = decode(status, "")
      assert.strictEqual(error._tag, "UnexpectedStatusError", `status ${status}`)
      assert.strictEqual(error.status, status)
    }
  })
})

describe("ApiError.fromResponse: transient statuses outside the table", () => {
  it("every 5xx the table does not name, but 501 and 505, is an UnexpectedServerError: Retryable, its status kept", () => {
    const named = new Set([500, 502, 503, 504, 529])
    for (let status = 500; status <= 599; status++) {
      if (named.has(status)) continue
      const error = decode(status, CLOUDFLARE_520)
      assert.strictEqual(error.status, status)
      if (status === 501 || status === 505) {
        assert.strictEqual(error._tag, "UnexpectedStatusError", `status ${status}`)
        assert.isTrue(ApiError.isFatal(error))
      } else {
        assert.strictEqual(error._tag, "UnexpectedServerError", `status ${status}`)
        assert.isTrue(ApiError.isRetryable(error))
        expect(error.message.startsWith(`HTTP ${status} `)).toBe(true)
      }
    }
  })

  it("408 is a RequestTimeoutError: Retryable, with its retry-after", () => {
    const error = decode(408, "", { "retry-after": "3" })
    assert.strictEqual(error._tag, "RequestTimeoutError")
    if (error._tag !== "RequestTimeoutError") return
    expect(ms(error.retryAfter)).toEqual(Option.some(3000))
  })

  it("a known error.type still decides: a 520 carrying invalid_request_error is Fatal", () => {
    assert.strictEqual(decode(520, envelope("invalid_request_error", "bad"))._tag, "InvalidRequestError")
    assert.strictEqual(decode(522, envelope("overloaded_error", "busy"))._tag, "OverloadedError")
  })

  it("the breaker counts an undocumented 5xx as a server failure, not a 408 nor a ServerRetryableError", () => {
    assert.isTrue(CircuitBreaker.isServerFailure(decode(520, CLOUDFLARE_520)))
    assert.isFalse(CircuitBreaker.isServerFailure(decode(408, "")))
    assert.isFalse(CircuitBreaker.isServerFailure(decode(400, "", { "x-should-retry": "true" })))
  })
})

// ---------------------------------------------------------------------------
// edge bodies
// ---------------------------------------------------------------------------

describe("ApiError.fromResponse: bodies that are not the envelope", () => {
  it("the edge's HTML 413 is a RequestTooLargeError", () => {
    const error = decode(413, CLOUDFLARE_413, { "cf-ray": "8f0c0c0c0c0c0c0c-SJC", "content-type": "text/html" })
    assert.strictEqual(error._tag, "RequestTooLargeError")
    assert.isTrue(ApiError.isFatal(error))
    expect(error.errorType).toEqual(Option.none())
    expect(error.serverMessage).toEqual(Option.none())
    expect(error.message).toContain("HTTP 413")
    expect(error.message).toContain(`non-JSON body of ${CLOUDFLARE_413.length} characters`)
    assert.notMatch(error.message, CONTROL)
  })

  it("the edge's wrapper-less JSON 413 is a RequestTooLargeError with its type and message", () => {
    const body = JSON.stringify({ type: "request_too_large", message: "Request exceeds the maximum allowed number of bytes." })
    const error = decode(413, body)
    assert.strictEqual(error._tag, "RequestTooLargeError")
    expect(error.errorType).toEqual(Option.some("request_too_large"))
    expect(error.serverMessage).toEqual(Option.some("Request exceeds the maximum allowed number of bytes."))
    expect(error.message).toContain("request_too_large")
    expect(error.message).toContain("Request exceeds the maximum allowed number of bytes.")
  })

  it.each([
    ["empty", ""],
    ["whitespace", " \r\n\t "]
  ])("an %s body decodes by status", (_, body) => {
    const error = decode(529, body)
    assert.strictEqual(error._tag, "OverloadedError")
    expect(error.errorType).toEqual(Option.none())
    expect(error.message).toBe("HTTP 529 (no error type): empty body")
  })

  it.each([
    envelope("overloaded_error", "Overloaded", "req_1").slice(0, 40),
    "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\"",
    "{",
    "{\"type\":\"error\",",
    "[1, 2"
  ])("truncated JSON %j decodes by status", (body) => {
    const error = decode(503, body)
    assert.strictEqual(error._tag, "ServiceUnavailableError")
    expect(error.errorType).toEqual(Option.none())
    expect(error.message).toContain(`non-JSON body of ${body.length} characters`)
  })

  it.each([
    "[]",
    "null",
    "42",
    "\"overloaded_error\"",
    "true",
    "{}",
    "{\"error\":\"overloaded_error\"}",
    "{\"type\":\"error\"}",
    "{\"type\":\"error\",\"error\":[\"overloaded_error\"]}",
    "{\"type\":42,\"message\":\"x\"}",
    "{\"type\":\"error\",\"content\":[]}"
  ])("JSON of the wrong shape %s decodes by status", (body) => {
    const error = decode(504, body)
    assert.strictEqual(error._tag, "GatewayTimeoutError")
    expect(error.errorType).toEqual(Option.none())
    expect(error.serverMessage).toEqual(Option.none())
    expect(error.message).toBe("HTTP 504 (no error type): JSON body not in the Claude error format")
  })

  it("an envelope whose fields have the wrong types decodes by status", () => {
    const body = JSON.stringify({ type: "error", error: { type: 529, message: ["Overloaded"] }, request_id: 7 })
    const error = decode(401, body, { "request-id": "req_header" })
    assert.strictEqual(error._tag, "AuthenticationError")
    expect(error.errorType).toEqual(Option.none())
    expect(error.serverMessage).toEqual(Option.none())
    expect(error.requestId).toEqual(Option.some("req_header"))
  })

  it("an envelope with extra fields decodes as usual", () => {
    const body = JSON.stringify({
      type: "error",
      error: { type: "overloaded_error", message: "Overloaded", details: { region: "us" } },
      request_id: "req_extra",
      extra: [1, 2, 3]
    })
    const error = decode(529, body)
    assert.strictEqual(error._tag, "OverloadedError")
    expect(error.requestId).toEqual(Option.some("req_extra"))
  })

  it("an unknown error.type lets the status decide, and is kept raw", () => {
    const body = envelope("brand_new_error", "Something new", "req_new")
    const overloaded = decode(529, body)
    assert.strictEqual(overloaded._tag, "OverloadedError")
    expect(overloaded.errorType).toEqual(Option.some("brand_new_error"))
    expect(overloaded.message).toBe("HTTP 529 brand_new_error (request req_new): Something new")
    assert.strictEqual(decode(400, body)._tag, "InvalidRequestError")
    assert.strictEqual(decode(418, body)._tag, "UnexpectedStatusError")
    assert.strictEqual(decode(200, body)._tag, "UnexpectedStatusError")
  })

  it.each(["__proto__", "constructor", "toString", "hasOwnProperty", "", "OVERLOADED_ERROR", " overloaded_error"])(
    "error.type %j is not a known type",
    (type) => {
      assert.strictEqual(decode(502, envelope(type, "x"))._tag, "BadGatewayError")
      assert.strictEqual(decode(418, envelope(type, "x"))._tag, "UnexpectedStatusError")
    }
  )

  it.each([
    [500, "overloaded_error", "OverloadedError"],
    [200, "overloaded_error", "OverloadedError"],
    [200, "rate_limit_error", "RateLimitError"],
    [200, "api_error", "InternalServerError"],
    [200, "invalid_request_error", "InvalidRequestError"],
    [502, "timeout_error", "GatewayTimeoutError"],
    [400, "rate_limit_error", "RateLimitError"],
    [529, "invalid_request_error", "InvalidRequestError"],
    [418, "permission_error", "PermissionError"],
    [503, "request_too_large", "RequestTooLargeError"]
  ] as const)("a known type decides over the status: %i with %s ⇒ %s", (status, type, tag) => {
    const error = decode(status, envelope(type, "from the body", "req_type"))
    assert.strictEqual(error._tag, tag)
    assert.strictEqual(error.status, status)
    expect(error.errorType).toEqual(Option.some(type))
  })

  it("a stream's error event (HTTP 200, overloaded_error) is an OverloadedError", () => {
    const data = "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}"
    const error = decode(200, data, { "request-id": "req_stream" })
    assert.strictEqual(error._tag, "OverloadedError")
    assert.isTrue(ApiError.isRetryable(error))
    expect(error.message).toBe("HTTP 200 overloaded_error (request req_stream): Overloaded")
  })

  it("strips control characters from everything that reaches the message", () => {
    const body = JSON.stringify({
      type: "error",
      error: { type: "api_error", message: "boom\r\n2026-11-23 ERROR forged log line\u0000\u001b[31m red\u007f" },
      request_id: "req_1"
    })
    const error = decode(500, body)
    assert.strictEqual(error._tag, "InternalServerError")
    assert.notMatch(error.message, CONTROL)
    expect(error.serverMessage).toEqual(Option.some("boom 2026-11-23 ERROR forged log line [31m red"))
    expect(error.message).toBe("HTTP 500 api_error (request req_1): boom 2026-11-23 ERROR forged log line [31m red")
  })

  it("strips control characters from a hostile error.type and request ids", () => {
    const body = JSON.stringify({
      type: "error",
      error: { type: "weird\r\nERROR forged", message: "m" },
      request_id: "req_body\nforged"
    })
    const fromBody = decode(500, body)
    assert.notMatch(fromBody.message, CONTROL)
    expect(fromBody.requestId).toEqual(Option.some("req_body forged"))
    expect(fromBody.errorType).toEqual(Option.some("weird\r\nERROR forged")) // raw, as the issue asks
    const fromHeader = decode(500, "", { "request-id": "req_head\u001b[2Jer" })
    expect(fromHeader.requestId).toEqual(Option.some("req_head [2Jer"))
    assert.notMatch(fromHeader.message, CONTROL)
  })

  it("strips the invisible characters that hide or reorder a log line: C1 controls, bidi overrides, zero-width marks, separators", () => {
    const body = JSON.stringify({
      type: "error",
      error: { type: "api_error", message: "paid\u202e$0001\u202c ok\u200b\u2028[ERROR]\u0085forged\ufeff" },
      request_id: "req_\u2066hidden\u2069"
    })
    const error = decode(500, body)
    expect(error.serverMessage).toEqual(Option.some("paid $0001  ok [ERROR] forged"))
    expect(error.requestId).toEqual(Option.some("req_ hidden"))
    assert.notMatch(error.message, /[\u0080-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/)
  })

  it("a request id made only of control characters is no request id", () => {
    expect(decode(500, "", { "request-id": "\u0001\u0002" }).requestId).toEqual(Option.none())
    expect(decode(500, envelope("api_error", "m", "\u0000"), { "request-id": "req_h" }).requestId).toEqual(
      Option.some("req_h")
    )
    expect(decode(500, envelope("api_error", "m", ""), { "request-id": "req_h" }).requestId).toEqual(
      Option.some("req_h")
    )
  })

  it("a very long server message is cut in the message", () => {
    const long = "x".repeat(10_000)
    const error = decode(500, envelope("api_error", long))
    expect(Option.map(error.serverMessage, (m) => m.length)).toEqual(Option.some(2001))
    expect(error.message.length).toBeLessThan(2100)
  })

  it("a megabyte of garbage is a typed error with a short message", () => {
    // deterministic garbage: JSON punctuation, control characters, astral and lone surrogates
    const alphabet = ["{", "}", "\"", "\\", "\u0000", "\n", "<", "é", "😀", "\ud800", "type", "error", ":", ",", "[", "]"]
    let garbage = ""
    for (let i = 0; garbage.length < 1024 * 1024; i++) garbage += alphabet[(i * 7919) % alphabet.length]!
    const error = decode(500, garbage, { "retry-after": "garbage", "x-should-retry": "\u0000" })
    assert.strictEqual(error._tag, "InternalServerError")
    // the message names the body's size and quotes a short, clean excerpt of it
    expect(error.message.startsWith(`HTTP 500 (no error type): non-JSON body of ${garbage.length} characters: "`)).toBe(true)
    expect(error.message.endsWith(`…"`)).toBe(true)
    expect(error.message.length).toBeLessThan(300)
    assert.notMatch(error.message, CONTROL)
    assert.notMatch(error.message, /[\ud800-\udbff](?![\udc00-\udfff])/)
    if (error._tag !== "InternalServerError") return
    expect(error.retryAfter).toEqual(Option.none())
    expect(error.shouldRetry).toEqual(Option.none())
  })

  it("a megabyte-long envelope cut short decodes by status", () => {
    const body = `{"type":"error","error":{"type":"authentication_error","message":"${"a".repeat(1024 * 1024)}`
    const error = decode(529, body)
    assert.strictEqual(error._tag, "OverloadedError")
    expect(error.errorType).toEqual(Option.none())
  })

  it("a body that is not a string (from untyped callers) is treated as empty", () => {
    const error = ApiError.fromResponse({ status: 503, body: undefined as unknown as string, now: 0 })
    assert.strictEqual(error._tag, "ServiceUnavailableError")
    expect(error.message).toBe("HTTP 503 (no error type): empty body")
  })
})

// ---------------------------------------------------------------------------
// spend and usage limits
// ---------------------------------------------------------------------------

describe("ApiError.fromResponse: the spend/usage-limit override", () => {
  it.each([
    [429, "rate_limit_error", SPEND_429],
    [400, "invalid_request_error", USAGE_400],
    [429, "rate_limit_error", USAGE_400],
    [400, "invalid_request_error", SPEND_429],
    [429, "rate_limit_error", "THIS REQUEST WOULD EXCEED YOUR ACCOUNT'S MONTHLY SPEND LIMIT."],
    [400, "invalid_request_error", "you have reached your specified api Usage Limits."],
    [429, "brand_new_error", SPEND_429],
    [400, "overloaded_error", USAGE_400],
    [429, "overloaded_error", SPEND_429]
  ] as const)("%i %s with %j ⇒ SpendLimitError", (status, type, message) => {
    const error = decode(status, envelope(type, message, "req_spend"), { "retry-after": "60" })
    assert.strictEqual(error._tag, "SpendLimitError")
    assert.isTrue(ApiError.isFatal(error))
    assert.isFalse(ApiError.isRetryable(error))
    expect(error.errorType).toEqual(Option.some(type))
    expect(error.serverMessage).toEqual(Option.some(message))
    expect(error.message).toContain(message)
    assert.isFalse("retryAfter" in error)
  })

  it("applies to the wrapper-less shape too", () => {
    const body = JSON.stringify({ type: "rate_limit_error", message: SPEND_429 })
    assert.strictEqual(decode(429, body)._tag, "SpendLimitError")
  })

  it("applies to a stream's error event (HTTP 200) whose type stands for a 429 or 400", () => {
    assert.strictEqual(decode(200, envelope("rate_limit_error", SPEND_429))._tag, "SpendLimitError")
    assert.strictEqual(decode(200, envelope("invalid_request_error", USAGE_400))._tag, "SpendLimitError")
  })

  it.each([
    [500, "api_error", SPEND_429, "InternalServerError"],
    [529, "overloaded_error", USAGE_400, "OverloadedError"],
    [503, "brand_new_error", SPEND_429, "ServiceUnavailableError"],
    [403, "permission_error", SPEND_429, "PermissionError"],
    [402, "billing_error", USAGE_400, "BillingError"],
    [200, "overloaded_error", SPEND_429, "OverloadedError"],
    [418, "teapot_error", USAGE_400, "UnexpectedStatusError"]
  ] as const)("not on %i %s ⇒ %s", (status, type, message, tag) => {
    assert.strictEqual(decode(status, envelope(type, message))._tag, tag)
  })

  it.each([
    "Number of request tokens has exceeded your per-minute rate limit.",
    "limit on spend reached",
    "usage is limited",
    "spendlimit",
    "usage-limit"
  ])("a 429 whose message %j does not say spend/usage limit stays a RateLimitError", (message) => {
    assert.strictEqual(decode(429, envelope("rate_limit_error", message))._tag, "RateLimitError")
  })

  it("a 429 with no message at all is a RateLimitError", () => {
    assert.strictEqual(decode(429, "")._tag, "RateLimitError")
    assert.strictEqual(decode(429, envelope("rate_limit_error", ""))._tag, "RateLimitError")
  })
})

// ---------------------------------------------------------------------------
// headers
// ---------------------------------------------------------------------------

describe("ApiError.fromResponse: x-should-retry", () => {
  it.each([
    ["true", Option.some(true)],
    ["false", Option.some(false)],
    ["TRUE", Option.some(true)],
    ["False", Option.some(false)],
    [" true ", Option.some(true)],
    ["yes", Option.none()],
    ["1", Option.none()],
    ["0", Option.none()],
    ["", Option.none()],
    ["true, false", Option.none()],
    ["truex", Option.none()],
    ["\u0000true", Option.none()]
  ] as const)("x-should-retry %j ⇒ %o", (value, expected) => {
    for (const status of [529, 400]) {
      const error = decode(status, "", { "X-Should-Retry": value })
      expect(error.shouldRetry).toEqual(expected)
      expect(ApiError.shouldRetry(error)).toEqual(expected)
    }
  })

  it("absent ⇒ None", () => {
    expect(decode(529, "").shouldRetry).toEqual(Option.none())
  })

  it("false does not change the tag (the retry policy obeys it); true makes a Fatal response a ServerRetryableError", () => {
    assert.strictEqual(decode(529, "", { "x-should-retry": "false" })._tag, "OverloadedError")
    assert.strictEqual(decode(400, "", { "x-should-retry": "false" })._tag, "InvalidRequestError")
    for (const [status, body, original] of [
      [400, envelope("invalid_request_error", "try again"), "InvalidRequestError"],
      [400, "", "InvalidRequestError"],
      [401, envelope("authentication_error", "x"), "AuthenticationError"],
      [409, "", "UnexpectedStatusError"],
      [501, "", "UnexpectedStatusError"],
      [413, CLOUDFLARE_413, "RequestTooLargeError"],
      [200, envelope("mystery_error", "mid-stream"), "UnexpectedStatusError"]
    ] as const) {
      const error = decode(status, body, { "x-should-retry": " TRUE " })
      assert.strictEqual(error._tag, "ServerRetryableError", `status ${status}`)
      assert.isTrue(ApiError.isRetryable(error))
      assert.strictEqual(error.status, status)
      if (error._tag !== "ServerRetryableError") return
      assert.strictEqual(error.originalTag, original)
      expect(error.shouldRetry).toEqual(Option.some(true))
    }
    // already Retryable: the tag stays
    assert.strictEqual(decode(529, "", { "x-should-retry": "true" })._tag, "OverloadedError")
    assert.strictEqual(decode(520, "", { "x-should-retry": "true" })._tag, "UnexpectedServerError")
  })

  it("a spend limit stays Fatal, whatever x-should-retry says", () => {
    assert.strictEqual(decode(429, envelope("rate_limit_error", SPEND_429), { "x-should-retry": "true" })._tag, "SpendLimitError")
    assert.strictEqual(decode(400, envelope("invalid_request_error", USAGE_400), { "x-should-retry": "true" })._tag, "SpendLimitError")
  })
})

describe("ApiError.fromResponse: retryAfter on retryable errors", () => {
  it("reads retry-after-ms before retry-after, in any case", () => {
    const error = decode(429, envelope("rate_limit_error", "slow down"), {
      "Retry-After-Ms": "1500",
      "RETRY-AFTER": "20"
    })
    if (error._tag !== "RateLimitError") return assert.fail(error._tag)
    expect(ms(error.retryAfter)).toEqual(Option.some(1500))
  })

  it("reads an HTTP-date retry-after against `now`", () => {
    const now = Date.UTC(2026, 10, 23, 17, 52, 15)
    const error = decode(529, "", { "retry-after": "Mon, 23 Nov 2026 17:52:35 GMT" }, now)
    if (error._tag !== "OverloadedError") return assert.fail(error._tag)
    expect(ms(error.retryAfter)).toEqual(Option.some(20_000))
  })

  it("garbage retry-after ⇒ None", () => {
    const error = decode(503, "", { "retry-after": "soon" })
    if (error._tag !== "ServiceUnavailableError") return assert.fail(error._tag)
    expect(error.retryAfter).toEqual(Option.none())
  })
})

// ---------------------------------------------------------------------------
// @effect/platform
// ---------------------------------------------------------------------------

const request = HttpClientRequest.post(MESSAGES_URL).pipe(
  HttpClientRequest.setHeader("x-api-key", SECRET),
  HttpClientRequest.setHeader("anthropic-version", "2023-06-01"),
  HttpClientRequest.bodyUnsafeJson({ model: "claude-sonnet-5-5", max_tokens: 16, messages: [] })
)

const webResponse = (body: BodyInit | null, status: number, headers: Record<string, string> = {}) =>
  HttpClientResponse.fromWeb(request, new Response(body, { status, headers }))

const assertNoSecret = (error: unknown) => {
  expect(String(error)).not.toContain(SECRET)
  expect(JSON.stringify(error)).not.toContain(SECRET)
  expect(Cause.pretty(Cause.fail(error))).not.toContain(SECRET)
  expect((error as { readonly message: string }).message).not.toContain(SECRET)
  expect((error as { readonly cause?: unknown }).cause).toBeUndefined()
}

const encoder = new TextEncoder()

describe("ApiError.fromHttpResponse", () => {
  it.effect("decodes a real HttpClientResponse", () =>
    Effect.gen(function*() {
      const response = webResponse(envelope("overloaded_error", "Overloaded", "req_web"), 529, {
        "content-type": "application/json",
        "request-id": "req_header",
        "retry-after": "7",
        "x-should-retry": "true",
        "anthropic-ratelimit-requests-remaining": "3"
      })
      const error = yield* Effect.flip(ApiError.fromHttpResponse(response))
      if (error._tag !== "OverloadedError") return assert.fail(error._tag)
      assert.strictEqual(error.status, 529)
      expect(error.requestId).toEqual(Option.some("req_web"))
      expect(ms(error.retryAfter)).toEqual(Option.some(7000))
      expect(error.shouldRetry).toEqual(Option.some(true))
      expect(error.rateLimits.requests.remaining).toEqual(Option.some(3))
      assertNoSecret(error)
    }))

  it.effect("decodes the edge's HTML 413", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(ApiError.fromHttpResponse(webResponse(CLOUDFLARE_413, 413)))
      assert.strictEqual(error._tag, "RequestTooLargeError")
    }))

  it.effect("takes `now` from the Clock for an HTTP-date retry-after", () =>
    Effect.gen(function*() {
      const now = Date.UTC(2026, 10, 23, 17, 52, 15, 250)
      yield* TestClock.setTime(now)
      const at = new Date(Date.UTC(2026, 10, 23, 17, 52, 35)).toUTCString()
      const error = yield* Effect.flip(ApiError.fromHttpResponse(webResponse("", 503, { "retry-after": at })))
      if (error._tag !== "ServiceUnavailableError") return assert.fail(error._tag)
      expect(ms(error.retryAfter)).toEqual(Option.some(19_750))

      yield* TestClock.adjust("30 seconds")
      const later = yield* Effect.flip(ApiError.fromHttpResponse(webResponse("", 503, { "retry-after": at })))
      if (later._tag !== "ServiceUnavailableError") return assert.fail(later._tag)
      expect(ms(later.retryAfter)).toEqual(Option.some(0))
    }))

  it.effect("decodes a response with no body at all by its status", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(ApiError.fromHttpResponse(webResponse(null, 503, { "request-id": "req_n" })))
      assert.strictEqual(error._tag, "ServiceUnavailableError")
      if (error._tag !== "ServiceUnavailableError") return
      expect(error.requestId).toEqual(Option.some("req_n"))
      expect(error.message).toBe("HTTP 503 (no error type) (request req_n): empty body")
    }))

  it.effect("reads at most 1 MiB of an endless body", () =>
    Effect.gen(function*() {
      const chunk = encoder.encode("x".repeat(16 * 1024))
      let pulled = 0
      let cancelled = false
      const endless = new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled += chunk.length
          controller.enqueue(chunk)
        },
        cancel() {
          cancelled = true
        }
      })
      const error = yield* Effect.flip(ApiError.fromHttpResponse(webResponse(endless, 500)))
      assert.strictEqual(error._tag, "InternalServerError")
      expect(error.message).toBe(
        `HTTP 500 (no error type): non-JSON body of ${ApiError.maxErrorBodyBytes} characters: "${"x".repeat(200)}…"`
      )
      // it stops reading once 1 MiB is in: at most what is queued ahead of the reader beyond that
      expect(pulled).toBeGreaterThanOrEqual(ApiError.maxErrorBodyBytes)
      expect(pulled).toBeLessThanOrEqual(ApiError.maxErrorBodyBytes + 4 * chunk.length)
      assert.isTrue(cancelled)
    }))

  it.effect("cuts a single chunk larger than 1 MiB at 1 MiB", () =>
    Effect.gen(function*() {
      const big = "y".repeat(ApiError.maxErrorBodyBytes + 12345)
      const error = yield* Effect.flip(ApiError.fromHttpResponse(webResponse(big, 502)))
      assert.strictEqual(error._tag, "BadGatewayError")
      expect(error.message).toBe(
        `HTTP 502 (no error type): non-JSON body of ${ApiError.maxErrorBodyBytes} characters: "${"y".repeat(200)}…"`
      )
    }))

  it.effect("a body of exactly 1 MiB is decoded whole", () =>
    Effect.gen(function*() {
      const head = "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\""
      const suffix = "\"},\"request_id\":\"req_mib\"}"
      const padding = "m".repeat(ApiError.maxErrorBodyBytes - head.length - suffix.length)
      const body = `${head}${padding}${suffix}`
      assert.strictEqual(encoder.encode(body).length, ApiError.maxErrorBodyBytes)
      const error = yield* Effect.flip(ApiError.fromHttpResponse(webResponse(body, 529)))
      if (error._tag !== "OverloadedError") return assert.fail(error._tag)
      expect(error.errorType).toEqual(Option.some("overloaded_error"))
      expect(error.requestId).toEqual(Option.some("req_mib"))
    }))

  it.effect("a body that breaks off mid-way is a TransportError without the key", () =>
    Effect.gen(function*() {
      const broken = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(encoder.encode("{\"type\":\"error\",\"error\":{"))
          controller.error(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }))
        }
      })
      const error = yield* Effect.flip(ApiError.fromHttpResponse(webResponse(broken, 529)))
      if (error._tag !== "TransportError") return assert.fail(error._tag)
      assert.strictEqual(error.reason, "ResponseBody")
      assert.strictEqual(error.method, "POST")
      assert.strictEqual(error.url, MESSAGES_URL)
      expect(error.message).toContain("ECONNRESET")
      expect(error.message).toContain("socket hang up")
      assert.isTrue(ApiError.isRetryable(error))
      assertNoSecret(error)
    }))
})

describe("ApiError.fromHttpClientError", () => {
  const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:443"), { code: "ECONNREFUSED" })

  it.effect("RequestError Transport ⇒ TransportError with method and URL, never the headers", () =>
    Effect.gen(function*() {
      const platform = new HttpClientError.RequestError({ request, reason: "Transport", cause: refused })
      // the platform's own error does carry the key: that is why it must not be kept
      expect(JSON.stringify(platform.toJSON())).toContain(SECRET)
      const error = yield* Effect.flip(ApiError.fromHttpClientError(platform))
      if (error._tag !== "TransportError") return assert.fail(error._tag)
      assert.strictEqual(error.reason, "Transport")
      assert.strictEqual(error.method, "POST")
      assert.strictEqual(error.url, MESSAGES_URL)
      expect(error.message).toBe(`Transport failure on POST ${MESSAGES_URL}: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:443`)
      assert.isTrue(ApiError.isRetryable(error))
      expect(ApiError.retryAfter(error)).toEqual(Option.none())
      expect(ApiError.shouldRetry(error)).toEqual(Option.none())
      assertNoSecret(error)
      assert.isFalse(Object.values(error).some((value) => value === platform || value === request))
    }))

  it.effect("strips credentials from the URL", () =>
    Effect.gen(function*() {
      const withUser = HttpClientRequest.setUrl(request, `https://me:${SECRET}@api.anthropic.com/v1/messages`)
      const error = yield* Effect.flip(
        ApiError.fromHttpClientError(new HttpClientError.RequestError({ request: withUser, reason: "Transport" }))
      )
      if (error._tag !== "TransportError") return assert.fail(error._tag)
      assert.strictEqual(error.url, MESSAGES_URL)
      expect(error.message).toContain("no detail")
      assertNoSecret(error)
    }))

  it.effect.each(["Encode", "InvalidUrl"] as const)("RequestError %s ⇒ ClientRequestError (Fatal)", (reason) =>
    Effect.gen(function*() {
      const platform = new HttpClientError.RequestError({ request, reason, cause: new TypeError("bad input") })
      const error = yield* Effect.flip(ApiError.fromHttpClientError(platform))
      if (error._tag !== "ClientRequestError") return assert.fail(error._tag)
      assert.strictEqual(error.reason, reason)
      assert.strictEqual(error.method, "POST")
      assert.strictEqual(error.url, MESSAGES_URL)
      expect(error.message).toContain("bad input")
      expect(error.message).toContain(reason === "Encode" ? "could not be encoded" : "URL is invalid")
      assert.isTrue(ApiError.isFatal(error))
      assert.isFalse(ApiError.isRetryable(error))
      expect(ApiError.shouldRetry(error)).toEqual(Option.none())
      assertNoSecret(error)
    }))

  it.effect("ResponseError StatusCode ⇒ the decoded response", () =>
    Effect.gen(function*() {
      const response = webResponse(envelope("rate_limit_error", "Rate limited", "req_429"), 429, {
        "retry-after": "12",
        "anthropic-ratelimit-tokens-remaining": "0"
      })
      const platform = new HttpClientError.ResponseError({ request, response, reason: "StatusCode" })
      const error = yield* Effect.flip(ApiError.fromHttpClientError(platform))
      if (error._tag !== "RateLimitError") return assert.fail(error._tag)
      expect(error.requestId).toEqual(Option.some("req_429"))
      expect(ms(error.retryAfter)).toEqual(Option.some(12_000))
      expect(error.rateLimits.tokens.remaining).toEqual(Option.some(0))
      assertNoSecret(error)
    }))

  it.effect("ResponseError StatusCode with a spend-limit body ⇒ SpendLimitError", () =>
    Effect.gen(function*() {
      const response = webResponse(envelope("rate_limit_error", SPEND_429), 429)
      const platform = new HttpClientError.ResponseError({ request, response, reason: "StatusCode" })
      const error = yield* Effect.flip(ApiError.fromHttpClientError(platform))
      assert.strictEqual(error._tag, "SpendLimitError")
    }))

  it.effect("ResponseError while reading a body ⇒ TransportError", () =>
    Effect.gen(function*() {
      const response = webResponse("{}", 200)
      const platform = new HttpClientError.ResponseError({
        request,
        response,
        reason: "Decode",
        cause: Object.assign(new Error("terminated"), { code: "UND_ERR_SOCKET" })
      })
      const error = yield* Effect.flip(ApiError.fromHttpClientError(platform))
      if (error._tag !== "TransportError") return assert.fail(error._tag)
      assert.strictEqual(error.reason, "ResponseBody")
      expect(error.message).toContain("UND_ERR_SOCKET: terminated")
      assertNoSecret(error)
    }))
})

describe("ApiError.transportError", () => {
  it("builds a TransportError with a cleaned message", () => {
    const error = ApiError.transportError({
      reason: "Timeout",
      method: "POST",
      url: MESSAGES_URL,
      detail: "no response within 600 seconds\r\nforged"
    })
    assert.strictEqual(error._tag, "TransportError")
    expect(error.message).toBe(`Timeout failure on POST ${MESSAGES_URL}: no response within 600 seconds forged`)
    assert.isTrue(ApiError.isRetryable(error))
  })
})

// ---------------------------------------------------------------------------
// guards, schemas, the decision table
// ---------------------------------------------------------------------------

describe("guards", () => {
  const all = rows.map((row) => decode(row.status, row.body("req_g"), { ...row.headers }))
  const transport = ApiError.transportError({ reason: "Transport", method: "GET", url: MESSAGES_URL, detail: "x" })
  const client = new ApiError.ClientRequestError({ reason: "InvalidUrl", message: "m", method: "GET", url: "x" })

  it("isRetryable and isFatal split every error exactly", () => {
    for (const error of [...all, transport, client]) {
      assert.isTrue(ApiError.isApiError(error), error._tag)
      assert.notStrictEqual(ApiError.isRetryable(error), ApiError.isFatal(error), error._tag)
    }
    assert.isTrue(ApiError.isRetryable(transport))
    assert.isTrue(ApiError.isFatal(client))
    expect(all.filter(ApiError.isRetryable).map((e) => e._tag)).toEqual([
      "RateLimitError",
      "InternalServerError",
      "BadGatewayError",
      "ServiceUnavailableError",
      "GatewayTimeoutError",
      "OverloadedError",
      "RequestTimeoutError",
      "UnexpectedServerError",
      "ServerRetryableError"
    ])
  })

  it.each([null, undefined, 0, "RateLimitError", {}, { _tag: 1 }, { _tag: "Nope" }, new Error("x"), []])(
    "rejects %o",
    (value) => {
      assert.isFalse(ApiError.isApiError(value))
      assert.isFalse(ApiError.isRetryable(value))
      assert.isFalse(ApiError.isFatal(value))
    }
  )

  it("the tag sets are disjoint and hold 10 + 10 tags", () => {
    expect(ApiError.retryableTags.size).toBe(10)
    expect(ApiError.fatalTags.size).toBe(10)
    for (const tag of ApiError.retryableTags) assert.isFalse(ApiError.fatalTags.has(tag as never), tag)
  })
})

describe("schemas", () => {
  it("ErrorBody decodes the documented envelope, with or without request_id, extra fields allowed", () => {
    const decodeBody = Schema.decodeUnknownEither(Schema.parseJson(ApiError.ErrorBody))
    expect(decodeBody(envelope("overloaded_error", "Overloaded", "req_1"))._tag).toBe("Right")
    expect(decodeBody(envelope("overloaded_error", "Overloaded"))._tag).toBe("Right")
    expect(decodeBody(envelope("overloaded_error", "Overloaded", null))._tag).toBe("Right")
    expect(decodeBody("{\"type\":\"error\",\"error\":{\"type\":\"x\",\"message\":\"y\",\"z\":1},\"w\":2}")._tag).toBe("Right")
    expect(decodeBody("{\"type\":\"request_too_large\",\"message\":\"x\"}")._tag).toBe("Left")
    expect(decodeBody(CLOUDFLARE_413)._tag).toBe("Left")
  })

  it("a decoded error round-trips through the ApiError schema", () => {
    const encode = Schema.encodeSync(ApiError.ApiError)
    const decodeError = Schema.decodeUnknownSync(ApiError.ApiError)
    for (const row of rows) {
      const error = decode(row.status, row.body("req_rt"), { ...row.headers, ...RATE_LIMIT_HEADERS })
      const back = decodeError(encode(error))
      assert.strictEqual(back._tag, error._tag)
      assert.strictEqual(back.message, error.message)
      assert.strictEqual(ApiError.isRetryable(back), ApiError.isRetryable(error))
    }
  })
})

// ---------------------------------------------------------------------------
// properties
// ---------------------------------------------------------------------------

/**
 * The expected tag, written from the rules and independently of
 * `classify`: read the body as the documented envelope (or the edge's
 * wrapper-less `{type, message}`); a known `error.type` decides, else the
 * status; a 400 or 429 (by status, or by a type that stands for one, as in a
 * stream's `error` event) whose message says "spend limit" or "usage limit"
 * is a SpendLimitError.
 */
const TYPE_TAGS = new Map<string, ApiError.Tag>([
  ["invalid_request_error", "InvalidRequestError"],
  ["authentication_error", "AuthenticationError"],
  ["billing_error", "BillingError"],
  ["permission_error", "PermissionError"],
  ["not_found_error", "NotFoundError"],
  ["request_too_large", "RequestTooLargeError"],
  ["rate_limit_error", "RateLimitError"],
  ["api_error", "InternalServerError"],
  ["timeout_error", "GatewayTimeoutError"],
  ["overloaded_error", "OverloadedError"]
])

const STATUS_TAGS = new Map<number, ApiError.Tag>([
  [400, "InvalidRequestError"],
  [401, "AuthenticationError"],
  [402, "BillingError"],
  [403, "PermissionError"],
  [404, "NotFoundError"],
  [413, "RequestTooLargeError"],
  [422, "UnprocessableEntityError"],
  [429, "RateLimitError"],
  [500, "InternalServerError"],
  [502, "BadGatewayError"],
  [503, "ServiceUnavailableError"],
  [504, "GatewayTimeoutError"],
  [529, "OverloadedError"]
])

interface OracleBody {
  readonly type: string | undefined
  readonly message: string | undefined
  readonly requestId: string | undefined
}

const oracleRead = (body: string): OracleBody => {
  const nothing = { type: undefined, message: undefined, requestId: undefined }
  const text = (u: unknown) => (typeof u === "string" && u !== "" ? u : undefined)
  const isObject = (u: unknown): u is Record<string, unknown> =>
    typeof u === "object" && u !== null && !Array.isArray(u)
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    return nothing
  }
  if (!isObject(json)) return nothing
  if (isObject(json.error)) {
    return { type: text(json.error.type), message: text(json.error.message), requestId: text(json.request_id) }
  }
  if (typeof json.type === "string" && json.type !== "error") {
    return { type: text(json.type), message: text(json.message), requestId: text(json.request_id) }
  }
  return nothing
}

const FATAL_HTTP_TAGS = new Set<ApiError.Tag>([
  "InvalidRequestError",
  "AuthenticationError",
  "BillingError",
  "PermissionError",
  "NotFoundError",
  "RequestTooLargeError",
  "UnprocessableEntityError",
  "UnexpectedStatusError"
])

const expectedTag = (status: number, body: string, shouldRetry?: string): ApiError.Tag => {
  const { message, type } = oracleRead(body)
  // a status the table does not name: 408 and a 5xx (not 501, 505) are transient
  const byStatus = STATUS_TAGS.get(status) ??
    (status === 408
      ? "RequestTimeoutError"
      : status >= 500 && status < 600 && status !== 501 && status !== 505
      ? "UnexpectedServerError"
      : "UnexpectedStatusError")
  const base = (type !== undefined ? TYPE_TAGS.get(type) : undefined) ?? byStatus
  const says = message !== undefined &&
    /spend limit|usage limit/i.test(message.replace(new RegExp(`${UNSAFE.source}+`, "g"), " "))
  const limitContext = status === 400 || status === 429 || base === "InvalidRequestError" ||
    base === "RateLimitError"
  if (says && limitContext) return "SpendLimitError"
  // the server's x-should-retry: true makes any other Fatal response Retryable
  return shouldRetry?.trim().toLowerCase() === "true" && FATAL_HTTP_TAGS.has(base) ? "ServerRetryableError" : base
}

/** the last value whose name matches in any case, as a header map would keep it */
const headerValue = (headers: Readonly<Record<string, string>>, name: string): string | undefined => {
  let found: string | undefined
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) found = value
  return found
}

const documentedStatus = fc.constantFrom(200, 400, 401, 402, 403, 404, 413, 422, 429, 500, 502, 503, 504, 529)
const statusArb = fc.oneof(documentedStatus, fc.integer({ min: 100, max: 599 }), fc.integer())

const knownType = fc.constantFrom(...TYPE_TAGS.keys())
const typeArb = fc.oneof(
  knownType,
  fc.constantFrom("", "error", "unknown_error", "__proto__", "constructor", "toString", "Overloaded_Error"),
  fc.string()
)
const messageArb = fc.oneof(
  fc.constantFrom(
    SPEND_429,
    USAGE_400,
    "SPEND LIMIT",
    "usage\nlimit",
    "spend\u0000\u0001limit",
    "spend  limit",
    "Overloaded",
    "rate limit",
    ""
  ),
  fc.string({ unit: "binary" }),
  fc.tuple(fc.string(), fc.constantFrom("spend limit", "Usage Limit"), fc.string()).map(([a, b, c]) => a + b + c)
)
const requestIdArb = fc.option(fc.oneof(fc.constant("req_011CAbc"), fc.string({ unit: "binary" })), {
  nil: undefined
})

const bodyArb: fc.Arbitrary<string> = fc.oneof(
  // the documented envelope
  fc.record({ type: typeArb, message: messageArb, requestId: requestIdArb }).map(({ message, requestId, type }) =>
    envelope(type, message, requestId)
  ),
  // the envelope with fields of any JSON type
  fc.record({ type: fc.jsonValue(), message: fc.jsonValue(), request_id: fc.jsonValue() }).map(
    ({ message, request_id, type }) => JSON.stringify({ type: "error", error: { type, message }, request_id })
  ),
  // wrapper-less
  fc.record({ type: typeArb, message: messageArb }).map((flat) => JSON.stringify(flat)),
  // truncated envelopes
  fc.tuple(fc.record({ type: knownType, message: messageArb }), fc.nat()).map(([{ message, type }, cut]) => {
    const whole = envelope(type, message, "req_cut")
    return whole.slice(0, cut % whole.length)
  }),
  fc.json(),
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.constantFrom("", " ", "\r\n", CLOUDFLARE_413, BAD_GATEWAY_HTML, UNAVAILABLE_TEXT, "null", "[]", "{}")
)

const headerNames = [
  "request-id",
  "x-should-retry",
  "retry-after",
  "retry-after-ms",
  "anthropic-ratelimit-requests-limit",
  "anthropic-ratelimit-requests-remaining",
  "anthropic-ratelimit-requests-reset",
  "anthropic-ratelimit-tokens-reset",
  "anthropic-priority-input-tokens-remaining",
  "content-type"
]
const headerNameArb = fc.oneof(fc.mixedCase(fc.constantFrom(...headerNames)), fc.string(), fc.constantFrom(
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  ""
))
const headerValueArb = fc.oneof(
  fc.constantFrom(
    "",
    " ",
    "true",
    "FALSE",
    "0",
    "20",
    "1.5",
    "-1",
    "NaN",
    "Infinity",
    "1e3",
    "+5",
    "9".repeat(400),
    "\r\nx-injected: 1",
    "\u0000",
    "Mon, 23 Nov 2026 17:52:35 GMT",
    "2026-11-23T17:52:35Z"
  ),
  fc.string({ unit: "binary" }),
  fc.nat().map(String)
)
const headersArb = fc.dictionary(headerNameArb, headerValueArb, { maxKeys: 8 })

describe("properties of fromResponse", () => {
  it("is total, and its tag agrees with the table (10 000 runs)", () => {
    fc.assert(
      fc.property(statusArb, headersArb, bodyArb, fc.boolean(), fc.integer(), (status, headers, body, asPlatform, now) => {
        const error = ApiError.fromResponse({
          status,
          headers: asPlatform ? Headers.fromInput(headers) : headers,
          body,
          now
        })
        const oracle = oracleRead(body)
        assert.strictEqual(error._tag, expectedTag(status, body, headerValue(headers, "x-should-retry")))
        assert.isTrue(ApiError.isApiError(error))
        assert.notStrictEqual(ApiError.isRetryable(error), ApiError.isFatal(error))
        assert.strictEqual(ApiError.isRetryable(error), ApiError.retryableTags.has(error._tag as never))
        assert.strictEqual(error.status, status)
        expect(error.errorType).toEqual(Option.fromNullable(oracle.type))
        // the message: status and type, no control characters, bounded
        expect(error.message.startsWith(`HTTP ${status} `)).toBe(true)
        assert.notMatch(error.message, CONTROL)
        expect(error.message.length).toBeLessThan(8_000)
        // request id: present ⇒ non-empty and clean; the body's clean id wins
        Option.match(error.requestId, {
          onNone: () => undefined,
          onSome: (id) => {
            assert.isAbove(id.length, 0)
            assert.notMatch(id, UNSAFE)
          }
        })
        if (oracle.requestId !== undefined && !UNSAFE.test(oracle.requestId) && oracle.requestId.trim() === oracle.requestId) {
          expect(error.requestId).toEqual(Option.some(oracle.requestId))
        }
        const should = headerValue(headers, "x-should-retry")?.trim().toLowerCase()
        expect(error.shouldRetry).toEqual(
          should === "true" ? Option.some(true) : should === "false" ? Option.some(false) : Option.none()
        )
        if (ApiError.isRetryable(error)) {
          Option.map(error.retryAfter, (d) => assert.isTrue(Duration.toMillis(d) >= 0))
          assert.instanceOf(error.rateLimits, RateLimits.Snapshot)
        }
      }),
      { numRuns: 10_000 }
    )
  })
})
