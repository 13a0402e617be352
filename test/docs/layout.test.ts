/**
 * The README's layout section lists exactly the files of src/, and public
 * text speaks to library users: src/, docs/ and the README cite the public
 * API documentation, never the internal domain brief (and no test name
 * cites it either).
 */
import { readdirSync, readFileSync } from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import { sourceFiles } from "./jsdoc.js"
import { documentationFiles, root } from "./markdown.js"

/** The src/ paths named in a markdown text's `## Layout` section. */
export const layoutFiles = (markdown: string): Array<string> => {
  const start = markdown.indexOf("\n## Layout\n")
  if (start < 0) return []
  const rest = markdown.slice(start + 1)
  const next = rest.indexOf("\n## ", 1)
  const section = next < 0 ? rest : rest.slice(0, next)
  return [...new Set(section.match(/\bsrc\/[\w/.-]+\.ts\b/g) ?? [])].sort()
}

describe("the README's layout section", () => {
  it("reads the src/ paths of its own section only", () => {
    const markdown = "# x\n\nsrc/Elsewhere.ts\n\n## Layout\n\n```text\nsrc/A.ts   a\nsrc/internal/b.ts  b\n```\n\n## Next\n\nsrc/C.ts\n"
    expect(layoutFiles(markdown)).toEqual(["src/A.ts", "src/internal/b.ts"])
  })

  it("lists exactly the files of src/", () => {
    const listed = layoutFiles(readFileSync(Path.join(root, "README.md"), "utf8"))
    expect(listed).toEqual(sourceFiles())
  })
})

/** The word that names the internal brief; spelt out of pieces so that this file does not hold it. */
const internalBrief = new RegExp(`\\b${"se"}eds\\b`, "i")

const testFiles = (dir = "test"): Array<string> =>
  readdirSync(Path.join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? testFiles(`${dir}/${entry.name}`)
      : /\.test(-d)?\.ts$/.test(entry.name)
      ? [`${dir}/${entry.name}`]
      : []
  )

describe("public text cites the public API documentation", () => {
  it("no module of src/, no page of docs/ and not the README names the internal brief", () => {
    const files = [...sourceFiles(), ...documentationFiles()]
    const hits = files.flatMap((file) =>
      readFileSync(Path.join(root, file), "utf8").split("\n").flatMap((line, i) =>
        internalBrief.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : []
      )
    )
    expect(hits).toEqual([])
  })

  it("no test name names it either", () => {
    const title = /\b(?:describe|it|test)(?:\.\w+)*\(\s*(["'`])((?:(?!\1).)*)\1/g
    const hits = testFiles().flatMap((file) =>
      [...readFileSync(Path.join(root, file), "utf8").matchAll(title)]
        .filter((m) => internalBrief.test(m[2]!))
        .map((m) => `${file}: ${m[2]}`)
    )
    expect(hits).toEqual([])
  })
})
