import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AgentRole,
  type AgentView,
  credentialTags,
  type MeasurementView,
  type PresenceMessage,
  type ReverseSessionCreated,
} from "@lg/protocol";
import { presenceOf } from "@lg/protocol/testing";
import { createNatsAuth, type NatsAuth, type NatsServer, startNatsServer } from "@lg/services";
import { createAccount, createUser, encodeUser, fromSeed } from "@nats-io/jwt";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningCoordinator } from "../../src/coordinator";
import {
  type AgentProcess,
  repoRoot,
  type Stack,
  startAgent,
  startAgentsOnline,
  startOperatorCoordinator,
  startStack,
  waitFor,
  waitForAgents,
  waitForMeasurementDone,
} from "../harness";

/** A presence message as an agent would send it, saying whatever the sender likes. */
const presence = (id: string, role: AgentRole, userJwt?: string): PresenceMessage =>
  presenceOf(id, { region: "attack", role, version: "0.0.0" }, { userJwt });

const agentsAt = async (url: string) => (await (await fetch(`${url}/api/v1/agents`)).json()) as AgentView[];
const jwtOf = (creds: string) => /-----BEGIN NATS USER JWT-----\s*(\S+)/.exec(creds)?.[1] as string;
const post = (url: string, path: string, body: unknown) =>
  fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

/**
 * The attack of issue 11 (finding 2) on a coordinator without NATS auth (`lg up`): a stranger
 * creates a reverse session, connects through the coordinator's WebSocket bridge with the session
 * token, and announces its join agent as a PoP (to receive everyone's public jobs and store fake
 * results) or as a neutral agent (to be the `via` of other people's reverse sessions).
 */
describe("without NATS auth: a join agent cannot pose as a PoP or a neutral agent", () => {
  let stack: Stack;
  let url: string;
  const agents: AgentProcess[] = [];
  let nc: NatsConnection;
  let joinId: string;
  const jobs: string[] = [];

  beforeAll(async () => {
    stack = await startStack("pglite", { sessionEveryMs: 200 });
    url = stack.coordinator.url;
    await startAgentsOnline(stack, agents, [{ id: "srv" }, { id: "nvm", role: "neutral" }]);

    const { wsconnect } = await import("@nats-io/nats-core");
    const { WebSocket } = await import("ws");
    (globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
    const res = await post(url, "/api/v1/reverse-sessions", { server: "srv" });
    expect(res.status).toBe(201);
    const s = (await res.json()) as ReverseSessionCreated;
    joinId = `join-${s.id}`;
    nc = (await wsconnect({
      servers: `${url.replace(/^http/, "ws")}/api/v1/reverse-sessions/${s.id}/nats`,
      token: new URL(s.joinUrl).searchParams.get("token") as string,
      reconnect: false,
      inboxPrefix: `_INBOX_${joinId}`,
    })) as unknown as NatsConnection;
    nc.subscribe(`lg.agent.${joinId}.>`, {
      callback: (_err, msg) => {
        jobs.push(msg.subject);
      },
    });
  }, 120_000);

  afterAll(async () => {
    await nc?.close().catch(() => {});
    await Promise.all(agents.map((a) => a.stop()));
    await stack?.stop();
  });

  /** Announces the join agent with `role`; resolves once the coordinator has recorded that heartbeat. */
  async function announce(role: AgentRole): Promise<AgentView> {
    const before = (await agentsAt(url)).find((a) => a.id === joinId)?.lastSeen ?? "";
    nc.publish(`lg.presence.${joinId}`, JSON.stringify(presence(joinId, role)));
    await nc.flush();
    return waitFor(`${joinId}'s heartbeat recorded`, async () => {
      const a = (await agentsAt(url)).find((x) => x.id === joinId);
      return a && a.lastSeen > before ? a : undefined;
    });
  }

  it("a join agent announcing pop is recorded as join, stays out of the default PoP set and receives no public job", async () => {
    const recorded = await announce("pop");
    expect(recorded.role).toBe("join");

    const res = await post(url, "/api/v1/measurements", { target: "127.0.0.1", count: 1 });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const m: MeasurementView = await waitForMeasurementDone(url, id);
    expect(m.traces.map((t) => t.agentId)).toEqual(["srv"]);
    await nc.flush();
    expect(jobs).toEqual([]);
  }, 60_000);

  it("a join agent announcing neutral cannot be the via of a reverse session; a real neutral agent can", async () => {
    const recorded = await announce("neutral");
    expect(recorded.role).toBe("join");
    const refused = await post(url, "/api/v1/reverse-sessions", {
      server: { host: "127.0.0.1" },
      via: joinId,
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { code: string; field: string } }).error).toMatchObject({
      code: "invalid_field",
      field: "via",
    });
    // The same request through the agent that is neutral (LG_ROLE, taken as given without NATS auth).
    const ok = await post(url, "/api/v1/reverse-sessions", { server: { host: "127.0.0.1" }, via: "nvm" });
    expect(ok.status).toBe(201);
  }, 30_000);
});

/**
 * Operator mode (decentralized JWT auth, a real nats-server): each agent's role is a tag of the
 * user JWT it was minted with. Agents that say otherwise, or bring a credential that is stolen,
 * forged, tampered with, unsigned or expired, are not believed.
 */
describe("operator mode: an agent's role is the one in its credentials", () => {
  let dir: string;
  let auth: NatsAuth;
  let nats: NatsServer;
  let coord: RunningCoordinator;
  let agent: AgentProcess | undefined;
  const conns: NatsConnection[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lg-roles-"));
    auth = await createNatsAuth();
    nats = await startNatsServer({ dataDir: join(dir, "nats"), config: auth.serverConfig });
    coord = await startOperatorCoordinator(dir, nats, auth);
  }, 60_000);

  afterAll(async () => {
    await agent?.stop();
    for (const c of conns) await c.close().catch(() => {});
    await coord?.stop();
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** A NATS connection as agent `id`, with that agent's own (genuine) credentials. */
  async function connectAs(id: string, creds: string): Promise<NatsConnection> {
    const nc = await connect({
      servers: nats.url,
      authenticator: credsAuthenticator(new TextEncoder().encode(creds)),
      inboxPrefix: `_INBOX_${id}`,
    });
    conns.push(nc);
    return nc;
  }

  const refusedCount = async (reason: string) => {
    const text = await (await fetch(`${coord.url}/metrics`)).text();
    const m = new RegExp(`^lg_presence_refused_total\\{reason="${reason}"\\} (\\d+)`, "m").exec(text);
    return Number(m?.[1] ?? 0);
  };

  /**
   * Publishes a heartbeat from agent `id`'s own connection, announcing `role` with `userJwt`, and
   * waits until the coordinator has either recorded the agent or counted the refusal `reason`.
   */
  async function attempt(
    id: string,
    creds: string,
    role: AgentRole,
    userJwt: string | undefined,
    reason: string,
  ) {
    const nc = await connectAs(id, creds);
    const before = await refusedCount(reason);
    nc.publish(`lg.presence.${id}`, JSON.stringify(presence(id, role, userJwt)));
    await nc.flush();
    await waitFor(`${id}: recorded, or refused (${reason})`, async () => {
      const listed = (await agentsAt(coord.url)).some((a) => a.id === id);
      return listed || (await refusedCount(reason)) > before;
    });
    return (await agentsAt(coord.url)).find((a) => a.id === id);
  }

  it("an agent whose credential says pop but announces neutral is a PoP", async () => {
    const creds = await auth.mintAgentCreds("op-pop");
    const nc = await connectAs("op-pop", creds);
    nc.publish("lg.presence.op-pop", JSON.stringify(presence("op-pop", "neutral", jwtOf(creds))));
    await nc.flush();
    const a = await waitFor("op-pop recorded", async () =>
      (await agentsAt(coord.url)).find((x) => x.id === "op-pop"),
    );
    expect(a.role).toBe("pop");
  });

  it("an agent presenting a stolen, forged, tampered, unsigned or expired credential, or none, is not believed", async () => {
    const signer = fromSeed(new TextEncoder().encode(auth.secrets.appSigningKeySeed));
    const now = Math.floor(Date.now() / 1000);
    const popTags = (id: string) => ({ tags: credentialTags(id, "pop") });
    const cases: { id: string; reason: string; jwt: (ownJwt: string) => Promise<string | undefined> }[] = [
      { id: "ev-none", reason: "no-credential", jwt: async () => undefined },
      // A PoP's genuine credential, copied (JWTs are not secret).
      { id: "ev-stolen", reason: "other-agent", jwt: async () => jwtOf(await auth.mintAgentCreds("op-fra")) },
      // Claims written by the attacker: the real account named as issuer, signed with its own key.
      {
        id: "ev-forged",
        reason: "untrusted-issuer",
        jwt: () =>
          encodeUser("ev-forged", createUser(), auth.appAccountPublicKey, popTags("ev-forged"), {
            signer: createAccount(),
          }),
      },
      // Its own neutral credential with the role tag rewritten to pop.
      {
        id: "ev-tampered",
        reason: "bad-signature",
        jwt: async (own) => {
          const [h, b, s] = own.split(".") as [string, string, string];
          const claims = JSON.parse(Buffer.from(b, "base64url").toString("utf8"));
          claims.nats.tags = credentialTags("ev-tampered", "pop");
          return `${h}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${s}`;
        },
      },
      {
        id: "ev-unsigned",
        reason: "bad-signature",
        jwt: async () => {
          const h = Buffer.from(JSON.stringify({ typ: "JWT", alg: "ed25519-nkey" })).toString("base64url");
          const b = Buffer.from(
            JSON.stringify({
              iss: signer.getPublicKey(),
              sub: createUser().getPublicKey(),
              nats: { type: "user", issuer_account: auth.appAccountPublicKey, ...popTags("ev-unsigned") },
            }),
          ).toString("base64url");
          return `${h}.${b}.`;
        },
      },
      // Properly signed (an old credential of its own, say), but expired.
      {
        id: "ev-expired",
        reason: "expired",
        jwt: () =>
          encodeUser("ev-expired", createUser(), auth.appAccountPublicKey, popTags("ev-expired"), {
            signer,
            exp: now - 60,
          }),
      },
    ];
    for (const c of cases) {
      const creds = await auth.mintAgentCreds(c.id, { role: "neutral" });
      const recorded = await attempt(c.id, creds, "pop", await c.jwt(jwtOf(creds)), c.reason);
      expect(recorded, `${c.id} should not be recorded`).toBeUndefined();
      expect(await refusedCount(c.reason), c.id).toBeGreaterThan(0);
    }
    // The control: the same path with the agent's own credential records it, with that credential's role.
    const creds = await auth.mintAgentCreds("ev-control", { role: "neutral" });
    const recorded = await attempt("ev-control", creds, "pop", jwtOf(creds), "none");
    expect(recorded?.role).toBe("neutral");
  }, 60_000);

  it("`creds mint --role neutral` gives a credential the coordinator reads as neutral: the agent serves as via", async () => {
    const secrets = join(dir, "secrets.json");
    await writeFile(secrets, JSON.stringify(auth.secrets), { mode: 0o600 });
    const out = join(dir, "op-vm.creds");
    const minted = spawnSync(
      join(repoRoot, "infra/nats/operator-mode/creds"),
      [
        "mint",
        "--secrets",
        secrets,
        "--template",
        "agent",
        "--id",
        "op-vm",
        "--role",
        "neutral",
        "--out",
        out,
      ],
      { encoding: "utf8", timeout: 100_000 },
    );
    expect(minted.status, minted.stderr).toBe(0);
    // A real `lg agent` with those credentials and LG_ROLE saying otherwise.
    agent = startAgent({ id: "op-vm", natsUrl: nats.url, role: "pop", env: { NATS_CREDS: out } });
    const [vm] = (await waitForAgents(coord.url, ["op-vm"])).filter((a) => a.id === "op-vm");
    expect(vm?.role).toBe("neutral");
    const res = await post(coord.url, "/api/v1/reverse-sessions", {
      server: { host: "127.0.0.1" },
      via: "op-vm",
    });
    expect(res.status, await res.clone().text()).toBe(201);
  }, 120_000);
});
