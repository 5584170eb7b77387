import { execFileSync } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type FlowLab, startFlowLab } from "@lg/netlab";
import type { NatReading, RecordRouteHint } from "@lg/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Tracer } from "../src/tracer";

/**
 * What lg-probe's answers let the tracer read, in the flow lab (packages/netlab, startFlowLab):
 * src -> split -> nat -> outer -> tnat, a stateless NAT between hop 2 and hop 3 (routers beyond it
 * quote nat's outside address and an adjusted checksum); src -> split -> rrthere -> trr, whose way
 * back goes over rrback, a router no forward trace shows. `bin/lg trace` runs in src; the timestamp
 * alias test runs in this process through a Tracer whose lg-probe is started in src's namespace.
 */

const HELPER_DIR = resolve(import.meta.dirname, "../helper");
const LG = resolve(import.meta.dirname, "../../../bin/lg");
const LG_PROBE = resolve(HELPER_DIR, "build/lg-probe");
const ENV = { LG_FROM_SOURCE: "1", LG_PROBE_HELPER: LG_PROBE };

let lab: FlowLab;
let dir: string;
let tracer: Tracer;
beforeAll(async () => {
  execFileSync("flock", ["/tmp/lg-probe-build.lock", "nice", "-n", "19", "make", "-s", "-C", HELPER_DIR]);
  lab = await startFlowLab();
  // lg-probe for an in-process Tracer, in src's namespace (ip netns exec execs it: same pid).
  dir = await mkdtemp(join(tmpdir(), "lg-readings-"));
  const inSrc = join(dir, "lg-probe-in-src");
  await writeFile(inSrc, `#!/bin/sh\nexec ip netns exec ${lab.ns("src")} ${LG_PROBE}\n`);
  await chmod(inSrc, 0o755);
  tracer = new Tracer({ lgProbePath: inSrc, resolveNames: false });
}, 120_000);
afterAll(async () => {
  await tracer?.close();
  await lab?.down();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface LgSection {
  hops: { ttl: number; host: string | null }[];
  nat?: NatReading;
  recordRoute?: RecordRouteHint;
}

async function lgTrace(flags: string[], target: string): Promise<string> {
  const argv = [LG, "trace", "-n", "-c", "3", "-i", "0.1", ...flags, target];
  const r = await lab.exec("src", argv, { timeoutMs: 120_000, env: ENV });
  if (r.code !== 0) throw new Error(`${argv.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const lgJson = async (flags: string[], target: string) =>
  (JSON.parse(await lgTrace(["-j", ...flags], target)) as { lg: LgSection }).lg;

describe("NAT detection in the flow lab (a stateless NAT between hop 2 and hop 3)", {
  timeout: 120_000,
}, () => {
  it.each([
    ["ICMP over IPv4", 4, [], ["source"]],
    ["TCP SYN over IPv4", 4, ["-T", "-P", "8080"], ["source", "checksum"]],
    ["UDP over IPv6", 6, ["-u"], ["source", "checksum"]],
    ["ICMPv6", 6, [], ["source", "checksum"]],
  ] as const)(
    "%s with --pin-flow (lg-probe): the NAT between hop 2 and hop 3, with its outside address",
    async (_name, family, flags, rewrote) => {
      const lg = await lgJson([`-${family}`, "--pin-flow", ...flags], lab.nat.target[family]);
      expect(lg.hops.map((h) => h.host)).toEqual(lab.nat.hops[family]);
      expect(lg.nat).toMatchObject({
        afterTtl: lab.nat.afterTtl,
        beforeTtl: lab.nat.afterTtl + 1,
        rewrote,
        publicSource: lab.nat.outside[family],
      });
    },
  );

  it("the report says it in one line under the table", async () => {
    const report = await lgTrace(["-r", "--pin-flow"], lab.nat.target[4]);
    expect(report).toContain(
      `\nNAT between hop 2 and hop 3: hops up to 2 quote the probes as sent (6 quotes), hops from 3 on quote them rewritten (3 quotes: source address ${lab.nat.outside[4]}).\n`,
    );
  });

  it("says nothing without a NAT, or when mtr-packet sent the probes (no quotes)", async () => {
    const noNat = await lgJson(["--pin-flow"], lab.ecmp.target[4]);
    expect(noNat).not.toHaveProperty("nat");
    // A free ICMP flow goes to mtr-packet.
    const byMtrPacket = await lgJson([], lab.nat.target[4]);
    expect(byMtrPacket.hops.map((h) => h.host)).toEqual(lab.nat.hops[4]);
    expect(byMtrPacket).not.toHaveProperty("nat");
  });
});

describe("Record Route hints in the flow lab (trr answers over rrback)", { timeout: 120_000 }, () => {
  it("--record-route shows the way there, and the way back with the router only it crosses", async () => {
    const lg = await lgJson(["--record-route"], lab.recordRoute.target);
    expect(lg.hops.map((h) => h.host)).toEqual(lab.recordRoute.hops);
    expect(lg.hops.map((h) => h.host)).not.toContain(lab.recordRoute.returnOnly);
    const recorded = lab.recordRoute.recorded;
    expect(lg.recordRoute).toMatchObject({
      status: "ok",
      forward: recorded.slice(0, 2),
      // After trr's two entries, without src's own address at the end.
      back: recorded.slice(4, -1),
      recorded,
      sent: 3,
      answered: 3,
    });
    expect(lg.recordRoute?.back).toContain(lab.recordRoute.returnOnly);
  });

  it("the report shows them as hints", async () => {
    const report = await lgTrace(["-r", "--record-route"], lab.recordRoute.target);
    const back = lab.recordRoute.recorded.slice(4, -1).join(" ");
    expect(report).toContain(`\nWay back (Record Route, hints): ${back}\n`);
  });

  it("says the path refuses the option when a router drops packets carrying it", async () => {
    const ns = lab.ns("rrthere");
    execFileSync("ip", ["netns", "exec", ns, "nft", "-f", "-"], {
      input:
        "table ip lgoptions {\n  chain forward {\n    type filter hook forward priority 0; policy accept;\n    ip hdrlength > 5 drop\n  }\n}\n",
    });
    try {
      const lg = await lgJson(["--record-route"], lab.recordRoute.target);
      expect(lg.recordRoute).toMatchObject({ status: "refused", answered: 0, plainAnswered: 3 });
    } finally {
      execFileSync("ip", ["netns", "exec", ns, "nft", "delete", "table", "ip", "lgoptions"]);
    }
  });
});

describe("the prespecified-timestamp alias test in the flow lab", { timeout: 60_000 }, () => {
  it("two addresses of split (towards src and towards rrthere) are one router", async () => {
    const result = await tracer.timestampAliasTest({ a: lab.addr("split"), b: "198.18.170.1" });
    expect(lab.nodeOf(lab.addr("split"))).toBe("split");
    expect(lab.nodeOf("198.18.170.1")).toBe("split");
    expect(result.probings.map((p) => p.stamped)).toEqual(["both", "both"]);
    expect(result.verdict).toBe("same-router");
  });

  it("split and rrthere are different routers, though split stamps on rrthere's way back", async () => {
    const rrthere = "198.18.170.2";
    expect(lab.nodeOf(rrthere)).toBe("rrthere");
    const result = await tracer.timestampAliasTest({ a: lab.addr("split"), b: rrthere });
    // To split naming [split, rrthere]: rrthere is never passed.
    expect(result.probings[0]).toMatchObject({ to: lab.addr("split"), stamped: "first-only" });
    // To rrthere naming [rrthere, split]: split stamps its own address as the reply passes it.
    expect(result.probings[1]).toMatchObject({ to: rrthere, stamped: "both" });
    expect(result.verdict).toBe("different");
  });
});
