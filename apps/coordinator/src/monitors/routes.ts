import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Repository } from "@lg/db";
import { type AllowList, checkTarget, type MonitorRequest, type Resolver, TargetError } from "@lg/protocol";
import { nanoid } from "nanoid";
import { ApiError, notFound } from "../errors";
import { type AppEnv, createRouter, database } from "../http/kit";
import { currentPrincipal } from "../security/context";
import { hasScope } from "../security/keys";
import { readHistory } from "./history";
import {
  createMonitor,
  deleteMonitor,
  getMonitor,
  listAlerts,
  listMonitors,
  monitorHistory,
  monitorSeries,
  webhookSchemas,
} from "./openapi";
import type { MonitorStore } from "./store";
import { alertView, monitorView, sampleView } from "./views";
import { checkWebhookUrl, type HostLookup, WebhookRefused } from "./webhook";

/**
 * Monitors are the operator's: every route needs a key with the `monitors` scope. A request that
 * did not pass through the security layer (no principal) is refused too: fail closed.
 */
function requireMonitorsScope(): void {
  const who = currentPrincipal();
  if (!who?.keyId) {
    throw new ApiError(401, "unauthorized", "send an operator key as 'Authorization: Bearer lgk_...'");
  }
  if (!hasScope(who.scopes, "monitors")) {
    throw new ApiError(403, "forbidden", "this key lacks the 'monitors' scope");
  }
}

/** `/api/v1/monitors` and `/api/v1/alerts`. */
export interface MonitorRouteDeps {
  store: MonitorStore;
  repo: Repository;
  allowList: AllowList;
  /** Target name resolution (the coordinator's, with its deadline); default: the system's servers. */
  resolver?: Resolver;
  /** Internal networks webhooks may reach (`LG_WEBHOOK_ALLOW`); default none. */
  webhookAllow?: AllowList;
  /** How webhook hosts are resolved (default: the system's resolver, /etc/hosts included). */
  webhookLookup?: HostLookup;
}

/**
 * Checks what can be checked when a monitor is created: the target against the policy, the
 * webhook's host (public, or allow-listed), and that the named agents exist. Whether they are
 * online is each run's business; the webhook's host is checked again at every delivery.
 */
async function checkMonitor(deps: MonitorRouteDeps, body: MonitorRequest): Promise<void> {
  if (body.webhook) {
    try {
      await checkWebhookUrl(body.webhook, deps.webhookAllow ?? [], deps.webhookLookup);
    } catch (err) {
      if (err instanceof WebhookRefused)
        throw new ApiError(400, err.code, err.message, "webhook", { cause: err });
      throw err;
    }
  }
  const agents = await database("list agents", () => deps.repo.listAgents());
  const known = (id: string, field: string) => {
    if (!agents.some((a) => a.id === id))
      throw new ApiError(400, "unknown_agent", `there is no agent '${id}'`, field);
  };
  if (body.kind === "path-test") {
    known(body.pathTest.a, "pathTest.a");
    if (typeof body.pathTest.b === "string") known(body.pathTest.b, "pathTest.b");
    else await checkTargetField(body.pathTest.b.host, deps, "pathTest.b.host");
    return;
  }
  for (const selector of body.measurement.from ?? []) {
    if (!selector.startsWith("region:")) known(selector, "measurement.from");
  }
  await checkTargetField(body.measurement.target, deps, "measurement.target", body.measurement.ipVersion);
}

async function checkTargetField(
  target: string,
  deps: Pick<MonitorRouteDeps, "allowList" | "resolver">,
  field: string,
  ipVersion?: 4 | 6,
) {
  try {
    await checkTarget(target, { allow: deps.allowList, ipVersion, resolver: deps.resolver });
  } catch (err) {
    if (err instanceof TargetError) throw new ApiError(400, err.code, err.message, field, { cause: err });
    throw err;
  }
}

/** The monitor and alert routes declared in `./openapi.ts`, each behind the `monitors` scope. */
export function monitorRoutes(deps: MonitorRouteDeps): OpenAPIHono<AppEnv> {
  const app = createRouter();
  const { store } = deps;
  for (const [name, schema] of Object.entries(webhookSchemas)) app.openAPIRegistry.register(name, schema);

  app.use("/api/v1/monitors", async (_c, next) => {
    requireMonitorsScope();
    await next();
  });
  app.use("/api/v1/monitors/*", async (_c, next) => {
    requireMonitorsScope();
    await next();
  });
  app.use("/api/v1/alerts", async (_c, next) => {
    requireMonitorsScope();
    await next();
  });

  app.openapi(createMonitor, async (c) => {
    const body = c.req.valid("json");
    await checkMonitor(deps, body);
    const spec = body.kind === "trace" ? body.measurement : body.pathTest;
    const target =
      body.kind === "trace"
        ? body.measurement.target
        : `${body.pathTest.a} <-> ${JSON.stringify(body.pathTest.b)}`;
    const row = await database("create monitor", () =>
      store.insert({
        id: nanoid(12),
        name: body.name ?? `${body.kind} ${target}`,
        kind: body.kind,
        spec: spec as Record<string, unknown>,
        rules: body.rules as Record<string, unknown>,
        everySeconds: body.every,
        webhook: body.webhook ?? null,
      }),
    );
    return c.json(monitorView(row), 201);
  });

  app.openapi(listMonitors, async (c) => {
    const [rows, firing] = await database("list monitors", () =>
      Promise.all([store.list(), store.firingCounts()]),
    );
    return c.json(
      rows.map((r) => monitorView(r, firing.get(r.id) ?? 0)),
      200,
    );
  });

  app.openapi(getMonitor, async (c) => {
    const { id } = c.req.valid("param");
    const [row, firing] = await database("read monitor", () =>
      Promise.all([store.get(id), store.firingCounts()]),
    );
    if (!row) throw notFound("monitor", id);
    return c.json(monitorView(row, firing.get(id) ?? 0), 200);
  });

  app.openapi(monitorSeries, async (c) => {
    const { id } = c.req.valid("param");
    const q = c.req.valid("query");
    const row = await database("read monitor", () => store.get(id));
    if (!row) throw notFound("monitor", id);
    const since = q.since ? new Date(q.since) : new Date(Date.now() - 24 * 3_600_000);
    const rows = await database("read series", () => store.samples(id, since, q.limit));
    return c.json(rows.map(sampleView), 200);
  });

  app.openapi(monitorHistory, async (c) => {
    const { id } = c.req.valid("param");
    const q = c.req.valid("query");
    const row = await database("read monitor", () => store.get(id));
    if (!row) throw notFound("monitor", id);
    const history = await database("read history", () => readHistory(store, row, q.range, q.hop ?? null));
    return c.json(history, 200);
  });

  app.openapi(deleteMonitor, async (c) => {
    const { id } = c.req.valid("param");
    const removed = await database("delete monitor", () => store.remove(id));
    if (!removed) throw notFound("monitor", id);
    return c.body(null, 204);
  });

  app.openapi(listAlerts, async (c) => {
    const q = c.req.valid("query");
    const rows = await database("read alerts", () =>
      store.listAlerts({
        limit: q.limit,
        ...(q.monitor ? { monitorId: q.monitor } : {}),
        ...(q.status ? { status: q.status } : {}),
        ...(q.before ? { before: new Date(q.before) } : {}),
      }),
    );
    return c.json(rows.map(alertView), 200);
  });

  return app;
}
