import type { Effect, Option, Duration, Schema } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import { ApiError, RateLimits } from "../src/index.js"

type Retryable = ApiError.Retryable
type Fatal = ApiError.Fatal

/** the members of A that are assignable to B (distributes over A) */
type MembersAssignableTo<A, B> = A extends B ? A : never

type RetryableTags =
  | "RateLimitError"
  | "InternalServerError"
  | "BadGatewayError"
  | "ServiceUnavailableError"
  | "GatewayTimeoutError"
  | "OverloadedError"
  | "RequestTimeoutError"
  | "UnexpectedServerError"
  | "ServerRetryableError"
  | "TransportError"

type FatalTags =
  | "InvalidRequestError"
  | "AuthenticationError"
  | "BillingError"
  | "PermissionError"
  | "NotFoundError"
  | "RequestTooLargeError"
  | "UnprocessableEntityError"
  | "SpendLimitError"
  | "UnexpectedStatusError"
  | "ClientRequestError"

describe("Retryable and Fatal", () => {
  it("are disjoint", () => {
    expectTypeOf<Extract<Retryable["_tag"], Fatal["_tag"]>>().toBeNever()
    expectTypeOf<Extract<Fatal["_tag"], Retryable["_tag"]>>().toBeNever()
    expectTypeOf<MembersAssignableTo<Retryable, Fatal>>().toBeNever()
    expectTypeOf<MembersAssignableTo<Fatal, Retryable>>().toBeNever()
    expectTypeOf<Retryable & Fatal>().toBeNever()
  })

  it("hold exactly the tags of the table", () => {
    expectTypeOf<Retryable["_tag"]>().toEqualTypeOf<RetryableTags>()
    expectTypeOf<Fatal["_tag"]>().toEqualTypeOf<FatalTags>()
    expectTypeOf<ApiError.Tag>().toEqualTypeOf<RetryableTags | FatalTags>()
  })

  it("ApiError = Retryable | Fatal", () => {
    expectTypeOf<ApiError.ApiError>().toEqualTypeOf<Retryable | Fatal>()
  })

  it("the Schemas have the same types", () => {
    expectTypeOf<Schema.Schema.Type<typeof ApiError.Retryable>>().toEqualTypeOf<Retryable>()
    expectTypeOf<Schema.Schema.Type<typeof ApiError.Fatal>>().toEqualTypeOf<Fatal>()
    expectTypeOf<Schema.Schema.Type<typeof ApiError.ApiError>>().toEqualTypeOf<ApiError.ApiError>()
  })
})

describe("each tag lands in the right union", () => {
  it("Retryable", () => {
    expectTypeOf<ApiError.RateLimitError>().toExtend<Retryable>()
    expectTypeOf<ApiError.RateLimitError>().not.toExtend<Fatal>()
    expectTypeOf<ApiError.InternalServerError>().toExtend<Retryable>()
    expectTypeOf<ApiError.InternalServerError>().not.toExtend<Fatal>()
    expectTypeOf<ApiError.BadGatewayError>().toExtend<Retryable>()
    expectTypeOf<ApiError.BadGatewayError>().not.toExtend<Fatal>()
    expectTypeOf<ApiError.ServiceUnavailableError>().toExtend<Retryable>()
    expectTypeOf<ApiError.ServiceUnavailableError>().not.toExtend<Fatal>()
    expectTypeOf<ApiError.GatewayTimeoutError>().toExtend<Retryable>()
    expectTypeOf<ApiError.GatewayTimeoutError>().not.toExtend<Fatal>()
    expectTypeOf<ApiError.OverloadedError>().toExtend<Retryable>()
    expectTypeOf<ApiError.OverloadedError>().not.toExtend<Fatal>()
    expectTypeOf<ApiError.TransportError>().toExtend<Retryable>()
    expectTypeOf<ApiError.TransportError>().not.toExtend<Fatal>()
    expectTypeOf<ApiError.RequestTimeoutError>().toExtend<Retryable>()
    expectTypeOf<ApiError.RequestTimeoutError>().not.toExtend<Fatal>()
    expectTypeOf<ApiError.UnexpectedServerError>().toExtend<Retryable>()
    expectTypeOf<ApiError.UnexpectedServerError>().not.toExtend<Fatal>()
    expectTypeOf<ApiError.ServerRetryableError>().toExtend<Retryable>()
    expectTypeOf<ApiError.ServerRetryableError>().not.toExtend<Fatal>()
  })

  it("a ServerRetryableError names the Fatal tag it stands in for, never a spend limit", () => {
    expectTypeOf<ApiError.ServerRetryableError["originalTag"]>().toEqualTypeOf<
      Exclude<Fatal["_tag"], "SpendLimitError" | "ClientRequestError">
    >()
    expectTypeOf<ApiError.ServerRetryableError["status"]>().toEqualTypeOf<number>()
    expectTypeOf<ApiError.ServerRetryableError["retryAfter"]>().toEqualTypeOf<Option.Option<Duration.Duration>>()
  })

  it("Fatal", () => {
    expectTypeOf<ApiError.InvalidRequestError>().toExtend<Fatal>()
    expectTypeOf<ApiError.InvalidRequestError>().not.toExtend<Retryable>()
    expectTypeOf<ApiError.AuthenticationError>().toExtend<Fatal>()
    expectTypeOf<ApiError.AuthenticationError>().not.toExtend<Retryable>()
    expectTypeOf<ApiError.BillingError>().toExtend<Fatal>()
    expectTypeOf<ApiError.BillingError>().not.toExtend<Retryable>()
    expectTypeOf<ApiError.PermissionError>().toExtend<Fatal>()
    expectTypeOf<ApiError.PermissionError>().not.toExtend<Retryable>()
    expectTypeOf<ApiError.NotFoundError>().toExtend<Fatal>()
    expectTypeOf<ApiError.NotFoundError>().not.toExtend<Retryable>()
    expectTypeOf<ApiError.RequestTooLargeError>().toExtend<Fatal>()
    expectTypeOf<ApiError.RequestTooLargeError>().not.toExtend<Retryable>()
    expectTypeOf<ApiError.UnprocessableEntityError>().toExtend<Fatal>()
    expectTypeOf<ApiError.UnprocessableEntityError>().not.toExtend<Retryable>()
    expectTypeOf<ApiError.SpendLimitError>().toExtend<Fatal>()
    expectTypeOf<ApiError.SpendLimitError>().not.toExtend<Retryable>()
    expectTypeOf<ApiError.UnexpectedStatusError>().toExtend<Fatal>()
    expectTypeOf<ApiError.UnexpectedStatusError>().not.toExtend<Retryable>()
    expectTypeOf<ApiError.ClientRequestError>().toExtend<Fatal>()
    expectTypeOf<ApiError.ClientRequestError>().not.toExtend<Retryable>()
  })

  it("the compiler refuses a member of one where the other is expected", () => {
    const retryOnly = (_: Retryable) => undefined
    const fixOnly = (_: Fatal) => undefined
    const spend = null as unknown as ApiError.SpendLimitError
    const client = null as unknown as ApiError.ClientRequestError
    const overloaded = null as unknown as ApiError.OverloadedError
    const transport = null as unknown as ApiError.TransportError
    // @ts-expect-error a spend limit is never retried
    retryOnly(spend)
    // @ts-expect-error a broken request is never retried
    retryOnly(client)
    // @ts-expect-error an overload is not a caller's mistake
    fixOnly(overloaded)
    // @ts-expect-error a transport failure is not a caller's mistake
    fixOnly(transport)
    retryOnly(overloaded)
    fixOnly(spend)
  })
})

describe("fields", () => {
  it("HTTP errors carry status, requestId, errorType, shouldRetry", () => {
    expectTypeOf<ApiError.SpendLimitError["status"]>().toEqualTypeOf<number>()
    expectTypeOf<ApiError.SpendLimitError["requestId"]>().toEqualTypeOf<Option.Option<string>>()
    expectTypeOf<ApiError.SpendLimitError["errorType"]>().toEqualTypeOf<Option.Option<string>>()
    expectTypeOf<ApiError.SpendLimitError["shouldRetry"]>().toEqualTypeOf<Option.Option<boolean>>()
  })

  it("retryable HTTP errors also carry retryAfter and the rate-limit snapshot; fatal ones do not", () => {
    expectTypeOf<ApiError.OverloadedError["retryAfter"]>().toEqualTypeOf<Option.Option<Duration.Duration>>()
    expectTypeOf<ApiError.OverloadedError["rateLimits"]>().toEqualTypeOf<RateLimits.Snapshot>()
    expectTypeOf<ApiError.InvalidRequestError>().not.toHaveProperty("retryAfter")
    expectTypeOf<ApiError.InvalidRequestError>().not.toHaveProperty("rateLimits")
  })

  it("a TransportError has no status and no headers", () => {
    expectTypeOf<ApiError.TransportError>().not.toHaveProperty("status")
    expectTypeOf<ApiError.TransportError>().not.toHaveProperty("headers")
    expectTypeOf<ApiError.TransportError>().toHaveProperty("method").toEqualTypeOf<string>()
    expectTypeOf<ApiError.TransportError>().toHaveProperty("url").toEqualTypeOf<string>()
  })
})

describe("guards narrow", () => {
  it("isRetryable / isFatal split an ApiError", () => {
    const error = null as unknown as ApiError.ApiError
    if (ApiError.isRetryable(error)) {
      expectTypeOf(error).toEqualTypeOf<Retryable>()
    } else {
      expectTypeOf(error).toEqualTypeOf<Fatal>()
    }
    if (ApiError.isFatal(error)) {
      expectTypeOf(error).toEqualTypeOf<Fatal>()
    } else {
      expectTypeOf(error).toEqualTypeOf<Retryable>()
    }
  })

  it("isApiError narrows unknown", () => {
    const u: unknown = null
    if (ApiError.isApiError(u)) {
      expectTypeOf(u).toEqualTypeOf<ApiError.ApiError>()
    }
    if (ApiError.isRetryable(u)) {
      expectTypeOf(u).toEqualTypeOf<Retryable>()
    }
  })
})

describe("decoders", () => {
  it("fromResponse returns an ApiError, never a TransportError or ClientRequestError", () => {
    expectTypeOf(ApiError.fromResponse).returns.toExtend<ApiError.ApiError>()
    expectTypeOf<Extract<ReturnType<typeof ApiError.fromResponse>, { readonly _tag: "TransportError" }>>()
      .toBeNever()
    expectTypeOf<Extract<ReturnType<typeof ApiError.fromResponse>, { readonly _tag: "ClientRequestError" }>>()
      .toBeNever()
  })

  it("fromResponse accepts a record or platform Headers, and an optional now", () => {
    expectTypeOf(ApiError.fromResponse).toBeCallableWith({ status: 529, body: "" })
    expectTypeOf(ApiError.fromResponse).toBeCallableWith({ status: 529, headers: { "retry-after": "1" }, body: "", now: 0 })
    // @ts-expect-error the body is text
    ApiError.fromResponse({ status: 529, body: 42 })
    // @ts-expect-error the status is required
    ApiError.fromResponse({ body: "" })
  })

  it("the Effect decoders fail with ApiError and never succeed", () => {
    expectTypeOf(ApiError.fromHttpResponse).returns.toEqualTypeOf<Effect.Effect<never, ApiError.ApiError>>()
    expectTypeOf(ApiError.fromHttpClientError).returns.toEqualTypeOf<Effect.Effect<never, ApiError.ApiError>>()
  })

  it("retryAfter only takes a Retryable", () => {
    const fatal = null as unknown as Fatal
    // @ts-expect-error a fatal error has no wait to honour
    ApiError.retryAfter(fatal)
    expectTypeOf(ApiError.retryAfter).parameter(0).toEqualTypeOf<Retryable>()
  })
})

describe("the public module", () => {
  it("holds no status table: the lab's canonical bodies and decision rows are internal", () => {
    // @ts-expect-error internal/statusTable.ts
    ApiError.decisionTable
    // @ts-expect-error internal/statusTable.ts
    ApiError.canonicalBody
    // @ts-expect-error internal/statusTable.ts
    ApiError.documentedStatuses
    // @ts-expect-error internal/statusTable.ts
    ApiError.actions
    // @ts-expect-error now StatusHandling, in internal/statusTable.ts
    type Row = ApiError.Decision
  })
})
