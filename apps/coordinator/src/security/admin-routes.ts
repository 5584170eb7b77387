import { zValidator } from "@hono/zod-validator";
import type { AuditRow } from "@lg/db";
import { parseAllowList } from "@lg/protocol";
import { Hono } from "hono";
import { z } from "zod";
import { ApiError, DependencyError, validationError } from "../errors";
import { currentPrincipal } from "./context";
import { hasScope, type Scope } from "./keys";
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

async function database<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new DependencyError("database_unavailable", `the database did not answer (${what})`, {
      cause: err,
    });
  }
}

const AuditQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    target: z.string().min(1).max(253).optional(),
    client: z.string().min(1).max(64).optional(),
    before: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

const OptOutBody = z
  .object({ cidr: z.string().min(1).max(64), reason: z.string().max(500).optional() })
  .strict();

const auditView = (r: AuditRow) => ({
  id: r.id,
  at: r.at.toISOString(),
  client: r.clientAddress,
  clientKey: r.clientKey,
  keyId: r.keyId,
  target: r.target,
  address: r.address,
  pops: r.pops,
  probesPerMinute: r.probeRate,
  measurementId: r.measurementId,
});

/** Operator endpoints: the audit log and the opt-out list, each behind its key scope. */
export function adminRoutes(store: SecurityStore): Hono {
  const app = new Hono();

  app.get(
    "/api/v1/admin/audit",
    zValidator("query", AuditQuery, (r) => {
      if (!r.success) throw validationError(r.error, "query", r.data);
    }),
    async (c) => {
      requireScope("audit");
      const q = c.req.valid("query");
      const rows = await database("read the audit log", () =>
        store.listAudit({
          limit: q.limit,
          ...(q.target ? { target: q.target } : {}),
          ...(q.client ? { client: q.client } : {}),
          ...(q.before ? { before: new Date(q.before) } : {}),
        }),
      );
      return c.json(rows.map(auditView));
    },
  );

  app.get("/api/v1/admin/opt-out", async (c) => {
    requireScope("opt-out");
    const rows = await database("read the opt-out list", () => store.listOptOut());
    return c.json(rows.map((r) => ({ cidr: r.cidr, reason: r.reason, created: r.created.toISOString() })));
  });

  app.post(
    "/api/v1/admin/opt-out",
    async (_c, next) => {
      requireScope("opt-out");
      await next();
    },
    zValidator("json", OptOutBody, (r) => {
      if (!r.success) throw validationError(r.error, "body", r.data);
    }),
    async (c) => {
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
    },
  );

  app.delete("/api/v1/admin/opt-out", async (c) => {
    requireScope("opt-out");
    const cidr = c.req.query("cidr");
    if (!cidr) throw new ApiError(400, "missing_field", "'cidr' is required", "cidr");
    const removed = await database("remove from the opt-out list", () => store.removeOptOut(cidr));
    if (!removed) throw new ApiError(404, "not_found", `'${cidr}' is not in the opt-out list`);
    return c.body(null, 204);
  });

  return app;
}
