import { type Family, hostOf } from "./address";
import { buildLab, type LabHandle, randomPrefix } from "./lab";
import type { DirectedLoss } from "./loss";
import { modelPath, modelTrace, sourceAddress } from "./pathmodel";
import { type LabPlan, planLab } from "./plan";
import {
  DEFAULT_LOSSES,
  FILTERED_TCP_PORT,
  FORWARD_LOSS,
  hostLinkAddresses,
  LAB_CIDRS,
  LOOP_TARGET,
  LOSS_EVERY,
  MAX_HOST_SLOTS,
  REFERENCE_NODES,
  RETURN_LOSS,
  type ReferenceNode,
  referenceTopology,
  THROTTLE_EVERY,
  WIRE_ONE_WAY_MS,
} from "./reference-topology";
import { claimSlot, releaseSlot } from "./registry";
import type { AnswerFrom } from "./topology";

export type ScenarioName =
  | "clean"
  | "throttle"
  | "loss"
  | "filtered"
  | "loop"
  | "blackhole"
  | "delay"
  | "ecmp"
  | "asym"
  | "clean6"
  | "randloss";

/** One expected hop: the responder, the set of ECMP responders, or null (silent). */
export type ExpectedHop = string | string[] | null;

export interface Scenario {
  /** Source node (a PoP). */
  from: string;
  /** Target address. */
  target: string;
  /** Node that owns the target address (none for the routing loop). */
  targetNode?: string;
  family: Family;
  /** "filtered": the TCP port the target serves. */
  tcpPort?: number;
  /** The expected reading in words. */
  description: string;
  /** Per TTL (index 0 = TTL 1) for ICMP echo probes. */
  expectedHops: ExpectedHop[];
  /** Node names per TTL behind expectedHops (null where the hop is silent). */
  expectedNodes: (string | string[] | null)[];
  /** "throttle": the hop that loses time-exceeded answers; later hops do not. */
  throttleTtl?: number;
  /** "throttle": fraction of its answers the throttling hop loses (0.5). */
  throttleLoss?: number;
  /** "loss": first hop with forwarding loss; it persists to the destination. */
  lossFromTtl?: number;
  /** "loss": fraction lost at each hop from lossFromTtl on (0.25). */
  forwardLoss?: number;
  /** "loop": the two TTLs whose responders then alternate up to the maximum TTL. */
  loopTtls?: [number, number];
  /** "loop": the TTL up to which expectedHops is given (use as mtr's -m). */
  maxTtl?: number;
  /** "blackhole": the last hop that answers; none after it does. */
  blackholeAfterTtl?: number;
  /** "delay": first hop behind the delay wire. */
  delayFromTtl?: number;
  /** "delay": added round-trip time at delayFromTtl and beyond (2 x the wire's one-way delay). */
  delayMs?: number;
  /** "ecmp": the hop answered by either router of the ECMP pair (two responders with varying UDP ports). */
  ecmpTtl?: number;
  /** "filtered": per TTL with TCP SYN probes to tcpPort (the destination answers). */
  expectedTcpHops?: ExpectedHop[];
  /** "asym": the trace in the other direction. */
  reverse?: { from: string; target: string; expectedHops: ExpectedHop[]; expectedNodes: (string | null)[] };
  /** "asym": routers on the forward and on the return path (they differ). */
  forwardRouters?: string[];
  reverseRouters?: string[];
}

export interface ReferenceLab extends LabHandle {
  /** Root-namespace address on the lab; empty strings when built without the host link. */
  hostAddress: { v4: string; v6?: string };
  /** Main address of a node (its first link's address). */
  addr(node: string, family?: 4 | 6): string;
  /** ["198.18.0.0/15", "2001:2::/48"]: the lab's address ranges, e.g. for LG_ALLOW_TARGETS. */
  labCidrs: string[];
  scenarios: Record<ScenarioName, Scenario>;
  /** Two-way scenarios (path tests between two agents) with their ground truth. */
  pairs: Record<PairName, PairScenario>;
  /** Role, region and purpose of every node. */
  nodes: Record<string, ReferenceNode>;
}

export type PairName = "asym" | "asym6" | "retloss" | "fwdloss" | "bothloss" | "conventions";

export type FaultDirection = "none" | "forward" | "reverse" | "both";

/** One direction of a pair scenario, as the path model predicts it. */
export interface PairDirection {
  /** The node the trace runs from, and the node it traces to. */
  from: string;
  to: string;
  /** The address traced: `to`'s main address in the pair's family (what a path test traces). */
  target: string;
  /** Responder per TTL (index 0 = TTL 1); the last one is `target`. */
  expectedHops: string[];
  /** Node per TTL behind expectedHops; the last one is `to`. */
  expectedNodes: string[];
  /** The routers crossed, in order (expectedNodes without the destination). */
  routers: string[];
  /** Per TTL: the nodes the hop's answer crosses on its way back to `from`, the answering node first, `from` last. */
  replyPaths: string[][];
  /**
   * Per TTL: the fraction of probes expected lost at that hop while the scenario's `losses` are in
   * force — the probe's way out and the answer's way back together (1 - product of survivals).
   */
  expectedLoss: number[];
  /** First TTL whose expectedLoss is above 0, or null. */
  lossFromTtl: number | null;
  /** Lossy stretches this direction's probes cross: its own fault (empty: the direction is clean). */
  lossOnPath: DirectedLoss[];
  /** Lossy stretches that only this direction's answers cross: loss it shows that is not its own. */
  lossOnReplies: DirectedLoss[];
}

/**
 * A path test between two agents (a -> b forward, b -> a reverse) with the ground truth a
 * scoreboard grades against. Run it with exactly `losses` in force: `await lab.setLosses(s.losses)`.
 */
export interface PairScenario {
  name: PairName;
  a: string;
  b: string;
  family: Family;
  description: string;
  /** a -> b. */
  forward: PairDirection;
  /** b -> a. */
  reverse: PairDirection;
  /** Routers only a -> b crosses, in its order. */
  forwardOnly: string[];
  /** Routers only b -> a crosses, in its order. */
  reverseOnly: string[];
  /** Routers both directions cross, in a -> b's order. */
  shared: string[];
  /** How each router of the pair answers ICMP errors (IPv6 answers `route` like `inbound`; see AnswerFrom). */
  answerFrom: Record<string, AnswerFrom>;
  /** The direction(s) whose own probes cross a lossy stretch. */
  faultDirection: FaultDirection;
  /** The directed losses in force for this scenario — exactly these (every other one cleared). */
  losses: DirectedLoss[];
  /** What the scenario grades: the routers on each side, and the fault direction. */
  checks: ("routers" | "faultDirection")[];
}

/** The fixed prefix of "the" lab that `lg lab up|down|exec` manage. */
export const THE_LAB_PREFIX = "lglab";

/** Main address of a node in a plan: the first address of that family on its first link. */
export function nodeAddress(plan: LabPlan, node: string, family: Family = 4): string {
  const planned = plan.nodes.get(node);
  if (!planned) throw new Error(`no node "${node}" in the reference lab`);
  const key = family === 4 ? "v4" : "v6";
  const iface = planned.interfaces.find((i) => i[key] !== undefined && i.peer !== "host");
  const cidr = iface?.[key];
  if (!cidr) throw new Error(`node "${node}" has no IPv${family} address`);
  return hostOf(cidr);
}

function single<T>(values: T[]): T | T[] {
  return values.length === 1 ? (values[0] as T) : values;
}

function expect(plan: LabPlan, from: string, target: string, maxTtl = 30) {
  const hops = modelTrace(plan, from, target, maxTtl);
  return {
    hops: hops.map((h) => single(h.responders)) as ExpectedHop[],
    nodes: hops.map((h) => single(h.nodes)) as (string | string[] | null)[],
  };
}

function ttlOf(nodes: (string | string[] | null)[], node: string): number {
  const i = nodes.findIndex((n) => n === node || (Array.isArray(n) && n.includes(node)));
  if (i < 0) throw new Error(`node ${node} is not on the modelled path`);
  return i + 1;
}

/** Scenarios with their expected readings, predicted from the lab's routes. */
export function referenceScenarios(plan: LabPlan): Record<ScenarioName, Scenario> {
  const a = (node: string, family: Family = 4) => nodeAddress(plan, node, family);
  const scenario = (
    from: string,
    targetNode: string,
    family: Family,
    description: string,
    extra: Partial<Scenario> = {},
  ): Scenario => {
    const target = a(targetNode, family);
    const e = expect(plan, from, target);
    return {
      from,
      target,
      targetNode,
      family,
      description,
      expectedHops: e.hops,
      expectedNodes: e.nodes,
      ...extra,
    };
  };

  const clean = scenario("fra", "tclean", 4, "every hop answers, no loss anywhere");
  const clean6 = scenario("fra", "tclean", 6, "the clean path over IPv6: every hop answers, no loss");

  const throttle = scenario("fra", "tthrot", 4, "");
  const throttleTtl = ttlOf(throttle.expectedNodes, "throt");
  Object.assign(throttle, {
    throttleTtl,
    throttleLoss: 1 / THROTTLE_EVERY,
    description: `hop ${throttleTtl} (throt) answers only every other probe (${100 / THROTTLE_EVERY}% loss); the hops after it, including the destination, show no loss: ICMP throttling, not real loss`,
  });

  const loss = scenario("fra", "tloss", 4, "");
  const lossFromTtl = ttlOf(loss.expectedNodes, "lossy");
  Object.assign(loss, {
    lossFromTtl,
    forwardLoss: 1 / LOSS_EVERY,
    description: `from hop ${lossFromTtl} (lossy) on, every hop including the destination loses ${100 / LOSS_EVERY}% of probes; the hops before it lose none: real forwarding loss`,
  });

  const filtered = scenario("fra", "tfilt", 4, "");
  const tcpHops = [...filtered.expectedHops];
  filtered.expectedHops = [...filtered.expectedHops.slice(0, -1), null];
  filtered.expectedNodes = [...filtered.expectedNodes.slice(0, -1), null];
  Object.assign(filtered, {
    tcpPort: FILTERED_TCP_PORT,
    expectedTcpHops: tcpHops,
    description: `the routers answer but the destination never answers ICMP echo; TCP SYN probes to port ${FILTERED_TCP_PORT} reach it (hop ${tcpHops.length} answers)`,
  });

  const loopMax = 10;
  const loopModel = expect(plan, "fra", LOOP_TARGET, loopMax);
  const loopStart = ttlOf(loopModel.nodes, "loopa");
  const loop: Scenario = {
    from: "fra",
    target: LOOP_TARGET,
    family: 4,
    expectedHops: loopModel.hops,
    expectedNodes: loopModel.nodes,
    loopTtls: [loopStart, loopStart + 1],
    maxTtl: loopMax,
    description: `from hop ${loopStart} on the same two routers (loopa, loopb) answer in turn up to the maximum TTL; the destination is never reached`,
  };

  const blackhole = scenario("fra", "tbh", 4, "");
  const holeTtl = ttlOf(blackhole.expectedNodes, "hole");
  blackhole.expectedHops = blackhole.expectedHops.map((h, i) => (i + 1 >= holeTtl ? null : h));
  blackhole.expectedNodes = blackhole.expectedNodes.map((h, i) => (i + 1 >= holeTtl ? null : h));
  Object.assign(blackhole, {
    blackholeAfterTtl: holeTtl - 1,
    description: `hops 1-${holeTtl - 1} answer; from hop ${holeTtl} (the black-holed node) on nothing answers, the destination is never reached`,
  });

  const delay = scenario("fra", "tdelay", 4, "");
  const delayFromTtl = ttlOf(delay.expectedNodes, "dlb");
  Object.assign(delay, {
    delayFromTtl,
    delayMs: 2 * WIRE_ONE_WAY_MS,
    description: `hops from ${delayFromTtl} (dlb, behind the wire) on are ${2 * WIRE_ONE_WAY_MS} ms slower than the hops before: a latency step that persists to the destination`,
  });

  const ecmp = scenario("fra", "tecmp", 4, "");
  const ecmpTtl = ttlOf(ecmp.expectedNodes, "ecmpa");
  Object.assign(ecmp, {
    ecmpTtl,
    description: `hop ${ecmpTtl} is either ecmpa or ecmpb: core1 hashes flows over both (L4 hash), so UDP probes with varying ports see two responders there; every hop answers`,
  });

  const asym = scenario("fra", "sin", 4, "");
  const back = expect(plan, "sin", a("fra"));
  const routersOf = (nodes: (string | string[] | null)[], last: string) =>
    nodes.flat().filter((n): n is string => n !== null && n !== last);
  Object.assign(asym, {
    reverse: {
      from: "sin",
      target: a("fra"),
      expectedHops: back.hops,
      expectedNodes: back.nodes as (string | null)[],
    },
    forwardRouters: routersOf(asym.expectedNodes, "sin"),
    reverseRouters: routersOf(back.nodes, "fra"),
  });
  asym.description = `fra -> sin crosses ${asym.forwardRouters?.join(", ")}; sin -> fra returns over ${asym.reverseRouters?.join(", ")}: the paths differ`;

  // Random loss on a single trace: nyc -> ams crosses reta -> eams, which drops 25% at random (the
  // lab's default directed loss), unlike lossy's fixed counters: some readings at a small count are
  // undecided, which is what --until-sure is for.
  const randloss = scenario("nyc", "ams", 4, "");
  const randlossFrom = ttlOf(randloss.expectedNodes, RETURN_LOSS.to);
  Object.assign(randloss, {
    lossFromTtl: randlossFrom,
    forwardLoss: RETURN_LOSS.probability,
    description: `${RETURN_LOSS.from} drops ${RETURN_LOSS.probability * 100}% of what it sends towards ${RETURN_LOSS.to} at random: from hop ${randlossFrom} (${RETURN_LOSS.to}) on, every hop loses about that much; the hops before lose none`,
  });

  return { clean, clean6, throttle, loss, filtered, loop, blackhole, delay, ecmp, asym, randloss };
}

const same = (x: DirectedLoss, y: DirectedLoss) => x.from === y.from && x.to === y.to;

/** One direction of a pair, with per-hop answer paths and the loss the given stretches cause. */
function pairDirection(
  plan: LabPlan,
  from: string,
  to: string,
  family: Family,
  losses: DirectedLoss[],
): PairDirection {
  const target = nodeAddress(plan, to, family);
  const hops = modelTrace(plan, from, target);
  const single = (values: string[], ttl: number, what: string): string => {
    if (values.length !== 1)
      throw new Error(`pair ${from} -> ${to}: hop ${ttl} has ${values.length} ${what}`);
    return values[0] as string;
  };
  const expectedHops = hops.map((h) => single(h.responders, h.ttl, "responders"));
  const expectedNodes = hops.map((h) => single(h.nodes, h.ttl, "nodes"));
  if (expectedNodes.at(-1) !== to) throw new Error(`pair ${from} -> ${to}: the model never reaches ${to}`);
  const start = plan.nodes.get(from);
  const prober = start ? sourceAddress(start, target) : undefined;
  if (!prober) throw new Error(`pair ${from} -> ${to}: ${from} has no route to ${target}`);
  const replyPaths = expectedNodes.map((node) => modelPath(plan, node, prober));
  const edges = (path: string[]) => path.slice(1).map((n, i) => ({ from: path[i] as string, to: n }));
  const lossOf = (edge: { from: string; to: string }) =>
    losses.find((l) => same(l, { ...edge, probability: 0 }))?.probability ?? 0;
  const way = [from, ...expectedNodes];
  const expectedLoss = expectedNodes.map((_, i) => {
    const crossed = [...edges(way.slice(0, i + 2)), ...edges(replyPaths[i] ?? [])];
    return 1 - crossed.reduce((survive, e) => survive * (1 - lossOf(e)), 1);
  });
  const onPath = losses.filter((l) => edges(way).some((e) => e.from === l.from && e.to === l.to));
  const onReplies = losses.filter(
    (l) =>
      !onPath.includes(l) && replyPaths.some((p) => edges(p).some((e) => e.from === l.from && e.to === l.to)),
  );
  const first = expectedLoss.findIndex((x) => x > 0);
  return {
    from,
    to,
    target,
    expectedHops,
    expectedNodes,
    routers: expectedNodes.slice(0, -1),
    replyPaths,
    expectedLoss,
    lossFromTtl: first < 0 ? null : first + 1,
    lossOnPath: onPath,
    lossOnReplies: onReplies,
  };
}

function pct(p: number): string {
  return `${Math.round(p * 100)}%`;
}

function describeDirection(d: PairDirection): string {
  const head = `${d.from} -> ${d.to} (${d.routers.join(", ")})`;
  if (d.lossOnPath.length > 0) {
    const at = d.lossFromTtl ?? 0;
    const where = d.lossOnPath
      .map((l) => `${l.from} drops ${pct(l.probability)} towards ${l.to}`)
      .join(" and ");
    const also =
      d.lossOnReplies.length > 0
        ? `, and its answers come back through ${d.lossOnReplies.map((l) => `${l.from} -> ${l.to}`).join(", ")}`
        : "";
    return `${head} loses ${pct(d.expectedLoss[at - 1] ?? 0)} from hop ${at} (${d.expectedNodes[at - 1]}): ${where}${also}`;
  }
  if (d.lossOnReplies.length > 0) {
    const at = d.lossFromTtl ?? 0;
    const via = d.lossOnReplies.map((l) => `${l.from} -> ${l.to}`).join(", ");
    return `${head} is clean; its loss from hop ${at} (${d.expectedNodes[at - 1]}) is the answers' way back through ${via}`;
  }
  return `${head} is clean`;
}

/** Path tests between two agents, with ground truth from the path model and the directed losses. */
export function pairScenarios(plan: LabPlan): Record<PairName, PairScenario> {
  const pair = (
    name: PairName,
    a: string,
    b: string,
    family: Family,
    losses: DirectedLoss[],
    checks: PairScenario["checks"] = ["routers", "faultDirection"],
  ): PairScenario => {
    const forward = pairDirection(plan, a, b, family, losses);
    const reverse = pairDirection(plan, b, a, family, losses);
    const fwd = new Set(forward.routers);
    const rev = new Set(reverse.routers);
    const faultDirection: FaultDirection =
      forward.lossOnPath.length > 0
        ? reverse.lossOnPath.length > 0
          ? "both"
          : "forward"
        : reverse.lossOnPath.length > 0
          ? "reverse"
          : "none";
    const routers = [...new Set([...forward.routers, ...reverse.routers])];
    const answerFrom = Object.fromEntries(routers.map((r) => [r, plan.nodes.get(r)?.answerFrom ?? "route"]));
    const scenario: PairScenario = {
      name,
      a,
      b,
      family,
      description: "",
      forward,
      reverse,
      forwardOnly: forward.routers.filter((r) => !rev.has(r)),
      reverseOnly: reverse.routers.filter((r) => !fwd.has(r)),
      shared: forward.routers.filter((r) => rev.has(r)),
      answerFrom,
      faultDirection,
      losses: losses.map((l) => ({ ...l })),
      checks,
    };
    scenario.description = `${describeDirection(forward)}; ${describeDirection(reverse)} (IPv${family}; fault: ${faultDirection})`;
    return scenario;
  };
  return {
    asym: pair("asym", "fra", "sin", 4, []),
    asym6: pair("asym6", "fra", "sin", 6, []),
    retloss: pair("retloss", "ams", "nyc", 4, [RETURN_LOSS]),
    fwdloss: pair("fwdloss", "nyc", "ams", 4, [RETURN_LOSS]),
    bothloss: pair("bothloss", "ams", "nyc", 4, [RETURN_LOSS, FORWARD_LOSS]),
    conventions: pair("conventions", "ams", "nyc", 4, [], ["routers"]),
  };
}

/** What a reference lab with this prefix and host slot looks like, without building it. */
export function describeReferenceLab(
  prefix: string,
  hostSlot?: number,
): Omit<ReferenceLab, keyof LabHandle | "labCidrs"> & { plan: LabPlan; defaultLosses: DirectedLoss[] } {
  const plan = planLab(referenceTopology(hostSlot), prefix);
  return {
    plan,
    hostAddress: hostSlot !== undefined ? hostLinkAddresses(hostSlot).host : { v4: "" },
    scenarios: referenceScenarios(plan),
    pairs: pairScenarios(plan),
    nodes: REFERENCE_NODES,
    addr: (node: string, family: Family = 4) => nodeAddress(plan, node, family),
    defaultLosses: DEFAULT_LOSSES.map((l) => ({ ...l })),
  };
}

/**
 * Builds the reference lab ("the lab internet") with a per-run prefix (or the given one).
 * With `withHost` (default) the root namespace gets an address on the lab (hostAddress) and
 * routes to the lab ranges, so services in the root namespace are reachable from every node.
 *
 * @example
 * const lab = await startReferenceLab();
 * const s = lab.scenarios.throttle;
 * const r = await lab.exec(s.from, ["mtr", "-n", "-r", "-c", "10", "-i", "0.1", s.target]);
 * await lab.down();
 */
export async function startReferenceLab(
  opts: { prefix?: string; withHost?: boolean; persistent?: boolean } = {},
): Promise<ReferenceLab> {
  const withHost = opts.withHost ?? true;
  const prefix = opts.prefix ?? randomPrefix();
  const slot = withHost ? claimSlot(prefix, MAX_HOST_SLOTS) : undefined;
  let lab: LabHandle;
  try {
    lab = await buildLab(referenceTopology(slot), {
      prefix,
      ...(opts.persistent ? { persistent: true } : {}),
      ...(slot !== undefined ? { hostSlot: slot } : {}),
    });
  } catch (err) {
    if (slot !== undefined) releaseSlot(prefix, slot);
    throw err;
  }
  const hostAddress = slot !== undefined ? hostLinkAddresses(slot).host : { v4: "" };
  const scenarios = referenceScenarios(lab.plan);
  return Object.assign(lab, {
    hostAddress,
    addr: (node: string, family: 4 | 6 = 4) => nodeAddress(lab.plan, node, family),
    labCidrs: [...LAB_CIDRS],
    scenarios,
    pairs: pairScenarios(lab.plan),
    nodes: REFERENCE_NODES,
  });
}
