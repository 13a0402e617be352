/**
 * The API key never appears in an error, a log line or a span: many calls
 * that end in every kind of failure run under a capturing Logger (every
 * level) and a capturing Tracer (every span, the platform's `http.client`
 * spans included), and everything they recorded is scanned.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { Claude, Resilience } from "../../src/index.js"
import { Emulator } from "../../src/testing/index.js"
import { runVirtual } from "../support/virtualTime.js"
import { makeLogger, makeTracer, renderExit } from "../support/capture.js"
import { countParams, params, withClaude } from "./support.js"

const { Reply } = Emulator

const wrongKey = "sk-ant-wrong-5up3r-s3cr3t-k3y"

// ---------------------------------------------------------------------------
// the scenarios: every kind of outcome
// ---------------------------------------------------------------------------

const scenarios = Effect.gen(function*() {
  const claude = yield* Claude.Claude
  const emulator = yield* Emulator.Emulator
  const exits: Array<Exit.Exit<unknown, unknown>> = []
  const run = <A, E, R>(script: Emulator.Script, effect: Effect.Effect<A, E, R>) =>
    Effect.gen(function*() {
      yield* emulator.reset
      yield* emulator.setScript(script)
      exits.push(yield* Effect.exit(runVirtual(effect)))
    })
  const drain = <A, E>(stream: Stream.Stream<A, E>) => Stream.runDrain(stream)

  yield* run(Emulator.sequence([Reply.Error({ status: 529 }), Reply.Error({ status: 529 })]), claude.messages.create(params))
  yield* run(() => Reply.Error({ status: 401 }), claude.messages.create(params))
  yield* run(() => Reply.Error({ status: 429, headers: { "retry-after": "1" } }), claude.messages.create(params))
  yield* run(() => Reply.Error({ status: 500 }), claude.messages.countTokens(countParams))
  yield* run(() => Reply.Html({ status: 413 }), claude.messages.create(params))
  yield* run(() => Reply.Raw({ status: 520, body: "" }), claude.messages.create(params))
  yield* run(() => Reply.Reset(), claude.messages.create(params))
  yield* run(() => Reply.Stall(), claude.messages.create(params))
  yield* run(() => Reply.Raw({ status: 200, body: "not json" }), claude.messages.create(params))
  yield* run(() => Reply.Ok({}), drain(claude.messages.stream(params)))
  yield* run(() => Reply.StreamError({ afterEvents: 3, type: "overloaded_error" }), drain(claude.messages.stream(params)))
  yield* run(() => Reply.StreamCut({ afterEvents: 3 }), claude.messages.finalMessage(params))
  yield* run(() => Reply.StreamCut({ afterEvents: 3, abrupt: true }), drain(claude.messages.stream(params)))
  yield* run(() => Reply.StreamStall({ afterEvents: 2 }), drain(claude.messages.stream(params)))
  yield* run(() => Reply.Stall(), drain(claude.messages.stream(params)))
  yield* run(() => Reply.Ok({}), claude.messages.create({ ...params, max_tokens: 64000 }))
  yield* run(
    () => Reply.Ok({}),
    Effect.flatMap(
      claude.batches.create({ requests: [{ custom_id: "a", params }, { custom_id: "b", params }] }),
      (batch) => Stream.runCollect(claude.batches.results(batch.id))
    )
  )
  yield* run(() => Reply.Ok({}), claude.batches.list({ limit: 2 }))
  yield* run(() => Reply.Ok({}), claude.batches.retrieve("msgbatch_missing"))
  yield* run(() => Reply.Ok({}), claude.batches.create({ requests: [{ custom_id: "bad id", params }] }))

  // a client with a wrong key (on the test's breaker and budget), and one on a
  // breaker of its own that opens at once
  const wrong = yield* Claude.make({ apiKey: Redacted.make(wrongKey), baseUrl: emulator.url }).pipe(
    Effect.provide(NodeHttpClient.layer)
  )
  yield* run(Emulator.healthy, wrong.messages.create(params))
  yield* run(Emulator.healthy, drain(wrong.messages.stream(params)))
  const fragile = yield* Claude.make({ apiKey: Redacted.make(Emulator.testApiKey), baseUrl: emulator.url }).pipe(
    Effect.provide(Layer.mergeAll(NodeHttpClient.layer, Resilience.layer({ breaker: { minimumCalls: 1 } })))
  )
  yield* run(() => Reply.Error({ status: 529 }), fragile.messages.create(params))
  yield* run(() => Reply.Error({ status: 529 }), drain(fragile.messages.stream(params)))
  return exits
})

const secrets = [Emulator.testApiKey, wrongKey, "sk-ant-"]

describe("Claude e2e: the API key never leaks", () => {
  it.scoped("not in any error, log line or span, across every kind of outcome", () => {
    const traced = makeTracer()
    const logged = makeLogger()
    return Effect.gen(function*() {
      const exits = yield* scenarios
      const errors = exits.map(renderExit).join("\n")
      const logs = [...logged.lines, ...logged.raw].join("\n")
      const spans = traced.text()

      // the scan saw enough to be able to fail
      expect(exits).toHaveLength(24)
      expect(exits.filter(Exit.isFailure).length).toBeGreaterThanOrEqual(18)
      expect(logged.lines.length).toBeGreaterThanOrEqual(5)
      expect(traced.spans.length).toBeGreaterThanOrEqual(60)
      const names = new Set(traced.spans.map((span) => span.name))
      expect(names).toContain("claude.messages.create")
      expect(names).toContain("claude.messages.stream")
      expect(names).toContain("claude.attempt")
      expect(names).toContain("http.client POST")
      expect(names).toContain("http.client GET")
      // the platform records the request headers on its spans: the key's is redacted
      const httpSpans = traced.spans.filter((span) => span.name.startsWith("http.client"))
      expect(httpSpans.length).toBeGreaterThanOrEqual(25)
      for (const span of httpSpans) {
        expect(String(span.attributes.get("http.request.header.x-api-key"))).toBe("<redacted>")
      }
      expect(errors).toContain("TransportError")
      expect(errors).toContain("AuthenticationError")

      for (const secret of secrets) {
        expect(errors).not.toContain(secret)
        expect(logs).not.toContain(secret)
        expect(spans).not.toContain(secret)
      }
    }).pipe(
      // a breaker that never opens, so that every scenario reaches the emulator
      withClaude({
        client: { requestTimeout: "2 seconds", streamIdleTimeout: "2 seconds" },
        resilience: { breaker: { minimumCalls: 1_000_000 } }
      }),
      Effect.provide(logged.layer),
      Effect.withTracer(traced.tracer)
    )
  })

  it.effect("the scan finds a key that is there (a control: capture works)", () => {
    const traced = makeTracer()
    const logged = makeLogger()
    return Effect.gen(function*() {
      yield* Effect.logTrace("leaking", Emulator.testApiKey).pipe(
        Effect.zipRight(Effect.annotateCurrentSpan("leak", Emulator.testApiKey)),
        Effect.withSpan("control")
      )
      expect(logged.lines.join("\n")).toContain(Emulator.testApiKey)
      expect(traced.text()).toContain(Emulator.testApiKey)
      expect(renderExit(Exit.fail(new Error(`key ${Emulator.testApiKey}`)))).toContain(Emulator.testApiKey)
    }).pipe(Effect.provide(logged.layer), Effect.withTracer(traced.tracer))
  })

  it.effect("the recorded requests show the key to a test that asks for it, and redact it when logged", () => {
    const logged = makeLogger()
    return Effect.gen(function*() {
      const claude = yield* Claude.Claude
      yield* runVirtual(claude.messages.create(params))
      const [request] = yield* Effect.flatMap(Emulator.Emulator, (e) => e.requests)
      expect(request?.headers["x-api-key"]).toBe(Emulator.testApiKey)
      yield* Effect.logInfo("recorded", request?.headers)
      expect(logged.lines).toHaveLength(1)
      expect(logged.lines[0]).toContain("anthropic-version")
      expect(logged.lines[0]).not.toContain(Emulator.testApiKey)
    }).pipe(withClaude(), Effect.provide(logged.layer))
  })
})
