/**
 * Shared pieces of the hardening suites (test/hardening/): a client wired to
 * a hostile loopback server over a chosen platform HttpClient, the key it
 * carries, and a wait for the server's sockets to close.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as TestServices from "effect/TestServices"
import { Claude, Resilience } from "../../src/index.js"
import type { HostileServer } from "./hostileServer.js"

/** The key every hardening client carries; no error, log line or span may show it. */
export const key = "sk-ant-api03-hardening-5ecr3t-k3y-0123456789"

/** A short request and its Token Counting prompt (see test/support/messages.ts). */
export { countParams, params } from "./messages.js"

/** The platform clients the issue names. */
export const platforms: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
  ["FetchHttpClient", FetchHttpClient.layer],
  ["NodeHttpClient.layer", NodeHttpClient.layer],
  ["NodeHttpClient.layerUndici", NodeHttpClient.layerUndici]
]

/**
 * A client on `url`, over the given platform client (default
 * `NodeHttpClient.layer`), built in the current scope: closing the scope
 * closes the platform client's pool. No breaker opens and the budget never
 * runs dry (each test counts its own requests).
 */
export const clientOn = (
  url: string,
  options: Omit<Claude.Options, "apiKey" | "baseUrl"> = {},
  http: Layer.Layer<HttpClient.HttpClient> = NodeHttpClient.layer
): Effect.Effect<Claude.Service, never, Scope.Scope> =>
  Effect.gen(function*() {
    const context = yield* Layer.build(Layer.mergeAll(http, resilience)).pipe(Effect.orDie)
    return yield* Claude.make({ apiKey: Redacted.make(key), baseUrl: url, ...options }).pipe(
      Effect.provide(context),
      Effect.orDie
    )
  })

/** A breaker that never opens and a budget that never runs dry: the policy alone decides. */
export const resilience = Resilience.layer({
  breaker: { minimumCalls: 1_000_000 },
  budget: { percent: 1000, minRetriesPerSecond: 100_000 }
})

/** The service of a built context, for a test that builds a Layer itself. */
export const claudeOf = (context: Context.Context<Claude.Claude>) => Context.get(context, Claude.Claude)

/** Waits (real time, at most 3 s) until the server has no socket open; returns how many are. */
export const settled = (server: HostileServer): Effect.Effect<number> =>
  Effect.gen(function*() {
    for (let i = 0; i < 300 && server.openSockets() > 0; i++) {
      yield* TestServices.provideLive(Effect.sleep(10))
    }
    return server.openSockets()
  })

/** A value every inspection of which throws: each trap of its Proxy throws. */
export const throwingProxy = (): object => {
  const trap = (name: string) => () => {
    throw new Error(`trap ${name}`)
  }
  return new Proxy({}, {
    get: trap("get"),
    has: trap("has"),
    ownKeys: trap("ownKeys"),
    getOwnPropertyDescriptor: trap("getOwnPropertyDescriptor"),
    getPrototypeOf: trap("getPrototypeOf"),
    set: trap("set"),
    defineProperty: trap("defineProperty"),
    deleteProperty: trap("deleteProperty"),
    isExtensible: trap("isExtensible"),
    preventExtensions: trap("preventExtensions"),
    setPrototypeOf: trap("setPrototypeOf"),
    apply: trap("apply"),
    construct: trap("construct")
  })
}
