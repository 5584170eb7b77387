/**
 * Runs the checked-in core cluster (infra/nats/cluster) and regional leaf
 * (infra/nats/leaf) on free local ports with fresh operator-mode keys, for the cluster test
 * and the failover benchmark.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { type ManagedChild, spawnManaged } from "./child";
import { createOperatorModeKeys, type OperatorModeKeys, renderNatsConfigs } from "./infra-fixture";
import type { UserTemplateName } from "./nats-deploy";
import { probeTcp, sleep } from "./ports";

export interface NatsNode {
  name: string;
  clientUrl: string;
  monitorUrl: string;
  process: ManagedChild;
}

export interface LocalDeployment {
  dir: string;
  keys: OperatorModeKeys;
  nodes: NatsNode[];
  /** Starts a killed or stopped core node again from its config and store directory. */
  restartNode(node: NatsNode): Promise<NatsNode>;
  /** Starts the regional leaf server (once). */
  startLeaf(): Promise<NatsNode>;
  /** Connects as a user minted from `infra/nats/operator-mode/<template>-user.json`. */
  connectAs(template: UserTemplateName, servers: string[], agentId?: string): Promise<NatsConnection>;
  stop(): Promise<void>;
}

/** Fetches a monitoring endpoint (`/jsz`, `/leafz`, ...) of one node; undefined while it does not answer. */
export async function monitor<T>(node: NatsNode, endpoint: string): Promise<T | undefined> {
  try {
    const res = await fetch(`${node.monitorUrl}${endpoint}`, { signal: AbortSignal.timeout(1_000) });
    return res.ok ? ((await res.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

/** Polls `check` until it returns a value; throws with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function startNode(
  name: string,
  file: string,
  clientPort: number,
  httpPort: number,
): Promise<NatsNode> {
  const proc = spawnManaged("nats-server", ["-c", file], { deathSignal: "SIGKILL" });
  const node = {
    name,
    clientUrl: `nats://127.0.0.1:${clientPort}`,
    monitorUrl: `http://127.0.0.1:${httpPort}`,
    process: proc,
  };
  await waitFor(`${name} to accept clients`, async () => {
    if (proc.child.exitCode !== null) throw new Error(`${name} exited:\n${proc.tail()}`);
    const greeting = await probeTcp("127.0.0.1", clientPort, 500).catch(() => "");
    return greeting.startsWith("INFO ") ? true : undefined;
  });
  return node;
}

interface JszMeta {
  meta_cluster?: { leader?: string; cluster_size?: number };
}

/**
 * Starts the three core nodes and resolves once every node sees the same JetStream meta
 * leader in a cluster of three.
 */
export async function startLocalDeployment(): Promise<LocalDeployment> {
  // The nodes' ports are chosen free before the first node starts; another process can take one in
  // the seconds before the last node binds it. Then the whole deployment starts again on new ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startLocalDeploymentOnce();
    } catch (err) {
      if (attempt >= PORT_RACE_ATTEMPTS || !/address already in use/.test(String((err as Error).message)))
        throw err;
    }
  }
}

/** Starts of a local deployment tried when a port it chose was taken before a node bound it. */
const PORT_RACE_ATTEMPTS = 3;

async function startLocalDeploymentOnce(): Promise<LocalDeployment> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "lg-nats-cluster-"));
  const keys = await createOperatorModeKeys();
  const ports = await renderNatsConfigs(dir, keys);
  const port = (checkedIn: number) => ports.get(checkedIn) as number;
  const nodes: NatsNode[] = [];
  let leaf: NatsNode | undefined;
  const stop = async () => {
    await Promise.all([...nodes, ...(leaf ? [leaf] : [])].map((n) => n.process.stop("SIGTERM", 5_000)));
    await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    for (const n of [1, 2, 3]) {
      nodes.push(
        await startNode(
          `lg-core-${n}`,
          path.join(dir, `cluster/node-${n}.conf`),
          port(4210 + n),
          port(8210 + n),
        ),
      );
    }
    await waitFor("a JetStream meta leader seen by all three nodes", async () => {
      const metas = await Promise.all(nodes.map((n) => monitor<JszMeta>(n, "/jsz")));
      const leaders = new Set(metas.map((m) => m?.meta_cluster?.leader));
      const sizes = metas.map((m) => m?.meta_cluster?.cluster_size);
      const [leader] = [...leaders];
      return leaders.size === 1 && leader && sizes.every((s) => s === 3) ? leader : undefined;
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    dir,
    keys,
    nodes,
    async restartNode(node) {
      const index = nodes.indexOf(node);
      const n = index + 1;
      await node.process.stop("SIGKILL");
      const again = await startNode(
        node.name,
        path.join(dir, `cluster/node-${n}.conf`),
        port(4210 + n),
        port(8210 + n),
      );
      nodes[index] = again;
      return again;
    },
    async startLeaf() {
      if (leaf) return leaf;
      await fs.writeFile(path.join(dir, "creds/leaf.creds"), await keys.mintUser("leaf"), { mode: 0o600 });
      leaf = await startNode(
        "lg-leaf-region",
        path.join(dir, "leaf/region-leaf.conf"),
        port(4221),
        port(8221),
      );
      const started = leaf;
      await waitFor("the leaf to attach to the core", async () => {
        const leafz = await monitor<{ leafnodes?: number }>(started, "/leafz");
        return leafz?.leafnodes && leafz.leafnodes > 0 ? true : undefined;
      });
      return leaf;
    },
    async connectAs(template, servers, agentId) {
      const creds = await keys.mintUser(template, agentId);
      return connect({
        servers,
        name: agentId ? `${template} ${agentId}` : template,
        authenticator: credsAuthenticator(new TextEncoder().encode(creds)),
        ...(agentId ? { inboxPrefix: `_INBOX_${agentId}` } : {}),
        noRandomize: true,
        reconnectTimeWait: 100,
        maxReconnectAttempts: -1,
      });
    },
    stop,
  };
}
