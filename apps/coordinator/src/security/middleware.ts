import type { MiddlewareHandler } from "hono";
import { effectiveClient } from "./client";
import { type Principal, runAs } from "./context";
import { createPrincipalResolver, type PrincipalResolver } from "./principal";
import { clearSessionCookie, servedOverTls, sessionTokenOf } from "./sessions";
import type { SettingsAndStore } from "./types";

export interface SecurityMiddlewareDeps extends SettingsAndStore {
  /** The socket peer's address (absent for in-process requests). */
  socketAddress?: ((c: unknown) => string | null) | undefined;
  /** The resolver to share with the sign-in pages (default: a new one). */
  resolver?: PrincipalResolver;
  /** `LG_PUBLIC_URL`: an https one makes the session cookie `Secure` behind a TLS proxy. */
  publicUrl?: string | undefined;
}

const SAFE_METHOD = /^(GET|HEAD|OPTIONS)$/;

/**
 * Where a session cookie counts: every read, and the web pages' forms (which `formCsrf` checks).
 * A state-changing API call needs its key in `Authorization`: the cookie never authorises one, so
 * no API route depends on a CSRF check.
 */
const sessionApplies = (method: string, path: string) =>
  SAFE_METHOD.test(method) || !path.startsWith("/api/");

/**
 * Resolves who is asking (address after trusted proxies, operator key or browser session) for every
 * request and runs the rest of the request as that principal. The limits themselves sit where work
 * starts (the measurement guard, reverse sessions), not on a list of paths; a limit that refuses
 * leaves its wait in the principal, and any 429 leaves with `Retry-After`. A cookie that no longer
 * opens a session is cleared on the way out.
 */
export function securityMiddleware(deps: SecurityMiddlewareDeps): MiddlewareHandler {
  const resolve = deps.resolver ?? createPrincipalResolver(deps);
  return async (c, next) => {
    const socket = deps.socketAddress?.(c) ?? null;
    const address = effectiveClient(socket, c.req.header("x-forwarded-for"), deps.settings.trustedProxies);
    const token = sessionApplies(c.req.method, c.req.path) ? sessionTokenOf(c) : undefined;
    const principal: Principal = await resolve(address, c.req.header("authorization"), token);
    await runAs(principal, () => next());
    if (c.res.status === 429 && principal.retryAfter && !c.res.headers.has("retry-after")) {
      c.res.headers.set("Retry-After", String(principal.retryAfter));
    }
    if (principal.staleSession && !c.res.headers.has("set-cookie")) {
      clearSessionCookie(c, servedOverTls(c, deps.publicUrl));
    }
  };
}
