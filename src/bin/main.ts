/**
 * The `claude-resilience` command line: `lab` runs the simulation's
 * scenarios and writes `summary.json` and `report.html`; `emulate` runs the
 * emulator in the foreground. Loaded by `cli.ts` once it has checked that
 * the CLI's optional dependencies are installed.
 *
 * @since 0.2.0
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type { InvalidOptionsError } from "../Options.js"
import { Emulator, Simulation } from "../testing/index.js"
import * as Report from "./report.js"
import { scriptNames, scripts } from "./scripts.js"

/** A failure the CLI reports in one line, then exits 1. */
class CliError extends Error {
  readonly _tag = "CliError"
}

const scenarioNames = ["outage", "rate-limit", "brooker"] as const

// ---------------------------------------------------------------------------
// progress
// ---------------------------------------------------------------------------

const progressReporter = () => {
  const tty = process.stderr.isTTY === true
  let last = ""
  const onProgress = (p: Simulation.Progress) =>
    Effect.sync(() => {
      if (!tty) return
      const within = p.durationMillis > 0 ? Math.min(1, p.virtualMillis / p.durationMillis) : 1
      const done = (p.policyIndex + within) / p.policies
      const width = 30
      const filled = Math.round(done * width)
      const line = `${p.scenario.padEnd(10)} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${
        String(Math.round(done * 100)).padStart(3)
      }%  ${p.policy}`
      if (line !== last) process.stderr.write(`\r${line}\x1b[K`)
      last = line
    })
  const start = (scenario: Simulation.Scenario) =>
    Effect.sync(() => {
      if (!tty) process.stderr.write(`running ${scenario.name}: ${scenario.clients} clients, ${scenario.policies.length} policies\n`)
    })
  const end = Effect.sync(() => {
    if (tty && last !== "") process.stderr.write("\r\x1b[K")
    last = ""
  })
  return { onProgress, start, end }
}

// ---------------------------------------------------------------------------
// lab
// ---------------------------------------------------------------------------

const lab = Command.make(
  "lab",
  {
    scenario: Options.choice("scenario", [...scenarioNames, "all"]).pipe(
      Options.withDefault("all" as const),
      Options.withDescription("which scenario to run: outage, rate-limit, brooker or all")
    ),
    clients: Options.integer("clients").pipe(
      Options.optional,
      Options.withDescription("the number of virtual clients (default: each scenario's own)")
    ),
    seed: Options.integer("seed").pipe(Options.withDefault(1), Options.withDescription("the seed of every random draw")),
    out: Options.text("out").pipe(
      Options.withDefault("lab-report"),
      Options.withDescription("the folder to write summary.json and report.html to")
    )
  },
  ({ clients, out, scenario, seed }) =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const names = scenario === "all" ? scenarioNames : [scenario]
      const built: Array<Simulation.Scenario> = []
      for (const name of names) {
        const made: Either.Either<Simulation.Scenario, InvalidOptionsError> = Simulation.scenarios[name](
          Option.isSome(clients) ? { clients: clients.value } : {}
        )
        if (Either.isLeft(made)) {
          const problem = made.left.problems[0]
          return yield* Effect.fail(
            new CliError(
              problem?.path === "clients" ? `--clients ${problem.message}` : made.left.message
            )
          )
        }
        built.push(made.right)
      }
      yield* Console.log(`How each response is decoded and handled:\n\n${Report.decisionTable()}\n`)
      const progress = progressReporter()
      const results: Array<Simulation.Result> = []
      for (const s of built) {
        yield* progress.start(s)
        results.push(yield* Simulation.run(s, { seed, onProgress: progress.onProgress }))
        yield* progress.end
      }
      const summaryFile = path.join(out, "summary.json")
      const reportFile = path.join(out, "report.html")
      yield* fs.makeDirectory(out, { recursive: true }).pipe(
        Effect.zipRight(fs.writeFileString(summaryFile, `${JSON.stringify(Simulation.summary(seed, results), null, 2)}\n`)),
        Effect.zipRight(fs.writeFileString(reportFile, Report.html(seed, results))),
        Effect.mapError((error) => new CliError(`cannot write to ${out}: ${error.message}`))
      )
      yield* Console.log(Report.table(results))
      yield* Console.log(`\nwrote ${summaryFile}\nwrote ${reportFile}`)
    })
).pipe(Command.withDescription("run the simulation's scenarios and write summary.json and report.html"))

// ---------------------------------------------------------------------------
// emulate
// ---------------------------------------------------------------------------

const emulate = Command.make(
  "emulate",
  {
    port: Options.integer("port").pipe(
      Options.withDefault(0),
      Options.withDescription("the loopback port to listen on (default: a free one)")
    ),
    script: Options.choice("script", scriptNames).pipe(
      Options.withDefault("healthy"),
      Options.withDescription(
        `the fault script: ${scriptNames.map((name) => `${name} (${scripts[name]!.description})`).join("; ")}`
      )
    ),
    status: Options.choice("status", ["none", "minor", "major", "critical"] as const).pipe(
      Options.withDefault("none" as const),
      Options.withDescription(
        "what the status page (/api/v2/status.json, /api/v2/components.json) shows: none (operational), minor, major or critical"
      )
    )
  },
  ({ port, script, status }) =>
    Effect.gen(function*() {
      if (port < 0 || port > 65535) {
        return yield* Effect.fail(new CliError(`--port must be from 0 to 65535, got ${port}`))
      }
      const started = Date.now()
      const onRequest = (request: Emulator.RecordedRequest) =>
        Console.log(
          `#${request.attempt} +${((Date.now() - started) / 1000).toFixed(2)}s ${request.method} ${request.path}${
            request.query === "" ? "" : `?${request.query}`
          }`
        )
      yield* Effect.scoped(Effect.gen(function*() {
        const emulator = yield* Emulator.make({ script: scripts[script]!.script, port, onRequest, status }).pipe(
          Effect.mapError((error) => new CliError(`cannot listen on port ${port}: ${String(error.cause ?? error)}`))
        )
        yield* Effect.addFinalizer(() => Console.log("emulator stopped"))
        yield* Console.log(
          `emulator listening on ${emulator.url} (script: ${script}); set ANTHROPIC_BASE_URL=${emulator.url}, any API key is accepted; Ctrl-C to stop`
        )
        yield* Console.log(
          `status page at ${emulator.statusPageUrl}/api/v2/status.json (indicator: ${status}); StatusPage.layer({ url: "${emulator.statusPageUrl}" })`
        )
        return yield* Effect.never
      }))
    })
).pipe(Command.withDescription("run the Claude API emulator in the foreground"))

// ---------------------------------------------------------------------------
// the program
// ---------------------------------------------------------------------------

const root = Command.make("claude-resilience", {}).pipe(
  Command.withSubcommands([lab, emulate]),
  Command.withDescription("the lab and the emulator of claude-resilience")
)

const cli = Command.run(root, { name: "claude-resilience", version: "0.2.0" })

/** Options given more than once: the last one wins (so `npm start -- --seed 7` overrides the default flags). */
const lastWins = (args: ReadonlyArray<string>): ReadonlyArray<string> => {
  const valued = new Set(["--scenario", "--clients", "--seed", "--out", "--port", "--script", "--status"])
  const out: Array<string> = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    const [flag] = arg.split("=", 1)
    if (valued.has(flag!)) {
      const takesNext = !arg.includes("=")
      const value = takesNext ? args.slice(i, i + 2) : [arg]
      const earlier = out.findIndex((a) => a === flag || a.startsWith(`${flag}=`))
      if (earlier >= 0) out.splice(earlier, out[earlier]!.includes("=") ? 1 : 2)
      out.push(...value)
      if (takesNext) i++
    } else {
      out.push(arg)
    }
  }
  return out
}

const oneLine = (text: string) =>
  // eslint-disable-next-line no-control-regex
  text.replace(/\x1b\[[0-9;]*m/g, "").split("\n").map((l) => l.trim()).filter((l) => l !== "").join(" ")

/**
 * Runs the CLI on `argv` (as `process.argv`): every failure is one line on
 * stderr and exit code 1, never a stack trace.
 *
 * @since 0.2.0
 */
export const main = (argv: ReadonlyArray<string>): void => {
  const captured: Array<string> = []
  const program = Effect.flatMap(Effect.console, (base) =>
    Effect.suspend(() => cli(["node", "claude-resilience", ...lastWins(argv)])).pipe(Effect.withConsole(capturing(base, captured)))).pipe(
    Effect.provide(NodeContext.layer),
    Effect.exit,
    Effect.flatMap((exit) =>
      Effect.sync(() => {
        if (Exit.isSuccess(exit)) return
        if (Cause.isInterruptedOnly(exit.cause)) return
        const failure = Cause.failureOption(exit.cause)
        const message = Option.match(failure, {
          onNone: () => `internal error: ${oneLine(Cause.pretty(exit.cause).split("\n")[0] ?? "unknown")}`,
          onSome: (error) =>
            ValidationError.isValidationError(error)
              ? oneLine(captured.join("\n")) || "invalid arguments (see --help)"
              : error instanceof CliError
              ? error.message
              : oneLine(String((error as { message?: unknown }).message ?? error))
        })
        process.stderr.write(`claude-resilience: ${message}\n`)
        process.exitCode = 1
      })
    )
  )
  NodeRuntime.runMain(program, { disableErrorReporting: true })
}

/** The console, but its `error` lines are kept (the CLI library prints its validation errors there). */
const capturing = (base: Console.Console, captured: Array<string>): Console.Console => {
  const keep = (...args: ReadonlyArray<unknown>) => void captured.push(args.map(String).join(" "))
  return {
    ...base,
    error: (...args: ReadonlyArray<unknown>) => Effect.sync(() => keep(...args)),
    unsafe: { ...base.unsafe, error: keep }
  }
}
