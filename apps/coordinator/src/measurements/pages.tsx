/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { MeasurementRequest } from "@lg/protocol";
import { type Context, Hono } from "hono";
import { ComparePage } from "../web/components/compare-page";
import { FormPage } from "../web/components/form-page";
import { MeasurementBody, MeasurementMap, MeasurementPage } from "../web/components/measurement-page";
import { TraceSection } from "../web/components/trace-section";
import { csvExport, textExport } from "../web/exports";
import { submitForm } from "../web/form";
import { formValues, measurementBody } from "../web/form-input";
import { EXPORT_CSP } from "../web/headers";
import { agentList, agentsById, html, viewOr, type WebDeps } from "../web/kit";
import { standaloneHtml } from "../web/standalone";

const EXPORT = /^(?<id>[A-Za-z0-9_-]+)\.(?<ext>txt|json|csv|html)$/;

/**
 * The measurement pages: the form at `/` (and its plain POST), the live page `/m/{id}` with its
 * exports, one trace's section, and the compare page. Mounted by `webRoutes`.
 */
export function measurementPages(deps: WebDeps): Hono {
  const web = new Hono();
  const pathTestForm = deps.pathTests ? {} : undefined;

  /** A measurement, or an HTML page that says why not. */
  const measurementOr = (c: Context, id: string) =>
    viewOr(c, () => deps.measurements.get(id), {
      missing: "No such measurement",
      unavailable: "The measurement cannot be shown right now",
    });

  web.get("/", async (c) => html(c, <FormPage agents={await agentList(deps)} pathTest={pathTestForm} />));

  // The form without JavaScript: the same schema and service as POST /api/v1/measurements,
  // then a redirect to the live page; an error comes back beside its field.
  web.post("/", (c) =>
    submitForm(c, {
      schema: MeasurementRequest,
      read: (fields) => {
        const values = formValues(fields);
        return { values, body: measurementBody(values) };
      },
      submit: async (request) => {
        const accepted = await deps.measurements.submit(request, deps.clientAddress?.(c) ?? null);
        return c.redirect(`/m/${encodeURIComponent(accepted.id)}`, 303);
      },
      again: async (values, error, status) =>
        html(
          c,
          <FormPage agents={await agentList(deps)} values={values} error={error} pathTest={pathTestForm} />,
          status,
        ),
    }),
  );

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
    return html(
      c,
      <TraceSection
        trace={trace}
        region={trace.agentId ? agents.get(trace.agentId)?.region : undefined}
        place={trace.agentId ? agents.get(trace.agentId)?.location?.city : undefined}
        followUps
      />,
    );
  });

  // The map, re-rendered when the measurement is done (the live script swaps it in).
  web.get("/m/:id/map", async (c) => {
    const found = await measurementOr(c, c.req.param("id"));
    if (found instanceof Response) return found;
    return html(c, <MeasurementMap measurement={found} agents={await agentsById(deps)} />);
  });

  web.get("/compare/:id", async (c) => {
    const found = await measurementOr(c, c.req.param("id"));
    if (found instanceof Response) return found;
    return html(c, <ComparePage measurement={found} agents={await agentsById(deps)} />);
  });

  return web;
}
