import type { MiddlewareHandler } from "hono";
import { effectiveClient } from "./client";
import { type Principal, runAs } from "./context";
import { createPrincipalResolver } from "./principal";
import type { SettingsAndStore } from "./types";

export interface SecurityMiddlewareDeps extends SettingsAndStore {
  /** The socket peer's address (absent for in-process requests). */
  socketAddress?: ((c: unknown) => string | null) | undefined;
}

/**
 * Resolves who is asking (address after trusted proxies, operator key) for every request and runs
 * the rest of the request as that principal. The limits themselves sit where work starts (the
 * measurement guard, reverse sessions), not on a list of paths; a limit that refuses leaves its
 * wait in the principal, and any 429 leaves with `Retry-After`.
 */
export function securityMiddleware(deps: SecurityMiddlewareDeps): MiddlewareHandler {
  const resolve = createPrincipalResolver(deps);
  return async (c, next) => {
    const socket = deps.socketAddress?.(c) ?? null;
    const address = effectiveClient(socket, c.req.header("x-forwarded-for"), deps.settings.trustedProxies);
    const principal: Principal = await resolve(address, c.req.header("authorization"));
    await runAs(principal, () => next());
    if (c.res.status === 429 && principal.retryAfter && !c.res.headers.has("retry-after")) {
      c.res.headers.set("Retry-After", String(principal.retryAfter));
    }
  };
}
