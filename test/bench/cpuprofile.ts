/**
 * Reads a `.cpuprofile` (what `node --cpu-prof` writes) and aggregates self
 * time: per function (name and `url:line`), and per package. Only the
 * samples inside a window (µs, the profiler's clock) count when one is
 * given. Locations in `dist/` are mapped back to `src/` through the build's
 * source maps.
 */
import { existsSync, readFileSync } from "node:fs"
import { SourceMap } from "node:module"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { root } from "./library.js"

interface CallFrame {
  readonly functionName: string
  readonly url: string
  /** 0-based. */
  readonly lineNumber: number
  /** 0-based. */
  readonly columnNumber: number
}

interface ProfileNode {
  readonly id: number
  readonly callFrame: CallFrame
  readonly children?: ReadonlyArray<number>
}

export interface CpuProfile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly startTime: number
  readonly endTime: number
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

export interface Row {
  readonly name: string
  /** Where: `src/Claude.ts:612` for ours (from the source map), a shortened path elsewhere. */
  readonly location: string
  readonly pkg: string
  readonly selfMs: number
  /** Share of all the samples in the window, idle and GC included. */
  readonly percent: number
}

export interface Summary {
  readonly totalMs: number
  readonly samples: number
  /** Whether the window was applied (false: the whole profile). */
  readonly windowed: boolean
  readonly functions: ReadonlyArray<Row>
  readonly packages: ReadonlyArray<{ readonly pkg: string; readonly selfMs: number; readonly percent: number }>
  /**
   * Each sample charged to the innermost function of `dist/` on its stack
   * (the library's code that led to it, Effect's runtime and the platform
   * below it included); samples with none on their stack are one row.
   */
  readonly ours: ReadonlyArray<Row>
}

const maps = new Map<string, SourceMap | undefined>()

const sourceMapOf = (file: string): SourceMap | undefined => {
  if (!maps.has(file)) {
    const mapFile = `${file}.map`
    maps.set(file, existsSync(mapFile) ? new SourceMap(JSON.parse(readFileSync(mapFile, "utf8"))) : undefined)
  }
  return maps.get(file)
}

const packageOf = (url: string, file: string | undefined): string => {
  if (url === "") return "(V8 and native)"
  if (url.startsWith("wasm:")) return "wasm (llhttp, undici's HTTP parser)"
  if (url.startsWith("node:")) return url.includes("deps/undici") ? "undici (node's own, under fetch)" : "node internals"
  if (file === undefined) return "other"
  const rel = Path.relative(root, file)
  if (rel.startsWith("dist/")) return "claude-resilience (dist/)"
  if (rel.startsWith("test/")) return "the benchmark itself"
  const parts = rel.split(Path.sep)
  const at = parts.lastIndexOf("node_modules")
  if (at >= 0) {
    const name = parts[at + 1] ?? "?"
    return name.startsWith("@") ? `${name}/${parts[at + 2] ?? "?"}` : name
  }
  return "other"
}

/** A readable location; for `dist/`, the original `src/` line. */
const locate = (frame: CallFrame): { readonly location: string; readonly pkg: string } => {
  const { url } = frame
  const line = frame.lineNumber + 1
  if (url === "") return { location: "", pkg: packageOf(url, undefined) }
  if (url.startsWith("node:") || url.startsWith("wasm:")) return { location: `${url}:${line}`, pkg: packageOf(url, undefined) }
  let file: string | undefined
  try {
    file = url.startsWith("file:") ? fileURLToPath(url) : url
  } catch {
    file = undefined
  }
  const pkg = packageOf(url, file)
  if (file === undefined) return { location: `${url}:${line}`, pkg }
  const rel = Path.relative(root, file)
  if (rel.startsWith("dist/") && frame.lineNumber >= 0) {
    const entry = sourceMapOf(file)?.findEntry(frame.lineNumber, Math.max(0, frame.columnNumber)) as
      | { readonly originalSource?: string; readonly originalLine?: number }
      | undefined
    if (entry?.originalSource !== undefined && entry.originalLine !== undefined) {
      const source = entry.originalSource.startsWith("file:")
        ? fileURLToPath(entry.originalSource)
        : Path.resolve(Path.dirname(file), entry.originalSource)
      return { location: `${Path.relative(root, source)}:${entry.originalLine + 1}`, pkg }
    }
  }
  const short = rel.replace(/^(?:.*\/)?node_modules\//, "").replace("/dist/esm/", "/…/").replace("/dist/cjs/", "/…/")
  return { location: `${short}:${line}`, pkg }
}

/** Self time per function and per package, over the samples in `window` (all of them without one). */
export const summarize = (
  profile: CpuProfile,
  window?: { readonly start: number; readonly end: number }
): Summary => {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]))
  // sample i happens at startTime + Σ timeDeltas[0..i] and stands for the
  // interval up to the next sample
  const times: Array<number> = []
  let t = profile.startTime
  for (const delta of profile.timeDeltas) {
    t += delta
    times.push(t)
  }
  const windowed = window !== undefined && window.start >= profile.startTime && window.end <= profile.endTime + 1_000
  const selfByNode = new Map<number, number>()
  let total = 0
  let samples = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const at = times[i]!
    if (windowed && (at < window.start || at > window.end)) continue
    const next = i + 1 < times.length ? times[i + 1]! : profile.endTime
    const span = Math.max(0, next - at)
    const id = profile.samples[i]!
    selfByNode.set(id, (selfByNode.get(id) ?? 0) + span)
    total += span
    samples++
  }
  const byFunction = new Map<string, { name: string; location: string; pkg: string; self: number }>()
  const byPackage = new Map<string, number>()
  for (const [id, self] of selfByNode) {
    const frame = nodes.get(id)!.callFrame
    const { location, pkg } = locate(frame)
    const name = frame.functionName === "" ? "(anonymous)" : frame.functionName
    const key = `${name}\u0000${location}`
    const row = byFunction.get(key) ?? { name, location, pkg, self: 0 }
    row.self += self
    byFunction.set(key, row)
    const group = frame.url === "" ? name.startsWith("(") ? name : "(V8 and native)" : pkg
    byPackage.set(group, (byPackage.get(group) ?? 0) + self)
  }
  const percent = (x: number) => (total === 0 ? 0 : (x * 100) / total)
  // the innermost dist/ frame above each sampled node
  const parents = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id)
  const isOurs = (id: number) => {
    const url = nodes.get(id)!.callFrame.url
    return url.startsWith("file:") && url.includes("/dist/") && !url.includes("/node_modules/")
  }
  const innermost = (id: number): number | undefined => {
    for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) if (isOurs(at)) return at
    return undefined
  }
  const byOurs = new Map<string, { name: string; location: string; pkg: string; self: number }>()
  for (const [id, self] of selfByNode) {
    const owner = innermost(id)
    const frame = owner === undefined ? undefined : nodes.get(owner)!.callFrame
    const { location, pkg } = frame === undefined ? { location: "", pkg: "" } : locate(frame)
    const name = frame === undefined
      ? "(no library frame on the stack)"
      : frame.functionName === ""
      ? "(anonymous)"
      : frame.functionName
    const key = `${name}\u0000${location}`
    const row = byOurs.get(key) ?? { name, location, pkg, self: 0 }
    row.self += self
    byOurs.set(key, row)
  }
  const rows = (map: Map<string, { name: string; location: string; pkg: string; self: number }>) =>
    [...map.values()]
      .sort((a, b) => b.self - a.self)
      .map((row) => ({
        name: row.name,
        location: row.location,
        pkg: row.pkg,
        selfMs: row.self / 1000,
        percent: percent(row.self)
      }))
  return {
    totalMs: total / 1000,
    samples,
    windowed,
    functions: rows(byFunction),
    ours: rows(byOurs),
    packages: [...byPackage.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([pkg, self]) => ({ pkg, selfMs: self / 1000, percent: percent(self) }))
  }
}

export const readProfile = (path: string): CpuProfile => JSON.parse(readFileSync(path, "utf8")) as CpuProfile
