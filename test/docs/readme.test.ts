/**
 * The README's example, run as written: the ```ts block that imports
 * `claude-resilience/testing`, unchanged, as a module of its own under tsx,
 * its `claude-resilience` imports mapped to src/ by a tsconfig `paths`
 * (test/package/ runs the same block against the packed package). It runs in
 * real time, as a user's would: two full-jitter waits of at most 1 s and 2 s.
 */
import { execFile } from "node:child_process"
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { promisify } from "node:util"
import { afterAll, describe, expect, it } from "vitest"
import { readmeExample, root } from "./markdown.js"

const run = promisify(execFile)
const scratch = mkdtempSync(Path.join(Os.tmpdir(), "claude-resilience-readme-"))

afterAll(() => rmSync(scratch, { recursive: true, force: true }))

describe("README example", () => {
  it("runs as written: a 529 storm of two replies ends in the emulator's message after exactly 3 requests", async () => {
    const example = readmeExample()
    expect(example.code).toContain("Effect.runPromise(program).then(console.log)")
    writeFileSync(Path.join(scratch, "example.ts"), example.code)
    writeFileSync(
      Path.join(scratch, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          paths: {
            "claude-resilience": [Path.join(root, "src/index.ts")],
            "claude-resilience/testing": [Path.join(root, "src/testing/index.ts")]
          }
        }
      })
    )
    writeFileSync(Path.join(scratch, "package.json"), JSON.stringify({ type: "module" }))
    symlinkSync(Path.join(root, "node_modules"), Path.join(scratch, "node_modules"), "dir")
    const { stdout } = await run(Path.join(root, "node_modules/.bin/tsx"), ["example.ts"], { cwd: scratch })
    expect(stdout).toMatch(/requests: 3\b/)
    expect(stdout).toContain("Hello from the claude-resilience emulator.")
    expect(stdout).not.toContain("why")
  }, 60_000)
})
