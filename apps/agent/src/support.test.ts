import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TraceOptions } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { agentCapabilities, detectFlowControl, unsupportedReason } from "./support";

const caps = agentCapabilities({ maxTraces: 10, ipv6: false, mda: true });
const withLgProbe = agentCapabilities({ maxTraces: 10, ipv6: true, mda: true, flowControl: "all" });
const local = (a: string) => a === "198.18.1.2";
const opts = (o: Record<string, unknown>) => TraceOptions.parse(o);

describe("unsupportedReason", () => {
  it("accepts plain ICMP, UDP and TCP traces over IPv4", () => {
    for (const protocol of ["icmp", "udp", "tcp"]) {
      expect(unsupportedReason(opts({ protocol }), 4, caps, local)).toBeNull();
    }
  });

  it("accepts flow pinning and multipath enumeration with IPv4 UDP", () => {
    expect(unsupportedReason(opts({ protocol: "udp", pinFlow: true }), 4, caps, local)).toBeNull();
    expect(unsupportedReason(opts({ protocol: "udp", mda: true }), 4, caps, local)).toBeNull();
  });

  it("without lg-probe refuses flow pinning of TCP and ICMP, saying what to run", () => {
    expect(unsupportedReason(opts({ protocol: "tcp", pinFlow: true }), 4, caps, local)).toMatch(
      /^flow pinning of IPv4 TCP probes needs lg-probe, which this agent does not have .*run \.\/scripts\/setup/,
    );
    expect(unsupportedReason(opts({ protocol: "icmp", mda: true }), 4, caps, local)).toMatch(
      /^multipath enumeration of IPv4 ICMP probes needs lg-probe/,
    );
  });

  it("without lg-probe refuses flow pinning over IPv6 and a TCP or IPv6 source port", () => {
    const v6 = agentCapabilities({ maxTraces: 1, ipv6: true, mda: true });
    expect(unsupportedReason(opts({ protocol: "udp", pinFlow: true }), 6, v6, local)).toMatch(
      /IPv6 UDP probes needs lg-probe/,
    );
    expect(unsupportedReason(opts({ protocol: "tcp", localPort: 40000 }), 4, v6, local)).toMatch(
      /-L\/--localport on IPv4 TCP probes needs lg-probe/,
    );
    expect(unsupportedReason(opts({ protocol: "udp", localPort: 40000 }), 6, v6, local)).toMatch(
      /-L\/--localport on IPv6 UDP probes needs lg-probe/,
    );
    expect(unsupportedReason(opts({ protocol: "udp", localPort: 40000 }), 4, v6, local)).toBeNull();
  });

  it("with lg-probe accepts flow pinning, multipath enumeration and -L for every protocol and family", () => {
    for (const protocol of ["icmp", "udp", "tcp"]) {
      for (const family of [4, 6] as const) {
        expect(unsupportedReason(opts({ protocol, pinFlow: true }), family, withLgProbe, local)).toBeNull();
        expect(unsupportedReason(opts({ protocol, mda: true }), family, withLgProbe, local)).toBeNull();
      }
    }
    expect(unsupportedReason(opts({ protocol: "tcp", localPort: 40000 }), 6, withLgProbe, local)).toBeNull();
  });

  it("takes --record-route only with lg-probe, and only towards IPv4", () => {
    expect(unsupportedReason(opts({ recordRoute: true }), 4, caps, local)).toMatch(
      /^--record-route needs lg-probe .*run \.\/scripts\/setup/,
    );
    expect(unsupportedReason(opts({ recordRoute: true }), 4, withLgProbe, local)).toBeNull();
    expect(unsupportedReason(opts({ recordRoute: true }), 6, withLgProbe, local)).toMatch(/IPv4 option/);
  });

  it("refuses IPv6 targets on an agent without IPv6", () => {
    expect(unsupportedReason(opts({}), 6, caps, local)).toMatch(/no IPv6 address/);
  });

  it("refuses a source address that is not the agent's", () => {
    expect(unsupportedReason(opts({ sourceAddress: "192.0.2.9" }), 4, caps, local)).toMatch(
      /192.0.2.9 is not an address of this agent/,
    );
    expect(unsupportedReason(opts({ sourceAddress: "198.18.1.2" }), 4, caps, local)).toBeNull();
  });

  it("refuses multipath enumeration on an agent that cannot do it", () => {
    const noMda = agentCapabilities({ maxTraces: 1, ipv6: false, mda: false });
    expect(unsupportedReason(opts({ protocol: "udp", mda: true }), 4, noMda, local)).toMatch(
      /cannot enumerate/,
    );
  });
});

describe("detectFlowControl", () => {
  async function withHelper(body: string | null, check: (path: string) => Promise<void>) {
    const dir = await mkdtemp(join(tmpdir(), "lg-agent-flow-"));
    try {
      const path = join(dir, "lg-probe");
      if (body !== null) {
        await writeFile(path, `#!/bin/sh\n${body}\n`);
        await chmod(path, 0o755);
      }
      await check(path);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it("is all when the helper at LG_PROBE_HELPER answers as lg-probe", async () => {
    await withHelper(
      'read line; echo "1 feature-support support lg-probe-1"; cat >/dev/null',
      async (path) => {
        expect(await detectFlowControl(path)).toBe("all");
      },
    );
  });

  it("is udp4 when LG_PROBE_HELPER names a missing file, or a helper that exits or is not lg-probe", async () => {
    await withHelper(null, async (path) => expect(await detectFlowControl(path)).toBe("udp4"));
    await withHelper("exit 1", async (path) => expect(await detectFlowControl(path)).toBe("udp4"));
    await withHelper('read line; echo "1 feature-support support 0.95"', async (path) =>
      expect(await detectFlowControl(path)).toBe("udp4"),
    );
  });
});
