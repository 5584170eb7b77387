import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createRepository } from "@lg/db";
import type { AlertView, MonitorSample, MonitorView } from "@lg/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError } from "../src/errors";
import { monitorRoutes } from "../src/monitors/routes";
import { createMonitorStore } from "../src/monitors/store";
import { createApiKey, createSecurityStore } from "../src/security";
import {
  type AgentProcess,
  lgBin,
  type Stack,
  startAgent,
  startStack,
  waitFor,
  waitForAgents,
} from "./harness";
import { startWebhookReceiver } from "./webhook-receiver";

describe("monitors API, scheduler and PoP-offline alerts (real NATS, PGlite, a real agent)", () => {
  let stack: Stack;
  let agent: AgentProcess;
  let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let key: string;
  let weakKey: string;

  const api = (path: string, init: RequestInit = {}, withKey: string | null = key) =>
    fetch(`${stack.coordinator.url}${path}`, {
      ...init,
      headers: {
        "content-type": "application/json",
        ...(withKey ? { authorization: `Bearer ${withKey}` } : {}),
        ...(init.headers as Record<string, string> | undefined),
      },
    });

  beforeAll(async () => {
    // The webhook receiver listens on this host's loopback, an internal address: allow-listed.
    stack = await startStack("pglite", { monitorTickMs: 200, env: { LG_WEBHOOK_ALLOW: "127.0.0.1/32" } });
    const store = createSecurityStore(stack.coordinator.db.db);
    key = (await createApiKey(store, ["monitors"], "test")).key;
    weakKey = (await createApiKey(store, ["audit"], "test")).key;
    hook = await startWebhookReceiver();
    agent = startAgent({ id: "mon1", natsUrl: stack.nats.url });
    await waitForAgents(stack.coordinator.url, ["mon1"]);
  });
  afterAll(async () => {
    await agent?.stop();
    await stack?.stop();
    await hook?.close();
  });

  it("refuses monitor routes without an operator key (401) and with a key lacking the monitors scope (403)", async () => {
    const none = await api("/api/v1/monitors", {}, null);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    const weak = await api("/api/v1/alerts", {}, weakKey);
    expect(weak.status).toBe(403);
    expect(((await weak.json()) as { error: { code: string } }).error.code).toBe("forbidden");
  });

  it("refuses a webhook to an internal address (a port-scan oracle) with a 400 naming the field", async () => {
    for (const webhook of [
      "http://10.0.0.5:22/",
      "http://169.254.169.254/latest/meta-data/",
      "http://[::1]:6379/",
      "http://127.0.0.2:5432/",
    ]) {
      const res = await api("/api/v1/monitors", {
        method: "POST",
        body: JSON.stringify({ kind: "trace", every: 30, measurement: { target: "127.0.0.1" }, webhook }),
      });
      const err = ((await res.json()) as { error: { code: string; field?: string } }).error;
      expect({ status: res.status, code: err.code, field: err.field }, webhook).toEqual({
        status: 400,
        code: "webhook_refused",
        field: "webhook",
      });
    }
    expect(
      ((await (await api("/api/v1/monitors")).json()) as MonitorView[]).map((m) => m.webhook),
    ).not.toContain("http://10.0.0.5:22/");
  });

  it("the monitor routes refuse a request that carries no principal (mounted without the security layer)", async () => {
    const bare = monitorRoutes({
      store: createMonitorStore(stack.coordinator.db.db),
      repo: createRepository(stack.coordinator.db.db),
      allowList: [],
    });
    // The coordinator's onError, in short: an ApiError answers with its own status.
    bare.onError((err, c) =>
      err instanceof ApiError ? c.json({ error: { code: err.code } }, err.status) : c.json({}, 500),
    );
    for (const path of ["/api/v1/monitors", "/api/v1/alerts"]) {
      const res = await bare.request(path);
      expect({ status: res.status, body: await res.json() }, path).toEqual({
        status: 401,
        body: { error: { code: "unauthorized" } },
      });
    }
  });

  it("rejects a bad monitor with a 400 that names the field", async () => {
    const cases: [unknown, string, string][] = [
      [{ kind: "trace", every: 2, measurement: { target: "127.0.0.1" } }, "invalid_field", "every"],
      [
        { kind: "trace", every: 30, measurement: { target: "127.0.0.1" }, webhook: "ftp://x" },
        "invalid_field",
        "webhook",
      ],
      [
        { kind: "trace", every: 30, measurement: { target: "127.0.0.1", from: ["nope"] } },
        "unknown_agent",
        "measurement.from",
      ],
      [
        { kind: "trace", every: 30, measurement: { target: "192.0.2.1" } },
        "target_not_allowed",
        "measurement.target",
      ],
      [
        { kind: "trace", every: 30, measurement: { target: "127.0.0.1" }, rules: { loss: { pct: 500 } } },
        "invalid_field",
        "rules.loss.pct",
      ],
      [{ kind: "ping", every: 30 }, "invalid_field", "kind"],
    ];
    for (const [body, code, field] of cases) {
      const res = await api("/api/v1/monitors", { method: "POST", body: JSON.stringify(body) });
      const err = ((await res.json()) as { error: { code: string; field?: string } }).error;
      expect({ status: res.status, field: err.field }, JSON.stringify(body)).toEqual({ status: 400, field });
      if (code !== "target_not_allowed") expect(err.code).toBe(code);
    }
  });

  it("runs a monitor on schedule, keeps a per-hop series, and fires then resolves a PoP-offline alert with webhooks", async () => {
    const res = await api("/api/v1/monitors", {
      method: "POST",
      body: JSON.stringify({
        kind: "trace",
        name: "loopback",
        every: 5,
        measurement: { target: "127.0.0.1", from: ["mon1"], count: 2, interval: 0.2 },
        rules: { loss: { pct: 50, runs: 2 }, popOffline: {} },
        webhook: hook.url,
      }),
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as MonitorView;
    expect(created).toMatchObject({ name: "loopback", kind: "trace", every: 5, runs: 0 });

    const ran = await waitFor("a first monitor run", async () => {
      const m = (await (await api(`/api/v1/monitors/${created.id}`)).json()) as MonitorView;
      return m.runs >= 1 ? m : undefined;
    });
    expect(ran.lastLink).toMatch(new RegExp(`^${stack.coordinator.url}/m/[A-Za-z0-9_-]+$`));
    const series = (await (await api(`/api/v1/monitors/${created.id}/series`)).json()) as MonitorSample[];
    expect(series.length).toBeGreaterThan(0);
    expect(series.at(-1)).toMatchObject({ subject: "mon1", host: "127.0.0.1", lossPct: 0 });
    expect((await (await api("/api/v1/monitors")).json()) as MonitorView[]).toContainEqual(
      expect.objectContaining({ id: created.id }),
    );

    // The PoP goes away: the next run sees it offline.
    await agent.stop("SIGKILL");
    const fired = await waitFor(
      "the pop-offline alert's webhook",
      async () => hook.received.find((w) => w.event === "alert.fired"),
      60_000,
    );
    expect(fired.alert).toMatchObject({
      monitorId: created.id,
      rule: "popOffline",
      subject: "mon1",
      status: "firing",
    });
    expect(fired.summary).toContain("offline");
    const firing = (await (
      await api(`/api/v1/alerts?status=firing&monitor=${created.id}`)
    ).json()) as AlertView[];
    expect(firing.map((a) => a.rule)).toEqual(["popOffline"]);

    agent = startAgent({ id: "mon1", natsUrl: stack.nats.url });
    const resolved = await waitFor(
      "the pop-offline alert's resolve webhook",
      async () => hook.received.find((w) => w.event === "alert.resolved"),
      60_000,
    );
    expect(resolved.alert).toMatchObject({ id: fired.alert.id, status: "resolved" });
    const history = (await (await api(`/api/v1/alerts?monitor=${created.id}`)).json()) as AlertView[];
    expect(history[0]).toMatchObject({ id: fired.alert.id, status: "resolved", delivery: "ok 204" });
    // One alert, fired once and resolved once.
    expect(hook.received.filter((w) => w.alert.id === fired.alert.id).map((w) => w.event)).toEqual([
      "alert.fired",
      "alert.resolved",
    ]);

    expect((await api(`/api/v1/monitors/${created.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await api(`/api/v1/monitors/${created.id}`)).status).toBe(404);
    expect((await api(`/api/v1/monitors/${created.id}`, { method: "DELETE" })).status).toBe(404);
  }, 150_000);

  it("lg monitor create|list|alerts|delete drive the API with LG_API_URL and LG_API_KEY, and a wrong flag is a one-line error", async () => {
    const lg = async (args: string[], apiKey = key) => {
      const env = {
        ...process.env,
        LG_FROM_SOURCE: "1",
        LG_API_URL: stack.coordinator.url,
        LG_API_KEY: apiKey,
      };
      try {
        return {
          ...(await promisify(execFile)(lgBin, ["monitor", ...args], { env, timeout: 60_000 })),
          code: 0,
        };
      } catch (err) {
        const e = err as { stdout: string; stderr: string; code: number };
        return { stdout: e.stdout, stderr: e.stderr, code: e.code };
      }
    };
    const created = await lg([
      "create",
      "127.0.0.1",
      "--every",
      "60",
      "--from",
      "mon1",
      "--loss",
      "5",
      "--runs",
      "2",
      "--pop-offline",
      "-n",
      "cli",
    ]);
    expect(created.code, created.stderr).toBe(0);
    const id = /^monitor (\S+) created: cli, every 60 s, rules loss>5%x2,pop-offline$/m.exec(
      created.stdout,
    )?.[1];
    expect(id).toBeDefined();
    const list = await lg(["list"]);
    expect(list.stdout).toMatch(new RegExp(`^${id}\tcli\tevery 60s\t`, "m"));
    const alerts = await lg(["alerts", "--firing", "--json"]);
    expect(alerts.code).toBe(0);
    expect(JSON.parse(alerts.stdout)).toEqual([]);
    const bad = await lg(["create", "127.0.0.1", "--every", "2"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toContain("field every");
    const denied = await lg(["list"], weakKey);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain("monitors' scope");
    expect((await lg(["delete", id as string])).code).toBe(0);
    expect((await lg(["list"])).stdout).not.toContain(id);
  }, 120_000);

  it("a path-test monitor runs both directions each time and keeps a series per direction", async () => {
    const other = startAgent({ id: "mon2", natsUrl: stack.nats.url });
    try {
      await waitForAgents(stack.coordinator.url, ["mon1", "mon2"]);
      const res = await api("/api/v1/monitors", {
        method: "POST",
        body: JSON.stringify({
          kind: "path-test",
          every: 5,
          pathTest: { a: "mon1", b: "mon2", count: 2, interval: 0.2 },
          rules: { pathChange: {} },
        }),
      });
      expect(res.status).toBe(201);
      const { id } = (await res.json()) as MonitorView;
      const ran = await waitFor(
        "two path-test runs",
        async () => {
          const m = (await (await api(`/api/v1/monitors/${id}`)).json()) as MonitorView;
          return m.runs >= 2 ? m : undefined;
        },
        40_000,
      );
      expect(ran.lastLink).toMatch(/\/p\/[A-Za-z0-9_-]+$/);
      const series = (await (await api(`/api/v1/monitors/${id}/series`)).json()) as MonitorSample[];
      expect(new Set(series.map((r) => r.subject))).toEqual(new Set(["forward", "reverse"]));
      // Loopback both ways, the same path every run: nothing fires.
      expect((await (await api(`/api/v1/alerts?monitor=${id}`)).json()) as AlertView[]).toEqual([]);
      expect((await api(`/api/v1/monitors/${id}`, { method: "DELETE" })).status).toBe(204);
    } finally {
      await other.stop();
    }
  }, 90_000);
});
