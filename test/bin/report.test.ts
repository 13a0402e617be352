/**
 * The lab's report.html, opened in real headless Chromium (Debian's
 * `chromium`, which .ci/run installs): every chart is drawn and carries
 * data, every policy is in its legend, and the page loads nothing from the
 * network.
 */
import { Effect, Either } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { pathToFileURL } from "node:url"
import { type BrowserContext, chromium } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Report from "../../src/bin/report.js"
import { Simulation } from "../../src/testing/index.js"

const scratch = mkdtempSync(Path.join(Os.tmpdir(), "claude-resilience-report-"))
let browser: BrowserContext | undefined
let file = ""
let results: ReadonlyArray<Simulation.Result> = []

beforeAll(async () => {
  const scenarios = [
    Either.getOrThrow(Simulation.outage({
      clients: 10,
      duration: "10 minutes",
      outages: [{ from: "3 minutes", to: "5 minutes", status: 529 }]
    })),
    Either.getOrThrow(Simulation.rateLimit({ clients: 4, duration: "3 minutes" })),
    Either.getOrThrow(Simulation.brooker({ clients: 10 }))
  ]
  results = await Effect.runPromise(Effect.forEach(scenarios, (s) => Simulation.run(s, { seed: 1 })))
  file = Path.join(scratch, "report.html")
  writeFileSync(file, Report.html(1, results))
  // a fresh profile of its own (playwright passes it as --user-data-dir)
  browser = await chromium.launchPersistentContext(Path.join(scratch, "profile"), {
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync"
    ]
  })
}, 120_000)

afterAll(async () => {
  await browser?.close()
  rmSync(scratch, { recursive: true, force: true })
})

interface Drawn {
  readonly chart: string
  readonly scenario: string
  readonly policies: string
  readonly svgs: number
  readonly paths: number
  readonly texts: ReadonlyArray<string>
  readonly width: number
  readonly height: number
}

describe("report.html in headless Chromium", () => {
  it("draws three charts per scenario, each with data and every policy in its legend, and fetches nothing", async () => {
    const page = await browser!.newPage()
    await page.setViewportSize({ width: 1000, height: 800 })
    const requested: Array<string> = []
    page.on("request", (request) => requested.push(request.url()))
    await page.goto(pathToFileURL(file).href)
    const drawn = await page.$$eval("figure[data-chart]", (figures) =>
      figures.map((figure) => {
        const svg = figure.querySelector("svg")
        const box = svg?.getBoundingClientRect()
        return {
          chart: figure.getAttribute("data-chart") ?? "",
          scenario: figure.getAttribute("data-scenario") ?? "",
          policies: figure.getAttribute("data-policies") ?? "",
          svgs: figure.querySelectorAll("svg").length,
          // drawn marks: lines and bars are paths with a non-empty outline
          paths: Array.from(figure.querySelectorAll("svg path")).filter((p) => (p.getAttribute("d") ?? "").length > 10).length,
          texts: Array.from(figure.querySelectorAll("svg text")).map((t) => t.textContent ?? ""),
          width: box?.width ?? 0,
          height: box?.height ?? 0
        }
      })) as ReadonlyArray<Drawn>
    expect(requested).toEqual([pathToFileURL(file).href])
    expect(drawn.map((d) => `${d.scenario}/${d.chart}`)).toEqual(
      results.flatMap((r) => ["load", "calls", "latency"].map((chart) => `${r.scenario}/${chart}`))
    )
    for (const d of drawn) {
      expect(d.svgs).toBe(1)
      expect(d.width).toBeGreaterThan(500)
      expect(d.height).toBeGreaterThan(200)
      const policies = d.policies.split(",")
      // one mark per policy at least, plus the axes
      expect(d.paths).toBeGreaterThan(policies.length)
      if (d.chart !== "calls") {
        for (const policy of policies) expect(d.texts).toContain(policy)
      } else {
        // the calls chart has a bar group per policy, named on its axis, and bar labels with the figures
        for (const policy of policies) expect(d.texts).toContain(policy)
        const result = results.find((r) => r.scenario === d.scenario)!
        for (const run of result.runs) expect(d.texts).toContain(String(run.figures.callsPerRequest))
      }
    }
    // the load chart's line of the first policy has a point per 10 s of the 10 minutes, at least
    const line = await page.$eval(
      "figure[data-chart=load][data-scenario=outage] svg",
      (svg) => Math.max(...Array.from(svg.querySelectorAll("path")).map((p) => (p.getAttribute("d") ?? "").split(/[ML]/).length))
    )
    expect(line).toBeGreaterThanOrEqual(60)
    await page.close()
  }, 60_000)
})
