import { randomBytes } from "node:crypto";
import { familyOf, hostOf, networkOf } from "./address";
import { helperPath } from "./helpers";
import { installExitHooks, trackLab, untrackLab } from "./hooks";
import { applyLinkLoss, type DirectedLoss } from "./loss";
import { type LabPlan, nodeOfAddress, type PlannedNode, peerInterface, planLab } from "./plan";
import { type LabProcess, releaseProcess, spawnInNamespace, waitForOutput } from "./process";
import {
  cleanupStaleLabsSync,
  existingNamespaces,
  isAlive,
  isValidPrefix,
  type LabRecord,
  readRecord,
  teardownRecord,
  writeRecord,
} from "./registry";
import { LabError, run, runChecked } from "./system";
import type { Topology } from "./topology";

export interface ExecOptions {
  timeoutMs?: number;
  input?: string;
  env?: Record<string, string>;
}

export interface LabHandle {
  /** Per-run prefix of namespace and interface names. */
  prefix: string;
  /** Namespace name of a node. */
  ns(node: string): string;
  /** Runs a command in a node; never throws on a non-zero exit. */
  exec(
    node: string,
    argv: string[],
    opts?: ExecOptions,
  ): Promise<{ stdout: string; stderr: string; code: number }>;
  /** Starts a long-running process in a node; the lab stops it on teardown. */
  spawn(node: string, argv: string[], opts?: { env?: Record<string, string>; cwd?: string }): LabProcess;
  /** Resolves once `address` answers an ICMP echo sent from `node`. */
  waitFor(node: string, address: string, opts?: { timeoutMs?: number }): Promise<void>;
  /** Idempotent teardown: processes, namespaces, host link, registry record. */
  down(): Promise<void>;
  /** The resolved plan (interfaces, addresses, routes) the lab was built from. */
  plan: LabPlan;
  /** Processes named in the topology, by node then process name. */
  processes: Map<string, LabProcess>;
  /**
   * The node that owns a lab address (interface or loopback, either family), "host" for the root
   * namespace's end of the host link, undefined for an address that is no one's.
   */
  nodeOf(address: string): string | undefined;
  /**
   * Makes `from` drop `probability` (0-1) of the packets it sends out towards its neighbour
   * `toward` — forwarded ones and its own answers, IPv4 and IPv6 — replacing what was set on that
   * stretch before; 0 clears it.
   * @example await lab.setLinkLoss("fwdb", "enyc", 0.25);
   */
  setLinkLoss(from: string, toward: string, probability: number): Promise<void>;
  /** Removes the loss set on the stretch from `from` towards `toward` (nothing if none). */
  clearLinkLoss(from: string, toward: string): Promise<void>;
  /** Makes exactly these stretches lose (clearing every other one set so far). */
  setLosses(losses: DirectedLoss[]): Promise<void>;
  /** The directed losses in force: the topology's `egressLoss` and what was set since. */
  linkLosses(): DirectedLoss[];
}

export interface BuildOptions {
  /** Name prefix; default "lg" + 4 random characters. Two labs never share a prefix. */
  prefix?: string;
  /**
   * Leave the lab up when this process exits (for `lg lab up`): its processes are detached
   * and the cleanup of dead owners skips it; only teardownLab(prefix) removes it.
   */
  persistent?: boolean;
}

/** Kernel defaults made explicit so the lab never drops or throttles on its own. */
const BASE_SYSCTLS: Record<string, string> = {
  "net.ipv4.icmp_ratelimit": "0",
  "net.ipv4.icmp_msgs_per_sec": "100000",
  "net.ipv4.icmp_msgs_burst": "10000",
  "net.ipv6.icmp.ratelimit": "0",
  "net.ipv4.conf.all.rp_filter": "0",
  "net.ipv4.conf.default.rp_filter": "0",
  "net.ipv6.conf.all.accept_dad": "0",
  "net.ipv6.conf.default.accept_dad": "0",
  "net.ipv6.conf.all.accept_ra": "0",
  "net.ipv6.conf.default.accept_ra": "0",
};
const ROUTER_SYSCTLS: Record<string, string> = {
  "net.ipv4.ip_forward": "1",
  "net.ipv6.conf.all.forwarding": "1",
};

/** IPv4 ICMP errors from the interface the probe came in on (IPv6 does so unless a route names a src). */
const INBOUND_SYSCTLS: Record<string, string> = { "net.ipv4.icmp_errors_use_inbound_ifaddr": "1" };

export function randomPrefix(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = randomBytes(4);
  let out = "lg";
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

/** Per-family base of policy-routing rule preferences for host links (one per slot). */
export const HOST_RULE_PREF_BASE = 10_500;
export const HOST_TABLE_BASE = 10_500;

/**
 * Builds a topology in network namespaces. Leftovers of crashed runs are removed first; the
 * lab is torn down on down(), on process exit and on SIGINT/SIGTERM/SIGHUP.
 *
 * @example
 * const lab = await buildLab({ nodes: { a: {}, b: {} }, links: [{ a: "a", b: "b",
 *   aAddr: { v4: "198.18.0.1/24" }, bAddr: { v4: "198.18.0.2/24" } }] });
 * await lab.waitFor("a", "198.18.0.2");
 * await lab.down();
 */
export async function buildLab(
  topology: Topology,
  opts: BuildOptions & { hostSlot?: number } = {},
): Promise<LabHandle> {
  cleanupStaleLabsSync();
  const prefix = opts.prefix ?? randomPrefix();
  if (!isValidPrefix(prefix)) {
    throw new LabError(`invalid lab prefix "${prefix}": 2-8 lowercase letters/digits starting with a letter`);
  }
  const existing = readRecord(prefix);
  if (existing && (existing.persistent || isAlive(existing.pid))) {
    throw new LabError(`a lab with prefix "${prefix}" is already up (pid ${existing.pid})`);
  }
  const plan = planLab(topology, prefix);
  // Never adopt (and so never tear down) a namespace this lab did not create.
  const taken = new Set(existingNamespaces());
  const clash = [...plan.nodes.values()].find((n) => taken.has(n.ns));
  if (clash) throw new LabError(`network namespace ${clash.ns} already exists; choose another prefix`);
  const record: LabRecord = {
    prefix,
    pid: process.pid,
    createdAt: new Date().toISOString(),
    namespaces: [...plan.nodes.values()].map((n) => n.ns),
  };
  if (plan.hostInterface) record.hostInterface = plan.hostInterface.name;
  if (opts.hostSlot !== undefined) record.slot = opts.hostSlot;
  if (opts.persistent) record.persistent = true;
  const detached = opts.persistent ?? false;
  writeRecord(record);
  installExitHooks();
  trackLab(record);
  const processes = new Map<string, LabProcess>();
  const extra: LabProcess[] = [];
  let closed = false;
  const down = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await Promise.all([...processes.values(), ...extra].map((p) => p.stop().catch(() => null)));
    teardownRecord(record);
    untrackLab(record);
  };
  try {
    await runChecked(["ip", "-batch", "-"], {
      input: [...plan.nodes.values()].map((n) => `netns add ${n.ns}\n`).join(""),
    });
    // Sysctls before any interface exists: new interfaces inherit `default` (no DAD delay).
    await Promise.all([...plan.nodes.values()].map((node) => applySysctls(plan, node)));
    await createLinks(plan);
    const wires = await startWires(plan, detached);
    record.pids = wires.map((w) => w.pid);
    writeRecord(record);
    extra.push(...wires);
    await Promise.all([...plan.nodes.values()].map((node) => configureNode(node)));
    if (plan.hostInterface && topology.host) {
      record.hostRules = await configureHostLink(plan, opts.hostSlot);
      writeRecord(record);
    }
    await verifyLinks(plan);
    // Firewall rules last: some silence a node on purpose, which would fail the link check.
    await Promise.all([...plan.nodes.values()].map((node) => applyFirewall(plan, node)));
    for (const [name, spec] of Object.entries(topology.nodes)) {
      for (const p of spec.processes ?? []) {
        const argv = p.helper ? ["python3", helperPath(p.helper), ...p.argv] : p.argv;
        const proc = spawnInNamespace(plan.nodes.get(name)?.ns ?? "", argv, {
          ...(p.env ? { env: p.env } : {}),
          detached,
        });
        processes.set(`${name}/${p.name}`, proc);
        if (p.readyText) await waitForOutput(proc, p.readyText, 10_000, `${p.name} in ${name}`);
        proc.stdout.resume();
        proc.stderr.resume();
      }
    }
    if (detached) {
      for (const proc of [...processes.values(), ...wires]) releaseProcess(proc);
      untrackLab(record);
    }
  } catch (err) {
    await down();
    throw err;
  }
  const nsOf = (node: string): string => {
    const planned = plan.nodes.get(node);
    if (!planned) throw new LabError(`no node "${node}" in lab ${prefix}`);
    return planned.ns;
  };
  const losses = new Map<string, DirectedLoss>();
  const lossKey = (from: string, to: string) => `${from}>${to}`;
  for (const [from, spec] of Object.entries(topology.nodes)) {
    for (const [to, probability] of Object.entries(spec.egressLoss ?? {})) {
      if (probability > 0) losses.set(lossKey(from, to), { from, to, probability });
    }
  }
  const setLinkLoss = async (from: string, toward: string, probability: number): Promise<void> => {
    if (closed) throw new LabError(`lab ${prefix} is down`);
    await applyLinkLoss(plan, from, toward, probability);
    if (probability > 0) losses.set(lossKey(from, toward), { from, to: toward, probability });
    else losses.delete(lossKey(from, toward));
  };
  const handle: LabHandle = {
    prefix,
    plan,
    processes,
    nodeOf: (address) => nodeOfAddress(plan, address),
    setLinkLoss,
    clearLinkLoss: (from, toward) => setLinkLoss(from, toward, 0),
    setLosses: async (wanted) => {
      const keep = new Set(wanted.map((l) => lossKey(l.from, l.to)));
      for (const l of [...losses.values()])
        if (!keep.has(lossKey(l.from, l.to))) await setLinkLoss(l.from, l.to, 0);
      for (const l of wanted) await setLinkLoss(l.from, l.to, l.probability);
    },
    linkLosses: () => [...losses.values()].map((l) => ({ ...l })),
    ns: nsOf,
    exec: async (node, argv, execOpts = {}) => run(["ip", "netns", "exec", nsOf(node), ...argv], execOpts),
    spawn: (node, argv, spawnOpts = {}) => {
      const proc = spawnInNamespace(nsOf(node), argv, spawnOpts);
      extra.push(proc);
      return proc;
    },
    waitFor: async (node, address, waitOpts = {}) =>
      waitForAddress(nsOf(node), address, waitOpts.timeoutMs ?? 10_000),
    down,
  };
  return handle;
}

/** All veth pairs in one `ip -batch` from the root namespace, created inside their namespaces. */
async function createLinks(plan: LabPlan): Promise<void> {
  const lines: string[] = [];
  plan.topology.links.forEach((link, i) => {
    if ((link.kind ?? "veth") !== "veth") return;
    const a = plan.nodes.get(link.a);
    const b = plan.nodes.get(link.b);
    const ia = a?.interfaces.find((x) => x.link === i);
    const ib = b?.interfaces.find((x) => x.link === i);
    if (!a || !b || !ia || !ib) return;
    lines.push(`link add ${ia.name} netns ${a.ns} type veth peer name ${ib.name} netns ${b.ns}`);
  });
  if (plan.hostInterface && plan.topology.host) {
    const node = plan.nodes.get(plan.topology.host.node);
    const inner = node?.interfaces.find((x) => x.link === -1);
    if (node && inner)
      lines.push(`link add ${plan.hostInterface.name} type veth peer name ${inner.name} netns ${node.ns}`);
  }
  await runChecked(["ip", "-batch", "-"], { input: `${lines.join("\n")}\n` });
}

async function startWires(plan: LabPlan, detached: boolean): Promise<LabProcess[]> {
  const wires: LabProcess[] = [];
  const waits: Promise<void>[] = [];
  plan.topology.links.forEach((link, i) => {
    if (link.kind !== "wire") return;
    const a = plan.nodes.get(link.a);
    const b = plan.nodes.get(link.b);
    const ia = a?.interfaces.find((x) => x.link === i);
    const ib = b?.interfaces.find((x) => x.link === i);
    if (!a || !b || !ia || !ib) return;
    // The wire's own network namespace ends up as b's, so `ip netns pids` finds it there.
    const proc = spawnInNamespace(
      a.ns,
      ["python3", helperPath("wire.py"), String(link.delayMs ?? 0), a.ns, ia.name, b.ns, ib.name],
      { detached },
    );
    wires.push(proc);
    waits.push(
      waitForOutput(proc, "ready", 10_000, `delay wire ${link.a}-${link.b}`).then(() => {
        proc.stdout.resume();
        proc.stderr.resume();
      }),
    );
  });
  try {
    await Promise.all(waits);
  } catch (err) {
    await Promise.all(wires.map((w) => w.stop()));
    throw err;
  }
  return wires;
}

function routeLine(route: PlannedNode["routes"][number]): string {
  const type = route.type && route.type !== "unicast" ? `${route.type} ` : "";
  let line = `route replace ${type}${route.to}`;
  if (!type && route.via) {
    const vias = Array.isArray(route.via) ? route.via : [route.via];
    line += vias.length === 1 ? ` via ${vias[0]}` : vias.map((v) => ` nexthop via ${v}`).join("");
  }
  if (route.src) line += ` src ${route.src}`;
  return line;
}

async function applySysctls(plan: LabPlan, node: PlannedNode): Promise<void> {
  const spec = plan.topology.nodes[node.name] ?? {};
  const assignments = (values: Record<string, string | number>) =>
    Object.entries(values).map(([k, v]) => `${k}=${v}`);
  // The base set is best effort (-e): older kernels keep some ICMP limits global, not per
  // namespace. What a router or the topology asks for must take effect.
  const required: Record<string, string | number> = {
    ...(spec.router ? ROUTER_SYSCTLS : {}),
    ...(node.answerFrom === "inbound" ? INBOUND_SYSCTLS : {}),
    ...spec.sysctls,
  };
  const script =
    Object.keys(required).length > 0
      ? 'sysctl -q -e -w "$@" >/dev/null 2>&1; shift "$BASE"; sysctl -q -w "$@"'
      : 'sysctl -q -e -w "$@"';
  const base = assignments(BASE_SYSCTLS);
  await runChecked(
    ["ip", "netns", "exec", node.ns, "sh", "-c", script, "sysctl", ...base, ...assignments(required)],
    {
      env: { BASE: String(base.length) },
    },
  );
}

/** Addresses, links up and routes: one `ip -n NS -batch` per node. */
async function configureNode(node: PlannedNode): Promise<void> {
  const lines = ["link set lo up"];
  for (const lo of node.loopback) {
    const cidr = `${lo}${lo.includes("/") ? "" : familyOf(lo) === 4 ? "/32" : "/128"}`;
    lines.push(`addr add ${cidr} dev lo${familyOf(lo) === 6 ? " nodad" : ""}`);
  }
  for (const iface of node.interfaces) {
    if (iface.v4) lines.push(`addr add ${iface.v4} dev ${iface.name}`);
    if (iface.v6) lines.push(`addr add ${iface.v6} dev ${iface.name} nodad`);
    lines.push(`link set ${iface.name} up`);
  }
  const routes = [...connectedSourceLines(node), ...node.routes.map(routeLine)];
  // An IPv6 route refuses a `src` that is still tentative, and even a nodad address is for a
  // moment (the kernel finishes it in a work queue): add the routes once none is.
  if (!node.routes.some((r) => r.family === 6 && r.src) && !node.src.v6) {
    await runChecked(["ip", "-n", node.ns, "-batch", "-"], {
      input: `${[...lines, ...routes].join("\n")}\n`,
    });
    return;
  }
  await runChecked(["ip", "-n", node.ns, "-batch", "-"], { input: `${lines.join("\n")}\n` });
  await waitUntilNoTentative(node.ns, TENTATIVE_WAIT_MS);
  await runChecked(["ip", "-n", node.ns, "-batch", "-"], { input: `${routes.join("\n")}\n` });
}

/** How long an IPv6 address may stay tentative after a nodad add (it takes microseconds to milliseconds). */
const TENTATIVE_WAIT_MS = 5_000;

async function waitUntilNoTentative(ns: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = await runChecked(["ip", "-n", ns, "-6", "-o", "addr", "show", "tentative"]);
    if (out.trim() === "") return;
    if (Date.now() >= deadline) throw new LabError(`IPv6 addresses in ${ns} stay tentative: ${out.trim()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A loopback-answering node's connected subnets: the kernel's own routes, replaced by the same
 * routes with `src <loopback>`, so that its ICMP errors to a prober on a neighbouring link leave
 * with the loopback too (the kernel takes an error's source from the route back to the prober).
 */
export function connectedSourceLines(node: PlannedNode): string[] {
  const lines: string[] = [];
  for (const iface of node.interfaces) {
    if (iface.v4 && node.src.v4)
      lines.push(
        `route replace ${networkOf(iface.v4)} dev ${iface.name} proto kernel scope link src ${node.src.v4}`,
      );
    // IPv6 connected routes have metric 256: replace that one rather than add a second.
    if (iface.v6 && node.src.v6)
      lines.push(
        `route replace ${networkOf(iface.v6)} dev ${iface.name} proto kernel metric 256 src ${node.src.v6}`,
      );
  }
  return lines;
}

async function applyFirewall(plan: LabPlan, node: PlannedNode): Promise<void> {
  const spec = plan.topology.nodes[node.name] ?? {};
  for (const [cmd, rules] of [
    ["iptables-restore", spec.iptables],
    ["ip6tables-restore", spec.ip6tables],
  ] as const) {
    if (!rules || rules.length === 0) continue;
    await runChecked(["ip", "netns", "exec", node.ns, cmd, "--noflush"], { input: restoreInput(rules) });
  }
  for (const [toward, probability] of Object.entries(spec.egressLoss ?? {})) {
    if (probability > 0) await applyLinkLoss(plan, node.name, toward, probability);
  }
}

/** Turns "-t nat -A POSTROUTING ..." rules into iptables-restore input, grouped by table. */
export function restoreInput(rules: string[]): string {
  const tables = new Map<string, string[]>();
  for (const rule of rules) {
    const m = /^\s*-t\s+(\S+)\s+(.*)$/.exec(rule);
    const table = m?.[1] ?? "filter";
    const body = m?.[2] ?? rule.trim();
    tables.set(table, [...(tables.get(table) ?? []), body]);
  }
  let out = "";
  for (const [table, bodies] of tables) out += `*${table}\n${bodies.join("\n")}\nCOMMIT\n`;
  return out;
}

/**
 * Root side of the host link: its addresses, and routes into the lab in a per-slot table
 * chosen by source address (so several labs can each answer their own nodes); the main table
 * gets the same routes only when no other lab holds them.
 */
async function configureHostLink(plan: LabPlan, slot: number | undefined): Promise<LabRecord["hostRules"]> {
  const host = plan.topology.host;
  const iface = plan.hostInterface;
  const node = host ? plan.nodes.get(host.node) : undefined;
  const inner = node?.interfaces.find((x) => x.link === -1);
  if (!host || !iface || !inner) return [];
  const peer = inner;
  const lines: string[] = [];
  if (iface.v6) lines.push(`addr add ${iface.v6} dev ${iface.name} nodad`);
  if (iface.v4) lines.push(`addr add ${iface.v4} dev ${iface.name}`);
  lines.push(`link set ${iface.name} up`);
  await runChecked(["ip", "-batch", "-"], { input: `${lines.join("\n")}\n` });
  const rules: NonNullable<LabRecord["hostRules"]> = [];
  for (const cidr of host.routes) {
    const family = familyOf(cidr);
    const via = family === 4 ? peer.v4 : peer.v6;
    const own = family === 4 ? iface.v4 : iface.v6;
    if (!via || !own) continue;
    const gw = hostOf(via);
    // Without a slot the lab owns the main table outright.
    await run(["ip", `-${family}`, "route", "add", cidr, "via", gw, "dev", iface.name]);
    if (slot === undefined) continue;
    const table = String(HOST_TABLE_BASE + slot);
    const pref = HOST_RULE_PREF_BASE + slot;
    await runChecked([
      "ip",
      `-${family}`,
      "route",
      "replace",
      cidr,
      "via",
      gw,
      "dev",
      iface.name,
      "table",
      table,
    ]);
    if (!rules.some((r) => r.family === family)) {
      await run(["ip", `-${family}`, "rule", "del", "pref", String(pref)]);
      await runChecked([
        "ip",
        `-${family}`,
        "rule",
        "add",
        "pref",
        String(pref),
        "from",
        hostOf(own),
        "table",
        table,
      ]);
      rules.push({ family, pref });
    }
  }
  return rules;
}

/** Sends one ICMP echo to each address from inside `ns` (one mtr-packet); returns those that answered. */
async function probeOnce(ns: string, addresses: string[]): Promise<Set<string>> {
  const input = addresses
    .map((a, i) => `${i + 1} send-probe ip-${familyOf(a)} ${hostOf(a)} timeout 1\n`)
    .join("");
  const r = await run(["ip", "netns", "exec", ns, "mtr-packet"], { input, timeoutMs: 3000 });
  const answered = new Set<string>();
  for (const line of r.stdout.split("\n")) {
    const m = /^(\d+) reply /.exec(line);
    const address = m?.[1] ? addresses[Number(m[1]) - 1] : undefined;
    if (address) answered.add(address);
  }
  return answered;
}

/** Probes until every address answers from inside `ns` or the time is up. */
async function waitForAddresses(ns: string, addresses: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pending = [...addresses];
  while (pending.length > 0) {
    const answered = await probeOnce(ns, pending);
    pending = pending.filter((a) => !answered.has(a));
    if (pending.length === 0) return;
    if (Date.now() >= deadline) {
      throw new LabError(`${pending.join(", ")} did not answer from ${ns} within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function waitForAddress(ns: string, address: string, timeoutMs: number): Promise<void> {
  return waitForAddresses(ns, [address], timeoutMs);
}

/**
 * Probes every node's link neighbours until all answer: a fresh link drops its first packets
 * for up to a second (neighbour discovery starts before the kernel marks the link ready),
 * and a lab that is ready when buildLab resolves spares every test a retry loop.
 */
async function verifyLinks(plan: LabPlan): Promise<void> {
  await Promise.all(
    [...plan.nodes.values()].map((node) => {
      const targets: string[] = [];
      for (const iface of node.interfaces) {
        const peer = peerInterface(plan, node.name, iface);
        if (peer?.v4) targets.push(hostOf(peer.v4));
        if (peer?.v6) targets.push(hostOf(peer.v6));
      }
      return targets.length > 0 ? waitForAddresses(node.ns, targets, 10_000) : Promise.resolve();
    }),
  );
}
