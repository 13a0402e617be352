/**
 * Runs a documentation example as written: its code, unchanged, as a module
 * of its own under tsx in a scratch folder, its `claude-resilience` imports
 * mapped to src/ by a tsconfig `paths`. Used by the README's and the docs'
 * runnable examples (test/package/ runs the README's against the packed
 * package).
 */
import { execFile } from "node:child_process"
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { promisify } from "node:util"
import { root } from "./markdown.js"

const run = promisify(execFile)

/** The example's standard output; the scratch folder is removed after it. */
export const runExample = async (code: string): Promise<string> => {
  const scratch = mkdtempSync(Path.join(Os.tmpdir(), "claude-resilience-example-"))
  try {
    writeFileSync(Path.join(scratch, "example.ts"), code)
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
    return stdout
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}
