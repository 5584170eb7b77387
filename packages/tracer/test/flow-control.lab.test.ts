import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { buildLab, type LabHandle } from "@lg/netlab";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The flows only lg-probe can hold, end to end through `lg trace` in a small lab (src -> r -> dst,
 * IPv4 and IPv6; nothing balances here — flows.lab.test.ts proves the flows on an ECMP router):
 * each trace reaches dst with every probe answered, and the same command is a usage error when
 * LG_PROBE_HELPER names a missing file, so it really went through lg-probe.
 */

const LG = resolve(import.meta.dirname, "../../../bin/lg");
const HELPER_DIR = resolve(import.meta.dirname, "../helper");
const LG_PROBE = resolve(HELPER_DIR, "build/lg-probe");
const DST4 = "198.18.2.2";
const DST6 = "2001:2:0:2::2";
const COUNT = 3;

let lab: LabHandle;
beforeAll(async () => {
  // The helper is built from the checkout (`make` does nothing when it is current).
  await promisify(execFile)("nice", ["-n", "19", "make", "-s", "-C", HELPER_DIR]);
  lab = await buildLab({
    autoRoutes: true,
    nodes: { src: {}, r: { router: true }, dst: {} },
    links: [
      {
        a: "src",
        b: "r",
        aAddr: { v4: "198.18.1.1/24", v6: "2001:2:0:1::1/64" },
        bAddr: { v4: "198.18.1.2/24", v6: "2001:2:0:1::2/64" },
      },
      {
        a: "r",
        b: "dst",
        aAddr: { v4: "198.18.2.1/24", v6: "2001:2:0:2::1/64" },
        bAddr: { v4: `${DST4}/24`, v6: `${DST6}/64` },
      },
    ],
  });
}, 120_000);
afterAll(async () => {
  await lab?.down();
});

interface LgJson {
  lg: {
    reachedDestination: boolean;
    hops: { ttl: number; host: string | null; sent: number; recv: number }[];
  };
}

function lgTrace(flags: string[], target: string, helper: string) {
  return lab.exec(
    "src",
    [LG, "trace", "-n", "-j", "-c", String(COUNT), "-i", "0.1", "-Z", "2", ...flags, target],
    { timeoutMs: 60_000, env: { LG_FROM_SOURCE: "1", LG_PROBE_HELPER: helper } },
  );
}

describe("lg trace through lg-probe (lab: src -> r -> dst)", () => {
  it.each([
    ["-T -P 443 -L 40000 --pin-flow", ["-T", "-P", "443", "-L", "40000", "--pin-flow"], DST4],
    ["-6 -u --pin-flow", ["-6", "-u", "--pin-flow"], DST6],
    ["--pin-flow (ICMP)", ["--pin-flow"], DST4],
    ["--mda (ICMP)", ["--mda"], DST4],
    ["-6 -T --mda", ["-6", "-T", "--mda"], DST6],
  ])(
    "%s reaches dst with every probe answered, and needs lg-probe",
    async (_, flags, target) => {
      const ran = await lgTrace(flags, target, LG_PROBE);
      expect(ran.stderr).toBe("");
      expect(ran.code).toBe(0);
      const { lg } = JSON.parse(ran.stdout) as LgJson;
      expect(lg.reachedDestination).toBe(true);
      expect(lg.hops.map((h) => h.host)).toEqual([target === DST4 ? "198.18.1.2" : "2001:2:0:1::2", target]);
      for (const hop of lg.hops) expect(hop.recv).toBe(hop.sent);
      // --mda adds cycles until each hop had the 6 probes one next hop asks for.
      expect(lg.hops.every((h) => h.sent === (flags.includes("--mda") ? 6 : COUNT))).toBe(true);

      const without = await lgTrace(flags, target, "/nonexistent/lg-probe");
      expect(without.code).toBe(2);
      expect(without.stderr).toMatch(
        /needs lg-probe, .* not installed \(looked for \/nonexistent\/lg-probe\): run \.\/scripts\/setup/,
      );
    },
    60_000,
  );
});
