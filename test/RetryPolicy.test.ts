import { describe, expect, it } from "@effect/vitest"
import {
  Cause,
  Clock,
  Data,
  Duration,
  Effect,
  Either,
  Exit,
  FastCheck,
  Logger,
  LogLevel,
  Metric,
  Option,
  Random,
  Ref,
  Runtime
} from "effect"
import { ApiError, CircuitBreaker, Options, RetryBudget, RetryPolicy } from "../src/index.js"
import { type Headers, type Outcome, failureOf, response, retryable, runTimed, scripted } from "./support/retries.js"

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

const clientRequestError = () =>
  new ApiError.ClientRequestError({
    reason: "InvalidUrl",
    message: "The request URL is invalid",
    method: "POST",
    url: "not a url"
  })

/** Every Fatal tag, one error each. */
const fatalErrors: ReadonlyArray<ApiError.Fatal> = [
  response(400),
  response(401),
  response(402),
  response(403),
  response(404),
  response(413),
  response(422),
  response(429, {}, JSON.stringify({
    type: "error",
    error: { type: "rate_limit_error", message: "You have reached your spend limit" }
  })),
  response(418),
  clientRequestError()
] as ReadonlyArray<ApiError.Fatal>

class CircuitOpenError extends Data.TaggedError("CircuitOpenError")<{ readonly openedAt: number }> {}

/** Runs `outcomes` through `RetryPolicy.retry` with every random draw pinned. */
const runScript = <E>(
  outcomes: ReadonlyArray<Outcome<E>>,
  options: { readonly policy?: RetryPolicy.RetryPolicy; readonly draws?: ReadonlyArray<number>; readonly duration?: number } =
    {}
) =>
  Effect.gen(function*() {
    const { call, starts } = yield* scripted(outcomes, options.duration)
    const { endedAt, exit, t0 } = yield* runTimed(RetryPolicy.retry(call, options.policy))
    return { exit, endedAt, starts: (yield* starts).map((t) => t - t0) }
  }).pipe(Effect.withRandom(Random.fixed([...(options.draws ?? [0.5])] as [number, ...Array<number>])))

const policy = (options: RetryPolicy.Options) => Either.getOrThrow(RetryPolicy.make(options))

/** Steps the bare schedule by hand: each input at its own instant. */
const decide = (
  p: RetryPolicy.RetryPolicy,
  inputs: ReadonlyArray<readonly [number, ApiError.Retryable]>
) =>
  Effect.gen(function*() {
    const s = RetryPolicy.schedule(p)
    let state = s.initial
    const out: Array<RetryPolicy.RetryDecision> = []
    for (const [now, input] of inputs) {
      const [next, decision] = yield* s.step(now, input, state)
      state = next
      out.push(decision)
    }
    return out
  })

// ---------------------------------------------------------------------------
// exact waits
// ---------------------------------------------------------------------------

describe("RetryPolicy.retry: exact waits under the TestClock", () => {
  it.effect("529, 529, 529, 200 with every draw 0.5: waits 0.5 s, 1 s, 2 s and 4 attempts", () =>
    Effect.gen(function*() {
      const r = yield* runScript([response(529), response(529), response(529), "ok"])
      expect(r.exit).toStrictEqual(Exit.succeed("ok"))
      expect(r.starts).toEqual([0, 500, 1500, 3500])
      expect(r.endedAt).toBe(3500)
    }))

  it.effect("429 without retry-after: full-jitter backoff", () =>
    Effect.gen(function*() {
      const r = yield* runScript([response(429), response(429), "ok"])
      expect(r.starts).toEqual([0, 500, 1500])
      expect(r.exit).toStrictEqual(Exit.succeed("ok"))
    }))

  it.effect("429 with retry-after (seconds): the wait is max(retry-after, backoff)", () =>
    Effect.gen(function*() {
      // 3 s > 0.5 s backoff; then 0.2 s < 1 s backoff
      const r = yield* runScript([
        response(429, { "retry-after": "3" }),
        response(429, { "retry-after": "0.2" }),
        "ok"
      ])
      expect(r.starts).toEqual([0, 3000, 4000])
    }))

  it.effect("429 with retry-after-ms: wins over retry-after, fractions rounded up", () =>
    Effect.gen(function*() {
      const r = yield* runScript([
        response(429, { "retry-after-ms": "1200.5", "retry-after": "9" }),
        response(429, { "retry-after-ms": "250" }),
        "ok"
      ])
      // 1201 ms (never less than 1200.5); then max(250, 1000) = 1000
      expect(r.starts).toEqual([0, 1201, 2201])
    }))

  it.effect("500, 500: exactly 2 attempts, fails with the second 500", () =>
    Effect.gen(function*() {
      const first = response(500)
      const second = response(500)
      const r = yield* runScript([first, second, "ok"])
      expect(r.starts).toEqual([0, 500])
      expect(r.endedAt).toBe(500)
      expect(Option.getOrThrow(failureOf(r.exit))).toBe(second)
    }))

  it.effect("a second 500 anywhere in the call ends it", () =>
    Effect.gen(function*() {
      const last = response(500)
      const r = yield* runScript([response(500), response(529), response(503), last, "ok"])
      expect(r.starts).toEqual([0, 500, 1500, 3500])
      expect(r.endedAt).toBe(3500)
      expect(Option.getOrThrow(failureOf(r.exit))).toBe(last)
    }))

  it.effect("internalServerErrorRetries: 2 allows a second 500 retry", () =>
    Effect.gen(function*() {
      const r = yield* runScript([response(500), response(500), response(500), "ok"], {
        policy: policy({ internalServerErrorRetries: 2 })
      })
      expect(r.starts).toEqual([0, 500, 1500])
    }))

  it.effect("502, 503, 504, 529, then 200", () =>
    Effect.gen(function*() {
      const r = yield* runScript([response(502), response(503), response(504), response(529), "ok"])
      expect(r.starts).toEqual([0, 500, 1500, 3500, 7500])
      expect(r.exit).toStrictEqual(Exit.succeed("ok"))
    }))

  it.effect("transport errors are retried like 5xx", () =>
    Effect.gen(function*() {
      const transport = ApiError.transportError({
        reason: "Transport",
        method: "POST",
        url: "https://api.anthropic.com/v1/messages",
        detail: "ECONNRESET"
      })
      const r = yield* runScript([transport, transport, "ok"])
      expect(r.starts).toEqual([0, 500, 1500])
    }))

  it.effect("mixed: 429 (retry-after 2 s), 503, 500, 529, then 200", () =>
    Effect.gen(function*() {
      const r = yield* runScript([
        response(429, { "retry-after": "2" }),
        response(503),
        response(500),
        response(529),
        "ok"
      ])
      // waits: max(2000, 500), 1000, 2000, 4000
      expect(r.starts).toEqual([0, 2000, 3000, 5000, 9000])
    }))

  it.effect("5-retry cap: 6 attempts, then the 6th error, unchanged", () =>
    Effect.gen(function*() {
      const errors = Array.from({ length: 8 }, () => response(529))
      const r = yield* runScript(errors)
      expect(r.starts).toEqual([0, 500, 1500, 3500, 7500, 11500])
      expect(r.endedAt).toBe(11500)
      expect(Option.getOrThrow(failureOf(r.exit))).toBe(errors[5])
    }))

  it.effect("maxRetries: 0 means one attempt", () =>
    Effect.gen(function*() {
      const r = yield* runScript([response(529), "ok"], { policy: policy({ maxRetries: 0 }) })
      expect(r.starts).toEqual([0])
      expect(r.endedAt).toBe(0)
    }))
})

describe("RetryPolicy.retry: the 15 s wall-clock limit, maxElapsed", () => {
  it.effect("a wait ending exactly at 15 s is taken; the next, which would cross it, is not", () =>
    Effect.gen(function*() {
      const r = yield* runScript([response(529)], { policy: policy({ jitter: "none" }) })
      // ceilings 1, 2, 4, 8: attempts at 0, 1, 3, 7, 15 s; the next 8 s wait would end at 23 s
      expect(r.starts).toEqual([0, 1000, 3000, 7000, 15000])
      expect(r.endedAt).toBe(15000)
    }))

  it.effect("maxElapsed counts from the first failure and includes the attempts' own time", () =>
    Effect.gen(function*() {
      const r = yield* runScript([response(529)], { policy: policy({ jitter: "none" }), duration: 100 })
      // first failure at 100; failures at 1200, 3300, 7400 (elapsed 7300): an 8 s wait would end at 15.3 s
      expect(r.starts).toEqual([0, 1100, 3200, 7300])
      expect(r.endedAt).toBe(7400)
    }))

  it.effect("all draws 1 (full jitter at its ceiling) behaves like no jitter", () =>
    Effect.gen(function*() {
      const r = yield* runScript([response(503)], { draws: [1] })
      expect(r.starts).toEqual([0, 1000, 3000, 7000, 15000])
    }))

  it.effect("a huge retry-after: 1 attempt, zero virtual time", () =>
    Effect.gen(function*() {
      const error = response(429, { "retry-after": "3600" })
      const r = yield* runScript([error, "ok"])
      expect(r.starts).toEqual([0])
      expect(r.endedAt).toBe(0)
      expect(Option.getOrThrow(failureOf(r.exit))).toBe(error)
    }))

  it.effect("a retry-after longer than what is left ends retries at once", () =>
    Effect.gen(function*() {
      const r = yield* runScript([response(429, { "retry-after": "10" }), response(429, { "retry-after": "10" }), "ok"])
      // 10 s fits; at 10 s only 5 s are left, so the second 10 s is not waited
      expect(r.starts).toEqual([0, 10000])
      expect(r.endedAt).toBe(10000)
    }))

  it.effect("a retry-after equal to maxElapsed is waited", () =>
    Effect.gen(function*() {
      const r = yield* runScript([response(529, { "retry-after": "15" }), "ok"])
      expect(r.starts).toEqual([0, 15000])
    }))

  it.effect("maxElapsed: a custom wall clock", () =>
    Effect.gen(function*() {
      const r = yield* runScript([response(529)], { policy: policy({ jitter: "none", maxElapsed: "3 seconds" }) })
      expect(r.starts).toEqual([0, 1000, 3000])
      expect(r.endedAt).toBe(3000)
    }))
})

describe("RetryPolicy.retry: what is never retried", () => {
  it.effect("every Fatal tag: exactly 1 attempt, zero virtual time, the error unchanged", () =>
    Effect.gen(function*() {
      const tags = new Set(fatalErrors.map((e) => e._tag))
      expect(tags).toEqual(ApiError.fatalTags)
      for (const error of fatalErrors) {
        const { call, starts } = yield* scripted<ApiError.ApiError>([error, "ok"])
        const exit = yield* Effect.exit(RetryPolicy.retry(call))
        expect(yield* starts).toEqual([0])
        expect(yield* Clock.currentTimeMillis).toBe(0)
        expect(Option.getOrThrow(failureOf(exit))).toBe(error)
      }
    }))

  it.effect("a non-ApiError failure (an open circuit) is not retried; a call that sent nothing ends with it", () =>
    Effect.gen(function*() {
      const open = new CircuitOpenError({ openedAt: 0 })
      const { call, starts } = yield* scripted<CircuitOpenError | ApiError.ApiError>([open, "ok"])
      const r = yield* runTimed(RetryPolicy.retry(call))
      expect(yield* starts).toEqual([0])
      expect(Option.getOrThrow(failureOf(r.exit))).toBe(open)
    }).pipe(Effect.withRandom(Random.fixed([0.5]))))

  it.effect("the policy alone ends a call with its last error unchanged, a CircuitOpenError included (the last real error is Resilience.retry's)", () =>
    Effect.gen(function*() {
      const open = new CircuitOpenError({ openedAt: 0 })
      const overloaded = response(529)
      const { call, starts } = yield* scripted<CircuitOpenError | ApiError.ApiError>([overloaded, open, "ok"])
      const r = yield* runTimed(RetryPolicy.retry(call))
      // the refusal at 500 ms is not retried, and nothing replaces it
      expect(yield* starts).toEqual([0, 500])
      expect(r.endedAt).toBe(500)
      expect(Option.getOrThrow(failureOf(r.exit))).toBe(open)
    }).pipe(Effect.withRandom(Random.fixed([0.5]))))

  it.effect("a plain Error: 1 attempt", () =>
    Effect.gen(function*() {
      const boom = new Error("boom")
      const { call, starts } = yield* scripted<Error>([boom, "ok"])
      const exit = yield* Effect.exit(RetryPolicy.retry(call))
      expect(yield* starts).toEqual([0])
      expect(Option.getOrThrow(failureOf(exit))).toBe(boom)
    }))

  it.effect("a defect is not retried", () =>
    Effect.gen(function*() {
      const attempts = yield* Ref.make(0)
      const exit = yield* Effect.exit(RetryPolicy.retry(Effect.zipRight(Ref.update(attempts, (n) => n + 1), Effect.die("bug"))))
      expect(yield* Ref.get(attempts)).toBe(1)
      expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
    }))

  it.effect("x-should-retry: false ends retries; respectShouldRetry: false ignores it", () =>
    Effect.gen(function*() {
      const refused = response(529, { "x-should-retry": "false" })
      const a = yield* runScript([refused, "ok"])
      expect(a.starts).toEqual([0])
      expect(a.endedAt).toBe(0)
      expect(Option.getOrThrow(failureOf(a.exit))).toBe(refused)
      const b = yield* runScript([refused, "ok"], { policy: policy({ respectShouldRetry: false }) })
      expect(b.starts).toEqual([0, 500])
      expect(b.exit).toStrictEqual(Exit.succeed("ok"))
    }))
})

describe("RetryPolicy: jitter modes (all draws pinned)", () => {
  const modes = (jitter: RetryPolicy.Jitter, draws: ReadonlyArray<number>) =>
    runScript([response(529)], { policy: policy({ jitter }), draws })

  it.effect("full: r · ceiling, one draw per retry", () =>
    Effect.gen(function*() {
      const half = yield* modes("full", [0.5])
      expect(half.starts).toEqual([0, 500, 1500, 3500, 7500, 11500])
      // draws 0.25, 0.75, 0.1, 0.9, 0.6 on ceilings 1, 2, 4, 8, 8 s: 250, 1500, 400, 7200, 4800 ms
      const varied = yield* modes("full", [0.25, 0.75, 0.1, 0.9, 0.6])
      expect(varied.starts).toEqual([0, 250, 1750, 2150, 9350, 14150])
      const zero = yield* modes("full", [0])
      expect(zero.starts).toEqual([0, 0, 0, 0, 0, 0])
    }))

  it.effect("equal: ceiling/2 + r · ceiling/2", () =>
    Effect.gen(function*() {
      const r = yield* modes("equal", [0.5])
      // 750, 1500, 3000, 6000; the next 6000 would end at 17.25 s
      expect(r.starts).toEqual([0, 750, 2250, 5250, 11250])
      expect(r.endedAt).toBe(11250)
    }))

  it.effect("decorrelated: min(cap, base + r · (3 · previous − base))", () =>
    Effect.gen(function*() {
      const r = yield* modes("decorrelated", [0.5])
      // 2000, 3500, 5750; then min(8000, 9125) = 8000 would end at 19.25 s
      expect(r.starts).toEqual([0, 2000, 5500, 11250])
      expect(r.endedAt).toBe(11250)
    }))

  it.effect("none: the ceilings themselves, whatever the draws", () =>
    Effect.gen(function*() {
      const r = yield* modes("none", [0.1, 0.9])
      expect(r.starts).toEqual([0, 1000, 3000, 7000, 15000])
    }))

  it.effect("base, factor and cap are honoured", () =>
    Effect.gen(function*() {
      const r = yield* runScript([response(529)], {
        policy: policy({ jitter: "none", base: "200 millis", factor: 3, cap: "2 seconds", maxRetries: 4 })
      })
      // 200, 600, 1800, 2000 (capped)
      expect(r.starts).toEqual([0, 200, 800, 2600, 4600])
    }))
})

describe("RetryPolicy.schedule: decisions", () => {
  it.effect("reports each decision and why it stopped", () =>
    Effect.gen(function*() {
      const p = policy({ jitter: "none" })
      const out = yield* decide(p, [
        [0, retryable(529)],
        [1000, retryable(500)],
        [3000, retryable(500)]
      ])
      expect(out.map((d) => d._tag)).toEqual(["Retry", "Retry", "GiveUp"])
      const first = out[0]!
      expect(first._tag === "Retry" && Duration.toMillis(first.wait)).toBe(1000)
      expect(first.attempt).toBe(1)
      expect(first.error).toBe("OverloadedError")
      const last = out[2]!
      expect(last._tag === "GiveUp" && last.reason).toBe("InternalServerErrorLimit")
      expect(Duration.toMillis(last.elapsed)).toBe(3000)
    }))

  it.effect("give-up reasons: ShouldRetryFalse, MaxRetries, RetryAfterExceedsMaxElapsed, MaxElapsed", () =>
    Effect.gen(function*() {
      const reason = (d: RetryPolicy.RetryDecision | undefined) => (d?._tag === "GiveUp" ? d.reason : d?._tag)
      const p = policy({ jitter: "none" })
      expect(reason((yield* decide(p, [[0, retryable(503, { "x-should-retry": "false" })]]))[0])).toBe(
        "ShouldRetryFalse"
      )
      expect(reason((yield* decide(policy({ maxRetries: 0 }), [[0, retryable(503)]]))[0])).toBe("MaxRetries")
      expect(reason((yield* decide(p, [[0, retryable(429, { "retry-after": "16" })]]))[0])).toBe(
        "RetryAfterExceedsMaxElapsed"
      )
      expect(reason((yield* decide(p, [[0, retryable(503)], [14_500, retryable(503)]]))[1])).toBe("MaxElapsed")
    }))

  it.effect("unbudgeted on its own: no RetryBudget consulted", () =>
    Effect.gen(function*() {
      const { call, starts } = yield* scripted<ApiError.Retryable>([retryable(529), retryable(529), "ok"])
      const r = yield* runTimed(Effect.retry(call, RetryPolicy.schedule()))
      expect(r.exit).toStrictEqual(Exit.succeed("ok"))
      expect(yield* starts).toEqual([0, 500, 1500])
      const budget = yield* RetryBudget.make({ percent: 0, minRetriesPerSecond: 0 })
      // with an empty budget in context, the bare schedule still retries
      const again = yield* scripted<ApiError.Retryable>([retryable(529), "ok"])
      const r2 = yield* runTimed(
        Effect.retry(again.call, RetryPolicy.schedule()).pipe(Effect.provideService(RetryBudget.RetryBudget, budget))
      )
      expect(r2.exit).toStrictEqual(Exit.succeed("ok"))
      expect((yield* again.starts).length).toBe(2)
    }).pipe(Effect.withRandom(Random.fixed([0.5]))))
})

describe("RetryPolicy: options", () => {
  it("make validates every option and lists every problem, each at its path", () => {
    const bad = RetryPolicy.make({
      base: -1,
      factor: 0.5,
      cap: "-3 seconds",
      maxRetries: 2.5,
      maxElapsed: "soon" as Duration.DurationInput,
      internalServerErrorRetries: -1,
      jitter: "sometimes" as RetryPolicy.Jitter
    })
    expect(Either.isLeft(bad)).toBe(true)
    const error = Either.getLeft(bad).pipe(Option.getOrThrow)
    expect(error).toBeInstanceOf(Options.InvalidOptionsError)
    expect(error.module).toBe("RetryPolicy")
    expect(error.problems.map((p) => p.path).sort()).toEqual([
      "base",
      "cap",
      "factor",
      "internalServerErrorRetries",
      "jitter",
      "maxElapsed",
      "maxRetries"
    ])
    expect(error.message).toContain("factor: must be a number from 1 to 100, got 0.5")
    expect(Either.isLeft(RetryPolicy.make({ base: Duration.infinity }))).toBe(true)
    expect(Either.isLeft(RetryPolicy.make({ maxRetries: Infinity }))).toBe(true)
    expect(Either.isLeft(RetryPolicy.make({ factor: Number.NaN }))).toBe(true)
  })

  it("make refuses an unknown option, the old budget option included, and names the new one", () => {
    const error = Either.getLeft(RetryPolicy.make({ budget: "10 seconds" } as RetryPolicy.Options)).pipe(
      Option.getOrThrow
    )
    expect(error.problems).toHaveLength(1)
    expect(error.problems[0]!.path).toBe("budget")
    expect(error.problems[0]!.message).toMatch(/^is not an option/)
    expect(error.problems[0]!.message).toContain("maxElapsed")
  })

  it("make fills in the defaults", () => {
    const p = Either.getOrThrow(RetryPolicy.make({ cap: Duration.infinity, maxElapsed: "1 minute" }))
    expect(Duration.toMillis(p.base)).toBe(1000)
    expect(Duration.toMillis(p.cap)).toBe(Infinity)
    expect(Duration.toMillis(p.maxElapsed)).toBe(60_000)
    expect(p.factor).toBe(2)
    expect(p.jitter).toBe("full")
    expect(p.maxRetries).toBe(5)
    expect(p.internalServerErrorRetries).toBe(1)
    expect(p.respectShouldRetry).toBe(true)
    expect(RetryPolicy.isRetryPolicy(p)).toBe(true)
    expect(RetryPolicy.isRetryPolicy({ base: 1 })).toBe(false)
    expect(RetryPolicy.make()).toEqual(Either.right(RetryPolicy.defaults))
  })

  it.effect("retry given raw options from untyped code fails with InvalidOptionsError before any attempt", () =>
    Effect.gen(function*() {
      const { call, starts } = yield* scripted<ApiError.ApiError>(["ok"])
      const raw = { factor: 0 } as unknown as RetryPolicy.RetryPolicy
      const exit = yield* Effect.exit(call.pipe(RetryPolicy.retry(raw)))
      expect(yield* starts).toEqual([])
      const error = Option.getOrThrow(failureOf(exit))
      expect(error).toBeInstanceOf(Options.InvalidOptionsError)
    }))

  it.effect("raw options are refused even when valid: make builds the policy, retry takes it", () =>
    Effect.gen(function*() {
      const raw = { jitter: "none", base: "300 millis" } as unknown as RetryPolicy.RetryPolicy
      const refused = yield* scripted<ApiError.ApiError>([response(503), "ok"])
      const exit = yield* Effect.exit(refused.call.pipe(RetryPolicy.retry(raw)))
      expect(yield* refused.starts).toEqual([])
      expect(Option.getOrThrow(failureOf(exit))).toMatchObject({
        _tag: "InvalidOptionsError",
        module: "RetryPolicy",
        problems: [{ path: "" }]
      })
      const a = yield* scripted<ApiError.ApiError>([response(503), response(503), "ok"])
      const r = yield* runTimed(a.call.pipe(RetryPolicy.retry(policy({ jitter: "none", base: "300 millis" }))))
      expect(r.exit).toStrictEqual(Exit.succeed("ok"))
      expect(yield* a.starts).toEqual([0, 300, 900])
    }))
})

describe("RetryPolicy.retry: the policy alone", () => {
  it.effect("uses nothing from the context: an empty retry budget and an open breaker provided change nothing", () =>
    Effect.gen(function*() {
      const { call, starts } = yield* scripted<ApiError.ApiError>([response(529), response(529), "ok"])
      const budget = yield* RetryBudget.make({ percent: 0, minRetriesPerSecond: 0 })
      const breaker = yield* CircuitBreaker.make({ minimumCalls: 1, failureRateThreshold: 1 })
      yield* Effect.exit(breaker.protect(Effect.fail(response(529))))
      expect((yield* breaker.state)._tag).toBe("Open")
      const r = yield* runTimed(
        RetryPolicy.retry(call).pipe(
          Effect.provideService(RetryBudget.RetryBudget, budget),
          Effect.provideService(CircuitBreaker.CircuitBreaker, breaker)
        )
      )
      expect(r.exit).toStrictEqual(Exit.succeed("ok"))
      expect(yield* starts).toEqual([0, 500, 1500])
    }).pipe(Effect.scoped, Effect.withRandom(Random.fixed([0.5]))))
})

describe("RetryPolicy.retry: observability", () => {
  it.effect("logs each decision with attempt, wait and tag, and never a header", () =>
    Effect.gen(function*() {
      const lines: Array<{ message: string; annotations: Record<string, unknown> }> = []
      const logger = Logger.make(({ annotations, message }) => {
        const record: Record<string, unknown> = {}
        for (const [k, v] of annotations) record[k] = v
        lines.push({ message: String(Array.isArray(message) ? message.join(" ") : message), annotations: record })
      })
      const key = "sk-ant-api03-SECRET"
      const { call } = yield* scripted<ApiError.ApiError>([
        response(529, { "x-api-key": key, "request-id": "req_1" }),
        response(503, { authorization: `Bearer ${key}` }),
        "ok"
      ])
      yield* runTimed(
        RetryPolicy.retry(call).pipe(
          Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
          Logger.withMinimumLogLevel(LogLevel.Debug)
        )
      )
      expect(lines.map((l) => l.annotations["retry.attempt"])).toEqual([1, 2])
      expect(lines.map((l) => l.annotations["retry.wait_ms"])).toEqual([500, 1000])
      expect(lines.map((l) => l.annotations["retry.error"])).toEqual(["OverloadedError", "ServiceUnavailableError"])
      expect(lines[0]!.annotations["request.id"]).toBe("req_canonical_529")
      expect(lines[0]!.annotations["http.status"]).toBe(529)
      expect(JSON.stringify(lines)).not.toContain("SECRET")
    }).pipe(Effect.withRandom(Random.fixed([0.5]))))

  it.effect("each Retry decision's wait is recorded in retryWaitMillis, from the decision; a give-up records nothing", () =>
    Effect.gen(function*() {
      const read = Metric.value(RetryPolicy.retryWaitMillis)
      const before = yield* read
      // every attempt takes 300 ms: the waits decided are 500 and 1000 ms, whatever the attempts' own time
      const { call } = yield* scripted<ApiError.ApiError>([response(529), response(503), "ok"], 300)
      yield* runTimed(RetryPolicy.retry(call))
      const after = yield* read
      expect(after.count - before.count).toBe(2)
      expect(after.sum - before.sum).toBe(1500)
      const once = yield* scripted<ApiError.ApiError>([response(529), "ok"])
      yield* runTimed(RetryPolicy.retry(once.call, policy({ maxRetries: 0 })))
      expect((yield* read).count).toBe(after.count)
    }).pipe(Effect.withRandom(Random.fixed([0.5]))))
})

// ---------------------------------------------------------------------------
// properties
// ---------------------------------------------------------------------------

const retryableStatuses = [429, 500, 502, 503, 504, 529] as const
const fatalStatuses = [400, 401, 402, 403, 404, 413, 422, 418] as const

const arbError = FastCheck.record({
  status: FastCheck.constantFrom(...retryableStatuses, ...retryableStatuses, ...fatalStatuses),
  retryAfter: FastCheck.option(
    FastCheck.record({
      header: FastCheck.constantFrom("retry-after", "retry-after-ms"),
      millis: FastCheck.integer({ min: 0, max: 20_000 })
    }),
    { nil: undefined }
  ),
  shouldRetry: FastCheck.constantFrom(undefined, undefined, undefined, "true", "false")
})

type ArbError = typeof arbError extends FastCheck.Arbitrary<infer T> ? T : never

const toResponse = (e: ArbError) => {
  const headers: Headers = {}
  if (e.retryAfter !== undefined) {
    headers[e.retryAfter.header] = e.retryAfter.header === "retry-after-ms"
      ? String(e.retryAfter.millis)
      : String(e.retryAfter.millis / 1000)
  }
  if (e.shouldRetry !== undefined) headers["x-should-retry"] = e.shouldRetry
  return response(e.status, headers)
}

describe("RetryPolicy: properties over random error sequences and random generators", () => {
  const arbCase = FastCheck.record({
    errors: FastCheck.array(arbError, { minLength: 1, maxLength: 8 }),
    succeedsAfter: FastCheck.boolean(),
    seed: FastCheck.integer(),
    duration: FastCheck.constantFrom(0, 0, 250, 1_300),
    jitter: FastCheck.constantFrom<RetryPolicy.Jitter>("full", "full", "equal", "decorrelated", "none")
  })
  type Case = typeof arbCase extends FastCheck.Arbitrary<infer T> ? T : never

  const check = ({ duration, errors, jitter, seed, succeedsAfter }: Case) =>
      Effect.gen(function*() {
        const responses = errors.map(toResponse)
        const outcomes: ReadonlyArray<Outcome<ApiError.ApiError>> = succeedsAfter ? [...responses, "ok"] : responses
        const { call, starts } = yield* scripted(outcomes, duration)
        const { endedAt, exit, t0 } = yield* runTimed(RetryPolicy.retry(call, policy({ jitter }))).pipe(
          Effect.withRandom(Random.make(seed))
        )
        const s = (yield* starts).map((t) => t - t0)
        const at = (i: number) => outcomes[Math.min(i, outcomes.length - 1)]!
        // attempts ≤ 6
        expect(s.length).toBeGreaterThanOrEqual(1)
        expect(s.length).toBeLessThanOrEqual(6)
        let waited = 0
        for (let i = 0; i + 1 < s.length; i++) {
          const error = at(i)
          // only a Retryable error is ever retried, and never one that said x-should-retry: false
          expect(error !== "ok" && ApiError.isRetryable(error)).toBe(true)
          expect(error !== "ok" && Option.contains(ApiError.shouldRetry(error), false)).toBe(false)
          const wait = s[i + 1]! - (s[i]! + duration)
          const floor = error !== "ok" && ApiError.isRetryable(error)
            ? Option.match(ApiError.retryAfter(error), { onNone: () => 0, onSome: Duration.toMillis })
            : 0
          // every wait ≥ its retry-after
          expect(wait).toBeGreaterThanOrEqual(floor)
          waited += wait
        }
        // total waiting, and every retry's start, within the 15 s budget from the first failure
        expect(waited).toBeLessThanOrEqual(15_000)
        expect(s[s.length - 1]! - duration).toBeLessThanOrEqual(15_000)
        // a 500 is retried at most once
        const retried500s = s.slice(0, -1).filter((_, i) => {
          const e = at(i)
          return e !== "ok" && e._tag === "InternalServerError"
        })
        expect(retried500s.length).toBeLessThanOrEqual(1)
        // the last attempt's outcome is the result, unchanged; no sleep after it
        const last = at(s.length - 1)
        expect(endedAt).toBe(s[s.length - 1]! + duration)
        if (last === "ok") {
          expect(exit).toStrictEqual(Exit.succeed("ok"))
        } else {
          expect(Option.getOrThrow(failureOf(exit))).toBe(last)
          // a Fatal error is always where the call ended
          if (ApiError.isFatal(last)) expect(s.every((_, i) => i === s.length - 1 || !ApiError.isFatal(at(i)))).toBe(true)
        }
        // and it never gives up on a Retryable error while a retry was still due: one of the
        // reasons holds (x-should-retry: false, a second 500, 5 retries taken, or even the
        // longest possible wait would end past the budget)
        if (last !== "ok" && ApiError.isRetryable(last)) {
          const retries = s.length - 1
          const elapsed = s[s.length - 1]!
          const retryAfter = Option.match(ApiError.retryAfter(last), {
            onNone: () => 0,
            onSome: (d) => Math.ceil(Duration.toMillis(d))
          })
          const ceiling = Math.min(8_000, 1_000 * 2 ** retries)
          const longest = jitter === "decorrelated" ? 8_000 : ceiling
          const fivehundreds = s.filter((_, i) => {
            const e = at(i)
            return e !== "ok" && e._tag === "InternalServerError"
          }).length
          const reason = Option.contains(ApiError.shouldRetry(last), false) ||
            (last._tag === "InternalServerError" && fivehundreds > 1) ||
            retries === 5 ||
            elapsed + Math.max(retryAfter, longest) > 15_000
          expect(reason).toBe(true)
        }
        // Fatal first ⇒ 1 attempt, zero virtual time
        const first = at(0)
        if (first !== "ok" && ApiError.isFatal(first)) {
          expect(s).toEqual([0])
          expect(endedAt).toBe(duration)
        }
      })

  // one TestClock for every run (instants are measured from each run's start), which
  // spares building a test environment per run
  it.effect(
    "waits within budget, never below retry-after, ≤ 6 attempts, Fatal ends at once, 500 retried at most once",
    () =>
      Effect.gen(function*() {
        const runtime = yield* Effect.runtime<never>()
        yield* Effect.promise(() =>
          FastCheck.assert(
            FastCheck.asyncProperty(arbCase, (c) => Runtime.runPromise(runtime)(check(c))),
            { numRuns: 300 }
          )
        )
      })
  )
})

// ---------------------------------------------------------------------------
// why full jitter: a fleet of clients hit by the same overload
// ---------------------------------------------------------------------------

interface FleetFigures {
  /** Calls made in all, first attempts included. */
  readonly calls: number
  /** Clients whose call succeeded within the policy. */
  readonly served: number
  /** The most calls in any 100 ms window, and in any 1 s window, after t = 0. */
  readonly peak100ms: number
  readonly peak1s: number
  /** When the last client was served, in ms. */
  readonly lastServedAt: number
}

/** The most instants falling in any window of `width` ms. */
const peak = (instants: ReadonlyArray<number>, width: number): number => {
  const sorted = [...instants].sort((a, b) => a - b)
  let best = 0
  let j = 0
  for (let i = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= width) j++
    best = Math.max(best, i - j + 1)
  }
  return best
}

/**
 * A discrete-event simulation: `clients` clients each send one call at
 * t = 0 to a server that serves at most `capacity` calls per 100 ms window
 * and answers 529 to the rest; every client follows the policy's schedule
 * (stepped directly, with one seeded Random for the fleet, draws taken in
 * event order).
 */
const simulateFleet = (options: {
  readonly clients: number
  readonly capacity: number
  readonly jitter: RetryPolicy.Jitter
  readonly seed: number
}) =>
  Effect.gen(function*() {
    const s = RetryPolicy.schedule(policy({ jitter: options.jitter }))
    const overloaded = retryable(529)
    const horizon = 16_000
    const due: Array<Array<{ readonly client: number; readonly state: unknown }>> = Array.from(
      { length: horizon },
      () => []
    )
    due[0] = Array.from({ length: options.clients }, (_, client) => ({ client, state: s.initial }))
    const servedPerWindow = new Map<number, number>()
    const retries: Array<number> = []
    let calls = 0
    let served = 0
    let lastServedAt = 0
    for (let now = 0; now < horizon; now++) {
      const queue = due[now]!
      for (let i = 0; i < queue.length; i++) {
        const { state } = queue[i]!
        calls++
        if (now > 0) retries.push(now)
        const window = Math.floor(now / 100)
        const used = servedPerWindow.get(window) ?? 0
        if (used < options.capacity) {
          servedPerWindow.set(window, used + 1)
          served++
          lastServedAt = now
          continue
        }
        const [next, decision] = yield* s.step(now, overloaded, state)
        if (decision._tag === "GiveUp") continue
        const at = now + Duration.toMillis(decision.wait)
        due[at]!.push({ client: queue[i]!.client, state: next })
      }
    }
    const figures: FleetFigures = {
      calls,
      served,
      peak100ms: peak(retries, 100),
      peak1s: peak(retries, 1000),
      lastServedAt
    }
    return figures
  }).pipe(Effect.withRandom(Random.make(options.seed)))

describe("RetryPolicy: jitter spreads a fleet's retries", () => {
  it.effect("1000 clients against a server serving 50 calls per 100 ms (seed 1 to 10)", () =>
    Effect.gen(function*() {
      const clients = 1000
      const capacity = 50
      const seedValues = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
      const run = (jitter: RetryPolicy.Jitter) =>
        Effect.forEach(seedValues, (seed) => simulateFleet({ clients, capacity, jitter, seed }))
      const none = yield* run("none")
      const equal = yield* run("equal")
      const full = yield* run("full")
      const decorrelated = yield* run("decorrelated")
      if (process.env.PRINT_FLEET_FIGURES) console.log(JSON.stringify({ none, equal, full, decorrelated }))
      for (let i = 0; i < seedValues.length; i++) {
        // without jitter the refused clients all come back in the same millisecond, five times:
        // 50 served at each of 0, 1, 3, 7 and 15 s
        expect(none[i]!.peak100ms).toBe(clients - capacity)
        expect(none[i]!.served).toBe(5 * capacity)
        expect(equal[i]!.peak100ms).toBeLessThan(none[i]!.peak100ms)
        expect(full[i]!.peak100ms).toBeLessThan(equal[i]!.peak100ms)
        expect(decorrelated[i]!.peak100ms).toBeLessThan(none[i]!.peak100ms)
        expect(full[i]!.calls).toBeLessThan(equal[i]!.calls)
        expect(equal[i]!.calls).toBeLessThan(none[i]!.calls)
        expect(full[i]!.served).toBeGreaterThan(none[i]!.served)
        // every client is accounted for: served, or gave up after at most 6 calls
        for (const f of [none[i]!, equal[i]!, full[i]!, decorrelated[i]!]) {
          expect(f.served).toBeLessThanOrEqual(clients)
          expect(f.calls).toBeLessThanOrEqual(6 * clients)
        }
      }
    }))
})
