/**
 * `npm run bench:profile`: runs ./scenario.ts under `node --cpu-prof` for
 * each profiled scenario (messages.create at concurrency 32; one stream of
 * 50 000 text deltas to its final message, both ours on
 * `NodeHttpClient.layerUndici`), prints the top self-time functions of the
 * measured window of each, and writes them to the Profile section of
 * docs/benchmarks.md. The `.cpuprofile` files stay in
 * `node_modules/.cache/bench-profiles/` (out of git) for a closer look
 * (Chrome DevTools, Performance panel, "Load profile").
 *
 *   node --import tsx test/bench/profile.ts [--top 25] [--no-write] [create|stream ...]
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs"
import * as Path from "node:path"
import { performance } from "node:perf_hooks"
import { readProfile, type Summary, summarize } from "./cpuprofile.js"
import { root } from "./library.js"
import { environment, loadAverage, table, writeSection } from "./report.js"

const args = process.argv.slice(2)
const topIndex = args.indexOf("--top")
const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 25
const write = !args.includes("--no-write")
const named = args.filter((arg, i) => !arg.startsWith("--") && args[i - 1] !== "--top")

interface Scenario {
  readonly id: string
  readonly args: ReadonlyArray<string>
  readonly title: string
}

const scenarios: ReadonlyArray<Scenario> = [
  { id: "create", args: ["create", "ours"], title: "messages.create at concurrency 32" },
  {
    id: "stream",
    args: ["stream", "ours-final"],
    title: `one stream of ${Number(process.env.BENCH_PROFILE_DELTAS ?? 50_000).toLocaleString("en-US")} text deltas (finalMessage)`
  }
].filter((s) => named.length === 0 || named.includes(s.id))

const outDir = Path.join(root, "node_modules/.cache/bench-profiles")

const run = (scenario: Scenario): { readonly summary: Summary; readonly what: string; readonly file: string } => {
  const dir = Path.join(outDir, scenario.id)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const windowFile = Path.join(dir, "window.json")
  const result = spawnSync(
    process.execPath,
    [
      "--cpu-prof",
      "--cpu-prof-dir",
      dir,
      "--import",
      "tsx",
      Path.join(root, "test/bench/scenario.ts"),
      ...scenario.args,
      "--window",
      windowFile
    ],
    { cwd: root, stdio: ["ignore", "inherit", "inherit"] }
  )
  if (result.status !== 0) throw new Error(`the ${scenario.id} scenario failed (exit ${result.status})`)
  // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: the main thread is
  // thread 0 (tsx's loader thread writes a profile too)
  const profiles = readdirSync(dir)
    .filter((name) => /\.0\.\d+\.cpuprofile$/.test(name))
    .map((name) => Path.join(dir, name))
  if (profiles[0] === undefined) throw new Error(`no .cpuprofile in ${dir}`)
  const window = JSON.parse(readFileSync(windowFile, "utf8")) as { start: number; end: number; summary: string }
  const summary = summarize(readProfile(profiles[0]), window)
  return { summary, what: window.summary, file: Path.relative(root, profiles[0]) }
}

const pct = (x: number) => `${x.toFixed(1)} %`

const render = (scenario: Scenario, result: ReturnType<typeof run>): string => {
  const { summary } = result
  const functions = summary.functions.slice(0, top).map((row, i) => [
    String(i + 1),
    pct(row.percent),
    row.selfMs.toFixed(0),
    `\`${row.name}\``,
    row.location === "" ? "" : `\`${row.location}\``,
    row.pkg
  ])
  const packages = summary.packages.map((row) => [row.pkg, pct(row.percent), row.selfMs.toFixed(0)])
  const ours = summary.ours.slice(0, 15).map((row, i) => [
    String(i + 1),
    pct(row.percent),
    row.selfMs.toFixed(0),
    `\`${row.name}\``,
    row.location === "" ? "" : `\`${row.location}\``
  ])
  return [
    `### ${scenario.title}`,
    "",
    `${result.what}. ${
      summary.windowed ? "Samples of the measured window only" : "The whole profile (the window did not match its clock)"
    }: ${summary.samples.toLocaleString("en-US")} samples, ${summary.totalMs.toFixed(0)} ms. Self time as a share of all of them (idle and GC included).`,
    "",
    `Top ${top} functions by self time:`,
    "",
    table(["#", "self", "ms", "function", "where", "package"], functions),
    "",
    "Self time by package:",
    "",
    table(["package", "self", "ms"], packages),
    "",
    "Each sample charged to the innermost library function on its stack (the code below it, Effect's runtime included, counts for it). " +
    "Work that Effect's fiber loop runs for the library (continuations, finalizers) has no library frame on its stack and lands in the first row; " +
    "read this table for the synchronous parts (encoding, decoding, parsing, accumulating):",
    "",
    table(["#", "time", "ms", "library function", "where"], ours)
  ].join("\n")
}

const main = () => {
  const started = performance.now()
  const loadAtStart = loadAverage()
  const sections: Array<string> = []
  for (const scenario of scenarios) {
    console.log(`profiling ${scenario.id}…`)
    const result = run(scenario)
    const text = render(scenario, result)
    console.log(`\n${text}\n\n(profile: ${result.file})\n`)
    sections.push(text)
  }
  const text = [
    "## Profile",
    "",
    environment("npm run bench:profile", loadAtStart, [
      `Each scenario in a process of its own under \`node --cpu-prof\` (ours on NodeHttpClient.layerUndici, the server in a child process, not profiled); start-up and warm-up left out; locations in dist/ mapped to src/ by the source maps; the whole run took ${
        ((performance.now() - started) / 1000).toFixed(0)
      } s`
    ]),
    "",
    ...sections.flatMap((s) => [s, ""])
  ].join("\n")
  if (write && named.length === 0) {
    writeSection("profile", text)
    console.log("written to docs/benchmarks.md")
  }
}

main()
