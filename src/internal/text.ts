/**
 * The text of error messages, shared by every module: how a value is shown,
 * how a count is worded, how a string from the wire is made safe to print,
 * and the "did you mean" of a misspelt name.
 *
 * @internal
 */
import * as Duration from "effect/Duration"

/** The longest {@link describeValue} result, before its `…`. */
const maxDescription = 80

/**
 * A URL for an error message: anything before its last `@` (the user info,
 * where a password is) replaced by `[redacted]`, JSON-quoted, at most 200
 * characters. For a URL that may not parse, so it is cut as text.
 *
 * @internal
 */
export const describeUrl = (raw: string): string =>
  // up to the last "@": a password may hold "/", "?" or "#" unescaped
  JSON.stringify(raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)?.*@/is, "$1[redacted]@").slice(0, 200))

/**
 * A short, readable rendering of a value for an error message: strings
 * JSON-quoted, numbers and booleans as written, a bigint as `5n`, a
 * `Duration` formatted (`"1s 500ms"`, `"Infinity"`), arrays item by item,
 * `null` and `undefined` as written, a function as `a function`, anything
 * else by its `typeof` (an object's contents are never printed). At most 80
 * characters (then `…`). Never throws: an array that contains itself is
 * shown as `[…]` where it recurs, and a Proxy whose traps throw by its
 * `typeof`.
 *
 * @internal
 */
export const describeValue = (value: unknown): string => {
  let text: string
  try {
    text = describe(value, [])
  } catch {
    // a Proxy whose traps throw
    text = typeof value
  }
  return clip(text, maxDescription)
}

const describe = (value: unknown, enclosing: ReadonlyArray<unknown>): string => {
  if (typeof value === "string") return JSON.stringify(value.length > maxDescription ? value.slice(0, maxDescription) : value)
  if (typeof value === "number" || typeof value === "boolean") return String(value)
  if (typeof value === "bigint") return `${value}n`
  if (typeof value === "function") return "a function"
  if (value === null) return "null"
  if (Duration.isDuration(value)) return Duration.format(value)
  if (Array.isArray(value)) {
    if (enclosing.includes(value)) return "[…]"
    const inner = [...enclosing, value]
    const items: Array<string> = []
    let length = 0
    // stop once the rendering is past what will be shown
    for (const item of value) {
      if (length > maxDescription) break
      const shown = describe(item, inner)
      items.push(shown)
      length += shown.length + 2
    }
    return `[${items.join(", ")}${items.length < value.length ? ", …" : ""}]`
  }
  return typeof value
}

/**
 * `s` cut to `max` characters, with `…` when it was longer.
 *
 * @internal
 */
export const clip = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max)}…` : s)

/**
 * A count and its noun: `1 event`, `2 events`, `0 blocks`.
 *
 * @internal
 */
export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`

// C0 and C1 controls, DEL, and the invisible format characters a hostile
// server could use to forge, hide or reorder text in a log line: zero-width
// marks, bidi embeddings, overrides and isolates, line and paragraph
// separators, the BOM
// eslint-disable-next-line no-control-regex
const unsafeCharacters = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]+/g

/**
 * A string from the wire made safe to print on one log line: every run of
 * control or invisible format characters (see above) becomes one space.
 *
 * @internal
 */
export const scrub = (text: string): string => text.replace(unsafeCharacters, " ")

/**
 * A wire string for an error message: JSON-quoted (so what is left of its
 * control characters is escaped), at most 120 characters.
 *
 * @internal
 */
export const quote = (s: string): string => {
  const json = JSON.stringify(s)
  return json.length > 120 ? `${json.slice(0, 119)}…"` : json
}

/** The edit distance of two short names (insertions, deletions, substitutions). */
const editDistance = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1))
      previous = current
    }
  }
  return row[b.length]!
}

/**
 * The name of `names` closest to a misspelt `key` (case ignored), if one is
 * close enough to be what was meant: at most one edit per three characters
 * of the longer of the two (one edit at least), so that a name with a
 * suffix added (`percentage` for `percent`) is still recognised. `undefined` for a key over 64 characters
 * (no name is that long, and the distance costs its length times theirs).
 *
 * @internal
 */
export const closest = (key: string, names: ReadonlyArray<string>): string | undefined => {
  if (key.length > 64) return undefined
  const lower = key.toLowerCase()
  const near = names
    .map((name) => [name, editDistance(lower, name.toLowerCase())] as const)
    .filter(([name, d]) => d <= Math.max(1, Math.floor(Math.max(name.length, key.length) / 3)))
    .sort((x, y) => x[1] - y[1])[0]
  return near?.[0]
}

/**
 * Which response an error is about: `message "msg_…", model "claude-…"`.
 *
 * @internal
 */
export const whose = (message: { readonly id: string; readonly model: string }): string =>
  `message ${quote(message.id)}, model ${quote(message.model)}`

const identifierKey = /^[A-Za-z_$][\w$]*$/

/**
 * A path into a value, written the way it would be read in code, after
 * `root`: `root.location.city`, `root.days[2]`, `root["first name"]`; with
 * no root, `messages[0].content[1].text`. A symbol key is written as its
 * description, quoted.
 *
 * @internal
 */
export const formatPath = (path: ReadonlyArray<PropertyKey>, root = ""): string => {
  const written = path.reduce<string>(
    (out, key) =>
      typeof key === "number"
        ? `${out}[${key}]`
        : typeof key === "string" && identifierKey.test(key)
        ? `${out}.${key}`
        : `${out}[${JSON.stringify(String(key))}]`,
    root
  )
  return root === "" ? written.replace(/^\./, "") : written
}
