/**
 * .ci/check-lock.mjs, on synthetic lockfiles: `npm install` may keep every
 * locked package at its version and add optional entries (other platforms'
 * binaries), nothing else.
 */
import { execFile } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { promisify } from "node:util"
import { afterAll, describe, expect, it } from "vitest"
import { root } from "../docs/markdown.js"

const run = promisify(execFile)
const scratch = mkdtempSync(Path.join(Os.tmpdir(), "claude-resilience-check-lock-"))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

type Packages = Record<string, { version: string; optional?: boolean; dev?: boolean }>

const before: Packages = {
  "": { version: "0.1.0" },
  "node_modules/effect": { version: "3.22.4", dev: true },
  "node_modules/@esbuild/linux-x64": { version: "0.28.2", optional: true, dev: true }
}

let n = 0
const check = async (after: Packages) => {
  const dir = Path.join(scratch, String(n++))
  const lock = (packages: Packages) => JSON.stringify({ name: "x", lockfileVersion: 3, packages })
  const beforePath = `${dir}-before.json`
  const afterPath = `${dir}-after.json`
  writeFileSync(beforePath, lock(before))
  writeFileSync(afterPath, lock(after))
  try {
    const { stdout } = await run(process.execPath, [Path.join(root, ".ci/check-lock.mjs"), beforePath, afterPath])
    return { code: 0, output: stdout }
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string }
    return { code, output: `${stdout}${stderr}` }
  }
}

describe(".ci/check-lock.mjs", () => {
  it("passes the same lockfile", async () => {
    const result = await check(before)
    expect(result).toEqual({ code: 0, output: "lockfile: 3 locked packages kept their versions\n" })
  })

  it("fails a changed version, naming the package and both versions", async () => {
    const result = await check({ ...before, "node_modules/effect": { version: "3.22.5", dev: true } })
    expect(result.code).toBe(1)
    expect(result.output).toContain("node_modules/effect: 3.22.4 -> 3.22.5")
  })

  it("passes an added optional entry (another platform's binary), and counts it", async () => {
    const result = await check({ ...before, "node_modules/@esbuild/darwin-arm64": { version: "0.28.2", optional: true } })
    expect(result.code).toBe(0)
    expect(result.output).toContain("npm listed 1 optional entries for other platforms")
  })

  it("fails an added entry that is not optional", async () => {
    const result = await check({ ...before, "node_modules/left-pad": { version: "1.3.0" } })
    expect(result.code).toBe(1)
    expect(result.output).toContain("node_modules/left-pad: added 1.3.0, and it is not optional")
  })

  it("fails a removed package", async () => {
    const { "node_modules/effect": _removed, ...after } = before
    const result = await check(after)
    expect(result.code).toBe(1)
    expect(result.output).toContain("node_modules/effect: removed (was 3.22.4)")
  })

  it("passes a removed optional entry: npm lists other platforms' entries or not, by the registry's metadata", async () => {
    const { "node_modules/@esbuild/linux-x64": _removed, ...after } = before
    const result = await check(after)
    expect(result.code).toBe(0)
  })
})
