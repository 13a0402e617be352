/**
 * Issue 10, item 1, side by side with the official SDK: a transient status
 * outside the API's table (a Cloudflare 520, a 408) is retried by both; 501,
 * 505 and 409 stay Fatal here (the SDK retries them: a deliberate
 * difference).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Random } from "effect"
import { sdkCall } from "../support/sdk.js"
import { scriptedServer } from "../support/scripted.js"
import { ourCall, report } from "./support.js"

const CLOUDFLARE_520 =
  "<!DOCTYPE html><html><head><title>api.anthropic.com | 520: Web server is returning an unknown error</title></head><body><h1>Error 520</h1></body></html>"

const once = (status: number, body = "") => [{ status, headers: { "retry-after-ms": "1" }, body }]

describe("parity: transient statuses outside the table", () => {
  it.effect("a Cloudflare 520, then 200: both clients retry once and succeed (2 requests each)", () =>
    Effect.gen(function*() {
      const ours = yield* ourCall(yield* scriptedServer(once(520, CLOUDFLARE_520)))
      const sdk = yield* sdkCall(yield* scriptedServer(once(520, CLOUDFLARE_520)))
      yield* report("520 (Cloudflare HTML), then 200", ours, sdk)
      expect(sdk).toEqual({ requests: 2, outcome: "ok" })
      expect(ours).toEqual({ requests: 2, outcome: "ok" })
    }).pipe(Effect.scoped, Effect.withRandom(Random.fixed([0.5]))))

  it.effect("a 408, then 200: both retry once and succeed", () =>
    Effect.gen(function*() {
      const ours = yield* ourCall(yield* scriptedServer(once(408)))
      const sdk = yield* sdkCall(yield* scriptedServer(once(408)))
      yield* report("408, then 200", ours, sdk)
      expect(sdk).toEqual({ requests: 2, outcome: "ok" })
      expect(ours).toEqual({ requests: 2, outcome: "ok" })
    }).pipe(Effect.scoped, Effect.withRandom(Random.fixed([0.5]))))

  it.effect("a 599 every time: both retry until their limits (we make 6 attempts, the SDK 3) and end typed", () =>
    Effect.gen(function*() {
      const always = Array.from({ length: 10 }, () => ({ status: 599, headers: { "retry-after-ms": "1" } }))
      const ours = yield* ourCall(yield* scriptedServer(always))
      const sdk = yield* sdkCall(yield* scriptedServer(always))
      yield* report("599 every time", ours, sdk)
      expect(sdk).toEqual({ requests: 3, outcome: "InternalServerError 599" })
      // the default policy with every draw 0.5: waits 0.5, 1, 2, 4, 4 s fit the 15 s budget
      expect(ours).toEqual({ requests: 6, outcome: "UnexpectedServerError 599" })
    }).pipe(Effect.scoped, Effect.withRandom(Random.fixed([0.5]))))

  for (const status of [501, 505, 409]) {
    it.effect(`a ${status}, then 200: we stop at once (Fatal, deliberately); the SDK retries`, () =>
      Effect.gen(function*() {
        const ours = yield* ourCall(yield* scriptedServer(once(status)))
        const sdk = yield* sdkCall(yield* scriptedServer(once(status)))
        yield* report(`${status}, then 200`, ours, sdk)
        expect(sdk).toEqual({ requests: 2, outcome: "ok" })
        expect(ours).toEqual({ requests: 1, outcome: `UnexpectedStatusError ${status}` })
      }).pipe(Effect.scoped, Effect.withRandom(Random.fixed([0.5]))))
  }
})
