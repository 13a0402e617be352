// Checks that `npm install` kept every locked package at its locked version
// and added nothing but optional entries (other platforms' binaries, which
// npm lists or not depending on the registry's metadata of the day).
// Usage: node .ci/check-lock.mjs <lockfile before> <lockfile after>
import { readFileSync } from "node:fs"

const [beforePath, afterPath] = process.argv.slice(2)
const before = JSON.parse(readFileSync(beforePath, "utf8")).packages ?? {}
const after = JSON.parse(readFileSync(afterPath, "utf8")).packages ?? {}
const problems = []
for (const [path, entry] of Object.entries(before)) {
  const now = after[path]
  if (now === undefined) {
    if (!entry.optional) problems.push(`${path || "(root)"}: removed (was ${entry.version})`)
  } else if (now.version !== entry.version) {
    problems.push(`${path || "(root)"}: ${entry.version} -> ${now.version}`)
  }
}
let added = 0
for (const [path, entry] of Object.entries(after)) {
  if (path in before) continue
  if (entry.optional) added++
  else problems.push(`${path}: added ${entry.version}, and it is not optional`)
}
if (problems.length > 0) {
  console.error(`npm install changed locked packages:\n  ${problems.join("\n  ")}`)
  process.exit(1)
}
console.log(`lockfile: ${Object.keys(before).length} locked packages kept their versions` +
  (added > 0 ? `; npm listed ${added} optional entries for other platforms` : ""))
