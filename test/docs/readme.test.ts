/**
 * The README's example, run as written: the ```ts block that imports
 * `claude-resilience/testing`, unchanged, as a module of its own under tsx,
 * its `claude-resilience` imports mapped to src/ by a tsconfig `paths`
 * (test/package/ runs the same block against the packed package). It runs in
 * real time, as a user's would: two full-jitter waits of at most 1 s and 2 s.
 */
import { describe, expect, it } from "vitest"
import { readmeExample } from "./markdown.js"
import { runExample } from "./runExample.js"

describe("README example", () => {
  it("runs as written: a 529 storm of two replies ends in the emulator's message after exactly 3 requests", async () => {
    const example = readmeExample()
    expect(example.code).toContain("Effect.runPromise(program).then(console.log)")
    const stdout = await runExample(example.code)
    expect(stdout).toMatch(/requests: 3\b/)
    expect(stdout).toContain("Hello from the claude-resilience emulator.")
    expect(stdout).not.toContain("why")
  }, 60_000)
})
