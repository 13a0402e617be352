/**
 * docs/effect-ai.md's runnable example, run as written: its ```ts block that
 * imports `claude-resilience/testing`, unchanged, as a module of its own
 * under tsx (its `claude-resilience` imports mapped to src/), against the
 * emulator. It runs in real time, as a user's would: two full-jitter waits of
 * at most 1 s and 2 s.
 */
import { readFileSync } from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import { codeBlocks, root } from "./markdown.js"
import { runExample } from "./runExample.js"

describe("docs/effect-ai.md", () => {
  it("its example runs as written: generateText through transformClient gets the emulator's text after 3 requests", async () => {
    const examples = codeBlocks("docs/effect-ai.md", readFileSync(Path.join(root, "docs/effect-ai.md"), "utf8"))
      .filter((block) => block.code.includes(`from "claude-resilience/testing"`))
    expect(examples).toHaveLength(1)
    const stdout = await runExample(examples[0]!.code)
    expect(stdout.trim()).toBe("Hello from the claude-resilience emulator. (requests: 3)")
  }, 60_000)
})
