/**
 * The examples of docs/client.md, verbatim (imports aside), run against the
 * emulator so that they keep compiling and keep doing what the page says.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import {
  Config,
  ConfigProvider,
  Context,
  Duration,
  Effect,
  Layer,
  Metric,
  Option,
  Random,
  Redacted,
  Schedule,
  Stream,
  TestClock
} from "effect"
import { Claude, type Messages, Resilience } from "../../src/index.js"
import { Emulator, VirtualTime } from "../../src/testing/index.js"
import { runVirtual } from "../support/virtualTime.js"

// --- docs: quick start -------------------------------------------------------

const hello = Effect.gen(function*() {
  const claude = yield* Claude.Claude
  const message = yield* claude.messages.create({
    model: "claude-sonnet-5-5",
    max_tokens: 1024,
    messages: [{ role: "user", content: "Hello, Claude" }]
  })
  return message.content
})

// ANTHROPIC_API_KEY (required) and ANTHROPIC_BASE_URL (optional) from Config,
// over an HttpClient, and one breaker and one retry budget for the process
const ClaudeLive = Claude.layerConfig().pipe(
  Layer.provide(Layer.mergeAll(NodeHttpClient.layer, Resilience.layer()))
)

// --- docs: layers (layerConfig with Configs of our own) ------------------------

const ConfiguredLive = Claude.layerConfig({
  retry: { maxRetries: Config.integer("CLAUDE_MAX_RETRIES").pipe(Config.withDefault(5)) },
  requestTimeout: Config.duration("CLAUDE_REQUEST_TIMEOUT").pipe(Config.withDefault(Duration.minutes(2)))
}).pipe(Layer.provide(Layer.mergeAll(NodeHttpClient.layer, Resilience.layer())))

// --- docs: transforming the client ---------------------------------------------

const viaGateway = (key: string, gatewayUrl: string) =>
  Claude.layer({
    apiKey: Redacted.make(key),
    baseUrl: gatewayUrl,
    // a header of your own on every request, for the gateway
    transformClient: HttpClient.mapRequest(HttpClientRequest.setHeader("x-gateway-team", "search"))
  })

const main = hello.pipe(Effect.provide(ClaudeLive))

// --- docs: errors by tag -------------------------------------------------------

const answer = hello.pipe(
  Effect.map((content) => content.flatMap((block) => (block.type === "text" ? [block.text] : [])).join("")),
  Effect.catchTags({
    // retried already, as the policy allows: now give the user a fallback
    OverloadedError: () => Effect.succeed("Claude is busy, try again in a minute."),
    CircuitOpenError: () => Effect.succeed("Claude is unavailable, try again in a minute."),
    // waiting never fixes these: let them surface
    SpendLimitError: (error) => Effect.die(error),
    AuthenticationError: (error) => Effect.die(error)
  })
)

// --- docs: streaming -----------------------------------------------------------

const params: Messages.MessageCreateParams = {
  model: "claude-sonnet-5-5",
  max_tokens: 1024,
  messages: [{ role: "user", content: "Write a haiku about retries." }]
}

const text = Stream.unwrap(Effect.map(Claude.Claude, (claude) => claude.messages.stream(params))).pipe(
  Stream.filterMap((event) =>
    event.type === "content_block_delta" && event.delta.type === "text_delta"
      ? Option.some(event.delta.text)
      : Option.none()
  )
)

const printed = Stream.runForEach(text, (delta) => Effect.sync(() => process.stdout.write(delta)))

// the whole answer, streamed and accumulated: no request held open for minutes
const final = Effect.flatMap(Claude.Claude, (claude) => claude.messages.finalMessage(params))

// max_tokens 64000 could run past 10 minutes: create sends it as a stream
const long = Effect.flatMap(Claude.Claude, (claude) => claude.messages.create({ ...params, max_tokens: 64000 }))

// --- docs: batches -------------------------------------------------------------

const batchRun = Effect.gen(function*() {
  const claude = yield* Claude.Claude
  const batch = yield* claude.batches.create({
    requests: [
      { custom_id: "question-1", params },
      { custom_id: "question-2", params: { ...params, messages: [{ role: "user", content: "And a limerick?" }] } }
    ]
  })
  yield* claude.batches.retrieve(batch.id).pipe(
    Effect.repeat({ schedule: Schedule.spaced("30 seconds"), until: (b) => b.processing_status === "ended" })
  )
  return yield* claude.batches.results(batch.id).pipe(
    Stream.runFold({ answers: new Map<string, string>(), failed: [] as Array<string> }, (acc, result) => {
      switch (result._tag) {
        case "Succeeded":
          acc.answers.set(result.customId, JSON.stringify(result.message.content))
          break
        case "Errored":
          acc.failed.push(`${result.customId}: ${result.error._tag}`)
          break
        default:
          acc.failed.push(`${result.customId}: ${result._tag}`)
      }
      return acc
    })
  )
})

// --- docs: one breaker and one budget for every client --------------------------

// a second client, with a patient policy for background work
class Background extends Context.Tag("app/Background")<Background, Claude.Service>() {}

const BackgroundLive = Claude.layerConfig({
  retry: { maxRetries: Config.succeed(8), maxElapsed: Config.succeed(Duration.minutes(1)) }
}).pipe(Layer.project(Claude.Claude, Background, (client) => client))

// one breaker and one retry budget, provided once, under both clients
const AppLive = Layer.mergeAll(Claude.layerConfig(), BackgroundLive).pipe(
  Layer.provide(Layer.mergeAll(NodeHttpClient.layer, Resilience.layer()))
)

// --- docs: metrics ---------------------------------------------------------------

const attempts = Metric.value(Metric.tagged(Claude.attemptsTotal, "endpoint", "messages.create"))

// --- the tests (the last two are the testing section's examples) -----------------

const withConfig = (url: string) =>
  Effect.withConfigProvider(
    ConfigProvider.fromMap(new Map([["ANTHROPIC_API_KEY", Emulator.testApiKey], ["ANTHROPIC_BASE_URL", url]]))
  )

describe("docs/client.md examples", () => {
  it.effect("quick start: layerConfig over NodeHttpClient, one create", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const content = yield* main.pipe(withConfig(emulator.url))
      expect(content).toMatchObject([{ type: "text", text: "Hello from the claude-resilience emulator." }])
      expect(yield* emulator.requestCount).toBe(1)
    }).pipe(Effect.provide(Emulator.layer({ apiKey: Emulator.testApiKey }))))

  it.effect("layers: the Configs given are read (CLAUDE_MAX_RETRIES=0: one request), their defaults otherwise", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const claude = yield* Layer.build(ConfiguredLive).pipe(
        Effect.map(Context.get(Claude.Claude)),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([
          ["ANTHROPIC_API_KEY", Emulator.testApiKey],
          ["ANTHROPIC_BASE_URL", emulator.url],
          ["CLAUDE_MAX_RETRIES", "0"]
        ])))
      )
      const error = yield* Effect.flip(runVirtual(claude.messages.create(params)))
      expect(typeof error === "string" ? error : error._tag).toBe("OverloadedError")
      expect(yield* emulator.requestCount).toBe(1)
    }).pipe(
      Effect.scoped,
      Effect.provide(Emulator.layer({ apiKey: Emulator.testApiKey, script: () => Emulator.Reply.Error({ status: 529 }) }))
    ))

  it.effect("transforming the client: the gateway header is on every request, streams and batch results too", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const claude = yield* Layer.build(viaGateway(Emulator.testApiKey, emulator.url)).pipe(
        Effect.map(Context.get(Claude.Claude)),
        Effect.provide(Layer.mergeAll(NodeHttpClient.layer, Resilience.layer()))
      )
      yield* runVirtual(claude.messages.create(params))
      yield* runVirtual(Stream.runDrain(claude.messages.stream(params)))
      yield* runVirtual(claude.messages.countTokens({ model: params.model, messages: params.messages }))
      const batch = yield* runVirtual(claude.batches.create({ requests: [{ custom_id: "a", params }] }))
      yield* runVirtual(Stream.runDrain(claude.batches.results(batch.id)))
      const requests = yield* emulator.requests
      expect(requests.map((r) => r.path)).toEqual([
        "/v1/messages",
        "/v1/messages",
        "/v1/messages/count_tokens",
        "/v1/messages/batches",
        `/v1/messages/batches/${batch.id}/results`
      ])
      expect(requests.map((r) => r.headers["x-gateway-team"])).toEqual(Array(5).fill("search"))
      // the transform sees the request complete: the client's own headers are there too
      expect(requests.every((r) => r.headers["x-api-key"] === Emulator.testApiKey)).toBe(true)
    }).pipe(Effect.scoped, Effect.provide(Emulator.layer({ apiKey: Emulator.testApiKey }))))

  it.effect("errors by tag: a 529 storm ends in the fallback text, after the policy's 6 attempts", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const text = yield* runVirtual(answer.pipe(Effect.provideService(Claude.Claude, claude)))
      expect(text).toBe("Claude is busy, try again in a minute.")
      expect(yield* Effect.flatMap(Emulator.Emulator, (e) => e.requestCount)).toBe(6)
    }).pipe(
      Effect.provide(Emulator.layerClaude({ script: () => Emulator.Reply.Error({ status: 529 }) })),
      Effect.withRandom(Random.fixed([0.5]))
    ))

  it.effect("streaming: the text deltas, and finalMessage for a long answer", () =>
    Effect.gen(function*() {
      const deltas = yield* runVirtual(Stream.runCollect(text))
      expect([...deltas].join("")).toBe("Hello from the claude-resilience emulator.")
      const written: Array<string> = []
      const write = process.stdout.write
      process.stdout.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stdout.write
      yield* runVirtual(printed).pipe(Effect.ensuring(Effect.sync(() => (process.stdout.write = write))))
      expect(written.join("")).toBe("Hello from the claude-resilience emulator.")
      const message = yield* runVirtual(final)
      expect(message.stop_reason).toBe("end_turn")
      const longMessage = yield* runVirtual(long)
      expect(longMessage.content).toEqual(message.content)
      const requests = yield* Effect.flatMap(Emulator.Emulator, (e) => e.requests)
      expect(requests.map((r) => (Option.getOrUndefined(r.json) as { stream?: boolean }).stream)).toEqual([
        true,
        true,
        true,
        true
      ])
    }).pipe(Effect.provide(Emulator.layerClaude())))

  it.effect("batches: create, poll until ended, fold the results", () =>
    Effect.gen(function*() {
      const { answers, failed } = yield* runVirtual(batchRun)
      expect([...answers.keys()]).toEqual(["question-1"])
      expect(failed).toEqual(["question-2: OverloadedError"])
      const requests = yield* Effect.flatMap(Emulator.Emulator, (e) => e.requests)
      // create, 3 polls (at 0, 30 and 60 s; it ends at 60 s), results
      expect(requests.map((r) => [r.method, r.receivedAt])).toEqual([
        ["POST", 0],
        ["GET", 0],
        ["GET", 30_000],
        ["GET", 60_000],
        ["GET", 60_000]
      ])
    }).pipe(Effect.provide(Emulator.layerClaude({
      batchProcessingTime: "1 minute",
      batchOutcome: (customId) => customId === "question-1" ? "succeeded" : { errored: { type: "overloaded_error" } }
    }))))

  it.effect("metrics: attempts counted by endpoint", () =>
    Effect.gen(function*() {
      const before = yield* attempts
      yield* runVirtual(hello)
      const after = yield* attempts
      expect(after.count - before.count).toBe(1)
    }).pipe(Effect.provide(Emulator.layerClaude())))

  it.effect("sharing: the breaker the default client opened refuses the background client too", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const program = Effect.gen(function*() {
        // the budget's reserve fills from the moment it is made
        yield* TestClock.adjust("10 seconds")
        const first = yield* Effect.flip(runVirtual(hello))
        const second = yield* Effect.flip(runVirtual(Effect.flatMap(Background, (claude) => claude.messages.create(params))))
        const third = yield* Effect.flip(runVirtual(hello))
        return [first, second, third].map((error) => typeof error === "string" ? error : error._tag)
      })
      const tags = yield* program.pipe(Effect.provide(AppLive), withConfig(emulator.url))
      // 6 attempts by the first call, then the second's: its 4th (the 10th
      // failure, at 25 s) opens the shared breaker (10 calls, 30 %) for 2 s;
      // its retries at 29 s and 33 s are probes that fail (open for 4 s, then
      // 8 s, until 41 s), so the retry due at 37 s is not taken and it ends
      // with its own error (no sleep towards a refused retry); the third
      // call is refused without a request
      expect(tags).toEqual(["OverloadedError", "OverloadedError", "CircuitOpenError"])
      expect(yield* emulator.requestCount).toBe(12)
    }).pipe(
      Effect.provide(Emulator.layer({ apiKey: Emulator.testApiKey, script: () => Emulator.Reply.Error({ status: 529 }) })),
      Effect.withRandom(Random.fixed([0.5]))
    ))

  // --- docs: testing ---------------------------------------------------------------

  it.effect("529, 529, then 200: the message, after waits of 500 ms and 1 s", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const emulator = yield* Emulator.Emulator
      const message = yield* VirtualTime.run(claude.messages.create(params))
      expect(message.type).toBe("message")
      const requests = yield* emulator.requests
      expect(requests.map((r) => r.receivedAt)).toEqual([0, 500, 1500])
    }).pipe(
      Effect.provide(Emulator.layerClaude({
        script: Emulator.sequence([Emulator.Reply.Error({ status: 529 }), Emulator.Reply.Error({ status: 529 })])
      })),
      // every jitter draw 0.5: the full-jitter waits are half their ceilings
      Effect.withRandom(Random.fixed([0.5]))
    ))

  it.effect("a 400 is not retried: one request, no time spent", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const error = yield* Effect.flip(claude.messages.create(params))
      expect(error._tag).toBe("InvalidRequestError")
      expect(yield* Effect.flatMap(Emulator.Emulator, (e) => e.requestCount)).toBe(1)
    }).pipe(Effect.provide(Emulator.layerClaude({ script: () => Emulator.Reply.Error({ status: 400 }) }))))
})
