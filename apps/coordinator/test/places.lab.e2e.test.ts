import { LAB_WRONG_PLACE } from "@lg/netlab";
import type { AgentView, MeasurementView, PathTestView } from "@lg/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, type RealBrowser, shot } from "./browser";
import { waitFor, waitForMeasurementDone } from "./harness";
import { type LabStack, startLabStack } from "./lab-stack";

/**
 * Places on the reference lab (packages/netlab, Places): real agents in fra and sin (PoPs) and vm
 * announce where they are (LG_LOCATION: Frankfurt, as microsecond delays demand), the coordinator has
 * the lab's place table (LG_GEO_PREFIXES) with one wrong entry, core2's 198.18.3.2 "in Sydney".
 * Traces run with mtr-packet over the lab; the pages are read in Debian's Chromium.
 */
describe("places and the speed-of-light check on the reference lab", () => {
  let env: LabStack;
  let browser: RealBrowser;
  let cleanId: string;
  const post = async <T>(path: string, body: unknown): Promise<T> => {
    const res = await fetch(`${env.url}/api/v1${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(202);
    return (await res.json()) as T;
  };

  beforeAll(async () => {
    env = await startLabStack({ places: true });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await env?.stop();
  });

  it("hops carry places from the operator's table, and the wrong one is ruled out with its reason", async () => {
    const agents = (await (await fetch(`${env.url}/api/v1/agents`)).json()) as AgentView[];
    expect(agents.find((a) => a.id === "fra")?.location).toEqual({
      lat: 50.1109,
      lon: 8.6821,
      city: "Frankfurt",
    });

    const s = env.lab.scenarios.clean;
    const { id } = await post<{ id: string }>("/measurements", {
      target: s.target,
      from: ["fra", "sin"],
      count: 5,
      interval: 0.2,
    });
    cleanId = id;
    const m = await waitForMeasurementDone(env.url, id);
    const fra = m.traces.find((t) => t.agentId === "fra");
    expect(fra?.status).toBe("done");
    const answered = fra?.hops.filter((h) => h.host !== null && h.recv > 0) ?? [];
    expect(answered.map((h) => h.host)).toEqual(s.expectedHops.filter((h) => h !== null));
    for (const hop of answered) {
      expect(hop.geo?.source).toBe("table");
      expect(hop.geo?.feasible?.[0]?.pop).toBe("fra");
      if (hop.host === LAB_WRONG_PLACE.address) continue;
      expect(hop.geo).toMatchObject({ city: "Frankfurt", country: "DE", plausible: true });
    }
    const wrong = answered.find((h) => h.host === LAB_WRONG_PLACE.address);
    expect(wrong?.geo).toMatchObject({ city: "Sydney", country: "AU", plausible: false });
    expect(wrong?.geo?.reason).toMatch(
      /^[\d.]+ ms from fra \(Frankfurt\) allows at most [\d.,]+ km; the table says Sydney$/,
    );
    // sin's trace to tclean crosses core2 on another link: those places are right.
    const sin = m.traces.find((t) => t.agentId === "sin");
    expect(sin?.hops.filter((h) => h.geo && !h.geo.plausible)).toEqual([]);
    expect(sin?.hops.some((h) => h.geo?.city === "Frankfurt")).toBe(true);
  });

  it("a delay wire puts distance in: the target 50 ms behind it may be in Lisbon", async () => {
    const s = env.lab.scenarios.delay;
    const { id } = await post<{ id: string }>("/measurements", {
      target: s.target,
      from: ["fra"],
      count: 3,
      interval: 0.2,
    });
    const m = await waitForMeasurementDone(env.url, id);
    const last = m.traces[0]?.hops.find((h) => h.host === s.target);
    expect(last?.geo).toMatchObject({ city: "Lisbon", plausible: true });
    expect(last?.geo?.feasible?.[0]?.radiusKm).toBeGreaterThan(2_500);
  });

  it("Chromium shows the map: the route, the ruled-out place drawn apart with its reason on hover, both directions of a path test", async () => {
    const page = await browser.context.newPage();
    await page.goto(`${env.url}/m/${cleanId}`);
    const map = page.locator('svg.route-map[role="img"]');
    await map.waitFor();
    expect(await map.getAttribute("aria-label")).toMatch(
      /^Map of the routes from fra, sin to 198\.18\.9\.2: \d+ hops placed, 1 ruled out by round-trip times$/,
    );
    const cross = page.locator('g[data-role="implausible"]');
    expect(await cross.count()).toBe(1);
    expect(await cross.locator("title").textContent()).toMatch(
      /^fra hop 3 198\.18\.3\.2 .*: Sydney, AU \(the operator's table\) is ruled out — [\d.]+ ms from fra \(Frankfurt\) allows at most/,
    );
    expect(await page.locator("path.map-route.map-tone-0").count()).toBe(0); // every plausible place is one point
    // Both lab PoPs sit in Frankfurt (lab links answer in microseconds): one marker names both.
    const pops = page.locator("g.map-pop");
    expect(await pops.count()).toBe(1);
    expect(await pops.locator("text").textContent()).toBe("fra, sin");
    await page.locator("summary", { hasText: "Places of the hops" }).first().click();
    await cross.hover();
    const box = await map.boundingBox();
    expect(box?.width).toBeGreaterThan(600);
    await page.screenshot({ path: shot("17-map-measurement"), fullPage: true });
    expect(await page.locator("footer").textContent()).toContain("IP Geolocation by DB-IP");

    // A path test: the way there and the way back in their colours.
    const { id } = await post<{ id: string }>("/path-tests", {
      a: "fra",
      b: "sin",
      count: 3,
      protocol: "icmp",
    });
    await waitFor(
      "the path test done",
      async () => {
        const v = (await (await fetch(`${env.url}/api/v1/path-tests/${id}`)).json()) as PathTestView;
        return v.status === "done" ? v : undefined;
      },
      90_000,
    );
    await page.goto(`${env.url}/p/${id}`);
    await page.locator('svg.route-map[role="img"]').waitFor();
    // Both directions drawn in their colours: each has its placed hops; the two PoPs share a marker.
    expect(await page.locator("circle.map-hop.map-forward").count()).toBeGreaterThan(0);
    expect(await page.locator("circle.map-hop.map-reverse").count()).toBeGreaterThan(0);
    expect(await page.locator("g.map-pop text").allTextContents()).toEqual(["fra, sin"]);
    await page.screenshot({ path: shot("18-map-path-test"), fullPage: true });
    await page.close();
  });

  it("the live page swaps in the map when the measurement is done", async () => {
    const page = await browser.context.newPage();
    const s = env.lab.scenarios.delay;
    const { id } = await post<{ id: string }>("/measurements", {
      target: s.target,
      from: ["fra"],
      count: 10,
      interval: 0.3,
    });
    await page.goto(`${env.url}/m/${id}`);
    await page.locator('.measurement[data-status="done"]').waitFor({ timeout: 60_000 });
    const map = page.locator('svg.route-map[role="img"]');
    await map.waitFor({ timeout: 10_000 });
    expect(await map.getAttribute("aria-label")).toMatch(
      /^Map of the route from fra to 198\.18\.82\.2: [1-9]\d* hops placed$/,
    );
    await page.screenshot({ path: shot("19-map-live"), fullPage: true });
    await page.close();
    const m = (await (await fetch(`${env.url}/api/v1/measurements/${id}`)).json()) as MeasurementView;
    expect(m.status).toBe("done");
  });
});
