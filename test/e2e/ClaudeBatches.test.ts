/**
 * Token Counting, Message Batches and the preflight, end to end over
 * loopback.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { ApiError, Claude, MessageBatches, Preflight } from "../../src/index.js"
import { Emulator } from "../../src/testing/index.js"
import { runVirtual } from "../support/virtualTime.js"
import { arrivals, consume, failureOf, oneFailure, params, withClaude } from "./support.js"

const { Reply } = Emulator

const MiB = 1024 * 1024

const request = (customId: string): MessageBatches.BatchRequest => ({ custom_id: customId, params })

describe("Claude e2e: messages.countTokens", () => {
  it.effect("returns input_tokens, one POST to /v1/messages/count_tokens with the prompt only", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const count = yield* runVirtual(
        claude.messages.countTokens({ model: params.model, messages: params.messages, system: "Be brief." })
      )
      const [sent, ...others] = yield* Effect.flatMap(Emulator.Emulator, (e) => e.requests)
      expect(others).toHaveLength(0)
      expect(sent?.method).toBe("POST")
      expect(sent?.path).toBe("/v1/messages/count_tokens")
      // the emulator counts a token per 4 characters of the body it received
      expect(count.input_tokens).toBe(Math.ceil(sent!.body.length / 4))
      expect(Option.getOrUndefined(sent!.json)).toEqual({
        model: params.model,
        messages: params.messages,
        system: "Be brief."
      })
    }).pipe(withClaude()))

  it.effect("is retried like any call: 529 then 200 ⇒ 2 requests", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const count = yield* runVirtual(claude.messages.countTokens({ model: params.model, messages: params.messages }))
      expect(count.input_tokens).toBeGreaterThan(0)
      expect(yield* arrivals).toEqual([0, 500])
    }).pipe(withClaude({ script: Emulator.sequence([Reply.Error({ status: 529 })]) })))

  it.effect("a 2xx whose body is not a token count ⇒ MalformedResponseError, not retried", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const error = yield* failureOf(claude.messages.countTokens({ model: params.model, messages: params.messages }))
      expect(error).toBeInstanceOf(Claude.MalformedResponseError)
      expect(error).toMatchObject({ status: 200, requestId: Option.some("req_emu_000001") })
      expect(yield* arrivals).toEqual([0])
    }).pipe(withClaude({ script: () => Reply.Raw({ status: 200, body: "{\"tokens\":\"many\"}" }) })))
})

describe("Claude e2e: batches", () => {
  it.effect("create, retrieve, list, cancel, delete: each one request to the right endpoint", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const emulator = yield* Emulator.Emulator
      const created = yield* runVirtual(claude.batches.create({ requests: [request("a-1"), request("b_2"), request("C3")] }))
      expect(created.type).toBe("message_batch")
      expect(created.processing_status).toBe("in_progress")
      expect(created.request_counts).toMatchObject({ processing: 3, succeeded: 0 })

      const retrieved = yield* runVirtual(claude.batches.retrieve(created.id))
      expect(retrieved.id).toBe(created.id)

      const other = yield* runVirtual(claude.batches.create({ requests: [request("z")] }))
      const list = yield* runVirtual(claude.batches.list({ limit: 10 }))
      expect(list.data.map((batch) => batch.id)).toEqual([other.id, created.id])

      const canceled = yield* runVirtual(claude.batches.cancel(created.id))
      expect(canceled.id).toBe(created.id)
      expect(canceled.cancel_initiated_at).not.toBeNull()
      expect(canceled.request_counts).toMatchObject({ canceled: 3, processing: 0 })

      const deleted = yield* runVirtual(claude.batches.delete(created.id))
      expect(deleted).toMatchObject({ id: created.id, type: "message_batch_deleted" })

      const gone = yield* failureOf(claude.batches.retrieve(created.id))
      expect(gone).toBeInstanceOf(ApiError.NotFoundError)

      const requests = yield* emulator.requests
      expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual([
        "POST /v1/messages/batches",
        `GET /v1/messages/batches/${created.id}`,
        "POST /v1/messages/batches",
        "GET /v1/messages/batches",
        `POST /v1/messages/batches/${created.id}/cancel`,
        `DELETE /v1/messages/batches/${created.id}`,
        `GET /v1/messages/batches/${created.id}`
      ])
      expect(Option.getOrUndefined(requests[0]!.json)).toEqual({
        requests: [request("a-1"), request("b_2"), request("C3")]
      })
    }).pipe(withClaude({ batchProcessingTime: "1 hour" })))

  it.effect("results: a Stream of succeeded | errored | canceled | expired, each error decoded to its tag", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const ids = ["ok-1", "err-invalid", "err-overloaded", "err-api", "err-limit", "canceled-1", "expired-1", "ok-2"]
      const batch = yield* runVirtual(claude.batches.create({ requests: ids.map(request) }))
      expect(batch.processing_status).toBe("ended")
      expect(batch.request_counts).toEqual({ processing: 0, succeeded: 2, errored: 4, canceled: 1, expired: 1 })
      const { exit, received } = yield* consume(claude.batches.results(batch.id))
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(received.map((r) => [r.customId, r._tag])).toEqual([
        ["ok-1", "Succeeded"],
        ["err-invalid", "Errored"],
        ["err-overloaded", "Errored"],
        ["err-api", "Errored"],
        ["err-limit", "Errored"],
        ["canceled-1", "Canceled"],
        ["expired-1", "Expired"],
        ["ok-2", "Succeeded"]
      ])
      const errors = received.flatMap((r) => r._tag === "Errored" ? [r.error] : [])
      expect(errors.map((e) => e._tag)).toEqual([
        "InvalidRequestError",
        "OverloadedError",
        "InternalServerError",
        "SpendLimitError"
      ])
      expect(errors[0] && "serverMessage" in errors[0] && errors[0].serverMessage).toEqual(
        Option.some("max_tokens: must be at most 64000")
      )
      const first = received[0]
      expect(first?._tag === "Succeeded" && first.message.type).toBe("message")
      const requests = yield* Effect.flatMap(Emulator.Emulator, (e) => e.requests)
      expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual([
        "POST /v1/messages/batches",
        `GET /v1/messages/batches/${batch.id}/results`
      ])
    }).pipe(withClaude({
      batchOutcome: (customId) =>
        customId.startsWith("ok")
          ? "succeeded"
          : customId === "err-invalid"
          ? { errored: { type: "invalid_request_error", message: "max_tokens: must be at most 64000" } }
          : customId === "err-overloaded"
          ? { errored: { type: "overloaded_error" } }
          : customId === "err-api"
          ? { errored: { type: "api_error" } }
          : customId === "err-limit"
          ? { errored: { type: "invalid_request_error", message: "This request would exceed your monthly spend limit." } }
          : customId.startsWith("canceled")
          ? "canceled"
          : "expired"
    })))

  it.effect("results of a batch still in progress ⇒ InvalidRequestError, 1 request, not retried", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const batch = yield* runVirtual(claude.batches.create({ requests: [request("x")] }))
      const { exit, received } = yield* consume(claude.batches.results(batch.id))
      expect(oneFailure(exit)).toBeInstanceOf(ApiError.InvalidRequestError)
      expect(received).toHaveLength(0)
      expect(yield* Effect.flatMap(Emulator.Emulator, (e) => e.requestCount)).toBe(2)
    }).pipe(withClaude({ batchProcessingTime: "1 hour" })))

  it.effect("results are retried before the first line: 503 then the lines", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const batch = yield* runVirtual(claude.batches.create({ requests: [request("one"), request("two")] }))
      const lines = yield* runVirtual(Stream.runCollect(claude.batches.results(batch.id)))
      expect([...lines].map((r) => [r.customId, r._tag])).toEqual([["one", "Succeeded"], ["two", "Succeeded"]])
      // the create at 0, the results at 0 (503) and 500
      expect(yield* arrivals).toEqual([0, 0, 500])
    }).pipe(withClaude({ script: (request) => request.attempt === 2 ? Reply.Error({ status: 503 }) : Reply.Ok({}) })))

  it.effect("an invalid custom_id fails locally with ClientRequestError (Encode), 0 requests", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const error = yield* failureOf(claude.batches.create({ requests: [request("ok"), request("not valid!")] }))
      expect(error).toBeInstanceOf(ApiError.ClientRequestError)
      expect(error._tag === "ClientRequestError" && error.reason).toBe("Encode")
      expect(error.message).toContain("custom_id")
      expect(error.message).toContain("\"not valid!\"")
      const tooLong = yield* failureOf(claude.batches.create({ requests: [request("a".repeat(65))] }))
      expect(tooLong._tag).toBe("ClientRequestError")
      const duplicate = yield* failureOf(claude.batches.create({ requests: [request("same"), request("same")] }))
      expect(duplicate.message).toContain("unique")
      expect(yield* arrivals).toEqual([])
    }).pipe(withClaude()))

  it.effect("a batch id that is not a plain id, and a bad list limit, fail locally (InvalidUrl), 0 requests", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      for (const id of ["..", "", "a/b", "msgbatch_1?x=1", "x".repeat(257)]) {
        const calls: ReadonlyArray<Effect.Effect<unknown, Claude.CallError>> = [
          claude.batches.retrieve(id),
          claude.batches.cancel(id),
          claude.batches.delete(id)
        ]
        for (const call of calls) {
          const error = yield* failureOf(call)
          expect(error._tag === "ClientRequestError" && error.reason).toBe("InvalidUrl")
          expect(error.message).toContain("batch id")
        }
        const results = yield* Effect.flip(Stream.runDrain(claude.batches.results(id)))
        expect(results._tag === "ClientRequestError" && results.reason).toBe("InvalidUrl")
      }
      for (const limit of [0, -1, 1.5, 1001]) {
        const error = yield* failureOf(claude.batches.list({ limit }))
        expect(error._tag === "ClientRequestError" && error.message).toContain("limit")
      }
      expect(yield* arrivals).toEqual([])
    }).pipe(withClaude()))

  it.effect("more than 100 000 requests fail locally with ClientRequestError, 0 requests", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const requests = Array.from({ length: MessageBatches.maxBatchRequests + 1 }, (_, i) => request(`r${i}`))
      const error = yield* failureOf(claude.batches.create({ requests }))
      expect(error).toBeInstanceOf(ApiError.ClientRequestError)
      expect(error.message).toContain("100000")
      expect(error.message).toContain("100001")
      expect(yield* arrivals).toEqual([])
    }).pipe(withClaude()))
})

describe("Claude e2e: preflight", () => {
  // one big prompt, shared: 32 MiB of text makes a body just over the limit
  const big = "a".repeat(32 * MiB)

  it.effect("a Messages body over 32 MiB ⇒ RequestTooLargeError (413, no request id), 0 requests, for create, stream, finalMessage and countTokens", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const huge = { ...params, messages: [{ role: "user" as const, content: big }] }
      const viaCreate = yield* failureOf(claude.messages.create(huge))
      const viaStream = oneFailure((yield* consume(claude.messages.stream(huge))).exit)
      const viaFinal = yield* failureOf(claude.messages.finalMessage(huge))
      const viaCount = yield* failureOf(claude.messages.countTokens({ model: params.model, messages: huge.messages }))
      for (const error of [viaCreate, viaStream, viaFinal, viaCount]) {
        expect(error).toBeInstanceOf(ApiError.RequestTooLargeError)
        expect(error).toMatchObject({ status: 413, requestId: Option.none(), shouldRetry: Option.some(false) })
      }
      expect(viaCreate.message).toContain("Messages API")
      expect(viaCount.message).toContain("Token Counting API")
      expect(viaCreate.message).toContain("Nothing was sent")
      expect(yield* arrivals).toEqual([])
    }).pipe(withClaude()))

  it.effect("a Messages body just under 32 MiB is sent", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const body = (content: string) => JSON.stringify({ ...params, messages: [{ role: "user", content }] })
      // fill up to exactly the limit
      const content = big.slice(0, 32 * MiB - (body("").length))
      expect(Preflight.byteLength(body(content))).toBe(32 * MiB)
      // no wait is expected: run it on a still clock (32 MiB of loopback I/O
      // must not race the request timeout)
      const count = yield* claude.messages.countTokens({ model: params.model, messages: [{ role: "user", content }] })
      expect(count.input_tokens).toBeGreaterThan(8 * MiB - 100)
      expect(yield* Effect.flatMap(Emulator.Emulator, (e) => e.requestCount)).toBe(1)
    }).pipe(withClaude()))

  it("a Batches body between 32 MiB and 256 MiB passes the size check that stops it for Messages", () => {
    const body = JSON.stringify({ requests: [{ custom_id: "big", params: { ...params, messages: [{ role: "user", content: big }] } }] })
    expect(body.length).toBeGreaterThan(32 * MiB)
    expect(Exit.isSuccess(Effect.runSyncExit(Preflight.checkSize("batches", body)))).toBe(true)
    expect(Exit.isFailure(Effect.runSyncExit(Preflight.checkSize("messages", body)))).toBe(true)
  })
})
