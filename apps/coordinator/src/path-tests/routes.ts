import { zValidator } from "@hono/zod-validator";
import { PathTestRequest } from "@lg/protocol";
import { type Context, Hono, type Next } from "hono";
import { streamSSE } from "hono/streaming";
import { ApiError, validationError } from "../errors";
import type { WatchDeps } from "../live/watch";
import type { Logger } from "../logger";
import type { PathTestService } from "./service";
import { watchPathTest } from "./watch";

export interface PathTestRouteDeps {
  pathTests: PathTestService;
  watch: WatchDeps;
  clientAddress?: ((c: unknown) => string | null) | undefined;
}

type Env = { Variables: { log: Logger; requestId: string } };

/** Refuses bodies that are not JSON with 415 before validation. */
export async function requireJson(c: Context, next: Next): Promise<void> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw new ApiError(415, "unsupported_media_type", "send the body as application/json");
  }
  await next();
}

/**
 * Streams a generator of events as SSE; `keepalive` becomes a comment line. The stream ends with
 * the generator or when the client goes away.
 */
export function sseFrom<E extends { event: string; data?: unknown }>(
  c: Context<Env>,
  what: Record<string, string>,
  events: (signal: AbortSignal) => AsyncGenerator<E>,
): Response {
  const log = c.get("log");
  return streamSSE(c, async (stream) => {
    const abort = new AbortController();
    stream.onAbort(() => abort.abort());
    try {
      for await (const e of events(abort.signal)) {
        if (e.event === "keepalive") await stream.write(": keepalive\n\n");
        else await stream.writeSSE({ event: e.event, data: JSON.stringify(e.data) });
      }
    } catch (err) {
      log.error({ err, ...what }, "live stream failed");
    } finally {
      abort.abort();
    }
  });
}

/** `POST /api/v1/path-tests`, `GET /api/v1/path-tests/{id}` and its `/events` stream. */
export function pathTestRoutes(deps: PathTestRouteDeps): Hono<Env> {
  const app = new Hono<Env>();

  app.post(
    "/api/v1/path-tests",
    requireJson,
    zValidator("json", PathTestRequest, (result) => {
      if (!result.success) throw validationError(result.error, "body", result.data);
    }),
    async (c) => {
      const accepted = await deps.pathTests.create(c.req.valid("json"), deps.clientAddress?.(c) ?? null);
      return c.json(accepted, 202);
    },
  );

  app.get("/api/v1/path-tests/:id", async (c) => c.json(await deps.pathTests.get(c.req.param("id"))));

  app.get("/api/v1/path-tests/:id/events", async (c) => {
    const id = c.req.param("id");
    await deps.pathTests.get(id); // 404 as JSON before the stream starts
    return sseFrom(c, { pathTestId: id }, (signal) =>
      watchPathTest({ ...deps.watch, pathTests: deps.pathTests }, id, signal),
    );
  });

  return app;
}
