export { DatabaseError } from "@lg/db";
export { ConfigError, type CoordinatorConfig, databaseLocation, loadConfig } from "./config";
export { type RunningCoordinator, type StartOptions, startCoordinator } from "./coordinator";
export { ApiError, DependencyError } from "./errors";
export { type AppDeps, createApp } from "./http/app";
export { openApiDocument } from "./http/openapi";
export { createLogger, type Logger } from "./logger";
export { NatsConnectError } from "./nats";
export { type Diagnose, ensureResultsStream } from "./results/ingest";
export {
  createApiKey,
  createSecurityStore,
  isScope,
  openSecurityStore,
  parseSecuritySettings,
  SCOPE_HELP,
  SCOPES,
  type Scope,
  type SecuritySettings,
  type SecurityStore,
} from "./security";
