/**
 * The rate limiter's pure state machine: what the limiter believes of each
 * quota of the organisation (from the `anthropic-ratelimit-*` snapshots of
 * the responses, and from what it admitted since), and whether a call of a
 * given cost may be sent now or must wait, and until when. Plain data only
 * (numbers and `null`), so that a state round-trips through JSON unchanged:
 * the Redis store keeps it as one JSON value.
 *
 * @internal
 */
import * as DateTime from "effect/DateTime"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { Quota, Snapshot } from "./snapshot.js"

/** The quotas the limiter acts on, in the order a wait is reported. */
export const kinds = ["requests", "inputTokens", "outputTokens", "tokens"] as const

/** @internal */
export type Kind = typeof kinds[number]

/**
 * What the limiter believes of one quota.
 *
 * - `limit`: the quota's size, from the last snapshot that gave it.
 * - `resetAt`: the instant (epoch ms) the server said the quota is fully
 *   replenished; `null` when no reset is pending (none known yet, or it has
 *   passed: the quota is then taken as full, `limit`).
 * - `remaining`: what may still be admitted before `resetAt`; `null` when
 *   no reset is pending, in which case `limit - spent` is what is left.
 * - `spent`: the cost admitted since the quota was last full.
 * - `lastSpendAt`: when a call was last admitted against it.
 *
 * @internal
 */
export interface QuotaState {
  readonly limit: number | null
  readonly remaining: number | null
  readonly resetAt: number | null
  readonly spent: number
  readonly lastSpendAt: number | null
}

/** @internal */
export interface State {
  readonly requests: QuotaState
  readonly inputTokens: QuotaState
  readonly outputTokens: QuotaState
  readonly tokens: QuotaState
  /** No call is sent before this instant (a 429's `retry-after`); 0 when none. */
  readonly blockedUntil: number
}

const freshQuota: QuotaState = { limit: null, remaining: null, resetAt: null, spent: 0, lastSpendAt: null }

/** @internal */
export const initialState: State = {
  requests: freshQuota,
  inputTokens: freshQuota,
  outputTokens: freshQuota,
  tokens: freshQuota,
  blockedUntil: 0
}

/** The cost of one call, per quota. */
/** @internal */
export type Cost = { readonly [K in Kind]: number }

/** @internal */
export interface Millis {
  /** How long a spent quota takes to be full again when the server has not said: its period. */
  readonly periodMillis: number
}

/** @internal */
export type Admission =
  | { readonly _tag: "Admit"; readonly next: State }
  | {
    readonly _tag: "Wait"
    /** The instant the call may be sent, as far as the limiter knows now. */
    readonly until: number
    /** Why: the spent quota, or `"retryAfter"` for a 429's block. */
    readonly reason: Kind | "retryAfter"
    /** The state as of now (expired resets applied), nothing admitted. */
    readonly next: State
  }

// a reset that has come makes the quota full again; so does one period
// without a call, for a quota spent before any response said when it refills
const advanceQuota = (q: QuotaState, now: number, periodMillis: number): QuotaState =>
  q.resetAt !== null
    ? now >= q.resetAt ? { limit: q.limit, remaining: null, resetAt: null, spent: 0, lastSpendAt: q.lastSpendAt } : q
    : q.spent > 0 && q.lastSpendAt !== null && now >= q.lastSpendAt + periodMillis
    ? { limit: q.limit, remaining: null, resetAt: null, spent: 0, lastSpendAt: q.lastSpendAt }
    : q

/**
 * The longest one response can hold the calls back: twice the period, and at
 * least two minutes. The API's quotas refill within their period (a minute);
 * the slack covers a reset moved later by calls still in flight and a clock a
 * little off. A reset or a `retry-after` further away (a clock far off, a
 * proxy that lies) is taken as this far: otherwise one response could stop
 * every call, and shared through Redis the whole fleet's, for a year.
 */
const longestHold = (periodMillis: number): number => 2 * Math.max(periodMillis, 60_000)

/** What is left of a quota: `Infinity` when nothing is known of it. */
const available = (q: QuotaState, limit: number | null = q.limit): number =>
  q.remaining !== null ? q.remaining : limit !== null ? limit - q.spent : Infinity

/**
 * How much later a quota is full again once `cost` more is spent: the API's
 * limits are token buckets that refill `limit` per `period`, so each unit
 * spent takes `period / limit` to come back. Whole milliseconds, rounded up.
 */
const refillMillis = (cost: number, limit: number, periodMillis: number): number =>
  limit > 0 ? Math.ceil((Math.min(cost, limit) * periodMillis) / limit) : 0

/** @internal */
export const advance = (state: State, now: number, settings: Millis): State => {
  const p = settings.periodMillis
  const requests = advanceQuota(state.requests, now, p)
  const inputTokens = advanceQuota(state.inputTokens, now, p)
  const outputTokens = advanceQuota(state.outputTokens, now, p)
  const tokens = advanceQuota(state.tokens, now, p)
  if (
    requests === state.requests && inputTokens === state.inputTokens && outputTokens === state.outputTokens &&
    tokens === state.tokens
  ) return state
  return { requests, inputTokens, outputTokens, tokens, blockedUntil: state.blockedUntil }
}

/**
 * Whether a call of `cost` may be sent at `now`:
 *
 * - not before a 429's `retry-after` (`blockedUntil`);
 * - for each quota, when what is left of it covers the cost; otherwise not
 *   before its reset instant, or, when the server gave none (the quota was
 *   spent since it was last full, before any response said when it refills),
 *   not before one `period` after the last admission against it, by which
 *   time a quota of that size has refilled whatever happened. A cost larger
 *   than the whole quota is admitted against a full quota (it is the
 *   server's to refuse), never made to wait for ever.
 *
 * The latest of these instants is the wait; an admitted call is debited
 * from every quota (`spent` and `remaining`), and a pending reset moves
 * later by the call's share of the period (`cost × period / limit`): the
 * API's quotas are token buckets, and the responses that will say so may
 * come back after the reset the limiter knows of.
 *
 * @internal
 */
export const admission = (state: State, cost: Cost, now: number, settings: Millis): Admission => {
  const current = advance(state, now, settings)
  let until = now
  let reason: Kind | "retryAfter" | undefined
  if (current.blockedUntil > now) {
    until = current.blockedUntil
    reason = "retryAfter"
  }
  for (const kind of kinds) {
    const q = current[kind]
    const c = cost[kind]
    if (c <= 0) continue
    const left = available(q)
    // a call larger than the whole quota goes when the quota is full
    const needed = q.limit !== null ? Math.min(c, q.limit) : c
    if (left >= needed) continue
    const at = q.resetAt !== null ? q.resetAt : (q.lastSpendAt ?? now) + settings.periodMillis
    if (at > until) {
      until = at
      reason = kind
    }
  }
  if (reason !== undefined && until > now) return { _tag: "Wait", until, reason, next: current }
  const debit = (q: QuotaState, c: number): QuotaState =>
    c <= 0 ? q : {
      limit: q.limit,
      remaining: q.remaining === null ? null : q.remaining - c,
      resetAt: q.resetAt === null || q.limit === null
        ? q.resetAt
        : q.resetAt + refillMillis(c, q.limit, settings.periodMillis),
      spent: q.spent + c,
      lastSpendAt: now
    }
  return {
    _tag: "Admit",
    next: {
      requests: debit(current.requests, cost.requests),
      inputTokens: debit(current.inputTokens, cost.inputTokens),
      outputTokens: debit(current.outputTokens, cost.outputTokens),
      tokens: debit(current.tokens, cost.tokens),
      blockedUntil: current.blockedUntil
    }
  }
}

const millisOf = (reset: Option.Option<DateTime.Utc>): number | null =>
  Option.isSome(reset) ? DateTime.toEpochMillis(reset.value) : null

/**
 * What one quota of a snapshot tells. The server's `remaining` counts the
 * calls it has seen; calls admitted since and still on their way are not in
 * it, and a response may arrive after others that were sent later. So the
 * limiter never believes more is left than it does already: within a
 * pending reset, `remaining` only goes down (`min`), and the reset instant
 * only later (`max`); a quota that was full (no pending reset) takes the
 * snapshot's reset and the smaller of `limit - spent` and its `remaining`;
 * its reset is taken no earlier than the limiter's own bound, one share of
 * the period per unit spent since the last admission (the calls of a burst
 * whose responses are still on their way). A snapshot whose reset is not
 * after `now` says the quota is full: it changes nothing but the limit. A
 * reset further away than {@link longestHold} is taken as that far.
 */
const observeQuota = (q: QuotaState, quota: Quota, now: number, periodMillis: number): QuotaState => {
  const limit = Option.getOrElse(quota.limit, () => q.limit)
  const remaining = Option.getOrNull(quota.remaining)
  const said = millisOf(quota.reset)
  const resetAt = said === null ? null : Math.min(said, now + longestHold(periodMillis))
  if (remaining === null || resetAt === null || resetAt <= now) {
    return limit === q.limit ? q : { ...q, limit }
  }
  return {
    limit,
    remaining: Math.max(0, Math.min(available(q, limit), remaining)),
    resetAt: q.resetAt !== null
      ? Math.max(q.resetAt, resetAt)
      : limit !== null && q.spent > 0 && q.lastSpendAt !== null
      ? Math.max(resetAt, q.lastSpendAt + refillMillis(q.spent, limit, periodMillis))
      : resetAt,
    spent: q.spent,
    lastSpendAt: q.lastSpendAt
  }
}

/**
 * The state after a response's snapshot (see {@link observeQuota}).
 *
 * @internal
 */
export const observe = (state: State, snapshot: Snapshot, now: number, settings: Millis): State => {
  const current = advance(state, now, settings)
  return {
    requests: observeQuota(current.requests, snapshot.requests, now, settings.periodMillis),
    inputTokens: observeQuota(current.inputTokens, snapshot.inputTokens, now, settings.periodMillis),
    outputTokens: observeQuota(current.outputTokens, snapshot.outputTokens, now, settings.periodMillis),
    tokens: observeQuota(current.tokens, snapshot.tokens, now, settings.periodMillis),
    blockedUntil: current.blockedUntil
  }
}

/**
 * The state after a 429 said to send nothing before `until`.
 *
 * @internal
 */
export const block = (state: State, until: number, now: number, settings: Millis): State => {
  const current = advance(state, now, settings)
  // a longer retry-after is the retry policy's to honour for its own call
  const bounded = Math.min(until, now + longestHold(settings.periodMillis))
  return bounded > current.blockedUntil ? { ...current, blockedUntil: bounded } : current
}

const quotaOf = (q: QuotaState): Quota => {
  return new Quota({
    limit: Option.fromNullable(q.limit),
    remaining: Option.some(Math.max(0, Math.floor(available(q)))).pipe(Option.filter(Number.isFinite)),
    reset: Option.fromNullable(q.resetAt).pipe(
      Option.flatMap((millis) => DateTime.make(millis)),
      Option.map(DateTime.toUtc)
    )
  })
}

/**
 * The limiter's belief as a {@link Snapshot}: for each quota its limit,
 * what is left and its pending reset (`None` where nothing is known).
 *
 * @internal
 */
export const toSnapshot = (state: State): Snapshot => {
  const none = quotaOf(freshQuota)
  return new Snapshot({
    requests: quotaOf(state.requests),
    tokens: quotaOf(state.tokens),
    inputTokens: quotaOf(state.inputTokens),
    outputTokens: quotaOf(state.outputTokens),
    priorityInputTokens: none,
    priorityOutputTokens: none
  })
}

const Count = Schema.NullOr(Schema.Number)

const QuotaStateSchema = Schema.Struct({
  limit: Count,
  remaining: Count,
  resetAt: Count,
  spent: Schema.Number,
  lastSpendAt: Count
})

/**
 * A {@link State} as JSON holds it (a shared store reads it back with
 * this, and treats anything else as no state at all).
 *
 * @internal
 */
export const StateSchema: Schema.Schema<State> = Schema.Struct({
  requests: QuotaStateSchema,
  inputTokens: QuotaStateSchema,
  outputTokens: QuotaStateSchema,
  tokens: QuotaStateSchema,
  blockedUntil: Schema.Number
})
