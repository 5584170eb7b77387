import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Repository } from "@lg/db";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { ApiError, DependencyError } from "../errors";
import type { WatchDeps } from "../live/watch";
import type { Logger } from "../logger";
import { measurementRoutes } from "../measurements/routes";
import type { MeasurementService } from "../measurements/service";
import type { Metrics } from "../metrics/metrics";
import { type MonitorRouteDeps, monitorRoutes } from "../monitors/routes";
import { pathTestRoutes } from "../path-tests/routes";
import { createPathTestService, type PathTestService } from "../path-tests/service";
import type { Privacy } from "../privacy";
import { UPLOAD_MAX_BYTES } from "../reverse-sessions/customer";
import { reverseSessionRoutes } from "../reverse-sessions/routes";
import type { ReverseSessionService } from "../reverse-sessions/service";
import type { Security } from "../security";
import { formCsrf } from "../security/csrf";
import { DEFAULT_MAX_BODY } from "../security/settings";
import { webRoutes } from "../web/routes";
import { type BodyLimitRoute, requestBodyLimit } from "./body-limit";
import { docsRoutes } from "./docs";
import { checkHealth, type HealthChecks, HealthReport } from "./health";
import { type AppEnv, createRouter, jsonResponse, named } from "./kit";
import { documentedStatuses, openApiDocument } from "./openapi";
import { statusAudit, type UndocumentedStatus } from "./status-audit";

export interface AppDeps {
  logger: Logger;
  repo: Repository;
  measurements: MeasurementService;
  watch: WatchDeps;
  health: HealthChecks;
  /** The caller's address, from the server's socket (absent under app.request in tests). */
  clientAddress?: (c: unknown) => string | null;
  /** Path tests (default: made from the measurement service). */
  pathTests?: PathTestService;
  /** Reverse sessions for customers behind NAT (their routes are served when given). */
  reverseSessions?: ReverseSessionService;
  /** Path of the bundled join agent served to customers. */
  joinBundle?: string;
  /** Rate limits, operator keys, the operator routes and the sign-in pages (absent: no limits). */
  security?: Pick<Security, "middleware" | "routes"> & Partial<Pick<Security, "pages">>;
  /** `LG_PUBLIC_URL`: the origin web forms may also come from (behind a TLS proxy). */
  publicUrl?: string | undefined;
  /** Hop privacy (`LG_PRIVATE_HOPS`): what the public may not see of the PoPs' own hops. */
  privacy?: Privacy;
  /** Monitors and alerts (their routes and the /monitors page are served when given). */
  monitors?: MonitorRouteDeps;
  /** Prometheus metrics, served on GET /metrics. */
  metrics?: Pick<Metrics, "middleware" | "text">;
  /**
   * The largest request body read (default 64 KiB, `LG_MAX_BODY`), and routes with their own
   * limit; a larger body is refused with 413 before the rest is read.
   */
  bodyLimit?: { maxBytes: number; routes?: readonly BodyLimitRoute[] };
  /**
   * Told of every response whose status its route does not document in /openapi.json (tests
   * set it and fail on any report; absent: not checked).
   */
  onUndocumentedStatus?: (v: UndocumentedStatus) => void;
  /** Where the API reference's page script is (default: found like the join bundle). */
  docsScript?: string;
}

/** The customer's upload route reads up to {@link UPLOAD_MAX_BYTES}, whatever `LG_MAX_BODY` is. */
const UPLOAD_BODY_LIMIT: BodyLimitRoute = {
  method: "POST",
  path: /^\/api\/v1\/reverse-sessions\/[^/]+\/upload$/,
  maxBytes: UPLOAD_MAX_BYTES,
};

function errorBody(err: ApiError) {
  return { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } };
}

const Health = named(HealthReport, "Health");

const healthRoute = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["service"],
  summary: "Liveness and dependencies",
  responses: {
    200: jsonResponse(Health, "NATS and the database answer"),
    503: jsonResponse(Health, "NATS or the database does not answer"),
  },
});

const documentRoute = createRoute({
  method: "get",
  path: "/openapi.json",
  tags: ["service"],
  summary: "This document",
  responses: { 200: jsonResponse(z.record(z.string(), z.unknown()), "OpenAPI 3.1 document") },
});

const metricsRoute = createRoute({
  method: "get",
  path: "/metrics",
  tags: ["service"],
  summary: "Prometheus metrics (text exposition format)",
  responses: {
    200: { description: "Metrics", content: { "text/plain": { schema: z.string() } } },
  },
});

/**
 * The coordinator's HTTP API. Every failure leaves through one `onError` as
 * `{"error": {"code", "message", "field"?}}`: 4xx for the caller's mistakes, 503 when the database
 * or NATS does not answer. Each route is declared once (`createRoute`) and /openapi.json is
 * generated from the declarations.
 *
 * @example
 *   const app = createApp(deps);
 *   const res = await app.request("/api/v1/agents");
 */
export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const app = createRouter();
  let document: ReturnType<typeof openApiDocument> | undefined;
  // Generated on first use, once every route below is declared.
  const openapi = () => {
    document ??= openApiDocument(app);
    return document;
  };

  if (deps.onUndocumentedStatus) {
    let statuses: ReturnType<typeof documentedStatuses> | undefined;
    app.use(statusAudit(() => (statuses ??= documentedStatuses(openapi())), deps.onUndocumentedStatus));
  }

  app.use(requestId());
  app.use(async (c, next) => {
    const log = deps.logger.child({ reqId: c.get("requestId") });
    c.set("log", log);
    const started = performance.now();
    await next();
    log.info(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      },
      "request",
    );
  });

  if (deps.metrics) {
    const metrics = deps.metrics;
    app.use(metrics.middleware);
    app.openapi(metricsRoute, async (c) => {
      const { body, contentType } = await metrics.text();
      return c.text(body, 200, { "Content-Type": contentType });
    });
  }

  // A customer's upload (its mtr or WinMTR output) may be larger than any JSON body; nothing else is.
  const limits = deps.bodyLimit ?? { maxBytes: DEFAULT_MAX_BODY };
  app.use(requestBodyLimit({ ...limits, routes: [...(limits.routes ?? []), UPLOAD_BODY_LIMIT] }));

  if (deps.security) app.use(deps.security.middleware(deps.clientAddress));
  // Every web form (not the API, whose credentials are never a cookie) comes from our own pages.
  app.use(formCsrf({ publicUrl: deps.publicUrl }));
  if (deps.security) {
    app.route("/", deps.security.routes);
    if (deps.security.pages) app.route("/", deps.security.pages);
  }

  app.onError((err, c) => {
    const log = c.get("log") ?? deps.logger;
    if (err instanceof ApiError) {
      if (err instanceof DependencyError) log.error({ err: err.cause ?? err }, err.message);
      return c.json(errorBody(err), err.status);
    }
    if (err instanceof HTTPException) {
      if (err.status === 415) {
        return c.json(
          errorBody(new ApiError(415, "unsupported_media_type", "send the body as application/json")),
          415,
        );
      }
      const code = /json/i.test(err.message) ? "invalid_json" : "invalid_request";
      const message = code === "invalid_json" ? "the request body is not valid JSON" : err.message;
      return c.json({ error: { code, message } }, err.status === 500 ? 400 : err.status);
    }
    log.error({ err }, "unexpected error");
    return c.json({ error: { code: "internal", message: "internal error; see the coordinator's log" } }, 500);
  });
  app.notFound((c) =>
    c.json({ error: { code: "not_found", message: `no route for ${c.req.method} ${c.req.path}` } }, 404),
  );

  app.openapi(healthRoute, async (c) => {
    const report = await checkHealth(deps.health);
    return report.status === "ok" ? c.json(report, 200) : c.json(report, 503);
  });
  app.openapi(documentRoute, (c) => c.json(openapi(), 200));
  app.route("/", docsRoutes({ script: deps.docsScript }));

  // Hop privacy sits in the services every route and page reads, so each gives the same answer;
  // monitor runs (no request) read the services unwrapped.
  const privacy = deps.privacy;
  const measurements = privacy ? privacy.measurements(deps.measurements) : deps.measurements;
  app.route("/", measurementRoutes({ ...deps, measurements }));

  const pathTestsRaw =
    deps.pathTests ??
    createPathTestService({ repo: deps.repo, measurements: deps.measurements, logger: deps.logger });
  const pathTests = privacy ? privacy.pathTests(pathTestsRaw) : pathTestsRaw;
  app.route(
    "/",
    pathTestRoutes({ pathTests, watch: deps.watch, clientAddress: deps.clientAddress, privacy }),
  );
  const reverseSessions =
    deps.reverseSessions && privacy ? privacy.reverseSessions(deps.reverseSessions) : deps.reverseSessions;
  if (reverseSessions) {
    app.route(
      "/",
      reverseSessionRoutes({
        reverseSessions,
        repo: deps.repo,
        clientAddress: deps.clientAddress,
        joinBundle: deps.joinBundle,
      }),
    );
  }

  if (deps.monitors) app.route("/", monitorRoutes(deps.monitors));

  app.route("/", webRoutes({ ...deps, measurements, pathTests, reverseSessions }));

  return app;
}
