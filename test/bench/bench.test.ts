/**
 * The benchmark's instruments, checked so that its figures can be trusted:
 * the server answers what the API would (the JSON a `Message`, the stream
 * framed and ordered like the API's, with exactly N text deltas) and counts
 * connections, not requests; the profile aggregation charges each sample's
 * time where it belongs, inside the window only; the statistics are the
 * ones the report names.
 */
import * as Http from "node:http"
import { pathToFileURL } from "node:url"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { createParser } from "eventsource-parser"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { MessageAccumulator, Messages, MessageStream } from "../../src/index.js"
import { type CpuProfile, summarize } from "./cpuprofile.js"
import { apiKey, deltaText, params, replyText } from "./fixture.js"
import { root } from "./library.js"
import { type BenchServer, quantile, ratios, spread, startServer } from "./measure.js"

/** One POST on its own connection (no keep-alive): status, content type and body. */
const post = (url: string, body: unknown, headers: Record<string, string> = {}, agent?: Http.Agent) =>
  new Promise<{ status: number; contentType: string; text: string }>((resolve, reject) => {
    const request = Http.request(
      url,
      {
        method: "POST",
        agent: agent ?? new Http.Agent({ keepAlive: false }),
        headers: { "content-type": "application/json", "x-api-key": apiKey, ...headers }
      },
      (response) => {
        let text = ""
        response.setEncoding("utf8")
        response.on("data", (chunk: string) => (text += chunk))
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, contentType: String(response.headers["content-type"]), text }))
      }
    )
    request.on("error", reject)
    request.end(JSON.stringify(body))
  })

const sseEvents = (text: string) => {
  const events: Array<{ event: string | undefined; data: string }> = []
  const parser = createParser({ onEvent: (event) => events.push({ event: event.event, data: event.data }) })
  parser.feed(text)
  return events
}

const decodeEvent = Schema.decodeUnknownSync(MessageStream.MessageStreamEvent)

describe("the benchmark server", () => {
  let server: BenchServer
  beforeAll(async () => {
    server = await startServer()
  })
  afterAll(() => server.close())

  it("answers a create with a Message our schema decodes, and the fixed text", async () => {
    const reply = await post(`${server.url}/v1/messages`, params)
    expect(reply.status).toBe(200)
    expect(reply.contentType).toBe("application/json")
    const message = Schema.decodeUnknownSync(Messages.Message)(JSON.parse(reply.text))
    expect(message.content).toMatchObject([{ type: "text", text: replyText }])
  })

  it("streams N text deltas framed and ordered like the API's, whichever way N is given, and they accumulate to the text", async () => {
    const expectOrder = (names: ReadonlyArray<string | undefined>, deltas: number) =>
      expect(names).toEqual([
        "message_start",
        "ping",
        "content_block_start",
        ...Array.from({ length: deltas }, () => "content_block_delta"),
        "content_block_stop",
        "message_delta",
        "message_stop"
      ])
    const body = { ...params, stream: true }
    for (
      const [url, headers, deltas] of [
        [`${server.streamUrl(1_000)}/v1/messages`, {}, 1_000],
        [`${server.url}/v1/messages`, { "x-bench-deltas": "37" }, 37],
        [`${server.url}/v1/messages?deltas=5`, {}, 5],
        [`${server.url}/v1/messages`, {}, 100]
      ] as const
    ) {
      const reply = await post(url, body, headers)
      expect(reply.contentType).toBe("text/event-stream; charset=utf-8")
      const events = sseEvents(reply.text)
      expectOrder(events.map((e) => e.event), deltas)
      // each event's `event:` name is its data's type, as the API sends them
      const decoded = events.map((e) => decodeEvent(JSON.parse(e.data)))
      expect(decoded.map((e) => e.type)).toEqual(events.map((e) => e.event))
      const message = await Effect.runPromise(Stream.run(Stream.fromChunk(Chunk.fromIterable(decoded)), MessageAccumulator.sink))
      expect(message.content).toMatchObject([{ type: "text", text: deltaText.repeat(deltas) }])
      expect(message.stop_reason).toBe("end_turn")
    }
  })

  it("counts connections, not requests: three requests on one keep-alive connection are one, on fresh connections three", async () => {
    const keepAlive = new Http.Agent({ keepAlive: true, maxSockets: 1 })
    const before = await server.stats()
    for (let i = 0; i < 3; i++) await post(`${server.url}/v1/messages`, params, {}, keepAlive)
    const kept = await server.stats()
    expect(kept.requests - before.requests).toBe(3)
    expect(kept.connections - before.connections).toBe(1)
    keepAlive.destroy()
    for (let i = 0; i < 3; i++) await post(`${server.url}/v1/messages`, params)
    const fresh = await server.stats()
    expect(fresh.requests - kept.requests).toBe(3)
    expect(fresh.connections - kept.connections).toBe(3)
  })
})

describe("the profile aggregation", () => {
  // (root) ─┬─ outer (dist/, the library) ── inner (effect)
  //         └─ (garbage collector)
  const dist = pathToFileURL(`${root}/dist/__no_such_file__.js`).href
  const effect = pathToFileURL(`${root}/node_modules/effect/dist/esm/internal/__no_such_file__.js`).href
  const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber, columnNumber: 0 })
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame("(root)", ""), children: [2, 4] },
      { id: 2, callFrame: frame("outer", dist, 9), children: [3] },
      { id: 3, callFrame: frame("inner", effect, 41) },
      { id: 4, callFrame: frame("(garbage collector)", "") }
    ],
    startTime: 1_000,
    endTime: 1_060,
    // samples at 1 010, 1 020, 1 030, 1 040, 1 050: each stands for the 10 µs up to the next
    samples: [3, 3, 4, 2, 3],
    timeDeltas: [10, 10, 10, 10, 10]
  }

  it("charges each sample's interval to its function, the window's samples only", () => {
    const all = summarize(profile)
    expect(all.windowed).toBe(false)
    expect(all.samples).toBe(5)
    expect(all.totalMs).toBeCloseTo(0.05)
    expect(all.functions.map((row) => [row.name, row.location, Math.round(row.percent)])).toEqual([
      ["inner", "effect/…/internal/__no_such_file__.js:42", 60],
      ["(garbage collector)", "", 20],
      ["outer", "dist/__no_such_file__.js:10", 20]
    ])
    const window = summarize(profile, { start: 1_015, end: 1_045 })
    expect(window.windowed).toBe(true)
    expect(window.samples).toBe(3)
    expect(window.functions.map((row) => [row.name, Math.round(row.percent)])).toEqual([
      ["inner", 33],
      ["(garbage collector)", 33],
      ["outer", 33]
    ])
    expect(window.packages.map((row) => row.pkg).sort()).toEqual(
      ["(garbage collector)", "claude-resilience (dist/)", "effect"]
    )
  })

  it("charges each sample to the innermost library frame above it, or to none", () => {
    const { ours } = summarize(profile)
    expect(ours.map((row) => [row.name, Math.round(row.percent)])).toEqual([
      ["outer", 80],
      ["(no library frame on the stack)", 20]
    ])
  })

  it("uses the whole profile when the window is not on the profile's clock", () => {
    expect(summarize(profile, { start: 5, end: 50 }).windowed).toBe(false)
    expect(summarize(profile, { start: 5, end: 50 }).samples).toBe(5)
  })
})

describe("the statistics", () => {
  it("nearest-rank quantiles, the median of odd and even counts, per-round ratios", () => {
    const xs = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5]
    expect(quantile(xs, 0.5)).toBe(5)
    expect(quantile(xs, 0.9)).toBe(9)
    expect(quantile([], 0.5)).toBeNaN()
    expect(spread([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, n: 3 })
    expect(spread([4, 1, 3, 2]).median).toBe(2.5)
    // each round against its own round, not medians against medians
    expect(ratios([2, 4, 9], [1, 2, 3])).toEqual({ median: 2, min: 2, max: 3, n: 3 })
  })
})
