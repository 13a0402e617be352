/**
 * docs/operations.md names every metric and every span of src/: a metric
 * or span added without its line in the tables fails here.
 */
import { readFileSync } from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import { sourceFiles } from "./jsdoc.js"
import { root } from "./markdown.js"

const metric = /Metric\.(?:counter|gauge|histogram|frequency|summary)\(\s*"([^"]+)"/g
const span = /\.withSpan\(\s*"([^"]+)"/g

/** The metric and span names declared in a source text. */
export const namesIn = (source: string): { readonly metrics: Array<string>; readonly spans: Array<string> } => ({
  metrics: [...source.matchAll(metric)].map((m) => m[1]!),
  spans: [...source.matchAll(span)].map((m) => m[1]!)
})

describe("docs/operations.md", () => {
  it("the scan finds metric and span names, over several lines too", () => {
    const source = [
      `const a = Metric.counter("a_total", { incremental: true })`,
      `const b = Metric.histogram(`,
      `  "b_ms",`,
      `  boundaries`,
      `)`,
      `effect.pipe(Effect.withSpan("c.span", { attributes: {} }))`,
      `stream.pipe(Stream.withSpan(...spanOf(x)))`
    ].join("\n")
    expect(namesIn(source)).toEqual({ metrics: ["a_total", "b_ms"], spans: ["c.span"] })
  })

  it("names every metric and span of src/", () => {
    const page = readFileSync(Path.join(root, "docs/operations.md"), "utf8")
    const found = sourceFiles().map((file) => namesIn(readFileSync(Path.join(root, file), "utf8")))
    const metrics = found.flatMap((f) => f.metrics)
    const spans = found.flatMap((f) => f.spans)
    expect(metrics.length).toBeGreaterThanOrEqual(7)
    expect(spans).toContain("claude.fallback")
    const missing = [...metrics, ...spans, "claude.attempt", "claude.messages.create"].filter(
      (name) => !page.includes(`\`${name}\``)
    )
    expect(missing).toEqual([])
  })
})
