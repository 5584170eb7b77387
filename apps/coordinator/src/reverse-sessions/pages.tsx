/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { ReverseSessionRequest } from "@lg/protocol";
import { Hono } from "hono";
import {
  type ReverseFormValues,
  ReverseNewPage,
  ReverseSessionPage,
} from "../web/components/reverse-session";
import { submitForm } from "../web/form";
import { type FormFields, numberOrText, one } from "../web/form-input";
import { agentList, agentsById, html, viewOr, type WebDeps } from "../web/kit";
import type { ReverseSessionService } from "./service";

/** The reverse session form's fields as typed, and the body `POST /api/v1/reverse-sessions` takes. */
export function reverseSessionForm(fields: FormFields): {
  values: ReverseFormValues;
  body: Record<string, unknown>;
} {
  const values: ReverseFormValues = {
    serverAgent: one(fields.serverAgent),
    serverHost: one(fields.serverHost),
    via: one(fields.via),
    protocol: one(fields.protocol) || "icmp",
    count: one(fields.count),
  };
  const body: Record<string, unknown> = {
    server: values.serverHost ? { host: values.serverHost } : values.serverAgent,
    protocol: values.protocol,
  };
  if (values.via) body.via = values.via;
  if (values.count) body.count = numberOrText(values.count);
  return { values, body };
}

/**
 * The reverse session pages: the form `/r/new` and its plain POST, and the session's permalink
 * `/r/{id}`. Mounted by `webRoutes` when the coordinator runs reverse sessions.
 */
export function reverseSessionPages(deps: WebDeps & { reverseSessions: ReverseSessionService }): Hono {
  const web = new Hono();
  const sessions = deps.reverseSessions;

  web.get("/r/new", async (c) => html(c, <ReverseNewPage agents={await agentList(deps)} />));

  // Creates the session with the API's schema and service. The answer is the session page with
  // the join command, which carries the session's key and is shown only here, once.
  web.post("/r/new", (c) =>
    submitForm(c, {
      schema: ReverseSessionRequest,
      read: reverseSessionForm,
      submit: async (request) => {
        const created = await sessions.create(request, new URL(c.req.url).origin);
        const session = await sessions.get(created.id);
        const agents = await agentsById(deps);
        c.header("cache-control", "no-store");
        return html(
          c,
          <ReverseSessionPage session={session} agents={agents} command={created.command} />,
          201,
        );
      },
      again: async (values, error, status) =>
        html(c, <ReverseNewPage agents={await agentList(deps)} values={values} error={error} />, status),
    }),
  );

  web.get("/r/:id", async (c) => {
    const session = await viewOr(c, () => sessions.get(c.req.param("id")), {
      missing: "No such reverse session",
      unavailable: "The session cannot be shown right now",
    });
    if (session instanceof Response) return session;
    return html(c, <ReverseSessionPage session={session} agents={await agentsById(deps)} />);
  });

  return web;
}
