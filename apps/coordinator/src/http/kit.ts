import { OpenAPIHono, z } from "@hono/zod-openapi";
import { ApiErrorBody } from "@lg/protocol";
import type { Context, Next } from "hono";
import { streamSSE } from "hono/streaming";
import { ApiError, DependencyError, validationError } from "../errors";
import type { Logger } from "../logger";

/** The one environment of every router: a per-request child logger and the request id. */
export type AppEnv = { Variables: { log: Logger; requestId: string } };

/** Where a failed validator looked, in the words of the error message. */
const PLACE = {
  json: "body",
  form: "body",
  query: "query",
  param: "path",
  header: "header",
  cookie: "cookie",
} as const;

/**
 * A router whose `app.openapi(createRoute(...), handler)` routes validate with their declared zod
 * schemas and fail with today's error body (`validationError`: `missing_field`, `invalid_field`,
 * `unknown_field` naming the field), thrown to the app's one `onError`.
 *
 * @example
 *   const app = createRouter();
 *   app.openapi(createRoute({ method: "get", path: "/api/v1/x/{id}", ... }), (c) => c.json(view, 200));
 */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const place = PLACE[result.target as keyof typeof PLACE] ?? "body";
        // zod-validator hands the hook the raw input too (not in OpenAPIHono's type): it tells a
        // missing field from a wrong one.
        throw validationError(result.error, place, (result as { data?: unknown }).data);
      }
    },
  });
}

/** Refuses a body that is not `application/json` with 415 before validation reads it. */
export async function requireJson(c: Context, next: Next): Promise<void> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw new ApiError(415, "unsupported_media_type", "send the body as application/json");
  }
  await next();
}

/**
 * Streams a generator of events as SSE; `keepalive` becomes a comment line. The stream ends with
 * the generator or when the client goes away; a failure inside is logged with `what` (ids), since
 * the status line has already left.
 *
 * @example
 *   return sseFrom(c, { measurementId: id }, (signal) => watchMeasurement(deps.watch, id, signal));
 */
export function sseFrom<E extends { event: string; data?: unknown }>(
  c: Context<AppEnv>,
  what: Record<string, string>,
  events: (signal: AbortSignal) => AsyncIterable<E>,
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

/**
 * Runs a database call; its failure is the database's and leaves as 503 `database_unavailable`
 * ("the database did not answer (what)"). An `ApiError` thrown inside is already the caller's
 * answer (a 404, a 503 from a nested call) and passes through unchanged.
 *
 * @example
 *   const rows = await database("list agents", () => repo.listAgents());
 */
export async function database<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new DependencyError("database_unavailable", `the database did not answer (${what})`, {
      cause: err,
    });
  }
}

/**
 * Names a schema in the document (`#/components/schemas/<name>`). Use it, not `.openapi(name)`, on
 * the protocol's schemas: zod copies prototype methods onto each instance when it is made, so a
 * schema made before @hono/zod-openapi was first imported has no `.openapi`.
 *
 * @example
 *   const Measurement = named(MeasurementView, "Measurement");
 */
export function named<T extends z.ZodType>(schema: T, name: string): T {
  const { openapi } = z.ZodType.prototype as unknown as { openapi(this: T, refId: string): T };
  return openapi.call(schema, name);
}

/** The one error body, `#/components/schemas/Error`. */
export const ErrorBody = named(ApiErrorBody, "Error");

/** A JSON request body of a route declaration (`request.body`). */
export const jsonBody = <T extends z.ZodType>(schema: T, description?: string) => ({
  required: true,
  ...(description ? { description } : {}),
  content: { "application/json": { schema } },
});

/** A JSON response of a route declaration (`responses[status]`). */
export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

/** An error response (`{"error": {...}}`) of a route declaration. */
export const errorResponse = (description: string) => jsonResponse(ErrorBody, description);

/** A Server-Sent Events response; the events are described in words (OpenAPI has no event schema). */
export const eventStreamResponse = (description: string) => ({
  description,
  content: { "text/event-stream": { schema: z.string() } },
});

/** `{id}` in a route's path, described. */
export const idParams = (description: string) =>
  z.object({ id: z.string().openapi({ param: { name: "id", in: "path" }, description }) });
