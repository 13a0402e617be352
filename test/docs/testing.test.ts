/**
 * docs/testing.md's example, as written (its imports mapped to src/), and a
 * check that the page still shows exactly this code.
 */
import { readFileSync } from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Random } from "effect"
import { Claude } from "../../src/index.js"
import { Emulator, VirtualTime } from "../../src/testing/index.js"
import { codeBlocks, root } from "./markdown.js"

// --- docs/testing.md: the example, verbatim below its imports -------------------

const params = {
  model: "claude-sonnet-5-5",
  max_tokens: 1024,
  messages: [{ role: "user" as const, content: "Hello, Claude" }]
}

describe("my retries", () => {
  it.effect("529, 529, then 200: requests at 0, 500 and 1500 ms", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const message = yield* VirtualTime.run(claude.messages.create(params))
      expect(message.stop_reason).toBe("end_turn")
      const requests = yield* (yield* Emulator.Emulator).requests
      expect(requests.map((request) => request.receivedAt)).toEqual([0, 500, 1500])
    }).pipe(
      Effect.provide(Emulator.layerClaude({
        script: Emulator.sequence([Emulator.Reply.Error({ status: 529 }), Emulator.Reply.Error({ status: 529 })])
      })),
      // every jitter draw 0.5: the full-jitter waits are half their ceilings
      Effect.withRandom(Random.fixed([0.5]))
    ))

  it.effect("a 529 storm ends in OverloadedError after 6 requests, 11.5 s of virtual time", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const error = yield* Effect.flip(VirtualTime.run(claude.messages.create(params)))
      expect(error._tag).toBe("OverloadedError")
      const requests = yield* (yield* Emulator.Emulator).requests
      expect(requests.map((request) => request.receivedAt)).toEqual([0, 500, 1500, 3500, 7500, 11500])
    }).pipe(
      Effect.provide(Emulator.layerClaude({ script: () => Emulator.Reply.Error({ status: 529 }) })),
      Effect.withRandom(Random.fixed([0.5]))
    ))
})

// --- the page shows this file's code -----------------------------------------------

describe("docs/testing.md", () => {
  it("its example is this file's code, line for line, below the imports", () => {
    const [example] = codeBlocks("docs/testing.md", readFileSync(Path.join(root, "docs/testing.md"), "utf8"))
    const lines = example!.code.split("\n")
    const imports = lines.filter((line) => line.startsWith("import "))
    expect(imports).toEqual([
      `import { describe, expect, it } from "@effect/vitest"`,
      `import { Effect, Random } from "effect"`,
      `import { Claude } from "claude-resilience"`,
      `import { Emulator, VirtualTime } from "claude-resilience/testing"`
    ])
    const body = lines.filter((line) => !line.startsWith("import ")).join("\n").trim()
    expect(readFileSync(Path.join(root, "test/docs/testing.test.ts"), "utf8")).toContain(body)
  })
})
