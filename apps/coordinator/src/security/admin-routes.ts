import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AuditRow } from "@lg/db";
import { parseAllowList } from "@lg/protocol";
import type { MiddlewareHandler } from "hono";
import { ApiError } from "../errors";
import { type AppEnv, createRouter, database, requireJson } from "../http/kit";
import { currentPrincipal } from "./context";
import { hasScope, type Scope } from "./keys";
import { addOptOut, listAudit, listOptOut, removeOptOut } from "./openapi";
import type { SecurityStore } from "./store";

function requireScope(scope: Scope): void {
  const who = currentPrincipal();
  if (!who?.keyId) {
    throw new ApiError(401, "unauthorized", "send an operator key as 'Authorization: Bearer lgk_...'");
  }
  if (!hasScope(who.scopes, scope)) {
    throw new ApiError(403, "forbidden", `this key lacks the '${scope}' scope`);
  }
}

/** The scope check as route middleware: it runs before the request is validated. */
const scoped =
  (scope: Scope): MiddlewareHandler =>
  async (_c, next) => {
    requireScope(scope);
    await next();
  };

const auditView = (r: AuditRow) => ({
  id: r.id,
  at: r.at.toISOString(),
  event: r.event,
  detail: r.detail,
  client: r.clientAddress,
  clientKey: r.clientKey,
  keyId: r.keyId,
  target: r.target,
  address: r.address,
  pops: r.pops,
  probesPerMinute: r.probeRate,
  measurementId: r.measurementId,
});

/** Operator endpoints (declared in `./openapi.ts`): the audit log and the opt-out list, each behind its key scope. */
export function adminRoutes(store: SecurityStore): OpenAPIHono<AppEnv> {
  const app = createRouter();

  app.openapi(listAudit, async (c) => {
    requireScope("audit");
    const q = c.req.valid("query");
    const rows = await database("read the audit log", () =>
      store.listAudit({
        limit: q.limit,
        ...(q.target ? { target: q.target } : {}),
        ...(q.client ? { client: q.client } : {}),
        ...(q.before ? { before: new Date(q.before) } : {}),
        ...(q.event ? { event: q.event } : {}),
      }),
    );
    return c.json(rows.map(auditView), 200);
  });

  app.openapi({ ...listOptOut, middleware: [scoped("opt-out")] }, async (c) => {
    const rows = await database("read the opt-out list", () => store.listOptOut());
    return c.json(
      rows.map((r) => ({ cidr: r.cidr, reason: r.reason, created: r.created.toISOString() })),
      200,
    );
  });

  app.openapi({ ...addOptOut, middleware: [scoped("opt-out"), requireJson] }, async (c) => {
    const body = c.req.valid("json");
    let cidr: string;
    try {
      const [net, bits] = parseAllowList(body.cidr)[0] ?? [];
      if (!net) throw new Error("empty");
      cidr = `${net.toString()}/${bits}`;
    } catch {
      throw new ApiError(400, "invalid_field", `'${body.cidr}' is not a CIDR`, "cidr");
    }
    await database("add to the opt-out list", () => store.addOptOut(cidr, body.reason ?? null));
    return c.json({ cidr, reason: body.reason ?? null }, 201);
  });

  app.openapi({ ...removeOptOut, middleware: [scoped("opt-out")] }, async (c) => {
    // The schema names a missing `cidr`; an empty one is missing too.
    const { cidr } = c.req.valid("query");
    if (!cidr) throw new ApiError(400, "missing_field", "'cidr' is required", "cidr");
    const removed = await database("remove from the opt-out list", () => store.removeOptOut(cidr));
    if (!removed) throw new ApiError(404, "not_found", `'${cidr}' is not in the opt-out list`);
    return c.body(null, 204);
  });

  return app;
}
