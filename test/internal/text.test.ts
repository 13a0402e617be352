import { describe, expect, it } from "@effect/vitest"
import { Duration, FastCheck as fc } from "effect"
import { clip, closest, describeValue, formatPath, plural, quote, scrub } from "../../src/internal/text.js"

describe("internal/text: describeValue", () => {
  it.each<readonly [string, unknown, string]>([
    ["a string, JSON-quoted", "5 parsecs", `"5 parsecs"`],
    ["a string with a quote, escaped", `say "hi"`, `"say \\"hi\\""`],
    ["a number", -0.3, "-0.3"],
    ["NaN", Number.NaN, "NaN"],
    ["Infinity", Number.POSITIVE_INFINITY, "Infinity"],
    ["a boolean", false, "false"],
    ["a bigint, with its n", BigInt(-5), "-5n"],
    ["a Duration, formatted", Duration.millis(1500), "1s 500ms"],
    ["an infinite Duration", Duration.infinity, "Infinity"],
    ["an array, item by item", [-1, "x", [BigInt(2), true]], `[-1, "x", [2n, true]]`],
    ["a function", () => 1, "a function"],
    ["null", null, "null"],
    ["undefined", undefined, "undefined"],
    ["an object, by its typeof only", { apiKey: "sk-ant-secret" }, "object"],
    ["a symbol, by its typeof", Symbol("s"), "symbol"]
  ])("%s", (_, value, expected) => {
    expect(describeValue(value)).toBe(expected)
  })

  it("an array that contains itself is shown as […] where it recurs, without throwing", () => {
    const cyclic: Array<unknown> = [1]
    cyclic.push(cyclic)
    expect(describeValue(cyclic)).toBe("[1, […]]")
  })

  it("never throws and always returns a string of at most 81 characters", () => {
    fc.assert(fc.property(fc.anything(), (value) => {
      const text = describeValue(value)
      return typeof text === "string" && text.length <= 81
    }))
  })

  it("is bounded: a long string or a long array is cut at 80 characters, with …", () => {
    const long = describeValue("x".repeat(10_000))
    expect(long).toBe(`"${"x".repeat(79)}…`)
    const many = describeValue(Array.from({ length: 10_000 }, (_, i) => i))
    expect(many.length).toBe(81)
    expect(many.startsWith("[0, 1, 2, 3")).toBe(true)
    expect(many.endsWith("…")).toBe(true)
  })

  it("a Proxy whose traps throw is shown by its typeof", () => {
    const hostile = new Proxy([], { get: () => { throw new Error("trap") } })
    expect(describeValue(hostile)).toBe("object")
  })
})

describe("internal/text: plural, clip, quote", () => {
  it("words a count", () => {
    expect([0, 1, 2].map((n) => plural(n, "event"))).toEqual(["0 events", "1 event", "2 events"])
  })

  it("clips with … only when over the limit", () => {
    expect(clip("abc", 3)).toBe("abc")
    expect(clip("abcd", 3)).toBe("abc…")
  })

  it("quotes a wire string as JSON, at most 120 characters", () => {
    expect(quote("a\u0007b")).toBe(`"a\\u0007b"`)
    expect(quote("y".repeat(500))).toHaveLength(121)
  })
})

describe("internal/text: scrub", () => {
  it.each<readonly [string, string, string]>([
    ["C0 controls and DEL", "a\u0000b\u001bc\u007fd", "a b c d"],
    ["a forged log line", "ok\r\n[ERROR] forged", "ok [ERROR] forged"],
    ["C1 controls", "a\u0085b\u009bc", "a b c"],
    ["bidi overrides and isolates", "abc\u202edcba\u2066x\u2069", "abc dcba x "],
    ["zero-width marks and the BOM", "a\u200bb\ufeffc", "a b c"],
    ["line and paragraph separators", "a\u2028b\u2029c", "a b c"]
  ])("%s become one space per run", (_, input, expected) => {
    expect(scrub(input)).toBe(expected)
  })

  it("leaves printable text, accents and emoji alone", () => {
    expect(scrub("Überlastet — réessayez 🙂")).toBe("Überlastet — réessayez 🙂")
  })
})

describe("internal/text: closest", () => {
  const names = ["temperature", "system", "max_tokens", "maxRetries"]

  it.each<readonly [string, string | undefined]>([
    ["temprature", "temperature"],
    ["systme", "system"],
    ["MAX_TOKENS", "max_tokens"],
    ["maxRetires", "maxRetries"],
    ["colour", undefined],
    ["x".repeat(65), undefined]
  ])("%s ⇒ %s", (key, expected) => {
    expect(closest(key, names)).toBe(expected)
  })
})

describe("internal/text: formatPath", () => {
  it("writes a path the way it reads in code, with or without a root", () => {
    expect(formatPath(["messages", 0, "content", 1, "text"])).toBe("messages[0].content[1].text")
    expect(formatPath(["location", "city"], "input")).toBe("input.location.city")
    expect(formatPath(["first name", Symbol.for("s")], "input")).toBe(`input["first name"]["Symbol(s)"]`)
    expect(formatPath([], "input")).toBe("input")
    expect(formatPath([3])).toBe("[3]")
  })
})
