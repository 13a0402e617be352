/**
 * The alert adapters' types: `tap` leaves the call's types as they were,
 * `stream` and `sink` add only the options' error and the handler's.
 */
import type * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import type * as Sink from "effect/Sink"
import type * as Stream from "effect/Stream"
import { describe, expectTypeOf, it } from "vitest"
import type { ApiError, Options } from "../src/index.js"
import { Alerts } from "../src/index.js"

declare const call: Effect.Effect<string, ApiError.ApiError, "Needs">
declare const queue: Queue.Queue<Alerts.Event>
declare const events: Stream.Stream<Alerts.Event, "upstream">

describe("Alerts adapters", () => {
  it("tap keeps the call's success, error and context", () => {
    const tapped = call.pipe(Alerts.tap((event) => Queue.offer(queue, event)))
    expectTypeOf(tapped).toEqualTypeOf<Effect.Effect<string, ApiError.ApiError, "Needs">>()
  })

  it("stream adds the options' error to the events'", () => {
    expectTypeOf(Alerts.stream(events)).toEqualTypeOf<
      Stream.Stream<Alerts.Decision, "upstream" | Options.InvalidOptionsError>
    >()
    expectTypeOf(events.pipe(Alerts.stream({ fatal: { tags: [] } }))).toEqualTypeOf<
      Stream.Stream<Alerts.Decision, "upstream" | Options.InvalidOptionsError>
    >()
  })

  it("sink carries the handler's error and context", () => {
    const sink = Alerts.sink((_: Alerts.Decision) => ({} as Effect.Effect<void, "webhook down", "Http">))
    expectTypeOf(sink).toEqualTypeOf<
      Sink.Sink<void, Alerts.Event, Alerts.Event, "webhook down" | Options.InvalidOptionsError, "Http">
    >()
  })

  it("a decision's kind is one of three", () => {
    expectTypeOf<Alerts.Decision["kind"]>().toEqualTypeOf<"page" | "ticket" | "none">()
    // @ts-expect-error: only page, ticket, none
    const wrong: Alerts.Decision["kind"] = "email"
    void wrong
  })
})
