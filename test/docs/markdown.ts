/**
 * The documentation's code blocks: every ```ts block of README.md and
 * docs/*.md, with where it starts, for the tests that type-check and run them.
 */
import { readdirSync, readFileSync } from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

/** The repository's root. */
export const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../..")

export interface CodeBlock {
  /** The markdown file, relative to the root (`README.md`, `docs/client.md`). */
  readonly file: string
  /** 1-based line of the opening fence. */
  readonly line: number
  /** The block's text, as written, without the fences. */
  readonly code: string
}

const opening = /^```(ts|typescript)\s*$/
const closing = /^```\s*$/

/** The ```ts blocks of one markdown text, in order. */
export const codeBlocks = (file: string, markdown: string): Array<CodeBlock> => {
  const blocks: Array<CodeBlock> = []
  const lines = markdown.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    if (!opening.test(lines[i]!)) continue
    const start = i
    const body: Array<string> = []
    for (i++; i < lines.length && !closing.test(lines[i]!); i++) body.push(lines[i]!)
    if (i === lines.length) throw new Error(`${file}:${start + 1}: a \`\`\`ts block that never closes`)
    blocks.push({ file, line: start + 1, code: body.join("\n") + "\n" })
  }
  return blocks
}

/** README.md, then docs/*.md in name order. */
export const documentationFiles = (): Array<string> => [
  "README.md",
  ...readdirSync(Path.join(root, "docs")).filter((name) => name.endsWith(".md")).sort().map((name) => `docs/${name}`)
]

/** Every ```ts block of the documentation. */
export const allCodeBlocks = (): Array<CodeBlock> =>
  documentationFiles().flatMap((file) => codeBlocks(file, readFileSync(Path.join(root, file), "utf8")))

/** The README's example: its one ```ts block that imports `claude-resilience/testing`. */
export const readmeExample = (): CodeBlock => {
  const examples = codeBlocks("README.md", readFileSync(Path.join(root, "README.md"), "utf8")).filter((block) =>
    block.code.includes(`from "claude-resilience/testing"`)
  )
  if (examples.length !== 1) throw new Error(`README.md: expected one example importing claude-resilience/testing, found ${examples.length}`)
  return examples[0]!
}
