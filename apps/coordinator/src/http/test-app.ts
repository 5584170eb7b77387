import type { Repository } from "@lg/db";
import pino from "pino";
import type { WatchDeps } from "../live/watch";
import type { MeasurementService } from "../measurements/service";
import type { MonitorStore } from "../monitors/store";
import type { PathTestService } from "../path-tests/service";
import type { ReverseSessionService } from "../reverse-sessions/service";
import { adminRoutes } from "../security/admin-routes";
import { loginPages } from "../security/login-pages";
import { parseSecuritySettings } from "../security/settings";
import type { SecurityStore } from "../security/store";
import { type AppDeps, createApp } from "./app";

/**
 * For tests of the app's shape (its routes, its document): `createApp` with every optional
 * feature on (security, monitors, reverse sessions, metrics) over services that are never called
 * — no database, no NATS. A handler that reaches one fails with 500.
 */
export function testApp(overrides: Partial<AppDeps> = {}) {
  const none = <T>(what: string): T =>
    new Proxy({} as object, {
      get: (_t, key) => () => {
        throw new Error(`${what}.${String(key)} is not available in testApp`);
      },
    }) as T;
  const repo = none<Repository>("repo");
  const deps: AppDeps = {
    logger: pino({ level: "silent" }),
    repo,
    measurements: none<MeasurementService>("measurements"),
    pathTests: none<PathTestService>("pathTests"),
    reverseSessions: none<ReverseSessionService>("reverseSessions"),
    watch: { nc: none("nc"), repo } as unknown as WatchDeps,
    health: { nats: async () => true, database: async () => true },
    security: {
      middleware: () => async (_c, next) => {
        await next();
      },
      routes: adminRoutes(none<SecurityStore>("securityStore")),
      pages: loginPages({
        store: none<SecurityStore>("securityStore"),
        settings: parseSecuritySettings({}),
        resolver: Object.assign(
          async () => ({ address: null, clientKey: "unknown", keyId: null, scopes: [], limited: true }),
          {
            forgetSession: () => {},
          },
        ),
        logger: pino({ level: "silent" }),
      }),
    },
    monitors: { store: none<MonitorStore>("monitorStore"), repo, allowList: [] },
    metrics: {
      middleware: async (_c, next) => {
        await next();
      },
      text: async () => ({ body: "", contentType: "text/plain; version=0.0.4; charset=utf-8" }),
    },
    ...overrides,
  };
  return { app: createApp(deps), deps };
}
