/**
 * Every ```ts block of README.md and docs/*.md is a complete module: it
 * declares or imports every name it uses (inputs it takes may be
 * `declare const x: T`), and it type-checks against the source, with
 * `claude-resilience` and `claude-resilience/testing` mapped to src/ and the
 * repository's compiler options (unused names allowed: a snippet shows, it
 * need not use).
 */
import { beforeAll, describe, expect, it } from "vitest"
import { allCodeBlocks, type CodeBlock, codeBlocks } from "./markdown.js"
import { checkBlocks } from "./typecheck.js"

describe("the snippet checker", () => {
  // the checker itself: a block that uses an undeclared name, or imports a
  // name the package does not export, is reported at its line in the markdown
  it("reports an undeclared name and a missing export at their markdown lines", () => {
    const markdown = [
      "# page",
      "",
      "```ts",
      "import { Claude } from \"claude-resilience\"",
      "const answer = call.pipe(Claude.NoSuchThing)",
      "```",
      "",
      "```ts",
      "import { Effect } from \"effect\"",
      "import { ApiError } from \"claude-resilience\"",
      "declare const call: Effect.Effect<string, ApiError.ApiError>",
      "const retried = call.pipe(Effect.retry({ times: 3, while: ApiError.isRetryable }))",
      "```",
      "",
      "```ts",
      "const fine = 1",
      "```"
    ].join("\n")
    const blocks = codeBlocks("docs/fake.md", markdown)
    expect(blocks.map((block) => block.line)).toEqual([3, 8, 15])
    const diagnostics = checkBlocks(blocks)
    const first = diagnostics.get(blocks[0]!)!
    expect(first).toHaveLength(2)
    expect(first[0]).toMatch(/^docs\/fake\.md:5:16: TS2304 Cannot find name 'call'/)
    expect(first[1]).toMatch(/^docs\/fake\.md:5:33: TS2339 Property 'NoSuchThing' does not exist/)
    expect(diagnostics.get(blocks[1]!)).toEqual([])
    // a block with no import is still a module of its own: `fine` is not redeclared by a second such block
    expect(diagnostics.get(blocks[2]!)).toEqual([])
  })
})

describe("documentation snippets", () => {
  const blocks = allCodeBlocks()
  let diagnostics = new Map<CodeBlock, Array<string>>()
  beforeAll(() => {
    diagnostics = checkBlocks(blocks)
  }, 120_000)

  it("finds the blocks of README.md and of every page in docs/", () => {
    const files = new Set(blocks.map((block) => block.file))
    expect(files).toContain("README.md")
    expect(files).toContain("docs/client.md")
    expect(files).toContain("docs/testing.md")
  })

  it.each(blocks.map((block) => [`${block.file}:${block.line}`, block] as const))(
    "%s type-checks as a module of its own",
    (_, block) => {
      expect(diagnostics.get(block)).toEqual([])
    }
  )
})
