/**
 * The emulator's check of a request, as the API checks it: the first problem
 * the API would report in a Messages, Token Counting or Message Batches body
 * (an unknown or missing param, a value out of range, an unknown model),
 * worded as the API words it, with its status and error type (see
 * https://docs.anthropic.com/en/api/errors).
 *
 * @internal
 */
import * as Predicate from "effect/Predicate"

/** The top-level params of `POST /v1/messages/count_tokens` (GA and beta). */
const countTokensParams = [
  "model",
  "messages",
  "system",
  "tools",
  "tool_choice",
  "thinking",
  "cache_control",
  "output_config",
  "output_format",
  "speed",
  "context_management",
  "mcp_servers",
  "compaction",
  "billing_policy"
]

/** The top-level params of `POST /v1/messages` (GA and beta, and the sampling params). */
const messagesParams = [
  ...countTokensParams,
  "max_tokens",
  "temperature",
  "top_p",
  "top_k",
  "stop_sequences",
  "stream",
  "metadata",
  "service_tier",
  "container",
  "diagnostics",
  "inference_geo",
  "user_profile_id",
  "workspace_id",
  "fallbacks",
  "fallback_credit_token",
  "thread"
]

/** Why the API would refuse a request: its status, error type and message. */
export interface Refusal {
  readonly status: 400 | 404
  readonly type: "invalid_request_error" | "not_found_error"
  readonly message: string
}

export const invalidRequest = (message: string): Refusal => ({ status: 400, type: "invalid_request_error", message })

const isInteger = (u: unknown): u is number => typeof u === "number" && Number.isInteger(u)

/**
 * The first problem the API would report in a Messages or Token Counting
 * body, worded as the API words it (`"max_tokens: Field required"`,
 * `"temprature: Extra inputs are not permitted"`, `"model: <name>"`), or
 * `undefined` for a body it would serve.
 */
export const checkParams = (
  json: unknown,
  endpoint: "messages" | "count_tokens",
  models: ReadonlySet<string>
): Refusal | undefined => {
  if (!Predicate.isRecord(json)) return invalidRequest("Input should be a valid dictionary or object to extract fields from")
  const known = endpoint === "messages" ? messagesParams : countTokensParams
  const unknown = Object.keys(json).find((key) => !known.includes(key))
  if (unknown !== undefined) return invalidRequest(`${unknown}: Extra inputs are not permitted`)
  if (!("model" in json)) return invalidRequest("model: Field required")
  if (typeof json.model !== "string") return invalidRequest("model: Input should be a valid string")
  if (json.model.length === 0) return invalidRequest("model: String should have at least 1 character")
  if (endpoint === "messages") {
    if (!("max_tokens" in json)) return invalidRequest("max_tokens: Field required")
    if (!isInteger(json.max_tokens)) return invalidRequest("max_tokens: Input should be a valid integer")
    if (json.max_tokens < 0) return invalidRequest("max_tokens: Input should be greater than or equal to 0")
  }
  if (!("messages" in json)) return invalidRequest("messages: Field required")
  if (!Array.isArray(json.messages)) return invalidRequest("messages: Input should be a valid list")
  if (json.messages.length === 0) return invalidRequest("messages: at least one message is required")
  for (const [i, message] of json.messages.entries()) {
    if (!Predicate.isRecord(message)) return invalidRequest(`messages.${i}: Input should be a valid dictionary`)
    if (message.role !== "user" && message.role !== "assistant") {
      return invalidRequest(`messages.${i}.role: Input should be 'user' or 'assistant'`)
    }
    if (!("content" in message)) return invalidRequest(`messages.${i}.content: Field required`)
    if (typeof message.content !== "string" && !Array.isArray(message.content)) {
      return invalidRequest(`messages.${i}.content: Input should be a valid list`)
    }
  }
  if ("system" in json && typeof json.system !== "string" && !Array.isArray(json.system)) {
    return invalidRequest("system: Input should be a valid string")
  }
  for (const name of ["temperature", "top_p"] as const) {
    if (name in json) {
      const value = json[name]
      if (typeof value !== "number") return invalidRequest(`${name}: Input should be a valid number`)
      if (!(value >= 0 && value <= 1)) return invalidRequest(`${name}: range: 0..1`)
    }
  }
  if ("top_k" in json) {
    if (!isInteger(json.top_k)) return invalidRequest("top_k: Input should be a valid integer")
    if (json.top_k < 0) return invalidRequest("top_k: Input should be greater than or equal to 0")
  }
  if ("stream" in json && typeof json.stream !== "boolean") return invalidRequest("stream: Input should be a valid boolean")
  if (
    "stop_sequences" in json &&
    !(Array.isArray(json.stop_sequences) && json.stop_sequences.every((s) => typeof s === "string"))
  ) {
    return invalidRequest("stop_sequences: Input should be a valid list")
  }
  if (!models.has(json.model)) return { status: 404, type: "not_found_error", message: `model: ${json.model}` }
  return undefined
}

const customIdPattern = /^[a-zA-Z0-9_-]{1,64}$/

/** The first problem the API would report in a batch's envelope (each request's params are checked later). */
export const checkBatch = (json: unknown): Refusal | undefined => {
  if (!Predicate.isRecord(json)) return invalidRequest("Input should be a valid dictionary or object to extract fields from")
  const unknown = Object.keys(json).find((key) => key !== "requests")
  if (unknown !== undefined) return invalidRequest(`${unknown}: Extra inputs are not permitted`)
  if (!("requests" in json)) return invalidRequest("requests: Field required")
  if (!Array.isArray(json.requests)) return invalidRequest("requests: Input should be a valid list")
  if (json.requests.length === 0) return invalidRequest("requests: List should have at least 1 item after validation, not 0")
  const seen = new Set<string>()
  for (const [i, request] of json.requests.entries()) {
    if (!Predicate.isRecord(request)) return invalidRequest(`requests.${i}: Input should be a valid dictionary`)
    const extra = Object.keys(request).find((key) => key !== "custom_id" && key !== "params")
    if (extra !== undefined) return invalidRequest(`requests.${i}.${extra}: Extra inputs are not permitted`)
    if (!("custom_id" in request)) return invalidRequest(`requests.${i}.custom_id: Field required`)
    if (typeof request.custom_id !== "string" || !customIdPattern.test(request.custom_id)) {
      return invalidRequest(`requests.${i}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'`)
    }
    if (seen.has(request.custom_id)) {
      return invalidRequest(`requests: custom_id ${request.custom_id} is used more than once; each custom_id must be unique`)
    }
    seen.add(request.custom_id)
    if (!("params" in request)) return invalidRequest(`requests.${i}.params: Field required`)
    if (!Predicate.isRecord(request.params)) return invalidRequest(`requests.${i}.params: Input should be a valid dictionary`)
  }
  return undefined
}
