/**
 * What the benchmark's server sends and its clients ask, shared by both
 * sides so that each contender's answer can be checked.
 */

/** The text of every delta: 16 characters, as the emulator chunks text. */
export const deltaText = "lorem ipsum dol "

/** The text of the JSON reply's one block. */
export const replyText =
  "Hello from the benchmark server: a short, fixed answer of about a hundred characters, as a chat reply."

/** The model every request names (one the client's request schema accepts). */
export const model = "claude-sonnet-5-5"

/** The key every client sends; the server does not check it. */
export const apiKey = "sk-ant-bench-0000000000000000"

/** The request every contender sends (a stream adds `stream: true`). */
export const params = {
  model,
  max_tokens: 1024,
  messages: [{ role: "user" as const, content: "Say hello in one short sentence." }]
}
