export { ServiceStartError } from "./errors";
export { type LocalDeployment, type NatsNode, startLocalDeployment } from "./infra-cluster";
export { type NatsServer, type NatsServerOptions, startNatsServer } from "./nats";
export {
  type AgentMintOptions,
  agentCredentialTags,
  agentPermissions,
  createNatsAuth,
  credsUserKey,
  type MintOptions,
  type NatsAuth,
  type NatsAuthSecrets,
  type UserMintOptions,
} from "./nats-auth";
export { findFreePort } from "./ports";
export { type PostgresOptions, type PostgresServer, startPostgres } from "./postgres";
