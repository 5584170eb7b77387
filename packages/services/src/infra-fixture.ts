/**
 * Test support for the checked-in deployment files under `infra/` and `deploy/`: fresh
 * operator-mode keys, users minted from the permission templates in
 * `infra/nats/operator-mode/*.json`, and copies of the nats-server configs moved to free
 * ports and temporary folders. Used only by the `infra-*.test.ts` files.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  createAccount,
  createOperator,
  createUser,
  encodeAccount,
  encodeOperator,
  encodeUser,
  fmtCreds,
  type KeyPair,
  type User,
} from "@nats-io/jwt";
import { findFreePort } from "./ports";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const natsInfraDir = path.join(repoRoot, "infra/nats");

/** Limits of the lg account: -1 is unlimited; a missing limit is zero (no connections, no JetStream). */
const appAccountLimits = {
  conn: -1,
  subs: -1,
  data: -1,
  payload: -1,
  imports: -1,
  exports: -1,
  wildcards: true,
  leaf: -1,
  mem_storage: -1,
  disk_storage: -1,
  streams: -1,
  consumer: -1,
};
const systemAccountLimits = {
  conn: -1,
  subs: -1,
  data: -1,
  payload: -1,
  imports: -1,
  exports: -1,
  wildcards: true,
  leaf: -1,
};

export interface UserTemplate {
  description: string;
  expiresInSeconds: number | null;
  user: Partial<User>;
}

/** Reads `infra/nats/operator-mode/<name>-user.json` with `{{AGENT_ID}}` replaced. */
export async function readUserTemplate(
  name: string,
  vars: Record<string, string> = {},
): Promise<UserTemplate> {
  let text = await fs.readFile(path.join(natsInfraDir, "operator-mode", `${name}-user.json`), "utf8");
  for (const [key, value] of Object.entries(vars)) text = text.replaceAll(`{{${key}}}`, value);
  const leftover = /\{\{[A-Z_]+\}\}/.exec(text);
  if (leftover) throw new Error(`template ${name} still has ${leftover[0]}`);
  return JSON.parse(text) as UserTemplate;
}

export interface OperatorModeKeys {
  systemAccount: string;
  appAccount: string;
  /** The text of `operator-mode/accounts.conf` for these keys. */
  accountsConf: string;
  /** The text of `operator-mode/app-account.conf` (the lg account's public key, for leaf remotes). */
  appAccountConf: string;
  /** Mints a user of the lg account from a template; returns the `.creds` file text. */
  mintUser(template: string, vars?: Record<string, string>): Promise<string>;
}

/**
 * Creates an operator, a system account and the lg account (with a signing key), as an
 * operator would once per deployment.
 */
export async function createOperatorModeKeys(
  headers: { accounts?: string; appAccount?: string } = {},
): Promise<OperatorModeKeys> {
  const operator = createOperator();
  const system = createAccount();
  const app = createAccount();
  const signingKey: KeyPair = createAccount();
  const operatorJwt = await encodeOperator("lg", operator, { system_account: system.getPublicKey() });
  const systemJwt = await encodeAccount("SYS", system, { limits: systemAccountLimits }, { signer: operator });
  const appJwt = await encodeAccount(
    "lg",
    app,
    { limits: appAccountLimits, signing_keys: [signingKey.getPublicKey()] },
    { signer: operator },
  );
  const accountsConf = `${headers.accounts ?? ""}LG_SYSTEM_ACCOUNT: "${system.getPublicKey()}"
operator: "${operatorJwt}"
system_account: $LG_SYSTEM_ACCOUNT

# Account JWTs are preloaded from this file; a changed account JWT (new limits, a revoked
# user) takes effect with \`nats-server --signal reload\`.
resolver: MEMORY
resolver_preload: {
  ${system.getPublicKey()}: "${systemJwt}"
  ${app.getPublicKey()}: "${appJwt}"
}
`;
  // A separate file: nats-server refuses a variable that the including config never uses.
  const appAccountConf = `${headers.appAccount ?? ""}LG_APP_ACCOUNT: "${app.getPublicKey()}"\n`;
  return {
    appAccountConf,
    systemAccount: system.getPublicKey(),
    appAccount: app.getPublicKey(),
    accountsConf,
    async mintUser(template, vars = {}) {
      const t = await readUserTemplate(template, vars);
      const user = createUser();
      const exp = t.expiresInSeconds === null ? 0 : Math.floor(Date.now() / 1000) + t.expiresInSeconds;
      const jwt = await encodeUser(
        `${template} ${vars.AGENT_ID ?? ""}`.trim(),
        user,
        signingKey,
        { ...t.user, issuer_account: app.getPublicKey() },
        exp > 0 ? { exp } : {},
      );
      return new TextDecoder().decode(fmtCreds(jwt, user));
    },
  };
}

/** Runs `nats-server -t -c FILE`; returns its exit status and output. */
export function checkNatsConfig(file: string): { status: number | null; output: string } {
  const result = spawnSync("nats-server", ["-t", "-c", file], { encoding: "utf8", timeout: 30_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

/**
 * Copies the checked-in NATS configs into `dir` (keeping the `cluster/`, `leaf/`,
 * `operator-mode/` layout so includes still resolve), with every loopback port moved to a
 * free one, store directories under `dir`, and the leaf's credentials file in `dir`.
 * Returns the port map (checked-in port -> free port).
 */
export async function renderNatsConfigs(
  dir: string,
  keys: Pick<OperatorModeKeys, "accountsConf" | "appAccountConf">,
): Promise<Map<number, number>> {
  const files = [
    "cluster/node-1.conf",
    "cluster/node-2.conf",
    "cluster/node-3.conf",
    "leaf/region-leaf.conf",
  ];
  const ports = new Map<number, number>();
  const texts = await Promise.all(files.map((f) => fs.readFile(path.join(natsInfraDir, f), "utf8")));
  for (const text of texts) {
    for (const m of text.matchAll(/127\.0\.0\.1:(\d+)/g)) ports.set(Number(m[1]), 0);
  }
  for (const port of ports.keys()) ports.set(port, await findFreePort());
  await fs.mkdir(path.join(dir, "operator-mode"), { recursive: true });
  await fs.writeFile(path.join(dir, "operator-mode/accounts.conf"), keys.accountsConf);
  await fs.writeFile(path.join(dir, "operator-mode/app-account.conf"), keys.appAccountConf);
  for (const [i, file] of files.entries()) {
    const text = (texts[i] as string)
      .replace(/127\.0\.0\.1:(\d+)/g, (_, p: string) => `127.0.0.1:${ports.get(Number(p))}`)
      .replaceAll("/var/lib/nats/", `${dir}/store/`)
      .replaceAll("/etc/lg/nats/", `${dir}/creds/`);
    await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fs.writeFile(path.join(dir, file), text);
  }
  await fs.mkdir(path.join(dir, "creds"), { recursive: true });
  return ports;
}
