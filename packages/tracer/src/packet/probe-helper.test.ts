import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TracerError } from "../errors";
import { Tracer } from "../tracer";
import { LgProbePort, MtrPacketPort } from "./helper-pool";
import { findProbeHelper, probeHelperVersion, repoProbeHelperPath } from "./probe-helper";
import type { ProbeSpec } from "./types";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..");

let dir: string;
/** A shell script standing in for a helper (no packets: it only reads and answers lines). */
async function fakeHelper(name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lg-probe-helper-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("findProbeHelper", () => {
  it("looks at /usr/local/libexec/lg/lg-probe, then the checkout's build", () => {
    const repoPath = "/src/lg/packages/tracer/helper/build/lg-probe";
    expect(findProbeHelper(undefined, { executable: () => true, repoPath })).toEqual({
      path: "/usr/local/libexec/lg/lg-probe",
      searched: ["/usr/local/libexec/lg/lg-probe", repoPath],
    });
    expect(findProbeHelper(undefined, { executable: (p) => p === repoPath, repoPath }).path).toBe(repoPath);
    expect(findProbeHelper(undefined, { executable: () => false, repoPath }).path).toBeNull();
  });
  it("takes only LG_PROBE_HELPER's path when it is set, also when that file is missing", () => {
    expect(findProbeHelper("/opt/lg/lg-probe", { executable: () => true, repoPath: "/r" })).toEqual({
      path: "/opt/lg/lg-probe",
      searched: ["/opt/lg/lg-probe"],
    });
    expect(findProbeHelper("/opt/lg/lg-probe", { executable: () => false, repoPath: "/r" })).toEqual({
      path: null,
      searched: ["/opt/lg/lg-probe"],
    });
  });
  it("does not count a file that is not executable", async () => {
    const path = join(dir, "not-executable");
    await writeFile(path, "");
    expect(findProbeHelper(path).path).toBeNull();
  });
  it("finds the checkout from the package's sources, and none outside a checkout", () => {
    expect(repoProbeHelperPath()).toBe(join(REPO, "packages", "tracer", "helper", "build", "lg-probe"));
    expect(repoProbeHelperPath(tmpdir())).toBeNull();
  });
});

describe("probeHelperVersion", () => {
  it("returns lg-probe's version answer", async () => {
    const path = await fakeHelper(
      "lg-probe",
      'read line; echo "1 feature-support support lg-probe-1"; cat >/dev/null',
    );
    expect(await probeHelperVersion(path)).toBe("lg-probe-1");
  });
  it("is null for mtr-packet, which answers with its own version", async () => {
    const path = await fakeHelper(
      "mtr-packet-like",
      'read line; echo "1 feature-support support 0.95"; cat >/dev/null',
    );
    expect(await probeHelperVersion(path)).toBeNull();
  });
  it("is null for a helper that exits first (no raw sockets), a missing file, or one that never answers", async () => {
    const exits = await fakeHelper(
      "exits",
      'echo "lg-probe: cannot open raw sockets: Operation not permitted" >&2; exit 1',
    );
    const silent = await fakeHelper("silent", "cat >/dev/null");
    expect(await probeHelperVersion(exits)).toBeNull();
    expect(await probeHelperVersion(join(dir, "missing"))).toBeNull();
    expect(await probeHelperVersion(silent, 100)).toBeNull();
  });
});

describe("the pool's limits per helper", () => {
  const tcp: ProbeSpec = {
    family: 4,
    address: "127.0.0.1",
    ttl: 1,
    protocol: "tcp",
    port: 9,
    timeoutSec: 10,
  };
  const fast = { maxProbesPerSecond: 1e9, burst: 1e6 };

  it("lg-probe holds 2,000 TCP probes in one process; mtr-packet needs 5 (400 sockets each)", async () => {
    // The stand-in never answers, so every probe stays in flight: the pool's placement shows.
    const never = await fakeHelper("never-answers", "cat >/dev/null");
    const lg = new LgProbePort({ command: never, ...fast });
    const mtr = new MtrPacketPort({ command: never, ...fast });
    for (let i = 1; i <= 2000; i++) {
      lg.send(i, tcp);
      mtr.send(i, tcp);
    }
    const counts = { lg: [lg.processCount, lg.queued], mtr: [mtr.processCount, mtr.queued] };
    await Promise.all([lg.close(), mtr.close()]);
    expect(counts).toEqual({ lg: [1, 0], mtr: [5, 0] });
  });

  it("lg-probe keeps 14,000 probes in one process; mtr-packet takes 16 x 1,000 and queues the rest", async () => {
    const never = await fakeHelper("never-answers-2", "cat >/dev/null");
    const icmp: ProbeSpec = { family: 4, address: "127.0.0.1", ttl: 1, protocol: "icmp", timeoutSec: 10 };
    const lg = new LgProbePort({ command: never, ...fast });
    const mtr = new MtrPacketPort({ command: never, ...fast });
    for (let i = 1; i <= 14_000; i++) lg.send(i, icmp);
    for (let i = 1; i <= 20_000; i++) mtr.send(i, icmp);
    const counts = { lg: [lg.processCount, lg.queued], mtr: [mtr.processCount, mtr.queued] };
    await Promise.all([lg.close(), mtr.close()]);
    expect(counts).toEqual({ lg: [1, 0], mtr: [16, 4_000] });
  });

  it("a missing lg-probe fails its probes saying to run ./scripts/setup, as lg-probe's failure", async () => {
    const port = new LgProbePort({ command: "/nonexistent/lg-probe" });
    const outcome = await new Promise((resolve) => {
      port.onOutcome((_, o) => resolve(o));
      port.send(1, tcp);
    });
    await port.close();
    expect(outcome).toMatchObject({ kind: "failure", reason: "helper-failed", helper: "lg-probe" });
    expect((outcome as { detail: string }).detail).toMatch(
      /^\/nonexistent\/lg-probe was not found: run \.\/scripts\/setup/,
    );
  });
});

describe("lg-probe without raw sockets", () => {
  it("fails the trace with no-permission, naming lg-probe and ./scripts/setup", async () => {
    // Prints what lg-probe prints without CAP_NET_RAW, and exits the same way.
    const fake = await fakeHelper(
      "lg-probe-no-cap",
      'echo "lg-probe: failure to open IPv4 sockets: Operation not permitted" >&2; exit 1',
    );
    const tracer = new Tracer({ lgProbePath: fake, resolveNames: false });
    const err = await tracer
      .run({ target: "127.0.0.1", options: { protocol: "tcp", port: 443, localPort: 40000, count: 1 } })
      .catch((e: unknown) => e);
    await tracer.close();
    expect(err).toBeInstanceOf(TracerError);
    expect((err as TracerError).code).toBe("no-permission");
    expect((err as TracerError).message).toMatch(
      /^lg-probe may not send TCP probes .*run \.\/scripts\/setup as root/,
    );
  });
});
