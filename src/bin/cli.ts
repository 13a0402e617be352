#!/usr/bin/env node
/**
 * The `claude-resilience` bin. Its dependencies `@effect/cli`, `echarts` and
 * `@effect/platform-node` are optional peers of the package (the library
 * never loads them): this entry checks they are installed and, if one is
 * missing, says in one line what to install and exits 1; otherwise it runs
 * the CLI.
 *
 * @since 0.2.0
 */

const optional = [
  ["@effect/cli", "@effect/cli@^0.77.0"],
  ["echarts", "echarts@^6.0.0"],
  ["@effect/platform-node", "@effect/platform-node@^0.108.0"]
] as const

const missing: Array<string> = []
for (const [name, install] of optional) {
  try {
    await import(name)
  } catch {
    missing.push(install)
  }
}

if (missing.length > 0) {
  process.stderr.write(
    `claude-resilience: the CLI needs ${missing.map((m) => m.replace(/@\^.*$/, "")).join(", ")}: npm install --save-dev ${
      missing.join(" ")
    }\n`
  )
  process.exitCode = 1
} else {
  const { main } = await import("./main.js")
  main(process.argv.slice(2))
}

export {}
