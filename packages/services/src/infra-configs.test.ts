import { spawnSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { agentInboxPrefix, subjects } from "@lg/protocol";
import { decode } from "@nats-io/jwt";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "./infra-cluster";
import { checkNatsConfig, natsInfraDir, renderNatsConfigs, repoRoot } from "./infra-fixture";
import { startNatsServer } from "./nats";
import { agentPermissions } from "./nats-auth";
import { readUserTemplate } from "./nats-deploy";

async function confFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(".conf"))
    .map((e) => path.join(e.parentPath, e.name));
}

/** Files named by an `include` in a config, resolved against the including file. */
async function includesOf(file: string): Promise<string[]> {
  const text = await fs.readFile(file, "utf8");
  return [...text.matchAll(/^\s*include\s+"([^"]+)"/gm)].map((m) =>
    path.resolve(path.dirname(file), m[1] as string),
  );
}

/** NATS subject matching: `*` is one token, `>` one or more trailing tokens. */
function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return s.length > i;
    if (i >= s.length || (p[i] !== "*" && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}
/** Whether a permission list allows `subject` (a subscription with wildcards must be covered whole). */
const allows = (allow: string[] | undefined, subject: string) =>
  (allow ?? []).some((pattern) => subjectMatches(pattern, subject.replaceAll("*", "x").replace(/>$/, "x.y")));

describe("nats-server configuration files", () => {
  it("every nats-server config in infra/nats and deploy/ passes `nats-server -t`; fragments are included by one", async () => {
    // deploy/systemd has .conf files too (systemd drop-ins); deploy/container holds nats-server's.
    const files = [
      ...(await confFiles(natsInfraDir)),
      ...(await confFiles(path.join(repoRoot, "deploy/container"))),
    ];
    const includes = new Map(await Promise.all(files.map(async (f) => [f, await includesOf(f)] as const)));
    const included = new Set([...includes.values()].flat());
    const standalone = files.filter((f) => !included.has(f) || f.endsWith("accounts.conf"));
    expect(files.map((f) => path.relative(repoRoot, f)).sort()).toEqual(
      expect.arrayContaining([
        "infra/nats/dev.conf",
        "infra/nats/cluster/node-1.conf",
        "infra/nats/cluster/node-2.conf",
        "infra/nats/cluster/node-3.conf",
        "infra/nats/leaf/region-leaf.conf",
        "infra/nats/operator-mode/accounts.conf",
        "deploy/container/nats.conf",
      ]),
    );
    for (const file of standalone) {
      const { status, output } = checkNatsConfig(file);
      expect(status, `${path.relative(repoRoot, file)}: ${output}`).toBe(0);
    }
    // A fragment (valid only inside another file) is checked through a standalone file including it.
    for (const fragment of files.filter((f) => !standalone.includes(f))) {
      expect(standalone.some((f) => includes.get(f)?.includes(fragment))).toBe(true);
    }
  });

  it("the check can fail: `nats-server -t` refuses a misspelt setting and a missing include", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "lg-nats-conf-"));
    try {
      await fs.writeFile(
        path.join(dir, "bad.conf"),
        "listen: 127.0.0.1:4222\njetstreem { store_dir: /tmp/x }\n",
      );
      await fs.writeFile(path.join(dir, "missing.conf"), 'include "nowhere.conf"\n');
      expect(checkNatsConfig(path.join(dir, "bad.conf")).status).not.toBe(0);
      expect(checkNatsConfig(path.join(dir, "missing.conf")).status).not.toBe(0);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it("the cluster nodes use distinct ports and store directories, route to all three and the leaf dials all three", async () => {
    const read = (f: string) => fs.readFile(path.join(natsInfraDir, f), "utf8");
    const nodes = await Promise.all([1, 2, 3].map((n) => read(`cluster/node-${n}.conf`)));
    const leaf = await read("leaf/region-leaf.conf");
    const field = (text: string, re: RegExp) => re.exec(text)?.[1];
    const clusterPorts = nodes.map((t) => field(t, /cluster \{[^}]*?listen: "127\.0\.0\.1:(\d+)"/s));
    const leafPorts = nodes.map((t) => field(t, /leafnodes \{[^}]*?listen: "127\.0\.0\.1:(\d+)"/s));
    const ports = nodes.flatMap((t) => [
      ...t.matchAll(/listen: "127\.0\.0\.1:(\d+)"|http: "127\.0\.0\.1:(\d+)"/g),
    ]);
    expect(new Set(ports.map((m) => m[1] ?? m[2])).size).toBe(ports.length);
    expect(new Set(nodes.map((t) => field(t, /store_dir: "([^"]+)"/))).size).toBe(3);
    expect(new Set(nodes.map((t) => field(t, /server_name: (\S+)/))).size).toBe(3);
    for (const text of nodes) {
      for (const port of clusterPorts) expect(text).toContain(`"nats-route://127.0.0.1:${port}"`);
    }
    for (const port of leafPorts) expect(leaf).toContain(`"nats-leaf://127.0.0.1:${port}"`);
  });
});

// Each `creds` call starts a TypeScript process: seconds apiece on a busy machine.
describe("operator-mode credentials (infra/nats/operator-mode)", { timeout: 120_000 }, () => {
  let dir: string;
  const creds = (...args: string[]) =>
    spawnSync(path.join(natsInfraDir, "operator-mode/creds"), args, { encoding: "utf8", timeout: 100_000 });
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "lg-nats-creds-"));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("`creds init` writes accounts the cluster and leaf configs load, and refuses to overwrite them", async () => {
    const keys = path.join(dir, "keys");
    const first = creds("init", "--dir", keys);
    expect(first.status, first.stderr).toBe(0);
    expect((await fs.stat(path.join(keys, "secrets.json"))).mode & 0o077).toBe(0);
    const again = creds("init", "--dir", keys);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/exists; refusing to overwrite/);

    const rendered = path.join(dir, "rendered");
    await renderNatsConfigs(rendered, {
      accountsConf: await fs.readFile(path.join(keys, "accounts.conf"), "utf8"),
      appAccountConf: await fs.readFile(path.join(keys, "app-account.conf"), "utf8"),
    });
    for (const f of [
      "cluster/node-1.conf",
      "cluster/node-2.conf",
      "cluster/node-3.conf",
      "leaf/region-leaf.conf",
    ]) {
      const { status, output } = checkNatsConfig(path.join(rendered, f));
      expect(status, `${f}: ${output}`).toBe(0);
    }
  });

  it("`creds mint` gives an agent exactly the permissions the code mints, with an expiry, and refuses a widening id", () => {
    const secrets = path.join(dir, "keys/secrets.json");
    const minted = creds(
      "mint",
      "--secrets",
      secrets,
      "--template",
      "agent",
      "--id",
      "fra-1",
      "--expires",
      "3600",
    );
    expect(minted.status, minted.stderr).toBe(0);
    const jwt = /-----BEGIN NATS USER JWT-----\n(\S+)\n/.exec(minted.stdout)?.[1] as string;
    const claims = decode<{ pub: unknown; sub: unknown; resp: unknown }>(jwt);
    const { pub, sub, resp } = agentPermissions("fra-1");
    expect(claims.nats).toMatchObject({ pub, sub, resp });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(3600);

    const refused = creds("mint", "--secrets", secrets, "--template", "agent", "--id", "fra.1");
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/not a valid agent id/);
  });

  it("`creds mint --role` puts the agent's role and id in its JWT's tags, and refuses a role the coordinator would not believe", () => {
    const secrets = path.join(dir, "keys/secrets.json");
    const mint = (...args: string[]) => creds("mint", "--secrets", secrets, "--template", ...args);
    const minted = mint("agent", "--id", "vm-1", "--role", "neutral");
    expect(minted.status, minted.stderr).toBe(0);
    const jwt = /-----BEGIN NATS USER JWT-----\n(\S+)\n/.exec(minted.stdout)?.[1] as string;
    expect(decode<{ tags?: string[] }>(jwt).nats.tags).toEqual(["lg-role:neutral", "lg-agent:vm-1"]);
    for (const [args, message] of [
      [["agent", "--id", "vm-2", "--role", "join"], /role must be 'pop' or 'neutral'/],
      [["agent", "--id", "join-x"], /reserved for reverse-session join agents/],
      [["coordinator", "--role", "pop"], /--role is for the agent template only/],
    ] as const) {
      const refused = mint(...args);
      expect(refused.status, args.join(" ")).toBe(2);
      expect(refused.stderr).toMatch(message);
    }
  });

  it("the templates refuse agent ids that would widen an agent's subjects", async () => {
    for (const id of ["fra.1", "*", ">", "a b", ""]) {
      await expect(readUserTemplate("agent", id), id).rejects.toThrow(/not a valid agent id/);
    }
    await expect(readUserTemplate("agent")).rejects.toThrow(/needs an agent id/);
  });

  it("the agent and join templates confine an agent to its own subjects of the protocol", async () => {
    for (const name of ["agent", "join"] as const) {
      const { user } = await readUserTemplate(name, "sin-2");
      expect(user.pub?.allow?.sort()).toEqual(
        [subjects.presence("sin-2"), subjects.resultsOf("sin-2")].sort(),
      );
      expect(user.sub?.allow?.sort()).toEqual(
        [subjects.agentAll("sin-2"), `${agentInboxPrefix("sin-2")}.>`].sort(),
      );
      expect(user.resp).toEqual({ max: 1 });
      expect(allows(user.sub?.allow, subjects.job("sin-3"))).toBe(false);
      expect(allows(user.pub?.allow, subjects.final("sin-3", "t1"))).toBe(false);
    }
    expect((await readUserTemplate("join", "sin-2")).expiresInSeconds).toBeLessThanOrEqual(3600);
  });

  it("the coordinator template covers every subject the coordinator uses, and the leaf user may only link leaf nodes", async () => {
    const { user } = await readUserTemplate("coordinator");
    for (const subject of [subjects.job("fra-1"), subjects.cancel("fra-1"), subjects.traceUpdated("t1")]) {
      expect(allows(user.pub?.allow, subject), subject).toBe(true);
    }
    for (const api of [
      "$JS.API.STREAM.INFO.LG_RESULTS",
      "$JS.API.CONSUMER.MSG.NEXT.LG_RESULTS.lg-coordinator",
    ]) {
      expect(allows(user.pub?.allow, api), api).toBe(true);
    }
    for (const subject of [
      subjects.presenceAll,
      subjects.finalAll,
      subjects.progressOfTrace("t1"),
      subjects.traceUpdated("t1"),
    ]) {
      expect(allows(user.sub?.allow, subject), subject).toBe(true);
    }
    expect(allows(user.pub?.allow, subjects.final("fra-1", "t1"))).toBe(false);
    expect((await readUserTemplate("leaf")).user.allowed_connection_types).toEqual(["LEAFNODE"]);
  });
  it("`creds revoke` cuts off one agent at a server reload and refuses it afterwards; other agents stay connected", async () => {
    const keys = path.join(dir, "keys");
    const secrets = path.join(keys, "secrets.json");
    for (const id of ["fra-9", "sin-9"]) {
      const minted = creds(
        "mint",
        "--secrets",
        secrets,
        "--template",
        "agent",
        "--id",
        id,
        "--out",
        path.join(dir, `${id}.creds`),
      );
      expect(minted.status, minted.stderr).toBe(0);
    }
    // nats-server resolves an include against the including file's folder, even an absolute path.
    const dataDir = path.join(dir, "server");
    const server = await startNatsServer({
      dataDir,
      jetstream: false,
      config: `include ${JSON.stringify(path.relative(dataDir, path.join(keys, "accounts.conf")))}`,
    });
    const connectAs = async (id: string) =>
      connect({
        servers: server.url,
        authenticator: credsAuthenticator(await fs.readFile(path.join(dir, `${id}.creds`))),
        inboxPrefix: `_INBOX_${id}`,
        maxReconnectAttempts: 2,
        reconnectTimeWait: 100,
      });
    const open: NatsConnection[] = [];
    try {
      const fra = await connectAs("fra-9");
      const sin = await connectAs("sin-9");
      open.push(fra, sin);

      const revoked = creds("revoke", "--secrets", secrets, "--dir", keys, "--id", "fra-9");
      expect(revoked.status, revoked.stderr).toBe(0);
      process.kill(server.pid, "SIGHUP");

      await waitFor(
        "the revoked agent to be disconnected",
        async () => (fra.isClosed() ? true : undefined),
        10_000,
      );
      await expect(connectAs("fra-9")).rejects.toThrow(/Authorization/i);
      expect(sin.isClosed()).toBe(false);
      sin.publish(subjects.presence("sin-9"), "alive");
      await sin.flush();
    } finally {
      await Promise.all(open.map((nc) => nc.close().catch(() => undefined)));
      await server.stop();
    }
  });
});
