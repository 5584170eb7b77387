import crypto from "node:crypto";
import { type AgentRole, isJoinAgentId, type PresenceMessage, readCredentialTags } from "@lg/protocol";
import { fromPublic } from "@nats-io/nkeys";
import { z } from "zod";

/**
 * Who an agent is, decided by the coordinator rather than taken from what the agent says:
 *   - an id starting with `join-` is a reverse session's join agent: role `join`, always;
 *   - in operator mode (the coordinator has NATS_CREDS) the role is the `lg-role:` tag of the user
 *     JWT the agent sends with its presence, believed only when the JWT is signed by a trusted key
 *     of the coordinator's own account, is within its validity, and is tagged `lg-agent:<id>` for
 *     the agent whose presence subject it came on (the server lets only that agent's connection
 *     publish there, so a copied JWT is useless under another id);
 *   - without NATS auth (one trusted machine) the announced role is taken as given.
 */
export type RoleSource =
  | { kind: "announced" }
  | {
      kind: "credential";
      /** The account whose users the coordinator believes (its own). */
      account: string;
      /** Keys allowed to sign agents' user JWTs (the account key and signing keys), ready to verify with. */
      issuers: ReadonlyMap<string, crypto.KeyObject>;
    };

/** Why a presence message in operator mode did not prove a role (the label of `lg_presence_refused_total`). */
export const ROLE_REFUSALS = [
  "no-credential",
  "malformed",
  "untrusted-issuer",
  "bad-signature",
  "expired",
  "not-yet-valid",
  "other-agent",
  "no-role",
] as const;
export type RoleRefusal = (typeof ROLE_REFUSALS)[number];

export type RoleDecision = { role: AgentRole } | { refused: RoleRefusal; detail: string };

export class RoleSourceError extends Error {
  override name = "RoleSourceError";
}

/** Without NATS auth: roles as the agents announce them (except `join-` ids). */
export const announcedRoles = (): RoleSource => ({ kind: "announced" });

const USER_JWT = /-----BEGIN NATS USER JWT-----\s*([\w-]+\.[\w-]+\.[\w-]*)/;
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/** An nkey is a prefix byte, the 32-byte ed25519 public key and a 2-byte checksum, in base32. */
const NKEY_RAW = { start: 1, end: 33 };

function base32Decode(text: string): Buffer {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of text) {
    const v = BASE32.indexOf(ch);
    if (v < 0) throw new RoleSourceError(`'${text}' is not a NATS public key`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/**
 * An account public key (`A…`: the account itself or one of its signing keys) as a key Node's
 * crypto verifies with (native ed25519: ~100x faster than the pure-JS nkeys verify).
 */
export function accountKeyObject(key: string): crypto.KeyObject {
  try {
    fromPublic(key); // checks the prefix and the checksum
  } catch {
    throw new RoleSourceError(`'${key}' is not a NATS public key`);
  }
  if (!key.startsWith("A")) throw new RoleSourceError(`'${key}' is not an account or signing key (A…)`);
  const raw = base32Decode(key).subarray(NKEY_RAW.start, NKEY_RAW.end);
  return crypto.createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") },
    format: "jwk",
  });
}

const JwtHeader = z.object({ typ: z.string().regex(/^jwt$/i), alg: z.literal("ed25519-nkey") });
const UserClaims = z.object({
  iss: z.string(),
  sub: z.string(),
  exp: z.number().optional(),
  nbf: z.number().optional(),
  nats: z.object({
    type: z.literal("user"),
    issuer_account: z.string().optional(),
    tags: z.array(z.string()).optional(),
  }),
});

function parseJson(part: string | undefined): unknown {
  return JSON.parse(Buffer.from(part ?? "", "base64url").toString("utf8"));
}

/**
 * In operator mode: the coordinator's creds file names its account and the key that signed it;
 * agents' user JWTs signed by that key or by the account itself are believed, and by
 * `extraIssuers` too (another signing key of the same account, after a rotation).
 */
export function credentialRoles(coordinatorCreds: string, extraIssuers: readonly string[] = []): RoleSource {
  const jwt = USER_JWT.exec(coordinatorCreds)?.[1];
  if (!jwt) throw new RoleSourceError("NATS_CREDS holds no user JWT");
  let claims: z.infer<typeof UserClaims>;
  try {
    claims = UserClaims.parse(parseJson(jwt.split(".")[1]));
  } catch {
    throw new RoleSourceError("NATS_CREDS: the user JWT cannot be read");
  }
  const account = claims.nats.issuer_account ?? claims.iss;
  const issuers = new Map<string, crypto.KeyObject>();
  for (const key of new Set([claims.iss, account, ...extraIssuers])) issuers.set(key, accountKeyObject(key));
  return { kind: "credential", account, issuers };
}

/**
 * The role to record for a presence message that arrived on `subjectAgentId`'s subject, or why
 * none can be. `nowSec` is unix seconds.
 */
export function decideRole(
  source: RoleSource,
  subjectAgentId: string,
  message: Pick<PresenceMessage, "agent" | "userJwt">,
  nowSec = Date.now() / 1000,
): RoleDecision {
  if (isJoinAgentId(subjectAgentId)) return { role: "join" };
  if (source.kind === "announced") return { role: message.agent.role };
  const jwt = message.userJwt;
  if (!jwt) return { refused: "no-credential", detail: "the presence carries no user JWT" };
  const [h, b, s] = jwt.split(".");
  let claims: z.infer<typeof UserClaims>;
  try {
    JwtHeader.parse(parseJson(h));
    claims = UserClaims.parse(parseJson(b));
  } catch {
    return { refused: "malformed", detail: "the user JWT is not a NATS user JWT (ed25519-nkey)" };
  }
  const key = source.issuers.get(claims.iss);
  if (!key || (claims.nats.issuer_account ?? claims.iss) !== source.account)
    return { refused: "untrusted-issuer", detail: `signed by ${claims.iss}, not a key of this account` };
  const signature = Buffer.from(s ?? "", "base64url");
  if (signature.length !== 64 || !crypto.verify(null, Buffer.from(`${h}.${b}`), key, signature))
    return { refused: "bad-signature", detail: "the user JWT's signature does not verify" };
  if (claims.exp !== undefined && claims.exp <= nowSec)
    return { refused: "expired", detail: `the user JWT expired at ${claims.exp}` };
  if (claims.nbf !== undefined && claims.nbf > nowSec)
    return { refused: "not-yet-valid", detail: `the user JWT is valid from ${claims.nbf}` };
  const tags = readCredentialTags(claims.nats.tags);
  if (tags.agentId !== subjectAgentId)
    return {
      refused: "other-agent",
      detail: `the user JWT is for agent '${tags.agentId ?? "(none)"}', not '${subjectAgentId}'`,
    };
  if (!tags.role) return { refused: "no-role", detail: "the user JWT names no role (lg-role:pop|neutral)" };
  return { role: tags.role };
}
