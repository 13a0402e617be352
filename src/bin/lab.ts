/**
 * `npm start`: the lab. Prints how each status is handled, generated from the
 * decoder's own classification (every row is a canonical body decoded by
 * `ApiError.fromResponse`), then runs a few scenarios through the real client
 * against the embedded emulator on a loopback port and shows what happened:
 * every request the emulator received, when, and how each call ended.
 */
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import { Claude } from "../index.js"
import * as StatusTable from "../internal/statusTable.js"
import { Emulator } from "../testing/index.js"

const pad = (value: string, width: number) => value.padEnd(width)

const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((c) => c[i]!.length)))
  const line = (c: ReadonlyArray<string>) => c.map((v, i) => pad(v, widths[i]!)).join("  ").trimEnd()
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n")
}

const decisions = table(
  ["status", "error.type", "decodes to", "retry?", "action"],
  StatusTable.table().map((row) => [
    String(row.status),
    Option.getOrElse(row.errorType, () => "-"),
    row.tag,
    row.tag === "Success" ? "n/a" : row.retryable ? "yes" : "no",
    row.action
  ])
)

interface Scenario {
  readonly name: string
  readonly script: Emulator.Script
}

const scenarios: ReadonlyArray<Scenario> = [
  {
    name: "529 storm of two replies, then 200",
    script: Emulator.sequence([Emulator.Reply.Error({ status: 529 }), Emulator.Reply.Error({ status: 529 })])
  },
  {
    name: "429 with retry-after: 1, then 200",
    script: Emulator.sequence([Emulator.Reply.Error({ status: 429, headers: { "retry-after": "1" } })])
  },
  {
    name: "500 twice (a 500 is retried once only)",
    script: Emulator.sequence([Emulator.Reply.Error({ status: 500 }), Emulator.Reply.Error({ status: 500 })])
  },
  { name: "401 (fatal: never retried)", script: () => Emulator.Reply.Error({ status: 401 }) },
  { name: "the edge's HTML 413", script: () => Emulator.Reply.Html({ status: 413 }) },
  {
    name: "429 spend limit (fatal: waiting never helps)",
    script: () =>
      Emulator.Reply.Error({ status: 429, message: "This request would exceed your account's monthly spend limit." })
  }
]

const params = {
  model: "claude-sonnet-5-5",
  max_tokens: 256,
  messages: [{ role: "user" as const, content: "Hello from the lab" }]
}

const run = (scenario: Scenario) =>
  Effect.gen(function*() {
    const claude = yield* Claude.Claude
    const emulator = yield* Emulator.Emulator
    const started = yield* Clock.currentTimeMillis
    const exit = yield* Effect.exit(claude.messages.create(params))
    const requests = yield* emulator.requests
    const outcome = exit._tag === "Success"
      ? "200 Message"
      : exit.cause._tag === "Fail"
      ? `${exit.cause.error._tag}`
      : "defect"
    const times = requests.map((r) => `${((r.receivedAt - requests[0]!.receivedAt) / 1000).toFixed(2)} s`)
    return [scenario.name, String(requests.length), times.join(", "), outcome, `${(yield* Clock.currentTimeMillis) - started} ms`]
  }).pipe(Effect.provide(Emulator.layerClaude({ script: scenario.script })))

const program = Effect.gen(function*() {
  yield* Console.log(`claude-resilience lab\n\nHow each response is decoded and handled:\n\n${decisions}\n`)
  yield* Console.log("The client against the embedded emulator (real loopback sockets, seeded jitter):\n")
  const rows = yield* Effect.forEach(scenarios, run)
  yield* Console.log(table(["scenario", "requests", "sent at", "outcome", "took"], rows))
}).pipe(Effect.withRandom(Random.make("claude-resilience-lab")))

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
