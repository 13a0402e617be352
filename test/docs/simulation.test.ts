/**
 * docs/simulation.md's example, as written (its imports mapped to src/), and
 * a check that the page still shows exactly this code.
 */
import { readFileSync } from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Simulation } from "../../src/testing/index.js"
import { codeBlocks, root } from "./markdown.js"

// --- docs/simulation.md: the example, verbatim below its imports ----------------

const scenario = Simulation.fleet({
  name: "a 503 outage",
  clients: 20,
  duration: "15 minutes",
  outages: [{ from: "5 minutes", to: "8 minutes", status: 503 }],
  policies: ["ours", "sdk-like"]
})

describe("my scenario", () => {
  it.effect("ours sends at most 1.1 calls per request during the outage, sdk-like about 3", () =>
    Effect.gen(function*() {
      const result = yield* Simulation.run(yield* scenario, { seed: 42 })
      const [ours, sdk] = result.runs.map((run) => run.figures)
      expect(ours!.outageCallsPerRequest).toBeLessThanOrEqual(1.1)
      expect(sdk!.outageCallsPerRequest).toBeGreaterThan(2.9)
      // every logical request ended exactly once
      for (const run of result.runs) expect(run.audit.endedOnce).toBe(run.audit.started)
    }))
})

// --- the page shows this file's code -----------------------------------------------

describe("docs/simulation.md", () => {
  it("its example is this file's code, line for line, below the imports", () => {
    const [example] = codeBlocks("docs/simulation.md", readFileSync(Path.join(root, "docs/simulation.md"), "utf8"))
    const lines = example!.code.split("\n")
    const imports = lines.filter((line) => line.startsWith("import "))
    expect(imports).toEqual([
      `import { describe, expect, it } from "@effect/vitest"`,
      `import { Effect } from "effect"`,
      `import { Simulation } from "claude-resilience/testing"`
    ])
    const body = lines.filter((line) => !line.startsWith("import ")).join("\n").trim()
    expect(readFileSync(Path.join(root, "test/docs/simulation.test.ts"), "utf8")).toContain(body)
  })
})
