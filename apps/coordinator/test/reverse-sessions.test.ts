import type { ChildProcess } from "node:child_process";
import { execSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ReverseSessionCreated, ReverseSessionView as ReverseSessionViewSchema } from "@lg/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, type Stack, startAgentsOnline, startStack, waitFor } from "./harness";
import { expectError } from "./kit/http";
import { lgJoin, repoRoot, runToEnd } from "./kit/process";

/**
 * Reverse sessions on this machine: real nats-server, PGlite, coordinator, a server agent, and the
 * join agent (`lg join`) connecting through the coordinator's WebSocket bridge. The lab test does
 * the same from behind the lab's NAT.
 */
describe("reverse sessions API", () => {
  let stack: Stack;
  let url: string;
  const agents: AgentProcess[] = [];

  beforeAll(async () => {
    stack = await startStack("pglite", { sessionEveryMs: 200 });
    url = stack.coordinator.url;
    await startAgentsOnline(stack, agents, [{ id: "srv" }, { id: "nvm", role: "neutral" }]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await stack?.stop();
  });

  const create = (body: unknown) =>
    fetch(`${url}/api/v1/reverse-sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  const session = async (id: string) =>
    ReverseSessionViewSchema.parse(await (await fetch(`${url}/api/v1/reverse-sessions/${id}`)).json());

  it("a body without a server is refused with missing_field naming server", async () => {
    await expectError(await create({}), 400, "missing_field", "server");
  });

  it("a host server needs a neutral agent to go through", async () => {
    await expectError(await create({ server: { host: "127.0.0.1" } }), 400, "missing_field", "via");
    const e = await expectError(
      await create({ server: { host: "127.0.0.1" }, via: "srv" }),
      400,
      "invalid_field",
      "via",
    );
    expect(e.message).toMatch(/not a neutral one/);
  });

  it("via with a server agent, an unknown server, a refused host and a short expiry are each refused", async () => {
    await expectError(await create({ server: "srv", via: "nvm" }), 400, "invalid_field", "via");
    await expectError(await create({ server: "nosuch" }), 400, "unknown_agent", "server");
    await expectError(
      await create({ server: { host: "10.0.0.1" }, via: "nvm" }),
      400,
      "target_refused",
      "server.host",
    );
    await expectError(await create({ server: "srv", expiresIn: 5 }), 400, "invalid_field", "expiresIn");
  });

  it("a new session waits, with one command and a join URL on the address it was asked on", async () => {
    const res = await create({ server: "srv" });
    expect(res.status).toBe(201);
    const s = (await res.json()) as ReverseSessionCreated;
    expect(s.command).toMatch(
      new RegExp(
        `^sh -c '[^']+' lg-join '${url}/api/v1/reverse-sessions/${s.id}/join\\.sh\\?token=[A-Za-z0-9_-]+'$`,
      ),
    );
    expect(s.joinUrl).toMatch(new RegExp(`^${url}/api/v1/reverse-sessions/${s.id}/join\\?token=`));
    expect(Date.parse(s.expiresAt) - Date.now()).toBeGreaterThan(800_000);
    const v = await session(s.id);
    expect(v.status).toBe("waiting");
    expect(v.customer).toEqual({
      publicAddress: null,
      agentId: null,
      linkOpenedAt: null,
      uploadTraceId: null,
    });
    expect(v.legs).toEqual([]);
  });

  it("the join script and bundle need the session's token", async () => {
    const s = (await (await create({ server: "srv" })).json()) as ReverseSessionCreated;
    await expectError(await fetch(`${url}/api/v1/reverse-sessions/${s.id}/join.sh`), 401, "invalid_token");
    await expectError(
      await fetch(`${url}/api/v1/reverse-sessions/${s.id}/join.sh?token=wrong`),
      401,
      "invalid_token",
    );
    await expectError(
      await fetch(`${url}/api/v1/reverse-sessions/${s.id}/join`, { method: "POST" }),
      401,
      "invalid_token",
    );
    await expectError(await fetch(`${url}/api/v1/reverse-sessions/nosuch/join.sh?token=x`), 404, "not_found");
  });

  it("the join script says exactly what is missing before it downloads anything", async () => {
    const s = (await (await create({ server: "srv" })).json()) as ReverseSessionCreated;
    const scriptUrl = /'(http[^']+)'$/.exec(s.command)?.[1] as string;
    const script = await (await fetch(scriptUrl)).text();
    const bin = await mkdtemp(join(tmpdir(), "lg-join-bin-"));
    try {
      // A machine whose node is too old (a stand-in `node` reporting 18), with sh's basic tools, that
      // is not linux-x64 (a stand-in `uname`): no single executable to fall back on.
      await writeFile(
        join(bin, "node"),
        '#!/bin/sh\nif [ "$1" = -e ]; then printf 18; else echo v18.19.0; fi\n',
      );
      await chmod(join(bin, "node"), 0o755);
      await writeFile(join(bin, "uname"), "#!/bin/sh\necho Darwin arm64\n");
      await chmod(join(bin, "uname"), 0o755);
      const old = await runToEnd(["/bin/sh", "-s"], { env: { PATH: `${bin}:/usr/bin:/bin` }, input: script });
      expect(old.code).toBe(1);
      expect(old.stderr).toContain("lg join cannot start; missing:");
      expect(old.stderr).toContain("Node.js 20 or newer: found v18.19.0");
      // No node at all.
      await rm(join(bin, "node"));
      const none = await runToEnd(["/bin/sh", "-s"], { env: { PATH: bin }, input: script });
      expect(none.code).toBe(1);
      expect(none.stderr).toContain("'node' is not installed");
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  });

  it("lg join runs the session: customer -> server and server -> the customer's address, then leaves", async () => {
    const s = (await (
      await create({ server: "srv", count: 5, interval: 0.2 })
    ).json()) as ReverseSessionCreated;
    const joined = await lgJoin(s.joinUrl);
    expect(joined.stderr).toContain("the looking-glass sees you as 127.0.0.1");
    expect(joined.code).toBe(0);
    const v = await session(s.id);
    expect(v.status).toBe("done");
    expect(v.customer).toMatchObject({ publicAddress: "127.0.0.1", agentId: `join-${s.id}` });
    expect(v.legs).toHaveLength(1);
    const leg = v.legs[0];
    expect(leg?.a).toBe(`join-${s.id}`);
    expect(leg?.b).toBe("srv");
    expect(leg?.forward.status).toBe("done");
    expect(leg?.reverse?.agentId).toBe("srv");
    expect(leg?.reverse?.target).toBe("127.0.0.1");
    expect(leg?.comparison?.verdict).toBe("symmetric");
    expect(joined.stdout).toContain(`join-${s.id} ⇄ srv: symmetric`);
    // The join agent left: it said so (offline at once, not after the heartbeat timeout).
    const left = await waitFor(
      "the join agent offline",
      async () => {
        const list = (await (await fetch(`${url}/api/v1/agents`)).json()) as {
          id: string;
          online: boolean;
          role: string;
        }[];
        const agent = list.find((a) => a.id === `join-${s.id}`);
        return agent && !agent.online ? agent : undefined;
      },
      5_000,
    );
    expect(left.role).toBe("join");
    await expectError(await fetch(s.joinUrl, { method: "POST" }), 410, "session_ended");
  }, 90_000);

  it("without Node.js on linux-x64, the one command runs the join agent's single executable (served with the token), and the session ends done", async () => {
    // The executable is part of the agent's build; build it here if this checkout has not yet.
    const binary = join(repoRoot, "apps/agent/dist/lg-join-linux-x64");
    if (!existsSync(binary)) {
      const built = spawnSync(process.execPath, ["build.mjs"], {
        cwd: join(repoRoot, "apps/agent"),
        encoding: "utf8",
      });
      expect(built.status, built.stderr).toBe(0);
    }
    const s = (await (
      await create({ server: "srv", count: 5, interval: 0.2 })
    ).json()) as ReverseSessionCreated;
    const token = new URL(s.joinUrl).searchParams.get("token") as string;
    const served = `${url}/api/v1/reverse-sessions/${s.id}/lg-join-linux-x64?token=${token}`;
    await expectError(await fetch(served.replace(/token=.*/, "token=wrong")), 401, "invalid_token");
    const bin = await mkdtemp(join(tmpdir(), "lg-join-bin-"));
    try {
      const res = await fetch(served);
      expect(res.status).toBe(200);
      const exe = join(bin, "lg-join");
      await writeFile(exe, Buffer.from(await res.arrayBuffer()));
      await chmod(exe, 0o755);
      const version = await runToEnd([exe, "--version"]);
      expect(version.code).toBe(0);
      expect(version.stdout).toMatch(/^lg-join \d+\.\d+\.\d+ \(node 20\./);
      await rm(exe);
      // A PATH with the shell, curl and the basic tools, and no node.
      for (const tool of ["sh", "curl", "mktemp", "rm", "chmod", "uname", "dirname"])
        await symlink(
          execSync(`command -v ${tool}`, { encoding: "utf8", shell: "/bin/sh" }).trim(),
          join(bin, tool),
        );
      const joined = await runToEnd(["/bin/sh", "-c", s.command], { env: { PATH: bin } });
      expect(joined.stderr).toContain(
        "no Node.js 20+ here ('node' is not installed); using the join agent as one executable",
      );
      expect(joined.code, joined.stderr).toBe(0);
      expect(joined.stdout).toContain(`join-${s.id} ⇄ srv: symmetric`);
      const v = await session(s.id);
      expect(v.status).toBe("done");
      expect(v.customer.agentId).toBe(`join-${s.id}`);
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  }, 180_000);

  it("the session credential reaches only the session's own subjects", async () => {
    const { wsconnect } = await import("@nats-io/nats-core");
    const { WebSocket } = await import("ws");
    (globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
    const s = (await (await create({ server: "srv" })).json()) as ReverseSessionCreated;
    const token = new URL(s.joinUrl).searchParams.get("token") as string;
    const wsUrl = `${url.replace(/^http/, "ws")}/api/v1/reverse-sessions/${s.id}/nats`;
    // A wrong token is refused at CONNECT.
    await expect(wsconnect({ servers: wsUrl, token: "wrong", reconnect: false })).rejects.toThrow();
    const nc = await wsconnect({
      servers: wsUrl,
      token,
      reconnect: false,
      inboxPrefix: `_INBOX_join-${s.id}`,
    });
    try {
      const errors: string[] = [];
      void (async () => {
        for await (const st of nc.status()) if (st.type === "error") errors.push(String(st.error));
      })();
      nc.subscribe("lg.agent.srv.job");
      nc.publish(`lg.presence.join-${s.id}`, "{}");
      await nc.flush();
      await waitFor(
        "permission error",
        async () => errors.some((e) => /Permissions Violation/.test(e)),
        5_000,
      );
      expect(nc.isClosed()).toBe(false);
    } finally {
      await nc.close();
    }
  }, 30_000);

  it("a customer who leaves mid-test (Ctrl-C) ends the session cleanly: its traces stop, it goes offline, the session is done", async () => {
    const s = (await (
      await create({ server: "srv", count: 300, interval: 1 })
    ).json()) as ReverseSessionCreated;
    let child: ChildProcess | undefined;
    const joined = lgJoin(s.joinUrl, (c) => {
      child = c;
    });
    await waitFor("session running", async () => (await session(s.id)).status === "running", 20_000);
    await waitFor(
      "the customer's trace running",
      async () => (await session(s.id)).legs[0]?.forward.status === "running",
      20_000,
    );
    child?.kill("SIGINT");
    const result = await joined;
    expect(result.code).not.toBe(0);
    const v = await waitFor(
      "session done",
      async () => {
        const x = await session(s.id);
        return x.status === "done" ? x : undefined;
      },
      20_000,
    );
    // The customer's own direction was stopped by its leaving, not lost.
    expect(v.legs[0]?.forward.status).toBe("done");
    expect(v.legs[0]?.forward.stoppedBy).toBe("cancelled");
    const list = (await (await fetch(`${url}/api/v1/agents`)).json()) as { id: string; online: boolean }[];
    expect(list.find((a) => a.id === `join-${s.id}`)?.online).toBe(false);
  }, 90_000);

  it("a session whose expiry passes while the customer is connected ends expired and cuts the join agent off", async () => {
    const s = (await (
      await create({ server: "srv", expiresIn: 30, count: 300, interval: 1 })
    ).json()) as ReverseSessionCreated;
    const joined = lgJoin(s.joinUrl);
    await waitFor("session running", async () => (await session(s.id)).status === "running", 20_000);
    const result = await joined;
    const v = await session(s.id);
    expect(v.status).toBe("expired");
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("session expired");
    await expectError(await fetch(s.joinUrl, { method: "POST" }), 410, "session_expired");
  }, 90_000);
});
