/**
 * The files a multi-host NATS deployment needs from operator-mode credentials
 * (`createNatsAuth`): `accounts.conf` and `app-account.conf` for the configs under
 * `infra/nats`, and users minted from the permission templates in
 * `infra/nats/operator-mode/<name>-user.json`.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AgentId, credentialTags } from "@lg/protocol";
import { type Account, decode, encodeAccount, fromSeed, type Permissions } from "@nats-io/jwt";
import { agentCredentialTags, type NatsAuth } from "./nats-auth";

export const natsInfraDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../infra/nats");

/** A user template: the user claims (permissions, connection types) and a default expiry. */
export interface UserTemplate {
  description: string;
  expiresInSeconds: number | null;
  user: Permissions & { allowed_connection_types?: string[] };
}

export const USER_TEMPLATES = ["agent", "join", "coordinator", "leaf"] as const;
export type UserTemplateName = (typeof USER_TEMPLATES)[number];

/**
 * Reads `infra/nats/operator-mode/<name>-user.json`, with `{{AGENT_ID}}` replaced by `agentId`
 * (required by the agent and join templates, and checked: an id with a dot or a wildcard
 * would reach other agents' subjects).
 */
export async function readUserTemplate(name: UserTemplateName, agentId?: string): Promise<UserTemplate> {
  let text = await fs.readFile(path.join(natsInfraDir, "operator-mode", `${name}-user.json`), "utf8");
  if (text.includes("{{AGENT_ID}}")) {
    if (agentId === undefined) throw new Error(`the ${name} template needs an agent id`);
    if (!AgentId.safeParse(agentId).success) throw new Error(`'${agentId}' is not a valid agent id`);
    text = text.replaceAll("{{AGENT_ID}}", agentId);
  }
  return JSON.parse(text) as UserTemplate;
}

/**
 * The tags of a template's user JWT: an agent's id and role (`role`, default `pop`), a join
 * agent's id and `join`; none for the other templates, which take no role.
 */
export function templateTags(name: UserTemplateName, agentId: string | undefined, role?: string): string[] {
  if (role !== undefined && name !== "agent")
    throw new Error(`--role is for the agent template only (the ${name} template has no role)`);
  if (name === "agent" && agentId !== undefined) return agentCredentialTags(agentId, role ?? "pop");
  if (name === "join" && agentId !== undefined) return credentialTags(agentId, "join");
  return [];
}

/**
 * Mints a `.creds` file (text) for a user of the lg account from a template. An agent's role
 * (`pop` or `neutral`, default `pop`) goes into its JWT as a tag, which the coordinator reads in
 * operator mode.
 */
export async function mintFromTemplate(
  auth: Pick<NatsAuth, "mintUserCreds">,
  name: UserTemplateName,
  opts: { agentId?: string; role?: string; expiresInSeconds?: number | null } = {},
): Promise<string> {
  const template = await readUserTemplate(name, opts.agentId);
  const tags = templateTags(name, opts.agentId, opts.role);
  const expires = opts.expiresInSeconds === undefined ? template.expiresInSeconds : opts.expiresInSeconds;
  return auth.mintUserCreds(opts.agentId ? `${name}-${opts.agentId}` : name, {
    // The template's claims go into the user JWT as they are (permissions and connection types).
    permissions: template.user,
    ...(tags.length > 0 ? { tags } : {}),
    ...(expires !== null ? { expiresInSec: expires } : {}),
  });
}

/**
 * The text of `operator-mode/accounts.conf` (operator, system account, resolver preload) and
 * `operator-mode/app-account.conf` (the lg account's public key as `$LG_APP_ACCOUNT`, which
 * only leaf configs use — nats-server refuses a variable a config never reads).
 */
export function renderAccountsFiles(
  auth: Pick<
    NatsAuth,
    "operatorJwt" | "systemAccountPublicKey" | "systemAccountJwt" | "appAccountPublicKey" | "appAccountJwt"
  >,
  headers: { accounts?: string; appAccount?: string } = {},
): { accountsConf: string; appAccountConf: string } {
  const accountsConf = `${headers.accounts ?? ""}LG_SYSTEM_ACCOUNT: "${auth.systemAccountPublicKey}"
operator: "${auth.operatorJwt}"
system_account: $LG_SYSTEM_ACCOUNT

# Account JWTs are preloaded from this file; a changed account JWT (new limits, a revoked
# user) takes effect with \`nats-server --signal reload\`.
resolver: MEMORY
resolver_preload: {
  ${auth.systemAccountPublicKey}: "${auth.systemAccountJwt}"
  ${auth.appAccountPublicKey}: "${auth.appAccountJwt}"
}
`;
  const appAccountConf = `${headers.appAccount ?? ""}LG_APP_ACCOUNT: "${auth.appAccountPublicKey}"\n`;
  return { accountsConf, appAccountConf };
}

/** Revoked users of the lg account: user public key -> unix seconds (JWTs issued up to then are void). */
export type Revocations = Record<string, number>;

/**
 * The lg account's JWT re-signed by the operator with `revocations` added. Servers that load
 * it (`resolver_preload`, then `nats-server --signal reload`) disconnect the revoked users at
 * once and refuse them afterwards; everyone else stays connected.
 */
export async function appAccountJwtWithRevocations(
  auth: Pick<NatsAuth, "appAccountJwt" | "secrets">,
  revocations: Revocations,
): Promise<string> {
  const claims = decode<Account>(auth.appAccountJwt);
  const key = (seed: string) => fromSeed(new TextEncoder().encode(seed));
  return encodeAccount(
    claims.name,
    key(auth.secrets.appAccountSeed),
    { ...claims.nats, revocations: { ...claims.nats.revocations, ...revocations } },
    { signer: key(auth.secrets.operatorSeed) },
  );
}

/** The user public key and expiry (unix seconds, null for none) of a `.creds` file's JWT. */
export function credsUser(creds: string): { user: string; expiresAt: number | null } {
  const jwt = /-----BEGIN NATS USER JWT-----\s+(\S+)\s+/.exec(creds)?.[1];
  if (!jwt) throw new Error("not a NATS credentials file (no user JWT)");
  const claims = decode(jwt);
  return { user: claims.sub, expiresAt: claims.exp ?? null };
}
