import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AgentRow, createDb, type DbHandle, type Repository } from "@lg/db";
import type { MeasurementView, PathTestView } from "@lg/protocol";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testApp } from "../http/test-app";
import type { MeasurementService } from "../measurements/service";
import type { PathTestService } from "../path-tests/service";
import { createApiKey, startSecurity } from "../security";
import { parseSecuritySettings } from "../security/settings";
import { createPrivacy } from ".";
import { parsePrivateHops } from "./settings";
import { lab, measurement, pathTest } from "./testing";

const agentRow = (id: string, address: string): AgentRow =>
  ({
    id,
    region: "eu",
    role: "pop",
    version: "test",
    addresses: [address],
    capabilities: { protocols: ["icmp"], ipv4: true, ipv6: false },
    online: true,
    firstSeen: new Date(),
    lastSeen: new Date(),
    running: 0,
  }) as unknown as AgentRow;

/**
 * LG_PRIVATE_HOPS=1 through the whole HTTP app (the API, the pages, the exports) with the real
 * security layer on PGlite: a public visitor sees the PoPs' own hops as "hidden by the operator",
 * an operator — with a key in the Authorization header, or signed in at /login — sees them all.
 */
describe("hop privacy in the API and the pages, public and signed in", () => {
  let dir: string;
  let db: DbHandle;
  let app: ReturnType<typeof testApp>["app"];
  let key: string;
  let stop: () => void;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lg-privacy-"));
    db = await createDb({ dataDir: dir });
    const logger = pino({ level: process.env.LG_TEST_LOG ?? "silent" });
    const security = startSecurity({ db: db.db, settings: parseSecuritySettings({}), logger });
    stop = security.stop;
    key = (await createApiKey(security.store, ["monitors"], "noc")).key;
    const agents = [agentRow("fra", lab.a), agentRow("sin", lab.b)];
    const repo = { listAgents: async () => agents } as unknown as Repository;
    app = testApp({
      repo,
      security,
      measurements: { get: async () => measurement() } as unknown as MeasurementService,
      pathTests: { get: async () => pathTest() } as unknown as PathTestService,
      privacy: createPrivacy({ policy: parsePrivateHops("1"), listAgents: async () => agents }),
      // A visitor from outside (not the loopback the public limits exempt).
      clientAddress: () => "198.51.100.7",
      logger,
    }).app;
  }, 60_000);
  afterAll(async () => {
    stop?.();
    await db?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const bearer = () => ({ authorization: `Bearer ${key}` });
  const signedIn = async () => {
    const res = await app.request("/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://localhost" },
      body: new URLSearchParams({ key }).toString(),
    });
    expect(res.status).toBe(303);
    return { cookie: (res.headers.get("set-cookie") ?? "").split(";")[0] as string };
  };

  it("the measurement API hides fra's first hop from the public, and shows it to a key", async () => {
    const open = (await (await app.request("/api/v1/measurements/m1")).json()) as MeasurementView;
    expect(open.traces[0]?.hops[0]).toMatchObject({ host: null, hidden: true, sent: 20 });
    expect(JSON.stringify(open)).not.toMatch(/198\.18\.1\.2(?!\d)|efra\.pop\.example/);
    const operator = (await (
      await app.request("/api/v1/measurements/m1", { headers: bearer() })
    ).json()) as MeasurementView;
    expect(operator.traces[0]?.hops[0]).toMatchObject({ host: "198.18.1.2", name: "efra.pop.example" });
    expect(operator.traces[0]?.hops[0]).not.toHaveProperty("hidden");
  });

  it("the path-test API hides each PoP's own router in both directions from the public only", async () => {
    const open = (await (await app.request("/api/v1/path-tests/pt1")).json()) as PathTestView;
    expect(open.forward.hops[0]).toMatchObject({ host: null, hidden: true });
    expect(open.reverse?.hops[2]).toMatchObject({ host: null, hidden: true });
    expect(JSON.stringify(open)).not.toContain("198.18.2.1");
    const operator = (await (
      await app.request("/api/v1/path-tests/pt1", { headers: bearer() })
    ).json()) as PathTestView;
    expect(operator.reverse?.hops[2]?.host).toBe("198.18.2.1");
  });

  it("the pages and exports say 'hidden by the operator' to the public and show the hop to a signed-in operator", async () => {
    for (const path of ["/m/m1", "/p/pt1", "/compare/m1"]) {
      const page = await (await app.request(path)).text();
      expect(page, path).toContain("hidden by the operator");
      expect(page, path).not.toContain("198.18.1.2<");
    }
    expect(await (await app.request("/m/m1.txt")).text()).toContain("hidden-by-the-operator");
    expect(await (await app.request("/m/m1.csv")).text()).toContain("hidden-by-the-operator");
    const session = await signedIn();
    for (const path of ["/m/m1", "/p/pt1"]) {
      const page = await (await app.request(path, { headers: session })).text();
      expect(page, path).not.toContain("hidden by the operator");
      expect(page, path).toContain("198.18.1.2");
    }
    expect(await (await app.request("/m/m1.txt", { headers: session })).text()).not.toContain(
      "hidden-by-the-operator",
    );
  });
});

describe("the live stream of a public visitor", () => {
  const fra = agentRow("fra", lab.a);
  const privacy = createPrivacy({ policy: parsePrivateHops("1"), listAgents: async () => [fra] });

  it("hides hop events and the snapshot as the views do, and leaves them alone for an operator", async () => {
    const m = measurement();
    const hop1 = m.traces[0]?.hops[0];
    const events = async function* () {
      yield { event: "snapshot", data: { ...m, status: "running" } };
      yield { event: "hop", data: { traceId: "t1", agentId: "fra", hop: hop1 } };
      yield { event: "hop", data: { traceId: "t1", agentId: "fra", hop: m.traces[0]?.hops[2] } };
    };
    const seen: { event: string; data?: unknown }[] = [];
    for await (const e of privacy.events(events(), true)) seen.push(e);
    const [snapshot, first, third] = seen.map((e) => e.data) as [
      MeasurementView,
      { hop: unknown },
      { hop: unknown },
    ];
    expect(snapshot.traces[0]?.hops[0]).toMatchObject({ host: null, hidden: true });
    expect(first.hop).toMatchObject({ host: null, hidden: true });
    expect(third.hop).toMatchObject({ host: "198.18.3.2" });
    const operator: unknown[] = [];
    for await (const e of privacy.events(events(), false)) operator.push(e);
    expect((operator[1] as { data: { hop: unknown } }).data.hop).toBe(hop1);
  });
});
