import type { OpenAPIHono } from "@hono/zod-openapi";
import { type AppEnv, createRouter, sseFrom } from "../http/kit";
import type { WatchDeps } from "../live/watch";
import type { Privacy } from "../privacy";
import { createPathTest, getPathTest, pathTestEvents } from "./openapi";
import type { PathTestService } from "./service";
import { watchPathTest } from "./watch";

export interface PathTestRouteDeps {
  pathTests: PathTestService;
  watch: WatchDeps;
  clientAddress?: ((c: unknown) => string | null) | undefined;
  /** Hop privacy: the live stream as the request may see it (the service is wrapped already). */
  privacy?: Pick<Privacy, "applies" | "events"> | undefined;
}

/**
 * `POST /api/v1/path-tests`, `GET /api/v1/path-tests/{id}` and its `/events` stream, as declared
 * in `./openapi.ts`.
 */
export function pathTestRoutes(deps: PathTestRouteDeps): OpenAPIHono<AppEnv> {
  const app = createRouter();

  app.openapi(createPathTest, async (c) => {
    const accepted = await deps.pathTests.create(c.req.valid("json"), deps.clientAddress?.(c) ?? null);
    return c.json(accepted, 202);
  });

  app.openapi(getPathTest, async (c) => c.json(await deps.pathTests.get(c.req.valid("param").id), 200));

  app.openapi(pathTestEvents, async (c) => {
    const { id } = c.req.valid("param");
    await deps.pathTests.get(id); // 404 as JSON before the stream starts
    const privacy = deps.privacy?.applies() ? deps.privacy : undefined;
    return sseFrom(c, { pathTestId: id }, (signal) => {
      const events = watchPathTest({ ...deps.watch, pathTests: deps.pathTests }, id, signal);
      return privacy ? privacy.events(events, true) : events;
    });
  });

  return app;
}
