/**
 * The benchmark's contenders, each reduced to promises so that one harness
 * times them all the same way:
 *
 * - bare: the transport's `HttpClient` POST of the same JSON body,
 *   `JSON.parse` and a `Schema` decoder of `Message` built once (for
 *   streams: the response's bytes through `eventsource-parser`, `JSON.parse`
 *   of each event and the text deltas joined). The floor: what the transport
 *   and the decoding cost without any policy.
 * - ours: `Claude` through the full stack (./ours.ts builds it).
 * - sdk: the official `@anthropic-ai/sdk` with `maxRetries: 0`.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import Anthropic from "@anthropic-ai/sdk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { createParser } from "eventsource-parser"
import { apiKey } from "./fixture.js"
import type { Library } from "./library.js"
import { makeOurs, type Params } from "./ours.js"

/** A transport: an `HttpClient` layer, by the name users write. */
export interface Transport {
  readonly id: string
  readonly name: string
  readonly layer: Layer.Layer<HttpClient.HttpClient>
}

/** `NodeHttpClient.layer` with an agent that keeps connections alive. */
export const nodeKeepAliveLayer: Layer.Layer<HttpClient.HttpClient> = NodeHttpClient.layerWithoutAgent.pipe(
  Layer.provide(NodeHttpClient.makeAgentLayer({ keepAlive: true }))
)

export const transports: ReadonlyArray<Transport> = [
  { id: "node", name: "NodeHttpClient.layer", layer: NodeHttpClient.layer },
  { id: "node-ka", name: "NodeHttpClient.layer + keepAlive agent", layer: nodeKeepAliveLayer },
  { id: "undici", name: "NodeHttpClient.layerUndici", layer: NodeHttpClient.layerUndici },
  { id: "fetch", name: "FetchHttpClient.layer", layer: FetchHttpClient.layer }
]

/** One contender's calls. `stream` resolves to the final text, for a check. */
export interface Client {
  readonly create: () => Promise<unknown>
  readonly finalMessage?: (() => Promise<string>) | undefined
  readonly stream?: (() => Promise<string>) | undefined
  readonly dispose: () => Promise<void>
}

const headers = {
  "x-api-key": apiKey,
  "anthropic-version": "2023-06-01",
  "accept": "application/json"
}

/** The bare floor over `transport`: POST, `JSON.parse`, a decoder built once; streams parsed by eventsource-parser. */
export const makeBare = async (lib: Library, transport: Transport, baseUrl: string, params: Params): Promise<Client> => {
  const runtime = ManagedRuntime.make(transport.layer)
  const client = await runtime.runPromise(HttpClient.HttpClient)
  const decode = Schema.decodeUnknown(lib.Messages.Message)
  const url = `${baseUrl}/v1/messages`
  const post = (body: unknown) =>
    client.post(url, { headers, body: HttpBody.text(JSON.stringify(body), "application/json") }).pipe(
      Effect.filterOrFail((response) => response.status === 200, (response) => new Error(`HTTP ${response.status}`))
    )
  const create = post(params).pipe(
    Effect.flatMap((response) => response.text),
    Effect.flatMap((text) => Effect.try(() => JSON.parse(text) as unknown)),
    Effect.flatMap(decode)
  )
  const stream = post({ ...params, stream: true }).pipe(
    Effect.flatMap((response) =>
      Effect.suspend(() => {
        const parts: Array<string> = []
        let stopped = false
        const parser = createParser({
          onEvent: (event) => {
            const data = JSON.parse(event.data) as {
              readonly type: string
              readonly delta?: { readonly type: string; readonly text?: string }
            }
            if (data.type === "content_block_delta" && data.delta?.type === "text_delta") parts.push(data.delta.text!)
            else if (data.type === "message_stop") stopped = true
          }
        })
        return response.stream.pipe(
          Stream.decodeText(),
          Stream.runForEach((chunk) => Effect.sync(() => parser.feed(chunk))),
          Effect.flatMap(() => (stopped ? Effect.succeed(parts.join("")) : Effect.fail(new Error("no message_stop"))))
        )
      })
    )
  )
  return {
    create: () => runtime.runPromise(create),
    stream: () => runtime.runPromise(stream),
    dispose: () => runtime.dispose()
  }
}

/** Our client over `transport`. */
export const makeOursClient = async (lib: Library, transport: Transport, baseUrl: string, params: Params): Promise<Client> => {
  const ours = await makeOurs(lib, transport.layer, baseUrl)
  return {
    create: () => ours.create(params),
    finalMessage: () => ours.finalMessage(params),
    stream: () => ours.stream(params),
    dispose: ours.dispose
  }
}

/** The official SDK, `maxRetries: 0` (it runs on the global `fetch`). */
export const makeSdk = (baseUrl: string, params: Params): Client => {
  const client = new Anthropic({ apiKey, baseURL: baseUrl, maxRetries: 0 })
  const sdkParams = params as Anthropic.MessageCreateParamsNonStreaming
  return {
    create: () => client.messages.create(sdkParams),
    finalMessage: () =>
      client.messages.stream(sdkParams).finalMessage().then((message) =>
        message.content.map((block) => (block.type === "text" ? block.text : "")).join("")
      ),
    dispose: async () => {}
  }
}
