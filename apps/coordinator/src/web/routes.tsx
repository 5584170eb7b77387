/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { AgentView, MeasurementView } from "@lg/protocol";
import { MeasurementRequest, PathTestRequest, ReverseSessionRequest } from "@lg/protocol";
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ApiError, validationError } from "../errors";
import type { AppDeps } from "../http/app";
import { alertView, monitorView, sampleView } from "../monitors/views";
import type { PathTestService } from "../path-tests/service";
import { currentPrincipal } from "../security/context";
import { hasScope } from "../security/keys";
import { agentView } from "../views";
import { LIVE_JS, STYLE_CSS } from "./assets";
import { ComparePage } from "./components/compare-page";
import { type FieldError, FormPage } from "./components/form-page";
import { MeasurementBody, MeasurementPage } from "./components/measurement-page";
import { MeshPage } from "./components/mesh";
import { MonitorsPage } from "./components/monitors";
import { agentLabel, PathTestPage } from "./components/path-test";
import type { PathTestFormValues } from "./components/path-test-form";
import { type ReverseFormValues, ReverseNewPage, ReverseSessionPage } from "./components/reverse-session";
import { TraceSection } from "./components/trace-section";
import { csvExport, textExport } from "./exports";
import { type FormFields, formValues, measurementBody } from "./form-input";
import { EXPORT_CSP, pageHeaders } from "./headers";
import { MessagePage } from "./pages";
import { standaloneHtml } from "./standalone";

/** Paths the web UI answers; only these get the page security headers. */
const WEB_PATH = /^\/($|m\/|compare\/|assets\/|p\/|r\/|mesh$|monitors$)/;

const EXPORT = /^(?<id>[A-Za-z0-9_-]+)\.(?<ext>txt|json|csv|html)$/;

/** What the pages read: the API's own dependencies, plus the services the app builds from them. */
export type WebDeps = AppDeps & { pathTests?: PathTestService };

const fieldError = (e: ApiError): FieldError => ({
  code: e.code,
  message: e.message,
  ...(e.field ? { field: e.field } : {}),
});

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? (v[0] ?? "") : (v ?? "")).trim();
const numberOrText = (text: string): number | string => (/^\d+$/.test(text) ? Number(text) : text);

async function agentsById(deps: WebDeps): Promise<Map<string, AgentView>> {
  const rows = await deps.repo.listAgents().catch(() => []);
  return new Map(rows.map((r) => [r.id, agentView(r)]));
}

const html = (c: Context, node: unknown, status: ContentfulStatusCode = 200) => c.html(String(node), status);

/**
 * The web UI: server-rendered pages over the same services as the API. Mount once:
 * `app.route("/", webRoutes(deps))`.
 */
export function webRoutes(deps: WebDeps): Hono {
  const web = new Hono();

  web.use("*", async (c, next) => (WEB_PATH.test(c.req.path) ? pageHeaders(c, next) : next()));

  /** A measurement, or an HTML page that says why not. */
  async function measurementOr(c: Context, id: string): Promise<MeasurementView | Response> {
    try {
      return await deps.measurements.get(id);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const title = err.status === 404 ? "No such measurement" : "The measurement cannot be shown right now";
      return html(c, <MessagePage title={title}>{<p>{err.message}</p>}</MessagePage>, err.status);
    }
  }

  web.get("/assets/style.css", (c) =>
    c.body(STYLE_CSS, 200, { "content-type": "text/css; charset=utf-8", "cache-control": "no-cache" }),
  );
  web.get("/assets/live.js", (c) =>
    c.body(LIVE_JS, 200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache" }),
  );

  const pathTestForm = deps.pathTests ? {} : undefined;

  web.get("/", async (c) =>
    html(c, <FormPage agents={[...(await agentsById(deps)).values()]} pathTest={pathTestForm} />),
  );

  // The form without JavaScript: the same schema and service as POST /api/v1/measurements,
  // then a redirect to the live page; an error comes back beside its field.
  web.post("/", async (c) => {
    const fields = (await c.req.parseBody({ all: true })) as FormFields;
    const values = formValues(fields);
    const input = measurementBody(values);
    let error: FieldError;
    let status: ContentfulStatusCode = 400;
    const parsed = MeasurementRequest.safeParse(input);
    if (parsed.success) {
      try {
        const accepted = await deps.measurements.submit(parsed.data, deps.clientAddress?.(c) ?? null);
        return c.redirect(`/m/${encodeURIComponent(accepted.id)}`, 303);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        error = fieldError(err);
        status = err.status;
      }
    } else {
      error = fieldError(validationError(parsed.error, "body", input));
    }
    const agents = [...(await agentsById(deps)).values()];
    return html(
      c,
      <FormPage agents={agents} values={values} error={error} pathTest={pathTestForm} />,
      status,
    );
  });

  web.get("/m/:name", async (c) => {
    const name = c.req.param("name");
    const exp = EXPORT.exec(name)?.groups;
    const id = exp?.id ?? name;
    const found = await measurementOr(c, id);
    if (found instanceof Response) return found;
    const agents = await agentsById(deps);
    const file = `lg-${found.id}`;
    switch (exp?.ext) {
      case undefined:
        return html(c, <MeasurementPage measurement={found} agents={agents} />);
      case "txt":
        return c.body(textExport(found), 200, { "content-type": "text/plain; charset=utf-8" });
      case "json":
        return c.body(`${JSON.stringify(found, null, 2)}\n`, 200, {
          "content-type": "application/json; charset=utf-8",
        });
      case "csv":
        return c.body(csvExport(found), 200, {
          "content-type": "text/csv; charset=utf-8",
          "content-disposition": `attachment; filename="${file}.csv"`,
        });
      case "html":
        return c.body(
          standaloneHtml(found, String(<MeasurementBody measurement={found} agents={agents} standalone />)),
          200,
          {
            "content-type": "text/html; charset=utf-8",
            "content-disposition": `attachment; filename="${file}.html"`,
            "content-security-policy": EXPORT_CSP,
          },
        );
    }
  });

  // One PoP's section, re-rendered when its trace ends (the live script swaps it in).
  web.get("/m/:id/trace/:traceId", async (c) => {
    const found = await measurementOr(c, c.req.param("id"));
    if (found instanceof Response) return found;
    const trace = found.traces.find((t) => t.id === c.req.param("traceId"));
    if (!trace) return c.text("no such trace in this measurement", 404);
    const agents = await agentsById(deps);
    return html(c, <TraceSection trace={trace} region={agents.get(trace.agentId)?.region} followUps />);
  });

  web.get("/compare/:id", async (c) => {
    const found = await measurementOr(c, c.req.param("id"));
    if (found instanceof Response) return found;
    return html(c, <ComparePage measurement={found} agents={await agentsById(deps)} />);
  });

  const pathTests = deps.pathTests;
  if (pathTests) {
    /** A path test, or an HTML page that says why not. */
    const pathTestOr = async (c: Context, id: string) => {
      try {
        return await pathTests.get(id);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        const title = err.status === 404 ? "No such path test" : "The path test cannot be shown right now";
        return html(c, <MessagePage title={title}>{<p>{err.message}</p>}</MessagePage>, err.status);
      }
    };

    // The path test form without JavaScript: the API's schema and service, then the live page.
    web.post("/p", async (c) => {
      const fields = (await c.req.parseBody({ all: true })) as FormFields;
      const values: PathTestFormValues = {
        a: one(fields.a),
        b: one(fields.b),
        protocol: one(fields.protocol) || "icmp",
        count: one(fields.count),
      };
      const input: Record<string, unknown> = { a: values.a, b: values.b, protocol: values.protocol };
      if (values.count) input.count = numberOrText(values.count);
      let error: FieldError;
      let status: ContentfulStatusCode = 400;
      const parsed = PathTestRequest.safeParse(input);
      if (parsed.success) {
        try {
          const accepted = await pathTests.create(parsed.data, deps.clientAddress?.(c) ?? null);
          return c.redirect(`/p/${encodeURIComponent(accepted.id)}`, 303);
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          error = fieldError(err);
          status = err.status;
        }
      } else {
        error = fieldError(validationError(parsed.error, "body", input));
      }
      const agents = [...(await agentsById(deps)).values()];
      return html(c, <FormPage agents={agents} pathTest={{ values, error }} />, status);
    });

    web.get("/p/:id", async (c) => {
      const found = await pathTestOr(c, c.req.param("id"));
      if (found instanceof Response) return found;
      return html(c, <PathTestPage test={found} agents={await agentsById(deps)} />);
    });

    web.get("/p/:id/trace/:traceId", async (c) => {
      const found = await pathTestOr(c, c.req.param("id"));
      if (found instanceof Response) return found;
      const trace = [found.forward, found.reverse].find((t) => t?.id === c.req.param("traceId"));
      if (!trace) return c.text("no such trace in this path test", 404);
      const agents = await agentsById(deps);
      return html(
        c,
        <TraceSection
          trace={trace}
          region={agents.get(trace.agentId)?.region}
          label={agentLabel(trace.agentId, agents)}
        />,
      );
    });
  }

  const sessions = deps.reverseSessions;
  if (sessions) {
    web.get("/r/new", async (c) =>
      html(c, <ReverseNewPage agents={[...(await agentsById(deps)).values()]} />),
    );

    // Creates the session with the API's schema and service. The answer is the session page with
    // the join command, which carries the session's key and is shown only here, once.
    web.post("/r/new", async (c) => {
      const fields = (await c.req.parseBody({ all: true })) as FormFields;
      const values: ReverseFormValues = {
        serverAgent: one(fields.serverAgent),
        serverHost: one(fields.serverHost),
        via: one(fields.via),
        protocol: one(fields.protocol) || "icmp",
        count: one(fields.count),
      };
      const input: Record<string, unknown> = {
        server: values.serverHost ? { host: values.serverHost } : values.serverAgent,
        protocol: values.protocol,
      };
      if (values.via) input.via = values.via;
      if (values.count) input.count = numberOrText(values.count);
      let error: FieldError;
      let status: ContentfulStatusCode = 400;
      const parsed = ReverseSessionRequest.safeParse(input);
      if (parsed.success) {
        try {
          const created = await sessions.create(parsed.data, new URL(c.req.url).origin);
          const session = await sessions.get(created.id);
          const agents = await agentsById(deps);
          c.header("cache-control", "no-store");
          return html(
            c,
            <ReverseSessionPage session={session} agents={agents} command={created.command} />,
            201,
          );
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          error = fieldError(err);
          status = err.status;
        }
      } else {
        error = fieldError(validationError(parsed.error, "body", input));
      }
      const agents = [...(await agentsById(deps)).values()];
      return html(c, <ReverseNewPage agents={agents} values={values} error={error} />, status);
    });

    web.get("/r/:id", async (c) => {
      try {
        const session = await sessions.get(c.req.param("id"));
        return html(c, <ReverseSessionPage session={session} agents={await agentsById(deps)} />);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        const title =
          err.status === 404 ? "No such reverse session" : "The session cannot be shown right now";
        return html(c, <MessagePage title={title}>{<p>{err.message}</p>}</MessagePage>, err.status);
      }
    });
  }

  const monitors = deps.monitors;
  if (monitors) {
    // Monitors are the operator's, as on the API: the request must carry an operator key with the
    // `monitors` scope (e.g. added by the operator's proxy); without the security layer, no one can.
    /** The refusal page for a visitor without an operator key with the `monitors` scope, or undefined. */
    const operatorOnly = (c: Context, title: string): Response | Promise<Response> | undefined => {
      const who = currentPrincipal();
      if (who?.keyId && hasScope(who.scopes, "monitors")) return undefined;
      return html(
        c,
        <MessagePage title={title}>
          <p>
            This page needs an operator key with the monitors scope, sent as "Authorization: Bearer lgk_…"
            (for example by the proxy in front of the looking glass). The same data is at /api/v1/monitors.
          </p>
        </MessagePage>,
        who?.keyId ? 403 : 401,
      );
    };

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
              async (r) =>
                [r.id, (await monitors.store.samples(r.id, since, 5_000)).map(sampleView)] as const,
            ),
          ),
        );
        page = {
          monitors: rows.map((r) => monitorView(r, firing.get(r.id) ?? 0)),
          samples,
          alerts: alerts.map(alertView),
        };
      } catch (err) {
        deps.logger.error({ err }, "monitors page: the database did not answer");
        return html(
          c,
          <MessagePage title="Monitors cannot be shown right now">
            <p>The database did not answer; try again shortly.</p>
          </MessagePage>,
          503,
        );
      }
      return html(c, <MonitorsPage {...page} />);
    });

    // The PoP mesh: each ordered pair's path-test monitor, read through its latest run.
    if (pathTests) {
      web.get("/mesh", async (c) => {
        const refused = operatorOnly(c, "The PoP mesh is for operators");
        if (refused) return refused;
        const agents = [...(await agentsById(deps)).values()];
        const pops = agents.filter((a) => a.role === "pop");
        const popIds = new Set(pops.map((p) => p.id));
        let rows: Awaited<ReturnType<typeof monitors.store.list>>;
        try {
          rows = await monitors.store.list();
        } catch (err) {
          deps.logger.error({ err }, "mesh page: the database did not answer");
          return html(
            c,
            <MessagePage title="The mesh cannot be shown right now">
              <p>The database did not answer; try again shortly.</p>
            </MessagePage>,
            503,
          );
        }
        const lastTestIds = rows
          .filter((r) => r.kind === "path-test")
          .filter((r) => {
            const spec = r.spec as { a?: unknown; b?: unknown };
            return (
              typeof spec.a === "string" &&
              typeof spec.b === "string" &&
              popIds.has(spec.a) &&
              popIds.has(spec.b)
            );
          })
          .map((r) => /\/p\/([A-Za-z0-9_-]+)$/.exec(monitorView(r).lastLink ?? "")?.[1])
          .filter((id): id is string => id !== undefined);
        const tests = (
          await Promise.all(lastTestIds.map((id) => pathTests.get(id).catch(() => undefined)))
        ).filter((t) => t !== undefined);
        return html(c, <MeshPage pops={pops} tests={tests} />);
      });
    }
  }

  return web;
}

type MonitorsPageData = Parameters<typeof MonitorsPage>[0];
