/**
 * Our client's side of a parity run: one `messages.create` against a
 * scripted loopback server under virtual time (pinned randomness), counted
 * the same way as the SDK's.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import { Claude, type Resilience } from "../../src/index.js"
import type { HostileServer } from "../support/hostileServer.js"
import { ourClient, params } from "../support/scripted.js"
import { runVirtual } from "../support/virtualTime.js"

export interface OurOutcome {
  readonly requests: number
  /** `"ok"`, or the failure's tag and status. */
  readonly outcome: string
}

/** One call by our client (default policy), on a fresh `Resilience.layer(resilience)` of its own. */
export const ourCall = (server: HostileServer, resilience: Resilience.Options = {}): Effect.Effect<OurOutcome> =>
  Effect.gen(function*() {
    const before = server.requests.length
    const call = Effect.flatMap(Claude.Claude, (claude) => claude.messages.create(params)).pipe(
      Effect.provide(ourClient(server.url, {}, resilience))
    )
    const exit = yield* Effect.exit(runVirtual(call))
    const outcome = Exit.match(exit, {
      onSuccess: () => "ok",
      onFailure: (cause) =>
        Option.match(Cause.failureOption(cause), {
          onNone: () => `defect: ${Cause.pretty(cause)}`,
          onSome: (error: unknown) =>
            typeof error === "string"
              ? error
              : Predicate.hasProperty(error, "_tag")
              ? `${String(error._tag)}${
                Predicate.hasProperty(error, "status") && typeof error.status === "number" ? ` ${error.status}` : ""
              }`
              : String(error)
        })
    })
    return { requests: server.requests.length - before, outcome }
  })

/** Prints a parity row when PRINT_PARITY is set (the figures of the report). */
export const report = (scenario: string, ours: OurOutcome, sdk: { readonly requests: number; readonly outcome: string }) =>
  Effect.sync(() => {
    if (process.env.PRINT_PARITY) {
      console.log(`| ${scenario} | ${ours.requests}, ${ours.outcome} | ${sdk.requests}, ${sdk.outcome} |`)
    }
  })
