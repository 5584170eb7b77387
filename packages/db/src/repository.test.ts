import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FinalResultMessage, Hop, PresenceMessage } from "@lg/protocol";
import { TraceOptions } from "@lg/protocol";
import { hopOf, presenceOf } from "@lg/protocol/testing";
import { testDatabaseUrl } from "@lg/services/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type DbHandle } from "./client";
import { createRepository, type Repository } from "./repository";

const hop = (ttl: number, host: string): Hop => hopOf(ttl, host, 3);

const presence = (id: string, kind: PresenceMessage["kind"] = "heartbeat"): PresenceMessage =>
  presenceOf(id, {}, { kind });

const final = (traceId: string, measurementId: string, agentId: string, hops: Hop[]): FinalResultMessage => ({
  v: 1,
  traceId,
  measurementId,
  agentId,
  status: "done",
  target: "198.18.9.1",
  address: "198.18.9.1",
  hops,
  stoppedBy: "destination",
  startedAt: "2026-11-23T08:00:00.000Z",
  finishedAt: "2026-11-23T08:00:10.000Z",
});

let seq = 0;
const uid = (p: string) => `${p}${Date.now().toString(36)}${seq++}`;

/** The same behaviour is required of both drivers, so one suite runs against each. */
function repositorySuite(name: string, open: () => Promise<DbHandle>, closeAll: () => Promise<void>) {
  describe(name, () => {
    let handle: DbHandle;
    let repo: Repository;
    beforeAll(async () => {
      handle = await open();
      repo = createRepository(handle.db);
    }, 120_000);
    afterAll(async () => {
      await handle?.close();
      await closeAll();
    }, 60_000);

    it("stores a measurement with its traces and reads it back", async () => {
      const id = uid("m");
      await repo.createMeasurement({
        id,
        target: "198.18.9.1",
        options: TraceOptions.parse({ count: 3 }),
        client: "127.0.0.1",
        traces: [
          { id: uid("t"), agentId: "fra", status: "queued" },
          { id: uid("t"), agentId: "sin", status: "failed", failure: { source: "agent", message: "busy" } },
        ],
      });
      const got = await repo.getMeasurement(id);
      expect(got?.measurement.status).toBe("running");
      expect(got?.measurement.options.count).toBe(3);
      expect(got?.traces.map((t) => [t.agentId, t.status, t.failure?.source ?? null]).sort()).toEqual([
        ["fra", "queued", null],
        ["sin", "failed", "agent"],
      ]);
      expect(await repo.getMeasurement("nope")).toBeUndefined();
    });

    it("writes a redelivered final result only once and finishes the measurement", async () => {
      const id = uid("m");
      const traceId = uid("t");
      await repo.createMeasurement({
        id,
        target: "198.18.9.1",
        options: TraceOptions.parse({}),
        traces: [{ id: traceId, agentId: "fra", status: "queued" }],
      });
      expect(await repo.markTraceRunning(traceId)).toBeDefined();
      const first = await repo.storeFinalResult(final(traceId, id, "fra", [hop(1, "198.18.0.1")]), null);
      expect(first?.status).toBe("done");
      const again = await repo.storeFinalResult(final(traceId, id, "fra", [hop(1, "198.18.0.99")]), null);
      expect(again).toBeUndefined();
      const got = await repo.getMeasurement(id);
      expect(got?.traces[0]?.hops.map((h) => h.host)).toEqual(["198.18.0.1"]);
      expect(got?.measurement.status).toBe("done");
      // An acceptance that arrives after the result does not move the trace back to running.
      expect(await repo.markTraceRunning(traceId)).toBeUndefined();
    });

    it("stores a final result's follow-up probes and what --until-sure added", async () => {
      const id = uid("m");
      const traceId = uid("t");
      await repo.createMeasurement({
        id,
        target: "198.18.9.1",
        options: TraceOptions.parse({ adaptive: true, servicePort: 8080 }),
        traces: [{ id: traceId, agentId: "fra", status: "queued" }],
      });
      const followUps = [
        {
          kind: "tcp-syn" as const,
          target: "198.18.9.1",
          port: 8080,
          ttl: 64,
          answered: true,
          rtt: 0.2,
          sent: 3,
          recv: 3,
          purpose: "is 198.18.9.1 there, ignoring ICMP echo?",
        },
      ];
      const adaptive = { extraCycles: 5, extraProbes: 15, maxExtraCycles: 30, decided: true };
      await repo.storeFinalResult(
        { ...final(traceId, id, "fra", [hop(1, "198.18.0.1")]), followUps, adaptive },
        null,
      );
      const got = await repo.getMeasurement(id);
      expect(got?.traces[0]?.followUps).toEqual(followUps);
      expect(got?.traces[0]?.adaptive).toEqual(adaptive);
      expect(got?.measurement.options).toMatchObject({ adaptive: true, servicePort: 8080 });
    });

    it("stores a trace's NAT reading and Record Route hints, and null for a trace without them", async () => {
      const id = uid("m");
      const [withReadings, without] = [uid("t"), uid("t")];
      await repo.createMeasurement({
        id,
        target: "198.18.9.1",
        options: TraceOptions.parse({ recordRoute: true }),
        traces: [
          { id: withReadings, agentId: "fra", status: "queued" },
          { id: without, agentId: "sin", status: "queued" },
        ],
      });
      const nat = {
        afterTtl: 2,
        beforeTtl: 3,
        rewrote: ["source" as const],
        quotes: { asSent: 6, rewritten: 3 },
      };
      const recordRoute = {
        status: "ok" as const,
        forward: ["198.18.170.1"],
        back: ["198.18.173.1"],
        sent: 3,
        answered: 3,
        plainSent: 3,
        plainAnswered: 3,
      };
      await repo.storeFinalResult({ ...final(withReadings, id, "fra", []), nat, recordRoute }, null);
      await repo.storeFinalResult(final(without, id, "sin", []), null);
      expect(await repo.getTrace(withReadings)).toMatchObject({ nat, recordRoute });
      expect(await repo.getTrace(without)).toMatchObject({ nat: null, recordRoute: null });
    });

    it("ignores a final result that names another agent than the one the trace was sent to", async () => {
      const id = uid("m");
      const traceId = uid("t");
      await repo.createMeasurement({
        id,
        target: "198.18.9.1",
        options: TraceOptions.parse({}),
        traces: [{ id: traceId, agentId: "fra", status: "queued" }],
      });
      expect(await repo.storeFinalResult(final(traceId, id, "sin", []), null)).toBeUndefined();
      expect((await repo.getTrace(traceId))?.status).toBe("queued");
    });

    it("marks silent agents offline and fails their running traces with source agent", async () => {
      const agentId = uid("a");
      await repo.upsertAgent(presence(agentId, "announce"), new Date(Date.now() - 60_000));
      const fresh = uid("a");
      await repo.upsertAgent(presence(fresh), new Date());
      const id = uid("m");
      const traceId = uid("t");
      await repo.createMeasurement({
        id,
        target: "198.18.9.1",
        options: TraceOptions.parse({}),
        traces: [{ id: traceId, agentId, status: "queued" }],
      });
      await repo.markTraceRunning(traceId);
      const offline = await repo.markSilentAgentsOffline(new Date(Date.now() - 15_000));
      expect(offline).toContain(agentId);
      expect(offline).not.toContain(fresh);
      const failed = await repo.failTracesOfSilentAgents(new Date(Date.now() - 15_000), {
        source: "agent",
        message: "agent went offline",
      });
      expect(failed.map((t) => t.id)).toEqual([traceId]);
      const got = await repo.getMeasurement(id);
      expect(got?.traces[0]?.failure?.source).toBe("agent");
      expect(got?.measurement.status).toBe("done");
      const listed = await repo.listAgents();
      expect(listed.find((a) => a.id === agentId)?.online).toBe(false);
      expect(listed.find((a) => a.id === fresh)?.online).toBe(true);
      // A real result that arrives late replaces the guess.
      const late = await repo.storeFinalResult(final(traceId, id, agentId, [hop(1, "198.18.0.1")]), null);
      expect(late?.status).toBe("done");
    });

    it("an agent that restarts fails the traces its previous process had accepted", async () => {
      const agentId = uid("a");
      await repo.upsertAgent(presence(agentId, "announce"), new Date());
      const id = uid("m");
      const [before, after] = [uid("t"), uid("t")];
      await repo.createMeasurement({
        id,
        target: "198.18.9.1",
        options: TraceOptions.parse({}),
        traces: [
          { id: before, agentId, status: "queued" },
          { id: after, agentId, status: "queued" },
        ],
      });
      await repo.markTraceRunning(before);
      await new Promise((r) => setTimeout(r, 20));
      const restart = new Date();
      await new Promise((r) => setTimeout(r, 20));
      await repo.markTraceRunning(after);
      const failed = await repo.failTracesOfRestartedAgent(agentId, restart, {
        source: "agent",
        message: "restarted",
      });
      expect(failed.map((t) => t.id)).toEqual([before]);
    });

    it("keeps the place an agent announces, and forgets it when a later announcement has none", async () => {
      const agentId = uid("a");
      const location = { lat: 50.11, lon: 8.68, city: "Frankfurt" };
      await repo.upsertAgent(presenceOf(agentId, { location }, { kind: "announce" }), new Date());
      expect((await repo.listAgents()).find((a) => a.id === agentId)?.location).toEqual(location);
      await repo.upsertAgent(presence(agentId), new Date());
      expect((await repo.listAgents()).find((a) => a.id === agentId)?.location).toBeNull();
    });

    it("an agent that says it is leaving is offline at once", async () => {
      const agentId = uid("a");
      await repo.upsertAgent(presence(agentId, "announce"), new Date());
      await repo.upsertAgent(presence(agentId, "leaving"), new Date());
      expect((await repo.listAgents()).find((a) => a.id === agentId)?.online).toBe(false);
    });
  });
}

const tmpDirs: string[] = [];
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "lg-db-"));
  tmpDirs.push(dir);
  return dir;
}
// After every suite of this file (the embedded-database one makes folders too).
afterAll(async () => {
  await Promise.all(tmpDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

let pgStop: (() => Promise<void>) | undefined;
repositorySuite(
  "PostgreSQL",
  async () => {
    const pg = await testDatabaseUrl();
    pgStop = pg.stop;
    return createDb({ databaseUrl: pg.url, dataDir: await freshDir() });
  },
  async () => {
    await pgStop?.();
  },
);

repositorySuite(
  "PGlite",
  async () => createDb({ dataDir: await freshDir() }),
  async () => {},
);

describe("embedded database", () => {
  it("keeps its data across a reopen of the same data folder", async () => {
    const dir = await freshDir();
    const first = await createDb({ dataDir: dir });
    await createRepository(first.db).upsertAgent(presence("kept"), new Date());
    await first.close();
    const second = await createDb({ dataDir: dir });
    const listed = await createRepository(second.db).listAgents();
    await second.close();
    expect(listed.map((a) => a.id)).toEqual(["kept"]);
  }, 60_000);
});
