/**
 * Keeping the client's secrets (the API key, credentials taken from the base
 * URL) out of everything that leaves a call: a server or proxy that echoes
 * one (in an error message, a `request-id`, a malformed body, any response
 * header) must not get it into an error, a log line or a span.
 *
 * @internal
 */
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"

/** @internal */
export const placeholder = "[redacted]"

/** @internal */
export interface Scrubber {
  /** Whether a string holds a secret. */
  readonly test: (s: string) => boolean
  /** The string with every secret replaced by {@link placeholder}. */
  readonly string: (s: string) => string
  /** A value with every string it holds (to a small depth) scrubbed; the same value when nothing changed. */
  readonly value: <A>(value: A) => A
  /** An error (a `Schema.TaggedError`) rebuilt, same class, with its fields scrubbed; the same error when clean. */
  readonly error: <E>(error: E) => E
  /** A tracer whose spans scrub every attribute and event attribute they are given. */
  readonly tracer: (inner: Tracer.Tracer) => Tracer.Tracer
}

/** @internal */
export const make = (secrets: ReadonlyArray<string>): Scrubber => {
  // longest first, so that a secret containing another is replaced whole
  const list = [...new Set(secrets.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length)
  const test = (s: string) => list.some((secret) => s.includes(secret))
  const string = (s: string): string => {
    let out = s
    for (const secret of list) {
      if (out.includes(secret)) out = out.split(secret).join(placeholder)
    }
    return out
  }
  const dirty = (u: unknown, depth: number): boolean => {
    if (typeof u === "string") return test(u)
    if (depth > 4 || u === null || typeof u !== "object") return false
    if (Option.isOption(u)) return Option.isSome(u) && dirty(u.value, depth + 1)
    if (Array.isArray(u)) return u.some((x) => dirty(x, depth + 1))
    if (Object.getPrototypeOf(u) === Object.prototype) return Object.values(u).some((x) => dirty(x, depth + 1))
    return false
  }
  const clean = (u: unknown, depth: number): unknown => {
    if (typeof u === "string") return string(u)
    if (!dirty(u, depth)) return u
    if (Option.isOption(u)) return Option.map(u, (x) => clean(x, depth + 1))
    if (Array.isArray(u)) return u.map((x) => clean(x, depth + 1))
    return Object.fromEntries(Object.entries(u as object).map(([k, x]) => [k, clean(x, depth + 1)]))
  }
  const value = <A>(a: A): A => clean(a, 0) as A
  const fieldsOf = (error: object): Record<string, unknown> => {
    const fields: Record<string, unknown> = {}
    for (const key of Object.keys(error)) {
      if (key !== "_tag") fields[key] = (error as Record<string, unknown>)[key]
    }
    if (Object.hasOwn(error, "message")) fields.message = (error as { message: unknown }).message
    return fields
  }
  const error = <E>(e: E): E => {
    if (list.length === 0 || e === null || typeof e !== "object") return e
    const fields = fieldsOf(e)
    if (!Object.values(fields).some((x) => dirty(x, 0))) return e
    const Class = (e as { constructor: new(fields: Record<string, unknown>, disableValidation: boolean) => E })
      .constructor
    const scrubbed = Object.fromEntries(Object.entries(fields).map(([k, x]) => [k, clean(x, 0)]))
    try {
      // a Schema.TaggedError: same class, fields as given, no validation
      return new Class(scrubbed, true)
    } catch {
      return e
    }
  }
  const attributes = (attrs: Record<string, unknown> | undefined) =>
    attrs === undefined ? attrs : Object.fromEntries(Object.entries(attrs).map(([k, x]) => [k, clean(x, 0)]))
  const wrapSpan = (span: Tracer.Span): Tracer.Span => ({
    _tag: "Span",
    get name() {
      return span.name
    },
    get spanId() {
      return span.spanId
    },
    get traceId() {
      return span.traceId
    },
    get parent() {
      return span.parent
    },
    get context() {
      return span.context
    },
    get status() {
      return span.status
    },
    get attributes() {
      return span.attributes
    },
    get links() {
      return span.links
    },
    get sampled() {
      return span.sampled
    },
    get kind() {
      return span.kind
    },
    end: (endTime, exit) => span.end(endTime, exit),
    attribute: (key, x) => span.attribute(key, clean(x, 0)),
    event: (name, startTime, attrs) => span.event(string(name), startTime, attributes(attrs)),
    addLinks: (links) => span.addLinks(links)
  })
  // one scrubbing tracer per inner tracer, built on first use: a call asks
  // for it each time it sends a request
  const tracers = new WeakMap<Tracer.Tracer, Tracer.Tracer>()
  const tracer = (inner: Tracer.Tracer): Tracer.Tracer => {
    if (list.length === 0) return inner
    let wrapped = tracers.get(inner)
    if (wrapped === undefined) {
      wrapped = Tracer.make({
        span: (name, parent, context, links, startTime, kind, options) =>
          wrapSpan(inner.span(name, parent, context, links, startTime, kind, options)),
        // the fiber runs under this frame: every sample of the call's work
        // shows it in a profile, which is not its cost (a call, no allocation)
        context: (f, fiber) => inner.context(f, fiber)
      })
      tracers.set(inner, wrapped)
    }
    return wrapped
  }
  return { test, string, value, error, tracer }
}
