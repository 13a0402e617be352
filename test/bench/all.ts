/**
 * `npm run bench`: builds `dist/`, runs the client's benchmark (`run.ts`)
 * with the flags given after `--`, then, unless `--quick`, the simulation's
 * (`simulation.bench.ts`). One entry point, so that `npm run bench --
 * --quick` reaches `run.ts` (npm appends its arguments to the last command
 * of a script).
 */
import { execFileSync } from "node:child_process"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../..")
const args = process.argv.slice(2)
const run = (command: string, commandArgs: ReadonlyArray<string>) =>
  execFileSync(command, commandArgs, { cwd: root, stdio: "inherit" })

run("npm", ["run", "build"])
run(process.execPath, ["--expose-gc", "--import", "tsx", "test/bench/run.ts", ...args])
if (!args.includes("--quick")) run(process.execPath, ["--import", "tsx", "test/bench/simulation.bench.ts"])
