import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Family } from "./address";
import { type FlowLab, startFlowLab } from "./flow-topology";
import { parseMtrReport } from "./mtr";
import { runMtr } from "./run-mtr";

/** Probes per reading: a free flow misses one of two branches with probability 2^-19. */
const PROBES = 20;

// Builds the flow lab (src/flow-topology.ts) and reads it with the real mtr: what mtr can show
// of each part. What needs probes that hold a flow (ICMP, TCP, IPv6), the NAT's quotes and
// Record Route is read with lg-probe in packages/tracer/test/flows.lab.test.ts.
describe("the flow lab, read with the real mtr", { timeout: 60_000 }, () => {
  let lab: FlowLab;

  beforeAll(async () => {
    lab = await startFlowLab();
  }, 60_000);

  afterAll(async () => {
    await lab?.down();
  });

  const branches = (family: Family) => [lab.ecmp.branches[family].a, lab.ecmp.branches[family].b].sort();

  it.each([
    ["ICMP (mtr varies the checksum with the sequence)", "icmp", 4],
    ["UDP", "udp", 4],
    ["TCP", "tcp", 4],
    ["ICMPv6", "icmp", 6],
    ["UDP over IPv6", "udp", 6],
    ["TCP over IPv6", "tcp", 6],
  ] as const)(
    "free %s probes reach both ECMP branches at TTL 2, and the target",
    async (_name, protocol, family) => {
      const run = await runMtr(lab, lab.ecmp.from, {
        target: lab.ecmp.target[family],
        family,
        protocol,
        ...(protocol === "tcp" ? { port: lab.ecmp.tcpPort } : {}),
        count: PROBES,
        format: "report",
      });
      expect([...(run.hops[lab.ecmp.ttl - 1]?.responders ?? [])].sort()).toEqual(branches(family));
      expect(run.hops.at(-1)?.host).toBe(lab.ecmp.target[family]);
    },
  );

  it("a pinned UDP flow keeps to one branch, and flows with other source ports take the other", async () => {
    const seen = new Set<string>();
    for (const localPort of [40000, 40001, 40002, 40003]) {
      const r = await lab.exec(lab.ecmp.from, [
        "mtr",
        "-n",
        "-r",
        "-w",
        "-c",
        String(PROBES / 2),
        "-i",
        "0.1",
        "-G",
        "0.5",
        "-u",
        "-P",
        "33434",
        "-L",
        String(localPort),
        lab.ecmp.target[4],
      ]);
      expect(r.code).toBe(0);
      const responders = parseMtrReport(r.stdout).hops[lab.ecmp.ttl - 1]?.responders ?? [];
      expect(responders, `-L ${localPort}`).toHaveLength(1);
      for (const address of responders) seen.add(address);
    }
    // The hash seed is fixed (FLOW_HASH_SEED): these four flows take both branches in every build.
    expect([...seen].sort()).toEqual(branches(4));
  });

  it.each([4, 6] as const)("IPv%s: the target beyond the NAT answers through it", async (family) => {
    const run = await runMtr(lab, lab.nat.from, {
      target: lab.nat.target[family],
      family,
      count: 5,
      format: "report",
    });
    expect(run.hops.map((h) => h.host)).toEqual(lab.nat.hops[family]);
    expect(run.hops.every((h) => h.lossPct === 0)).toBe(true);
  });

  it("the way to trr shows rrthere only: rrback is on its way back", async () => {
    const run = await runMtr(lab, lab.recordRoute.from, {
      target: lab.recordRoute.target,
      count: 5,
      format: "report",
    });
    const hosts = run.hops.map((h) => h.host);
    expect(hosts).toEqual(lab.recordRoute.hops);
    expect(hosts).not.toContain(lab.recordRoute.returnOnly);
    expect(lab.recordRoute.recorded).toContain(lab.recordRoute.returnOnly);
  });
});
