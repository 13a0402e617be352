/**
 * `npm start`: prints the decision table, generated from the decoder's own
 * classification (every row is a canonical body decoded by
 * `ApiError.fromResponse`).
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { ApiError } from "../index.js"

const pad = (value: string, width: number) => value.padEnd(width)

const render = (rows: ReadonlyArray<ApiError.Decision>): string => {
  const cells = rows.map((row) => [
    String(row.status),
    Option.getOrElse(row.errorType, () => "-"),
    row.tag,
    row.tag === "Success" ? "n/a" : row.retryable ? "yes" : "no",
    row.action
  ])
  const header = ["status", "error.type", "decodes to", "retry?", "action"]
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)))
  const line = (c: ReadonlyArray<string>) => c.map((v, i) => pad(v, widths[i]!)).join("  ").trimEnd()
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n")
}

const program = Console.log(
  `claude-resilience: how each response is decoded and handled\n\n${render(ApiError.decisionTable())}\n`
)

Effect.runFork(program)
