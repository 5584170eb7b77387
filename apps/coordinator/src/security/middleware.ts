import type { MiddlewareHandler } from "hono";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { effectiveClient } from "./client";
import { type Principal, runAs } from "./context";
import { createPrincipalResolver } from "./principal";
import type { SettingsAndStore } from "./types";

/** The routes that make agents send probes: each POST counts against the client's rate limit. */
export const PROBING_ROUTES = [
  "/api/v1/measurements",
  "/api/v1/path-tests",
  "/api/v1/reverse-sessions",
  "/",
  "/p",
];

export interface SecurityMiddlewareDeps extends SettingsAndStore {
  /** The socket peer's address (absent for in-process requests). */
  socketAddress?: ((c: unknown) => string | null) | undefined;
}

/**
 * Resolves who is asking (address after trusted proxies, operator key) for every request, runs
 * the rest of the request as that principal, and applies the per-client rate limit to the
 * routes that start probes. A refused request gets 429 with `Retry-After`.
 *
 * The limiter keeps its counters in memory (rate-limiter-flexible's memory store), so each
 * replica counts on its own: N replicas behind a balancer allow up to N times the rate. The
 * library's Redis or PostgreSQL stores share one count; see the coordinator README.
 */
export function securityMiddleware(deps: SecurityMiddlewareDeps): MiddlewareHandler {
  const resolve = createPrincipalResolver(deps);
  const limiter =
    deps.settings.rateLimit > 0
      ? new RateLimiterMemory({ points: deps.settings.rateLimit, duration: 60 })
      : undefined;

  return async (c, next) => {
    const socket = deps.socketAddress?.(c) ?? null;
    const address = effectiveClient(socket, c.req.header("x-forwarded-for"), deps.settings.trustedProxies);
    const principal: Principal = await resolve(address, c.req.header("authorization"));
    const limited =
      limiter && principal.limited && c.req.method === "POST" && PROBING_ROUTES.includes(c.req.path);
    if (limited) {
      try {
        await limiter.consume(principal.clientKey);
      } catch (res) {
        if (!(res instanceof RateLimiterRes)) throw res;
        const wait = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
        const message = `too many requests from ${principal.clientKey}: at most ${deps.settings.rateLimit} a minute; try again in ${wait} s`;
        return c.json({ error: { code: "rate_limited", message } }, 429, { "Retry-After": String(wait) });
      }
    }
    await runAs(principal, () => next());
    // Limits deeper down (concurrency, target budget) leave their wait in the principal.
    if (c.res.status === 429 && principal.retryAfter && !c.res.headers.has("retry-after")) {
      c.res.headers.set("Retry-After", String(principal.retryAfter));
    }
  };
}
