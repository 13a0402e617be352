/**
 * Every ```ts block of README.md and docs/*.md is a complete module: it
 * declares or imports every name it uses (inputs it takes may be
 * `declare const x: T`), and it type-checks against the source, with
 * `claude-resilience` and `claude-resilience/testing` mapped to src/ and the
 * repository's compiler options (unused names allowed: a snippet shows, it
 * need not use).
 */
import * as Path from "node:path"
import ts from "typescript"
import { beforeAll, describe, expect, it } from "vitest"
import { allCodeBlocks, type CodeBlock, codeBlocks, root } from "./markdown.js"

/** Where a block lives for the compiler: a virtual file beside the tests, so that packages resolve as for them. */
const virtualPath = (block: CodeBlock) =>
  Path.join(root, "test/docs/__snippets__", `${block.file.replace(/[/.]/g, "_")}_line${block.line}.ts`)

const compilerOptions = (): ts.CompilerOptions => {
  const configPath = Path.join(root, "tsconfig.json")
  const config = ts.readConfigFile(configPath, ts.sys.readFile)
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root, undefined, configPath)
  return {
    ...parsed.options,
    noEmit: true,
    noUnusedLocals: false,
    noUnusedParameters: false,
    // a block without import or export is a module too: its names do not leak into the others
    moduleDetection: ts.ModuleDetectionKind.Force,
    paths: {
      "claude-resilience": [Path.join(root, "src/index.ts")],
      "claude-resilience/testing": [Path.join(root, "src/testing/index.ts")]
    }
  }
}

/** Type-checks the blocks as one program; the diagnostics of each block, formatted. */
export const checkBlocks = (blocks: ReadonlyArray<CodeBlock>): Map<CodeBlock, Array<string>> => {
  const files = new Map(blocks.map((block) => [virtualPath(block), block]))
  const options = compilerOptions()
  const host = ts.createCompilerHost(options)
  const { fileExists, getSourceFile, readFile } = host
  host.fileExists = (fileName) => files.has(fileName) || fileExists.call(host, fileName)
  host.readFile = (fileName) => files.get(fileName)?.code ?? readFile.call(host, fileName)
  host.getSourceFile = (fileName, languageVersion, ...rest) => {
    const block = files.get(fileName)
    return block === undefined
      ? getSourceFile.call(host, fileName, languageVersion, ...rest)
      : ts.createSourceFile(fileName, block.code, languageVersion, true)
  }
  const program = ts.createProgram([...files.keys()], options, host)
  const result = new Map(blocks.map((block) => [block, [] as Array<string>]))
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const block = diagnostic.file === undefined ? undefined : files.get(diagnostic.file.fileName)
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")
    if (block === undefined) {
      // an error outside the blocks (in src/, or in the options) fails every block: say where
      const where = diagnostic.file === undefined ? "options" : Path.relative(root, diagnostic.file.fileName)
      for (const list of result.values()) list.push(`${where}: ${message}`)
      continue
    }
    const { line, character } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start ?? 0)
    result.get(block)!.push(`${block.file}:${block.line + 1 + line}:${character + 1}: TS${diagnostic.code} ${message}`)
  }
  return result
}

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
