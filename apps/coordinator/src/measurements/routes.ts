import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Repository } from "@lg/db";
import { type AppEnv, createRouter, database, sseFrom } from "../http/kit";
import { type WatchDeps, watchMeasurement } from "../live/watch";
import type { Privacy } from "../privacy";
import { createMeasurement, eventSchemas, getMeasurement, listAgents, measurementEvents } from "./openapi";
import type { MeasurementService } from "./service";
import { agentView } from "./views";

export interface MeasurementRouteDeps {
  repo: Repository;
  measurements: MeasurementService;
  watch: WatchDeps;
  clientAddress?: ((c: unknown) => string | null) | undefined;
  /** Hop privacy: the live stream as the request may see it (the service is wrapped already). */
  privacy?: Pick<Privacy, "applies" | "events"> | undefined;
}

/**
 * `GET /api/v1/agents`, `POST /api/v1/measurements`, `GET /api/v1/measurements/{id}` and its
 * `/events` stream, as declared in `./openapi.ts`.
 */
export function measurementRoutes(deps: MeasurementRouteDeps): OpenAPIHono<AppEnv> {
  const app = createRouter();
  for (const [name, schema] of Object.entries(eventSchemas)) app.openAPIRegistry.register(name, schema);

  app.openapi(listAgents, async (c) => {
    const rows = await database("list agents", () => deps.repo.listAgents());
    return c.json(rows.map(agentView), 200);
  });

  app.openapi(createMeasurement, async (c) => {
    const accepted = await deps.measurements.submit(c.req.valid("json"), deps.clientAddress?.(c) ?? null);
    return c.json(accepted, 202);
  });

  app.openapi(getMeasurement, async (c) => c.json(await deps.measurements.get(c.req.valid("param").id), 200));

  app.openapi(measurementEvents, async (c) => {
    const { id } = c.req.valid("param");
    // The snapshot is read before the stream starts, so an unknown id is a 404 in JSON.
    const since = deps.watch.hub?.position() ?? 0;
    const snapshot = deps.watch.hub ? await deps.measurements.get(id) : undefined;
    if (!snapshot) await deps.measurements.get(id);
    const start = snapshot ? { since, snapshot } : undefined;
    const privacy = deps.privacy?.applies() ? deps.privacy : undefined;
    return sseFrom(c, { measurementId: id }, (signal) => {
      const events = watchMeasurement(deps.watch, id, signal, start);
      return privacy ? privacy.events(events, true) : events;
    });
  });

  return app;
}
