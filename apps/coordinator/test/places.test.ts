import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRepository } from "@lg/db";
import {
  AgentView,
  type FinalResultMessage,
  type Hop,
  MeasurementView,
  subjects,
  TraceOptions,
} from "@lg/protocol";
import { hopOf, presenceOf } from "@lg/protocol/testing";
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { type Stack, startStack, waitFor } from "./harness";

/** A hop answered by `host` alone, its best round-trip time `best` ms. */
function hop(ttl: number, host: string | null, best = 0.05): Hop {
  const h = hopOf(ttl, host, 3);
  return host ? { ...h, best, avg: best, last: best, worst: best } : h;
}

const FRA = { lat: 50.1109, lon: 8.6821, city: "Frankfurt" };
const SIN = { lat: 1.2897, lon: 103.8501, city: "Singapore" };

/**
 * Hops carry `geo` in the API: places from the operator's table (LG_GEO_PREFIXES) and the offline
 * database, each checked against the PoPs that measured it; PoPs show where they are.
 */
describe("places of hops in the API", () => {
  let stack: Stack;
  let agentSide: NatsConnection;
  let dir: string | undefined;
  const api = (path: string) => `${stack.coordinator.url}/api/v1${path}`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lg-places-"));
    const placeFile = join(dir, "places.csv");
    await writeFile(
      placeFile,
      [
        "# the test's pretend places",
        "198.18.0.0/15,50.1109,8.6821,Frankfurt,DE",
        "198.18.3.2/32,-33.8688,151.2093,Sydney,AU",
        "198.18.7.0/24,1.2897,103.8501,Singapore,SG",
      ].join("\n"),
    );
    stack = await startStack("pglite", { env: { LG_GEO_PREFIXES: placeFile } });
    agentSide = await connect({ servers: stack.nats.url });
    agentSide.publish(
      subjects.presence("fra"),
      JSON.stringify(presenceOf("fra", { location: FRA }, { kind: "announce" })),
    );
    agentSide.publish(
      subjects.presence("sin"),
      JSON.stringify(presenceOf("sin", { location: SIN }, { kind: "announce" })),
    );
    await waitFor("both PoPs known", async () => {
      const agents = z.array(AgentView).parse(await (await fetch(api("/agents"))).json());
      return agents.filter((a) => a.location).length === 2 ? agents : undefined;
    });
  }, 60_000);
  afterAll(async () => {
    await agentSide?.close();
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("shows where each PoP is in GET /agents", async () => {
    const agents = z.array(AgentView).parse(await (await fetch(api("/agents"))).json());
    expect(agents.find((a) => a.id === "fra")?.location).toEqual(FRA);
    expect(agents.find((a) => a.id === "sin")?.location).toEqual(SIN);
  });

  it("places hops from the table and the database, rules out the wrong one, and pools both PoPs' bounds", async () => {
    const repo = createRepository(stack.coordinator.db.db);
    const measurementId = `m${Date.now().toString(36)}`;
    const fraTrace = `tf${Date.now().toString(36)}`;
    const sinTrace = `ts${Date.now().toString(36)}`;
    await repo.createMeasurement({
      id: measurementId,
      target: "198.18.9.2",
      options: TraceOptions.parse({}),
      traces: [
        { id: fraTrace, agentId: "fra", status: "queued" },
        { id: sinTrace, agentId: "sin", status: "queued" },
      ],
    });
    const now = new Date().toISOString();
    const final = (traceId: string, agentId: string, hops: Hop[]): FinalResultMessage => ({
      v: 1,
      traceId,
      measurementId,
      agentId,
      status: "done",
      target: "198.18.9.2",
      address: "198.18.9.2",
      hops,
      stoppedBy: "destination",
      startedAt: now,
      finishedAt: now,
    });
    const js = jetstream(agentSide);
    // 8.8.8.8 is only looked up in the offline database file here; nothing is sent to it.
    const fromFra = [
      hop(1, "198.18.1.2", 0.03),
      hop(2, "198.18.3.2", 0.04),
      hop(3, null),
      hop(4, "8.8.8.8", 9),
    ];
    const fromSin = [hop(1, "198.18.7.1", 0.03), hop(2, "198.18.3.2", 0.06), hop(3, "10.1.2.3", 0.1)];
    await js.publish(subjects.final("fra", fraTrace), JSON.stringify(final(fraTrace, "fra", fromFra)), {
      msgID: fraTrace,
    });
    await js.publish(subjects.final("sin", sinTrace), JSON.stringify(final(sinTrace, "sin", fromSin)), {
      msgID: sinTrace,
    });
    const view = await waitFor("both traces stored", async () => {
      const res = await fetch(api(`/measurements/${measurementId}`));
      const m = MeasurementView.parse(await res.json());
      return m.status === "done" ? m : undefined;
    });
    const fra = view.traces.find((t) => t.agentId === "fra")?.hops ?? [];
    const sin = view.traces.find((t) => t.agentId === "sin")?.hops ?? [];

    expect(fra[0]?.geo).toMatchObject({ city: "Frankfurt", country: "DE", source: "table", plausible: true });
    expect(fra[0]?.geo?.feasible).toEqual([
      { lat: FRA.lat, lon: FRA.lon, radiusKm: 3, pop: "fra", rtt: 0.03, city: "Frankfurt" },
    ]);
    // Sydney is ruled out by both PoPs that measured 198.18.3.2, in one reason.
    const wrong = {
      city: "Sydney",
      source: "table",
      plausible: false,
      reason:
        "0.04 ms from fra (Frankfurt) allows at most 4 km, 0.06 ms from sin (Singapore) allows at most 6 km; the table says Sydney",
    };
    expect(fra[1]?.geo).toMatchObject(wrong);
    expect(sin[1]?.geo).toMatchObject(wrong);
    expect(sin[1]?.geo?.feasible?.map((d) => d.pop)).toEqual(["fra", "sin"]);
    expect(fra[2]?.geo).toBeUndefined();
    // The database places 8.8.8.8 (anycast) in the US; 9 ms from Frankfurt it cannot be there.
    expect(fra[3]?.geo).toMatchObject({ country: "US", source: "database", plausible: false });
    expect(fra[3]?.geo?.reason).toMatch(
      /^9 ms from fra \(Frankfurt\) allows at most 900 km; the database says \S/,
    );
    // 198.18.7.1 is 0.03 ms from sin and placed in Singapore: plausible.
    expect(sin[0]?.geo).toMatchObject({ city: "Singapore", plausible: true });
    // A private address is never looked up in the database, and the table does not cover it.
    expect(sin[2]?.geo).toBeUndefined();
  }, 60_000);
});
