/**
 * The lab's outputs: the decision table and the summary table (text), and `report.html`, a
 * self-contained page (no script, no network) with the table and charts
 * drawn by Apache ECharts' server-side renderer as inline SVG.
 *
 * @since 0.2.0
 */
import * as echarts from "echarts"
import * as Option from "effect/Option"
import * as StatusTable from "../internal/statusTable.js"
import type { Simulation } from "../testing/index.js"

/**
 * The summary table, one row per scenario and policy.
 *
 * @since 0.2.0
 * @category rendering
 */
/**
 * Columns padded to their widest cell: the first `left` columns to the left,
 * the rest (figures) to the right.
 */
const textTable = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>, left: number): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((c, i) => (i < left ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd()
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n")
}

/**
 * How each documented status is decoded and handled, generated from the
 * decoder itself (every row is the API's canonical body for that status,
 * decoded by `ApiError.fromResponse`).
 *
 * @since 0.2.0
 * @category rendering
 */
export const decisionTable = (): string =>
  textTable(
    ["status", "error.type", "decodes to", "retried", "what to do"],
    StatusTable.table().map((row) => [
      String(row.status),
      Option.getOrElse(row.errorType, () => "-"),
      row.tag,
      row.tag === "Success" ? "n/a" : row.retryable ? "yes" : "no",
      row.action
    ]),
    5
  )

export const table = (results: ReadonlyArray<Simulation.Result>): string => {
  const header = [
    "scenario",
    "policy",
    "requests",
    "calls",
    "calls/req",
    "in outage",
    "succeeded",
    "failed",
    "429s",
    "p50 ms",
    "p99 ms",
    "recovery s"
  ]
  const rows = results.flatMap((result) =>
    result.runs.map(({ figures: f }) => [
      result.scenario,
      f.policy,
      String(f.logicalRequests),
      String(f.calls),
      f.callsPerRequest.toFixed(2),
      f.outageCallsPerRequest === null ? "-" : f.outageCallsPerRequest.toFixed(2),
      String(f.succeeded),
      String(f.failed),
      String(f.responses["429"] ?? 0),
      String(f.p50Ms),
      String(f.p99Ms),
      f.recoverySeconds === null ? "-" : String(f.recoverySeconds)
    ])
  )
  return textTable(header, rows, 2)
}

const palette = ["#1f6feb", "#d1242f", "#8250df", "#bf8700", "#1a7f37", "#0a7ea4", "#6e7781"]

const svg = (option: echarts.EChartsOption, width = 900, height = 360): string => {
  const chart = echarts.init(null, null, { renderer: "svg", ssr: true, width, height })
  chart.setOption({ animation: false, color: palette, ...option })
  const out = chart.renderToSVGString()
  chart.dispose()
  return out
}

const escape = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

/** Calls received per second, averaged over buckets of `seconds`, per policy. */
const loadChart = (result: Simulation.Result): string => {
  const fleet = result.kind === "Fleet"
  // a fleet's hour in 10 s steps; a contention run in its own 100 ms buckets
  const group = fleet ? 10 : 1
  const series = result.runs.map((run) => {
    const { bucketMillis, load } = run.series
    const points: Array<[number, number]> = []
    for (let i = 0; i < load.length; i += group) {
      let sum = 0
      for (let j = i; j < Math.min(load.length, i + group); j++) sum += load[j]!
      const perSecond = sum / ((Math.min(load.length, i + group) - i) * bucketMillis / 1000)
      points.push([fleet ? (i * bucketMillis) / 60_000 : (i * bucketMillis) / 1000, Math.round(perSecond * 10) / 10])
    }
    return {
      name: run.figures.policy,
      type: "line" as const,
      showSymbol: false,
      lineStyle: { width: 1.5 },
      data: points,
      ...(result.outages.length > 0 && run === result.runs[0]
        ? {
          markArea: {
            silent: true,
            itemStyle: { color: "rgba(209,36,47,0.08)" },
            data: result.outages.map((o): [{ xAxis: number; name: string }, { xAxis: number }] => [
              { xAxis: o.fromMillis / 60_000, name: `${o.status} outage` },
              { xAxis: o.toMillis / 60_000 }
            ])
          }
        }
        : {})
    }
  })
  return svg({
    title: { text: `Server load: calls received per second (${result.scenario})`, left: "center", top: 4, textStyle: { fontSize: 14 } },
    legend: { top: 34, data: result.runs.map((r) => r.figures.policy) },
    grid: { top: 70, left: 60, right: 30, bottom: 50 },
    xAxis: { type: "value", name: fleet ? "minutes" : "seconds", nameLocation: "middle", nameGap: 28, min: 0 },
    yAxis: { type: "value", name: "calls / s" },
    series
  })
}

/** Calls per logical request per policy: overall, and during the outage when there is one. */
const callsChart = (result: Simulation.Result): string => {
  const policies = result.runs.map((r) => r.figures.policy)
  const withOutage = result.runs.some((r) => r.figures.outageCallsPerRequest !== null)
  const series = [
    { name: "overall", type: "bar" as const, data: result.runs.map((r) => r.figures.callsPerRequest), label: { show: true, position: "top" as const } },
    ...(withOutage
      ? [{
        name: "during the outage",
        type: "bar" as const,
        data: result.runs.map((r) => r.figures.outageCallsPerRequest ?? 0),
        label: { show: true, position: "top" as const }
      }]
      : [])
  ]
  return svg({
    title: { text: `Calls per logical request (${result.scenario})`, left: "center", top: 4, textStyle: { fontSize: 14 } },
    legend: { top: 34, data: series.map((s) => s.name) },
    grid: { top: 70, left: 60, right: 30, bottom: 50 },
    xAxis: { type: "category", data: policies },
    yAxis: { type: "value", name: "calls / request" },
    series
  })
}

const bound = (ms: number | null, previous: number | null | undefined) => {
  const fmt = (x: number) => (x >= 1000 ? `${x / 1000} s` : `${x} ms`)
  return ms === null ? `> ${fmt(previous ?? 0)}` : `≤ ${fmt(ms)}`
}

/** How long logical requests took, per policy: a histogram over the same buckets. */
const latencyChart = (result: Simulation.Result): string => {
  const first = result.runs[0]!.series.latency
  const categories = first.upperMs.map((ms, i) => bound(ms, first.upperMs[i - 1]))
  return svg({
    title: { text: `Latency of logical requests (${result.scenario})`, left: "center", top: 4, textStyle: { fontSize: 14 } },
    legend: { top: 34, data: result.runs.map((r) => r.figures.policy) },
    grid: { top: 70, left: 70, right: 30, bottom: 50 },
    xAxis: { type: "category", data: categories, name: "took", nameLocation: "middle", nameGap: 28 },
    yAxis: { type: "log", name: "requests", min: 1 },
    series: result.runs.map((run) => ({
      name: run.figures.policy,
      type: "bar" as const,
      // a log axis has no 0: an empty bucket is left out
      data: run.series.latency.counts.map((c) => (c > 0 ? c : null))
    }))
  })
}

const htmlTable = (result: Simulation.Result): string => {
  const head = [
    "policy",
    "logical requests",
    "calls",
    "calls / request",
    "in outage",
    "succeeded",
    "failed (by tag)",
    "p50",
    "p99",
    "recovery"
  ]
  const rows = result.runs.map(({ figures: f }) => [
    f.policy,
    String(f.logicalRequests),
    String(f.calls),
    f.callsPerRequest.toFixed(3),
    f.outageCallsPerRequest === null ? "–" : f.outageCallsPerRequest.toFixed(3),
    String(f.succeeded),
    `${f.failed}${
      Object.keys(f.failedByTag).length > 0
        ? ` (${Object.entries(f.failedByTag).map(([tag, n]) => `${tag} ${n}`).join(", ")})`
        : ""
    }`,
    `${f.p50Ms} ms`,
    `${f.p99Ms} ms`,
    f.recoverySeconds === null ? "–" : `${f.recoverySeconds} s`
  ])
  return `<table><thead><tr>${head.map((h) => `<th>${escape(h)}</th>`).join("")}</tr></thead><tbody>${
    rows.map((r) => `<tr>${r.map((c) => `<td>${escape(c)}</td>`).join("")}</tr>`).join("")
  }</tbody></table>`
}

const describe = (result: Simulation.Result): string =>
  result.kind === "Contention"
    ? `${result.clients} clients contend for one record under optimistic concurrency (base 5 ms, cap 2 s); the total work is the calls made until every client has written.`
    : `${result.clients} clients, seeded Poisson arrivals${
      result.outages.length > 0
        ? `; outage${result.outages.length > 1 ? "s" : ""} ${
          result.outages.map((o) => `${o.status} from minute ${o.fromMillis / 60_000} to ${o.toMillis / 60_000}`).join(", ")
        }`
        : ""
    }.`

/**
 * The self-contained report: the tables and, per scenario, three charts
 * (server load over time per policy, calls per logical request per policy,
 * latency distribution), each an inline SVG in a `<figure data-chart=…>`.
 *
 * @since 0.2.0
 * @category rendering
 */
export const html = (seed: number, results: ReadonlyArray<Simulation.Result>): string => {
  const sections = results.map((result) => {
    const figure = (kind: string, body: string) =>
      `<figure data-chart="${kind}" data-scenario="${escape(result.scenario)}" data-policies="${
        escape(result.runs.map((r) => r.figures.policy).join(","))
      }">${body}</figure>`
    return `<section id="${escape(result.scenario)}">
<h2>${escape(result.scenario)}</h2>
<p>${escape(describe(result))}</p>
${htmlTable(result)}
${figure("load", loadChart(result))}
${figure("calls", callsChart(result))}
${figure("latency", latencyChart(result))}
</section>`
  })
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>claude-resilience lab, seed ${seed}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 960px; color: #1f2328; }
table { border-collapse: collapse; margin: 12px 0 20px; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #d0d7de; padding: 4px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
figure { margin: 12px 0 24px; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: 4px; margin-top: 36px; }
</style>
</head>
<body>
<h1>claude-resilience lab</h1>
<p>A deterministic simulation in virtual time, seed ${seed}: every figure is the same on every run with this seed. "ours" is the library's own <code>Resilience.protect</code> (full-jitter retries, a circuit breaker and a retry budget per client).</p>
${sections.join("\n")}
</body>
</html>
`
}
