import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { createAccount, createUser, decode, fmtCreds, fromPublic, type User } from "@nats-io/jwt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// The template as the deployment tools read it (`creds mint --template join`).
import { readUserTemplate } from "../../../../packages/services/src/nats-deploy";
import { ConfigError, loadConfig } from "../config";
import {
  bridgeNatsAuth,
  createJoinUserMinter,
  credsAccount,
  joinPermissions,
  joinUserClaims,
  readSigningKeyFile,
} from "./join-credentials";

const seedOf = (kp: { getSeed(): Uint8Array }) => new TextDecoder().decode(kp.getSeed());

describe("join session NATS users", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lg-joincreds-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("the claims are the join template's, as the deployment tool reads it, for the session's agent", async () => {
    expect(joinUserClaims("join-abc")).toEqual((await readUserTemplate("join", "join-abc")).user);
    expect(joinPermissions("join-abc")).toEqual({
      publish: ["lg.result.join-abc.>", "lg.presence.join-abc"],
      subscribe: ["lg.agent.join-abc.>", "_INBOX_join-abc.>"],
      replyTo: ["_INBOX_join-abc.>"],
    });
  });

  it("an agent id with a dot or a wildcard is refused (it would reach other agents' subjects)", () => {
    for (const id of ["a.b", "*", ">", "a b", ""])
      expect(() => joinUserClaims(id), id).toThrow(/not a valid agent id/);
  });

  it("a minted user is signed by the signing key for the account, expires with the session, and signs the nonce", async () => {
    const account = createAccount();
    const signing = createAccount();
    const minter = createJoinUserMinter(signing, account.getPublicKey());
    const expiresAt = new Date(Date.now() + 900_500);
    const user = await minter.mint("join-abc", expiresAt);
    const claims = decode<User>(user.jwt);
    expect(claims.iss).toBe(signing.getPublicKey());
    expect(claims.sub).toBe(user.publicKey);
    expect(claims.name).toBe("join-join-abc");
    expect(claims.exp).toBe(Math.ceil(expiresAt.getTime() / 1000));
    expect(claims.nats.issuer_account).toBe(account.getPublicKey());
    expect(claims.nats.pub?.allow).toEqual(["lg.result.join-abc.>", "lg.presence.join-abc"]);
    expect(claims.nats.resp).toEqual({ max: 1 });
    const fields = user.connectFields("nonce-1");
    expect(fields.jwt).toBe(user.jwt);
    const sig = Buffer.from(fields.sig as string, "base64url");
    expect(fromPublic(user.publicKey).verify(new TextEncoder().encode("nonce-1"), sig)).toBe(true);
    // Each connection is its own user.
    expect((await minter.mint("join-abc", expiresAt)).publicKey).not.toBe(user.publicKey);
  });

  it("the account comes from the coordinator's own credentials", async () => {
    const account = createAccount();
    const signing = createAccount();
    const minter = createJoinUserMinter(signing, account.getPublicKey());
    const u = createUser();
    const creds = new TextDecoder().decode(
      fmtCreds((await minter.mint("join-x", new Date(Date.now() + 60_000))).jwt, u),
    );
    expect(credsAccount(creds)).toBe(account.getPublicKey());
    expect(() => credsAccount("nothing here")).toThrow(/no user JWT/);
  });

  it("a signing-key file is read once and its seed never shows in logs or JSON", async () => {
    const signing = createAccount();
    const file = join(dir, "signing.nk");
    await writeFile(file, `${seedOf(signing)}\n`);
    const key = readSigningKeyFile(file);
    expect(key.publicKey).toBe(signing.getPublicKey());
    expect(JSON.stringify({ key })).not.toContain(seedOf(signing));
    expect(inspect({ key }, { depth: 5 })).not.toContain(seedOf(signing));
    // No account seed at all (an "SA" word); "SA" inside the public key's base32 is chance (1 run in ~20).
    expect(inspect({ key }, { depth: 5 })).not.toMatch(/(^|[^A-Z2-7])SA[A-Z2-7]{50,}/);
  });

  it("a missing file, a user seed or garbage in it is a one-line error", async () => {
    expect(() => readSigningKeyFile(join(dir, "nope"))).toThrow(/cannot read .*nope \(ENOENT\)/);
    const user = join(dir, "user.nk");
    await writeFile(user, seedOf(createUser()));
    expect(() => readSigningKeyFile(user)).toThrow(/not an account signing key/);
    const junk = join(dir, "junk.nk");
    await writeFile(junk, "hello");
    expect(() => readSigningKeyFile(junk)).toThrow(/does not hold an nkey seed/);
  });

  it("LG_NATS_SIGNING_KEY is checked at start and needs NATS_CREDS", async () => {
    const file = join(dir, "ok.nk");
    await writeFile(file, seedOf(createAccount()));
    const base = { NATS_URL: "nats://127.0.0.1:4222" };
    expect(() => loadConfig({ ...base, LG_NATS_SIGNING_KEY: file })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, LG_NATS_SIGNING_KEY: file })).toThrow(
      /LG_NATS_SIGNING_KEY needs NATS_CREDS/,
    );
    expect(() =>
      loadConfig({ ...base, NATS_CREDS: "/x.creds", LG_NATS_SIGNING_KEY: join(dir, "none") }),
    ).toThrow(/^LG_NATS_SIGNING_KEY: cannot read/);
    const config = loadConfig({ ...base, NATS_CREDS: "/x.creds", LG_NATS_SIGNING_KEY: file });
    expect(config.natsSigningKey?.file).toBe(file);
    expect(loadConfig(base).natsSigningKey).toBeUndefined();
  });

  it("without NATS auth the bridge dials as it is; with NATS_CREDS but no signing key it is unavailable", async () => {
    expect(await bridgeNatsAuth({ natsCreds: undefined, natsSigningKey: undefined })).toEqual({
      kind: "none",
    });
    const unavailable = await bridgeNatsAuth({ natsCreds: "/x.creds", natsSigningKey: undefined });
    expect(unavailable.kind).toBe("unavailable");
    expect(unavailable.kind === "unavailable" && unavailable.reason).toMatch(/LG_NATS_SIGNING_KEY is not/);
  });
});
