import type { OpenAPIHono } from "@hono/zod-openapi";
import { createDb, type Database } from "@lg/db";
import type { Hono } from "hono";
import type { AppEnv } from "../http/kit";
import type { Logger } from "../logger";
import type { MeasurementService } from "../measurements/service";
import { adminRoutes } from "./admin-routes";
import { guardMeasurements } from "./guard";
import { loginPages } from "./login-pages";
import { securityMiddleware } from "./middleware";
import { createPrincipalResolver } from "./principal";
import { createClientRateLimit } from "./rate-limit";
import type { SecuritySettings } from "./settings";
import { createSecurityStore, type SecurityStore } from "./store";

export { PUBLIC_BOUNDS } from "./bounds";
export { probeRate } from "./budget";
export { clientKeyOf, effectiveClient } from "./client";
export {
  createApiKey,
  generateKey,
  hasScope,
  isScope,
  parseKey,
  SCOPE_HELP,
  SCOPES,
  type Scope,
} from "./keys";
export { parseSecuritySettings, type SecuritySettings } from "./settings";
export { createSecurityStore, type SecurityStore } from "./store";

export interface Security {
  store: SecurityStore;
  settings: SecuritySettings;
  /** The measurement service with rate limit, bounds, opt-out, concurrency cap, budget and audit. */
  guard(inner: MeasurementService): MeasurementService;
  /** Mount first: the principal, and `Retry-After` on a 429; given how to read the socket's peer. */
  middleware(socketAddress?: (c: unknown) => string | null): ReturnType<typeof securityMiddleware>;
  /** The operator routes under /api/v1/admin. */
  routes: OpenAPIHono<AppEnv>;
  /** The operators' sign-in pages: `GET/POST /login`, `POST /logout`. */
  pages: Hono;
  /** Deletes audit rows past their retention, now and then hourly. */
  stop(): void;
}

const PRUNE_EVERY_MS = 3_600_000;

/**
 * Abuse protection for one coordinator replica.
 *
 * @example
 *   const security = startSecurity({ db: handle.db, settings: config.security, logger });
 *   const measurements = security.guard(createMeasurementService(...));
 */
export function startSecurity(deps: {
  db: Database;
  settings: SecuritySettings;
  logger: Logger;
  /** `LG_PUBLIC_URL`: an https one makes the session cookie `Secure` behind a TLS proxy. */
  publicUrl?: string | undefined;
}): Security {
  const store = createSecurityStore(deps.db);
  const log = deps.logger.child({ module: "security" });
  const prune = () =>
    store
      .pruneAudit(new Date(Date.now() - deps.settings.auditRetentionMs))
      .then((n) => {
        if (n > 0) log.info({ rows: n }, "audit rows past retention deleted");
      })
      .catch((err) => log.warn({ err }, "could not prune the audit log"))
      .then(() => store.pruneSessions(new Date(Date.now() - PRUNE_EVERY_MS)))
      .catch((err) => log.warn({ err }, "could not prune ended sessions"));
  void prune();
  const timer = setInterval(prune, PRUNE_EVERY_MS);
  timer.unref();
  const both = { store, settings: deps.settings };
  const admit = createClientRateLimit(deps.settings.rateLimit);
  // One resolver for the middleware and the sign-out page, which drops the session it ends.
  const resolver = createPrincipalResolver(both);
  const publicUrl = deps.publicUrl;
  return {
    ...both,
    guard: (inner) => guardMeasurements(inner, { ...both, logger: deps.logger, admit }),
    middleware: (socketAddress) => securityMiddleware({ ...both, socketAddress, resolver, publicUrl }),
    routes: adminRoutes(store),
    pages: loginPages({ ...both, resolver, logger: deps.logger, publicUrl }),
    stop: () => clearInterval(timer),
  };
}

/** The security tables of a coordinator's database, for the `lg keys` command. */
export async function openSecurityStore(opts: {
  databaseUrl: string | undefined;
  dataDir: string;
}): Promise<{ store: SecurityStore; close(): Promise<void> }> {
  const handle = await createDb({ ...opts, maxConnections: 1 });
  return { store: createSecurityStore(handle.db), close: () => handle.close() };
}
