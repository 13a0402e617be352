/**
 * One call's observation: its attempts numbered in their spans, each outcome
 * counted under its tags, and the spans made without a stack trace (Effect
 * captures one per span unless told not to, a cost per call). A client's
 * calls use the services it was built with, and nothing else of the context
 * it was built in.
 */
import { describe, expect, it } from "@effect/vitest"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Redacted from "effect/Redacted"
import * as Claude from "../../src/Claude.js"
import * as Call from "../../src/internal/call.js"
import * as Resilience from "../../src/Resilience.js"
import { makeTracer } from "../support/capture.js"

class Overloaded {
  readonly _tag = "OverloadedError"
}

describe("internal/call attempts", () => {
  it.effect("attempts numbered from 1 per call, outcomes counted by tag, no stack trace on the spans", () => {
    const traced = makeTracer()
    // an endpoint name of this test alone: the metrics are global
    const endpoint = `test.call.${Math.random().toString(36).slice(2)}`
    return Effect.gen(function*() {
      const observed = yield* Call.attempts(endpoint)
      let runs = 0
      const attempt = Effect.suspend(() => ++runs < 3 ? Effect.fail(new Overloaded()) : Effect.succeed("ok"))
      const result = yield* observed(attempt).pipe(
        Effect.retry({ times: 5 }),
        Effect.withSpan(...Call.spanOf(endpoint, "POST", "/v1/messages"))
      )
      expect(result).toBe("ok")
      // a second call starts again at 1
      const again = yield* Call.attempts(endpoint)
      yield* again(Effect.void)

      const attempts = traced.spans.filter((span) => span.name === "claude.attempt")
      expect(attempts.map((span) => [span.attributes.get("claude.attempt"), span.attributes.get("claude.outcome")]))
        .toEqual([[1, "OverloadedError"], [2, "OverloadedError"], [3, "Success"], [1, "Success"]])
      // failed spans too: Effect adds the captured trace to a span that fails
      expect(traced.spans.filter((span) => span.attributes.has("code.stacktrace"))).toEqual([])
      expect(traced.spans.map((span) => span.name)).toContain(`claude.${endpoint}`)

      const count = (metric: Metric.Metric.Counter<number>) => Effect.map(Metric.value(metric), (state) => state.count)
      expect(yield* count(Metric.tagged(Call.attemptsTotal, "endpoint", endpoint))).toBe(4)
      const outcome = (tag: string) =>
        count(Metric.tagged(Metric.tagged(Call.outcomesTotal, "endpoint", endpoint), "outcome", tag))
      expect(yield* outcome("OverloadedError")).toBe(2)
      expect(yield* outcome("Success")).toBe(2)
    }).pipe(Effect.withTracer(traced.tracer))
  })
})

describe("internal/call resilient", () => {
  it.effect("a call's FetchHttpClient.RequestInit is the caller's, laid over the one the client was built with", () => {
    const inits: Array<RequestInit | undefined> = []
    const fetch: typeof globalThis.fetch = (_input, init) => {
      inits.push(init)
      return Promise.resolve(
        new Response(
          JSON.stringify({
            id: "msg_1",
            type: "message",
            role: "assistant",
            model: "claude-sonnet-5-5",
            content: [{ type: "text", text: "hi" }],
            stop_reason: "end_turn",
            stop_sequence: null,
            usage: { input_tokens: 1, output_tokens: 1 }
          }),
          { status: 200, headers: { "content-type": "application/json" } }
        )
      )
    }
    const built = Layer.succeed(FetchHttpClient.RequestInit, { cache: "no-store", keepalive: true })
    const client = Claude.layer({ apiKey: Redacted.make("sk-ant-test"), baseUrl: "http://127.0.0.1:1" }).pipe(
      Layer.provide(Layer.mergeAll(Resilience.layer(), built)),
      Layer.provide(FetchHttpClient.layer),
      Layer.provide(Layer.succeed(FetchHttpClient.Fetch, fetch))
    )
    return Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const params = { model: "claude-sonnet-5-5", max_tokens: 16, messages: [{ role: "user" as const, content: "hi" }] }
      yield* claude.messages.create(params)
      yield* claude.messages.create(params).pipe(Effect.provideService(FetchHttpClient.RequestInit, { cache: "reload" }))
      expect(inits.map((init) => [init?.cache, init?.keepalive, init?.redirect])).toEqual([
        ["no-store", true, "manual"],
        // the caller's over the build's, and redirect: "manual" over both
        ["reload", true, "manual"]
      ])
    }).pipe(Effect.provide(client))
  })
})
