/**
 * The emulator's recorded requests never print the key: not under
 * `JSON.stringify` (of a request, of the list, of a request's headers), not
 * under Node's `util.inspect`, not in Effect's logs; a test can still read
 * the header to assert on it.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import { inspect } from "node:util"
import { Claude } from "../../../src/index.js"
import { Emulator } from "../../../src/testing/index.js"
import { params, render, withClaude } from "../../e2e/support.js"

const bearerKey = "sk-ant-bearer-5up3r-s3cr3t"

describe("recorded requests keep the key out of every rendering", () => {
  it.effect("x-api-key: JSON of a request, of all of them and of the headers; inspect; Effect's logger", () =>
    Effect.gen(function*() {
      const claude = yield* Claude.Claude
      const emulator = yield* Emulator.Emulator
      yield* claude.messages.create(params)
      const requests = yield* emulator.requests
      const [request] = requests
      // still readable, for assertions
      expect(request!.headers["x-api-key"]).toBe(Emulator.testApiKey)
      const renderings = [
        JSON.stringify(request),
        JSON.stringify(requests),
        JSON.stringify(request!.headers),
        inspect(request, { depth: 12 }),
        inspect(request, { depth: 12, showHidden: true }),
        render(request),
        render(request!.headers)
      ]
      for (const text of renderings) {
        expect(text).not.toContain(Emulator.testApiKey)
      }
      expect(JSON.parse(JSON.stringify(request!.headers))["x-api-key"]).toBe("<redacted>")
      // the other headers are printed as they came
      expect(JSON.parse(JSON.stringify(request)).headers["anthropic-version"]).toBe("2023-06-01")
      // the headers are still the platform's, which Effect's loggers redact
      const logged: Array<string> = []
      const logger = Logger.make((options) => {
        logged.push(Logger.jsonLogger.log(options), Logger.logfmtLogger.log(options))
      })
      yield* Effect.log(request).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
      expect(logged.join("\n")).not.toContain(Emulator.testApiKey)
      expect(logged.join("\n")).toContain("anthropic-version")
    }).pipe(withClaude()))

  it.live("authorization: Bearer (the official SDK's way) is redacted too", () =>
    Effect.gen(function*() {
      const request = yield* Effect.gen(function*() {
        const emulator = yield* Emulator.make({ apiKey: bearerKey })
        yield* Effect.promise(() =>
          fetch(`${emulator.url}/v1/messages`, {
            method: "POST",
            headers: { authorization: `Bearer ${bearerKey}`, "content-type": "application/json" },
            body: JSON.stringify(params)
          })
        )
        return (yield* emulator.requests)[0]!
      }).pipe(Effect.scoped)
      expect(request.headers["authorization"]).toBe(`Bearer ${bearerKey}`)
      for (const text of [JSON.stringify(request), JSON.stringify(request.headers), inspect(request), render(request)]) {
        expect(text).not.toContain(bearerKey)
      }
    }))
})
