import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Either, Exit, Option, Schema } from "effect"
import { MessageBatches } from "../src/index.js"
import { messageBody, parseError } from "./support/messages.js"

// ---------------------------------------------------------------------------
// batches
// ---------------------------------------------------------------------------

describe("BatchCreateParams", () => {
  const request = (custom_id: string) => ({
    custom_id,
    params: { model: "claude-sonnet-5-5", max_tokens: 1024, messages: [{ role: "user", content: "Hello, world" }] }
  })
  const decode = Schema.decodeUnknownEither(MessageBatches.BatchCreateParams)

  it("accepts valid custom_ids, up to 64 characters", () => {
    const ids = ["my-first-request", "my_second_request", "A", "0", "x".repeat(64)]
    const result = decode({ requests: ids.map(request) })
    expect(Either.getOrThrow(result).requests.map((r) => r.custom_id)).toEqual(ids)
  })

  it("rejects an empty, too long or ill-formed custom_id with a clear message", () => {
    for (const bad of ["", "x".repeat(65), "has space", "dot.ted", "ünï", "a/b"]) {
      const message = parseError(decode({ requests: [request("ok"), request(bad)] }))
      expect(message).toContain("custom_id must be 1 to 64 characters")
      expect(message).toContain("[1]")
    }
  })

  it("rejects a repeated custom_id, naming both requests", () => {
    expect(parseError(decode({ requests: [request("a"), request("b"), request("a")] }))).toContain(
      `custom_id "a" is used by requests 0 and 2`
    )
  })

  it("rejects more than 100 000 requests before decoding any of them", () => {
    // one shared (and invalid) element: were the elements decoded first, the
    // error would be about params, not the count
    const over = new Array(MessageBatches.maxBatchRequests + 1).fill({ custom_id: "x", params: {} })
    const message = parseError(decode({ requests: over }))
    expect(message).toContain("at most 100000 requests; got 100001")
    expect(message).not.toContain("params")
    const encodeOver = Schema.encodeEither(MessageBatches.BatchCreateParams)({
      requests: new Array(MessageBatches.maxBatchRequests + 1).fill(Schema.decodeUnknownSync(MessageBatches.BatchRequest)(request("x")))
    })
    expect(parseError(encodeOver)).toContain("at most 100000 requests")
  })

  it("lets exactly 100 000 requests past the count (then checks each)", () => {
    const atCap = new Array(MessageBatches.maxBatchRequests).fill(request("same"))
    const message = parseError(decode({ requests: atCap }))
    expect(message).not.toContain("at most")
    expect(message).toContain(`custom_id "same" is used by requests 0 and 1`)
  })
})

describe("Message Batches responses", () => {
  const batch = {
    id: "msgbatch_013Zva2CMHLNnXjNJJKqJ2EF",
    type: "message_batch",
    processing_status: "in_progress",
    request_counts: { processing: 100, succeeded: 50, errored: 30, canceled: 10, expired: 10 },
    ended_at: null,
    created_at: "2024-08-20T18:37:24.100435Z",
    expires_at: "2024-08-21T18:37:24.100435Z",
    archived_at: null,
    cancel_initiated_at: null,
    results_url: null
  }

  it("decodes a batch, a newer processing_status, absent times as null, and a list page", () => {
    expect(Schema.decodeUnknownSync(MessageBatches.MessageBatch)(batch)).toEqual(batch)
    const { archived_at: _, cancel_initiated_at: __, ...sparse } = batch
    const decoded = Schema.decodeUnknownSync(MessageBatches.MessageBatch)({ ...sparse, processing_status: "archiving" })
    expect(decoded.processing_status).toBe("archiving")
    expect(decoded.archived_at).toBeNull()
    expect(decoded.cancel_initiated_at).toBeNull()
    const ended = { ...batch, processing_status: "ended", ended_at: "2024-08-20T19:00:00Z", results_url: "https://api.anthropic.com/v1/messages/batches/msgbatch_013Zva2CMHLNnXjNJJKqJ2EF/results" }
    const list = { data: [batch, ended], has_more: true, first_id: batch.id, last_id: batch.id }
    expect(Schema.decodeUnknownSync(MessageBatches.MessageBatchList)(list)).toEqual(list)
    expect(Schema.decodeUnknownSync(MessageBatches.DeletedMessageBatch)({ id: batch.id, type: "message_batch_deleted" }))
      .toEqual({ id: batch.id, type: "message_batch_deleted" })
  })

  it("decodes each kind of results line, and an unknown kind intact", () => {
    const lines = [
      { custom_id: "my-second-request", result: { type: "succeeded", message: messageBody([{ type: "text", text: "Hi" }]) } },
      {
        custom_id: "my-first-request",
        result: {
          type: "errored",
          error: {
            type: "error",
            error: { type: "invalid_request_error", message: "max_tokens: Field required" },
            request_id: "req_011CQxW5hV7mJ9Vq4xYf7N8M"
          }
        }
      },
      { custom_id: "r3", result: { type: "canceled" } },
      { custom_id: "r4", result: { type: "expired" } },
      { custom_id: "r5", result: { type: "deferred", until: "tomorrow" } }
    ]
    const decoded = lines.map((line) =>
      Effect.runSync(MessageBatches.decodeMessageBatchIndividualResponseJson(JSON.stringify(line)))
    )
    expect(decoded.map((line) => line.result.type)).toEqual(["succeeded", "errored", "canceled", "expired", "unknown"])
    const [succeeded, errored, , , unknown] = decoded
    if (succeeded?.result.type !== "succeeded") throw new Error("not succeeded")
    expect(succeeded.result.message.content).toEqual([{ type: "text", text: "Hi" }])
    if (errored?.result.type !== "errored") throw new Error("not errored")
    expect(errored.result.error.error).toEqual({ type: "invalid_request_error", message: "max_tokens: Field required" })
    expect(unknown?.result).toEqual({ type: "unknown", raw: { type: "deferred", until: "tomorrow" } })
    const broken = Effect.runSyncExit(MessageBatches.decodeMessageBatchIndividualResponseJson(`{"custom_id":"r6","result":`))
    expect(Exit.isFailure(broken) && Option.isSome(Cause.failureOption(broken.cause))).toBe(true)
  })
})
