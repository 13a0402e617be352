/**
 * Issue 10, item 2, side by side with the official SDK: the server's
 * `x-should-retry` is obeyed both ways. A 400 marked `true` is retried by
 * both (and the next reply is a 200); a 529 marked `false` is retried by
 * neither. A spend limit marked `true` stays Fatal here (the SDK retries it:
 * a deliberate difference, waiting does not raise a limit).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Random } from "effect"
import { sdkCall } from "../support/sdk.js"
import { errorBody, scriptedServer } from "../support/scripted.js"
import { ourCall, report } from "./support.js"

const SPEND = "This request would exceed your account's monthly spend limit."

describe("parity: x-should-retry", () => {
  it.effect("a 400 marked x-should-retry: true, then 200: both retry once and succeed", () =>
    Effect.gen(function*() {
      const script = [{
        status: 400,
        headers: { "x-should-retry": "true", "retry-after-ms": "1" },
        body: errorBody("invalid_request_error", "Transient validation failure")
      }]
      const ours = yield* ourCall(yield* scriptedServer(script))
      const sdk = yield* sdkCall(yield* scriptedServer(script))
      yield* report("400 + x-should-retry: true, then 200", ours, sdk)
      expect(sdk).toEqual({ requests: 2, outcome: "ok" })
      expect(ours).toEqual({ requests: 2, outcome: "ok" })
    }).pipe(Effect.scoped, Effect.withRandom(Random.fixed([0.5]))))

  it.effect("a 409 marked x-should-retry: true, then 200: both retry once and succeed", () =>
    Effect.gen(function*() {
      const script = [{ status: 409, headers: { "x-should-retry": "true", "retry-after-ms": "1" } }]
      const ours = yield* ourCall(yield* scriptedServer(script))
      const sdk = yield* sdkCall(yield* scriptedServer(script))
      yield* report("409 + x-should-retry: true, then 200", ours, sdk)
      expect(sdk).toEqual({ requests: 2, outcome: "ok" })
      expect(ours).toEqual({ requests: 2, outcome: "ok" })
    }).pipe(Effect.scoped, Effect.withRandom(Random.fixed([0.5]))))

  it.effect("a 529 marked x-should-retry: false, then 200: neither retries", () =>
    Effect.gen(function*() {
      const script = [{
        status: 529,
        headers: { "x-should-retry": "false", "retry-after-ms": "1" },
        body: errorBody("overloaded_error", "Overloaded")
      }]
      const ours = yield* ourCall(yield* scriptedServer(script))
      const sdk = yield* sdkCall(yield* scriptedServer(script))
      yield* report("529 + x-should-retry: false, then 200", ours, sdk)
      expect(sdk).toEqual({ requests: 1, outcome: "OverloadedError 529" })
      expect(ours).toEqual({ requests: 1, outcome: "OverloadedError 529" })
    }).pipe(Effect.scoped, Effect.withRandom(Random.fixed([0.5]))))

  it.effect("a 429 spend limit marked x-should-retry: true: we stop at once (deliberately); the SDK retries", () =>
    Effect.gen(function*() {
      const script = [{
        status: 429,
        headers: { "x-should-retry": "true", "retry-after-ms": "1" },
        body: errorBody("rate_limit_error", SPEND)
      }]
      const ours = yield* ourCall(yield* scriptedServer(script))
      const sdk = yield* sdkCall(yield* scriptedServer(script))
      yield* report("429 spend limit + x-should-retry: true, then 200", ours, sdk)
      expect(sdk).toEqual({ requests: 2, outcome: "ok" })
      expect(ours).toEqual({ requests: 1, outcome: "SpendLimitError 429" })
    }).pipe(Effect.scoped, Effect.withRandom(Random.fixed([0.5]))))
})
