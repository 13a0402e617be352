/**
 * Type-checking code blocks (of the documentation, or of the JSDoc examples
 * in src/) as modules of their own, against the source: `claude-resilience`
 * and `claude-resilience/testing` mapped to src/ by `paths`, with the
 * repository's compiler options (unused names allowed: an example shows, it
 * need not use).
 */
import * as Path from "node:path"
import ts from "typescript"
import { type CodeBlock, root } from "./markdown.js"

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
