/**
 * The package under measurement: the built `dist/` (what users run), loaded
 * at run time, typed as the source it is built from. `npm run bench` builds
 * `dist/` first. (A static import of `dist/` would fail the type check of a
 * fresh clone, where `dist/` does not exist yet.)
 */
import { existsSync } from "node:fs"
import * as Path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

/** The package's public API, as `import * as Lib from "claude-resilience"` gives it. */
export type Library = typeof import("../../src/index.js")

/** The repository's root. */
export const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../..")

/** The built entry point. */
export const distIndex = Path.join(root, "dist/index.js")

/** Loads `dist/index.js`; fails with a clear message when it was not built. */
export const loadLibrary = async (): Promise<Library> => {
  if (!existsSync(distIndex)) {
    throw new Error(`${distIndex} does not exist: run \`npm run build\` first (\`npm run bench\` does)`)
  }
  return (await import(pathToFileURL(distIndex).href)) as Library
}
