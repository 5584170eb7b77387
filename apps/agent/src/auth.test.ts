import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { FinalResultMessage, PresenceMessage, subjects } from "@lg/protocol";
import { createNatsAuth, type NatsAuth, type NatsServer, startNatsServer } from "@lg/services";
import { Tracer } from "@lg/tracer";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAgent } from "./agent";
import { parseAgentConfig } from "./config";
import { createLogger } from "./logger";
import { createResultsStream, job, sendJob, until, waitForFinal } from "./test-support";

describe("agent with per-agent NATS credentials (operator mode, real nats-server)", () => {
  let server: NatsServer;
  let dir: string;
  let coordinator: NatsConnection;
  let credsFile: string;
  let auth: NatsAuth;

  beforeAll(async () => {
    auth = await createNatsAuth();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "lg-agent-auth-"));
    server = await startNatsServer({ dataDir: path.join(dir, "nats"), config: auth.serverConfig });
    const coordinatorCreds = new TextEncoder().encode(await auth.mintUserCreds("coordinator"));
    coordinator = await connect({ servers: server.url, authenticator: credsAuthenticator(coordinatorCreds) });
    await createResultsStream(await jetstreamManager(coordinator));
    credsFile = path.join(dir, "fra.creds");
    await fs.writeFile(credsFile, await auth.mintAgentCreds("fra"), { mode: 0o600 });
  });
  afterAll(async () => {
    await coordinator?.close();
    await server?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("does all its work with credentials confined to its own subjects", async () => {
    const presence: PresenceMessage[] = [];
    coordinator.subscribe(subjects.presence("fra"), {
      callback: (_e, m) => {
        presence.push(PresenceMessage.parse(m.json()));
      },
    });
    await coordinator.flush();
    const agent = await runAgent(
      parseAgentConfig({
        NATS_URL: server.url,
        NATS_CREDS: credsFile,
        LG_AGENT_ID: "fra",
        LG_ALLOW_TARGETS: "127.0.0.0/8",
      }),
      { tracer: new Tracer({ resolveNames: false }), logger: createLogger("silent") },
    );
    try {
      await until(() => presence.length > 0, 5_000, "announcement");
      const reply = await sendJob(
        coordinator,
        "fra",
        job("auth-t1", "127.0.0.1", { count: 2, interval: 0.1 }),
      );
      expect(reply.accepted).toBe(true);
      const stored = await waitForFinal(await jetstreamManager(coordinator), "fra", "auth-t1", 10_000);
      expect(FinalResultMessage.parse(stored.json())).toMatchObject({ status: "done", agentId: "fra" });
      // The PubAck reached the agent's own inbox: nothing is left waiting for a retry.
      await until(() => agent.unsentResults() === 0, 5_000, "the outbox to empty");
    } finally {
      await agent.shutdown();
    }
  });

  it("sends its user JWT (never its seed) with its presence and announces the role its credentials name", async () => {
    const creds = await auth.mintAgentCreds("vm", { role: "neutral" });
    const file = path.join(dir, "vm.creds");
    await fs.writeFile(file, creds, { mode: 0o600 });
    const raw: string[] = [];
    coordinator.subscribe(subjects.presence("vm"), {
      callback: (_e, m) => {
        raw.push(m.string());
      },
    });
    await coordinator.flush();
    // LG_ROLE says pop: the credentials decide (the coordinator would record neutral anyway).
    const agent = await runAgent(
      parseAgentConfig({ NATS_URL: server.url, NATS_CREDS: file, LG_AGENT_ID: "vm", LG_ROLE: "pop" }),
      { tracer: new Tracer({ resolveNames: false }), logger: createLogger("silent") },
    );
    try {
      await until(() => raw.length > 0, 5_000, "announcement");
      const message = PresenceMessage.parse(JSON.parse(raw[0] as string));
      expect(message.agent.role).toBe("neutral");
      expect(message.userJwt).toBe(/-----BEGIN NATS USER JWT-----\s*(\S+)/.exec(creds)?.[1]);
      const seed = /-----BEGIN USER NKEY SEED-----\s*(\S+)/.exec(creds)?.[1] as string;
      expect(seed).toMatch(/^SU/);
      expect(raw[0]).not.toContain(seed);
    } finally {
      await agent.shutdown();
    }
  });

  it("refuses to start when the creds file cannot be read", async () => {
    const config = parseAgentConfig({ NATS_URL: server.url, NATS_CREDS: path.join(dir, "missing.creds") });
    await expect(runAgent(config, { logger: createLogger("silent") })).rejects.toThrow(
      /NATS_CREDS: cannot read/,
    );
  });
});

describe("lg agent whose credentials expire", () => {
  it("exits non-zero with a one-line reason instead of hanging without a connection", async () => {
    const { spawn } = await import("node:child_process");
    const auth = await createNatsAuth();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "lg-agent-expire-"));
    const server = await startNatsServer({ dataDir: path.join(dir, "nats"), config: auth.serverConfig });
    const credsFile = path.join(dir, "brief.creds");
    await fs.writeFile(credsFile, await auth.mintAgentCreds("brief", { expiresInSec: 6 }), { mode: 0o600 });
    const lg = path.resolve(import.meta.dirname, "../../../bin/lg");
    const child = spawn(lg, ["agent", "--id", "brief", "--nats-creds", credsFile, "--log-level", "silent"], {
      env: { ...process.env, NATS_URL: server.url },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    try {
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      expect(code).toBe(1);
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stderr).toMatch(/^lg: the NATS connection closed/);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await server.stop();
      await fs.rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
