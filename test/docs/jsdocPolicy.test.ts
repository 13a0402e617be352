/**
 * The JSDoc of the policy modules and the client, held to a stricter rule than the whole
 * library (test/docs/jsdoc.test.ts): every public
 * export carries `@since` and `@category` and an `@example`, and every
 * ```ts block of their JSDoc (examples, module descriptions) is a complete
 * module that type-checks against the source, as the documentation's
 * snippets do.
 */
import { readFileSync } from "node:fs"
import * as Path from "node:path"
import ts from "typescript"
import { beforeAll, describe, expect, it } from "vitest"
import { type CodeBlock, codeBlocks, root } from "./markdown.js"
import { checkBlocks } from "./typecheck.js"

// the breaker's pure state machine lives in an internal module that
// CircuitBreaker re-exports: its public exports are held to the same rules
const modules = [
  "src/RetryPolicy.ts",
  "src/RetryBudget.ts",
  "src/CircuitBreaker.ts",
  "src/internal/circuitBreaker/machine.ts",
  "src/Resilience.ts",
  "src/Claude.ts"
]

const sourceOf = (file: string) =>
  ts.createSourceFile(file, readFileSync(Path.join(root, file), "utf8"), ts.ScriptTarget.ES2022, true)

/** Every ```ts block of every JSDoc comment of `file`, at its line in the file. */
const jsdocBlocks = (file: string): Array<CodeBlock> => {
  const text = readFileSync(Path.join(root, file), "utf8")
  const blocks: Array<CodeBlock> = []
  for (const match of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const startLine = text.slice(0, match.index).split("\n").length - 1
    const body = match[0].split("\n").map((line) => line.replace(/^\s*\/?\*+\/?\s?/, "").replace(/\s*\*\/$/, ""))
    for (const block of codeBlocks(file, body.join("\n"))) blocks.push({ ...block, line: block.line + startLine })
  }
  return blocks
}

interface Exported {
  readonly name: string
  readonly tags: ReadonlyArray<string>
}

/** Each exported declaration of `file`, with the names of its JSDoc tags. */
const exportsOf = (file: string): Array<Exported> => {
  const source = sourceOf(file)
  const out: Array<Exported> = []
  for (const statement of source.statements) {
    const modifiers = ts.canHaveModifiers(statement) ? ts.getModifiers(statement) : undefined
    if (!modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) continue
    const declarations: ReadonlyArray<ts.Node> = ts.isVariableStatement(statement)
      ? statement.declarationList.declarations
      : [statement]
    for (const declaration of declarations) {
      const name = (declaration as ts.NamedDeclaration).name?.getText(source) ?? "(anonymous)"
      out.push({ name, tags: ts.getJSDocTags(declaration).map((tag) => tag.tagName.text) })
    }
  }
  return out
}

describe("JSDoc of the policy modules", () => {
  for (const file of modules) {
    const exported = exportsOf(file)

    it(`${file}: every export has @since, @category and @example`, () => {
      expect(exported.length).toBeGreaterThan(3)
      const missing = exported.filter(({ tags }) => !tags.includes("internal")).flatMap(({ name, tags }) =>
        ["since", "category", "example"].filter((tag) => !tags.includes(tag)).map((tag) => `${name}: no @${tag}`)
      )
      expect(missing).toEqual([])
    })
  }

  describe("every ```ts block of their JSDoc type-checks as a module of its own", () => {
    const blocks = modules.flatMap(jsdocBlocks)
    let diagnostics = new Map<CodeBlock, Array<string>>()
    beforeAll(() => {
      diagnostics = checkBlocks(blocks)
    }, 120_000)

    it("finds examples in each module", () => {
      for (const file of modules) expect(blocks.filter((block) => block.file === file).length).toBeGreaterThan(3)
    })

    it.each(blocks.map((block) => [`${block.file}:${block.line}`, block] as const))("%s", (_, block) => {
      expect(diagnostics.get(block)).toEqual([])
    })
  })
})
