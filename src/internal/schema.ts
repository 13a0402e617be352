/**
 * The building blocks of the wire schemas (`Messages`): open structs that
 * keep the fields they do not name, exact optional fields, unions told apart
 * by a `type` that is guarded first (so decoding stays total), the wrapper
 * of an unknown union member, and closed request params with their
 * `extraParams` escape hatch.
 *
 * @internal
 */
import * as Schema from "effect/Schema"
import { closest, describeValue } from "./text.js"

/**
 * Any JSON value, kept as is (`unknown`).
 *
 * @internal
 */
export const JsonValue: Schema.Schema<unknown> = Schema.Unknown.annotations({
  identifier: "JsonValue",
  arbitrary: () => (fc) => fc.jsonValue({ maxDepth: 2 })
})

/**
 * A field name of an open object. Generated names exclude `__proto__`: Effect
 * rebuilds decoded objects by assignment, and assigning `__proto__` sets the
 * prototype instead of adding the field, so a wire field of that name is not
 * kept.
 *
 * @internal
 */
export const FieldName = Schema.String.annotations({
  arbitrary: () => (fc) => fc.string().filter((name) => name !== "__proto__")
})

/**
 * Unnamed fields of an open object, kept as JSON.
 *
 * @internal
 */
export const OtherFields = Schema.Record({ key: FieldName, value: JsonValue })

/**
 * A token count or a request count: a number on the wire (natural numbers in
 * generated values).
 *
 * @internal
 */
export const Count = Schema.Number.annotations({ arbitrary: () => (fc) => fc.nat() })

/**
 * A struct that keeps the fields it does not name, on decode and on encode.
 *
 * @internal
 */
export const open = <Fields extends Schema.Struct.Fields>(fields: Fields) =>
  Schema.Struct(fields).annotations({ parseOptions: { onExcessProperty: "preserve" } })

/**
 * An optional field, absent (never `undefined`) when not given.
 *
 * @internal
 */
export const opt = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { exact: true })

/**
 * An optional field that may also be `null`.
 *
 * @internal
 */
export const optNull = <S extends Schema.Schema.All>(schema: S) =>
  Schema.optionalWith(Schema.NullOr(schema), { exact: true })

/**
 * Whether `n` is a finite integer.
 *
 * @internal
 */
export const isFiniteInteger = (n: number): boolean => Number.isFinite(n) && Number.isInteger(n)

/**
 * A number param, checked for values that cannot be right (NaN, ±Infinity,
 * out of range): `ok` says which are right, `rule` says so in the message.
 *
 * @internal
 */
export const checkedNumber = (name: string, rule: string, ok: (n: number) => boolean) =>
  Schema.Number.pipe(
    Schema.filter((n) => ok(n) || `${name} must be ${rule}; got ${describeValue(n)}`)
  ).annotations({ identifier: name })

/**
 * Whether `u` is an object (arrays included), not `null`.
 *
 * @internal
 */
export const isObject = (u: unknown): u is object => typeof u === "object" && u !== null

const hasStringTypeIfAny = (u: unknown): boolean =>
  !isObject(u) || !Object.prototype.hasOwnProperty.call(u, "type") ||
  typeof (u as { readonly type: unknown }).type === "string"

/**
 * A union whose members are told apart by their `type`. `Schema.Union` picks
 * its candidates with `String(input.type)`, which throws on a JSON object
 * such as `{"toString":0}`: the guard rejects a `type` that is not a string
 * first, so decoding stays total (a `ParseError`, never a throw).
 *
 * @internal
 */
export const typeUnion = <Members extends ReadonlyArray<Schema.Schema.Any>>(...members: Members) => {
  const union = Schema.Union(...members)
  const guard = Schema.declare(
    (u: unknown): u is Schema.Schema.Encoded<Members[number]> => hasStringTypeIfAny(u),
    {
      identifier: "StringType",
      message: (issue) =>
        `"type" must be a string; got ${
          describeValue(isObject(issue.actual) ? (issue.actual as { type?: unknown }).type : undefined)
        }`
    }
  )
  return Schema.compose(guard, union)
}

/**
 * The member of a union for a `type` none of `known` is: the wire object
 * (`{ type, …fields }`) decoded to `{ type: "unknown", raw }` and encoded
 * back to `raw`. A known `type` is refused here, so that an object of a known
 * type with the wrong shape is a `ParseError`, not an unknown member.
 *
 * @internal
 */
export const unknownMember = (known: ReadonlyArray<string>, what: string, identifier: string) => {
  const knownSet = new Set(known)
  const Raw = Schema.Struct(
    {
      type: Schema.String.pipe(
        Schema.filter((type) => !knownSet.has(type), {
          message: (issue) =>
            `${describeValue(issue.actual)} is a known ${what} type; its fields do not match its schema`
        })
      )
    },
    OtherFields
  )
  return Schema.transform(
    Raw,
    Schema.Struct({ type: Schema.Literal("unknown"), raw: Schema.typeSchema(Raw) }),
    {
      strict: true,
      decode: (raw) => ({ type: "unknown" as const, raw }),
      encode: (unknown) => unknown.raw
    }
  ).annotations({ identifier })
}

/**
 * Params a version does not name yet, sent as given: the `extraParams` of a
 * {@link closedParams} struct.
 *
 * @internal
 */
export const ExtraParams = Schema.Record({ key: FieldName, value: JsonValue }).annotations({
  identifier: "ExtraParams"
})

/**
 * A closed params struct: the fields it names (each checked) plus
 * `extraParams`, whose keys are merged into the wire object on encode. On
 * decode, the wire fields it does not name are gathered into `extraParams`.
 * A field that is neither named nor in `extraParams` is rejected with a
 * message that names it (and the named field it is closest to).
 *
 * @internal
 */
export const closedParams = <Fields extends Schema.Struct.Fields>(fields: Fields, identifier: string) => {
  const names = Object.keys(fields)
  const named = new Set([...names, "extraParams"])
  const Typed = Schema.Struct({ ...fields, extraParams: Schema.optional(ExtraParams) }).annotations({
    // keep unknown keys on the type side, so that the filter below sees them
    parseOptions: { onExcessProperty: "preserve" }
  }).pipe(
    Schema.filter((params) => {
      for (const key of Object.keys(params)) {
        if (!named.has(key)) {
          const near = closest(key, names)
          return {
            path: [key],
            message: `${describeValue(key)} is not a param of ${identifier}${
              near === undefined ? "" : ` (did you mean ${near}?)`
            }: pass a param this version does not know in extraParams (Messages.withExtraParams)`
          }
        }
      }
      const extra: unknown = (params as { readonly extraParams?: unknown }).extraParams
      if (isObject(extra)) {
        for (const key of Object.keys(extra)) {
          if (named.has(key)) {
            return {
              path: ["extraParams", key],
              message: `${describeValue(key)} is a named param of ${identifier}: set it directly, not in extraParams`
            }
          }
        }
      }
      return true
    })
  )
  return Schema.transform(OtherFields, Typed, {
    strict: false,
    decode: (wire) => {
      const own: Record<string, unknown> = {}
      const extra: Record<string, unknown> = {}
      for (const key of Object.keys(wire)) {
        if (named.has(key) && key !== "extraParams") own[key] = wire[key]
        else extra[key] = wire[key]
      }
      return Object.keys(extra).length > 0 ? { ...own, extraParams: extra } : own
    },
    encode: (params) => {
      const { extraParams, ...own } = params as { readonly extraParams?: Readonly<Record<string, unknown>> }
      return extraParams === undefined ? own : { ...own, ...extraParams }
    }
  }).annotations({ identifier })
}
