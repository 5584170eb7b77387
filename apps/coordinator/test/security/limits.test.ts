import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { apiKeys, eq } from "@lg/db";
import type { ApiErrorBody } from "@lg/protocol";
import { type NatsServer, startNatsServer } from "@lg/services";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { type RunningCoordinator, startCoordinator } from "../../src/coordinator";
import { createApiKey, createSecurityStore } from "../../src/security";
import { type AgentProcess, startAgent, waitForAgents } from "../harness";

/**
 * Public limits over real HTTP (PGlite, real NATS, one real agent tracing loopback). Clients are
 * told apart through a trusted proxy's X-Forwarded-For, as behind a reverse proxy.
 */
describe("public limits, operator keys, opt-out and audit", () => {
  let dir: string;
  let nats: NatsServer;
  let coord: RunningCoordinator;
  let agent: AgentProcess;
  let neutral: AgentProcess;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lg-sec-"));
    nats = await startNatsServer({ dataDir: join(dir, "nats") });
    const config = loadConfig({
      PORT: "0",
      NATS_URL: nats.url,
      LG_DATA_DIR: dir,
      LG_ALLOW_TARGETS: "127.0.0.0/8",
      LG_RATE_LIMIT: "3",
      LG_MAX_CONCURRENT: "2",
      LG_TARGET_BUDGET: "2000",
      LG_OPT_OUT: "127.0.0.9/32",
      LG_LIMITS_EXEMPT: "none",
      LG_TRUSTED_PROXIES: "127.0.0.1",
      // No reuse of keys and the opt-out table: revocations and opt-outs apply at once, no waiting.
      LG_SECURITY_CACHE: "0s",
    });
    coord = await startCoordinator(config, { logger: pino({ level: "silent" }) });
    agent = startAgent({ id: "sec-a", natsUrl: nats.url });
    neutral = startAgent({ id: "sec-n", natsUrl: nats.url, role: "neutral" });
    await waitForAgents(coord.url, ["sec-a", "sec-n"]);
    const store = createSecurityStore(coord.db.db);
    keys.unlimited = (await createApiKey(store, ["unlimited"], "test")).key;
    keys.audit = (await createApiKey(store, ["audit"], null)).key;
    keys.admin = (await createApiKey(store, ["admin"], null)).key;
  }, 60_000);

  afterAll(async () => {
    await agent?.stop();
    await neutral?.stop();
    await coord?.stop();
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const post = (client: string, body: unknown, key?: string, path = "/api/v1/measurements") =>
    fetch(`${coord.url}${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-forwarded-for": client,
        ...(key ? { authorization: `Bearer ${key}` } : {}),
      },
      body: JSON.stringify(body),
    });
  const get = (path: string, key?: string) =>
    fetch(`${coord.url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  const errorOf = async (res: Response) => ((await res.json()) as ApiErrorBody).error;
  const form = (client: string, path: string, body: string) =>
    fetch(`${coord.url}${path}`, {
      method: "POST",
      // A browser posting the form from the coordinator's own page says so (the form CSRF check).
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-forwarded-for": client,
        origin: coord.url,
      },
      body,
      redirect: "manual",
    });

  it("the fourth probing request in a minute from one IPv6 /64 is 429 with Retry-After; another /64 is not", async () => {
    // Refused targets still count: the limit is on requests, before any validation.
    for (const host of ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"]) {
      expect((await post(host, { target: "10.0.0.1" })).status).toBe(400);
    }
    const limited = await post("2001:db8:1:2:abcd::9", { target: "10.0.0.1" });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const e = await errorOf(limited);
    expect(e.code).toBe("rate_limited");
    expect(e.message).toContain("2001:db8:1:2::/64");
    expect((await post("2001:db8:1:3::1", { target: "10.0.0.1" })).status).toBe(400);
  });

  it("the web form's POST shares the same limit", async () => {
    const target = (client: string) => form(client, "/", "target=10.0.0.1");
    for (let i = 0; i < 3; i++) expect((await target("198.51.100.20")).status).toBe(400);
    const res = await target("198.51.100.20");
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
  });

  it("the reverse-session form /r/new is limited too: the fourth session from one client in a minute is 429", async () => {
    // The attack: 25 posts of /r/new from one address made 25 sessions.
    for (let i = 0; i < 3; i++) {
      expect((await form("198.51.100.21", "/r/new", "serverAgent=sec-a&protocol=icmp")).status).toBe(201);
    }
    const res = await form("198.51.100.21", "/r/new", "serverAgent=sec-a&protocol=icmp");
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await res.text()).toContain("too many requests from 198.51.100.21");
  });

  it("one count per client whichever route or form starts the probes: API, path-test form, reverse-session form", async () => {
    const client = "198.51.100.22";
    expect((await post(client, { target: "10.0.0.1" })).status).toBe(400);
    expect((await form(client, "/p", "a=sec-a&b=sec-n&protocol=icmp&count=1")).status).toBe(303);
    expect((await form(client, "/r/new", "serverAgent=sec-a&protocol=icmp")).status).toBe(201);
    const fourth = await post(client, { server: "sec-a" }, undefined, "/api/v1/reverse-sessions");
    expect(fourth.status).toBe(429);
    expect((await errorOf(fourth)).code).toBe("rate_limited");
  }, 30_000);

  it("a request without a client address is limited as 'unknown', not waved through", async () => {
    // app.request has no socket, as a request whose peer cannot be told would.
    const inProcess = () =>
      coord.app.request("/api/v1/measurements", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ target: "10.0.0.1" }),
      });
    for (let i = 0; i < 3; i++) expect((await inProcess()).status).toBe(400);
    const res = await inProcess();
    expect(res.status).toBe(429);
    expect((await errorOf(res)).message).toContain("unknown");
  });

  it("unjoined reverse sessions to a host reserve none of its probe budget, and the target policy still holds at creation", async () => {
    // 30 hops x 20 cycles = 600 probes a minute a session; the budget is 2000. The attack: each
    // session reserved its budget when created, so a few unjoined ones locked the target out.
    const session = { server: { host: "127.0.0.7" }, via: "sec-n", count: 20, interval: 1 };
    for (let i = 0; i < 5; i++) {
      const res = await post(`198.51.100.8${i}`, session, undefined, "/api/v1/reverse-sessions");
      expect(res.status, JSON.stringify(await res.clone().json())).toBe(201);
    }
    const measurement = await post("198.51.100.89", { target: "127.0.0.7", count: 20, interval: 1 });
    expect(measurement.status).toBe(202);
    const refused = await post(
      "198.51.100.90",
      { ...session, server: { host: "10.0.0.1" } },
      undefined,
      "/api/v1/reverse-sessions",
    );
    expect(refused.status).toBe(400);
    expect(await errorOf(refused)).toMatchObject({ code: "target_refused", field: "server.host" });
    const optedOut = await post(
      "198.51.100.91",
      { ...session, server: { host: "127.0.0.9" } },
      undefined,
      "/api/v1/reverse-sessions",
    );
    expect(optedOut.status).toBe(403);
    expect(await errorOf(optedOut)).toMatchObject({ code: "target_opted_out", field: "server.host" });
  }, 30_000);

  it("a count above the public bound is refused naming the field; an unlimited key lifts the bound", async () => {
    const res = await post("198.51.100.30", { target: "10.0.0.1", count: 101 });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: "over_public_limit", field: "count" });
    // With the key the bound is gone and the request reaches the target policy.
    const lifted = await post("198.51.100.30", { target: "10.0.0.1", count: 101 }, keys.unlimited);
    expect(await errorOf(lifted)).toMatchObject({ code: "target_refused" });
    const interval = await post("198.51.100.31", { target: "127.0.0.1", interval: 0.1 });
    expect(await errorOf(interval)).toMatchObject({ code: "over_public_limit", field: "interval" });
  });

  it("a third running measurement from one client is 429 too_many_running; an unlimited key is not capped", async () => {
    const long = { target: "127.0.0.3", count: 30, interval: 1, maxTtl: 2 };
    expect((await post("198.51.100.40", long)).status).toBe(202);
    expect((await post("198.51.100.40", long)).status).toBe(202);
    const third = await post("198.51.100.40", long);
    expect(third.status).toBe(429);
    expect(third.headers.get("retry-after")).toMatch(/^\d+$/);
    expect((await errorOf(third)).code).toBe("too_many_running");
    expect((await post("198.51.100.40", long, keys.unlimited)).status).toBe(202);
  }, 30_000);

  it("one target's probe budget is shared by all clients: the request that would overspend it is 429", async () => {
    // 30 hops x 20 cycles = 600 probes a minute each; the budget is 2000.
    const body = { target: "127.0.0.4", count: 20, interval: 1 };
    for (const client of ["198.51.100.50", "198.51.100.51", "198.51.100.52"]) {
      expect((await post(client, body)).status).toBe(202);
    }
    const over = await post("198.51.100.53", body);
    expect(over.status).toBe(429);
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await errorOf(over)).toMatchObject({ code: "target_budget_exceeded", field: "target" });
    // Another address has its own budget.
    expect((await post("198.51.100.53", { ...body, target: "127.0.0.5" })).status).toBe(202);
  }, 30_000);

  it("an adaptive (--until-sure) request reserves every cycle it may add, so it cannot slip 4x the probes past the budget", async () => {
    // Plain: 30 hops x 15 cycles + 9 follow-up probes = 459 a minute. Adaptive: up to 4 x 15 cycles,
    // 60 of them in the first minute: 30 x 60 + 9 = 1809. The attack: reserved as plain, two
    // adaptive requests (3618 at worst) would fit a budget of 2000.
    const body = { target: "127.0.0.12", count: 15, interval: 1, adaptive: true };
    expect((await post("198.51.100.54", body)).status).toBe(202);
    const second = await post("198.51.100.55", body);
    expect(second.status).toBe(429);
    expect(await errorOf(second)).toMatchObject({ code: "target_budget_exceeded", field: "target" });
    // The same count without --until-sure still fits beside it.
    expect((await post("198.51.100.56", { ...body, adaptive: false, count: 5 })).status).toBe(202);
  }, 30_000);

  it("a request that alone exceeds the budget is a 400 that says what to lower, even with a key", async () => {
    const res = await post(
      "198.51.100.60",
      { target: "127.0.0.6", count: 100, interval: 0.5 },
      keys.unlimited,
    );
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe("request_over_budget");
  });

  it("opted-out networks are refused, from LG_OPT_OUT and from the operator's list", async () => {
    const env = await post("198.51.100.70", { target: "127.0.0.9" });
    expect(env.status).toBe(403);
    expect(await errorOf(env)).toMatchObject({ code: "target_opted_out", field: "target" });

    const noKey = await post("198.51.100.70", { cidr: "127.0.0.10/31" }, undefined, "/api/v1/admin/opt-out");
    expect(noKey.status).toBe(401);
    const added = await post("198.51.100.70", { cidr: "127.0.0.10/31" }, keys.admin, "/api/v1/admin/opt-out");
    expect(added.status).toBe(201);
    const list = (await (await get("/api/v1/admin/opt-out", keys.admin)).json()) as { cidr: string }[];
    expect(list.map((r) => r.cidr)).toContain("127.0.0.10/31");
    const table = await post("198.51.100.71", { target: "127.0.0.11" });
    expect(table.status).toBe(403);
    expect((await errorOf(table)).code).toBe("target_opted_out");
  }, 20_000);

  it("the audit log names who asked for what from where, and needs a key with the audit scope", async () => {
    expect((await get("/api/v1/admin/audit")).status).toBe(401);
    expect((await get("/api/v1/admin/audit", keys.unlimited)).status).toBe(403);
    const res = await get("/api/v1/admin/audit?target=127.0.0.4", keys.audit);
    expect(res.status).toBe(200);
    const rows = (await res.json()) as { client: string; target: string; pops: string[]; at: string }[];
    expect(rows.map((r) => r.client).sort()).toEqual(["198.51.100.50", "198.51.100.51", "198.51.100.52"]);
    for (const r of rows) {
      expect(r.pops).toEqual(["sec-a"]);
      expect(Number.isNaN(Date.parse(r.at))).toBe(false);
    }
    const keyed = (await (await get("/api/v1/admin/audit?target=127.0.0.3", keys.audit)).json()) as {
      keyId: string | null;
    }[];
    expect(keyed.filter((r) => r.keyId !== null)).toHaveLength(1);
  });

  it("an unknown or revoked key is 401 invalid_api_key, and the database holds only the secret's hash", async () => {
    const bogus = await get("/api/v1/admin/audit", "lgk_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    expect(bogus.status).toBe(401);
    expect((await errorOf(bogus)).code).toBe("invalid_api_key");
    const store = createSecurityStore(coord.db.db);
    const { id, key } = await createApiKey(store, ["audit"], null);
    const [row] = await coord.db.db.select().from(apiKeys).where(eq(apiKeys.id, id));
    expect(row?.secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(key).not.toContain(row?.secretHash);
    expect(row?.secretHash).not.toContain(key.split("_").slice(2).join("_"));
    expect((await get("/api/v1/admin/audit", key)).status).toBe(200);
    expect(await store.revokeKey(id)).toBe(true);
    expect((await get("/api/v1/admin/audit", key)).status).toBe(401);
  }, 20_000);
});
