import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { decode } from "@nats-io/jwt";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type NatsServer, startNatsServer } from "./nats";
import { agentPermissions, createNatsAuth, type NatsAuth } from "./nats-auth";

const creds = (text: string) => credsAuthenticator(new TextEncoder().encode(text));

/** Collects the errors the server reports on a connection (permission violations arrive this way). */
function serverErrors(nc: NatsConnection): Error[] {
  const errors: Error[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === "error") errors.push(s.error);
  })();
  return errors;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("NATS operator-mode credentials", () => {
  let auth: NatsAuth;
  let server: NatsServer;
  let dataDir: string;
  let admin: NatsConnection;

  beforeAll(async () => {
    auth = await createNatsAuth();
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "lg-nats-auth-"));
    server = await startNatsServer({ dataDir, config: auth.serverConfig });
    admin = await connect({
      servers: server.url,
      authenticator: creds(await auth.mintUserCreds("coordinator")),
    });
    await (await jetstreamManager(admin)).streams.add({ name: "RESULTS", subjects: ["lg.result.*.final.*"] });
  });
  afterAll(async () => {
    await admin?.close();
    await server?.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it("refuses a client without credentials", async () => {
    await expect(connect({ servers: server.url, reconnect: false })).rejects.toThrow(/Authorization/i);
  });

  it("gives an agent exactly its own subjects", () => {
    expect(agentPermissions("fra")).toEqual({
      pub: { allow: ["lg.result.fra.>", "lg.presence.fra"] },
      sub: { allow: ["lg.agent.fra.>", "_INBOX_fra.>"] },
      resp: { max: 1 },
    });
    expect(() => agentPermissions("*")).toThrow(/not a valid agent id/);
    expect(() => agentPermissions("a.b")).toThrow(/not a valid agent id/);
  });

  it("tags an agent's credentials with its id and role (pop unless told), and refuses join- ids and other roles", async () => {
    const tagsOf = (text: string) =>
      decode<{ tags?: string[] }>(/-----BEGIN NATS USER JWT-----\s*(\S+)/.exec(text)?.[1] as string).nats
        .tags;
    expect(tagsOf(await auth.mintAgentCreds("fra"))).toEqual(["lg-role:pop", "lg-agent:fra"]);
    expect(tagsOf(await auth.mintAgentCreds("vm", { role: "neutral" }))).toEqual([
      "lg-role:neutral",
      "lg-agent:vm",
    ]);
    await expect(auth.mintAgentCreds("join-abc")).rejects.toThrow(/reserved for reverse-session join agents/);
    await expect(auth.mintAgentCreds("x", { role: "join" as "pop" })).rejects.toThrow(/'pop' or 'neutral'/);
    // A tagged credential still connects (nats-server ignores the tags).
    const nc = await connect({
      servers: server.url,
      authenticator: creds(await auth.mintAgentCreds("vm", { role: "neutral" })),
      inboxPrefix: "_INBOX_vm",
    });
    await nc.close();
  });

  it("lets an agent answer its own jobs and store its results with a JetStream ack", async () => {
    const nc = await connect({
      servers: server.url,
      authenticator: creds(await auth.mintAgentCreds("fra")),
      inboxPrefix: "_INBOX_fra",
    });
    nc.subscribe("lg.agent.fra.job", {
      callback: (_e, m) => {
        m.respond("accepted");
      },
    });
    await nc.flush();
    expect((await admin.request("lg.agent.fra.job", "job", { timeout: 2_000 })).string()).toBe("accepted");
    const ack = await jetstream(nc).publish("lg.result.fra.final.t1", "{}", { msgID: "t1" });
    expect(ack.stream).toBe("RESULTS");
    await nc.close();
  });

  it("stops an agent from subscribing to another agent's jobs and from publishing as another agent", async () => {
    const nc = await connect({
      servers: server.url,
      authenticator: creds(await auth.mintAgentCreds("fra")),
      inboxPrefix: "_INBOX_fra",
    });
    const errors = serverErrors(nc);
    const stolen: string[] = [];
    nc.subscribe("lg.agent.sin.job", {
      callback: (err, m) => {
        if (!err) stolen.push(m.string());
      },
    });
    await nc.flush();
    const seenByCoordinator: string[] = [];
    for (const subject of ["lg.result.sin.>", "lg.presence.sin"]) {
      admin.subscribe(subject, {
        callback: (_e, m) => {
          seenByCoordinator.push(m.subject);
        },
      });
    }
    // Messages each side may receive, sent after the forged ones on the same connection: once
    // they arrive, anything forged that got through would have arrived before them.
    const agentBarrier = nc.subscribe("lg.agent.fra.job", { max: 1 });
    const coordinatorBarrier = admin.subscribe("lg.presence.fra", { max: 1 });
    await nc.flush();
    await admin.flush();

    admin.publish("lg.agent.sin.job", "a job for sin");
    nc.publish("lg.result.sin.final.t9", "forged");
    nc.publish("lg.presence.sin", "forged");
    await expect(
      jetstream(nc).publish("lg.result.sin.final.t9", "forged", { msgID: "t9", timeout: 1_000 }),
    ).rejects.toThrow();
    admin.publish("lg.agent.fra.job", "barrier");
    nc.publish("lg.presence.fra", "barrier");
    for await (const _ of agentBarrier) break;
    for await (const _ of coordinatorBarrier) break;
    for (let i = 0; i < 50 && errors.length < 2; i++) await sleep(20);

    expect(stolen).toEqual([]);
    expect(seenByCoordinator).toEqual([]);
    const info = await (await jetstreamManager(admin)).streams.info("RESULTS", {
      subjects_filter: "lg.result.sin.>",
    });
    expect(info.state.subjects ?? {}).toEqual({});
    const messages = errors.map((e) => e.message).join("\n");
    expect(messages).toMatch(/Permissions Violation for Subscription to "lg\.agent\.sin\.job"/i);
    expect(messages).toMatch(/Permissions Violation for Publish to "lg\.result\.sin\.final\.t9"/i);
    // The connection stays up for the agent's own work.
    expect(nc.isClosed()).toBe(false);
    await nc.close();
  });

  it("cuts off credentials when they expire", async () => {
    const nc = await connect({
      servers: server.url,
      // 2 s, so they outlive the connect: whole-second expiry leaves between 1 and 2 s.
      authenticator: creds(await auth.mintAgentCreds("brief", { expiresInSec: 2 })),
      inboxPrefix: "_INBOX_brief",
      reconnect: false,
    });
    const closed = nc.closed();
    const outcome = await Promise.race([closed.then(() => "closed"), sleep(5_000).then(() => "still open")]);
    expect(outcome).toBe("closed");
  });

  it("gives credentials exactly the lifetime asked for even when a second boundary falls while signing", async () => {
    // Every clock read advances 1 ms from the last millisecond of a second: our read for `exp`
    // and the library's read for `iat` fall in different seconds.
    let now = 1_800_000_000_999;
    const clock = vi.spyOn(Date, "now").mockImplementation(() => now++);
    try {
      const text = await auth.mintAgentCreds("lifetime", { expiresInSec: 3600 });
      const jwt = /-----BEGIN NATS USER JWT-----\n(\S+)\n/.exec(text)?.[1] as string;
      const claims = decode(jwt);
      expect((claims.exp ?? 0) - claims.iat).toBe(3600);
      expect(claims.iat).toBe(1_800_000_001);
    } finally {
      clock.mockRestore();
    }
  });

  it("re-creates the same accounts from saved secrets", async () => {
    const again = await createNatsAuth({ secrets: auth.secrets });
    expect(again.appAccountPublicKey).toBe(auth.appAccountPublicKey);
    // Credentials minted by the re-created signer are accepted by the running server.
    const nc = await connect({
      servers: server.url,
      authenticator: creds(await again.mintUserCreds("later")),
    });
    await nc.close();
  });
});
