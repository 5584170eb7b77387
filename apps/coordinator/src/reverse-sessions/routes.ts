import { readFile } from "node:fs/promises";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ApiError } from "../errors";
import { type AppEnv, createRouter } from "../http/kit";
import { findJoinBundle } from "./bundle";
import {
  createReverseSession,
  getReverseSession,
  joinBundleRoute,
  joinNatsRoute,
  joinReverseSession,
  joinScriptRoute,
} from "./openapi";
import { joinScript } from "./script";
import type { ReverseSessionService } from "./service";

export interface ReverseSessionRouteDeps {
  reverseSessions: ReverseSessionService;
  clientAddress?: ((c: unknown) => string | null) | undefined;
  /** Path of the bundled join agent (default: found by {@link findJoinBundle}). */
  joinBundle?: string | undefined;
}

/** The coordinator's address as the caller reached it (so a command works from where it was asked). */
const baseUrlOf = (c: Context) => new URL(c.req.url).origin;

/** The join token: `Authorization: Bearer <token>` or `?token=` (the one-line command carries it in the URL). */
function tokenOf(c: Context): string | undefined {
  const auth = c.req.header("authorization");
  const bearer = auth && /^Bearer\s+(.+)$/i.exec(auth)?.[1];
  return bearer || c.req.query("token") || undefined;
}

/**
 * `POST /api/v1/reverse-sessions`, `GET /api/v1/reverse-sessions/{id}`, and the customer's side:
 * `join.sh` (the checked start script), `lg-join.mjs` (the bundled join agent) and `POST .../join`.
 * The NATS WebSocket route (`.../nats`) is served by the join bridge on the HTTP server's upgrades;
 * a plain GET of it is answered here with 426. Declared in `./openapi.ts`.
 */
export function reverseSessionRoutes(deps: ReverseSessionRouteDeps): OpenAPIHono<AppEnv> {
  const app = createRouter();
  const sessions = deps.reverseSessions;

  app.openapi(createReverseSession, async (c) =>
    c.json(await sessions.create(c.req.valid("json"), baseUrlOf(c)), 201),
  );

  app.openapi(getReverseSession, async (c) => c.json(await sessions.get(c.req.valid("param").id), 200));

  app.openapi(joinReverseSession, async (c) =>
    c.json(
      await sessions.join(c.req.valid("param").id, tokenOf(c), deps.clientAddress?.(c) ?? null, baseUrlOf(c)),
      200,
    ),
  );

  app.openapi(joinScriptRoute, async (c) => {
    const { id } = c.req.valid("param");
    const token = tokenOf(c) as string;
    await sessions.authorize(id, token);
    const session = `${baseUrlOf(c)}/api/v1/reverse-sessions/${id}`;
    const q = `?token=${encodeURIComponent(token)}`;
    const text = joinScript({
      sessionId: id,
      bundleUrl: `${session}/lg-join.mjs${q}`,
      joinUrl: `${session}/join${q}`,
    });
    return c.body(text, 200, {
      "content-type": "text/x-shellscript; charset=utf-8",
      "cache-control": "no-store",
    });
  });

  app.openapi(joinBundleRoute, async (c) => {
    await sessions.authorize(c.req.valid("param").id, tokenOf(c));
    const path = findJoinBundle(deps.joinBundle);
    if (!path) {
      throw new ApiError(
        503,
        "join_bundle_missing",
        "the join agent bundle is not built on this coordinator (run `pnpm build`)",
      );
    }
    const body = await readFile(path);
    return c.body(body, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "no-store",
    });
  });

  app.openapi(joinNatsRoute, () => {
    throw new ApiError(
      426,
      "upgrade_required",
      "this route carries NATS over WebSocket; connect with a WebSocket client",
    );
  });

  return app;
}
