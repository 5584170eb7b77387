/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { type Context, Hono } from "hono";
import type { PathTestService } from "../path-tests/service";
import { currentPrincipal } from "../security/context";
import { hasScope } from "../security/keys";
import { HistoryPage } from "../web/components/history";
import { MeshPage } from "../web/components/mesh";
import { MonitorsPage } from "../web/components/monitors";
import { agentList, databaseDownPage, html, type WebDeps } from "../web/kit";
import { MessagePage } from "../web/pages";
import { readHistory } from "./history";
import { HistoryQuery } from "./openapi";
import type { MonitorRouteDeps } from "./routes";
import { alertView, monitorView, sampleView } from "./views";

type MonitorsPageData = Parameters<typeof MonitorsPage>[0];

/**
 * The refusal page for a visitor without an operator key with the `monitors` scope, or undefined.
 * Monitors are the operator's, as on the API: the visitor signs in at /login with such a key (or a
 * proxy in front adds it to each request); without the security layer, no one can.
 */
function operatorOnly(c: Context, title: string): Response | Promise<Response> | undefined {
  const who = currentPrincipal();
  if (who?.keyId && hasScope(who.scopes, "monitors")) return undefined;
  const next = encodeURIComponent(c.req.path + (new URL(c.req.url).search || ""));
  return html(
    c,
    <MessagePage title={title}>
      {who?.keyId ? (
        <p>The operator key you are signed in with lacks the monitors scope.</p>
      ) : (
        <p>
          This page needs an operator key with the monitors scope: <a href={`/login?next=${next}`}>sign in</a>{" "}
          with it (or let the proxy in front of the looking glass send it as "Authorization: Bearer lgk_…").
          The same data is at /api/v1/monitors.
        </p>
      )}
    </MessagePage>,
    who?.keyId ? 403 : 401,
  );
}

/**
 * The operators' pages: `/monitors` (each monitor's runs and the alerts) and, when the coordinator
 * runs path tests, `/mesh` (PoP × PoP). Mounted by `webRoutes` when monitors run.
 */
export function monitorPages(deps: WebDeps & { monitors: MonitorRouteDeps }): Hono {
  const web = new Hono();
  const { monitors, pathTests } = deps;

  web.get("/monitors", async (c) => {
    const refused = operatorOnly(c, "Monitors are for operators");
    if (refused) return refused;
    const since = new Date(Date.now() - 24 * 3_600_000);
    let page: MonitorsPageData;
    try {
      const [rows, firing, alerts] = await Promise.all([
        monitors.store.list(),
        monitors.store.firingCounts(),
        monitors.store.listAlerts({ limit: 50 }),
      ]);
      const samples = new Map(
        await Promise.all(
          rows.map(
            async (r) => [r.id, (await monitors.store.samples(r.id, since, 5_000)).map(sampleView)] as const,
          ),
        ),
      );
      page = {
        monitors: rows.map((r) => monitorView(r, firing.get(r.id) ?? 0)),
        samples,
        alerts: alerts.map(alertView),
      };
    } catch (err) {
      return databaseDownPage(c, deps, err, "monitors page", "Monitors cannot be shown right now");
    }
    return html(c, <MonitorsPage {...page} />);
  });

  // One monitor's history, SmokePing-style: ?range=1h|1d|7d|30d, &hop=<ttl> (default the far end).
  web.get("/monitors/:id/history", async (c) => {
    const refused = operatorOnly(c, "Monitor history is for operators");
    if (refused) return refused;
    const query = HistoryQuery.safeParse(c.req.query());
    if (!query.success) {
      return html(
        c,
        <MessagePage title="No such history">
          <p>The range is one of 1h, 1d, 7d, 30d, and the hop a number from 1 to 255.</p>
        </MessagePage>,
        400,
      );
    }
    const id = c.req.param("id");
    let page: Parameters<typeof HistoryPage>[0];
    try {
      const row = await monitors.store.get(id);
      if (!row) {
        return html(
          c,
          <MessagePage title="No such monitor">
            <p>There is no monitor '{id}'.</p>
          </MessagePage>,
          404,
        );
      }
      const firing = (await monitors.store.firingCounts()).get(id) ?? 0;
      page = {
        monitor: monitorView(row, firing),
        history: await readHistory(monitors.store, row, query.data.range, query.data.hop ?? null),
      };
    } catch (err) {
      return databaseDownPage(c, deps, err, "history page", "The history cannot be shown right now");
    }
    return html(c, <HistoryPage {...page} />);
  });

  // The PoP mesh: each ordered pair's path-test monitor, read through its latest run.
  if (pathTests) web.get("/mesh", (c) => meshPage(c, deps, pathTests));

  return web;
}

async function meshPage(
  c: Context,
  deps: WebDeps & { monitors: MonitorRouteDeps },
  pathTests: PathTestService,
): Promise<Response> {
  const refused = operatorOnly(c, "The PoP mesh is for operators");
  if (refused) return refused;
  const pops = (await agentList(deps)).filter((a) => a.role === "pop");
  const popIds = new Set(pops.map((p) => p.id));
  let rows: Awaited<ReturnType<typeof deps.monitors.store.list>>;
  try {
    rows = await deps.monitors.store.list();
  } catch (err) {
    return databaseDownPage(c, deps, err, "mesh page", "The mesh cannot be shown right now");
  }
  const lastTestIds = rows
    .filter((r) => r.kind === "path-test")
    .filter((r) => {
      const spec = r.spec as { a?: unknown; b?: unknown };
      return (
        typeof spec.a === "string" && typeof spec.b === "string" && popIds.has(spec.a) && popIds.has(spec.b)
      );
    })
    .map((r) => /\/p\/([A-Za-z0-9_-]+)$/.exec(monitorView(r).lastLink ?? "")?.[1])
    .filter((id): id is string => id !== undefined);
  const tests = (await Promise.all(lastTestIds.map((id) => pathTests.get(id).catch(() => undefined)))).filter(
    (t) => t !== undefined,
  );
  return html(c, <MeshPage pops={pops} tests={tests} />);
}
