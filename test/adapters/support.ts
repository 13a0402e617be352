/**
 * The adapters under test: `Resilience.fetch` with its runtime on a
 * `TestClock` and a fixed `Random` (so that every wait is known and taken in
 * virtual time), the official SDK on it, and scripted loopback servers.
 */
import Anthropic from "@anthropic-ai/sdk"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Random from "effect/Random"
import * as TestClock from "effect/TestClock"
import * as TestContext from "effect/TestContext"
import * as TestServices from "effect/TestServices"
import type * as Http from "node:http"
import * as FetchAdapter from "../../src/internal/adapters/fetch.js"
import type { HostileServer } from "../support/hostileServer.js"
import { httpServer } from "../support/hostileServer.js"
import { runVirtual } from "../support/virtualTime.js"
import { replySse, textEvents } from "../support/wire.js"
import { okBody } from "../support/scripted.js"

export const key = "sk-ant-api03-adapters-5ecr3t-k3y-0123456789"

/** A TestClock and `Random.fixed(draws)`: full jitter at 0.5 waits 500 ms, then 1 000 ms, … */
export const testLayer = (draws: readonly [number, ...Array<number>] = [0.5], extra: Layer.Layer<never> = Layer.empty) =>
  Layer.provideMerge(Layer.merge(Layer.setRandom(Random.fixed([...draws] as [number, ...Array<number>])), extra), TestContext.TestContext)

/** `Resilience.fetch` on a TestClock; `run` drives a promise to its end in the adapter's virtual time. */
export const virtualFetch = (options?: FetchAdapter.FetchOptions, layer = testLayer()) => {
  const { adapter, runtime } = FetchAdapter.build(options, layer)
  if (runtime === undefined) throw new Error("invalid options: use FetchAdapter.make")
  /** Runs `f` while moving the adapter's TestClock to each pending wait; the virtual time it ended at. */
  const run = <A>(f: () => Promise<A>) =>
    Effect.promise(() =>
      runtime.runPromise(
        Effect.zip(
          Effect.either(runVirtual(Effect.tryPromise({ try: f, catch: (error) => error }))),
          TestClock.currentTimeMillis
        )
      )
    ).pipe(Effect.map(([outcome, at]) => ({ outcome, at })))
  return { fetch: adapter, runtime, run }
}

/** The official SDK on `url`, sending through `fetch`, its own retries off. */
export const sdkWith = (url: string, fetch: FetchAdapter.Fetch) =>
  new Anthropic({ apiKey: key, baseURL: url, fetch, maxRetries: 0, timeout: 10_000 })

export const sdkParams: Anthropic.MessageCreateParamsNonStreaming = {
  model: "claude-sonnet-5-5",
  max_tokens: 64,
  messages: [{ role: "user", content: "Hello" }]
}

/** One scripted reply: a status with a JSON (or empty) body, or a healthy event stream. */
export type Reply =
  | { readonly status: number; readonly body?: unknown; readonly headers?: Readonly<Record<string, string>> }
  | { readonly stream: string }

/** A server answering request n (from 0) with `script[n]`, and any later one with a 200 (JSON, or a stream when asked for one). */
export const script = (replies: ReadonlyArray<Reply>): Effect.Effect<HostileServer, never, import("effect/Scope").Scope> => {
  let n = 0
  return httpServer((request, res: Http.ServerResponse) => {
    const i = n++
    const streaming = request.body.includes(`"stream":true`)
    const reply: Reply = replies[i] ?? (streaming ? { stream: "Hello, streamed" } : { status: 200, body: JSON.parse(okBody(i)) })
    if ("stream" in reply) return replySse(res, textEvents(reply.stream))
    const body = reply.body === undefined ? "" : JSON.stringify(reply.body)
    res.writeHead(reply.status, {
      ...(body === "" ? {} : { "content-type": "application/json" }),
      "request-id": `req_adapter_${i}`,
      ...reply.headers
    })
    res.end(body)
  })
}

/** The documented error envelope. */
export const error = (type: string, message: string) => ({ type: "error", error: { type, message }, request_id: "req_err" })

export const overloaded = { status: 529, body: error("overloaded_error", "Overloaded") } as const
export const spendLimit = {
  status: 429,
  body: error("rate_limit_error", "You have reached your specified API usage limits (spend limit).")
} as const
export const internal = { status: 500, body: error("api_error", "Internal server error") } as const

/** Polls (in real time, 5 ms at a time, at most 10 s) until the adapter's runtime has a fiber asleep on its TestClock. */
export const untilAsleep = (runtime: FetchAdapter.AdapterRuntime) =>
  Effect.promise(() =>
    runtime.runPromise(Effect.gen(function*() {
      for (let polls = 0; polls < 2000; polls++) {
        const sleeps = yield* TestClock.sleeps()
        if (Chunk.isNonEmpty(sleeps)) return Chunk.toReadonlyArray(sleeps)
        yield* TestServices.provideLive(Effect.sleep("5 millis"))
      }
      return yield* Effect.dieMessage("the adapter never slept")
    }))
  )

/** How a promise settled: its value, or what it rejected with. */
export const settle = <A>(promise: () => Promise<A>) =>
  Effect.promise(() =>
    promise().then(
      (value) => Either.right(value) as Either.Either<A, unknown>,
      (error: unknown) => Either.left(error) as Either.Either<A, unknown>
    )
  )
