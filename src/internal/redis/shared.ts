/**
 * State shared through Redis, with this process's copy to fall back on: a
 * store of one JSON value per key, updated by compare-and-set (a Lua
 * script that writes only if the value's version token is the one read),
 * and mirrored in a local `Ref` after each successful read or write, so
 * that when Redis cannot be reached the process goes on at once from the
 * last state it saw.
 *
 * No `ioredis` here: the client is a {@link RawClient} the `Redis` module
 * builds (loading `ioredis` dynamically).
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import { describeValue, isPlainObject } from "../options.js"
import { InvalidOptionsError, type Problem } from "../../Options.js"

/** What the stores need of a Redis client; every call is bounded by the client's command timeout. */
/** @internal */
export interface RawClient {
  readonly get: (key: string) => Promise<string | null>
  readonly cas: (
    key: string,
    expected: string,
    token: string,
    value: string,
    ttlMillis: number
  ) => Promise<CasResult>
  readonly ping: () => Promise<void>
  readonly close: () => void
}

/** @internal */
export type CasResult = { readonly _tag: "Written" } | { readonly _tag: "Conflict"; readonly current: string | null }

/** Redis could not serve a command; the connection has switched to local state. */
/** @internal */
export interface Unavailable {
  readonly _tag: "Unavailable"
  readonly reason: string
}

/** The connection as the stores use it. */
/** @internal */
export interface Connection {
  /** Whether commands go to Redis now (`false`: the process runs on its local state). */
  readonly shared: Effect.Effect<boolean>
  /** Runs one command; a failure switches the connection to local state (logged, counted, published). */
  readonly run: <A>(command: (client: RawClient) => Promise<A>) => Effect.Effect<A, Unavailable>
  /** The full key of `part` under `namespace`. */
  readonly key: (namespace: string, part: string) => string
  /** A new version token, unique across processes. */
  readonly token: () => string
  /** This process's id, unique across processes (the owner of its probe leases). */
  readonly owner: string
}

/** A value's JSON and back; `undefined` for a value that does not decode (read as no value). */
/** @internal */
export interface Codec<S> {
  readonly encode: (state: S) => string
  readonly decode: (json: string) => S | undefined
}

/**
 * A codec through a Schema whose encoded side is plain JSON.
 *
 * @internal
 */
export const jsonCodec = <S, I>(schema: Schema.Schema<S, I>): Codec<S> => {
  const encode = Schema.encodeSync(schema)
  const decode = Schema.decodeUnknownOption(schema)
  return {
    encode: (state) => JSON.stringify(encode(state)),
    decode: (json) => {
      try {
        return Option.getOrUndefined(decode(JSON.parse(json)))
      } catch {
        return undefined
      }
    }
  }
}

/** @internal */
export interface SharedStore<S> {
  readonly get: Effect.Effect<S>
  readonly modify: <B>(f: (state: S) => readonly [B, S]) => Effect.Effect<B>
}

/** Compare-and-set attempts before an update under heavy contention is made on the local copy. */
const MAX_ATTEMPTS = 1_000

const parse = <S>(raw: string | null, codec: Codec<S>, initial: S): readonly [token: string, state: S] => {
  if (raw === null) return ["", initial]
  const bar = raw.indexOf("|")
  if (bar < 0) return [raw, initial]
  const decoded = codec.decode(raw.slice(bar + 1))
  return [raw.slice(0, bar), decoded === undefined ? initial : decoded]
}

/**
 * A store of one value under `key`, shared through Redis while it can be
 * reached, on `local` otherwise. `modify(f)` reads the value and its
 * version token, applies `f` (pure, perhaps more than once), and writes
 * the result only if the token has not moved meanwhile (else again, from
 * the value the script returned); an `f` that returns its state unchanged
 * writes nothing. The key's TTL is set at every write from `ttl(state,
 * now)`, `now` from `Clock`.
 *
 * @internal
 */
export const sharedStore = <S>(options: {
  readonly connection: Connection
  readonly key: string
  readonly codec: Codec<S>
  readonly initial: S
  readonly local: Ref.Ref<S>
  readonly ttl: (state: S, now: number) => number
}): SharedStore<S> => {
  const { codec, connection, initial, key, local, ttl } = options

  const onLocal = <B>(seen: S | undefined, f: (state: S) => readonly [B, S]): Effect.Effect<B> =>
    seen === undefined ? Ref.modify(local, f) : Ref.modify(local, () => f(seen))

  const get: Effect.Effect<S> = Effect.flatMap(connection.shared, (shared) =>
    shared
      ? Effect.matchEffect(connection.run((client) => client.get(key)), {
        onFailure: () => Ref.get(local),
        onSuccess: (raw) => {
          const [, state] = parse(raw, codec, initial)
          return Effect.as(Ref.set(local, state), state)
        }
      })
      : Ref.get(local))

  const modify = <B>(f: (state: S) => readonly [B, S]): Effect.Effect<B> =>
    Effect.gen(function*() {
      let known: string | null | undefined = undefined
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        if (!(yield* connection.shared)) return yield* Ref.modify(local, f)
        let raw: string | null
        if (known !== undefined) {
          raw = known
        } else {
          const read = yield* Effect.either(connection.run((client) => client.get(key)))
          if (Either.isLeft(read)) return yield* Ref.modify(local, f)
          raw = read.right
        }
        const [token, state]: readonly [string, S] = parse(raw, codec, initial)
        const [result, next]: readonly [B, S] = f(state)
        if (next === state) {
          yield* Ref.set(local, state)
          return result
        }
        const now = yield* Clock.currentTimeMillis
        const value = codec.encode(next)
        const written: Either.Either<CasResult, Unavailable> = yield* Effect.either(
          connection.run((client) => client.cas(key, token, connection.token(), value, ttl(next, now)))
        )
        // Redis went away between the read and the write: the update is made on the state just read
        if (Either.isLeft(written)) return yield* onLocal(state, f)
        if (written.right._tag === "Written") {
          yield* Ref.set(local, next)
          return result
        }
        known = written.right.current
      }
      yield* Effect.logWarning(`claude-resilience: ${MAX_ATTEMPTS} concurrent updates of a shared state in a row; this update is made on the local copy`)
      return yield* Ref.modify(local, f)
    })

  return { get, modify }
}

// ---------------------------------------------------------------------------
// options: a namespace, and the module's own options
// ---------------------------------------------------------------------------

/**
 * The part of a `layerRedis`'s options that says where in Redis the state
 * lives: `namespace`, a non-empty string of at most 200 characters without
 * `{` or `}`. Every process that uses the same namespace shares the state;
 * two namespaces never touch.
 *
 * @internal
 */
export interface RedisStoreOptions {
  readonly namespace: string
}

const NAMESPACE_MAX = 200

const namespaceProblem = (value: unknown): string | undefined =>
  typeof value === "string" && value.length > 0 && value.length <= NAMESPACE_MAX && !/[{}]/.test(value)
    ? undefined
    : `must be a non-empty string of at most ${NAMESPACE_MAX} characters without { or }, got ${describeValue(value)}`

/**
 * Decodes `{ namespace, ...rest }`: the namespace here, the rest with the
 * module's own decoder, every problem of both in one
 * `InvalidOptionsError`. `refused` keys (a `store`: the store is Redis)
 * are problems too.
 *
 * @internal
 */
export const decodeRedisOptions = <S>(
  module: string,
  decodeRest: (rest: unknown) => Either.Either<S, InvalidOptionsError>,
  refused: ReadonlyArray<string> = []
) =>
(options: unknown): Effect.Effect<{ readonly namespace: string; readonly settings: S }, InvalidOptionsError> =>
  Effect.suspend(() => {
    if (!isPlainObject(options)) {
      return Effect.fail(
        InvalidOptionsError.of(module, [{ path: "", message: `options must be an object, got ${describeValue(options)}` }])
      )
    }
    const problems: Array<Problem> = []
    let namespace: unknown = undefined
    const rest: Record<string, unknown> = {}
    try {
      const descriptors = Object.getOwnPropertyDescriptors(options)
      for (const [name, descriptor] of Object.entries(descriptors)) {
        if (name === "namespace") continue
        if (refused.includes(name)) {
          problems.push({ path: name, message: "is not an option here: the state is kept in Redis" })
          continue
        }
        Object.defineProperty(rest, name, { ...descriptor, configurable: true })
      }
      namespace = options.namespace
    } catch {
      problems.push({ path: "namespace", message: "could not be read (its getter threw)" })
    }
    const problem = problems.some((p) => p.path === "namespace") ? undefined : namespaceProblem(namespace)
    if (problem !== undefined) problems.push({ path: "namespace", message: problem })
    const decoded = decodeRest(rest)
    if (Either.isLeft(decoded)) problems.push(...decoded.left.problems)
    return problems.length > 0 || Either.isLeft(decoded)
      ? Effect.fail(InvalidOptionsError.of(module, problems))
      : Effect.succeed({ namespace: namespace as string, settings: decoded.right })
  })
