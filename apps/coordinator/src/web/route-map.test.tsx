/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { placeHops, recheckPlaces } from "@lg/geo";
import type { AgentView, Hop, MeasurementView, PathTestView, TraceView } from "@lg/protocol";
import { TraceOptions } from "@lg/protocol";
import { capabilitiesOf, hopOf } from "@lg/protocol/testing";
import { describe, expect, it } from "vitest";
import { ComparePage } from "./components/compare-page";
import { MeasurementBody, MeasurementPage } from "./components/measurement-page";
import { PathTestPage } from "./components/path-test";
import { measurementMapLines, RouteMap } from "./components/route-map";
import { drawMap } from "./map/geometry";
import { standaloneHtml } from "./standalone";

const FRANKFURT = { lat: 50.1109, lon: 8.6821, city: "Frankfurt" };
const PLACES: Record<string, { lat: number; lon: number; city: string; country: string }> = {
  "198.18.1.2": { lat: 50.1109, lon: 8.6821, city: "Frankfurt", country: "DE" },
  "198.18.3.2": { lat: -33.8688, lon: 151.2093, city: "<script>alert(1)</script>Sydney", country: "AU" },
  "198.18.9.2": { lat: 38.7223, lon: -9.1393, city: "Lisbon", country: "PT" },
};

function hop(ttl: number, host: string | null, best: number): Hop {
  const h = hopOf(ttl, host, 3);
  return host ? { ...h, best, avg: best, last: best, worst: best } : h;
}

async function placed(agentId: string, hops: Hop[]): Promise<TraceView> {
  const withPlaces = await placeHops(
    hops,
    async (a) => (PLACES[a] ? { ...PLACES[a], source: "table" as const } : undefined),
    { id: agentId, location: FRANKFURT },
  );
  return {
    id: `t-${agentId}`,
    measurementId: "m1",
    agentId,
    target: "198.18.9.2",
    address: "198.18.9.2",
    status: "done",
    failure: null,
    hops: withPlaces,
    diagnosis: { verdict: "clean", findings: [] },
    followUps: [],
    stoppedBy: "destination",
    startedAt: "2026-01-01T00:00:00.000Z",
    finishedAt: "2026-01-01T00:00:05.000Z",
  };
}

const agent = (id: string, location?: AgentView["location"]): AgentView => ({
  id,
  region: "eu",
  role: "pop",
  version: "1",
  online: true,
  lastSeen: "2026-01-01T00:00:00.000Z",
  addresses: [],
  capabilities: capabilitiesOf(),
  running: 0,
  counters: null,
  ...(location ? { location } : {}),
});

async function measurement(): Promise<MeasurementView> {
  const fra = await placed("fra", [
    hop(1, "198.18.1.2", 0.03),
    hop(2, "198.18.3.2", 0.04),
    hop(3, null, 0),
    hop(4, "198.18.9.2", 50.2),
  ]);
  return {
    id: "m1",
    target: "198.18.9.2",
    status: "done",
    options: TraceOptions.parse({}),
    created: "2026-01-01T00:00:00.000Z",
    traces: [fra],
  };
}

describe("the route map", () => {
  it("is an SVG image labelled 'Map …' with the route, the ruled-out place apart and its reason on hover", async () => {
    const m = await measurement();
    const html = String(
      <MeasurementPage measurement={m} agents={new Map([["fra", agent("fra", FRANKFURT)]])} />,
    );
    expect(html).toContain(
      '<svg class="route-map" role="img" aria-label="Map of the route from fra to 198.18.9.2: 3 hops placed, 1 ruled out by round-trip times"',
    );
    expect(html).toMatch(/<path class="map-route map-tone-0" d="M[^"]+"><title>the route from fra/);
    expect(html).toContain('<g class="map-ruled" data-role="implausible"><title>fra hop 2 198.18.3.2');
    expect(html).toContain("0.04 ms from fra (Frankfurt) allows at most 4 km; the table says &lt;script&gt;");
    expect(html).not.toContain("<script>alert(1)</script>");
    expect(html).toContain('<g class="map-pop map-tone-0"><title>fra (Frankfurt): the PoP</title>');
    // The disc of the last hop: 50.2 ms from Frankfurt allows Lisbon (5,020 km).
    expect(html).toContain("198.18.9.2: within 5,020 km of fra (best 50.2 ms)");
    expect(html).toContain('data-live-map="/m/m1/map"');
    // The PoP's place beside its name.
    expect(html).toMatch(
      /<span class="pop-name">fra<\/span><span class="pop-region">eu<\/span><span class="pop-place">Frankfurt<\/span>/,
    );
    expect(html).toContain("IP Geolocation by DB-IP</a> (CC BY 4.0)");
  });

  it("lists every placed hop in words under the map (the image's text alternative)", async () => {
    const html = String(
      <RouteMap lines={measurementMapLines((await measurement()).traces, new Map())} subject="x" />,
    );
    expect(html).toContain("Places of the hops (3; 1 ruled out)");
    expect(html).toMatch(
      /<td class="place">Lisbon, PT<\/td><td>operator&#39;s table<\/td><td>possible \(within 5,020 km of fra\)<\/td>/,
    );
    expect(html).toContain("ruled out: 0.04 ms from fra (Frankfurt) allows at most 4 km");
  });

  it("is left out when no PoP and no hop has a place", () => {
    const bare: TraceView[] = [{ ...({} as TraceView), agentId: "fra", hops: [hop(1, "198.18.1.2", 0.1)] }];
    expect(drawMap(measurementMapLines(bare, new Map()), "x")).toBeUndefined();
    expect(String(<RouteMap lines={measurementMapLines(bare, new Map())} subject="x" />)).toBe("");
  });

  it("draws one region (50m shapes) for a nearby route and the whole world when places are far apart", () => {
    const near = drawMap([{ label: "fra", origin: FRANKFURT, hops: [], tone: "map-tone-0" }], "x");
    const far = drawMap(
      [
        { label: "fra", origin: FRANKFURT, hops: [], tone: "map-tone-0" },
        { label: "syd", origin: { lat: -33.9, lon: 151.2 }, hops: [], tone: "map-tone-1" },
      ],
      "x",
    );
    expect(near?.pops[0]?.x).toBeCloseTo(480, -1);
    expect(near?.borders).not.toBe("");
    expect(far?.borders).toBe("");
    // Small enough for every page: the whole world's land in whole pixels.
    expect((far?.land.length ?? 0) + (far?.graticule.length ?? 0)).toBeLessThan(50_000);
    expect((near?.land.length ?? 0) + (near?.borders.length ?? 0)).toBeLessThan(80_000);
    expect(far?.label).toBe("Map of the routes from fra, syd to x: 0 hops placed");
  });

  it("goes into the HTML export with the data's credit", async () => {
    const m = await measurement();
    const body = String(
      <MeasurementBody measurement={m} agents={new Map([["fra", agent("fra", FRANKFURT)]])} standalone />,
    );
    const file = standaloneHtml(m, body);
    expect(file).toContain('role="img" aria-label="Map of the route from fra to 198.18.9.2');
    expect(file).not.toContain("data-live-map");
    expect(file).toContain('Places: <a href="https://db-ip.com">IP Geolocation by DB-IP</a> (CC BY 4.0)');
  });

  it("shows every PoP on the compare page, and both directions of a path test in their colours", async () => {
    const [f, s] = recheckPlaces([
      (await placed("fra", [hop(1, "198.18.3.2", 0.04)])).hops,
      (await placed("sin", [hop(1, "198.18.3.2", 0.06)])).hops,
    ]);
    const fra = { ...(await placed("fra", [])), hops: f ?? [] };
    const sin = { ...(await placed("sin", [])), id: "t-sin", hops: s ?? [] };
    const agents = new Map([
      ["fra", agent("fra", FRANKFURT)],
      ["sin", agent("sin", { lat: 50.11, lon: 8.682, city: "Frankfurt" })],
    ]);
    const m = { ...(await measurement()), traces: [fra, sin] };
    const compare = String(<ComparePage measurement={m} agents={agents} />);
    expect(compare).toContain(
      'aria-label="Map of the routes from fra, sin to 198.18.9.2: 2 hops placed, 2 ruled out',
    );
    expect(compare).toContain(
      "0.04 ms from fra (Frankfurt) allows at most 4 km, 0.06 ms from sin (Frankfurt) allows at most 6 km",
    );
    const test: PathTestView = {
      id: "p1",
      status: "done",
      a: "fra",
      b: "sin",
      aAddress: "198.18.1.1",
      bAddress: "198.18.7.2",
      options: TraceOptions.parse({}),
      created: "2026-01-01T00:00:00.000Z",
      forward: fra,
      reverse: sin,
      comparison: null,
      note: null,
    };
    const page = String(<PathTestPage test={test} agents={agents} />);
    // fra and sin in one city share a marker: one label, both named on hover.
    expect(page).toContain(
      '<g class="map-pop map-forward"><title>fra (Frankfurt): the PoP\nsin (Frankfurt): the PoP</title>',
    );
    expect(page).toMatch(/<text[^>]*>fra, sin<\/text>/);
    expect(page).toContain('<span class="legend-item map-reverse">');
    expect(page).toContain("the way there: fra → sin");
    expect(page).toContain("the way back: sin → fra");
  });
});
