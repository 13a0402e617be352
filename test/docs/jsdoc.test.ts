/**
 * Every public export has JSDoc, and every function, combinator,
 * constructor and layer shows an example the type checker sees.
 *
 * - (a) Every ```ts block inside a JSDoc `@example` of src/ type-checks as a
 *   module of its own against the source (as the documentation's blocks do,
 *   test/docs/snippets.test.ts).
 * - (b) The public exports of `src/index.ts` and `src/testing/index.ts`
 *   (every member of every namespace), read with the TypeScript compiler
 *   API: each has a JSDoc comment with `@since` on every declaration and a
 *   description on one of them; each value that can be called (a function,
 *   a dual combinator, a constructor function, a layer built from options)
 *   or that is a `Layer` has an `@example`. Classes (errors, services,
 *   schema classes), schemas, constants and types need the JSDoc, not an
 *   example.
 *
 * The modules of `skippedModules` (test/docs/jsdoc.ts) are passed over for
 * now: they are being rewritten on other branches.
 */
import { beforeAll, describe, expect, it } from "vitest"
import { allExampleBlocks, exampleBlocks, isSkippedFile, publicExports, skippedModules, sourceFiles } from "./jsdoc.js"
import type { CodeBlock } from "./markdown.js"
import { checkBlocks } from "./typecheck.js"

describe("the JSDoc example checker", () => {
  it("finds the ts blocks of @example tags only, at their lines, and reports a wrong one at its line", () => {
    const source = [
      "/**",
      " * Not an example:",
      " *",
      " * ```ts",
      " * const notChecked: number = \"a\"",
      " * ```",
      " *",
      " * @example",
      " * ```ts",
      " * import { ApiError } from \"claude-resilience\"",
      " * const tag: string = ApiError.NoSuchThing",
      " * ```",
      " *",
      " * @since 0.1.0",
      " */",
      "export const a = 1",
      "",
      "/**",
      " * @example",
      " * ```ts",
      " * const fine = 1",
      " * ```",
      " */",
      "export const b = 2"
    ].join("\n")
    const blocks = exampleBlocks("src/Fake.ts", source)
    expect(blocks.map((block) => block.line)).toEqual([9, 20])
    expect(blocks[0]!.code).toBe("import { ApiError } from \"claude-resilience\"\nconst tag: string = ApiError.NoSuchThing\n")
    const diagnostics = checkBlocks(blocks)
    expect(diagnostics.get(blocks[0]!)).toEqual([
      expect.stringMatching(/^src\/Fake\.ts:11:30: TS2339 Property 'NoSuchThing' does not exist/)
    ])
    expect(diagnostics.get(blocks[1]!)).toEqual([])
  })

  it("skips exactly the modules being rewritten elsewhere, and only those", () => {
    expect(skippedModules).toEqual([])
    const skipped = sourceFiles().filter(isSkippedFile)
    expect(skipped).toEqual(skippedModules.map((name) => `src/${name}.ts`).sort())
  })
})

describe("JSDoc examples", () => {
  const blocks = allExampleBlocks()
  let diagnostics = new Map<CodeBlock, Array<string>>()
  beforeAll(() => {
    diagnostics = checkBlocks(blocks)
  }, 120_000)

  it("finds the examples of the public modules and of the testing entry point", () => {
    const files = new Set(blocks.map((block) => block.file))
    for (const file of ["src/Messages.ts", "src/MessageAccumulator.ts", "src/Semantic.ts", "src/Continuation.ts", "src/testing/Emulator.ts"]) {
      expect(files).toContain(file)
    }
    expect([...files].filter(isSkippedFile)).toEqual([])
  })

  it.each(blocks.map((block) => [`${block.file}:${block.line}`, block] as const))(
    "%s type-checks as a module of its own",
    (_, block) => {
      expect(diagnostics.get(block)).toEqual([])
    }
  )
})

describe("public exports", () => {
  const exports = publicExports()
  const checked = exports.filter((e) => !skippedModules.includes(e.module))

  it("are read from both entry points, every namespace and its members", () => {
    const names = new Set(exports.map((e) => e.name))
    for (const name of ["ApiError", "Messages.Message", "MessageAccumulator.sink", "Emulator.layerClaude", "VirtualTime.run"]) {
      expect(names).toContain(name)
    }
    expect(exports.find((e) => e.name === "Emulator.make")?.needsExample).toBe(true)
    expect(exports.find((e) => e.name === "Messages.Message")?.needsExample).toBe(false)
    expect(exports.find((e) => e.name === "ApiError.OverloadedError")?.needsExample).toBe(false)
  })

  it("every one has JSDoc: @since on each declaration, a description on one", () => {
    const missing = checked
      .filter((e) => !e.described || !e.everyDeclarationHasSince)
      .map((e) => `${e.name} (${e.where}): ${!e.described ? "no description" : "a declaration without @since"}`)
    expect(missing).toEqual([])
  })

  it("every function, combinator, constructor and layer has an @example", () => {
    const missing = checked.filter((e) => e.needsExample && !e.hasExample).map((e) => `${e.name} (${e.where}, ${e.kind})`)
    expect(missing).toEqual([])
  })
})
