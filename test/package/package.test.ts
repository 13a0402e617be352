/**
 * The package as users get it: `npm pack` (which builds dist/ on prepack),
 * the tarball installed into a fresh project next to its peer dependencies,
 * the README's example, as written, type-checked with `skipLibCheck: false`
 * and run with node through `import "claude-resilience"` and
 * `"claude-resilience/testing"`.
 *
 * Two projects: one with the lowest versions the peer ranges allow (the
 * floor the ranges promise), one with the versions this repository's
 * lockfile holds (what the rest of the suite runs against).
 */
import { execFile } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { readmeExample, root } from "../docs/markdown.js"
import { startRedis } from "../support/redis.js"

const run = promisify(execFile)

const manifest = JSON.parse(readFileSync(Path.join(root, "package.json"), "utf8")) as {
  readonly name: string
  readonly exports: Record<string, unknown>
  readonly bin: Record<string, string>
  readonly peerDependencies: Record<string, string>
  readonly peerDependenciesMeta: Record<string, { readonly optional?: boolean }>
}

const installedVersion = (name: string): string =>
  (JSON.parse(readFileSync(Path.join(root, "node_modules", name, "package.json"), "utf8")) as { version: string })
    .version

/** The lowest version a peer range admits: ranges here are `^x.y.z`. */
export const lowest = (range: string): string => {
  const match = /^\^(\d+\.\d+\.\d+)$/.exec(range)
  if (match === null) throw new Error(`peer range ${range}: expected ^x.y.z`)
  return match[1]!
}

/** npm and node for a child: none of the npm_* variables of the `npm test` that runs us. */
const childEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith("npm_")))

const exec = async (file: string, args: ReadonlyArray<string>, cwd: string) => {
  try {
    return await run(file, args, { cwd, env: childEnv(), maxBuffer: 64 * 1024 * 1024 })
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string }
    throw new Error(`${file} ${args.join(" ")} (in ${cwd}) failed:\n${stdout ?? ""}\n${stderr ?? ""}`)
  }
}

const tsc = Path.join(root, "node_modules/typescript/bin/tsc")

/**
 * Both adapters as a user without the SDK or @effect/ai would run them,
 * against a loopback server that answers every odd request 529 (waits of a
 * millisecond or so: `retry-after-ms: 1`, a 1 ms base).
 */
const adaptersScript = `
import { Resilience } from "claude-resilience"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import { Effect } from "effect"
import * as Http from "node:http"

let n = 0
const server = Http.createServer((req, res) => {
  req.resume()
  req.on("end", () => {
    n++
    if (n % 2 === 1) {
      res.writeHead(529, { "content-type": "application/json", "retry-after-ms": "1" })
      return res.end(JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } }))
    }
    res.writeHead(200, { "content-type": "text/plain" })
    res.end("ok")
  })
})
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve))
const url = "http://127.0.0.1:" + server.address().port + "/v1/messages"

const fetch = Resilience.fetch({ retry: { base: "1 millis" } })
const response = await fetch(url, { method: "POST", body: "{}" })
console.log("fetch", response.status, await response.text(), n)
await fetch.dispose()

const program = Effect.gen(function*() {
  const client = (yield* HttpClient.HttpClient).pipe(Resilience.transformClient({ retry: { base: "1 millis" } }))
  const res = yield* client.post(url)
  return [res.status, yield* res.text]
}).pipe(Effect.provide(FetchHttpClient.layer))
const [status, text] = await Effect.runPromise(program)
console.log("transformClient", status, text, n)
server.close()
`

/** A user's strict project: ESM, NodeNext, and the library's .d.ts checked too. */
const userTsconfig = {
  compilerOptions: {
    target: "ES2022",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    lib: ["ES2022"],
    types: ["node"],
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: false,
    outDir: "out"
  },
  files: ["example.ts"]
}

interface Project {
  readonly dir: string
  readonly versions: Record<string, string>
  /** What `node out/example.js` printed, after `tsc -p tsconfig.json` compiled it without an error. */
  readonly stdout: string
}

let scratch = ""
let tarball = ""
let packedFiles: ReadonlyArray<string> = []

const makeProject = async (name: string, versions: Record<string, string>): Promise<Project> => {
  const dir = Path.join(scratch, name)
  mkdirSync(dir)
  writeFileSync(Path.join(dir, "package.json"), JSON.stringify({ name: `${name}-user`, private: true, type: "module" }))
  await exec("npm", [
    "install",
    "--prefer-offline",
    "--no-audit",
    "--no-fund",
    tarball,
    ...Object.entries(versions).map(([pkg, version]) => `${pkg}@${version}`),
    `@types/node@${installedVersion("@types/node")}`
  ], dir)
  writeFileSync(Path.join(dir, "example.ts"), readmeExample().code)
  writeFileSync(Path.join(dir, "tsconfig.json"), JSON.stringify(userTsconfig, null, 2))
  await exec(process.execPath, [tsc, "-p", "tsconfig.json"], dir)
  const { stdout } = await exec(process.execPath, ["out/example.js"], dir)
  return { dir, versions, stdout }
}

/**
 * The optional peers only the adapters' users have (`Resilience.fetch` for
 * the official SDK, `Resilience.transformClient` for `@effect/ai`): the
 * projects do without them, since neither adapter needs them to run.
 */
const adapterPeers = ["@anthropic-ai/sdk", "@effect/ai", "@effect/ai-anthropic"]

/** The peers the projects install. */
const peers = Object.keys(manifest.peerDependencies).filter((pkg) => !adapterPeers.includes(pkg))

const projects: Record<"lowest" | "locked", Promise<Project>> = {} as never

beforeAll(async () => {
  scratch = mkdtempSync(Path.join(Os.tmpdir(), "claude-resilience-package-"))
  // as on a clean clone: whatever is packed was built by the pack itself
  rmSync(Path.join(root, "dist"), { recursive: true, force: true })
  const { stdout } = await exec("npm", ["pack", "--json", "--pack-destination", scratch], root)
  const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>
  tarball = Path.join(scratch, packed!.filename)
  packedFiles = packed!.files.map((file) => file.path).sort()
  // both at once (npm's cache is safe for concurrent use); each test awaits its own
  projects.lowest = makeProject("lowest", Object.fromEntries(peers.map((pkg) => [pkg, lowest(manifest.peerDependencies[pkg]!)])))
  projects.locked = makeProject("locked", Object.fromEntries(peers.map((pkg) => [pkg, installedVersion(pkg)])))
  await Promise.allSettled([projects.lowest, projects.locked])
}, 300_000)

// removing two installed projects takes a while on a busy machine
afterAll(() => {
  if (scratch !== "") rmSync(scratch, { recursive: true, force: true })
}, 300_000)

describe("npm pack", () => {
  it("ships the built entry points with their types and maps, and src for the maps; no tests, no build info, and under bin only the bin's files", () => {
    for (const entry of ["index", "testing/index", "testing/Emulator", "testing/VirtualTime", "testing/Simulation", "Claude"]) {
      expect(packedFiles).toContain(`dist/${entry}.js`)
      expect(packedFiles).toContain(`dist/${entry}.d.ts`)
      expect(packedFiles).toContain(`dist/${entry}.js.map`)
      expect(packedFiles).toContain(`dist/${entry}.d.ts.map`)
      expect(packedFiles).toContain(`src/${entry}.ts`)
    }
    const unexpected = packedFiles.filter((file) =>
      !(/^(dist\/.+\.(js|d\.ts|js\.map|d\.ts\.map)|src\/.+\.ts)$/.test(file) ||
        ["package.json", "README.md", "LICENSE"].includes(file))
    )
    expect(unexpected).toEqual([])
    expect(packedFiles.filter((file) => /(^|\/)(test|__tests__)\//.test(file) || /\.test(-d)?\.ts$/.test(file)))
      .toEqual([])
    // the bin (package.json's "bin") and what it imports, nothing else: not the repository's old lab script
    const binTarget = manifest.bin["claude-resilience"]!.replace(/^\.\//, "")
    expect(packedFiles).toContain(binTarget)
    const binModules = new Set(
      packedFiles.filter((file) => /^(dist|src)\/bin\//.test(file)).map((file) => file.replace(/^(dist|src)\/bin\/([^.]+)\..*$/, "$2"))
    )
    expect([...binModules].sort()).toEqual(["cli", "main", "report", "scripts"])
  })

  it("the README's install commands name every peer with its declared range", () => {
    const readme = readFileSync(Path.join(root, "README.md"), "utf8")
    const installs = readme.split("\n").filter((line) => line.startsWith("npm install "))
    const named = new Map(installs.flatMap((line) =>
      line.replace(/#.*$/, "").trim().split(/\s+/).flatMap((word) => {
        const at = word.lastIndexOf("@")
        return at > 0 ? [[word.slice(0, at), word.slice(at + 1)] as const] : []
      })
    ))
    expect(Object.fromEntries(Object.keys(manifest.peerDependencies).map((pkg) => [pkg, named.get(pkg)])))
      .toEqual(manifest.peerDependencies)
    // the optional peer goes with the tests
    const devLine = installs.find((line) => line.includes("@effect/platform-node@"))
    expect(devLine).toContain("--save-dev")
    expect(manifest.peerDependenciesMeta["@effect/platform-node"]?.optional).toBe(true)
  })

  it("every export of package.json points at a packed file", () => {
    const targets = Object.values(manifest.exports).flatMap((target) =>
      typeof target === "string" ? [target] : Object.values(target as Record<string, string>)
    )
    expect(targets.length).toBeGreaterThan(0)
    for (const target of targets) expect(packedFiles).toContain(target.replace(/^\.\//, ""))
  })

  it("the main entry never loads @effect/platform-node (an optional peer, needed only by claude-resilience/testing)", async () => {
    const project = await projects.locked
    const dist = Path.join(project.dir, "node_modules", manifest.name, "dist")
    const reached = new Set<string>()
    const external = new Set<string>()
    const visit = (file: string) => {
      if (reached.has(file)) return
      reached.add(file)
      const code = readFileSync(file, "utf8")
      for (const [, specifier] of code.matchAll(/(?:^|\n)\s*(?:import|export)\s[^"']*?from\s+["']([^"']+)["']/g)) {
        if (specifier!.startsWith(".")) visit(Path.resolve(Path.dirname(file), specifier!))
        else external.add(specifier!)
      }
    }
    visit(Path.join(dist, "index.js"))
    expect(reached.size).toBeGreaterThan(5)
    expect([...external].filter((specifier) => specifier.startsWith("@effect/platform-node"))).toEqual([])
    // nor the CLI's optional peers, nor the adapters' (the SDK, @effect/ai), nor ioredis (imported
    // dynamically, by the Redis layers only)
    expect([...external].filter((specifier) => /^(@effect\/cli|echarts|ioredis)(\/|$)/.test(specifier))).toEqual([])
    expect([...reached].some((file) => file.endsWith(Path.join("internal", "redis", "ioredis.js")))).toBe(false)
    expect([...external].filter((specifier) => /^(@anthropic-ai\/sdk|@effect\/ai(-anthropic)?)(\/|$)/.test(specifier)))
      .toEqual([])
    for (const pkg of adapterPeers) expect(manifest.peerDependenciesMeta[pkg]?.optional).toBe(true)
    expect([...external].some((specifier) => specifier.startsWith("effect"))).toBe(true)
  })

  it("the adapters run with neither the SDK nor @effect/ai installed: Resilience.fetch and Resilience.transformClient retry a 529", async () => {
    const project = await projects.locked
    for (const pkg of adapterPeers) {
      expect(() => readFileSync(Path.join(project.dir, "node_modules", pkg, "package.json"))).toThrow()
    }
    writeFileSync(Path.join(project.dir, "adapters.mjs"), adaptersScript)
    const { stdout } = await exec(process.execPath, ["adapters.mjs"], project.dir)
    // each adapter: a 529, then a 200 after one retry (2 requests each)
    expect(stdout.trim().split("\n")).toEqual(["fetch 200 ok 2", "transformClient 200 ok 4"])
  })

  it("the Redis layers load ioredis from the installed package: one process shares a breaker with another through a real redis-server", async () => {
    const project = await projects.locked
    const redis = await startRedis()
    try {
      const script = [
        `import { Effect, Layer } from "effect"`,
        `import { CircuitBreaker, Redis, Resilience } from "claude-resilience"`,
        `const open = Effect.gen(function*() {`,
        `  const breaker = yield* CircuitBreaker.CircuitBreaker`,
        `  for (let i = 0; i < 10; i++) yield* Effect.ignore(breaker.protect(Effect.fail({ _tag: "OverloadedError" })))`,
        `  const redis = yield* Redis.Redis`,
        `  return [(yield* breaker.state)._tag, yield* redis.status].join(" ")`,
        `})`,
        `const other = Effect.map(CircuitBreaker.state, (state) => state._tag)`,
        `const live = () => Resilience.layerRedis({ url: process.argv[2], namespace: "package-test" })`,
        `const first = await Effect.runPromise(open.pipe(Effect.provide(live())))`,
        `const second = await Effect.runPromise(other.pipe(Effect.provide(live())))`,
        `console.log(first, second)`
      ].join("\n")
      writeFileSync(Path.join(project.dir, "redis.mjs"), script)
      const { stdout } = await exec(process.execPath, ["redis.mjs", redis.url], project.dir)
      // the breaker's opening is logged (at Warning, by Effect's default logger) before the result
      const lines = stdout.trim().split("\n")
      expect(lines.at(-1)).toBe("Open Shared Open")
      expect(lines.filter((line) => line.includes("level=WARN") && line.includes("circuit breaker default opened"))).toHaveLength(1)
    } finally {
      await redis.stop()
    }
  })

  it("the installed bin runs the lab: a small brooker run writes summary.json and report.html", async () => {
    const project = await projects.locked
    const out = Path.join(project.dir, "lab-out")
    const { stdout } = await exec(
      Path.join(project.dir, "node_modules/.bin/claude-resilience"),
      ["lab", "--scenario", "brooker", "--clients", "5", "--seed", "3", "--out", out],
      project.dir
    )
    expect(stdout).toContain("brooker")
    const summary = JSON.parse(readFileSync(Path.join(out, "summary.json"), "utf8")) as {
      seed: number
      scenarios: Array<{ name: string; policies: Array<{ policy: string; logicalRequests: number }> }>
    }
    expect(summary.seed).toBe(3)
    expect(summary.scenarios.map((s) => s.name)).toEqual(["brooker"])
    expect(summary.scenarios[0]!.policies.every((p) => p.logicalRequests === 5)).toBe(true)
    expect(readFileSync(Path.join(out, "report.html"), "utf8")).toContain("<svg")
  })
})

describe.each(["lowest", "locked"] as const)("the README example against the packed package, peers %s", (name) => {
  it("installs with the peers the ranges name", async () => {
    const project = await projects[name]
    for (const pkg of peers) {
      const installed = JSON.parse(readFileSync(Path.join(project.dir, "node_modules", pkg, "package.json"), "utf8"))
      expect(`${pkg}@${installed.version}`).toBe(`${pkg}@${project.versions[pkg]}`)
    }
    // one copy of effect: the package brings none of its own
    expect(() => readFileSync(Path.join(project.dir, "node_modules", manifest.name, "node_modules/effect/package.json")))
      .toThrow()
  })

  it("type-checks with skipLibCheck: false, strict and exactOptionalPropertyTypes, and runs under node", async () => {
    // tsc and node ran in beforeAll: a type error or a failed run rejects the project
    const { stdout } = await projects[name]
    // 529, 529, then 200: the emulator's text after exactly 3 requests
    expect(stdout).toMatch(/requests: 3\b/)
    expect(stdout).toContain("Hello from the claude-resilience emulator.")
  })
})
