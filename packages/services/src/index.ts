export { ServiceStartError } from "./errors";
export { type NatsServer, type NatsServerOptions, startNatsServer } from "./nats";
export {
  agentPermissions,
  createNatsAuth,
  type MintOptions,
  type NatsAuth,
  type NatsAuthSecrets,
} from "./nats-auth";
export { findFreePort } from "./ports";
export {
  type PostgresOptions,
  type PostgresServer,
  startPostgres,
  type TestDatabase,
  testDatabaseUrl,
} from "./postgres";
