import { type AgentRole, credentialTags } from "@lg/protocol";
import { presenceOf } from "@lg/protocol/testing";
import { createNatsAuth, type NatsAuth } from "@lg/services";
import { createAccount, createUser, encodeUser, fromSeed } from "@nats-io/jwt";
import { beforeAll, describe, expect, it } from "vitest";
import { accountKeyObject, announcedRoles, credentialRoles, decideRole, type RoleSource } from "./roles";

const jwtOf = (creds: string) => /-----BEGIN NATS USER JWT-----\s*(\S+)/.exec(creds)?.[1] as string;
const presence = (id: string, role: AgentRole, userJwt?: string) => presenceOf(id, { role }, { userJwt });

/** The payload of a JWT changed, its signature kept (a tampered credential). */
function tamper(jwt: string, change: (claims: { nats: { tags: string[] } }) => void): string {
  const [h, b, s] = jwt.split(".") as [string, string, string];
  const claims = JSON.parse(Buffer.from(b, "base64url").toString("utf8"));
  change(claims);
  return `${h}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${s}`;
}

describe("agent roles: who decides", () => {
  let auth: NatsAuth;
  let roles: RoleSource;
  const signer = () => fromSeed(new TextEncoder().encode(auth.secrets.appSigningKeySeed));

  beforeAll(async () => {
    auth = await createNatsAuth();
    roles = credentialRoles(await auth.mintUserCreds("coordinator"));
  });

  it("a join- id is a join agent whatever it announces, with or without NATS auth", () => {
    expect(decideRole(announcedRoles(), "join-abc", presence("join-abc", "pop"))).toEqual({ role: "join" });
    expect(decideRole(roles, "join-abc", presence("join-abc", "neutral"))).toEqual({ role: "join" });
  });

  it("without NATS auth the announced role is taken as given", () => {
    expect(decideRole(announcedRoles(), "vm", presence("vm", "neutral"))).toEqual({ role: "neutral" });
  });

  it("in operator mode the credential's role wins over the announced one", async () => {
    const pop = jwtOf(await auth.mintAgentCreds("fra"));
    expect(decideRole(roles, "fra", presence("fra", "neutral", pop))).toEqual({ role: "pop" });
    const neutral = jwtOf(await auth.mintAgentCreds("vm", { role: "neutral" }));
    expect(decideRole(roles, "vm", presence("vm", "pop", neutral))).toEqual({ role: "neutral" });
  });

  it("in operator mode a presence without a credential, or with a bad one, proves nothing", async () => {
    const own = jwtOf(await auth.mintAgentCreds("x", { role: "neutral" }));
    const refused = (jwt: string | undefined) =>
      (decideRole(roles, "x", presence("x", "pop", jwt)) as { refused?: string }).refused;
    expect(refused(undefined)).toBe("no-credential");
    expect(refused("not-a-jwt")).toBe("malformed");
    // Its own neutral credential, the role tag rewritten to pop.
    expect(refused(tamper(own, (c) => (c.nats.tags = credentialTags("x", "pop"))))).toBe("bad-signature");
    // Unsigned.
    expect(refused(`${own.split(".").slice(0, 2).join(".")}.`)).toBe("bad-signature");
    // Another agent's (valid, pop) credential.
    expect(refused(jwtOf(await auth.mintAgentCreds("fra")))).toBe("other-agent");
    // Forged: the real account named as issuer, signed with the attacker's own key.
    const forged = await encodeUser(
      "agent-x",
      createUser(),
      auth.appAccountPublicKey,
      { tags: credentialTags("x", "pop") },
      { signer: createAccount() },
    );
    expect(refused(forged)).toBe("untrusted-issuer");
    // Another deployment's credential (its own account and signing key).
    const other = await createNatsAuth();
    expect(refused(jwtOf(await other.mintAgentCreds("x")))).toBe("untrusted-issuer");
    // Expired and not yet valid, properly signed.
    const now = Math.floor(Date.now() / 1000);
    const sign = (opts: { exp?: number; nbf?: number }) =>
      encodeUser(
        "agent-x",
        createUser(),
        auth.appAccountPublicKey,
        { tags: credentialTags("x", "pop") },
        {
          signer: signer(),
          ...opts,
        },
      );
    expect(refused(await sign({ exp: now - 1 }))).toBe("expired");
    expect(refused(await sign({ nbf: now + 3600 }))).toBe("not-yet-valid");
    // Valid, but not an agent's credential (no tags at all).
    expect(refused(jwtOf(await auth.mintUserCreds("x")))).toBe("other-agent");
    const untagged = await encodeUser(
      "x",
      createUser(),
      auth.appAccountPublicKey,
      {
        tags: ["lg-agent:x"],
      },
      { signer: signer() },
    );
    expect(refused(untagged)).toBe("no-role");
    // The control: the same path accepts the agent's own credential.
    expect(decideRole(roles, "x", presence("x", "pop", own))).toEqual({ role: "neutral" });
  });

  it("a credential signed by the account key itself, or by an extra signing key named in LG_ROLE_ISSUERS, is believed", async () => {
    const account = fromSeed(new TextEncoder().encode(auth.secrets.appAccountSeed));
    const byAccount = await encodeUser("x", createUser(), account, { tags: credentialTags("x", "neutral") });
    expect(decideRole(roles, "x", presence("x", "pop", byAccount))).toEqual({ role: "neutral" });

    const rotated = createAccount();
    const byRotated = await encodeUser(
      "x",
      createUser(),
      auth.appAccountPublicKey,
      {
        tags: credentialTags("x", "neutral"),
      },
      { signer: rotated },
    );
    expect((decideRole(roles, "x", presence("x", "pop", byRotated)) as { refused?: string }).refused).toBe(
      "untrusted-issuer",
    );
    const withRotated = credentialRoles(await auth.mintUserCreds("coordinator"), [rotated.getPublicKey()]);
    expect(decideRole(withRotated, "x", presence("x", "pop", byRotated))).toEqual({ role: "neutral" });
  });

  it("refuses an issuer setting that is not an account key", () => {
    expect(() => accountKeyObject(createUser().getPublicKey())).toThrow(/not an account or signing key/);
    expect(() => accountKeyObject("AAAA")).toThrow(/not a NATS public key/);
  });
});
