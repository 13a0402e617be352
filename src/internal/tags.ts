/**
 * Telling tagged values apart by their `_tag`.
 *
 * @internal
 */
import * as Predicate from "effect/Predicate"

/**
 * A guard for values whose `_tag` is one of `tags`. Total: anything else,
 * `null` and primitives included, is `false`.
 *
 * @internal
 */
export const hasTagIn = (tags: ReadonlySet<string>) => (u: unknown): boolean =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && tags.has(u._tag)
