/**
 * The modelled Claude API, and what a run records.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type * as Random from "effect/Random"
import * as ApiError from "../../ApiError.js"

// ---------------------------------------------------------------------------
// answers: the library's own error values, built once per kind
// ---------------------------------------------------------------------------

const errorTypes: Record<number, string> = {
  429: "rate_limit_error",
  500: "api_error",
  503: "overloaded_error",
  529: "overloaded_error"
}

const cache = new Map<string, ApiError.ApiError>()

/**
 * The error a client gets for `status` (and `retry-after` seconds), decoded
 * by `ApiError.fromResponse` from the body and headers the API sends, so that
 * every policy sees the values a real client would.
 *
 * @internal
 */
export const errorFor = (status: number, retryAfterSeconds: number | undefined): ApiError.ApiError => {
  const key = `${status}/${retryAfterSeconds ?? ""}`
  const cached = cache.get(key)
  if (cached !== undefined) return cached
  const type = errorTypes[status] ?? "api_error"
  const error = ApiError.fromResponse({
    status,
    headers: retryAfterSeconds === undefined ? {} : { "retry-after": String(retryAfterSeconds) },
    body: JSON.stringify({ type: "error", error: { type, message: status === 429 ? "Rate limited" : "Overloaded" } }),
    now: 0
  })
  cache.set(key, error)
  return error
}

// ---------------------------------------------------------------------------
// the record of one run
// ---------------------------------------------------------------------------

/**
 * Everything one run of one policy records: each logical request's start,
 * end, calls and outcome; the calls the server received per bucket of time;
 * its answers by status.
 *
 * @internal
 */
export class Recorder {
  readonly starts: Array<number> = []
  readonly ends: Array<number> = []
  readonly calls: Array<number> = []
  readonly outcomes: Array<string> = []
  /** How many times each request ended: the invariant wants 1 for each. */
  readonly endings: Array<number> = []
  readonly load: Array<number> = []
  readonly responses = new Map<string, number>()
  totalCalls = 0

  constructor(readonly bucketMillis: number) {}

  start(now: number): number {
    const id = this.starts.length
    this.starts.push(now)
    this.ends.push(Number.NaN)
    this.calls.push(0)
    this.outcomes.push("")
    this.endings.push(0)
    return id
  }

  call(id: number, now: number): void {
    this.calls[id]!++
    this.totalCalls++
    const bucket = Math.floor(now / this.bucketMillis)
    while (this.load.length <= bucket) this.load.push(0)
    this.load[bucket]!++
  }

  response(status: number): void {
    const key = String(status)
    this.responses.set(key, (this.responses.get(key) ?? 0) + 1)
  }

  end(id: number, now: number, exit: Exit.Exit<unknown, unknown>): void {
    this.endings[id]!++
    this.ends[id] = now
    this.outcomes[id] = outcomeTag(exit)
  }
}

/**
 * How a logical request ended: `"Success"`, the tag of its typed failure,
 * or `"Defect"` / `"Interrupted"` (which the invariant forbids).
 *
 * @internal
 */
export const outcomeTag = (exit: Exit.Exit<unknown, unknown>): string => {
  if (Exit.isSuccess(exit)) return "Success"
  if (Cause.isDie(exit.cause)) return "Defect"
  return Option.match(Cause.failureOption(exit.cause), {
    onNone: () => (Cause.isInterruptedOnly(exit.cause) ? "Interrupted" : "Defect"),
    onSome: (error) =>
      typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string"
        ? error._tag
        : "UntypedFailure"
  })
}

// ---------------------------------------------------------------------------
// the fleet's server
// ---------------------------------------------------------------------------

/**
 * A window of time in which the server answers every call with `status`.
 *
 * @internal
 */
export interface OutageWindow {
  readonly fromMillis: number
  readonly toMillis: number
  readonly status: 529 | 503 | 500
}

/**
 * The fleet's server, as the run sees it.
 *
 * @internal
 */
export interface FleetServerSettings {
  readonly capacityPerSecond: number
  readonly outages: ReadonlyArray<OutageWindow>
  readonly quotaPerMinute: number | undefined
  readonly okLatencyMillis: number
  readonly errorLatencyMillis: number
}

/**
 * The modelled API: per second it serves `capacityPerSecond` calls; above
 * that, a call gets a 529 with probability `1 − capacity / load` (`load` the
 * calls received so far in that second), so the more it is asked the more it
 * refuses; in an outage window every call gets the window's status; a
 * client over its per-minute quota gets a 429 with `retry-after` the seconds
 * until the next minute. A success takes `okLatencyMillis`, an error
 * `errorLatencyMillis`.
 *
 * @internal
 */
export class FleetServer {
  private second = -1
  private inSecond = 0
  private readonly quotaMinute: Array<number>
  private readonly quotaUsed: Array<number>
  private readonly ok: Effect.Effect<void>

  constructor(
    readonly settings: FleetServerSettings,
    readonly clients: number,
    private readonly random: Random.Random,
    private readonly recorder: Recorder
  ) {
    this.quotaMinute = new Array<number>(clients).fill(-1)
    this.quotaUsed = new Array<number>(clients).fill(0)
    this.ok = Effect.sleep(settings.okLatencyMillis)
  }

  private fail(status: number, retryAfter?: number): Effect.Effect<never, ApiError.ApiError> {
    this.recorder.response(status)
    const error = errorFor(status, retryAfter)
    return Effect.zipRight(Effect.sleep(this.settings.errorLatencyMillis), Effect.fail(error))
  }


  /** One call from `client`, received at `now`. */
  answer(client: number, now: number): Effect.Effect<void, ApiError.ApiError> {
    const second = Math.floor(now / 1000)
    if (second !== this.second) {
      this.second = second
      this.inSecond = 0
    }
    this.inSecond++
    for (const outage of this.settings.outages) {
      if (now >= outage.fromMillis && now < outage.toMillis) return this.fail(outage.status)
    }
    const quota = this.settings.quotaPerMinute
    if (quota !== undefined) {
      const minute = Math.floor(now / 60_000)
      if (this.quotaMinute[client] !== minute) {
        this.quotaMinute[client] = minute
        this.quotaUsed[client] = 0
      }
      if (this.quotaUsed[client]! >= quota) {
        return this.fail(429, Math.max(1, Math.ceil(((minute + 1) * 60_000 - now) / 1000)))
      }
    }
    const capacity = this.settings.capacityPerSecond
    const accept = (): Effect.Effect<void, ApiError.ApiError> => {
      if (quota !== undefined) this.quotaUsed[client]!++
      this.recorder.response(200)
      return this.ok
    }
    if (this.inSecond <= capacity) return accept()
    const refuse = 1 - capacity / this.inSecond
    return Effect.flatMap(this.random.next, (r) => (r < refuse ? this.fail(529) : accept()))
  }
}

// ---------------------------------------------------------------------------
// the contended resource
// ---------------------------------------------------------------------------

/**
 * One record under optimistic concurrency control, behind a network whose
 * delay per leg has mean `meanMillis` and standard deviation `sdMillis`
 * (a sum of two uniform draws, so no leg is negative). A call's request
 * reaches the server after one leg, where it reads the record's version; its
 * write lands one round trip later and commits only if no other write
 * committed in between (else 529); the answer takes one more leg back.
 *
 * @internal
 */
export class ContendedRecord {
  private version = 0

  constructor(
    private readonly meanMillis: number,
    private readonly sdMillis: number,
    private readonly random: Random.Random,
    private readonly recorder: Recorder
  ) {}

  private readonly leg: Effect.Effect<void> = Effect.flatMap(
    Effect.zip(this.randomNext(), this.randomNext()),
    ([a, b]) => Effect.sleep(this.meanMillis + this.sdMillis * Math.sqrt(6) * (a + b - 1))
  )

  private randomNext() {
    return Effect.suspend(() => this.random.next)
  }

  /** One call: read, write, answer. */
  readonly call: Effect.Effect<void, ApiError.ApiError> = Effect.suspend(() => {
    let read = 0
    let committed = false
    return this.leg.pipe(
      Effect.tap(() => {
        read = this.version
      }),
      Effect.zipRight(this.leg),
      Effect.zipRight(this.leg),
      Effect.tap(() => {
        committed = this.version === read
        if (committed) this.version++
        this.recorder.response(committed ? 200 : 529)
      }),
      Effect.zipRight(this.leg),
      Effect.flatMap(() => (committed ? Effect.void : Effect.fail(errorFor(529, undefined))))
    )
  })
}
