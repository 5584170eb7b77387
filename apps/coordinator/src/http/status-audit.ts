import type { MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";

/** A response whose status the matched route does not document. */
export interface UndocumentedStatus {
  /** `GET /api/v1/measurements/{id}`: the operation as the document names it. */
  operation: string;
  /** The request's own path. */
  path: string;
  status: number;
}

/**
 * Checks every response's status against the documented responses of the route that served it
 * and reports each one the document does not list. Routes the document does not contain (web
 * pages, assets; see the coverage test) and requests no route matched are not checked. Tests
 * enable it (`AppDeps.onUndocumentedStatus`) and fail on any report.
 *
 * @example
 *   app.use(statusAudit(() => documentedStatuses(document()), (v) => seen.push(v)));
 */
export function statusAudit(
  documented: () => Map<string, Set<string>>,
  report: (v: UndocumentedStatus) => void,
): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const endpoint = matchedRoutes(c).findLast((r) => r.method !== "ALL");
    if (!endpoint) return;
    const operation = `${endpoint.method} ${endpoint.path.replace(/:([^/{}]+)/g, "{$1}")}`;
    const statuses = documented().get(operation);
    if (statuses && !statuses.has(String(c.res.status))) {
      report({ operation, path: c.req.path, status: c.res.status });
    }
  };
}
