import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { AgentId, agentInboxPrefix } from "@lg/protocol";
import { createUser, decode, encodeUser, fromSeed, type KeyPair, type User } from "@nats-io/jwt";
import template from "../../../../infra/nats/operator-mode/join-user.json" with { type: "json" };
import type { BridgeNatsAuth } from "./bridge";
import type { JoinPermissions } from "./nats-filter";

/**
 * What a reverse session's join agent may do on NATS, from the join user template
 * (`infra/nats/operator-mode/join-user.json`, bundled at build time): the same claims go into the
 * per-session user JWT the bridge connects with in operator mode, and into the bridge's own filter,
 * so nats-server and the bridge enforce one set of rules.
 */

type TemplateUser = {
  pub?: { allow?: string[]; deny?: string[] };
  sub?: { allow?: string[]; deny?: string[] };
  resp?: { max?: number; ttl?: number };
  allowed_connection_types?: string[];
};

const templateUser = template.user as TemplateUser;
// The filter reads allow lists only; a deny list in the template would be enforced by nats-server
// alone, so refuse to run with one rather than guard less than the server does.
if (templateUser.pub?.deny || templateUser.sub?.deny) {
  throw new Error("join-user.json has a deny list; the join bridge's filter only reads allow lists");
}

/** The join template's user claims for `agentId` (`{{AGENT_ID}}` filled in). */
export function joinUserClaims(agentId: string): Partial<User> {
  // An id with a dot or a wildcard would reach other agents' subjects.
  if (!AgentId.safeParse(agentId).success) throw new Error(`'${agentId}' is not a valid agent id`);
  return JSON.parse(JSON.stringify(templateUser).replaceAll("{{AGENT_ID}}", agentId)) as Partial<User>;
}

/** The subjects the bridge lets a join agent use (its template's allow lists and its own inbox). */
export function joinPermissions(agentId: string): JoinPermissions {
  const claims = joinUserClaims(agentId);
  return {
    publish: claims.pub?.allow ?? [],
    subscribe: claims.sub?.allow ?? [],
    replyTo: [`${agentInboxPrefix(agentId)}.>`],
  };
}

/** A session's NATS user: its JWT, and a signer of the server's nonce with its key. */
export interface JoinUser {
  jwt: string;
  publicKey: string;
  /** The CONNECT fields that authenticate as this user against `nonce`. */
  connectFields(nonce: string | undefined): Record<string, string>;
}

export interface JoinUserMinter {
  /** The account public key the users belong to. */
  account: string;
  /** The signing key's public key (listed in the account's `signing_keys`). */
  signer: string;
  /** A new user for one join connection, expiring with its session. */
  mint(agentId: string, expiresAt: Date): Promise<JoinUser>;
}

export class NatsSigningKeyError extends Error {
  override name = "NatsSigningKeyError";
}

/** The account a creds file's user belongs to (its JWT's `issuer_account`, else its issuer). */
export function credsAccount(creds: string): string {
  const jwt = /-----BEGIN NATS USER JWT-----\s+(\S+)\s+/.exec(creds)?.[1];
  if (!jwt) throw new NatsSigningKeyError("NATS_CREDS holds no user JWT");
  const claims = decode<User>(jwt);
  const account = claims.nats?.issuer_account ?? claims.iss;
  if (typeof account !== "string" || !account.startsWith("A"))
    throw new NatsSigningKeyError("NATS_CREDS: its user JWT names no account");
  return account;
}

/** An account signing key from its seed text (`SA…`); throws a one-line error otherwise. */
export function signingKeyFromSeed(seed: string): KeyPair {
  let kp: KeyPair;
  try {
    kp = fromSeed(new TextEncoder().encode(seed.trim()));
  } catch {
    throw new NatsSigningKeyError("it does not hold an nkey seed");
  }
  if (!kp.getPublicKey().startsWith("A"))
    throw new NatsSigningKeyError("it holds an nkey seed, but not an account signing key (SA…)");
  return kp;
}

/**
 * Mints per-session join users of `account`, signed with `signingKey` (a signing key listed in the
 * account, as `creds init` makes it).
 */
export function createJoinUserMinter(signingKey: KeyPair, account: string): JoinUserMinter {
  return {
    account,
    signer: signingKey.getPublicKey(),
    async mint(agentId, expiresAt) {
      const user = createUser();
      const jwt = await encodeUser(`join-${agentId}`, user, account, joinUserClaims(agentId), {
        signer: signingKey,
        // Whole seconds; nats-server cuts the connection at this time.
        exp: Math.ceil(expiresAt.getTime() / 1000),
      });
      return {
        jwt,
        publicKey: user.getPublicKey(),
        connectFields: (nonce) => ({
          jwt,
          ...(nonce === undefined
            ? {}
            : { sig: Buffer.from(user.sign(new TextEncoder().encode(nonce))).toString("base64url") }),
        }),
      };
    },
  };
}

/**
 * The lg account's signing-key seed from `LG_NATS_SIGNING_KEY`, read and checked at start. The
 * seed stays inside: printing or logging this object shows the file and the public key only.
 */
export class NatsSigningKey {
  readonly #key: KeyPair;
  readonly publicKey: string;

  constructor(
    readonly file: string,
    key: KeyPair,
  ) {
    this.#key = key;
    this.publicKey = key.getPublicKey();
  }

  keyPair(): KeyPair {
    return this.#key;
  }

  toJSON() {
    return { file: this.file, publicKey: this.publicKey };
  }

  [Symbol.for("nodejs.util.inspect.custom")]() {
    return `NatsSigningKey(${this.file}, ${this.publicKey})`;
  }
}

/** Reads a signing-key file (the seed text `SA…`, as `creds init` writes it); one-line errors. */
export function readSigningKeyFile(file: string): NatsSigningKey {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new NatsSigningKeyError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
  try {
    return new NatsSigningKey(file, signingKeyFromSeed(text));
  } catch (err) {
    throw new NatsSigningKeyError(`${file}: ${(err as Error).message}`);
  }
}

/**
 * How the join bridge authenticates to NATS, from the coordinator's settings: no NATS auth → none;
 * NATS_CREDS and a signing key → a minted user per connection (in the account of NATS_CREDS);
 * NATS_CREDS alone → unavailable (the bridge refuses join connections rather than dial anonymously).
 */
export async function bridgeNatsAuth(settings: {
  natsCreds: string | undefined;
  natsSigningKey: NatsSigningKey | undefined;
}): Promise<BridgeNatsAuth> {
  if (!settings.natsCreds) return { kind: "none" };
  if (!settings.natsSigningKey)
    return {
      kind: "unavailable",
      reason:
        "NATS_CREDS is set but LG_NATS_SIGNING_KEY is not: the bridge cannot make a NATS user for a join session",
    };
  const account = credsAccount(await readFile(settings.natsCreds, "utf8"));
  return { kind: "minted", minter: createJoinUserMinter(settings.natsSigningKey.keyPair(), account) };
}
