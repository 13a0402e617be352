/**
 * The fallback chain over the emulator (a real loopback socket) under
 * `TestClock`: exact request counts per model, exact instants, the breaker
 * and the budget per model, fatal errors that do not fall back unless
 * named, streams replaced only before their first event, and a chain that
 * fails with every failure, typed.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { CircuitBreaker, Claude, Fallback, MessageAccumulator, Options, StatusPage } from "../src/index.js"
import type { Messages } from "../src/index.js"
import { Emulator } from "../src/testing/index.js"
import { makeCapture } from "./support/capture.js"
import { params } from "./support/messages.js"
import { consume, failureOf, types, virtual } from "./e2e/support.js"

const { Reply } = Emulator

const primary = params.model // claude-sonnet-5-5
const haiku = "claude-haiku-5-5"
const opus = "claude-opus-5-5"

const modelOf = (request: Emulator.RecordedRequest): string =>
  Option.match(request.json, {
    onNone: () => "?",
    onSome: (json) => typeof json === "object" && json !== null && "model" in json ? String(json.model) : "?"
  })

/** A script that answers each model with its own reply. */
const byModel = (replies: Readonly<Record<string, Emulator.Reply>>): Emulator.Script => (request) =>
  replies[modelOf(request)] ?? Reply.Ok({})

/** The emulator (and a status page over it, when `status` is given) and an HttpClient. */
const withEmulator = (options: Emulator.Options) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.scoped,
    Effect.provide(Layer.merge(Emulator.layer({ apiKey: Emulator.testApiKey, ...options }), NodeHttpClient.layer)),
    Effect.withRandom(Random.fixed([0.5]))
  )

const client = (retry: Claude.Options["retry"] = undefined) =>
  Effect.flatMap(Emulator.Emulator, (emulator) =>
    Claude.make({
      apiKey: Redacted.make(Emulator.testApiKey),
      baseUrl: emulator.url,
      ...(retry !== undefined ? { retry } : {})
    }))

/** The instants at which each model's requests arrived. */
const arrivalsByModel = Effect.flatMap(Emulator.Emulator, (emulator) =>
  Effect.map(emulator.requests, (requests) => {
    const out: Record<string, Array<number>> = {}
    for (const r of requests) (out[modelOf(r)] ??= []).push(r.receivedAt)
    return out
  }))

const canned: Messages.Message = {
  id: "msg_cached",
  type: "message",
  role: "assistant",
  model: "cache",
  content: [{ type: "text", text: "a cached answer" }],
  stop_reason: "end_turn",
  stop_sequence: null,
  usage: { input_tokens: 0, output_tokens: 0 }
} as unknown as Messages.Message

describe("Fallback.make: create", () => {
  it.effect("a 529 storm on the primary: 6 requests to it (0 … 11500 ms), then 1 to the fallback model at 11500", () =>
    Effect.gen(function*() {
      const chain = yield* Fallback.make({ client: client(), alternatives: [Fallback.model(haiku)] })
      const answered = yield* virtual(chain.create(params))
      expect(answered.path).toEqual({ _tag: "Model", index: 0, model: haiku })
      expect(answered.value.model).toBe(haiku)
      expect(answered.failures.map((f) => [f.path._tag, (f.error as { _tag: string })._tag])).toEqual([
        ["Primary", "OverloadedError"]
      ])
      expect(yield* arrivalsByModel).toEqual({ [primary]: [0, 500, 1500, 3500, 7500, 11500], [haiku]: [11500] })
    }).pipe(withEmulator({ script: byModel({ [primary]: Reply.Error({ status: 529 }) }) })))

  it.effect("a healthy primary answers: no fallback, one request", () =>
    Effect.gen(function*() {
      const chain = yield* Fallback.make({ client: client(), alternatives: [Fallback.model(haiku)] })
      const answered = yield* virtual(chain.create(params))
      expect(answered.path).toEqual({ _tag: "Primary", model: primary })
      expect(answered.failures).toEqual([])
      expect(yield* arrivalsByModel).toEqual({ [primary]: [0] })
    }).pipe(withEmulator({ script: Emulator.healthy })))

  it.effect("a 503 on the primary falls back too; a 500 that outlasts its retry does not", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const chain = yield* Fallback.make({ client: client({ maxRetries: 0 }), alternatives: [Fallback.model(haiku)] })
      expect((yield* virtual(chain.create(params))).path._tag).toBe("Model")
      yield* emulator.reset
      yield* emulator.setScript(byModel({ [primary]: Reply.Error({ status: 500 }) }))
      const error = yield* failureOf(chain.create(params))
      expect(error.exhausted).toBe(false)
      expect(error.failures.map((f) => (f.error as { _tag: string })._tag)).toEqual(["InternalServerError"])
      expect(yield* arrivalsByModel).toEqual({ [primary]: [0] })
    }).pipe(withEmulator({ script: byModel({ [primary]: Reply.Error({ status: 503 }) }) })))

  it.effect("a fatal error does not fall back (1 request in all); named in `on`, it does", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const strict = yield* Fallback.make({ client: client(), alternatives: [Fallback.model(opus)] })
      const error = yield* failureOf(strict.create(params))
      expect(error._tag).toBe("FallbackError")
      expect(error.exhausted).toBe(false)
      expect(error.failures).toHaveLength(1)
      expect(error.failures[0]!.path).toEqual({ _tag: "Primary", model: primary })
      expect((error.failures[0]!.error as { _tag: string })._tag).toBe("InvalidRequestError")
      expect(yield* arrivalsByModel).toEqual({ [primary]: [0] })

      yield* emulator.reset
      const larger = yield* Fallback.make({
        client: client(),
        alternatives: [Fallback.model(opus)],
        on: ["InvalidRequestError"]
      })
      const answered = yield* virtual(larger.create(params))
      expect(answered.path).toEqual({ _tag: "Model", index: 0, model: opus })
      expect(yield* arrivalsByModel).toEqual({ [primary]: [0], [opus]: [0] })
    }).pipe(withEmulator({
      script: byModel({ [primary]: Reply.Error({ status: 400, message: "prompt is too long: 250000 tokens > 200000 maximum" }) })
    })))

  it.effect("every path fails: one FallbackError with each failure, in order, typed (the answer's own error included)", () =>
    Effect.gen(function*() {
      const chain = yield* Fallback.make({
        client: client({ maxRetries: 0 }),
        alternatives: [Fallback.model(haiku), Fallback.answer(() => Effect.fail({ _tag: "CacheMiss" as const }))]
      })
      const error = yield* failureOf(chain.create(params))
      expect(error.exhausted).toBe(true)
      expect(error.failures.map((f) => [Fallback.describePath(f.path), f.error._tag])).toEqual([
        [`primary (${primary})`, "OverloadedError"],
        [`alternative 0 (${haiku})`, "ServiceUnavailableError"],
        ["alternative 1 (answer)", "CacheMiss"]
      ])
      expect(error.message).toBe(
        `every path of the fallback chain failed: primary (${primary}): OverloadedError; alternative 0 (${haiku}): ServiceUnavailableError; alternative 1 (answer): CacheMiss`
      )
      expect(yield* arrivalsByModel).toEqual({ [primary]: [0], [haiku]: [0] })
    }).pipe(withEmulator({
      script: byModel({ [primary]: Reply.Error({ status: 529 }), [haiku]: Reply.Error({ status: 503 }) })
    })))

  it.effect("an answer function answers after the models fail, and sees their failures", () =>
    Effect.gen(function*() {
      let seen: ReadonlyArray<string> = []
      const chain = yield* Fallback.make({
        client: client({ maxRetries: 0 }),
        alternatives: [
          Fallback.model(haiku),
          Fallback.answer((_, failures) =>
            Effect.sync(() => {
              seen = failures.map((f) => Fallback.describePath(f.path))
              return canned
            })
          )
        ]
      })
      const answered = yield* virtual(chain.create(params))
      expect(answered.path).toEqual({ _tag: "Answer", index: 1 })
      expect(answered.value).toBe(canned)
      expect(seen).toEqual([`primary (${primary})`, `alternative 0 (${haiku})`])
    }).pipe(withEmulator({ script: () => Reply.Error({ status: 529 }) })))

  it.effect("params that are not an object (untyped code): a typed failure of every path, nothing thrown, nothing sent", () =>
    Effect.gen(function*() {
      const chain = yield* Fallback.make({
        client: client({ maxRetries: 0 }),
        alternatives: [Fallback.model(haiku)],
        on: ["ClientRequestError", "InvalidRequestError"]
      })
      for (const bad of [null, undefined, 42, "hello"]) {
        const error = yield* failureOf(chain.create(bad as never))
        expect(error._tag).toBe("FallbackError")
        expect(error.failures[0]!.path).toEqual({ _tag: "Primary", model: "(no model)" })
      }
      expect(yield* (yield* Emulator.Emulator).requestCount).toBe(0)
    }).pipe(withEmulator({ script: Emulator.healthy })))

  it.effect("an alternative's params: rewritten, its model forced", () =>
    Effect.gen(function*() {
      const chain = yield* Fallback.make({
        client: client({ maxRetries: 0 }),
        alternatives: [Fallback.model(haiku, { params: (p) => ({ ...p, max_tokens: 32, model: "ignored" }) })]
      })
      yield* virtual(chain.create(params))
      const requests = yield* (yield* Emulator.Emulator).requests
      expect(requests.map((r) => Option.getOrThrow(r.json))).toMatchObject([
        { model: primary, max_tokens: 256 },
        { model: haiku, max_tokens: 32 }
      ])
    }).pipe(withEmulator({ script: byModel({ [primary]: Reply.Error({ status: 529 }) }) })))
})

describe("Fallback: a breaker and a budget per model", () => {
  it.effect("an overloaded primary opens its own breaker, not the fallback's: calls 3 and 4 send nothing to it", () =>
    Effect.gen(function*() {
      const chain = yield* Fallback.make({
        client: client({ maxRetries: 0 }),
        alternatives: [Fallback.model(haiku)],
        resilience: { breaker: { minimumCalls: 2, failureRateThreshold: 0.5, name: "claude" } }
      })
      const paths: Array<string> = []
      for (let i = 0; i < 4; i++) paths.push(Fallback.describePath((yield* virtual(chain.create(params))).path))
      expect(paths).toEqual(Array(4).fill(`alternative 0 (${haiku})`))
      // calls 1 and 2 reached the primary and opened its breaker; 3 and 4 were refused at once
      expect(yield* arrivalsByModel).toEqual({ [primary]: [0, 0], [haiku]: [0, 0, 0, 0] })
      const primaryBreaker = Option.getOrThrow(yield* chain.breaker(primary))
      const haikuBreaker = Option.getOrThrow(yield* chain.breaker(haiku))
      expect((yield* primaryBreaker.state)._tag).toBe("Open")
      expect((yield* haikuBreaker.state)._tag).toBe("Closed")
      expect(primaryBreaker.settings.name).toBe(`claude/${primary}`)
      expect(haikuBreaker.settings.name).toBe(`claude/${haiku}`)
    }).pipe(withEmulator({ script: byModel({ [primary]: Reply.Error({ status: 529 }) }) })))

  it.effect("the primary's retries spend its own budget: the fallback still has a retry for its own 529", () => {
    let haikuRequests = 0
    return Effect.gen(function*() {
      const chain = yield* Fallback.make({
        client: client({ maxRetries: 1 }),
        alternatives: [Fallback.model(haiku)],
        // one retry token in reserve, refilled at 1 a second; no deposits
        resilience: { budget: { percent: 0, minRetriesPerSecond: 1, ttl: "1 second" } }
      })
      const answered = yield* virtual(chain.create(params))
      expect(answered.path).toEqual({ _tag: "Model", index: 0, model: haiku })
      // the primary's retry at 500 took its token; the fallback's retry at 1000 takes its own
      // (a shared reserve would hold half a token at 1000, and the chain would fail)
      expect(yield* arrivalsByModel).toEqual({ [primary]: [0, 500], [haiku]: [500, 1000] })
    }).pipe(withEmulator({
      script: (request) =>
        modelOf(request) === primary
          ? Reply.Error({ status: 529 })
          : ++haikuRequests === 1
          ? Reply.Error({ status: 529 })
          : Reply.Ok({})
    }))
  })

  it.effect("control: one breaker shared by both models (one client) is opened by the primary and refuses the fallback", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      for (let i = 0; i < 2; i++) yield* Effect.either(virtual(claude.messages.create(params)))
      const refused = yield* failureOf(claude.messages.create({ ...params, model: haiku }))
      expect(refused._tag).toBe("CircuitOpenError")
      expect((yield* CircuitBreaker.state)._tag).toBe("Open")
    }).pipe(Effect.provide(Emulator.layerClaude({
      script: byModel({ [primary]: Reply.Error({ status: 529 }) }),
      client: { retry: { maxRetries: 0 } },
      resilience: { breaker: { minimumCalls: 2, failureRateThreshold: 0.5 } }
    })), Effect.withRandom(Random.fixed([0.5]))))
})

describe("Fallback: the status page", () => {
  it.effect("major: the primary's 529 is not retried (1 request), the fallback answers at 0", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      // the page in the test's scope (its fetches run there); the clients capture it when they are built
      const page = yield* StatusPage.make({ url: emulator.statusPageUrl })
      const chain = yield* Fallback.make({ client: client(), alternatives: [Fallback.model(haiku)] }).pipe(
        Effect.provideService(StatusPage.StatusPage, page)
      )
      const answered = yield* virtual(chain.create(params))
      expect(answered.path._tag).toBe("Model")
      expect(yield* arrivalsByModel).toEqual({ [primary]: [0], [haiku]: [0] })
    }).pipe(withEmulator({ script: byModel({ [primary]: Reply.Error({ status: 529 }) }), status: "major" })))
})

describe("Fallback.make: stream", () => {
  it.effect("a primary stream that fails before its first event is replaced by the fallback model's", () =>
    Effect.gen(function*() {
      const chain = yield* Fallback.make({ client: client({ maxRetries: 1 }), alternatives: [Fallback.model(haiku)] })
      const answered = yield* virtual(chain.stream(params))
      expect(answered.path).toEqual({ _tag: "Model", index: 0, model: haiku })
      const { received, exit } = yield* consume(answered.value)
      expect(exit._tag).toBe("Success")
      expect(types(received)[0]).toBe("message_start")
      expect(yield* arrivalsByModel).toEqual({ [primary]: [0, 500], [haiku]: [500] })
    }).pipe(withEmulator({ script: byModel({ [primary]: Reply.Error({ status: 529 }) }) })))

  it.effect("a stream that fails after its first event is not replaced: it ends with its own error", () =>
    Effect.gen(function*() {
      const chain = yield* Fallback.make({ client: client({ maxRetries: 0 }), alternatives: [Fallback.model(haiku)] })
      const answered = yield* virtual(chain.stream(params))
      expect(answered.path._tag).toBe("Primary")
      const { received, exit } = yield* consume(answered.value)
      expect(received.length).toBeGreaterThan(0)
      expect(exit._tag).toBe("Failure")
      expect(yield* arrivalsByModel).toEqual({ [primary]: [0] })
    }).pipe(withEmulator({
      script: byModel({ [primary]: Reply.StreamError({ afterEvents: 4, type: "overloaded_error" }) })
    })))

  it.effect("an answer function's message is streamed as events that fold back into it", () =>
    Effect.gen(function*() {
      const chain = yield* Fallback.make({
        client: client({ maxRetries: 0 }),
        alternatives: [Fallback.answer(() => Effect.succeed(canned))]
      })
      const answered = yield* virtual(chain.stream(params))
      expect(answered.path).toEqual({ _tag: "Answer", index: 0 })
      const events = yield* Stream.runCollect(answered.value)
      const folded = MessageAccumulator.fromEvents(events)
      expect(Either.getOrThrow(folded)).toEqual(canned)
    }).pipe(withEmulator({ script: () => Reply.Error({ status: 529 }) })))
})

describe("Fallback.layer", () => {
  it.effect("provides the chain as the Fallback service", () =>
    Effect.gen(function*() {
      const chain = yield* Fallback.Fallback
      const answered = yield* virtual(chain.create(params))
      expect(answered.path).toEqual({ _tag: "Model", index: 0, model: haiku })
      expect(yield* arrivalsByModel).toEqual({ [primary]: [0], [haiku]: [0] })
    }).pipe(
      Effect.provide(Fallback.layer({ client: client({ maxRetries: 0 }), alternatives: [Fallback.model(haiku)] })),
      withEmulator({ script: byModel({ [primary]: Reply.Error({ status: 529 }) }) })
    ))
})

describe("Fallback: options", () => {
  it.effect("bad options: one InvalidOptionsError (module Fallback), every problem at its path, nothing built", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Fallback.make({
        client: "not an effect" as never,
        alternatives: [Fallback.model(haiku), { _tag: "Model" } as never],
        on: ["not a tag!"] as never,
        resilience: { breaker: { window: -1 } }
      } as never))
      expect(Options.isInvalidOptionsError(error)).toBe(true)
      const invalid = error as Options.InvalidOptionsError
      expect(invalid.module).toBe("Fallback")
      expect(invalid.problems.map((p) => p.path).sort()).toEqual(
        ["alternatives.1", "client", "on.0", "resilience.breaker.window"]
      )
      const shared = yield* Effect.flip(Fallback.make({
        client: client(),
        alternatives: [Fallback.model(haiku)],
        resilience: { breaker: { store: yield* CircuitBreaker.makeMemoryStore() } }
      }))
      expect(shared).toMatchObject({ module: "Fallback", problems: [{ path: "resilience.breaker.store" }] })
      expect(yield* Effect.flip(Fallback.make({ client: client(), alternatives: [] } as never)))
        .toMatchObject({ problems: [{ path: "alternatives", message: "must list at least one alternative" }] })
    }).pipe(withEmulator({})))
})

describe("Fallback: logging", () => {
  it.effect("a fallback taken is a Warning with the failed request's id, and never the key", () => {
    const capture = makeCapture()
    return Effect.gen(function*() {
      const chain = yield* Fallback.make({ client: client({ maxRetries: 0 }), alternatives: [Fallback.model(haiku)] })
      yield* virtual(chain.create(params))
      const lines = capture.logged.lines.filter((l) => l.includes("fallback taken"))
      expect(lines).toHaveLength(1)
      expect(lines[0]).toContain("level=WARN")
      expect(lines[0]).toContain("request.id=req_emu_000001")
      expect(lines[0]).toContain("fallback.error=OverloadedError")
      const span = capture.traced.spans.find((s) => s.name === "claude.fallback")!
      expect(span.attributes.get("fallback.path")).toBe("model")
      expect(span.attributes.get("fallback.model")).toBe(haiku)
      expect(span.attributes.get("fallback.failures")).toBe(1)
      capture.assertNoLeak(Emulator.testApiKey, [])
    }).pipe(withEmulator({ script: byModel({ [primary]: Reply.Error({ status: 529 }) }) }), capture.provide)
  })
})
