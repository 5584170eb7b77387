import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ReverseSessionCreated, ReverseSessionView } from "@lg/protocol";
import { findFreePort, type NatsServer, startNatsServer } from "@lg/services";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { type RunningCoordinator, startCoordinator } from "../../src/coordinator";
import { bridgeNatsAuth } from "../../src/reverse-sessions/join-credentials";
import { type AgentProcess, repoRoot, startAgent, waitFor, waitForAgents } from "../harness";
import { lgJoin, runToEnd } from "../kit/process";
import { connectLine, openRaw } from "./join-bridge-kit";

const creds = (...args: string[]) => runToEnd([join(repoRoot, "infra/nats/operator-mode/creds"), ...args]);

interface ConnInfo {
  name?: string;
  authorized_user?: string;
  name_tag?: string;
  account?: string;
}

/** Talks NATS to the server directly, as the bridge would, with the given CONNECT fields. */
async function rawNats(
  port: number,
  connectFields: (nonce: string | undefined) => Record<string, string>,
  commands: string,
) {
  const socket = net.connect({ host: "127.0.0.1", port });
  let text = "";
  socket.on("data", (d) => {
    text += d.toString("latin1");
  });
  await waitFor("INFO", async () => text.includes("\r\n"), 5_000);
  const nonce = (JSON.parse(text.slice(5, text.indexOf("\r\n"))) as { nonce?: string }).nonce;
  socket.write(
    `CONNECT ${JSON.stringify({ verbose: false, protocol: 1, headers: true, ...connectFields(nonce) })}\r\n${commands}PING\r\n`,
  );
  await waitFor("PONG or an error", async () => /PONG\r\n|-ERR 'Authorization/.test(text), 5_000);
  socket.destroy();
  return text;
}

/**
 * Operator mode with the deployment's own tool (`creds init`): the coordinator has NATS_CREDS and
 * LG_NATS_SIGNING_KEY, the server agent its own minted credentials. A join connection reaches
 * nats-server as a user minted for its session (seen in nats-server's own connection list), that
 * user is confined by nats-server itself, and the real join agent runs its session through it.
 */
describe("join bridge in operator mode: a NATS user per session", () => {
  let dir: string;
  let keys: string;
  let nats: NatsServer;
  let monitor: string;
  let coord: RunningCoordinator;
  let agent: AgentProcess;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lg-bridge-op-"));
    keys = join(dir, "keys");
    const init = await creds("init", "--dir", keys);
    expect(init.stderr).toBe("");
    // The signing key is a secret: written for its owner only.
    expect((await stat(join(keys, "lg-signing-key.nk"))).mode & 0o077).toBe(0);
    const minted = await creds(
      "mint",
      "--secrets",
      join(keys, "secrets.json"),
      "--template",
      "agent",
      "--id",
      "srv",
      "--out",
      join(keys, "srv.creds"),
    );
    expect(minted.stderr).toBe("");
    const monitorPort = await findFreePort();
    monitor = `http://127.0.0.1:${monitorPort}`;
    nats = await startNatsServer({
      dataDir: join(dir, "nats"),
      config: `${await readFile(join(keys, "accounts.conf"), "utf8")}\nhttp: "127.0.0.1:${monitorPort}"\n`,
    });
    coord = await startCoordinator(
      loadConfig({
        PORT: "0",
        NATS_URL: nats.url,
        NATS_CREDS: join(keys, "coordinator.creds"),
        LG_NATS_SIGNING_KEY: join(keys, "lg-signing-key.nk"),
        LG_DATA_DIR: join(dir, "coord"),
        LG_ALLOW_TARGETS: "127.0.0.0/8",
      }),
      { logger: pino({ level: process.env.LOG_LEVEL ?? "silent" }), sessionEveryMs: 200 },
    );
    agent = startAgent({ id: "srv", natsUrl: nats.url, env: { NATS_CREDS: join(keys, "srv.creds") } });
    await waitForAgents(coord.url, ["srv"]);
  }, 120_000);

  afterAll(async () => {
    await agent?.stop();
    await coord?.stop();
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const createSession = async (body: unknown = { server: "srv" }) => {
    const res = await fetch(`${coord.url}/api/v1/reverse-sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    const s = (await res.json()) as ReverseSessionCreated;
    return { ...s, token: new URL(s.joinUrl).searchParams.get("token") as string };
  };
  const connz = async () =>
    ((await (await fetch(`${monitor}/connz?auth=1&limit=1000`)).json()) as { connections: ConnInfo[] })
      .connections;

  it("the bridge's connection is the session's own NATS user, not the coordinator's", async () => {
    const s = await createSession();
    const agentId = `join-${s.id}`;
    const c = await openRaw(`${coord.url.replace(/^http/, "ws")}/api/v1/reverse-sessions/${s.id}/nats`);
    c.send(`${connectLine(agentId, s.token)}PING\r\n`);
    expect(await c.waitFor(/PONG\r\n/)).toBe(true);
    // The client is not shown the server's nonce (the bridge signs it, not the client).
    expect(c.received()).not.toContain("nonce");
    const conns = await connz();
    const bridged = conns.find((x) => x.name === agentId);
    const coordinatorKey = (await readFile(join(keys, "coordinator.creds"), "utf8")).match(
      /\bU[A-Z2-7]{55}\b/,
    )?.[0];
    expect(bridged?.authorized_user).toMatch(/^U[A-Z2-7]{55}$/);
    expect(bridged?.name_tag).toBe(`join-${agentId}`);
    expect(conns.filter((x) => x.authorized_user === bridged?.authorized_user)).toHaveLength(1);
    expect(bridged?.authorized_user).not.toBe(coordinatorKey);
    c.close();
  });

  it("a session's minted user is confined by nats-server itself: outside subjects are refused by the server", async () => {
    const s = await createSession();
    const agentId = `join-${s.id}`;
    // The same settings the coordinator runs with, so the same minter.
    const auth = await bridgeNatsAuth(
      loadConfig({
        NATS_URL: nats.url,
        NATS_CREDS: join(keys, "coordinator.creds"),
        LG_NATS_SIGNING_KEY: join(keys, "lg-signing-key.nk"),
      }),
    );
    if (auth.kind !== "minted") throw new Error(`expected minted credentials, got ${auth.kind}`);
    const user = await auth.minter.mint(agentId, new Date(Date.now() + 60_000));
    // Straight to nats-server, no filter in between: only the server's permissions stand.
    const text = await rawNats(
      nats.port,
      (nonce) => user.connectFields(nonce),
      `SUB lg.> 1\r\nSUB lg.agent.srv.> 2\r\nPUB lg.result.srv.final.t1 5\r\nforge\r\nPUB _INBOX.x 2\r\nok\r\nSUB lg.agent.${agentId}.> 3\r\nPUB lg.presence.${agentId} 2\r\n{}\r\n`,
    );
    expect(text).toContain(`-ERR 'Permissions Violation for Subscription to "lg.>"'`);
    expect(text).toContain(`-ERR 'Permissions Violation for Subscription to "lg.agent.srv.>"'`);
    expect(text).toContain(`-ERR 'Permissions Violation for Publish to "lg.result.srv.final.t1"'`);
    expect(text).toContain(`-ERR 'Permissions Violation for Publish to "_INBOX.x"'`);
    expect(text.match(/-ERR/g)).toHaveLength(4);
    expect(text).toContain("PONG\r\n");
    // Another agent's id with the same user is refused too: the JWT names one agent's subjects.
    const other = await rawNats(
      nats.port,
      (nonce) => user.connectFields(nonce),
      "PUB lg.presence.srv 2\r\n{}\r\n",
    );
    expect(other).toContain(`-ERR 'Permissions Violation for Publish to "lg.presence.srv"'`);
    // An anonymous client is not let in at all.
    const anonymous = await rawNats(nats.port, () => ({}), "");
    expect(anonymous).toContain("-ERR 'Authorization Violation'");
  });

  it("lg join runs a whole session through the bridge with its minted user", async () => {
    const s = await createSession({ server: "srv", count: 3, interval: 0.2 });
    const joined = await lgJoin(s.joinUrl);
    expect(joined.stderr).toContain("the looking-glass sees you as 127.0.0.1");
    expect(joined.code).toBe(0);
    const v = (await (
      await fetch(`${coord.url}/api/v1/reverse-sessions/${s.id}`)
    ).json()) as ReverseSessionView;
    expect(v.status).toBe("done");
    expect(v.legs[0]?.forward.status).toBe("done");
    expect(v.legs[0]?.reverse?.status).toBe("done");
    expect(joined.stdout).toContain(`join-${s.id} ⇄ srv:`);
  }, 90_000);

  it("with NATS_CREDS but no signing key, join connections are refused with 503 and a log line, never dialled anonymously", async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: "info" },
      {
        write: (l: string) => {
          lines.push(l);
        },
      },
    );
    const second = await startCoordinator(
      loadConfig({
        PORT: "0",
        NATS_URL: nats.url,
        NATS_CREDS: join(keys, "coordinator.creds"),
        LG_DATA_DIR: join(dir, "coord2"),
        LG_ALLOW_TARGETS: "127.0.0.0/8",
      }),
      { logger, sessionEveryMs: 200 },
    );
    try {
      await waitForAgents(second.url, ["srv"]);
      const res = await fetch(`${second.url}/api/v1/reverse-sessions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ server: "srv" }),
      });
      const s = (await res.json()) as ReverseSessionCreated;
      const before = (await connz()).length;
      await expect(
        openRaw(`${second.url.replace(/^http/, "ws")}/api/v1/reverse-sessions/${s.id}/nats`),
      ).rejects.toThrow("HTTP 503");
      expect((await connz()).length).toBe(before);
      expect(
        lines.some((l) => l.includes("LG_NATS_SIGNING_KEY is not") && l.includes("join connection refused")),
      ).toBe(true);
    } finally {
      await second.stop();
    }
  }, 90_000);
});
