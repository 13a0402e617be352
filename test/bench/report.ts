/**
 * docs/benchmarks.md: an introduction, then the section `npm run bench`
 * writes and the section `npm run bench:profile` writes. Each command
 * rewrites its own section, between its markers, and keeps the rest of the
 * page as it is.
 */
import { execFileSync } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import type { Spread } from "./measure.js"
import { root } from "./library.js"

export const docPath = Path.join(root, "docs/benchmarks.md")

export type SectionName = "results" | "profile"

const marker = (name: SectionName, edge: "start" | "end") => `<!-- bench:${name}:${edge} -->`

const intro = `# Benchmarks

What the policy costs per call and per stream event, measured by
\`npm run bench\` (not part of \`npm test\`), and where the time goes,
profiled by \`npm run bench:profile\`. Both regenerate their section of this
page; the figures below are from the last run on the machine it names.

\`\`\`sh
npm run bench                # dist/ built, then the full run (6 to 9 minutes here)
npm run bench -- --quick     # a short run, for a first look, without the simulation (about 2 minutes)
npm run bench:profile        # CPU profiles of two scenarios, top self-time functions
\`\`\`

How it measures (\`test/bench/\`):

- A loopback server in a child process (\`server.ts\`, plain \`node:http\`,
  keep-alive on) answers \`POST /v1/messages\` with a fixed \`Message\` as JSON
  and the API's headers, and, with \`"stream": true\`, an SSE stream framed
  like the API's: \`message_start\`, \`ping\`, \`content_block_start\`, N
  \`text_delta\` events of 16 characters, \`content_block_stop\`,
  \`message_delta\`, \`message_stop\`. It counts connections.
- The library is the built \`dist/\` (what users run), loaded by
  \`library.ts\`; \`npm run bench\` builds it first.
- Contenders (\`contenders.ts\`), on each transport (\`NodeHttpClient.layer\`,
  the same with a keep-alive agent, \`NodeHttpClient.layerUndici\`,
  \`FetchHttpClient.layer\`):
  - **bare**: the transport's \`HttpClient\` POST of the same JSON body,
    \`JSON.parse\`, and a \`Schema\` decoder of \`Messages.Message\` built once;
    for streams, the bytes through \`eventsource-parser\`, \`JSON.parse\` per
    event, the text deltas joined. The floor: no policy at all.
  - **ours**: \`Claude.messages.create\` / \`finalMessage\` / \`stream\`
    through the full stack (preflight, breaker, retry policy, retry budget,
    spans, metrics, decode), built by \`ours.ts\` as
    \`Claude.layer({ apiKey, baseUrl })\` over the transport with
    \`Resilience.layer()\`.
  - **SDK**: the official \`@anthropic-ai/sdk\` with \`maxRetries: 0\` (on
    Node's global \`fetch\`); streams as
    \`client.messages.stream(...).finalMessage()\`.
- Every contender is called through a promise (an Effect contender through
  its \`ManagedRuntime\`), one client per contender for the whole run, warmed
  up before the first round.
- Rounds interleave the contenders: within a round they take turns in
  small blocks (10 sequential calls; 0.5 s at concurrency 32; a stream),
  the order rotated from block to block, so that a change in the machine's
  load falls on all of them. Each ratio is taken within a round, then the
  median and the range over the rounds are reported. **Read the ratios**:
  the machine is shared, and absolute figures move with its load.
- The sustained run keeps one client of ours busy at concurrency 32 for
  30 s, handing 1 s of each 5 s slice to the bare client as a reference, so
  that the trend of ours / bare from slice to slice shows whether a call
  costs more after more traffic, whatever the machine's load did.
- GC: count and total pause from \`PerformanceObserver\` \`gc\` entries;
  bytes allocated and peak heap from \`v8.GCProfiler\` (heap used before and
  after each GC).
`

const readSections = (): Record<SectionName, string | undefined> => {
  const text = existsSync(docPath) ? readFileSync(docPath, "utf8") : ""
  const read = (name: SectionName) => {
    const start = text.indexOf(marker(name, "start"))
    const end = text.indexOf(marker(name, "end"))
    return start >= 0 && end > start ? text.slice(start + marker(name, "start").length, end).trim() : undefined
  }
  return { results: read("results"), profile: read("profile") }
}

/**
 * Writes `content` as section `name` of docs/benchmarks.md, between its
 * markers: the rest of the page (the introduction, notes written by hand,
 * the other sections) is kept as it is. A page without the markers is
 * written anew: the introduction, then every section.
 */
export const writeSection = (name: SectionName, content: string): void => {
  const current = existsSync(docPath) ? readFileSync(docPath, "utf8") : ""
  const start = current.indexOf(marker(name, "start"))
  const end = current.indexOf(marker(name, "end"))
  if (start >= 0 && end > start) {
    writeFileSync(docPath, `${current.slice(0, start)}${marker(name, "start")}\n${content.trim()}\n${current.slice(end)}`)
    return
  }
  const sections = { ...readSections(), [name]: content.trim() }
  const placeholder: Record<SectionName, string> = {
    results: "## Results\n\nNot run yet: `npm run bench`.",
    profile: "## Profile\n\nNot run yet: `npm run bench:profile`."
  }
  const block = (section: SectionName) =>
    `${marker(section, "start")}\n${sections[section] ?? placeholder[section]}\n${marker(section, "end")}\n`
  // the simulation's section (test/bench/simulation.bench.ts writes it) is kept as it is
  const simStart = current.indexOf("<!-- simulation:start -->")
  const simEnd = current.indexOf("<!-- simulation:end -->")
  const simulation = simStart >= 0 && simEnd > simStart
    ? `\n${current.slice(simStart, simEnd + "<!-- simulation:end -->".length)}\n`
    : ""
  writeFileSync(docPath, `${intro}\n${block("results")}\n${block("profile")}${simulation}`)
}

// ---------------------------------------------------------------------------
// the machine
// ---------------------------------------------------------------------------

const git = (...args: Array<string>): string => {
  try {
    return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()
  } catch {
    return "?"
  }
}

/** The commit measured, marked when the tree under `src/` differs from it. */
export const revision = (): string => {
  const commit = git("rev-parse", "--short", "HEAD")
  const dirty = git("status", "--porcelain", "--", "src").length > 0
  return dirty ? `${commit} with uncommitted changes to src/` : commit
}

export const loadAverage = (): string =>
  Os.loadavg().map((x) => x.toFixed(2)).join(" / ")

/** The lines that say where and when the figures were taken. */
export const environment = (command: string, loadAtStart: string, extra: ReadonlyArray<string> = []): string => {
  const cpus = Os.cpus()
  return [
    `- Command: \`${command}\``,
    `- Date: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC; commit ${revision()}`,
    `- Node ${process.version} on ${Os.platform()} ${Os.arch()}; ${cpus[0]?.model.trim() ?? "unknown CPU"}, ${cpus.length} cores, ${
      (Os.totalmem() / 2 ** 30).toFixed(1)
    } GiB`,
    `- Load average (1 / 5 / 15 min): ${loadAtStart} at the start, ${loadAverage()} at the end (the machine is shared: ` +
    `other processes ran during the measurement)`,
    ...extra.map((line) => `- ${line}`)
  ].join("\n")
}

// ---------------------------------------------------------------------------
// formatting
// ---------------------------------------------------------------------------

const digits = (x: number): string =>
  !Number.isFinite(x) ? "n/a" : Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2)

/** `7.58× (7.12–8.01)`. */
export const ratio = (s: Spread): string => `**${digits(s.median)}×** (${digits(s.min)}–${digits(s.max)})`

/** A figure with its range over rounds: `1.16 (1.10–1.30)`. */
export const figure = (s: Spread, format: (x: number) => string = digits): string =>
  s.n <= 1 ? format(s.median) : `${format(s.median)} (${format(s.min)}–${format(s.max)})`

export const integer = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "n/a")

export const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1)

export const table = (head: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string =>
  [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((row) => `| ${row.join(" | ")} |`)
  ].join("\n")
