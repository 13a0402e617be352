/**
 * A state a policy keeps, updated atomically: the shape shared by the
 * breaker's and the limiter's stores, and the in-memory one over a `Ref`.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"

/** @internal */
export interface Store<S> {
  readonly get: Effect.Effect<S>
  readonly modify: <B>(f: (state: S) => readonly [B, S]) => Effect.Effect<B>
}

/** @internal */
export const makeMemory = <S>(initial: S): Effect.Effect<Store<S>> =>
  Effect.map(Ref.make(initial), (ref): Store<S> => ({
    get: Ref.get(ref),
    modify: (f) => Ref.modify(ref, f)
  }))
