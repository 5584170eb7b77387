import { zValidator } from "@hono/zod-validator";
import type { Repository } from "@lg/db";
import { MeasurementRequest } from "@lg/protocol";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { streamSSE } from "hono/streaming";
import { ApiError, DependencyError, validationError } from "../errors";
import { type WatchDeps, watchMeasurement } from "../live/watch";
import type { Logger } from "../logger";
import type { MeasurementService } from "../measurements/service";
import type { Metrics } from "../metrics/metrics";
import { type MonitorRouteDeps, monitorRoutes } from "../monitors/routes";
import { pathTestRoutes } from "../path-tests/routes";
import { createPathTestService, type PathTestService } from "../path-tests/service";
import { reverseSessionRoutes } from "../reverse-sessions/routes";
import type { ReverseSessionService } from "../reverse-sessions/service";
import type { Security } from "../security";
import { DEFAULT_MAX_BODY } from "../security/settings";
import { agentView } from "../views";
import { webRoutes } from "../web/routes";
import { type BodyLimitRoute, requestBodyLimit } from "./body-limit";
import { checkHealth, type HealthChecks } from "./health";
import { openApiDocument } from "./openapi";

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
  /** Rate limits, operator keys and the operator routes (absent: no limits). */
  security?: Pick<Security, "middleware" | "routes">;
  /** Monitors and alerts (their routes and the /monitors page are served when given). */
  monitors?: MonitorRouteDeps;
  /** Prometheus metrics, served on GET /metrics. */
  metrics?: Pick<Metrics, "middleware" | "text">;
  /**
   * The largest request body read (default 64 KiB, `LG_MAX_BODY`), and routes with their own
   * limit; a larger body is refused with 413 before the rest is read.
   */
  bodyLimit?: { maxBytes: number; routes?: readonly BodyLimitRoute[] };
}

type Env = { Variables: { log: Logger; requestId: string } };

function errorBody(err: ApiError) {
  return { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } };
}

/**
 * The coordinator's HTTP API. Every failure leaves through one `onError` as
 * `{"error": {"code", "message", "field"?}}`: 4xx for the caller's mistakes, 503 when the database
 * or NATS does not answer.
 *
 * @example
 *   const app = createApp(deps);
 *   const res = await app.request("/api/v1/agents");
 */
export function createApp(deps: AppDeps): Hono<Env> {
  const app = new Hono<Env>();
  const openapi = openApiDocument();

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
    app.get("/metrics", async (c) => {
      const { body, contentType } = await metrics.text();
      return c.body(body, 200, { "content-type": contentType });
    });
  }

  app.use(requestBodyLimit(deps.bodyLimit ?? { maxBytes: DEFAULT_MAX_BODY }));

  if (deps.security) {
    app.use(deps.security.middleware(deps.clientAddress));
    app.route("/", deps.security.routes);
  }

  app.onError((err, c) => {
    const log = c.get("log") ?? deps.logger;
    if (err instanceof ApiError) {
      if (err instanceof DependencyError) log.error({ err: err.cause ?? err }, err.message);
      return c.json(errorBody(err), err.status);
    }
    if (err instanceof HTTPException) {
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

  app.get("/healthz", async (c) => {
    const report = await checkHealth(deps.health);
    return c.json(report, report.status === "ok" ? 200 : 503);
  });
  app.get("/openapi.json", (c) => c.json(openapi));

  app.get("/api/v1/agents", async (c) => {
    let rows: Awaited<ReturnType<Repository["listAgents"]>>;
    try {
      rows = await deps.repo.listAgents();
    } catch (err) {
      throw new DependencyError("database_unavailable", "the database did not answer (list agents)", {
        cause: err,
      });
    }
    return c.json(rows.map(agentView));
  });

  app.post(
    "/api/v1/measurements",
    async (c, next) => {
      const type = c.req.header("content-type") ?? "";
      if (!/^application\/json\b/i.test(type)) {
        throw new ApiError(415, "unsupported_media_type", "send the body as application/json");
      }
      await next();
    },
    zValidator("json", MeasurementRequest, (result) => {
      if (!result.success) throw validationError(result.error, "body", result.data);
    }),
    async (c) => {
      const accepted = await deps.measurements.submit(c.req.valid("json"), deps.clientAddress?.(c) ?? null);
      return c.json(accepted, 202);
    },
  );

  app.get("/api/v1/measurements/:id", async (c) => c.json(await deps.measurements.get(c.req.param("id"))));

  app.get("/api/v1/measurements/:id/events", async (c) => {
    const id = c.req.param("id");
    // The snapshot is read before the stream starts, so an unknown id is a 404 in JSON.
    const since = deps.watch.hub?.position() ?? 0;
    const snapshot = deps.watch.hub ? await deps.measurements.get(id) : undefined;
    if (!snapshot) await deps.measurements.get(id);
    const log = c.get("log");
    return streamSSE(c, async (stream) => {
      const abort = new AbortController();
      stream.onAbort(() => abort.abort());
      try {
        const start = snapshot ? { since, snapshot } : undefined;
        for await (const e of watchMeasurement(deps.watch, id, abort.signal, start)) {
          if (e.event === "keepalive") await stream.write(": keepalive\n\n");
          else await stream.writeSSE({ event: e.event, data: JSON.stringify(e.data) });
        }
      } catch (err) {
        log.error({ err, measurementId: id }, "live stream failed");
      } finally {
        abort.abort();
      }
    });
  });

  const pathTests =
    deps.pathTests ??
    createPathTestService({ repo: deps.repo, measurements: deps.measurements, logger: deps.logger });
  app.route("/", pathTestRoutes({ pathTests, watch: deps.watch, clientAddress: deps.clientAddress }));
  if (deps.reverseSessions) {
    app.route(
      "/",
      reverseSessionRoutes({
        reverseSessions: deps.reverseSessions,
        clientAddress: deps.clientAddress,
        joinBundle: deps.joinBundle,
      }),
    );
  }

  if (deps.monitors) app.route("/", monitorRoutes(deps.monitors));

  app.route("/", webRoutes({ ...deps, pathTests }));

  return app;
}
