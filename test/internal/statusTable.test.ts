import { assert, describe, expect, it } from "@effect/vitest"
import { Option } from "effect"
import { ApiError } from "../../src/index.js"
import * as StatusTable from "../../src/internal/statusTable.js"

const decode = (status: number, body: string) => ApiError.fromResponse({ status, headers: {}, body, now: 0 })

describe("the status table", () => {
  const table = StatusTable.table()

  it("lists the documented statuses in order, with 408, 501, 505 and the other 5xx", () => {
    expect(table.map((row) => row.status)).toEqual([
      200, 400, 401, 402, 403, 404, 408, 413, 422, 429, 500, 501, 502, 503, 504, 505, 529, "other 5xx", "other"
    ])
  })

  it("agrees with fromResponse on every row", () => {
    for (const row of table) {
      if (row.status === 200) continue
      const status = row.status === "other" ? 418 : row.status === "other 5xx" ? 520 : row.status
      const error = decode(status, StatusTable.canonicalBody(status))
      assert.strictEqual(row.tag, error._tag, `status ${row.status}`)
      assert.strictEqual(row.retryable, ApiError.isRetryable(error), `status ${row.status}`)
      expect(row.errorType).toEqual(error.errorType)
      assert.strictEqual(row.action, StatusTable.actions[error._tag])
    }
  })

  it.each([
    [200, "Success", false, undefined],
    [400, "InvalidRequestError", false, "invalid_request_error"],
    [401, "AuthenticationError", false, "authentication_error"],
    [402, "BillingError", false, "billing_error"],
    [403, "PermissionError", false, "permission_error"],
    [404, "NotFoundError", false, "not_found_error"],
    [408, "RequestTimeoutError", true, undefined],
    [413, "RequestTooLargeError", false, "request_too_large"],
    [422, "UnprocessableEntityError", false, undefined],
    [429, "RateLimitError", true, "rate_limit_error"],
    [500, "InternalServerError", true, "api_error"],
    [501, "UnexpectedStatusError", false, undefined],
    [502, "BadGatewayError", true, undefined],
    [503, "ServiceUnavailableError", true, undefined],
    [504, "GatewayTimeoutError", true, "timeout_error"],
    [505, "UnexpectedStatusError", false, undefined],
    [529, "OverloadedError", true, "overloaded_error"],
    ["other 5xx", "UnexpectedServerError", true, undefined],
    ["other", "UnexpectedStatusError", false, undefined]
  ] as const)("row %s ⇒ %s (retryable: %s, type %s)", (status, tag, retryable, errorType) => {
    const row = table.find((r) => r.status === status)
    if (row === undefined) return assert.fail(`no row for ${status}`)
    assert.strictEqual(row.tag, tag)
    assert.strictEqual(row.retryable, retryable)
    expect(row.errorType).toEqual(Option.fromNullable(errorType))
    expect(row.action.length).toBeGreaterThan(0)
  })

  it("the actions say not to retry exactly the Fatal errors", () => {
    for (const row of table) {
      if (row.tag === "Success") continue
      assert.strictEqual(row.action.startsWith("Do not retry"), !row.retryable, row.tag)
    }
  })
})
