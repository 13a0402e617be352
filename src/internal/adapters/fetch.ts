/**
 * `Resilience.fetch`: the whole policy as a `fetch` function, for the
 * official SDK (`new Anthropic({ fetch, maxRetries: 0 })`) or any client
 * that takes one. The caller's code needs no Effect: the adapter holds a
 * `ManagedRuntime` of its own (one breaker, one budget), built on its first
 * call and released by `dispose()`.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as ApiError from "../../ApiError.js"
import * as CircuitBreaker from "../../CircuitBreaker.js"
import type { InvalidOptionsError } from "../../Options.js"
import * as RetryBudget from "../../RetryBudget.js"
import type * as RetryPolicy from "../../RetryPolicy.js"
import { FetchDisposedError } from "./errors.js"
import {
  concatBounded,
  decodeFetchOptions,
  describeFailure,
  type Exchange,
  type Inspected,
  policyOf,
  rebuildable,
  secretsOf,
  send,
  utf8
} from "./policy.js"

/**
 * The signature of `fetch` as the official SDK takes it.
 *
 * @since 0.2.0
 * @category models
 */
export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>

/**
 * What `Resilience.fetch` takes. Every field is optional.
 *
 * @since 0.2.0
 * @category options
 */
export interface FetchOptions {
  /** The retry policy's options (`RetryPolicy.Options`); the defaults otherwise. */
  readonly retry?: RetryPolicy.Options | undefined
  /** The adapter's circuit breaker's options (`CircuitBreaker.Options`). */
  readonly breaker?: CircuitBreaker.Options | undefined
  /** The adapter's retry budget's options (`RetryBudget.Options`). */
  readonly budget?: RetryBudget.Options | undefined
  /** The `fetch` that sends each attempt; the global `fetch` (read at each call) otherwise. */
  readonly fetch?: Fetch | undefined
}

/**
 * A `fetch` function with the policy inside, and `dispose()` to release
 * what it holds.
 *
 * @since 0.2.0
 * @category models
 */
export interface ResilientFetch extends Fetch {
  /**
   * Interrupts the calls still running (each rejects with a
   * `FetchDisposedError`, and whatever it was sending is aborted), then
   * releases the adapter's runtime (its breaker and budget). Later calls
   * reject with a `FetchDisposedError` and send nothing. Idempotent: every
   * call returns the same promise. A response already handed back (a stream
   * being read) is the caller's, and is left alone.
   */
  readonly dispose: () => Promise<void>
  /** `dispose()`, for `await using`. */
  readonly [Symbol.asyncDispose]: () => Promise<void>
}

const disposedError = (during: boolean) =>
  new FetchDisposedError({
    message: during
      ? "The Resilience.fetch adapter was disposed while this call ran: it was interrupted"
      : "The Resilience.fetch adapter was disposed: nothing was sent"
  })

// ---------------------------------------------------------------------------
// one call
// ---------------------------------------------------------------------------

interface Prepared {
  readonly url: string
  readonly method: string
  readonly headers: Headers
  /** What each attempt passes to the underlying fetch, but its signal. */
  readonly init: RequestInit
}

type Untyped = Record<string, unknown>

/**
 * Reads the request once, as `fetch` would (a `Request` or a URL with its
 * init): its URL, method and headers (a content type derived from a
 * `FormData` or `URLSearchParams` body included), and its body buffered
 * once, so that every attempt can send it again. Every other field of
 * `init` (`dispatcher`, …) is passed on as it was, but `redirect`: a
 * redirect is never followed (`"manual"`), so the key never reaches another
 * origin; a 3xx is handed back as it came, and the SDK raises its error.
 */
const prepare = async (input: string | URL | Request, init: RequestInit | undefined): Promise<Prepared> => {
  const { signal: _signal, ...rest } = (init ?? {}) as RequestInit & Untyped
  const request = new Request(input, rest as RequestInit)
  const body = request.body === null ? undefined : await request.arrayBuffer()
  const { body: _body, duplex: _duplex, ...others } = rest
  return {
    url: request.url,
    method: request.method,
    headers: request.headers,
    init: {
      ...others,
      method: request.method,
      headers: request.headers,
      redirect: "manual",
      ...(body === undefined ? {} : { body })
    } as RequestInit
  }
}

/** The caller's signal and the attempt's interruption, as one signal. */
const linked = (caller: AbortSignal | undefined, interruption: AbortSignal): AbortSignal => {
  if (caller === undefined) return interruption
  const controller = new AbortController()
  const abort = () => controller.abort(caller.aborted ? caller.reason : interruption.reason)
  if (caller.aborted || interruption.aborted) {
    abort()
  } else {
    caller.addEventListener("abort", abort, { once: true })
    interruption.addEventListener("abort", abort, { once: true })
  }
  return controller.signal
}

/**
 * Reads a non-2xx response's body, at most `ApiError.maxErrorBodyBytes`
 * (the rest is cancelled), and rebuilds the response with it: same status,
 * status text, headers and body, for the caller to read if the policy gives
 * up. A response without a body, or whose status a `Response` cannot be
 * built with, is handed back unread.
 */
const inspect = (response: Response): Effect.Effect<Inspected<Response>, unknown> => {
  const headers: Record<string, string> = {}
  response.headers.forEach((value, name) => {
    headers[name] = value
  })
  const stream = response.body
  if (stream === null || !rebuildable(response.status)) {
    return Effect.succeed({ body: "", headers, handBack: response })
  }
  return Effect.tryPromise({
    try: async () => {
      const reader = stream.getReader()
      const chunks: Array<Uint8Array> = []
      let size = 0
      while (size < ApiError.maxErrorBodyBytes) {
        const { done, value } = await reader.read()
        if (done) break
        chunks.push(value)
        size += value.length
      }
      if (size >= ApiError.maxErrorBodyBytes) await reader.cancel().catch(() => undefined)
      const bytes = concatBounded(chunks)
      const handBack = new Response(bytes, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers
      })
      return { body: utf8(bytes), headers, handBack }
    },
    catch: (failure) => failure
  })
}

const signalOf = (input: string | URL | Request, init: RequestInit | undefined): AbortSignal | undefined => {
  const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined)
  return signal ?? undefined
}

const call = (
  input: string | URL | Request,
  init: RequestInit | undefined,
  policy: RetryPolicy.RetryPolicy,
  underlying: Fetch | undefined
): Effect.Effect<Response, unknown, CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget> =>
  Effect.gen(function*() {
    const signal = signalOf(input, init)
    const prepared = yield* Effect.tryPromise({ try: () => prepare(input, init), catch: (failure) => failure })
    const secrets = secretsOf((name) => prepared.headers.get(name))
    // an attempt cut short by the caller's abort is the caller's, not the policy's
    const orAborted = <A>(effect: Effect.Effect<A, unknown>): Effect.Effect<A, unknown> =>
      Effect.catchAll(effect, (failure) => (signal?.aborted === true ? Effect.interrupt : Effect.fail(failure)))
    const exchange: Exchange<Response, unknown> = {
      send: orAborted(Effect.tryPromise({
        try: (interruption) =>
          (underlying ?? globalThis.fetch)(prepared.url, { ...prepared.init, signal: linked(signal, interruption) }),
        catch: (failure) => failure
      })),
      status: (response) => response.status,
      inspect: (response) => orAborted(inspect(response)),
      transport: (failure, during) =>
        Effect.succeed(ApiError.transportError({
          reason: during,
          method: prepared.method,
          url: prepared.url,
          detail: describeFailure(failure)
        }))
    }
    const path = URL.canParse(prepared.url) ? new URL(prepared.url).pathname : ""
    return yield* Effect.tracerWith((tracer) =>
      send(exchange, policy, secrets).pipe(
        Effect.withSpan("Resilience.fetch", {
          kind: "client",
          attributes: { "http.request.method": prepared.method, "url.path": path }
        }),
        Effect.withTracer(secrets.tracer(tracer))
      )
    )
  })

// ---------------------------------------------------------------------------
// the adapter
// ---------------------------------------------------------------------------

const withDispose = (run: Fetch, dispose: () => Promise<void>): ResilientFetch => {
  const adapter = Object.assign(run, { dispose }) as Fetch & { dispose: () => Promise<void> }
  // `Symbol.asyncDispose` exists from Node 20.4 (and in every later line)
  if (typeof Symbol.asyncDispose === "symbol") {
    Object.defineProperty(adapter, Symbol.asyncDispose, { value: dispose })
  }
  return adapter as ResilientFetch
}

/**
 * The adapter's runtime: its breaker and budget, and whatever the layer
 * given to {@link build} adds.
 *
 * @internal
 */
export type AdapterRuntime = ManagedRuntime.ManagedRuntime<
  CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget,
  InvalidOptionsError
>

/**
 * Builds the adapter (see {@link make}), and hands out its runtime (none
 * for invalid options), for the tests that drive its `TestClock`.
 *
 * @internal
 */
export const build = (
  options?: FetchOptions,
  layer: Layer.Layer<never> = Layer.empty
): { readonly adapter: ResilientFetch; readonly runtime: AdapterRuntime | undefined } => {
  const decoded = decodeFetchOptions(options)
  if (Either.isLeft(decoded)) {
    const error: InvalidOptionsError = decoded.left
    // nothing is built and nothing is ever sent: every call rejects with the problems
    return { adapter: withDispose(() => Promise.reject(error), () => Promise.resolve()), runtime: undefined }
  }
  const settings = decoded.right
  const policy = policyOf(settings.retry)
  const runtime = ManagedRuntime.make(
    Layer.provideMerge(Layer.merge(CircuitBreaker.layer(settings.breaker), RetryBudget.layer(settings.budget)), layer)
  )
  const running = new Set<Fiber.RuntimeFiber<Response, unknown>>()
  let disposing: Promise<void> | undefined

  const run: Fetch = (input, init) => {
    if (disposing !== undefined) return Promise.reject(disposedError(false))
    let signal: AbortSignal | undefined
    try {
      signal = signalOf(input, init)
    } catch (failure) {
      return Promise.reject(failure)
    }
    if (signal?.aborted === true) return Promise.reject(signal.reason)
    return new Promise<Response>((resolve, reject) => {
      const fiber = runtime.runFork(call(input, init, policy, settings.fetch))
      running.add(fiber)
      const onAbort = () => fiber.unsafeInterruptAsFork(FiberId.none)
      signal?.addEventListener("abort", onAbort, { once: true })
      fiber.addObserver((exit) => {
        running.delete(fiber)
        signal?.removeEventListener("abort", onAbort)
        if (Exit.isSuccess(exit)) {
          resolve(exit.value)
        } else if (Cause.isInterruptedOnly(exit.cause)) {
          reject(signal?.aborted === true ? signal.reason : disposedError(true))
        } else {
          // the failure as it came (a transport failure, a CircuitOpenError), or a defect
          reject(Cause.squash(exit.cause))
        }
      })
    })
  }

  const dispose = (): Promise<void> => {
    if (disposing === undefined) {
      disposing = Effect.runPromise(Fiber.interruptAll([...running])).then(() => runtime.dispose())
    }
    return disposing
  }

  return { adapter: withDispose(run, dispose), runtime }
}

/**
 * Builds the adapter; `layer` (tests only) is built first and its services
 * and settings (a `TestClock`, a fixed `Random`, a logger, a tracer) are
 * those of the adapter's runtime.
 *
 * @internal
 */
export const make = (options?: FetchOptions, layer: Layer.Layer<never> = Layer.empty): ResilientFetch =>
  build(options, layer).adapter
