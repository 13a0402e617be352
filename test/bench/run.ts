/**
 * `npm run bench`: the harness. Builds nothing itself (the npm script builds
 * `dist/` first); runs the contenders of ./contenders.ts against the
 * loopback server of ./server.ts and writes the results section of
 * docs/benchmarks.md (see ./report.ts for the method).
 *
 *   node --expose-gc --import tsx test/bench/run.ts [--quick] [--no-write]
 *
 * Parts: create (sequential latency, and throughput at concurrency 32, in the
 * same rounds), streams (5 000 and 50 000 deltas), sustained (32 workers for
 * 30 s, by 5 s slices), connections per request (counted by the server
 * during the create rounds).
 */
import { performance } from "node:perf_hooks"
import { type Client, makeBare, makeOursClient, makeSdk, type Transport, transports } from "./contenders.js"
import { deltaText, params, replyText } from "./fixture.js"
import { loadLibrary } from "./library.js"
import {
  canCollect,
  collect,
  concurrent,
  type GcFigures,
  quantile,
  ratios,
  sequential,
  type Spread,
  spread,
  startServer,
  withGc
} from "./measure.js"
import { environment, figure, integer, loadAverage, mib, ratio, table, writeSection } from "./report.js"

// ---------------------------------------------------------------------------
// settings
// ---------------------------------------------------------------------------

const quick = process.argv.includes("--quick")
const write = !process.argv.includes("--no-write")

const settings = quick
  ? {
    rounds: 3,
    warmCalls: 50,
    warmConcurrentMs: 300,
    latencyBlocks: 6,
    blockCalls: 10,
    concurrency: 32,
    segments: 2,
    segmentMs: 300,
    streams: [{ deltas: 5_000, rounds: 2 }, { deltas: 50_000, rounds: 1 }],
    streamMinMs: 150,
    streamMaxReps: 5,
    sustainedMs: 6_000,
    sliceMs: 2_000,
    referenceShare: 0.2
  }
  : {
    rounds: 5,
    warmCalls: 200,
    warmConcurrentMs: 1_000,
    latencyBlocks: 20,
    blockCalls: 10,
    concurrency: 32,
    segments: 4,
    segmentMs: 500,
    streams: [{ deltas: 5_000, rounds: 5 }, { deltas: 50_000, rounds: 5 }],
    streamMinMs: 300,
    streamMaxReps: 10,
    sustainedMs: 30_000,
    sliceMs: 5_000,
    referenceShare: 0.2
  }

/** The transports the stream part runs on: one stream is one connection, so the keep-alive agent changes nothing there. */
const streamTransports = transports.filter((t) => t.id !== "node-ka")

const log = (line: string) => console.log(line)

/** `xs` rotated left by `n`: round r starts with the r-th contender. */
const rotate = <A>(xs: ReadonlyArray<A>, n: number): Array<A> => {
  const k = n % xs.length
  return [...xs.slice(k), ...xs.slice(0, k)]
}

const textOfMessage = (message: unknown): string => {
  const content = (message as { readonly content?: ReadonlyArray<{ readonly type: string; readonly text?: string }> })
    .content
  return (content ?? []).map((block) => (block.type === "text" ? block.text ?? "" : "")).join("")
}

const check = (what: string, ok: boolean) => {
  if (!ok) throw new Error(`${what}: wrong answer, the figures would be meaningless`)
}

// ---------------------------------------------------------------------------
// create: sequential latency and throughput, interleaved
// ---------------------------------------------------------------------------

type Kind = "bare" | "ours" | "sdk"

interface CreateContender {
  readonly kind: Kind
  readonly transport: Transport | undefined
  readonly label: string
  readonly client: Client
  readonly p50: Array<number>
  readonly p90: Array<number>
  readonly throughput: Array<number>
  /** GC pause as a share of the throughput run's wall clock, per round. */
  readonly gcShare: Array<number>
  connections: number
  requests: number
}

const sdkTransportLabel = "global fetch (undici)"

const runCreate = async (lib: Awaited<ReturnType<typeof loadLibrary>>, url: string, stats: () => Promise<{ connections: number; requests: number }>) => {
  const contenders: Array<CreateContender> = []
  const add = (kind: Kind, transport: Transport | undefined, client: Client) =>
    contenders.push({
      kind,
      transport,
      label: `${kind === "sdk" ? "SDK" : kind} · ${transport?.name ?? sdkTransportLabel}`,
      client,
      p50: [],
      p90: [],
      throughput: [],
      gcShare: [],
      connections: 0,
      requests: 0
    })
  for (const transport of transports) {
    add("bare", transport, await makeBare(lib, transport, url, params))
    add("ours", transport, await makeOursClient(lib, transport, url, params))
  }
  add("sdk", undefined, makeSdk(url, params))

  log(`create: warming up ${contenders.length} contenders`)
  for (const c of contenders) {
    check(c.label, textOfMessage(await c.client.create()) === replyText)
    await sequential(settings.warmCalls, c.client.create)
    await concurrent(settings.concurrency, settings.warmConcurrentMs, c.client.create)
  }
  // Within a round the contenders take turns in small blocks (10 sequential
  // calls, or 0.5 s at concurrency 32), the order rotated from block to
  // block, so that a change in the machine's load falls on all of them.
  const counted = async (c: CreateContender, body: () => Promise<void>) => {
    const before = await stats()
    await body()
    const after = await stats()
    c.connections += after.connections - before.connections
    c.requests += after.requests - before.requests
  }
  for (let round = 0; round < settings.rounds; round++) {
    const started = performance.now()
    const latencies = new Map(contenders.map((c) => [c, [] as Array<number>]))
    collect()
    for (let block = 0; block < settings.latencyBlocks; block++) {
      for (const c of rotate(contenders, round + block)) {
        await counted(c, async () => {
          latencies.get(c)!.push(...(await sequential(settings.blockCalls, c.client.create)))
        })
      }
    }
    for (const c of contenders) {
      c.p50.push(quantile(latencies.get(c)!, 0.5))
      c.p90.push(quantile(latencies.get(c)!, 0.9))
    }
    const calls = new Map(contenders.map((c) => [c, 0]))
    const pauses = new Map(contenders.map((c) => [c, 0]))
    for (let segment = 0; segment < settings.segments; segment++) {
      for (const c of rotate(contenders, round + segment)) {
        collect()
        await counted(c, async () => {
          const { gc, value: run } = await withGc(() =>
            concurrent(settings.concurrency, settings.segmentMs, c.client.create)
          )
          calls.set(c, calls.get(c)! + run.calls)
          pauses.set(c, pauses.get(c)! + gc.pauseMs)
        })
      }
    }
    const wall = settings.segments * settings.segmentMs
    for (const c of contenders) {
      c.throughput.push((calls.get(c)! * 1000) / wall)
      c.gcShare.push(pauses.get(c)! / wall)
    }
    log(`create: round ${round + 1}/${settings.rounds} in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  }
  return contenders
}

// ---------------------------------------------------------------------------
// streams
// ---------------------------------------------------------------------------

type StreamKind = "bare stream" | "ours finalMessage" | "ours stream" | "SDK finalMessage"

interface StreamContender {
  readonly kind: StreamKind
  readonly transport: Transport | undefined
  readonly label: string
  readonly run: () => Promise<string>
  readonly dispose: () => Promise<void>
  /** Per round: the median time of the round's streams, ms. */
  readonly ms: Array<number>
  /** Per round, per stream. */
  readonly gc: Array<GcFigures>
}

const runStreams = async (lib: Awaited<ReturnType<typeof loadLibrary>>, url: string, deltas: number, rounds: number) => {
  const contenders: Array<StreamContender> = []
  const add = (kind: StreamKind, transport: Transport | undefined, client: Client, run: () => Promise<string>) =>
    contenders.push({
      kind,
      transport,
      label: `${kind} · ${transport?.name ?? sdkTransportLabel}`,
      run,
      dispose: client.dispose,
      ms: [],
      gc: []
    })
  for (const transport of streamTransports) {
    const bare = await makeBare(lib, transport, url, params)
    add("bare stream", transport, bare, bare.stream!)
    const ours = await makeOursClient(lib, transport, url, params)
    add("ours finalMessage", transport, ours, ours.finalMessage!)
    add("ours stream", transport, ours, ours.stream!)
  }
  const sdk = makeSdk(url, params)
  add("SDK finalMessage", undefined, sdk, sdk.finalMessage!)

  const expected = deltaText.repeat(deltas)
  log(`streams of ${deltas}: warming up`)
  for (const c of contenders) check(`${c.label}, ${deltas} deltas`, (await c.run()) === expected)
  for (let round = 0; round < rounds; round++) {
    const started = performance.now()
    for (const c of rotate(contenders, round)) {
      const times: Array<number> = []
      const figures: Array<GcFigures> = []
      const roundStart = performance.now()
      // fast contenders run several streams so that one slow tick does not decide
      while (
        times.length < 1 ||
        (times.length < settings.streamMaxReps && performance.now() - roundStart < settings.streamMinMs)
      ) {
        collect()
        const start = performance.now()
        const { gc } = await withGc(c.run)
        times.push(performance.now() - start)
        figures.push(gc)
      }
      c.ms.push(spread(times).median)
      c.gc.push(...figures)
    }
    log(
      `streams of ${deltas}: round ${round + 1}/${rounds} in ${((performance.now() - started) / 1000).toFixed(1)} s`
    )
  }
  for (const c of contenders) await c.dispose()
  return contenders
}

// ---------------------------------------------------------------------------
// sustained load
// ---------------------------------------------------------------------------

interface Sustained {
  /** Calls per second, per slice: ours, and the bare reference run in the same slice. */
  readonly ours: Array<number>
  readonly bare: Array<number>
  /** Heap used after a full GC, before ours' run and after it (the client still alive), bytes. */
  readonly heapBefore: number
  readonly heapAfter: number
}

/**
 * Ours under sustained load: in each slice, ours runs at concurrency 32 for
 * most of it, then the bare client (the reference) for the rest, so that
 * ours' traffic stays nearly continuous while each slice carries its own
 * measure of the machine: the ratio ours / bare per slice, and its trend,
 * do not move with the load of the machine.
 */
const runSustained = async (ours: Client, bare: Client): Promise<Sustained> => {
  await concurrent(settings.concurrency, settings.warmConcurrentMs, ours.create)
  await concurrent(settings.concurrency, settings.warmConcurrentMs, bare.create)
  collect()
  const heapBefore = process.memoryUsage().heapUsed
  const oursMs = settings.sliceMs * (1 - settings.referenceShare)
  const bareMs = settings.sliceMs * settings.referenceShare
  const result: Sustained = { ours: [], bare: [], heapBefore, heapAfter: 0 }
  for (let slice = 0; slice < settings.sustainedMs / settings.sliceMs; slice++) {
    const a = await concurrent(settings.concurrency, oursMs, ours.create)
    const b = await concurrent(settings.concurrency, bareMs, bare.create)
    result.ours.push((a.calls * 1000) / oursMs)
    result.bare.push((b.calls * 1000) / bareMs)
  }
  collect()
  const heapAfter = process.memoryUsage().heapUsed
  await ours.dispose()
  await bare.dispose()
  return { ...result, heapAfter }
}

// ---------------------------------------------------------------------------
// the report
// ---------------------------------------------------------------------------

const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(3))

const report = (
  command: string,
  loadAtStart: string,
  create: ReadonlyArray<CreateContender>,
  streams: ReadonlyArray<{ readonly deltas: number; readonly contenders: ReadonlyArray<StreamContender> }>,
  sustained: Sustained,
  totalSeconds: number,
  heapAtStart: number
): string => {
  const find = (kind: Kind, transportId?: string) =>
    create.find((c) => c.kind === kind && c.transport?.id === transportId)!
  const sdk = find("sdk")
  const eventsOf = (deltas: number) => deltas + 6
  const streamFind = (deltas: number, kind: StreamKind, transportId?: string) =>
    streams.find((s) => s.deltas === deltas)?.contenders.find((c) => c.kind === kind && c.transport?.id === transportId)

  const ratioRows: Array<Array<string>> = []
  const goalRow = (what: string, transport: string, s: Spread, goal: string) =>
    ratioRows.push([what, transport, ratio(s), goal, Number.isFinite(s.median) ? verdict(s.median, goal) : ""])

  for (const t of transports) {
    goalRow("ours / bare, p50 latency, sequential", t.name, ratios(find("ours", t.id).p50, find("bare", t.id).p50), "≤ 1.25×")
  }
  for (const t of transports) {
    goalRow("ours / bare, p90 latency, sequential", t.name, ratios(find("ours", t.id).p90, find("bare", t.id).p90), "")
  }
  for (const t of transports) {
    goalRow(
      "ours / SDK, throughput at concurrency 32",
      t.name,
      ratios(find("ours", t.id).throughput, sdk.throughput),
      "≥ 1.2×"
    )
  }
  for (const t of transports) {
    goalRow(
      "ours / bare, throughput at concurrency 32",
      t.name,
      ratios(find("ours", t.id).throughput, find("bare", t.id).throughput),
      ""
    )
  }
  // transports against each other: what docs/client.md recommends comes from these rows
  for (const kind of ["ours", "bare"] as const) {
    for (const t of transports.filter((t) => t.id !== "node")) {
      goalRow(
        `${kind} on this transport / ${kind} on NodeHttpClient.layer, throughput at concurrency 32`,
        t.name,
        ratios(find(kind, t.id).throughput, find(kind, "node").throughput),
        ""
      )
    }
    for (const t of transports.filter((t) => t.id !== "node")) {
      goalRow(
        `${kind} on this transport / ${kind} on NodeHttpClient.layer, p50 latency, sequential`,
        t.name,
        ratios(find(kind, t.id).p50, find(kind, "node").p50),
        ""
      )
    }
  }
  goalRow("SDK / bare, p50 latency, sequential", `${sdkTransportLabel} vs FetchHttpClient.layer`, ratios(sdk.p50, find("bare", "fetch").p50), "")
  goalRow(
    "SDK / bare, throughput at concurrency 32",
    `${sdkTransportLabel} vs FetchHttpClient.layer`,
    ratios(sdk.throughput, find("bare", "fetch").throughput),
    ""
  )
  for (const { deltas } of streams) {
    const sdkStream = streamFind(deltas, "SDK finalMessage")!
    for (const kind of ["ours finalMessage", "ours stream"] as const) {
      for (const t of streamTransports) {
        const c = streamFind(deltas, kind, t.id)!
        // events per second: the SDK's time over ours
        goalRow(
          `${kind} / SDK finalMessage, events/s, ${integer(deltas)} deltas`,
          t.name,
          ratios(sdkStream.ms, c.ms),
          "≥ 1.0×"
        )
      }
    }
    const bareUndici = streamFind(deltas, "bare stream", "undici")!
    goalRow(`SDK finalMessage / bare stream, events/s, ${integer(deltas)} deltas`, `${sdkTransportLabel} vs NodeHttpClient.layerUndici`, ratios(bareUndici.ms, sdkStream.ms), "")
  }
  // memory: allocation per event at 50 000 over that at 5 000 (flat = 1)
  const [small, large] = streams
  if (small !== undefined && large !== undefined) {
    const perEvent = (c: StreamContender, deltas: number) =>
      spread(c.gc.map((g) => g.allocated / eventsOf(deltas))).median
    for (const kind of ["ours finalMessage", "ours stream", "SDK finalMessage"] as const) {
      const id = kind.startsWith("SDK") ? undefined : "undici"
      const a = streamFind(small.deltas, kind, id)!
      const b = streamFind(large.deltas, kind, id)!
      const r = perEvent(b, large.deltas) / perEvent(a, small.deltas)
      ratioRows.push([
        `${kind}: bytes allocated per event, ${integer(large.deltas)} / ${integer(small.deltas)} deltas`,
        a.transport?.name ?? sdkTransportLabel,
        `**${r.toFixed(2)}×**`,
        "flat (≈ 1×)",
        ""
      ])
    }
    const sdkLarge = streamFind(large.deltas, "SDK finalMessage")!
    for (const kind of ["ours finalMessage", "ours stream"] as const) {
      const c = streamFind(large.deltas, kind, "undici")!
      ratioRows.push([
        `${kind} / SDK finalMessage, bytes allocated per event, ${integer(large.deltas)} deltas`,
        "NodeHttpClient.layerUndici",
        `**${(perEvent(c, large.deltas) / perEvent(sdkLarge, large.deltas)).toFixed(1)}×**`,
        "",
        ""
      ])
      ratioRows.push([
        `${kind} / SDK finalMessage, GC pause per stream, ${integer(large.deltas)} deltas`,
        "NodeHttpClient.layerUndici",
        `**${
          (spread(c.gc.map((g) => g.pauseMs)).median / spread(sdkLarge.gc.map((g) => g.pauseMs)).median).toFixed(1)
        }×**`,
        "",
        ""
      ])
    }
  }
  {
    // one slice is one sample of a noisy machine: compare halves, each by its median
    const perSlice = sustained.ours.map((x, i) => x / sustained.bare[i]!)
    const half = Math.floor(perSlice.length / 2)
    const first = spread(perSlice.slice(0, half)).median
    const second = spread(perSlice.slice(perSlice.length - half)).median
    ratioRows.push([
      `ours under sustained load (${settings.sustainedMs / 1000} s at concurrency 32): ours / bare, median of the last ${half} slices over median of the first ${half}`,
      "NodeHttpClient.layerUndici",
      `**${(second / first).toFixed(2)}×**`,
      "flat (≈ 1×)",
      ""
    ])
  }
  const createRows = create.map((c) => [
    c.kind === "sdk" ? "SDK" : c.kind,
    c.transport?.name ?? sdkTransportLabel,
    figure(spread(c.p50), ms),
    figure(spread(c.p90), ms),
    figure(spread(c.throughput), integer),
    figure(spread(c.gcShare.map((x) => x * 100)), (x) => x.toFixed(1)),
    c.requests === 0 ? "n/a" : (c.connections / c.requests).toFixed(3),
    `${integer(c.connections)} / ${integer(c.requests)}`
  ])

  const streamSections = streams.map(({ contenders, deltas }) => {
    const rows = contenders.map((c) => {
      const perStream = (f: (g: GcFigures) => number) => spread(c.gc.map(f))
      return [
        c.kind,
        c.transport?.name ?? sdkTransportLabel,
        figure(spread(c.ms), ms),
        figure(spread(c.ms.map((x) => (eventsOf(deltas) * 1000) / x)), integer),
        figure(perStream((g) => g.count), integer),
        figure(perStream((g) => g.pauseMs), ms),
        figure(perStream((g) => g.allocated / eventsOf(deltas)), integer),
        figure(perStream((g) => g.peak), mib)
      ]
    })
    const rounds = contenders[0]?.ms.length ?? 0
    return `### Streams of ${integer(deltas)} text deltas (${integer(eventsOf(deltas))} events), ${rounds} round${
      rounds === 1 ? "" : "s"
    }\n\n` +
      table(
        [
          "contender",
          "transport",
          "time to final text, ms",
          "events/s",
          "GCs per stream",
          "GC pause per stream, ms",
          "bytes allocated per event",
          "peak heap above start, MiB"
        ],
        rows
      )
  })

  const sliceHead = sustained.ours.map((_, i) =>
    `${(i * settings.sliceMs) / 1000}–${((i + 1) * settings.sliceMs) / 1000} s`
  )
  const sustainedRows = [
    ["ours, calls/s", ...sustained.ours.map(integer)],
    ["bare (the reference), calls/s", ...sustained.bare.map(integer)],
    ["ours / bare", ...sustained.ours.map((x, i) => `${(x / sustained.bare[i]!).toFixed(2)}×`)]
  ]

  return [
    "## Results",
    "",
    environment(command, loadAtStart, [
      `Settings: ${settings.rounds} rounds of create, each ${settings.latencyBlocks} blocks of ${settings.blockCalls} sequential calls then ${settings.segments} segments of ${
        settings.segmentMs / 1000
      } s at concurrency ${settings.concurrency} per contender, the contenders taking turns block by block; streams ${
        settings.streams.map((s) => `${integer(s.deltas)} deltas × ${s.rounds} rounds`).join(", ")
      } (each round, a contender streams until ${settings.streamMinMs} ms have passed, at most ${settings.streamMaxReps} times, and its median counts); sustained ${
        settings.sustainedMs / 1000
      } s; ${canCollect() ? "a full GC before each throughput segment and each stream" : "no --expose-gc: no GC between measurements"}; heap used after a full GC at the start: ${
        mib(heapAtStart)
      } MiB; the whole run took ${totalSeconds.toFixed(0)} s`
    ]),
    "",
    "### Ratios",
    "",
    "Median of the per-round ratios, (range over the rounds). For throughput and events/s higher is better; for latency lower.",
    "",
    table(["ratio", "transport", "median (range)", "goal", ""], ratioRows),
    "",
    "### Create: latency, throughput, connections",
    "",
    `Median over the rounds (range). Latency: p50 and p90 of the ${
      settings.latencyBlocks * settings.blockCalls
    } sequential calls of a round. Throughput: ${settings.concurrency} workers, ${settings.segments} × ${
      settings.segmentMs / 1000
    } s a round. Connections: opened by the contender, per request it sent, over all its rounds (1 = a new connection per request).`,
    "",
    table(
      [
        "contender",
        "transport",
        "p50, ms",
        "p90, ms",
        "calls/s at 32",
        "GC pause, % of wall",
        "connections per request",
        "connections / requests"
      ],
      createRows
    ),
    "",
    ...streamSections.flatMap((s) => [s, ""]),
    `### Sustained: ${settings.concurrency} workers for ${settings.sustainedMs / 1000} s on NodeHttpClient.layerUndici`,
    "",
    `A fresh client of each, warmed up. In each ${settings.sliceMs / 1000} s slice, ours runs for ${
      (settings.sliceMs * (1 - settings.referenceShare)) / 1000
    } s, then bare (the reference) for ${
      (settings.sliceMs * settings.referenceShare) / 1000
    } s, both at concurrency ${settings.concurrency}: ours' traffic is nearly continuous, and each slice's ratio is taken on the same machine load. Heap used by the process after a full GC: ${
      canCollect() ? `${mib(sustained.heapBefore)} MiB before ours' run, ${mib(sustained.heapAfter)} MiB after it (the client still alive)` : "n/a (no --expose-gc)"
    }.`,
    "",
    table(["", ...sliceHead], sustainedRows)
  ].join("\n")
}

const verdict = (median: number, goal: string): string => {
  const match = /([≤≥]) ([\d.]+)×/.exec(goal)
  if (match === null) return ""
  const bound = Number(match[2])
  return (match[1] === "≤" ? median <= bound : median >= bound) ? "met" : "not met"
}

// ---------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------

const main = async () => {
  const started = performance.now()
  const loadAtStart = loadAverage()
  const command = `npm run bench${quick ? " -- --quick" : ""}`
  if (!canCollect()) log("note: node runs without --expose-gc, so no GC is forced between measurements")
  const lib = await loadLibrary()
  collect()
  const heapAtStart = process.memoryUsage().heapUsed
  const server = await startServer()
  try {
    const create = await runCreate(lib, server.url, server.stats)
    for (const c of create) await c.client.dispose()
    const streams: Array<{ readonly deltas: number; readonly contenders: ReadonlyArray<StreamContender> }> = []
    for (const { deltas, rounds } of settings.streams) {
      streams.push({ deltas, contenders: await runStreams(lib, server.streamUrl(deltas), deltas, rounds) })
    }
    const undici = transports.find((t) => t.id === "undici")!
    log(`sustained: ${settings.sustainedMs / 1000} s`)
    const sustained = await runSustained(
      await makeOursClient(lib, undici, server.url, params),
      await makeBare(lib, undici, server.url, params)
    )
    const text = report(
      command,
      loadAtStart,
      create,
      streams,
      sustained,
      (performance.now() - started) / 1000,
      heapAtStart
    )
    console.log(`\n${text}\n`)
    if (write) {
      writeSection("results", text)
      log("written to docs/benchmarks.md")
    }
  } finally {
    await server.close()
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
