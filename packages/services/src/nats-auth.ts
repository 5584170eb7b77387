import { AgentId, type AgentRole, credentialTags, isJoinAgentId } from "@lg/protocol";
import {
  createAccount,
  createOperator,
  createUser,
  decode,
  encodeAccount,
  encodeOperator,
  encodeUser,
  fmtCreds,
  fromSeed,
  type KeyPair,
  type Permissions,
} from "@nats-io/jwt";

/**
 * NATS decentralized (operator-mode) authentication, the model nats-server 2.9 offers for
 * credentials issued at run time: an operator signs two accounts (the system account and the
 * application account `LG`); the application account lists a *signing key* with which user JWTs
 * (agents, the coordinator, join sessions) are minted at any time, each with its own permissions
 * and expiry. The server learns the accounts from `resolver: MEMORY` + `resolver_preload`.
 */

/**
 * Signings of one user JWT before giving up on `exp - iat = lifetime`: a retry is needed only when
 * a second boundary falls in the microseconds between two clock reads, so a third is never needed
 * unless the clock steps twice in a row.
 */
const MAX_SIGN_ATTEMPTS = 3;

/** The seeds everything else is derived from; keep them secret (they are what `createNatsAuth` reloads). */
export interface NatsAuthSecrets {
  operatorSeed: string;
  systemAccountSeed: string;
  appAccountSeed: string;
  appSigningKeySeed: string;
}

export interface MintOptions {
  /**
   * Lifetime in whole seconds (rounded up): `exp` is `iat` + this, and `iat` is the current second
   * rounded down, so the credentials expire between this - 1 and this seconds from now; the server
   * cuts the connection then.
   */
  expiresInSec?: number;
}

/** An agent's credentials: its role travels in them (tags `lg-role:<role>`, `lg-agent:<id>`). */
export interface AgentMintOptions extends MintOptions {
  /** What the coordinator will take this agent for in operator mode; default `pop`. */
  role?: Exclude<AgentRole, "join">;
}

/** A user's claims beyond its permissions. */
export interface UserMintOptions extends MintOptions {
  /** No permissions means everything. */
  permissions?: Permissions;
  /** `nats.tags` of the user JWT (e.g. an agent's role, see `credentialTags` in `@lg/protocol`). */
  tags?: string[];
}

export interface NatsAuth {
  operatorPublicKey: string;
  systemAccountPublicKey: string;
  appAccountPublicKey: string;
  operatorJwt: string;
  systemAccountJwt: string;
  appAccountJwt: string;
  /** nats-server configuration text for operator mode; pass it as `startNatsServer({ config })`. */
  serverConfig: string;
  secrets: NatsAuthSecrets;
  /**
   * A creds file (text) for agent `agentId`: publish only `lg.result.<id>.>` and
   * `lg.presence.<id>`, subscribe only `lg.agent.<id>.>` and its inbox `_INBOX_<id>.>`, and answer
   * one reply per request it receives. Its JWT is tagged with the agent's id and role (`pop`
   * unless `opts.role`), which the coordinator reads in operator mode.
   */
  mintAgentCreds(agentId: string, opts?: AgentMintOptions): Promise<string>;
  /** A creds file for any user of the application account; no `permissions` means everything. */
  mintUserCreds(name: string, opts?: UserMintOptions): Promise<string>;
  /**
   * The server configuration with these users revoked (user public key -> unix seconds: their
   * credentials issued up to then no longer work). Write it in place of `serverConfig` and send
   * nats-server SIGHUP: the server cuts the revoked users' connections and refuses them, and
   * everyone else stays connected.
   */
  serverConfigRevoking(revocations: Record<string, number>): Promise<string>;
}

/** The user public key a creds file authenticates as (the `sub` of its JWT). */
export function credsUserKey(creds: string): string {
  const jwt = /-----BEGIN NATS USER JWT-----\s*([\w.-]+)/.exec(creds)?.[1];
  const payload = jwt?.split(".")[1];
  if (!payload) throw new Error("not a NATS creds file");
  const sub = (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { sub?: unknown }).sub;
  if (typeof sub !== "string") throw new Error("the creds file's JWT has no subject");
  return sub;
}

/** The permissions of an agent, confining it to its own jobs, results, presence and inbox. */
export function agentPermissions(agentId: string): Permissions {
  // An id with a wildcard (`*`, `>`) or a dot would widen the permissions to other agents' subjects.
  if (!AgentId.safeParse(agentId).success) throw new Error(`'${agentId}' is not a valid agent id`);
  return {
    pub: { allow: [`lg.result.${agentId}.>`, `lg.presence.${agentId}`] },
    sub: { allow: [`lg.agent.${agentId}.>`, `_INBOX_${agentId}.>`] },
    // Lets the agent answer the coordinator's job requests (one reply each).
    resp: { max: 1 },
  };
}

/**
 * The tags of a probe agent's credentials. Refuses a role other than `pop`/`neutral` and a
 * `join-` id: those belong to reverse-session join agents, which the coordinator always takes
 * for `join`, so such a credential would not do what its minter meant.
 */
export function agentCredentialTags(agentId: string, role: string): string[] {
  if (role !== "pop" && role !== "neutral") throw new Error(`role must be 'pop' or 'neutral', not '${role}'`);
  if (isJoinAgentId(agentId))
    throw new Error(`'${agentId}': ids starting with 'join-' are reserved for reverse-session join agents`);
  return credentialTags(agentId, role);
}

/** -1 means unlimited; an account with empty limits may open no connection at all. */
const UNLIMITED = {
  subs: -1,
  data: -1,
  payload: -1,
  imports: -1,
  exports: -1,
  wildcards: true,
  conn: -1,
  leaf: -1,
};
/** JetStream limits must be set, or JetStream is "not enabled for account". */
const JETSTREAM_UNLIMITED = { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 };

const seedText = (kp: KeyPair) => new TextDecoder().decode(kp.getSeed());
const keyFrom = (seed: string) => fromSeed(new TextEncoder().encode(seed));

/**
 * Creates (or, given `secrets`, re-creates) the operator, the system account and the application
 * account with its signing key, and the server configuration that trusts them.
 *
 * @example
 * const auth = await createNatsAuth();
 * const nats = await startNatsServer({ dataDir, config: auth.serverConfig });
 * fs.writeFileSync("fra.creds", await auth.mintAgentCreds("fra", { expiresInSec: 3600 }));
 */
export async function createNatsAuth(
  opts: { secrets?: NatsAuthSecrets; operatorName?: string } = {},
): Promise<NatsAuth> {
  const operator = opts.secrets ? keyFrom(opts.secrets.operatorSeed) : createOperator();
  const system = opts.secrets ? keyFrom(opts.secrets.systemAccountSeed) : createAccount();
  const app = opts.secrets ? keyFrom(opts.secrets.appAccountSeed) : createAccount();
  const signing = opts.secrets ? keyFrom(opts.secrets.appSigningKeySeed) : createAccount();

  const operatorJwt = await encodeOperator(opts.operatorName ?? "lg", operator, {
    system_account: system.getPublicKey(),
  });
  const systemAccountJwt = await encodeAccount("SYS", system, { limits: UNLIMITED }, { signer: operator });
  const encodeApp = (revocations?: Record<string, number>) =>
    encodeAccount(
      "LG",
      app,
      {
        limits: { ...UNLIMITED, ...JETSTREAM_UNLIMITED },
        signing_keys: [signing.getPublicKey()],
        ...(revocations ? { revocations } : {}),
      },
      { signer: operator },
    );
  const configWith = (appJwt: string) =>
    [
      `operator: ${operatorJwt}`,
      `system_account: ${system.getPublicKey()}`,
      "resolver: MEMORY",
      "resolver_preload: {",
      `  ${system.getPublicKey()}: ${systemAccountJwt}`,
      `  ${app.getPublicKey()}: ${appJwt}`,
      "}",
    ].join("\n");
  const appAccountJwt = await encodeApp();
  const serverConfig = configWith(appAccountJwt);

  const mintUserCreds = async (name: string, mint: UserMintOptions = {}) => {
    const user = createUser();
    const claims = { ...(mint.permissions ?? {}), ...(mint.tags ? { tags: mint.tags } : {}) };
    const lifetime = mint.expiresInSec !== undefined ? Math.ceil(mint.expiresInSec) : undefined;
    let jwt = "";
    // exp is exactly iat + lifetime. The library stamps iat from its own clock read, after ours:
    // when a second boundary falls between the two, sign again (both reads then fall in one second).
    for (let attempt = 1; ; attempt++) {
      const exp = lifetime !== undefined ? Math.floor(Date.now() / 1000) + lifetime : undefined;
      // Signed by the account's signing key (not the account key), so it can be rotated.
      jwt = await encodeUser(name, user, app.getPublicKey(), claims, {
        signer: signing,
        ...(exp !== undefined ? { exp } : {}),
      });
      if (exp === undefined || exp - decode(jwt).iat === lifetime) break;
      if (attempt >= MAX_SIGN_ATTEMPTS)
        throw new Error(`could not sign ${name}'s credentials: the clock keeps jumping`);
    }
    return new TextDecoder().decode(fmtCreds(jwt, user));
  };

  return {
    operatorPublicKey: operator.getPublicKey(),
    systemAccountPublicKey: system.getPublicKey(),
    appAccountPublicKey: app.getPublicKey(),
    operatorJwt,
    systemAccountJwt,
    appAccountJwt,
    serverConfig,
    secrets: {
      operatorSeed: seedText(operator),
      systemAccountSeed: seedText(system),
      appAccountSeed: seedText(app),
      appSigningKeySeed: seedText(signing),
    },
    mintAgentCreds: async (agentId, { role = "pop", ...mint } = {}) =>
      mintUserCreds(`agent-${agentId}`, {
        ...mint,
        permissions: agentPermissions(agentId),
        tags: agentCredentialTags(agentId, role),
      }),
    mintUserCreds,
    serverConfigRevoking: async (revocations) => configWith(await encodeApp(revocations)),
  };
}
