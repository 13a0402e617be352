import { type Duration, Effect, Either, type Layer, Schedule, type Scope } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import { ApiError, CircuitBreaker, type Options, Resilience, RetryBudget, RetryPolicy } from "../src/index.js"

declare const schedule: ReturnType<typeof RetryPolicy.schedule>

type InputOf<S> = S extends Schedule.Schedule<infer _Out, infer In, infer _R> ? In : never
type OutputOf<S> = S extends Schedule.Schedule<infer Out, infer _In, infer _R> ? Out : never

describe("RetryPolicy.schedule: a Fatal error cannot reach it", () => {
  it("its input is exactly ApiError.Retryable, its output a RetryDecision, and it needs nothing", () => {
    expectTypeOf(RetryPolicy.schedule()).toEqualTypeOf<Schedule.Schedule<RetryPolicy.RetryDecision, ApiError.Retryable>>()
    expectTypeOf<InputOf<typeof schedule>>().toEqualTypeOf<ApiError.Retryable>()
    expectTypeOf<OutputOf<typeof schedule>>().toEqualTypeOf<RetryPolicy.RetryDecision>()
    expectTypeOf<RetryPolicy.RetryDecision>().toEqualTypeOf<RetryPolicy.Retry | RetryPolicy.GiveUp>()
  })

  it("Effect.retry accepts it for every Retryable error, alone or together", () => {
    expectTypeOf(Effect.retry(Effect.fail(null as unknown as ApiError.Retryable), RetryPolicy.schedule()))
      .toEqualTypeOf<Effect.Effect<never, ApiError.Retryable>>()
    Effect.retry(Effect.fail(null as unknown as ApiError.RateLimitError), schedule)
    Effect.retry(Effect.fail(null as unknown as ApiError.InternalServerError), schedule)
    Effect.retry(Effect.fail(null as unknown as ApiError.BadGatewayError), schedule)
    Effect.retry(Effect.fail(null as unknown as ApiError.ServiceUnavailableError), schedule)
    Effect.retry(Effect.fail(null as unknown as ApiError.GatewayTimeoutError), schedule)
    Effect.retry(Effect.fail(null as unknown as ApiError.OverloadedError), schedule)
    Effect.retry(Effect.fail(null as unknown as ApiError.TransportError), schedule)
    // 408, an undocumented 5xx, and a response the server marked x-should-retry: true
    Effect.retry(Effect.fail(null as unknown as ApiError.RequestTimeoutError), schedule)
    Effect.retry(Effect.fail(null as unknown as ApiError.UnexpectedServerError), schedule)
    Effect.retry(Effect.fail(null as unknown as ApiError.ServerRetryableError), schedule)
  })

  it("Effect.retry rejects it for every Fatal tag", () => {
    // @ts-expect-error 400 InvalidRequestError is Fatal
    Effect.retry(Effect.fail(null as unknown as ApiError.InvalidRequestError), RetryPolicy.schedule())
    // @ts-expect-error 401 AuthenticationError is Fatal
    Effect.retry(Effect.fail(null as unknown as ApiError.AuthenticationError), RetryPolicy.schedule())
    // @ts-expect-error 402 BillingError is Fatal
    Effect.retry(Effect.fail(null as unknown as ApiError.BillingError), RetryPolicy.schedule())
    // @ts-expect-error 403 PermissionError is Fatal
    Effect.retry(Effect.fail(null as unknown as ApiError.PermissionError), RetryPolicy.schedule())
    // @ts-expect-error 404 NotFoundError is Fatal
    Effect.retry(Effect.fail(null as unknown as ApiError.NotFoundError), RetryPolicy.schedule())
    // @ts-expect-error 413 RequestTooLargeError is Fatal
    Effect.retry(Effect.fail(null as unknown as ApiError.RequestTooLargeError), RetryPolicy.schedule())
    // @ts-expect-error 422 UnprocessableEntityError is Fatal
    Effect.retry(Effect.fail(null as unknown as ApiError.UnprocessableEntityError), RetryPolicy.schedule())
    // @ts-expect-error SpendLimitError is Fatal
    Effect.retry(Effect.fail(null as unknown as ApiError.SpendLimitError), RetryPolicy.schedule())
    // @ts-expect-error UnexpectedStatusError is Fatal
    Effect.retry(Effect.fail(null as unknown as ApiError.UnexpectedStatusError), RetryPolicy.schedule())
    // @ts-expect-error ClientRequestError is Fatal
    Effect.retry(Effect.fail(null as unknown as ApiError.ClientRequestError), RetryPolicy.schedule())
  })

  it("Effect.retry rejects it for the Fatal union, for ApiError as a whole, and in pipe form", () => {
    // @ts-expect-error the Fatal union
    Effect.retry(Effect.fail(null as unknown as ApiError.Fatal), RetryPolicy.schedule())
    // @ts-expect-error ApiError = Retryable | Fatal
    Effect.retry(Effect.fail(null as unknown as ApiError.ApiError), RetryPolicy.schedule())
    // @ts-expect-error a Retryable mixed with one Fatal tag
    Effect.retry(Effect.fail(null as unknown as ApiError.OverloadedError | ApiError.NotFoundError), schedule)
    // @ts-expect-error data-last
    Effect.fail(null as unknown as ApiError.ApiError).pipe(Effect.retry(RetryPolicy.schedule()))
    // @ts-expect-error an error that is not an ApiError at all
    Effect.retry(Effect.fail(new Error("boom")), RetryPolicy.schedule())
  })

  it("every Fatal tag is covered above", () => {
    expectTypeOf<ApiError.Fatal["_tag"]>().toEqualTypeOf<
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
    >()
  })
})

interface Service {
  readonly _: unique symbol
}
class MyError {
  readonly _tag = "MyError"
}
declare const call: Effect.Effect<number, ApiError.ApiError | MyError, Service>
declare const policy: RetryPolicy.RetryPolicy

describe("RetryPolicy.retry preserves A, E and R", () => {
  it("data-last and data-first, with the defaults or a validated policy", () => {
    expectTypeOf(call.pipe(RetryPolicy.retry())).toEqualTypeOf<
      Effect.Effect<number, ApiError.ApiError | MyError, Service>
    >()
    expectTypeOf(call.pipe(RetryPolicy.retry(policy))).toEqualTypeOf<
      Effect.Effect<number, ApiError.ApiError | MyError, Service>
    >()
    expectTypeOf(RetryPolicy.retry(call)).toEqualTypeOf<Effect.Effect<number, ApiError.ApiError | MyError, Service>>()
    expectTypeOf(RetryPolicy.retry(call, policy)).toEqualTypeOf<
      Effect.Effect<number, ApiError.ApiError | MyError, Service>
    >()
    expectTypeOf(RetryPolicy.retry(RetryPolicy.defaults)(Effect.succeed("x"))).toEqualTypeOf<
      Effect.Effect<string>
    >()
  })

  it("raw options do not type-check, in either form: retry takes a built policy or nothing", () => {
    // @ts-expect-error raw options, data-last
    call.pipe(RetryPolicy.retry({ jitter: "equal" }))
    // @ts-expect-error raw options, data-first
    RetryPolicy.retry(call, { maxRetries: 3, maxElapsed: "20 seconds" })
    // @ts-expect-error the old wall-clock option's name
    RetryPolicy.retry(call, { budget: "20 seconds" })
    const either = null as unknown as RetryPolicy.RetryPolicy | RetryPolicy.Options
    // @ts-expect-error a value that may be raw options
    RetryPolicy.retry(call, either)
    // @ts-expect-error a value that may be raw options, data-last
    call.pipe(RetryPolicy.retry(either))
  })

  it("the error channel is exactly the input's: nothing added, with or without a policy", () => {
    expectTypeOf(call.pipe(RetryPolicy.retry(policy))).toEqualTypeOf<
      Effect.Effect<number, ApiError.ApiError | MyError, Service>
    >()
    expectTypeOf(RetryPolicy.retry(Effect.fail(new MyError()))).toEqualTypeOf<Effect.Effect<never, MyError>>()
    expectTypeOf(RetryPolicy.retry(Effect.succeed(1), policy)).toEqualTypeOf<Effect.Effect<number>>()
  })

  it("make returns an Either with the one InvalidOptionsError; options are checked for shape", () => {
    expectTypeOf(RetryPolicy.make({ base: "2 seconds" })).toEqualTypeOf<
      Either.Either<RetryPolicy.RetryPolicy, Options.InvalidOptionsError>
    >()
    expectTypeOf(RetryPolicy.make()).toEqualTypeOf<Either.Either<RetryPolicy.RetryPolicy, Options.InvalidOptionsError>>()
    // @ts-expect-error an unknown jitter
    RetryPolicy.make({ jitter: "sometimes" })
    // @ts-expect-error a misspelt option
    RetryPolicy.make({ maxRetry: 3 })
    // @ts-expect-error the wall-clock limit is maxElapsed
    RetryPolicy.make({ budget: "10 seconds" })
    // @ts-expect-error schedule takes a validated policy, not raw options
    RetryPolicy.schedule({ jitter: "none" })
  })
})

describe("Resilience.retry and Resilience.protect: the wiring is in the type", () => {
  type Shared = CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget

  it("retry adds exactly CircuitBreaker | RetryBudget to R, and nothing to E", () => {
    expectTypeOf(call.pipe(Resilience.retry())).toEqualTypeOf<
      Effect.Effect<number, ApiError.ApiError | MyError, Service | Shared>
    >()
    expectTypeOf(Resilience.retry(call, policy)).toEqualTypeOf<
      Effect.Effect<number, ApiError.ApiError | MyError, Service | Shared>
    >()
  })

  it("protect adds CircuitOpenError to E and exactly CircuitBreaker | RetryBudget to R", () => {
    expectTypeOf(call.pipe(Resilience.protect())).toEqualTypeOf<
      Effect.Effect<number, ApiError.ApiError | MyError | CircuitBreaker.CircuitOpenError, Service | Shared>
    >()
    expectTypeOf(Resilience.protect(call, policy)).toEqualTypeOf<
      Effect.Effect<number, ApiError.ApiError | MyError | CircuitBreaker.CircuitOpenError, Service | Shared>
    >()
  })

  it("raw options do not type-check; the layer provides both services and fails with InvalidOptionsError", () => {
    // @ts-expect-error raw options
    call.pipe(Resilience.protect({ maxRetries: 3 }))
    // @ts-expect-error raw options, data-first
    Resilience.retry(call, { maxRetries: 3 })
    expectTypeOf(Resilience.layer()).toEqualTypeOf<Layer.Layer<Shared, Options.InvalidOptionsError>>()
    const provided = call.pipe(Resilience.protect(), Effect.provide(Resilience.layer()))
    expectTypeOf(provided).toEqualTypeOf<
      Effect.Effect<number, ApiError.ApiError | MyError | CircuitBreaker.CircuitOpenError | Options.InvalidOptionsError, Service>
    >()
  })
})

describe("the other modules' constructors", () => {
  it("make builds the service, settings validates, both with InvalidOptionsError", () => {
    expectTypeOf(CircuitBreaker.make()).toEqualTypeOf<
      Effect.Effect<CircuitBreaker.Service, Options.InvalidOptionsError, Scope.Scope>
    >()
    expectTypeOf(CircuitBreaker.settings({ window: "1 minute" })).toEqualTypeOf<
      Either.Either<CircuitBreaker.Settings, Options.InvalidOptionsError>
    >()
    expectTypeOf(RetryBudget.make()).toEqualTypeOf<Effect.Effect<RetryBudget.Service, Options.InvalidOptionsError>>()
    expectTypeOf(RetryBudget.settings()).toEqualTypeOf<Either.Either<RetryBudget.Settings, Options.InvalidOptionsError>>()
    expectTypeOf<CircuitBreaker.Service["admitsAt"]>().toEqualTypeOf<(instant: number) => Effect.Effect<boolean>>()
    // public settings hold Durations
    expectTypeOf<CircuitBreaker.Settings["window"]>().toEqualTypeOf<Duration.Duration>()
    expectTypeOf<RetryBudget.Settings["ttl"]>().toEqualTypeOf<Duration.Duration>()
    // @ts-expect-error windowMillis is gone: window is a Duration
    CircuitBreaker.make({ windowMillis: 30_000 })
  })
})
