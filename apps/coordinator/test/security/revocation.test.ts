import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNatsAuth, credsUserKey, type NatsAuth, type NatsServer, startNatsServer } from "@lg/services";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningCoordinator } from "../../src/coordinator";
import { repoRoot, startOperatorCoordinator, waitFor, waitForMeasurementDone } from "../harness";

/**
 * Operator-mode NATS: each agent has its own credentials. Rotating one agent's credentials and
 * revoking another's are done with a config reload (SIGHUP) of the running nats-server: no
 * process is restarted, and only the revoked agent loses its connection.
 */
describe("agent credentials: rotation and revocation without restarts", () => {
  let dir: string;
  let auth: NatsAuth;
  let nats: NatsServer;
  let coord: RunningCoordinator;
  const agents = new Map<string, { child: ChildProcess; out: () => string; creds: string }>();
  let config: string;
  const revoked: Record<string, number> = {};

  async function startAgentWithCreds(id: string) {
    const creds = join(dir, `${id}.creds`);
    await writeFile(creds, await auth.mintAgentCreds(id), { mode: 0o600 });
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(repoRoot, "apps/cli/src/main.ts"), "agent"],
      {
        cwd: repoRoot,
        env: {
          ...process.env,
          NATS_URL: nats.url,
          NATS_CREDS: creds,
          LG_AGENT_ID: id,
          LG_ALLOW_TARGETS: "127.0.0.0/8",
          LG_PUBLIC_ADDRS: "127.0.0.1",
          LOG_LEVEL: "info",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout?.on("data", (d) => {
      out = `${out}${d}`.slice(-6000);
    });
    child.stderr?.on("data", (d) => {
      out = `${out}${d}`.slice(-6000);
    });
    agents.set(id, { child, out: () => out, creds });
  }

  /** Revokes every credential of these users issued so far, by reloading the running server. */
  async function revoke(userKeys: string[]) {
    const now = Math.floor(Date.now() / 1000);
    for (const k of userKeys) revoked[k] = now;
    const next = await auth.serverConfigRevoking(revoked);
    const file = join(dir, "nats", "nats-server.conf");
    await writeFile(file, (await readFile(file, "utf8")).replace(config, next));
    config = next;
    process.kill(nats.pid, "SIGHUP");
  }

  const online = async (id: string) => {
    const list = (await (await fetch(`${coord.url}/api/v1/agents`)).json()) as {
      id: string;
      online: boolean;
    }[];
    return list.find((a) => a.id === id)?.online;
  };
  const measure = (from: string) =>
    fetch(`${coord.url}/api/v1/measurements`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ target: "127.0.0.1", count: 1, from: [from] }),
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lg-revoke-"));
    auth = await createNatsAuth();
    config = auth.serverConfig;
    nats = await startNatsServer({ dataDir: join(dir, "nats"), config });
    coord = await startOperatorCoordinator(dir, nats, auth, { offlineAfterMs: 4_000 });
    await startAgentWithCreds("rot-a");
    await startAgentWithCreds("rot-b");
    await waitFor("agents online", async () => (await online("rot-a")) && (await online("rot-b")), 30_000);
  }, 60_000);

  afterAll(async () => {
    for (const a of agents.values()) {
      if (a.child.exitCode === null && a.child.signalCode === null) {
        const exited = new Promise((r) => a.child.once("exit", r));
        a.child.kill("SIGTERM");
        await exited;
      }
    }
    await coord?.stop();
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("rotating: new credentials in the agent's file, the old ones revoked; the agent reconnects by itself", async () => {
    const a = agents.get("rot-a");
    if (!a) throw new Error("no agent");
    const oldKey = credsUserKey(await readFile(a.creds, "utf8"));
    const fresh = await auth.mintAgentCreds("rot-a");
    expect(credsUserKey(fresh)).not.toBe(oldKey);
    await writeFile(a.creds, fresh);
    const pid = a.child.pid;
    await revoke([oldKey]);
    await waitFor("rot-a to reconnect", async () => /reconnected to NATS/.test(a.out()), 20_000);
    expect(a.child.pid).toBe(pid);
    expect(a.child.exitCode).toBeNull();
    const res = await measure("rot-a");
    expect(res.status).toBe(202);
    const m = await waitForMeasurementDone(coord.url, ((await res.json()) as { id: string }).id);
    expect(m.traces[0]?.status).toBe("done");
  }, 60_000);

  it("revoking: the agent is cut off and refused; the other agent and the coordinator keep working", async () => {
    const b = agents.get("rot-b");
    if (!b) throw new Error("no agent");
    await revoke([credsUserKey(await readFile(b.creds, "utf8"))]);
    await waitFor("rot-b offline", async () => (await online("rot-b")) === false, 20_000);
    const refused = await measure("rot-b");
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("agent_offline");
    // Its reconnects are refused by the server (the agent logs each refusal).
    await waitFor(
      "rot-b's refusal in its log",
      async () => /authori[sz]ation|authentication/i.test(b.out()),
      20_000,
    );
    // rot-a, with its rotated credentials, is unaffected.
    expect(await online("rot-a")).toBe(true);
    const res = await measure("rot-a");
    expect(res.status).toBe(202);
    const m = await waitForMeasurementDone(coord.url, ((await res.json()) as { id: string }).id);
    expect(m.traces[0]?.status).toBe("done");
  }, 60_000);
});
