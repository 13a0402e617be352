/**
 * The only module that loads `ioredis` (an optional peer dependency): the
 * `Redis` module imports it dynamically when a Redis layer is built, so that
 * the main entry never loads `ioredis`.
 *
 * @internal
 */
import { Redis as IORedis } from "ioredis"
import type { RawClient } from "./shared.js"

/**
 * Sets `KEYS[1]` to `ARGV[2] .. "|" .. ARGV[3]` with a TTL of `ARGV[4]`
 * milliseconds if its version token (what precedes the first `|`, `""`
 * for a missing key) is `ARGV[1]`: `{1}`. Otherwise nothing is written and
 * the current value comes back: `{0, value}` (`{0}` for a missing key).
 */
const casScript = `
local cur = redis.call('GET', KEYS[1])
local token = ''
if cur then
  local bar = string.find(cur, '|', 1, true)
  if bar then token = string.sub(cur, 1, bar - 1) end
end
if token ~= ARGV[1] then
  if cur then return {0, cur} end
  return {0}
end
redis.call('SET', KEYS[1], ARGV[2] .. '|' .. ARGV[3], 'PX', ARGV[4])
return {1}
`

interface WithCas extends IORedis {
  cas(key: string, expected: string, token: string, value: string, ttl: number): Promise<[number, string?]>
}

/** @internal */
export const open = async (options: {
  readonly url: string
  readonly connectTimeout: number
  readonly commandTimeout: number
  readonly reconnectInterval: number
}): Promise<{ readonly client: RawClient; readonly connected: boolean; readonly reason: string }> => {
  const redis = new IORedis(options.url, {
    lazyConnect: true,
    // a command while disconnected fails at once instead of queueing
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: options.commandTimeout,
    connectTimeout: options.connectTimeout,
    // keep trying in the background; the Redis module checks when it is back
    retryStrategy: () => options.reconnectInterval,
    showFriendlyErrorStack: false
  }) as WithCas
  // an 'error' event without a listener would throw: failures are seen through the commands
  redis.on("error", () => {})
  redis.defineCommand("cas", { numberOfKeys: 1, lua: casScript })
  const client: RawClient = {
    get: (key) => redis.get(key),
    cas: async (key, expected, token, value, ttl) => {
      const [written, current] = await redis.cas(key, expected, token, value, Math.max(1, Math.ceil(ttl)))
      return written === 1 ? { _tag: "Written" } : { _tag: "Conflict", current: current ?? null }
    },
    ping: async () => {
      if (redis.status !== "ready") throw new Error(`connection ${redis.status}`)
      await redis.ping()
    },
    close: () => redis.disconnect(false)
  }
  try {
    // connectTimeout bounds the TCP connection only: a server that accepts and
    // never answers the ready check would keep connect() pending for ever
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([
      redis.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${options.connectTimeout} ms`)),
          options.connectTimeout
        )
      })
    ]).finally(() => clearTimeout(timer))
    return { client, connected: true, reason: "" }
  } catch (error) {
    // lazyConnect's first attempt failed: let the background reconnects go on
    if (redis.status === "end" || redis.status === "wait") {
      redis.connect().catch(() => {})
    }
    return { client, connected: false, reason: error instanceof Error ? error.message : String(error) }
  }
}
