/**
 * The JSDoc of src/ as the JSDoc checker (test/docs/jsdoc.test.ts) reads it:
 * the ```ts blocks of every `@example`, and the public exports of the two
 * entry points with what their JSDoc holds.
 */
import { readdirSync, readFileSync } from "node:fs"
import * as Path from "node:path"
import ts from "typescript"
import { type CodeBlock, root } from "./markdown.js"

/**
 * The modules the checker passes over for now: they are being rewritten on
 * other branches (the options model for the policies, the client on
 * `HttpClient` combinators), and the lead empties this list once those are
 * merged. A name is a public namespace of `src/index.ts`, and its file
 * `src/<name>.ts`.
 */
export const skippedModules: ReadonlyArray<string> = []

/** Whether a file of src/ (relative to the root) is one of {@link skippedModules}. */
export const isSkippedFile = (file: string): boolean =>
  skippedModules.some((name) => file === `src/${name}.ts`)

/** Every .ts file below src/, relative to the root, in name order. */
export const sourceFiles = (dir = "src"): Array<string> =>
  readdirSync(Path.join(root, dir), { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory()
        ? sourceFiles(`${dir}/${entry.name}`)
        : entry.name.endsWith(".ts")
        ? [`${dir}/${entry.name}`]
        : []
    )
    .sort()

const fenceOpen = /^```(ts|typescript)\s*$/
const fenceClose = /^```\s*$/

/**
 * The ```ts blocks inside the `@example` tags of one file's JSDoc comments,
 * each with the line of its opening fence in the file. An example runs from
 * its `@example` to the next tag at the start of a line (`@since`, …) or the
 * end of the comment.
 */
export const exampleBlocks = (file: string, text: string): Array<CodeBlock> => {
  const blocks: Array<CodeBlock> = []
  for (const comment of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const firstLine = text.slice(0, comment.index).split("\n").length
    const lines = comment[0].split("\n").map((line) => line.replace(/^\s*\/?\*+\/?\s?/, "").replace(/\s*\*\/$/, ""))
    let inExample = false
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!
      if (/^@\w+/.test(line)) inExample = line.startsWith("@example")
      if (!inExample || !fenceOpen.test(line.trim())) continue
      const start = i
      const body: Array<string> = []
      for (i++; i < lines.length && !fenceClose.test(lines[i]!.trim()); i++) body.push(lines[i]!)
      if (i === lines.length) throw new Error(`${file}:${firstLine + start}: a \`\`\`ts example that never closes`)
      blocks.push({ file, line: firstLine + start, code: body.join("\n") + "\n" })
    }
  }
  return blocks
}

/** The example blocks of every file of src/ but the skipped modules'. */
export const allExampleBlocks = (): Array<CodeBlock> =>
  sourceFiles()
    .filter((file) => !isSkippedFile(file))
    .flatMap((file) => exampleBlocks(file, readFileSync(Path.join(root, file), "utf8")))

/** One public export as its JSDoc describes it. */
export interface PublicExport {
  /** `Messages.Message`, `Emulator.layer`, … */
  readonly name: string
  /** The namespace it is exported under. */
  readonly module: string
  /** Where it is declared, relative to the root, with the line. */
  readonly where: string
  /** Some declaration of the name has a JSDoc comment with a description (text before its tags). */
  readonly described: boolean
  /** Every declaration of the name (a schema and its type, say) has a JSDoc comment with `@since`. */
  readonly everyDeclarationHasSince: boolean
  /** Some declaration of the name has an `@example`. */
  readonly hasExample: boolean
  /** A function, a combinator, a constructor function or a layer: a value that must show an example. */
  readonly needsExample: boolean
  /** Why it needs one, for the failure message. */
  readonly kind: string
}

const jsDocsOf = (declaration: ts.Declaration): ReadonlyArray<ts.JSDoc> =>
  // a namespace export (`export * as X from …`) carries its JSDoc on the export declaration
  ts.getJSDocCommentsAndTags(ts.isNamespaceExport(declaration) ? declaration.parent : declaration)
    .filter((node): node is ts.JSDoc => ts.isJSDoc(node))

const hasTag = (docs: ReadonlyArray<ts.JSDoc>, name: string): boolean =>
  docs.some((doc) => (doc.tags ?? []).some((tag) => tag.tagName.text === name))

const hasDescription = (docs: ReadonlyArray<ts.JSDoc>): boolean =>
  docs.some((doc) => (ts.getTextOfJSDocComment(doc.comment)?.trim().length ?? 0) > 0)

/**
 * What a value export is, for the example rule: `function` (a function
 * declaration or a value with call signatures: functions, dual combinators,
 * constructor functions such as `make`, layers built from options), `layer`
 * (a `Layer` value), or `undefined` for what needs JSDoc only (classes:
 * errors, services and schema classes; schemas; constants; types).
 */
const valueKind = (checker: ts.TypeChecker, symbol: ts.Symbol): string | undefined => {
  const declaration = symbol.valueDeclaration
  if (declaration === undefined || ts.isClassDeclaration(declaration)) return undefined
  if (ts.isFunctionDeclaration(declaration)) return "function"
  const type = checker.getTypeOfSymbolAtLocation(symbol, declaration)
  if (type.getCallSignatures().length > 0) return "function"
  if (/^Layer<|^Layer\.Layer</.test(checker.typeToString(type))) return "layer"
  return undefined
}

/**
 * The public exports of `src/index.ts` and `src/testing/index.ts`: every
 * member of every namespace they export (`export * as Name from …`), with
 * what its JSDoc holds. The namespaces themselves are checked too, under the
 * module name `index`.
 */
export const publicExports = (): Array<PublicExport> => {
  const entries = ["src/index.ts", "src/testing/index.ts"].map((file) => Path.join(root, file))
  const configPath = Path.join(root, "tsconfig.json")
  const config = ts.readConfigFile(configPath, ts.sys.readFile)
  const options = ts.parseJsonConfigFileContent(config.config, ts.sys, root, undefined, configPath).options
  const program = ts.createProgram(entries, { ...options, noEmit: true })
  const checker = program.getTypeChecker()
  const out: Array<PublicExport> = []
  const whereOf = (declaration: ts.Declaration): string => {
    const source = declaration.getSourceFile()
    const { line } = source.getLineAndCharacterOfPosition(declaration.getStart())
    return `${Path.relative(root, source.fileName)}:${line + 1}`
  }
  for (const entry of entries) {
    const entrySymbol = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!
    for (const namespace of checker.getExportsOfModule(entrySymbol)) {
      const declarations = namespace.declarations ?? []
      const docs = declarations.flatMap(jsDocsOf)
      out.push({
        name: namespace.name,
        module: "index",
        where: declarations[0] === undefined ? entry : whereOf(declarations[0]),
        described: hasDescription(docs),
        everyDeclarationHasSince: declarations.every((d) => hasTag(jsDocsOf(d), "since")),
        hasExample: hasTag(docs, "example"),
        needsExample: false,
        kind: "namespace"
      })
      const module = checker.getAliasedSymbol(namespace)
      for (const member of checker.getExportsOfModule(module)) {
        const symbol = member.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(member) : member
        const memberDeclarations = symbol.declarations ?? []
        const memberDocs = memberDeclarations.flatMap(jsDocsOf)
        const kind = valueKind(checker, symbol)
        out.push({
          name: `${namespace.name}.${member.name}`,
          module: namespace.name,
          where: memberDeclarations[0] === undefined ? "?" : whereOf(memberDeclarations[0]),
          described: hasDescription(memberDocs),
          everyDeclarationHasSince: memberDeclarations.every((d) => hasTag(jsDocsOf(d), "since")),
          hasExample: hasTag(memberDocs, "example"),
          needsExample: kind !== undefined,
          kind: kind ?? "other"
        })
      }
    }
  }
  return out
}
