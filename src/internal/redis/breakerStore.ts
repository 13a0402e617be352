/**
 * A circuit breaker's store in Redis: the state (window, open period,
 * half-open probes) as one JSON value, shared by every process of a
 * namespace, so that the fleet opens, half-opens and probes as one: the
 * `halfOpenProbes` slots are the fleet's, not each process's.
 *
 * A probe slot is leased: each slot taken is recorded with its owner (the
 * process) and an expiry, which the owner renews while it lives (every
 * third of the lease). A slot whose lease expires (its process died, or
 * lost Redis, before the probe ended) is freed as if the probe had been
 * interrupted, so a dead process never holds the fleet half-open.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type { Settings, Store } from "../../CircuitBreaker.js"
import { type Bucket, Event, initialState, State, transition, type Window } from "../circuitBreaker/machine.js"
import { type Codec, type Connection, sharedStore } from "./shared.js"

/** One probe slot taken: by which process, in which half-open generation, until when (epoch ms). */
interface Lease {
  readonly owner: string
  readonly generation: number
  readonly expiresAt: number
}

/** What the key holds. `leases.length` is the half-open state's `inFlight`. */
interface Record {
  readonly state: State
  readonly leases: ReadonlyArray<Lease>
}

const BucketSchema = Schema.Struct({ index: Schema.Number, calls: Schema.Number, failures: Schema.Number })

const Encoded = Schema.Struct({
  state: Schema.Union(
    Schema.Struct({
      _tag: Schema.Literal("Closed"),
      generation: Schema.Number,
      window: Schema.Struct({
        previous: Schema.Array(BucketSchema),
        current: Schema.optional(BucketSchema),
        calls: Schema.Number,
        failures: Schema.Number
      })
    }),
    Schema.Struct({
      _tag: Schema.Literal("Open"),
      generation: Schema.Number,
      openedAt: Schema.Number,
      halfOpenAt: Schema.Number
    }),
    Schema.Struct({
      _tag: Schema.Literal("HalfOpen"),
      generation: Schema.Number,
      openedAt: Schema.Number,
      halfOpenAt: Schema.Number,
      inFlight: Schema.Number,
      succeeded: Schema.Number
    })
  ),
  leases: Schema.Array(Schema.Struct({ owner: Schema.String, generation: Schema.Number, expiresAt: Schema.Number }))
})

const decodeEncoded = Schema.decodeUnknownOption(Encoded)

const plainState = (state: State): unknown => {
  switch (state._tag) {
    case "Closed": {
      const { calls, current, failures, previous } = state.window
      return {
        _tag: "Closed",
        generation: state.generation,
        window: { previous, ...(current !== undefined ? { current } : {}), calls, failures }
      }
    }
    case "Open":
      return { _tag: "Open", generation: state.generation, openedAt: state.openedAt, halfOpenAt: state.halfOpenAt }
    case "HalfOpen":
      return {
        _tag: "HalfOpen",
        generation: state.generation,
        openedAt: state.openedAt,
        halfOpenAt: state.halfOpenAt,
        inFlight: state.inFlight,
        succeeded: state.succeeded
      }
  }
}

const codec: Codec<Record> = {
  encode: (record) => JSON.stringify({ state: plainState(record.state), leases: record.leases }),
  decode: (json) => {
    let parsed: unknown
    try {
      parsed = JSON.parse(json)
    } catch {
      return undefined
    }
    const decoded = decodeEncoded(parsed)
    if (decoded._tag === "None") return undefined
    const { leases, state } = decoded.value
    switch (state._tag) {
      case "Closed": {
        const window: Window = {
          previous: state.window.previous as ReadonlyArray<Bucket>,
          current: state.window.current,
          calls: state.window.calls,
          failures: state.window.failures
        }
        return { state: State.Closed({ generation: state.generation, window }), leases }
      }
      case "Open":
        return { state: State.Open(state), leases }
      case "HalfOpen":
        return { state: State.HalfOpen(state), leases }
    }
  }
}

const initialRecord: Record = { state: initialState, leases: [] }

/**
 * The breaker's Redis store, and the heartbeat fiber (in the scope) that
 * renews this process's probe leases.
 *
 * @internal
 */
export const makeBreakerStore = (options: {
  readonly connection: Connection
  readonly key: string
  readonly settings: Settings
  readonly probeLease: Duration.Duration
}): Effect.Effect<Store, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { connection, settings } = options
    const owner = connection.owner
    const leaseMillis = Duration.toMillis(options.probeLease)
    const local = yield* Ref.make(initialRecord)
    const windowMillis = Duration.toMillis(settings.window)
    const maxOpenMillis = Duration.toMillis(settings.maxOpenDuration)
    const shared = sharedStore<Record>({
      connection,
      key: options.key,
      codec,
      initial: initialRecord,
      local,
      ttl: (record, now) =>
        Math.max(windowMillis, maxOpenMillis, leaseMillis,
          record.state._tag === "Closed" ? 0 : record.state.halfOpenAt - now) + 60_000
    })

    // the probes whose lease has run out are cancelled: their slots are free again
    const expire = (record: Record, now: number): Record => {
      const state = record.state
      if (state._tag !== "HalfOpen") return record.leases.length === 0 ? record : { state, leases: [] }
      const live = record.leases.filter((lease) => lease.generation === state.generation && lease.expiresAt > now)
      if (live.length === record.leases.length) return record
      let next: State = state
      for (let dead = record.leases.length - live.length; dead > 0; dead--) {
        next = transition(next, Event.Cancel({ generation: state.generation }), now, settings)
      }
      return { state: next, leases: live }
    }

    // keeps one lease per slot taken: new slots are leased to this process,
    // a slot freed here gives back a lease of this process (else the latest)
    const leasesAfter = (before: Record, next: State, now: number): ReadonlyArray<Lease> => {
      if (next._tag !== "HalfOpen") return []
      const previous = before.state
      const leases = previous._tag === "HalfOpen" && previous.generation === next.generation
        ? [...before.leases]
        : []
      const taken = next.inFlight - leases.length
      for (let i = 0; i < taken; i++) leases.push({ owner, generation: next.generation, expiresAt: now + leaseMillis })
      for (let i = 0; i < -taken; i++) {
        let at = -1
        for (let j = 0; j < leases.length; j++) {
          if (at < 0 || (leases[j]!.owner === owner && leases[at]!.owner !== owner) ||
            (leases[j]!.owner === leases[at]!.owner && leases[j]!.expiresAt >= leases[at]!.expiresAt)) at = j
        }
        leases.splice(at, 1)
      }
      return leases
    }

    const get: Effect.Effect<State> = Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.map(shared.get, (record) => expire(record, now).state))

    const modify = <B>(f: (state: State) => readonly [B, State]): Effect.Effect<B> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        shared.modify((record) => {
          const current = expire(record, now)
          const [result, next] = f(current.state)
          if (next === current.state && current === record) return [result, record] as const
          return [result, { state: next, leases: leasesAfter(current, next, now) }] as const
        }))

    // renews this process's leases while it lives
    const renew = Effect.flatMap(Clock.currentTimeMillis, (now) =>
      shared.modify((record) => {
        const mine = record.leases.some((lease) => lease.owner === owner && lease.expiresAt > now)
        if (!mine) return [undefined, record] as const
        return [undefined, {
          state: record.state,
          leases: record.leases.map((lease) =>
            lease.owner === owner && lease.expiresAt > now ? { ...lease, expiresAt: now + leaseMillis } : lease
          )
        }] as const
      }))
    yield* Effect.forkScoped(
      Effect.repeat(renew, Schedule.spaced(Duration.millis(Math.max(1, Math.floor(leaseMillis / 3)))))
    )

    return { get, modify } satisfies Store
  })
