import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { ToolInput } from "../src/index.js"
import { body, decode, failure, text, toolUse } from "./support/semantic.js"

// ---------------------------------------------------------------------------
// tool inputs
// ---------------------------------------------------------------------------

const Weather = Schema.Struct({
  location: Schema.Struct({ city: Schema.String, country: Schema.optional(Schema.String) }),
  days: Schema.Array(Schema.Number),
  units: Schema.optional(Schema.Literal("metric", "imperial"))
})

describe("decodeToolInputs", () => {
  it("decodes every block of the tool, in order, with its id and index", () => {
    const message = decode(body("tool_use", [
      text("Checking."),
      toolUse("toolu_1", "get_weather", { location: { city: "Paris" }, days: [1, 2] }),
      toolUse("toolu_2", "get_time", { zone: "CET" }),
      toolUse("toolu_3", "get_weather", { location: { city: "Lyon", country: "FR" }, days: [], units: "metric" })
    ]))
    expect(Effect.runSync(ToolInput.decodeToolInputs(message, "get_weather", Weather))).toEqual([
      { id: "toolu_1", name: "get_weather", index: 1, input: { location: { city: "Paris" }, days: [1, 2] } },
      {
        id: "toolu_3",
        name: "get_weather",
        index: 3,
        input: { location: { city: "Lyon", country: "FR" }, days: [], units: "metric" }
      }
    ])
  })

  it("gives the schema's decoded type (transformations apply)", () => {
    const message = decode(body("tool_use", [toolUse("toolu_1", "count", { n: "42" })]))
    const calls = Effect.runSync(ToolInput.decodeToolInputs("count", Schema.Struct({ n: Schema.NumberFromString }))(message))
    expect(calls.map((c) => c.input.n)).toEqual([42])
  })

  it("no block of that tool: an empty array", () => {
    const message = decode(body("end_turn", [text("no tools")]))
    expect(Effect.runSync(ToolInput.decodeToolInputs(message, "get_weather", Weather))).toEqual([])
  })

  it("a nested field: the tool, the tool_use id, the path", () => {
    const message = decode(body("tool_use", [
      toolUse("toolu_1", "get_weather", { location: { city: "Paris" }, days: [1] }),
      toolUse("toolu_2", "get_weather", { location: { city: 75 }, days: [1] })
    ]))
    const error = failure(ToolInput.decodeToolInputs(message, "get_weather", Weather))
    expect(error).toBeInstanceOf(ToolInput.ToolInputSchemaError)
    expect(error).toMatchObject({
      toolName: "get_weather",
      toolUseId: "toolu_2",
      index: 1,
      path: ["location", "city"],
      field: "input.location.city",
      messageId: "msg_01XFDUDYJgAACzvnptvVoYEL",
      model: "claude-sonnet-5-5"
    })
    expect(error.message).toBe(
      `The input of tool "get_weather" (tool_use "toolu_2", message "msg_01XFDUDYJgAACzvnptvVoYEL", model "claude-sonnet-5-5") does not match its schema at input.location.city: Expected string, actual 75`
    )
    expect(error.reason).toContain("city")
  })

  it("an array element, a missing field, an unexpected literal, the input itself", () => {
    const at = (input: unknown) =>
      failure(ToolInput.decodeToolInputs(decode(body("tool_use", [toolUse("t", "get_weather", input)])), "get_weather", Weather))
    expect(at({ location: { city: "Paris" }, days: [1, "two"] })).toMatchObject({ path: ["days", 1], field: "input.days[1]" })
    expect(at({ location: { city: "Paris" } })).toMatchObject({ path: ["days"], field: "input.days" })
    expect(at({ location: { city: "Paris" }, days: [], units: "kelvin" })).toMatchObject({ path: ["units"] })
    expect(at("Paris")).toMatchObject({ path: [], field: "input" })
  })

  it("a key that is not an identifier is quoted in the field", () => {
    const schema = Schema.Struct({ "first name": Schema.String })
    const error = failure(ToolInput.decodeToolInputs(decode(body("tool_use", [toolUse("t", "person", {})])), "person", schema))
    expect(error).toMatchObject({ path: ["first name"], field: `input["first name"]` })
  })
})

describe("validateToolInput", () => {
  it("passes the message through when every input matches", () => {
    const message = decode(body("tool_use", [toolUse("toolu_1", "get_weather", { location: { city: "Paris" }, days: [] })]))
    expect(Effect.runSync(Effect.succeed(message).pipe(ToolInput.validateToolInput("get_weather", Weather)))).toBe(message)
  })

  it("fails with ToolInputSchemaError otherwise; data-first too", () => {
    const message = decode(body("tool_use", [toolUse("toolu_9", "get_weather", { location: {}, days: [] })]))
    expect(failure(ToolInput.validateToolInput(Effect.succeed(message), "get_weather", Weather))).toMatchObject({
      _tag: "ToolInputSchemaError",
      toolUseId: "toolu_9",
      path: ["location", "city"]
    })
  })
})

describe("formatPath", () => {
  it("writes a path the way it would be read in code", () => {
    expect(ToolInput.formatPath([])).toBe("input")
    expect(ToolInput.formatPath(["a", 0, "b_c", "$d"])).toBe("input.a[0].b_c.$d")
    expect(ToolInput.formatPath(["x-y", "1a", ""])).toBe(`input["x-y"]["1a"][""]`)
  })
})
