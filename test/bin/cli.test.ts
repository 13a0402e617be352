/**
 * The `claude-resilience` CLI, spawned as a user runs it (under tsx, from
 * src/bin/cli.ts): bad flags, the lab's outputs, the emulator in the
 * foreground and its Ctrl-C, and the message when an optional dependency is
 * missing.
 */
import { execFile, spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { root } from "../docs/markdown.js"

const scratch = mkdtempSync(Path.join(Os.tmpdir(), "claude-resilience-cli-"))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const cliPath = Path.join(root, "src/bin/cli.ts")
const tsx = Path.join(root, "node_modules/tsx/dist/esm/index.mjs")

interface Ran {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const cli = (args: ReadonlyArray<string>, nodeArgs: ReadonlyArray<string> = []): Promise<Ran> =>
  new Promise((resolve) => {
    execFile(process.execPath, [...nodeArgs, "--import", tsx, cliPath, ...args], { cwd: scratch, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : null, stdout, stderr }))
  })

describe("claude-resilience: bad flags and values", () => {
  it.each([
    [["lab", "--seed", "x"], /seed|integer/],
    [["lab", "--bogus"], /--bogus/],
    [["lab", "--clients", "0"], /--clients must be an integer from 1/],
    [["lab", "--scenario", "storm"], /outage, rate-limit, brooker, all/],
    [["emulate", "--script", "nope"], /healthy/],
    [["emulate", "--port", "70000"], /--port must be from 0 to 65535/],
    [["emulate", "--status", "red"], /none|minor|major|critical/],
    [["frobnicate"], /lab|emulate/]
  ] as const)("%j: one line on stderr, exit 1, no stack trace", async (args, pattern) => {
    const { code, stderr, stdout } = await cli(args)
    expect(code).toBe(1)
    const lines = stderr.split("\n").filter((line) => line !== "")
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^claude-resilience: /)
    expect(lines[0]).toMatch(pattern)
    expect(stderr + stdout).not.toMatch(/\n\s+at /)
  }, 60_000)
})

describe("claude-resilience lab", () => {
  it("writes summary.json (the same bytes for the same seed, no path, no time) and report.html, and prints the table and the paths", async () => {
    const run = (seed: string, out: string) =>
      cli(["lab", "--scenario", "brooker", "--clients", "8", "--seed", "1", "--out", out, "--seed", seed])
    const [a, b, c] = await Promise.all([run("4", "a"), run("4", "b"), run("5", "c")])
    for (const ran of [a, b, c]) expect(ran.code).toBe(0)
    // the last --seed wins, as with `npm start -- --seed 4`
    const summary = (dir: string) => readFileSync(Path.join(scratch, dir, "summary.json"), "utf8")
    expect(JSON.parse(summary("a")).seed).toBe(4)
    expect(summary("a")).toBe(summary("b"))
    expect(JSON.parse(summary("c")).scenarios[0].policies).not.toEqual(JSON.parse(summary("a")).scenarios[0].policies)
    expect(summary("a")).not.toContain(scratch)
    expect(summary("a")).not.toMatch(/\d{4}-\d{2}-\d{2}T/)
    expect(a.stdout).toMatch(/brooker\s+naive\s+8\s/)
    // first, how each status is decoded and handled, from the decoder itself
    expect(a.stdout).toMatch(/^How each response is decoded and handled:/)
    expect(a.stdout).toMatch(/\n529\s+overloaded_error\s+OverloadedError\s+yes\s/)
    expect(a.stdout).toMatch(/\n401\s+authentication_error\s+AuthenticationError\s+no\s/)
    expect(a.stdout).toContain(`wrote ${Path.join("a", "summary.json")}`)
    expect(a.stdout).toContain(`wrote ${Path.join("a", "report.html")}`)
    // not a TTY: one plain line per scenario on stderr
    expect(a.stderr.trim()).toBe("running brooker: 8 clients, 5 policies")
    const html = readFileSync(Path.join(scratch, "a", "report.html"), "utf8")
    expect(html.match(/<figure data-chart=/g)).toHaveLength(3)
    expect(html).not.toMatch(/<script|<link|https?:\/\/(?!www\.w3\.org)/)
  }, 120_000)

  it("an outage, whose virtual clients' breakers open and close, prints its table and no log lines", async () => {
    const ran = await cli(["lab", "--scenario", "outage", "--clients", "10", "--seed", "1", "--out", "quiet"])
    expect(ran.code).toBe(0)
    expect(ran.stdout).toMatch(/\noutage\s+ours\s+\d+\s/)
    expect(JSON.parse(readFileSync(Path.join(scratch, "quiet", "summary.json"), "utf8")).scenarios[0].policies.length).toBe(6)
    expect(ran.stdout).not.toMatch(/level=/)
    expect(ran.stderr.trim()).toBe("running outage: 10 clients, 6 policies")
  }, 120_000)
})

describe("claude-resilience emulate", () => {
  it("prints its URL and each request, answers as its script says, and Ctrl-C closes it cleanly", async () => {
    const child = spawn(process.execPath, ["--import", tsx, cliPath, "emulate", "--script", "down"], { cwd: scratch })
    let stdout = ""
    let stderr = ""
    child.stderr.on("data", (chunk) => (stderr += String(chunk)))
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed: ${stdout} ${stderr}`)), 30_000)
      child.stdout.on("data", (chunk) => {
        stdout += String(chunk)
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)
        if (match !== null) {
          clearTimeout(timer)
          resolve(match[1]!)
        }
      })
    })
    const response = await fetch(`${url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": "sk-ant-test", "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "claude-sonnet-5-5", max_tokens: 16, messages: [{ role: "user", content: "hi" }] })
    })
    expect(response.status).toBe(503)
    // 503 has no documented error type: the edge's HTML page, as the emulator sends it for such statuses
    expect(await response.text()).toContain("503 Service Unavailable")
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(stdout).toMatch(/#1 \+\d+\.\d\ds POST \/v1\/messages/)
    const page = await fetch(`${url}/api/v2/status.json`)
    expect(page.status).toBe(200)
    expect(await page.json()).toMatchObject({ status: { indicator: "none" } })
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
    child.kill("SIGINT")
    expect(await exited).toBe(0)
    expect(stdout).toContain("emulator stopped")
    // the status page: its URL printed, operational by default, no key needed, not among the requests printed
    expect(stdout).toContain(`status page at ${url}/api/v2/status.json (indicator: none)`)
    expect(stderr).toBe("")
    // the port is free again
    await expect(fetch(url)).rejects.toThrow()
  }, 60_000)

  it("--status major: the status page shows a partial outage of the API's component", async () => {
    const child = spawn(process.execPath, ["--import", tsx, cliPath, "emulate", "--status", "major"], { cwd: scratch })
    let stdout = ""
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no status page URL printed: ${stdout}`)), 30_000)
      child.stdout.on("data", (chunk) => {
        stdout += String(chunk)
        const match = /status page at (http:\/\/127\.0\.0\.1:\d+)\/api\/v2\/status\.json \(indicator: major\)/.exec(stdout)
        if (match !== null) {
          clearTimeout(timer)
          resolve(match[1]!)
        }
      })
    })
    const status = await (await fetch(`${url}/api/v2/status.json`)).json()
    const components = await (await fetch(`${url}/api/v2/components.json`)).json()
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
    child.kill("SIGINT")
    expect(await exited).toBe(0)
    expect(status).toMatchObject({ status: { indicator: "major" } })
    expect(components.components).toContainEqual(
      expect.objectContaining({ name: "Claude API (api.anthropic.com)", status: "partial_outage" })
    )
    // status page requests are not printed as API requests
    expect(stdout).not.toMatch(/#1 .*\/api\/v2/)
  }, 60_000)
})

describe("claude-resilience without its optional dependencies", () => {
  it("says in one line what to install, and exits 1", async () => {
    // a loader hook that makes @effect/cli and echarts impossible to resolve, as in a project without them
    const hooks = Path.join(scratch, "hide-hooks.mjs")
    writeFileSync(
      hooks,
      `export async function resolve(specifier, context, next) {
  if (specifier === "@effect/cli" || specifier === "echarts") throw Object.assign(new Error("not found"), { code: "ERR_MODULE_NOT_FOUND" })
  return next(specifier, context)
}\n`
    )
    const register = Path.join(scratch, "hide.mjs")
    writeFileSync(
      register,
      `import { register } from "node:module"\nregister(${JSON.stringify(`file://${hooks}`)})\n`
    )
    const { code, stderr, stdout } = await cli(["lab"], ["--import", register])
    expect(code).toBe(1)
    expect(stdout).toBe("")
    expect(stderr).toBe(
      "claude-resilience: the CLI needs @effect/cli, echarts: npm install --save-dev @effect/cli@^0.77.0 echarts@^6.0.0\n"
    )
  }, 60_000)
})
