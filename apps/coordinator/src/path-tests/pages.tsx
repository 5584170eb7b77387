/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { PathTestRequest } from "@lg/protocol";
import { Hono } from "hono";
import { FormPage } from "../web/components/form-page";
import { agentLabel, cityOf, PathTestPage } from "../web/components/path-test";
import type { PathTestFormValues } from "../web/components/path-test-form";
import { TraceSection } from "../web/components/trace-section";
import { submitForm } from "../web/form";
import { type FormFields, numberOrText, one } from "../web/form-input";
import { agentList, agentsById, html, viewOr, type WebDeps } from "../web/kit";
import type { PathTestService } from "./service";

/** The path test form's fields as typed, and the body `POST /api/v1/path-tests` takes. */
export function pathTestForm(fields: FormFields): {
  values: PathTestFormValues;
  body: Record<string, unknown>;
} {
  const values: PathTestFormValues = {
    a: one(fields.a),
    b: one(fields.b),
    protocol: one(fields.protocol) || "icmp",
    count: one(fields.count),
  };
  const body: Record<string, unknown> = { a: values.a, b: values.b, protocol: values.protocol };
  if (values.count) body.count = numberOrText(values.count);
  return { values, body };
}

/**
 * The path test pages: the form's plain POST (`/p`; the form itself is on `/`), the live page
 * `/p/{id}` and one direction's section. Mounted by `webRoutes` when the coordinator runs path tests.
 */
export function pathTestPages(deps: WebDeps & { pathTests: PathTestService }): Hono {
  const web = new Hono();
  const { pathTests } = deps;

  const titles = { missing: "No such path test", unavailable: "The path test cannot be shown right now" };

  // The path test form without JavaScript: the API's schema and service, then the live page.
  web.post("/p", (c) =>
    submitForm(c, {
      schema: PathTestRequest,
      read: pathTestForm,
      submit: async (request) => {
        const accepted = await pathTests.create(request, deps.clientAddress?.(c) ?? null);
        return c.redirect(`/p/${encodeURIComponent(accepted.id)}`, 303);
      },
      again: async (values, error, status) =>
        html(c, <FormPage agents={await agentList(deps)} pathTest={{ values, error }} />, status),
    }),
  );

  web.get("/p/:id", async (c) => {
    const found = await viewOr(c, () => pathTests.get(c.req.param("id")), titles);
    if (found instanceof Response) return found;
    return html(c, <PathTestPage test={found} agents={await agentsById(deps)} />);
  });

  web.get("/p/:id/trace/:traceId", async (c) => {
    const found = await viewOr(c, () => pathTests.get(c.req.param("id")), titles);
    if (found instanceof Response) return found;
    const trace = [found.forward, found.reverse].find((t) => t?.id === c.req.param("traceId"));
    if (!trace) return c.text("no such trace in this path test", 404);
    const agents = await agentsById(deps);
    return html(
      c,
      <TraceSection
        trace={trace}
        region={trace.agentId ? agents.get(trace.agentId)?.region : undefined}
        place={cityOf(trace.agentId, agents)}
        label={agentLabel(trace.agentId, agents)}
      />,
    );
  });

  return web;
}
