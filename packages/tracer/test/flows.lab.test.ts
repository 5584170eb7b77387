import { resolve } from "node:path";
import { type FlowLab, startFlowLab } from "@lg/netlab";
import type { NatReading, RecordRouteHint } from "@lg/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatProbeCommand, parseReplyLine } from "../src/packet/command";
import type { ProbeAnswer, ProbeOutcome, ProbeSpec } from "../src/packet/types";
import { LG, mtrAndLgReports, reportArgs, respondersPerHop } from "./mtr-reports";

/**
 * Flow pinning, --mda, NAT and Record Route in the flow lab (packages/netlab, startFlowLab):
 * src -> split, which balances tflow's prefix over bra and brb (TTL 2) on the 5-tuple for UDP
 * and TCP and on the ICMP checksum for ICMP, in both families; a stateless NAT between hop 2
 * and hop 3 towards tnat; trr, which answers over a router the way there does not cross.
 * `bin/lg trace` and `mtr` run in src; lg-probe (helper/build/lg-probe) is also driven directly
 * where the check is about what the lab and the helper do, not the engine.
 */

const LG_PROBE = resolve(import.meta.dirname, "../helper/build/lg-probe");
const ENV = { LG_FROM_SOURCE: "1", LG_PROBE_HELPER: LG_PROBE };
/** Probes per hop of a pinned trace: all that come back at the ECMP hop come from one branch. */
const PINNED_COUNT = 10;
/** Probes per hop of a free trace: both branches answer except with probability 2^-19. */
const FREE_COUNT = 20;
const INTERVAL = "0.1";
/** Batches of three pinned flows tried before "both branches" fails. */
const FLOW_BATCHES = 3;

let lab: FlowLab;
beforeAll(async () => {
  lab = await startFlowLab();
}, 120_000);
afterAll(async () => {
  await lab?.down();
});

type Family = 4 | 6;
type Protocol = "icmp" | "udp" | "tcp";

interface JsonHop {
  ttl: number;
  sent: number;
  responders: { address: string; count: number }[];
}

async function exec(argv: string[], input?: string): Promise<string> {
  const r = await lab.exec(lab.ecmp.from, argv, {
    timeoutMs: 120_000,
    env: ENV,
    ...(input !== undefined ? { input } : {}),
  });
  if (r.code !== 0) throw new Error(`${argv.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

function protocolFlags(protocol: Protocol): string[] {
  if (protocol === "udp") return ["-u"];
  if (protocol === "tcp") return ["-T", "-P", String(lab.ecmp.tcpPort)];
  return [];
}

interface LgSection {
  hops: JsonHop[];
  nat?: NatReading;
  recordRoute?: RecordRouteHint;
}

/** `lg trace -n` from src, `count` probes per hop `INTERVAL` apart: what it prints. */
const lgTraceOutput = (flags: string[], target: string, count: number) =>
  exec([LG, "trace", "-n", "-c", String(count), "-i", INTERVAL, ...flags, target]);

/** `lg trace -n --json` from src; its `lg` section. */
async function lgTraceJson(flags: string[], target: string, count: number): Promise<LgSection> {
  const out = await lgTraceOutput(["--json", ...flags], target, count);
  return (JSON.parse(out) as { lg: LgSection }).lg;
}

/** The hops of `lg trace -n --json` from src. */
async function lgTrace(flags: string[], target: string, count: number): Promise<JsonHop[]> {
  return (await lgTraceJson(flags, target, count)).hops;
}

const at = (hops: JsonHop[], ttl: number) =>
  (hops.find((h) => h.ttl === ttl)?.responders ?? []).map((r) => r.address).sort();
const branches = (family: Family) => [lab.ecmp.branches[family].a, lab.ecmp.branches[family].b].sort();

/** Sends the probes through lg-probe in src in one run; the outcome of each, in order. */
async function lgProbe(probes: ProbeSpec[]): Promise<ProbeOutcome[]> {
  const out = await exec([LG_PROBE], probes.map((p, i) => `${formatProbeCommand(i + 1, p)}\n`).join(""));
  const outcomes: ProbeOutcome[] = [];
  for (const line of out.split("\n")) {
    const parsed = parseReplyLine(line);
    if (parsed) outcomes[parsed.token - 1] = parsed.outcome;
  }
  return probes.map((_, i) => outcomes[i] ?? { kind: "no-reply" });
}

function answer(outcome: ProbeOutcome): ProbeAnswer {
  if (outcome.kind === "no-reply" || outcome.kind === "failure")
    throw new Error(`no answer: ${JSON.stringify(outcome)}`);
  return outcome;
}

const CASES = [
  ["ICMP over IPv4", "icmp", 4],
  ["UDP over IPv4", "udp", 4],
  ["TCP SYN over IPv4", "tcp", 4],
  ["ICMPv6", "icmp", 6],
  ["UDP over IPv6", "udp", 6],
  ["TCP SYN over IPv6", "tcp", 6],
] as const;

describe("the flow lab with lg-probe directly", { timeout: 60_000 }, () => {
  it.each([4, 6] as const)(
    "IPv%s: ICMP echoes that hold their checksum (flow-id) keep to one branch; other flow ids take the other",
    async (family) => {
      const flowIds = [100, 101, 102, 103];
      const repeats = 5;
      const probes = flowIds.flatMap((flowId) =>
        Array.from(
          { length: repeats },
          (): ProbeSpec => ({
            family,
            address: lab.ecmp.target[family],
            ttl: lab.ecmp.ttl,
            protocol: "icmp",
            timeoutSec: 2,
            flowId,
          }),
        ),
      );
      const outcomes = (await lgProbe(probes)).map(answer);
      const seen = new Set<string>();
      flowIds.forEach((flowId, k) => {
        const mine = outcomes.slice(k * repeats, (k + 1) * repeats);
        const responders = new Set(mine.map((o) => o.address));
        expect([...responders], `flow-id ${flowId}`).toHaveLength(1);
        // The checksum held is the one the router hashed: every quote carries the same one.
        expect(new Set(mine.map((o) => o.quoted?.checksum)).size, `flow-id ${flowId}`).toBe(1);
        for (const r of responders) seen.add(r);
      });
      expect([...seen].sort()).toEqual(branches(family));
    },
  );

  it.each([4, 6] as const)(
    "IPv%s: routers before the NAT quote the probe as sent, routers beyond it quote the NAT's address and checksum",
    async (family) => {
      const ttls = [1, 2, 3, 4];
      const outcomes = (
        await lgProbe(
          ttls.map((ttl) => ({
            family,
            address: lab.nat.target[family],
            ttl,
            protocol: "udp",
            port: 33434,
            localPort: 40000,
            timeoutSec: 2,
          })),
        )
      ).map(answer);
      expect(outcomes.map((o) => o.address)).toEqual(lab.nat.hops[family]);
      const k = lab.nat.afterTtl;
      for (const o of outcomes.slice(0, k)) {
        expect(o.quoted?.source).toBe(lab.nat.inside[family]);
        expect(o.quoted?.checksum).toBe(o.quoted?.sentChecksum);
      }
      for (const o of outcomes.slice(k)) {
        expect(o.quoted?.source).toBe(lab.nat.outside[family]);
        expect(o.quoted?.checksum).not.toBe(o.quoted?.sentChecksum);
      }
    },
  );

  it("an echo with Record Route to trr comes back with the router only its way back crosses", async () => {
    const [outcome] = await lgProbe([
      {
        family: 4,
        address: lab.recordRoute.target,
        ttl: 64,
        protocol: "icmp",
        timeoutSec: 2,
        recordRoute: true,
      },
    ]);
    const reply = answer(outcome as ProbeOutcome);
    expect(reply.kind).toBe("reply");
    expect(reply.recordRoute).toEqual(lab.recordRoute.recorded);
  });
});

describe("lg trace --pin-flow and --mda in the flow lab", { timeout: 120_000 }, () => {
  it.each(CASES)(
    "%s with --pin-flow: one branch answers at the ECMP hop, the target answers, and no NAT is read",
    async (_n, protocol, family) => {
      const trace = await lgTraceJson(
        [`-${family}`, "--pin-flow", ...protocolFlags(protocol)],
        lab.ecmp.target[family],
        PINNED_COUNT,
      );
      const { hops } = trace;
      expect(trace.nat).toBeUndefined();
      const responders = at(hops, lab.ecmp.ttl);
      expect(responders).toHaveLength(1);
      expect(branches(family)).toContain(responders[0]);
      expect(hops.at(-1)?.responders.map((r) => r.address)).toEqual([lab.ecmp.target[family]]);
    },
  );

  it.each(CASES.filter(([, p]) => p !== "icmp"))(
    "%s pinned flows with other source ports (-L) each keep to one branch, and together take both",
    async (_n, protocol, family) => {
      const seen = new Set<string>();
      // Three flows at a time, until both branches showed (at most FLOW_BATCHES batches).
      for (let batch = 0; batch < FLOW_BATCHES && seen.size < 2; batch++) {
        const ports = [0, 1, 2].map((k) => 40000 + 3 * batch + k);
        const runs = await Promise.all(
          ports.map((localPort) =>
            lgTrace(
              [`-${family}`, "--pin-flow", "-L", String(localPort), ...protocolFlags(protocol)],
              lab.ecmp.target[family],
              PINNED_COUNT / 2,
            ),
          ),
        );
        runs.forEach((hops, k) => {
          const responders = at(hops, lab.ecmp.ttl);
          expect(responders, `-L ${ports[k]}`).toHaveLength(1);
          for (const r of responders) seen.add(r);
        });
      }
      // The lab's hash seed is fixed (FLOW_HASH_SEED): these flows take both branches in every build.
      expect([...seen].sort()).toEqual(branches(family));
    },
  );

  it.each(CASES)(
    "%s with --mda: both branches at the ECMP hop, after the 11 probes the stopping rule asks for two next hops",
    async (_n, protocol, family) => {
      const hops = await lgTrace(
        [`-${family}`, "--mda", ...protocolFlags(protocol)],
        lab.ecmp.target[family],
        3,
      );
      expect(at(hops, lab.ecmp.ttl)).toEqual(branches(family));
      // The 95% rule for two next hops asks for 11 probes.
      expect(hops.find((h) => h.ttl === lab.ecmp.ttl)?.sent).toBeGreaterThanOrEqual(11);
    },
  );
});

describe("lg trace reads the NAT and the way back in the flow lab", { timeout: 120_000 }, () => {
  // Quotes come only from lg-probe: pinned ICMP (flow id), TCP with a fixed source port and every
  // pinned IPv6 flow go through it; a pinned IPv4 UDP flow is mtr-packet's and carries no quote.
  it.each(CASES.filter(([, p, f]) => !(p === "udp" && f === 4)))(
    "%s with --pin-flow to the target beyond the NAT: a NAT between hop 2 and hop 3, and its address",
    async (_n, protocol, family) => {
      const { hops, nat } = await lgTraceJson(
        [`-${family}`, "--pin-flow", ...protocolFlags(protocol)],
        lab.nat.target[family],
        PINNED_COUNT,
      );
      expect(hops.map((h) => h.responders.map((r) => r.address))).toEqual(
        lab.nat.hops[family].map((a) => [a]),
      );
      expect(nat?.afterTtl).toBe(lab.nat.afterTtl);
      expect(nat?.beforeTtl).toBe(lab.nat.afterTtl + 1);
      expect(nat?.publicSource).toBe(lab.nat.outside[family]);
      // The pseudo-header holds the address: UDP, TCP and ICMPv6 checksums change with it, ICMP's does not.
      expect(nat?.rewrote).toEqual(protocol === "icmp" && family === 4 ? ["source"] : ["source", "checksum"]);
    },
  );

  it("the report names the NAT under the table", async () => {
    const report = await lgTraceOutput(
      ["-r", "-w", "--pin-flow", ...protocolFlags("tcp")],
      lab.nat.target[4],
      PINNED_COUNT,
    );
    expect(report).toContain(`NAT between hop ${lab.nat.afterTtl} and hop ${lab.nat.afterTtl + 1}`);
    expect(report).toContain(lab.nat.outside[4]);
  });

  it("--record-route: the way back holds rrback, which no hop of the trace shows", async () => {
    const rr = lab.recordRoute;
    const { hops, recordRoute } = await lgTraceJson(["--record-route"], rr.target, 3);
    expect(hops.map((h) => h.responders.map((r) => r.address))).toEqual(rr.hops.map((a) => [a]));
    expect(recordRoute?.status).toBe("ok");
    expect(recordRoute?.recorded).toEqual(rr.recorded);
    // Split at the target (recorded twice: on receipt and as the reply's source); src's own address left out.
    expect(recordRoute?.forward).toEqual(rr.recorded.slice(0, rr.recorded.indexOf(rr.target)));
    expect(recordRoute?.back).toEqual(
      rr.recorded.slice(rr.recorded.lastIndexOf(rr.target) + 1).filter((a) => a !== lab.addr("src")),
    );
    expect(recordRoute?.back).toContain(rr.returnOnly);
    expect(hops.flatMap((h) => h.responders.map((r) => r.address))).not.toContain(rr.returnOnly);
  });

  it("the report prints the way back under the table", async () => {
    const rr = lab.recordRoute;
    const report = await lgTraceOutput(["-r", "-w", "--record-route"], rr.target, 3);
    const back = report.split("\n").find((l) => l.startsWith("Way back"));
    expect(back).toContain(rr.returnOnly);
  });
});

describe("lg trace against mtr in the flow lab", { timeout: 120_000 }, () => {
  /** mtr -n -r -w and lg trace -n -r -w with the same flags from src: responders per hop. */
  async function bothReports(flags: string[], target: string, count: number) {
    const { mtr, ours } = await mtrAndLgReports(exec, reportArgs(count, INTERVAL, flags, target));
    return { mtr: respondersPerHop(mtr), ours: respondersPerHop(ours) };
  }

  it("a pinned IPv4 UDP flow (-u -P 33434 -L 40000): the same single branch as mtr at every hop", async () => {
    const { mtr, ours } = await bothReports(
      ["-u", "-P", "33434", "-L", "40000"],
      lab.ecmp.target[4],
      PINNED_COUNT,
    );
    expect(ours).toEqual(mtr);
    expect(ours[lab.ecmp.ttl - 1]).toHaveLength(1);
  });

  it.each(CASES)(
    "free %s probes spread over both branches at the ECMP hop, and lg sees every hop as mtr does",
    async (_n, protocol, family) => {
      const { mtr, ours } = await bothReports(
        [`-${family}`, ...protocolFlags(protocol)],
        lab.ecmp.target[family],
        FREE_COUNT,
      );
      expect(ours[lab.ecmp.ttl - 1]).toEqual(branches(family));
      expect(ours).toEqual(mtr);
    },
  );
});
