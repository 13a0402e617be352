/**
 * docs/effect-ai.md's runnable example, run as written: its ```ts block that
 * imports `claude-resilience/testing`, unchanged, as a module of its own
 * under tsx (its `claude-resilience` imports mapped to src/), against the
 * emulator. It runs in real time, as a user's would: two full-jitter waits of
 * at most 1 s and 2 s.
 */
import { execFile } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { promisify } from "node:util"
import { afterAll, describe, expect, it } from "vitest"
import { codeBlocks, root } from "./markdown.js"

const run = promisify(execFile)
const scratch = mkdtempSync(Path.join(Os.tmpdir(), "claude-resilience-effect-ai-"))

afterAll(() => rmSync(scratch, { recursive: true, force: true }))

describe("docs/effect-ai.md", () => {
  it("its example runs as written: generateText through transformClient gets the emulator's text after 3 requests", async () => {
    const examples = codeBlocks("docs/effect-ai.md", readFileSync(Path.join(root, "docs/effect-ai.md"), "utf8"))
      .filter((block) => block.code.includes(`from "claude-resilience/testing"`))
    expect(examples).toHaveLength(1)
    writeFileSync(Path.join(scratch, "example.ts"), examples[0]!.code)
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
    expect(stdout.trim()).toBe("Hello from the claude-resilience emulator. (requests: 3)")
  }, 60_000)
})
