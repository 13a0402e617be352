/**
 * Our client, as the benchmark builds and calls it: the ONE place that
 * knows how to construct `Claude` today (`Claude.layer({ apiKey, baseUrl })`
 * over a transport, with `Resilience.layer()` below it, so that the client
 * runs the full stack: preflight, breaker, retry policy, retry budget,
 * spans, metrics, decode). When the client's construction API changes, this
 * file is the only one to fix.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { apiKey } from "./fixture.js"
import type { Messages } from "../../src/index.js"
import type { Library } from "./library.js"

/** The request our client takes. */
export type Params = Messages.MessageCreateParams

/** Our client's calls, as promises (one runtime per client, built once). */
export interface Ours {
  readonly create: (params: Params) => Promise<unknown>
  /** The stream accumulated to its final message; resolves to its text. */
  readonly finalMessage: (params: Params) => Promise<string>
  /** The stream's events consumed to the end; resolves to the text of its text deltas. */
  readonly stream: (params: Params) => Promise<string>
  readonly dispose: () => Promise<void>
}

const textOf = (message: Messages.Message): string =>
  message.content.map((block) => (block.type === "text" && "text" in block ? String(block.text) : "")).join("")

/** Builds our client over `transport`, pointed at `baseUrl`. */
export const makeOurs = async (
  lib: Library,
  transport: Layer.Layer<HttpClient.HttpClient>,
  baseUrl: string
): Promise<Ours> => {
  const layer = lib.Claude.layer({ apiKey: Redacted.make(apiKey), baseUrl }).pipe(
    Layer.provide(lib.Resilience.layer()),
    Layer.provide(transport)
  )
  const runtime = ManagedRuntime.make(layer)
  const claude = await runtime.runPromise(lib.Claude.Claude)
  return {
    create: (params) => runtime.runPromise(claude.messages.create(params)),
    finalMessage: (params) => runtime.runPromise(Effect.map(claude.messages.finalMessage(params), textOf)),
    stream: (params) =>
      runtime.runPromise(
        Stream.runFold(claude.messages.stream(params), "", (text, event) =>
          event.type === "content_block_delta" && event.delta.type === "text_delta" ? text + event.delta.text : text)
      ),
    dispose: () => runtime.dispose()
  }
}
