import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTargetResolver, parseDnsServers, parseHostsFile } from "./dns";
import { checkTarget, parseAllowList, TargetError } from "./targets";
import { startTestDns, type TestDnsServer } from "./testing-dns";

/**
 * The target resolver against a real DNS server on loopback (never the machine's DNS): names
 * under `slow.test` are never answered, `nx.test` does not exist, the rest answer.
 */
describe("target resolution with a deadline and a bound per client", () => {
  let dns: TestDnsServer;
  let dir: string;
  const allow = parseAllowList("127.0.0.0/8,2001:2::/48");

  beforeAll(async () => {
    dns = await startTestDns(({ name, count }) => {
      if (name.endsWith("slow.test")) return "silent";
      if (name === "lossy.test" && count === 1) return "silent";
      if (name === "nx.test") return "nxdomain";
      if (name === "broken.test") return "servfail";
      if (name === "v6.test") return ["2001:2::6"];
      return ["2001:2::1", "127.0.0.2"];
    });
    dir = await mkdtemp(join(tmpdir(), "lg-dns-"));
  });
  afterAll(async () => {
    await dns.close();
    await rm(dir, { recursive: true, force: true });
  });

  const resolver = (o: Parameters<typeof createTargetResolver>[0] = {}) =>
    createTargetResolver({ servers: [dns.server], hostsFile: null, timeoutMs: 600, ...o });

  it("answers IPv4 first when no family is asked, and only the family asked otherwise", async () => {
    const r = resolver();
    expect(await r.lookup("dual.test", undefined)).toEqual([
      { address: "127.0.0.2", family: 4 },
      { address: "2001:2::1", family: 6 },
    ]);
    expect(await r.lookup("dual.test", 6)).toEqual([{ address: "2001:2::1", family: 6 }]);
    expect(await r.lookup("v6.test", 4)).toEqual([]);
    await expect(checkTarget("v6.test", { allow, resolver: r.forClient(() => "a") })).resolves.toMatchObject({
      address: "2001:2::6",
      family: 6,
    });
  });

  it("says what failed: a name that does not exist, a failing server", async () => {
    const r = resolver();
    await expect(r.lookup("nx.test", undefined)).rejects.toThrow("nx.test does not exist (NXDOMAIN)");
    await expect(r.lookup("broken.test", 4)).rejects.toThrow(/SERVFAIL/);
    const err = await checkTarget("nx.test", { allow, resolver: r.forClient(() => "a") }).catch((e) => e);
    expect(err).toBeInstanceOf(TargetError);
    expect((err as TargetError).code).toBe("resolve_failed");
  });

  it("gives up on a name that never answers at its deadline, as resolve_failed", async () => {
    const r = resolver();
    const started = Date.now();
    const err = await r.lookup("one.slow.test", undefined).catch((e: unknown) => e);
    const took = Date.now() - started;
    expect(err).toBeInstanceOf(TargetError);
    expect((err as TargetError).code).toBe("resolve_failed");
    expect((err as TargetError).message).toBe("one.slow.test did not resolve within 0.6 s");
    expect(took).toBeGreaterThanOrEqual(550);
    expect(took).toBeLessThan(1_100);
  });

  it("asks again within the deadline when the first query goes unanswered (a lost packet)", async () => {
    const r = resolver();
    expect(await r.lookup("lossy.test", 4)).toEqual([{ address: "127.0.0.2", family: 4 }]);
    expect(dns.queries.filter((q) => q.name === "lossy.test")).toHaveLength(2);
  });

  it("a client's many slow names do not delay another client's name, nor an unrelated name", async () => {
    const r = resolver({ timeoutMs: 1_500, perClient: 4 });
    const slowNames = () =>
      new Set(dns.queries.filter((q) => q.name.endsWith("slow.test")).map((q) => q.name));
    const before = slowNames().size;
    const started = Date.now();
    const slow = Array.from({ length: 40 }, (_, i) =>
      r.lookup(`n${i}.slow.test`, 4, "attacker").catch((e: unknown) => e),
    );
    // The attacker's four lookups are at the server before the others ask.
    for (let i = 0; i < 100 && slowNames().size - before < 4; i++)
      await new Promise((r) => setTimeout(r, 10));
    const fast = Date.now();
    expect(await r.lookup("fast.test", 4, "someone-else")).toEqual([{ address: "127.0.0.2", family: 4 }]);
    expect(await r.lookup("other.test", 4)).toEqual([{ address: "127.0.0.2", family: 4 }]);
    expect(Date.now() - fast).toBeLessThan(300);
    // The attacker's lookups: only four names reached the server; all forty end at their deadline.
    const outcomes = await Promise.all(slow);
    expect(Date.now() - started).toBeLessThan(1_500 + 500);
    expect(slowNames().size - before).toBe(4);
    for (const e of outcomes) expect((e as TargetError).code).toBe("resolve_failed");
    expect((outcomes[39] as Error).message).toMatch(
      /within 1\.5 s \(4 lookups of the same client were still under way\)/,
    );
  });

  it("answers localhost without DNS, and names in the hosts file from the file alone", async () => {
    const hostsFile = join(dir, "hosts");
    await writeFile(
      hostsFile,
      "# comment\n127.0.0.5 box.test box # trailing\n2001:2::5 box.test\nfe80::1%lo nope.test\n",
    );
    const r = resolver({ hostsFile });
    const asked = dns.queries.length;
    expect(await r.lookup("localhost", undefined)).toEqual([
      { address: "127.0.0.1", family: 4 },
      { address: "::1", family: 6 },
    ]);
    expect(await r.lookup("a.localhost", 4)).toEqual([{ address: "127.0.0.1", family: 4 }]);
    expect(await r.lookup("BOX.test.", undefined)).toEqual([
      { address: "127.0.0.5", family: 4 },
      { address: "2001:2::5", family: 6 },
    ]);
    expect(await r.lookup("box", 6)).toEqual([]);
    expect(dns.queries.length).toBe(asked);
    // Not in the file: DNS.
    expect(await r.lookup("nope.test", 4)).toEqual([{ address: "127.0.0.2", family: 4 }]);
    expect(dns.queries.length).toBe(asked + 1);
  });

  it("reads server lists as ip, ip:port or [ipv6]:port, and names a wrong entry", () => {
    expect(parseDnsServers(" 127.0.0.1:5353, ::1 ,[2001:2::1]:53,9.9.9.9")).toEqual([
      "127.0.0.1:5353",
      "::1",
      "[2001:2::1]:53",
      "9.9.9.9",
    ]);
    expect(parseDnsServers("")).toEqual([]);
    expect(() => parseDnsServers("127.0.0.1,dns.example")).toThrow(/'dns\.example' is not a DNS server/);
    expect(() => parseDnsServers("127.0.0.1:70000")).toThrow(/'127\.0\.0\.1:70000'/);
  });

  it("parses a hosts file: comments, several names per line, zone ids skipped", () => {
    const table = parseHostsFile(
      "127.0.0.1 localhost\n::1 localhost ip6-localhost\n# 1.2.3.4 x\nfe80::1%eth0 y\n",
    );
    expect(table.get("localhost")).toEqual([
      { address: "127.0.0.1", family: 4 },
      { address: "::1", family: 6 },
    ]);
    expect(table.has("x")).toBe(false);
    expect(table.has("y")).toBe(false);
  });
});
