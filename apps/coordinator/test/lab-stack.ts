import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type LabProcess,
  labPlaceTable,
  labPopLocation,
  type ReferenceLab,
  startReferenceLab,
} from "@lg/netlab";
import type { AgentView } from "@lg/protocol";
import { type Stack, startLabAgent, startStack, waitForAgents } from "./harness";

/** Lab nodes that run an agent, with the role each reports. */
export const LAB_AGENTS = [
  { node: "fra", role: "pop" },
  { node: "sin", role: "pop" },
  { node: "vm", role: "neutral" },
] as const;

/**
 * The PoPs of the lab's two-way block (ams, region eu; nyc, region us): path tests between them
 * cross routers that answer from loopbacks and incoming interfaces, and a directed loss
 * (packages/netlab README, "Pairs"). Started with `startLabStack({ twoWay: true })`; off by default
 * because suites that list every PoP (web.browser.test.ts: regions, tab order) expect fra and sin.
 */
export const TWO_WAY_AGENTS = [
  { node: "ams", role: "pop" },
  { node: "nyc", role: "pop" },
] as const;

export interface LabStack {
  lab: ReferenceLab;
  stack: Stack;
  /** The coordinator's main URL (127.0.0.1, for clients in the root namespace such as a browser). */
  url: string;
  /** The coordinator on the lab's host-side address: what lab nodes (a customer behind NAT) reach. */
  labUrl: string;
  agents: (LabProcess & { output(): string })[];
  /** Agents as the coordinator lists them once they are all online. */
  online: AgentView[];
  /** Agents, coordinator, NATS, then the lab; safe to call after a failed start. */
  stop(): Promise<void>;
}

/**
 * The reference lab with the real stack on top: nats-server on the lab's host-side address, the
 * coordinator on 127.0.0.1 and on that address, and one real agent process (`lg agent`, see
 * `startLabAgent`) inside fra, sin (PoPs) and vm (neutral), and ams, nyc (PoPs) with `twoWay`.
 * Only the lab's ranges are allow-listed; `env` adds coordinator settings. With `places`, the
 * coordinator gets the lab's place table (LG_GEO_PREFIXES) and each agent its LG_LOCATION/LG_CITY.
 */
export async function startLabStack(
  opts: { twoWay?: boolean; env?: Record<string, string>; places?: boolean } = {},
): Promise<LabStack> {
  const wanted = [...LAB_AGENTS, ...(opts.twoWay ? TWO_WAY_AGENTS : [])];
  const lab = await startReferenceLab();
  const agents: (LabProcess & { output(): string })[] = [];
  let stack: Stack | undefined;
  let placesDir: string | undefined;
  const stop = async () => {
    await Promise.all(agents.map((a) => a.stop("SIGTERM").catch(() => null)));
    await stack?.stop().catch(() => {});
    await lab.down();
    if (placesDir) await rm(placesDir, { recursive: true, force: true });
  };
  try {
    const hostAddress = lab.hostAddress.v4;
    if (!hostAddress) throw new Error("the reference lab was built without its host link");
    const env = { ...opts.env };
    if (opts.places) {
      // The lab's places (packages/netlab, Places) as the operator's table, one of them wrong on purpose.
      placesDir = await mkdtemp(join(tmpdir(), "lg-places-"));
      env.LG_GEO_PREFIXES = join(placesDir, "places.csv");
      await writeFile(env.LG_GEO_PREFIXES, `${labPlaceTable(lab.plan).join("\n")}\n`);
    }
    stack = await startStack("pglite", {
      allow: lab.labCidrs.join(","),
      natsHost: hostAddress,
      extraHosts: [hostAddress],
      sessionEveryMs: 200,
      env,
    });
    for (const { node, role } of wanted) {
      const place = labPopLocation(node);
      const where: Record<string, string> = opts.places
        ? { LG_LOCATION: place.location, LG_CITY: place.city }
        : {};
      agents.push(startLabAgent(lab, stack.nats.url, node, role, where));
    }
    const url = stack.coordinator.url;
    const ids = wanted.map((a) => a.node);
    const online = await waitForAgents(url, ids, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\nagent output:\n${agents.map((a) => a.output()).join("\n")}`);
    });
    const labUrl = stack.coordinator.urls[1] ?? url;
    return { lab, stack, url, labUrl, agents, online, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
