/**
 * Test support for the checked-in deployment files under `infra/` and `deploy/`: fresh
 * operator-mode keys, users minted from the permission templates in
 * `infra/nats/operator-mode/*.json`, and copies of the nats-server configs moved to free
 * ports and temporary folders. Used only by the `infra-*.test.ts` files.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { createNatsAuth, type NatsAuth } from "./nats-auth";
import { mintFromTemplate, natsInfraDir, renderAccountsFiles, type UserTemplateName } from "./nats-deploy";
import { findFreePort } from "./ports";

export { natsInfraDir };
export const repoRoot = path.resolve(natsInfraDir, "../..");

export interface OperatorModeKeys {
  auth: NatsAuth;
  /** The text of `operator-mode/accounts.conf` for these keys. */
  accountsConf: string;
  /** The text of `operator-mode/app-account.conf` (the lg account's public key, for leaf remotes). */
  appAccountConf: string;
  /** Mints a user of the lg account from a template; returns the `.creds` file text. */
  mintUser(template: UserTemplateName, agentId?: string): Promise<string>;
}

/** Fresh operator-mode keys, as an operator creates them once per deployment. */
export async function createOperatorModeKeys(): Promise<OperatorModeKeys> {
  const auth = await createNatsAuth();
  return {
    auth,
    ...renderAccountsFiles(auth),
    mintUser: (template, agentId) => mintFromTemplate(auth, template, agentId ? { agentId } : {}),
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
      .replaceAll("/etc/nats/lg/", `${dir}/creds/`);
    await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fs.writeFile(path.join(dir, file), text);
  }
  await fs.mkdir(path.join(dir, "creds"), { recursive: true });
  return ports;
}
