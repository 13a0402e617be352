/**
 * The scrubbing tracer: built once per inner tracer (a call asks for it at
 * every request), and every attribute and event of its spans scrubbed.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Secrets from "../../src/internal/secrets.js"
import { makeTracer } from "../support/capture.js"

const key = "sk-ant-test-secret-0123456789"

describe("internal/secrets tracer", () => {
  it.effect("one wrapper per inner tracer; its spans scrub attributes and events; no secrets, no wrapper", () => {
    const traced = makeTracer()
    const scrubber = Secrets.make([key])
    const tracer = scrubber.tracer(traced.tracer)
    expect(scrubber.tracer(traced.tracer)).toBe(tracer)
    expect(Secrets.make([]).tracer(traced.tracer)).toBe(traced.tracer)
    return Effect.gen(function*() {
      yield* Effect.annotateCurrentSpan("url", `https://x/?key=${key}`).pipe(
        Effect.zipRight(Effect.annotateCurrentSpan("header", [key, 1])),
        Effect.withSpan("inner"),
        Effect.withTracer(tracer)
      )
      const span = traced.spans.find((s) => s.name === "inner")
      expect(span?.attributes.get("url")).toBe(`https://x/?key=${Secrets.placeholder}`)
      expect(span?.attributes.get("header")).toEqual([Secrets.placeholder, 1])
      expect(traced.text()).not.toContain(key)
    })
  })
})
