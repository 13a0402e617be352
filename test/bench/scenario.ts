/**
 * One benchmark scenario in a process of its own, for `node --cpu-prof`
 * (./profile.ts runs it). It warms up, then runs the measured part, and
 * writes the measured window (in the profiler's clock: `process.hrtime`,
 * µs) and what it did to the file named by `--window <path>`, so that the
 * profile's samples outside it (start-up, module loading, warm-up) can be
 * left out.
 *
 *   node --cpu-prof --import tsx test/bench/scenario.ts create [ours|bare|sdk] --window w.json
 *   node --cpu-prof --import tsx test/bench/scenario.ts stream [ours-final|ours-stream|bare|sdk] --window w.json
 *
 * create: 32 workers calling `messages.create` for 10 s on
 * `NodeHttpClient.layerUndici` (after 2 s of warm-up). stream: one stream of
 * 50 000 text deltas to its final text (after streams of 5 000 to warm up).
 */
import { writeFileSync } from "node:fs"
import { performance } from "node:perf_hooks"
import { type Client, makeBare, makeOursClient, makeSdk, transports } from "./contenders.js"
import { deltaText, params } from "./fixture.js"
import { loadLibrary } from "./library.js"
import { concurrent, startServer } from "./measure.js"

const [scenario = "create", contender = scenario === "create" ? "ours" : "ours-final"] = process.argv
  .slice(2)
  .filter((arg, i, all) => !arg.startsWith("--") && all[i - 1] !== "--window")
const windowIndex = process.argv.indexOf("--window")
const windowPath = windowIndex >= 0 ? process.argv[windowIndex + 1] : undefined

const createMs = Number(process.env.BENCH_PROFILE_MS ?? 10_000)
const deltas = Number(process.env.BENCH_PROFILE_DELTAS ?? 50_000)

const micros = () => Number(process.hrtime.bigint() / 1000n)

const main = async () => {
  const lib = await loadLibrary()
  const server = await startServer()
  const undici = transports.find((t) => t.id === "undici")!
  const make = async (url: string): Promise<Client> =>
    contender === "bare"
      ? makeBare(lib, undici, url, params)
      : contender === "sdk"
      ? makeSdk(url, params)
      : makeOursClient(lib, undici, url, params)
  try {
    if (scenario === "create") {
      const client = await make(server.url)
      await concurrent(32, 2_000, client.create)
      const start = micros()
      const t0 = performance.now()
      const run = await concurrent(32, createMs, client.create)
      const end = micros()
      const summary = `${run.calls.toLocaleString("en-US")} calls of messages.create by ${contender} at concurrency 32 on ${undici.name} in ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s (${Math.round((run.calls * 1000) / createMs)} calls/s)`
      if (windowPath !== undefined) writeFileSync(windowPath, JSON.stringify({ start, end, summary }))
      console.log(summary)
      await client.dispose()
    } else if (scenario === "stream") {
      const pick = (client: Client) =>
        contender === "ours-stream" || contender === "bare" ? client.stream! : client.finalMessage!
      const warm = await make(server.streamUrl(5_000))
      for (let i = 0; i < 3; i++) await pick(warm)()
      await warm.dispose()
      const client = await make(server.streamUrl(deltas))
      const start = micros()
      const t0 = performance.now()
      const text = await pick(client)()
      const end = micros()
      if (text !== deltaText.repeat(deltas)) throw new Error("the stream's final text is wrong")
      const kind = contender === "ours-stream"
        ? "stream, consumed to the end"
        : contender === "bare"
        ? "bare stream"
        : "finalMessage"
      const summary = `One stream of ${deltas.toLocaleString("en-US")} text deltas (${kind}) by ${contender === "sdk" ? "the SDK" : contender} on ${
        contender === "sdk" ? "global fetch" : undici.name
      } in ${(performance.now() - t0).toFixed(0)} ms`
      if (windowPath !== undefined) writeFileSync(windowPath, JSON.stringify({ start, end, summary }))
      console.log(summary)
      await client.dispose()
    } else {
      throw new Error(`unknown scenario ${scenario}: create or stream`)
    }
  } finally {
    await server.close()
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
