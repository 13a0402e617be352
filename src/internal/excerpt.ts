/**
 * A short, readable excerpt of an error body that is not JSON (an HTML error
 * page from the edge or a proxy, a proxy's plain text), for the message of
 * the error it decodes to. Linear in its input, bounded in its output, and
 * safe to print: no markup, no control or invisible format characters.
 *
 * @internal
 */
import * as Option from "effect/Option"
import { scrub } from "./text.js"


/** How much of a non-JSON body the excerpt is taken from, and its longest length. */
const EXCERPT_SCAN = 16 * 1024
const EXCERPT_LENGTH = 200

const namedEntities: { readonly [name: string]: string } = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: "\"",
  apos: "'",
  nbsp: " "
}

const decodeEntities = (text: string): string =>
  text.replace(/&(?:#(\d{1,7})|#x([0-9a-f]{1,6})|([a-z]{2,5}));/gi, (entity, dec?: string, hex?: string, name?: string) => {
    if (name !== undefined) return namedEntities[name.toLowerCase()] ?? entity
    const code = dec !== undefined ? Number(dec) : parseInt(hex!, 16)
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity
  })

const tagStart = /[a-z/!?]/i

/**
 * The text of an HTML fragment: tags, comments, scripts and styles removed.
 * Linear in its input: every search starts where the last one ended.
 */
const stripTags = (html: string): string => {
  let out = ""
  let i = 0
  while (i < html.length) {
    const open = html.indexOf("<", i)
    if (open < 0 || open + 1 >= html.length) {
      out += html.slice(i)
      break
    }
    if (!tagStart.test(html[open + 1]!)) {
      // "a < b" in plain text is no tag
      out += html.slice(i, open + 1)
      i = open + 1
      continue
    }
    out += `${html.slice(i, open)} `
    let end: number
    const head = html.slice(open, open + 8)
    const raw = /^<(script|style)\b/i.exec(head)
    if (head.startsWith("<!--")) {
      const close = html.indexOf("-->", open + 4)
      end = close < 0 ? html.length : close + 3
    } else if (raw !== null) {
      const closing = new RegExp(`</${raw[1]}\\s*>`, "gi")
      closing.lastIndex = open + raw[0].length
      const close = closing.exec(html)
      end = close === null ? html.length : close.index + close[0].length
    } else {
      const close = html.indexOf(">", open + 1)
      end = close < 0 ? html.length : close + 1
    }
    i = end
  }
  return out
}

/** The content of the first `<title>…</title>`, if there is one. */
const titleOf = (html: string): Option.Option<string> => {
  const open = /<title\b/i.exec(html)
  if (open === null) return Option.none()
  const start = html.indexOf(">", open.index)
  if (start < 0) return Option.none()
  const closing = /<\/title\s*>/gi
  closing.lastIndex = start + 1
  const close = closing.exec(html)
  return close === null ? Option.none() : Option.some(html.slice(start + 1, close.index))
}

// a surrogate without its pair (a body cut in the middle of a character)
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

const sanitize = (text: string): string =>
  scrub(decodeEntities(text)).replace(loneSurrogate, "\ufffd").replace(/\s+/g, " ").trim()

/**
 * A short, readable excerpt of a body that is not JSON (an HTML error page,
 * a proxy's plain text): the page's `<title>` if it has a non-empty one,
 * else the start of its text, tags removed; entities decoded, control and
 * invisible format characters removed, whitespace collapsed, at most 200
 * characters. Read from the body's first 16 KiB only.
 *
 * @internal
 */
export const excerpt = (body: string): Option.Option<string> => {
  const head = body.slice(0, EXCERPT_SCAN)
  const text = titleOf(head).pipe(
    Option.map((title) => sanitize(stripTags(title))),
    Option.filter((title) => title.length > 0),
    Option.getOrElse(() => sanitize(stripTags(head)))
  )
  if (text.length === 0) return Option.none()
  // count and cut in code points, never inside a surrogate pair; 2 code
  // units per point at most, so this head holds more than 200 points when the text does
  const points = Array.from(text.slice(0, 2 * EXCERPT_LENGTH + 2))
  return Option.some(
    points.length > EXCERPT_LENGTH ? `${points.slice(0, EXCERPT_LENGTH).join("")}…` : points.join("")
  )
}
