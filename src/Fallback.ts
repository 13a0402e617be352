/**
 * A typed fallback chain for `messages.create` and `messages.stream`: when
 * the primary model is red, the call goes to the next path of an ordered
 * list of alternatives (another model, or a function that returns a cached
 * or degraded answer).
 *
 * The Claude API's guidance on errors (https://docs.anthropic.com/en/api/errors)
 * says to fall back when the API is overloaded: a 529 storm or an outage is
 * not fixed by waiting, and another model (or an answer that does without
 * one) serves the user meanwhile.
 *
 * A path is left for the next one when it fails with
 *
 * - `CircuitOpenError`: its model's breaker is open (nothing was sent);
 * - `OverloadedError` (529) or `ServiceUnavailableError` (503): the retries
 *   ended on an overload or an unavailability, whatever ended them
 *   (`maxRetries`, `maxElapsed`, the retry budget, or the status page
 *   showing an incident, which stops them at once);
 * - a tag named in the `on` option (for example `"InvalidRequestError"`, a
 *   prompt over the context window, to a model with a larger window).
 *
 * Any other error (a fatal one: a 400, a 401, a spend limit) ends the
 * chain at once: it would fail the same way on every path. An answer
 * function that fails moves on to the next path too.
 *
 * Each model gets a client of its own, built by the `client` effect (for
 * example `Claude.make(options)`) over a `CircuitBreaker` and a
 * `RetryBudget` of its own (the breaker named `<name>/<model>`): an
 * overloaded primary opens its own breaker, never its fallback's.
 *
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Redacted } from "effect"
 * import { Claude, Fallback } from "claude-resilience"
 *
 * declare const key: string
 *
 * const program = Effect.gen(function*() {
 *   const chain = yield* Fallback.make({
 *     client: Claude.make({ apiKey: Redacted.make(key) }),
 *     alternatives: [
 *       Fallback.model("claude-haiku-5-5"),
 *       Fallback.answer(() => Effect.fail("no cached answer" as const))
 *     ]
 *   })
 *   const answered = yield* chain.create({
 *     model: "claude-sonnet-5-5",
 *     max_tokens: 256,
 *     messages: [{ role: "user", content: "Hello" }]
 *   })
 *   return `${Fallback.describePath(answered.path)}: ${answered.failures.length} failed first`
 * }).pipe(Effect.scoped, Effect.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.2.0
 */
import type { NonEmptyReadonlyArray } from "effect/Array"
import type * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SynchronizedRef from "effect/SynchronizedRef"
import * as CircuitBreaker from "./CircuitBreaker.js"
import type * as Claude from "./Claude.js"
import * as internal from "./internal/fallback.js"
import { decodeOptions, optional, satisfying } from "./internal/options.js"
import type * as Messages from "./Messages.js"
import type * as MessageStream from "./MessageStream.js"
import { InvalidOptionsError } from "./Options.js"
import type * as Preflight from "./Preflight.js"
import * as Resilience from "./Resilience.js"
import * as RetryBudget from "./RetryBudget.js"

// ---------------------------------------------------------------------------
// alternatives and paths
// ---------------------------------------------------------------------------

/**
 * Why a call to a model failed: the errors of `messages.create` (and of a
 * stream before its first event).
 *
 * @example
 * ```ts
 * import type { Fallback } from "claude-resilience"
 *
 * const tag = (error: Fallback.CallError): string => error._tag
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export type CallError = Claude.StreamError | Preflight.LongRequestError

/**
 * The tag of a {@link CallError}: what the `on` option names.
 *
 * @example
 * ```ts
 * import type { Fallback } from "claude-resilience"
 *
 * const tags: ReadonlyArray<Fallback.Tag> = ["InvalidRequestError"]
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export type Tag = CallError["_tag"]

/**
 * The tags that move a call to its next path without being named:
 * `CircuitOpenError`, `OverloadedError` (529) and `ServiceUnavailableError`
 * (503).
 *
 * @example
 * ```ts
 * import { Fallback } from "claude-resilience"
 *
 * Fallback.defaultTags.has("OverloadedError") // true
 * ```
 *
 * @since 0.2.0
 * @category constants
 */
export const defaultTags: ReadonlySet<Tag> = new Set<Tag>([
  "CircuitOpenError",
  "OverloadedError",
  "ServiceUnavailableError"
])

/**
 * Where an answer came from, or which path failed:
 *
 * - `Primary`: the request as given, to its own `model`;
 * - `Model`: the alternative at `index` (0-based in `alternatives`), the
 *   request sent to `model`;
 * - `Answer`: the answer function at `index`.
 *
 * @example
 * ```ts
 * import type { Fallback } from "claude-resilience"
 *
 * const fromCache = (path: Fallback.Path) => path._tag === "Answer"
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export type Path =
  | { readonly _tag: "Primary"; readonly model: string }
  | { readonly _tag: "Model"; readonly index: number; readonly model: string }
  | { readonly _tag: "Answer"; readonly index: number }

/**
 * A path in a few words: `primary (claude-sonnet-5-5)`,
 * `alternative 0 (claude-haiku-5-5)`, `alternative 1 (answer)`.
 *
 * @example
 * ```ts
 * import { Fallback } from "claude-resilience"
 *
 * Fallback.describePath({ _tag: "Model", index: 0, model: "claude-haiku-5-5" }) // "alternative 0 (claude-haiku-5-5)"
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export const describePath = (path: Path): string =>
  path._tag === "Primary"
    ? `primary (${path.model})`
    : path._tag === "Model"
    ? `alternative ${path.index} (${path.model})`
    : `alternative ${path.index} (answer)`

/**
 * A path that failed, and its error.
 *
 * @example
 * ```ts
 * import type { Fallback } from "claude-resilience"
 *
 * const line = (failure: Fallback.Failure<Fallback.CallError>) => `${failure.path._tag}: ${failure.error._tag}`
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Failure<E> {
  readonly path: Path
  readonly error: E
}

/**
 * An answer: the `value`, the `path` that gave it, and the `failures` of the
 * paths tried before it, in order (empty when the primary answered).
 *
 * @example
 * ```ts
 * import type { Fallback, Messages } from "claude-resilience"
 *
 * const degraded = (answered: Fallback.Answered<Messages.Message, Fallback.CallError>) => answered.path._tag !== "Primary"
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Answered<A, E> {
  readonly value: A
  readonly path: Path
  readonly failures: ReadonlyArray<Failure<E>>
}

/**
 * One alternative: another `model` (the request sent to it as it is, or as
 * `params` rewrites it).
 *
 * @example
 * ```ts
 * import { Fallback } from "claude-resilience"
 *
 * const alternative: Fallback.ModelAlternative = Fallback.model("claude-haiku-5-5")
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface ModelAlternative {
  readonly _tag: "Model"
  readonly model: string
  readonly params: Option.Option<(params: Messages.MessageCreateParams) => Messages.MessageCreateParams>
}

/**
 * One alternative: a function that returns an answer without the API (a
 * cached answer, a degraded one), given the request and the failures so
 * far. Its failure moves the call on to the next path.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Fallback } from "claude-resilience"
 *
 * const alternative: Fallback.AnswerAlternative<"miss", never> = Fallback.answer(() => Effect.fail("miss" as const))
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface AnswerAlternative<E, R> {
  readonly _tag: "Answer"
  readonly answer: (
    params: Messages.MessageCreateParams,
    failures: ReadonlyArray<Failure<unknown>>
  ) => Effect.Effect<Messages.Message, E, R>
}

/**
 * One path of the chain after the primary: {@link model} or {@link answer}.
 *
 * @example
 * ```ts
 * import { Fallback } from "claude-resilience"
 *
 * const alternatives: ReadonlyArray<Fallback.Alternative> = [Fallback.model("claude-haiku-5-5")]
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export type Alternative<E = never, R = never> = ModelAlternative | AnswerAlternative<E, R>

/**
 * The error type of the answer functions among `A`.
 *
 * @example
 * ```ts
 * import type { Effect } from "effect"
 * import type { Fallback } from "claude-resilience"
 *
 * type Miss = Fallback.AlternativeError<Fallback.AnswerAlternative<"miss", never>> // "miss"
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export type AlternativeError<A> = A extends AnswerAlternative<infer E, infer _R> ? E : never

/**
 * The context the answer functions among `A` need.
 *
 * @example
 * ```ts
 * import type { Fallback } from "claude-resilience"
 *
 * type None = Fallback.AlternativeContext<Fallback.ModelAlternative> // never
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export type AlternativeContext<A> = A extends AnswerAlternative<infer _E, infer R> ? R : never

/**
 * An alternative that sends the request to `model`, optionally rewritten by
 * `params` (for example a smaller `max_tokens`); its `model` is always
 * `model`.
 *
 * @example
 * ```ts
 * import { Fallback } from "claude-resilience"
 *
 * const haiku = Fallback.model("claude-haiku-5-5", { params: (params) => ({ ...params, max_tokens: 512 }) })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const model = (
  model: string,
  options?: {
    readonly params?: ((params: Messages.MessageCreateParams) => Messages.MessageCreateParams) | undefined
  }
): ModelAlternative => ({ _tag: "Model", model, params: Option.fromNullable(options?.params) })

/**
 * An alternative that answers without the API: `f` gets the request and
 * the failures so far and returns a `Message` (cached, canned, degraded).
 * Its error and context are the chain's, typed.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Fallback, type Messages } from "claude-resilience"
 *
 * declare const cached: (params: Messages.MessageCreateParams) => Effect.Effect<Messages.Message, "miss">
 *
 * const fromCache = Fallback.answer((params) => cached(params))
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const answer = <E = never, R = never>(
  f: (
    params: Messages.MessageCreateParams,
    failures: ReadonlyArray<Failure<unknown>>
  ) => Effect.Effect<Messages.Message, E, R>
): AnswerAlternative<E, R> => ({ _tag: "Answer", answer: f })

const isAlternative = (u: unknown): u is Alternative<unknown, unknown> =>
  Predicate.isRecord(u) && (
    (u._tag === "Model" && typeof u.model === "string" && u.model.length > 0 && Option.isOption(u.params)) ||
    (u._tag === "Answer" && typeof u.answer === "function")
  )

// ---------------------------------------------------------------------------
// errors
// ---------------------------------------------------------------------------

/**
 * A chain that ended without an answer: the `failures` of every path it
 * tried, in order (the primary's first). `exhausted` is `true` when every
 * path was tried, `false` when a path failed with an error that does not
 * fall back (a fatal one), which ended the chain before its last path.
 *
 * @example
 * ```ts
 * import type { Fallback } from "claude-resilience"
 *
 * const last = (error: Fallback.FallbackError<Fallback.CallError>) => error.failures[error.failures.length - 1]!.error
 * ```
 *
 * @since 0.2.0
 * @category errors
 */
export interface FallbackError<E> extends Cause.YieldableError {
  readonly _tag: "FallbackError"
  readonly failures: NonEmptyReadonlyArray<Failure<E>>
  readonly exhausted: boolean
}

class FallbackErrorImpl extends Data.TaggedError("FallbackError")<{
  readonly failures: NonEmptyReadonlyArray<Failure<unknown>>
  readonly exhausted: boolean
  readonly message: string
}> {}

const tagOf = (error: unknown): string =>
  Predicate.hasProperty(error, "_tag") && typeof error._tag === "string"
    ? error._tag
    : typeof error === "string"
    ? JSON.stringify(error.slice(0, 40))
    : typeof error

const requestIdOf = (error: unknown): Option.Option<string> =>
  Predicate.hasProperty(error, "requestId") && Option.isOption(error.requestId)
    ? Option.filter(error.requestId as Option.Option<unknown>, Predicate.isString)
    : Option.none()

/**
 * Builds a {@link FallbackError}; its message lists each path and the tag
 * of its error (never a request's content or a key).
 *
 * @example
 * ```ts
 * import { Fallback } from "claude-resilience"
 *
 * const error = Fallback.FallbackError({
 *   failures: [{ path: { _tag: "Primary", model: "claude-sonnet-5-5" }, error: "down" }],
 *   exhausted: true
 * })
 * ```
 *
 * @since 0.2.0
 * @category errors
 */
export const FallbackError = <E>(
  args: { readonly failures: NonEmptyReadonlyArray<Failure<E>>; readonly exhausted: boolean }
): FallbackError<E> =>
  new FallbackErrorImpl({
    ...args,
    message: `${args.exhausted ? "every path of the fallback chain failed" : "the fallback chain ended on an error that does not fall back"}: ${
      args.failures.map((f) => `${describePath(f.path)}: ${tagOf(f.error)}`).join("; ")
    }`
  }) as unknown as FallbackError<E>

/**
 * Whether `u` is a {@link FallbackError}.
 *
 * @example
 * ```ts
 * import { Fallback } from "claude-resilience"
 *
 * const isChainFailure = (u: unknown) => Fallback.isFallbackError(u)
 * ```
 *
 * @since 0.2.0
 * @category guards
 */
export const isFallbackError = (u: unknown): u is FallbackError<unknown> => u instanceof FallbackErrorImpl

// ---------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------

const isTag = (u: unknown): u is string => typeof u === "string" && /^[A-Za-z]\w{0,99}$/.test(u)

/**
 * The options of {@link make} as a Schema (checked only: the generic types
 * of {@link Options} are what users write). Unknown keys are refused.
 *
 * - `client` (required): an effect that builds a client, such as
 *   `Claude.make(options)`; it is run once per model, over a breaker and a
 *   budget of that model's own.
 * - `alternatives` (required, at least one): {@link model} and
 *   {@link answer} alternatives, tried in order.
 * - `on`: more error tags that move a call to its next path, beyond
 *   {@link defaultTags} (a fatal one only when named here).
 * - `resilience`: the options of each model's breaker and budget
 *   (`Resilience.Options`); the breaker's `name` (default `"default"`)
 *   becomes `<name>/<model>`. A breaker `store` is refused: one store is
 *   one breaker's state, which every model would share.
 *
 * @example
 * ```ts
 * import { Either, Schema } from "effect"
 * import { Fallback } from "claude-resilience"
 *
 * const ok = Either.isRight(Schema.decodeUnknownEither(Fallback.OptionsSchema)({ alternatives: [] })) // false
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export const OptionsSchema = Schema.Struct({
  client: Schema.propertySignature(
    satisfying("an Effect that builds a Claude client, such as Claude.make(options)", Effect.isEffect)
  ).annotations({ missingMessage: () => "is required: an Effect that builds a Claude client, such as Claude.make(options)" }),
  alternatives: Schema.propertySignature(
    Schema.Array(satisfying("an alternative: Fallback.model(name) or Fallback.answer(f)", isAlternative)).pipe(
      Schema.filter((list) => list.length > 0 || "must list at least one alternative")
    )
  ).annotations({ missingMessage: () => "is required: at least one alternative" }),
  on: optional(Schema.Array(satisfying("an error tag, such as \"InvalidRequestError\"", isTag))),
  resilience: optional(Resilience.Options)
})

/**
 * What {@link make} takes (see {@link OptionsSchema} for each option).
 *
 * @example
 * ```ts
 * import { Redacted } from "effect"
 * import { Claude, Fallback } from "claude-resilience"
 *
 * declare const key: string
 *
 * const options: Fallback.Options<unknown, unknown, ReadonlyArray<Fallback.Alternative>> = {
 *   client: Claude.make({ apiKey: Redacted.make(key) }),
 *   alternatives: [Fallback.model("claude-haiku-5-5")],
 *   on: ["InvalidRequestError"],
 *   resilience: { breaker: { name: "claude" } }
 * }
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export interface Options<CE, CR, Alts extends ReadonlyArray<Alternative<any, any>>> {
  readonly client: Effect.Effect<Claude.Service, CE, CR>
  readonly alternatives: Alts
  readonly on?: ReadonlyArray<Tag> | undefined
  readonly resilience?: Resilience.Options | undefined
}

const decodeSettings = decodeOptions("Fallback", OptionsSchema)

// ---------------------------------------------------------------------------
// observability
// ---------------------------------------------------------------------------

/**
 * Calls through a chain, by the path that answered
 * (`claude_resilience_fallback_answers_total`, tag `path`: `primary`,
 * `model`, `answer`, or `none` when the chain failed).
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { Fallback } from "claude-resilience"
 *
 * const degraded = Metric.value(Metric.tagged(Fallback.answersTotal, "path", "answer"))
 * ```
 *
 * @since 0.2.0
 * @category metrics
 */
export const answersTotal = Metric.counter("claude_resilience_fallback_answers_total", {
  description: "Calls through a fallback chain, by the path that answered",
  incremental: true
})

/**
 * Fallbacks taken: a path left for the next one, by the tag of the error
 * that made it (`claude_resilience_fallbacks_taken_total`, tag `error`).
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { Fallback } from "claude-resilience"
 *
 * const onOverload = Metric.value(Metric.tagged(Fallback.takenTotal, "error", "OverloadedError"))
 * ```
 *
 * @since 0.2.0
 * @category metrics
 */
export const takenTotal = Metric.counter("claude_resilience_fallbacks_taken_total", {
  description: "Fallbacks taken, by the tag of the error that made them",
  incremental: true
})

const pathAttributes = (path: Path): Record<string, string | number> =>
  path._tag === "Primary"
    ? { "fallback.path": "primary", "fallback.model": path.model }
    : path._tag === "Model"
    ? { "fallback.path": "model", "fallback.index": path.index, "fallback.model": path.model }
    : { "fallback.path": "answer", "fallback.index": path.index }

// ---------------------------------------------------------------------------
// the service
// ---------------------------------------------------------------------------

/**
 * A fallback chain:
 *
 * - `create(params)`: `messages.create` on the primary path (the request's
 *   own `model`), then on each alternative in turn while a path fails with
 *   an error that falls back; succeeds with the {@link Answered} message,
 *   or fails with a {@link FallbackError} listing every failure;
 * - `stream(params)`: the same for `messages.stream`, while nothing has
 *   been emitted: a path is replaced only when its stream fails before its
 *   first event. It succeeds, in the scope, with the stream that answered
 *   (an answer function's `Message` as its events); a failure after the
 *   first event ends that stream with its own error, unreplaced;
 * - `breaker(model)`: the breaker of `model`'s client, once one was built.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { Fallback, Messages } from "claude-resilience"
 *
 * declare const chain: Fallback.Service<never, never>
 * declare const params: Messages.MessageCreateParams
 *
 * const text = Effect.map(chain.create(params), (answered) => answered.value.content)
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Service<E, R> {
  readonly create: (
    params: Messages.MessageCreateParams
  ) => Effect.Effect<Answered<Messages.Message, E>, FallbackError<E>, R>
  readonly stream: (
    params: Messages.MessageCreateParams
  ) => Effect.Effect<
    Answered<Stream.Stream<MessageStream.MessageStreamEvent, Claude.StreamError>, E>,
    FallbackError<E>,
    R | Scope.Scope
  >
  readonly breaker: (model: string) => Effect.Effect<Option.Option<CircuitBreaker.Service>>
}

/** The request's model, read safely: untyped code may pass anything as params (the client then refuses them, typed). */
const modelOf = (params: unknown): string =>
  Predicate.isRecord(params) && typeof params.model === "string" ? params.model : "(no model)"

interface Step<A> {
  readonly path: Path
  readonly isAnswer: boolean
  readonly run: Effect.Effect<A, unknown, unknown>
}

/**
 * Builds a chain. Invalid options fail with `Options.InvalidOptionsError`
 * (module `"Fallback"`, every problem at its path) before anything is
 * built. The clients of the alternatives' models are built at once (so a
 * client that cannot be built fails here, with its own error); the
 * primary's, per model, on its first call. The breakers live in the scope.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Redacted } from "effect"
 * import { Claude, Fallback } from "claude-resilience"
 *
 * declare const key: string
 *
 * const chain = Fallback.make({
 *   client: Claude.make({ apiKey: Redacted.make(key) }),
 *   alternatives: [Fallback.model("claude-haiku-5-5")],
 *   resilience: { breaker: { minimumCalls: 20 } }
 * }).pipe(Effect.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = <
  const Alts extends ReadonlyArray<Alternative<any, any>>,
  CE = never,
  CR = never
>(
  options: Options<CE, CR, Alts>
): Effect.Effect<
  Service<CallError | CE | AlternativeError<Alts[number]>, AlternativeContext<Alts[number]>>,
  InvalidOptionsError | CE,
  Exclude<CR, CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget> | Scope.Scope
> =>
  Effect.gen(function*() {
    type E = CallError | CE | AlternativeError<Alts[number]>
    type R = AlternativeContext<Alts[number]>
    const config = yield* decodeSettings(options)
    if (config.resilience?.breaker?.store !== undefined) {
      // one store is one state: every model's breaker would be the same breaker
      return yield* Effect.fail(InvalidOptionsError.of("Fallback", [{
        path: "resilience.breaker.store",
        message:
          "is not an option of a fallback chain: a store holds one breaker's state, and every model's breaker would share it (an overloaded primary would open the fallback's); leave it out"
      }]))
    }
    const client = options.client
    const alternatives = config.alternatives
    const fallsBack = new Set<string>([...defaultTags, ...(config.on ?? [])])
    const breakerName = config.resilience?.breaker?.name ?? CircuitBreaker.defaults.name
    const scope = yield* Effect.scope
    const context = yield* Effect.context<Exclude<CR, CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget>>()

    interface Built {
      readonly client: Claude.Service
      readonly breaker: CircuitBreaker.Service
    }
    const clients = yield* SynchronizedRef.make(new Map<string, Built>())

    // the breaker's and the budget's options were decoded above by their own
    // Schemas (inside Resilience.Options), and any string is a breaker name:
    // building them cannot fail
    const build = (name: string): Effect.Effect<Built, CE> =>
      Effect.gen(function*() {
        const breaker = yield* Effect.orDie(
          CircuitBreaker.make({ ...config.resilience?.breaker, name: `${breakerName}/${name}` })
        )
        const budget = yield* Effect.orDie(RetryBudget.make(config.resilience?.budget))
        const built = yield* client.pipe(
          Effect.provideService(CircuitBreaker.CircuitBreaker, breaker),
          Effect.provideService(RetryBudget.RetryBudget, budget),
          Effect.provide(context)
        ) as Effect.Effect<Claude.Service, CE>
        return { client: built, breaker }
      }).pipe(Scope.extend(scope))

    const builtFor = (name: string): Effect.Effect<Built, CE> =>
      SynchronizedRef.modifyEffect(clients, (map) => {
        const found = map.get(name)
        return found !== undefined
          ? Effect.succeed([found, map] as const)
          : Effect.map(build(name), (built) => [built, new Map(map).set(name, built)] as const)
      })

    // the alternatives' clients now: a client that cannot be built fails make
    for (const alternative of alternatives) {
      if (alternative._tag === "Model") yield* builtFor(alternative.model)
    }

    const steps = <A>(
      params: Messages.MessageCreateParams,
      onModel: (client: Claude.Service, params: Messages.MessageCreateParams) => Effect.Effect<A, unknown, unknown>,
      onAnswer: (message: Messages.Message) => A
    ) =>
    (failures: ReadonlyArray<Failure<unknown>>): ReadonlyArray<Step<A>> => {
      const primary: Step<A> = {
        path: { _tag: "Primary", model: modelOf(params) },
        isAnswer: false,
        run: Effect.flatMap(builtFor(modelOf(params)), (built) => onModel(built.client, params))
      }
      const rest = alternatives.map((alternative, index): Step<A> =>
        alternative._tag === "Model"
          ? {
            path: { _tag: "Model", index, model: alternative.model },
            isAnswer: false,
            run: Effect.flatMap(builtFor(alternative.model), (built) =>
              onModel(built.client, {
                ...Option.match(alternative.params, { onNone: () => params, onSome: (f) => f(params) }),
                model: alternative.model
              }))
          }
          : {
            path: { _tag: "Answer", index },
            isAnswer: true,
            run: Effect.map(Effect.suspend(() => alternative.answer(params, failures)), onAnswer)
          }
      )
      return [primary, ...rest]
    }

    const chain = <A>(
      params: Messages.MessageCreateParams,
      plan: (failures: ReadonlyArray<Failure<unknown>>) => ReadonlyArray<Step<A>>
    ): Effect.Effect<Answered<A, E>, FallbackError<E>, R> => {
      const loop = (index: number, failures: ReadonlyArray<Failure<unknown>>): Effect.Effect<Answered<A, unknown>, FallbackError<unknown>, unknown> => {
        const all = plan(failures)
        const step = all[index]!
        return Effect.matchEffect(step.run, {
          onSuccess: (value) =>
            Effect.as(
              Effect.zipRight(
                Effect.annotateCurrentSpan({ ...pathAttributes(step.path), "fallback.failures": failures.length }),
                Metric.increment(Metric.tagged(answersTotal, "path", pathAttributes(step.path)["fallback.path"] as string))
              ),
              { value, path: step.path, failures }
            ),
          onFailure: (error) => {
            const failed = [...failures, { path: step.path, error }] as unknown as NonEmptyReadonlyArray<Failure<unknown>>
            const next = all[index + 1]
            const tag = tagOf(error)
            const annotations = {
              "fallback.from": describePath(step.path),
              "fallback.error": tag,
              ...Option.match(requestIdOf(error), { onNone: () => ({}), onSome: (id) => ({ "request.id": id }) })
            }
            if (next !== undefined && (step.isAnswer || fallsBack.has(tag))) {
              return Effect.logWarning(
                `fallback taken: ${describePath(step.path)} failed with ${tag}; trying ${describePath(next.path)}`
              ).pipe(
                Effect.annotateLogs({ ...annotations, "fallback.to": describePath(next.path) }),
                Effect.zipRight(Metric.increment(Metric.tagged(takenTotal, "error", tag))),
                Effect.zipRight(loop(index + 1, failed))
              )
            }
            const error_ = FallbackError({ failures: failed, exhausted: next === undefined })
            return Effect.logWarning(error_.message).pipe(
              Effect.annotateLogs(annotations),
              Effect.zipRight(Effect.annotateCurrentSpan({ "fallback.path": "none", "fallback.failures": failed.length })),
              Effect.zipRight(Metric.increment(Metric.tagged(answersTotal, "path", "none"))),
              Effect.zipRight(Effect.fail(error_))
            )
          }
        })
      }
      return loop(0, []).pipe(
        Effect.withSpan("claude.fallback", { attributes: { "fallback.primary_model": modelOf(params) } })
      ) as Effect.Effect<Answered<A, E>, FallbackError<E>, R>
    }

    return {
      create: (params) =>
        chain(params, steps(params, (c, p) => c.messages.create(p), (message) => message)),
      stream: (params) =>
        chain(
          params,
          steps<Stream.Stream<MessageStream.MessageStreamEvent, Claude.StreamError>>(
            params,
            (c, p) => Effect.flatMap(internal.firstChunk(c.messages.stream(p)), Either.match({
              onLeft: (e) => Effect.fail(e),
              onRight: (stream) => Effect.succeed(stream)
            })),
            (message) => Stream.fromIterable(internal.eventsOf(message))
          )
        ),
      breaker: (name) =>
        Effect.map(SynchronizedRef.get(clients), (map) => Option.map(Option.fromNullable(map.get(name)), (b) => b.breaker))
    } satisfies Service<E, R | Scope.Scope> as Service<E, R>
  })

/**
 * {@link make} as a Layer of the {@link Fallback} tag, for a chain of
 * plain model alternatives and answer functions that need nothing.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Layer, Redacted } from "effect"
 * import { Claude, Fallback } from "claude-resilience"
 *
 * declare const key: string
 *
 * const FallbackLive = Fallback.layer({
 *   client: Claude.make({ apiKey: Redacted.make(key) }),
 *   alternatives: [Fallback.model("claude-haiku-5-5")]
 * }).pipe(Layer.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = <const Alts extends ReadonlyArray<Alternative<any, never>>, CE = never, CR = never>(
  options: Options<CE, CR, Alts>
): Layer.Layer<Fallback, InvalidOptionsError | CE, Exclude<CR, CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget>> =>
  Layer.scoped(Fallback, make(options) as Effect.Effect<Service<unknown, never>, InvalidOptionsError | CE, Exclude<CR, CircuitBreaker.CircuitBreaker | RetryBudget.RetryBudget> | Scope.Scope>)

/**
 * A fallback chain as a service, provided by {@link layer}: the errors of
 * its paths typed `unknown`. Use {@link make} directly to keep them typed
 * (and for answer functions that need services).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Fallback, type Messages } from "claude-resilience"
 *
 * declare const params: Messages.MessageCreateParams
 *
 * const answered = Effect.flatMap(Fallback.Fallback, (chain) => chain.create(params))
 * ```
 *
 * @since 0.2.0
 * @category tags
 */
export class Fallback extends Context.Tag("claude-resilience/Fallback")<Fallback, Service<unknown, never>>() {}
