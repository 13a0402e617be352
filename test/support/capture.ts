/**
 * Capturing what a call leaves behind, for the tests that prove the API key
 * (or any secret) never leaks: a Tracer that records every span, a Logger
 * that records every line at every level, and `render`, every way a value
 * may be printed. `leaks(secret)` scans all of it.
 */
import { expect } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"
import { inspect } from "node:util"


/** One span, as the capturing Tracer saw it. */
export interface RecordedSpan {
  readonly name: string
  readonly attributes: Map<string, unknown>
  readonly parent: string | undefined
  readonly spanId: string
  readonly startTime: bigint
  readonly events: Array<{ readonly name: string; readonly attributes: unknown }>
  exit: Exit.Exit<unknown, unknown> | undefined
}

/** Every way a value may be printed: String, Node's inspect, JSON. */
export const render = (value: unknown): string => {
  const parts = [inspect(value, { depth: 12, showHidden: true })]
  for (const f of [String, JSON.stringify]) {
    try {
      parts.push(f(value) ?? "")
    } catch {
      // a value one of them cannot render is rendered by the others
    }
  }
  return parts.join("\n")
}

/**
 * A Tracer that records every span (name, parent, start time, attributes,
 * events, exit); `text()` is everything an exporter could print of them.
 */
export const makeTracer = () => {
  const spans: Array<RecordedSpan> = []
  let ids = 0
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind) => {
      const spanId = `span-${++ids}`
      const recorded: RecordedSpan = {
        name,
        spanId,
        parent: Option.getOrUndefined(Option.map(parent, (p) => p.spanId)),
        startTime,
        attributes: new Map(),
        events: [],
        exit: undefined
      }
      spans.push(recorded)
      const span: Tracer.Span = {
        _tag: "Span",
        name,
        spanId,
        traceId: Option.match(parent, { onNone: () => `trace-${spanId}`, onSome: (p) => p.traceId }),
        parent,
        context,
        status: { _tag: "Started", startTime },
        attributes: recorded.attributes,
        links: [...links],
        sampled: true,
        kind,
        end: (endTime, exit) => {
          recorded.exit = exit
          ;(span as { status: Tracer.SpanStatus }).status = { _tag: "Ended", startTime, endTime, exit }
        },
        attribute: (key, value) => {
          recorded.attributes.set(key, value)
        },
        event: (eventName, _startTime, attributes) => {
          recorded.events.push({ name: eventName, attributes })
        },
        addLinks: () => {}
      }
      return span
    },
    context: (f) => f()
  })
  const text = () =>
    spans.flatMap((span) => [
      span.name,
      ...[...span.attributes].map(([key, value]) => `${key}=${render(value)}`),
      ...span.events.map((event) => `${event.name} ${render(event.attributes)}`),
      // what an exporter records of a span's end: a failure's pretty cause
      // and each error's message and stack (never a success's value)
      span.exit === undefined || Exit.isSuccess(span.exit)
        ? ""
        : [Cause.pretty(span.exit.cause), ...Cause.prettyErrors(span.exit.cause).map((e) => `${e.message}\n${e.stack}`)]
          .join("\n")
    ]).join("\n")
  return { tracer, spans, text }
}

// ---------------------------------------------------------------------------
// a capturing Logger
// ---------------------------------------------------------------------------

/**
 * Captures every log record at every level: `lines` as Effect's own loggers
 * print them (logfmt, JSON, the pretty cause), and `raw`, the message
 * rendered by String, inspect and JSON, which no logger redacts.
 */
export const makeLogger = () => {
  const lines: Array<string> = []
  const raw: Array<string> = []
  const logger = Logger.make((options) => {
    lines.push(
      [Logger.logfmtLogger.log(options), Logger.jsonLogger.log(options), Cause.pretty(options.cause)].join("\n")
    )
    raw.push(render(options.message))
  })
  const layer = Layer.mergeAll(Logger.add(logger), Logger.minimumLogLevel(LogLevel.All))
  return { layer, lines, raw }
}

/** Everything a caller could print of an exit: the pretty cause, each failure rendered, its message. */
export const renderExit = (exit: Exit.Exit<unknown, unknown>): string =>
  Exit.isSuccess(exit)
    ? render(exit.value)
    : [
      Cause.pretty(exit.cause),
      render(exit.cause),
      ...[...Cause.failures(exit.cause)].flatMap((error) => [
        render(error),
        String(error),
        JSON.stringify(error) ?? "",
        String((error as Error).message)
      ])
    ].join("\n")

// ---------------------------------------------------------------------------
// both, for one test
// ---------------------------------------------------------------------------

/**
 * A Tracer and a Logger (at `LogLevel.All`) for one test: `provide` puts
 * them under an effect; `assertNoLeak(secret, exits)` fails when the secret
 * is in any exit, log line or span attribute, and `assertFinds` is its
 * control (the same scan finds a secret that is there).
 */
export const makeCapture = () => {
  const traced = makeTracer()
  const logged = makeLogger()
  const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    effect.pipe(Effect.provide(logged.layer), Effect.withTracer(traced.tracer))
  const everything = (exits: ReadonlyArray<Exit.Exit<unknown, unknown>>) => ({
    errors: exits.map(renderExit).join("\n"),
    logs: [...logged.lines, ...logged.raw].join("\n"),
    spans: traced.text()
  })
  const assertNoLeak = (secret: string, exits: ReadonlyArray<Exit.Exit<unknown, unknown>>) => {
    const seen = everything(exits)
    expect(seen.errors, "an error carries the secret").not.toContain(secret)
    expect(seen.logs, "a log line carries the secret").not.toContain(secret)
    expect(seen.spans, "a span carries the secret").not.toContain(secret)
  }
  return { traced, logged, provide, everything, assertNoLeak }
}

/**
 * The control of every leak scan: a secret logged at trace level, set as a
 * span attribute and put in an error is found by the same scan.
 */
export const controlCase = (secret: string) => {
  const capture = makeCapture()
  return Effect.gen(function*() {
    yield* Effect.logTrace(`echo ${secret}`).pipe(Effect.withSpan("control", { attributes: { leak: secret } }))
    const seen = capture.everything([Exit.fail(new Error(secret))])
    expect(seen.logs).toContain(secret)
    expect(seen.spans).toContain(secret)
    expect(seen.errors).toContain(secret)
  }).pipe(capture.provide)
}
