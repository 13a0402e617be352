/**
 * The emulator's status page: the Statuspage v2 JSON of
 * `/api/v2/status.json` and `/api/v2/components.json`, shaped as a real page
 * sends them (the page object, the overall `status`, the list of
 * components with the API's own), for an indicator the emulator's options
 * or script set.
 *
 * @internal
 */
import * as DateTime from "effect/DateTime"

/** An indicator the emulated page can show. @internal */
export type PageIndicator = "none" | "minor" | "major" | "critical"

/** @internal */
export const pageIndicators: ReadonlyArray<PageIndicator> = ["none", "minor", "major", "critical"]

/** @internal */
export const isPageIndicator = (u: unknown): u is PageIndicator =>
  typeof u === "string" && (pageIndicators as ReadonlyArray<string>).includes(u)

/** The name of the API's component on the emulated page. @internal */
export const apiComponent = "Claude API (api.anthropic.com)"

const descriptions: Readonly<Record<PageIndicator, string>> = {
  none: "All Systems Operational",
  minor: "Minor Service Outage",
  major: "Partial System Outage",
  critical: "Major System Outage"
}

const componentStatus: Readonly<Record<PageIndicator, string>> = {
  none: "operational",
  minor: "degraded_performance",
  major: "partial_outage",
  critical: "major_outage"
}

const page = (url: string, now: number) => ({
  id: "emulator",
  name: "claude-resilience emulator",
  url,
  time_zone: "Etc/UTC",
  updated_at: DateTime.formatIso(DateTime.unsafeMake(now))
})

/** The body of `/api/v2/status.json`. @internal */
export const statusJson = (indicator: PageIndicator, url: string, now: number): string =>
  JSON.stringify({ page: page(url, now), status: { indicator, description: descriptions[indicator] } })

/**
 * The body of `/api/v2/components.json`: the console and claude.ai stay
 * operational; the API's component shows the indicator.
 *
 * @internal
 */
export const componentsJson = (indicator: PageIndicator, url: string, now: number): string => {
  const updated = DateTime.formatIso(DateTime.unsafeMake(now))
  const component = (id: string, name: string, status: string, position: number) => ({
    id,
    name,
    status,
    created_at: "2023-01-01T00:00:00.000Z",
    updated_at: updated,
    position,
    description: null,
    showcase: true,
    start_date: null,
    group_id: null,
    page_id: "emulator",
    group: false,
    only_show_if_degraded: false
  })
  return JSON.stringify({
    page: page(url, now),
    components: [
      component("claude-ai", "claude.ai", "operational", 1),
      component("console", "platform.claude.com", "operational", 2),
      component("api", apiComponent, componentStatus[indicator], 3)
    ]
  })
}
