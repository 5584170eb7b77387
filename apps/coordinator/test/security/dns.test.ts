import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ApiErrorBody,
  DEFAULT_LOOKUPS_PER_CLIENT,
  type MeasurementAccepted,
  type MeasurementView,
} from "@lg/protocol";
import { startTestDns, type TestDnsServer } from "@lg/protocol/testing";
import { type NatsServer, startNatsServer } from "@lg/services";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { type RunningCoordinator, startCoordinator } from "../../src/coordinator";
import { createApiKey, createSecurityStore } from "../../src/security";
import { type AgentProcess, startAgent, waitFor, waitForAgents, waitForMeasurementDone } from "../harness";

/**
 * Attacks through target names, over real HTTP: a coordinator (PGlite, real NATS) and a real
 * `lg agent` tracing loopback, both resolving through a DNS server the test runs on loopback
 * (LG_DNS_SERVERS), never the machine's. Clients are told apart by a trusted proxy's
 * X-Forwarded-For.
 *
 * The DNS server: `*.slow.test` never answers; `rebind.test` answers 127.0.0.2 to the first A
 * query and the opted-out 127.0.0.3 after; the other names answer 127.0.0.2.
 */
describe("target names: rebinding, names that never answer, one address one budget", () => {
  let dir: string;
  let nats: NatsServer;
  let dns: TestDnsServer;
  let coord: RunningCoordinator;
  let agent: AgentProcess;
  let auditKey: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lg-sec-dns-"));
    nats = await startNatsServer({ dataDir: join(dir, "nats") });
    dns = await startTestDns(({ name, type, count }) => {
      if (name.endsWith(".slow.test")) return "silent";
      if (name === "rebind.test") return type === "A" && count === 1 ? ["127.0.0.2"] : ["127.0.0.3"];
      return ["127.0.0.2"];
    });
    const config = loadConfig({
      PORT: "0",
      NATS_URL: nats.url,
      LG_DATA_DIR: dir,
      LG_ALLOW_TARGETS: "127.0.0.0/8",
      LG_DNS_SERVERS: dns.server,
      LG_RATE_LIMIT: "0",
      LG_MAX_CONCURRENT: "0",
      LG_TARGET_BUDGET: "50",
      LG_OPT_OUT: "127.0.0.3/32",
      LG_LIMITS_EXEMPT: "none",
      LG_TRUSTED_PROXIES: "127.0.0.1",
    });
    coord = await startCoordinator(config, { logger: pino({ level: "silent" }) });
    agent = startAgent({ id: "dns-a", natsUrl: nats.url, env: { LG_DNS_SERVERS: dns.server } });
    await waitForAgents(coord.url, ["dns-a"]);
    auditKey = (await createApiKey(createSecurityStore(coord.db.db), ["audit"], null)).key;
  }, 60_000);

  afterAll(async () => {
    await agent?.stop();
    await coord?.stop();
    await nats?.stop();
    await dns?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const post = (client: string, body: unknown) =>
    fetch(`${coord.url}/api/v1/measurements`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": client },
      body: JSON.stringify(body),
    });
  const timedPost = async (client: string, body: unknown) => {
    const started = Date.now();
    const res = await post(client, body);
    return { res, ms: Date.now() - started, body: (await res.json()) as unknown };
  };
  const auditOf = async (measurementId: string) => {
    const res = await fetch(`${coord.url}/api/v1/admin/audit?limit=1000`, {
      headers: { authorization: `Bearer ${auditKey}` },
    });
    const rows = (await res.json()) as { measurementId: string | null; target: string; address: string }[];
    return rows.filter((r) => r.measurementId === measurementId);
  };

  it("a name answering a public address first and an opted-out one second is never traced at the second (DNS rebinding)", async () => {
    const res = await post("198.51.100.1", { target: "rebind.test", count: 2, maxTtl: 2 });
    expect(res.status).toBe(202);
    const accepted = (await res.json()) as MeasurementAccepted;
    const m: MeasurementView = await waitForMeasurementDone(coord.url, accepted.id, 30_000);
    const trace = m.traces[0];
    expect(trace?.address).not.toBe("127.0.0.3");
    expect(trace?.status).toBe("failed");
    expect(trace?.failure).toEqual({
      source: "target",
      message:
        "agent dns-a rejected the job (target-refused): dns-a resolved rebind.test to 127.0.0.3, the coordinator checked 127.0.0.2",
    });
    // The audit row names the address the job carried, the only one an agent may probe.
    expect(await auditOf(accepted.id)).toMatchObject([{ target: "rebind.test", address: "127.0.0.2" }]);
  }, 40_000);

  it("the audit row records the address the agent actually traced", async () => {
    const res = await post("198.51.100.2", { target: "good.test", count: 2, maxTtl: 2 });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as MeasurementAccepted;
    const m = await waitForMeasurementDone(coord.url, id, 30_000);
    expect(m.traces[0]).toMatchObject({ status: "done", address: "127.0.0.2" });
    expect(await auditOf(id)).toMatchObject([{ target: "good.test", address: "127.0.0.2" }]);
  }, 40_000);

  it("a client's names that never answer cost that client only: another client's name resolves at once", async () => {
    const slow = Array.from({ length: 12 }, (_, i) =>
      timedPost("198.51.100.10", { target: `n${i}.slow.test`, count: 1, maxTtl: 2 }),
    );
    // The slow client holds all its lookups at the name server before the other client asks.
    await waitFor(
      "the slow client's lookups at the name server",
      async () =>
        new Set(dns.queries.filter((q) => q.name.endsWith(".slow.test")).map((q) => q.name)).size >=
        DEFAULT_LOOKUPS_PER_CLIENT,
      2_000,
    );
    const other = await timedPost("198.51.100.11", { target: "fast.test", count: 1, maxTtl: 2 });
    expect(other.res.status).toBe(202);
    expect(other.ms).toBeLessThan(1_000);
    // Every slow name is a 400 resolve_failed at the 2 s deadline, not a hang.
    for (const { res, ms, body } of await Promise.all(slow)) {
      expect(res.status).toBe(400);
      expect((body as ApiErrorBody).error).toMatchObject({ code: "resolve_failed", field: "target" });
      expect((body as ApiErrorBody).error.message).toMatch(/\.slow\.test did not resolve within 2 s/);
      expect(ms).toBeLessThan(3_000);
    }
  }, 30_000);

  it("an IPv4-mapped literal is the IPv4 address: same budget, same opt-out, same audit address", async () => {
    // 8 hops x 5 cycles = 40 probes a minute; two of them exceed the budget of 50.
    const body = { target: "127.0.0.4", count: 5, interval: 0.5, maxTtl: 8 };
    const first = await post("198.51.100.20", body);
    expect(first.status).toBe(202);
    const { id } = (await first.json()) as MeasurementAccepted;
    const mapped = await post("198.51.100.21", { ...body, target: "::ffff:127.0.0.4" });
    expect(mapped.status).toBe(429);
    expect(((await mapped.json()) as ApiErrorBody).error.code).toBe("target_budget_exceeded");
    const optedOut = await post("198.51.100.22", { target: "::ffff:127.0.0.3", count: 1 });
    expect(optedOut.status).toBe(403);
    expect(await auditOf(id)).toMatchObject([{ address: "127.0.0.4" }]);
  }, 30_000);
});
