/**
 * Issue 10, item 5, side by side with the official SDK: a process that
 * builds `Resilience.layer()` per invocation (a CLI, a serverless function)
 * retries its first failure. 40 fresh layers, each meeting a 529 then a 200:
 * every call succeeds after 2 requests, as with the SDK (which has no retry
 * budget). Every random draw is pinned at 0.05, so each backoff is 50 ms:
 * with a reserve that started empty, 50 ms earned half a token and every one
 * of these retries was refused.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Random } from "effect"
import { sdkCall } from "../support/sdk.js"
import { errorBody, scriptedServer } from "../support/scripted.js"
import { ourCall, report } from "./support.js"

const script = [{
  status: 529,
  headers: { "retry-after-ms": "1" },
  body: errorBody("overloaded_error", "Overloaded")
}]

const INVOCATIONS = 40

describe("parity: a fresh retry budget", () => {
  it.effect(`${INVOCATIONS} fresh Resilience.layer()s, each 529 then 200: every call retries once and succeeds`, () =>
    Effect.gen(function*() {
      const ours = { requests: 0, ok: 0, failed: [] as Array<string> }
      const sdk = { requests: 0, ok: 0, failed: [] as Array<string> }
      for (let i = 0; i < INVOCATIONS; i++) {
        // a new process: a new server script, a new client, a new breaker and
        // budget (ourCall builds a Resilience.layer() of its own per call)
        const mine = yield* Effect.scoped(Effect.flatMap(scriptedServer(script), (server) => ourCall(server)))
        ours.requests += mine.requests
        if (mine.outcome === "ok") ours.ok++
        else ours.failed.push(mine.outcome)
        const theirs = yield* Effect.scoped(Effect.flatMap(scriptedServer(script), (server) => sdkCall(server)))
        sdk.requests += theirs.requests
        if (theirs.outcome === "ok") sdk.ok++
        else sdk.failed.push(theirs.outcome)
      }
      yield* report(
        `${INVOCATIONS} fresh layers, 529 then 200 (calls ok)`,
        { requests: ours.requests, outcome: `${ours.ok}/${INVOCATIONS} ok` },
        { requests: sdk.requests, outcome: `${sdk.ok}/${INVOCATIONS} ok` }
      )
      expect(sdk).toEqual({ requests: 2 * INVOCATIONS, ok: INVOCATIONS, failed: [] })
      expect(ours).toEqual({ requests: 2 * INVOCATIONS, ok: INVOCATIONS, failed: [] })
    }).pipe(Effect.withRandom(Random.fixed([0.05]))))
})
