import { describe, expect, it } from "vitest";
import {
  checkTarget,
  confirmTarget,
  parseAllowList,
  parseTarget,
  type Resolver,
  TargetError,
} from "./targets";

const none = parseAllowList("");
const fakeResolver =
  (answers: Record<string, { address: string; family: number }[]>): Resolver =>
  async (name) => {
    const a = answers[name];
    if (!a) throw new Error("ENOTFOUND");
    return a;
  };

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "accepted";
  } catch (err) {
    return err instanceof TargetError ? err.code : "other";
  }
}

describe("parseTarget", () => {
  it.each([
    ["", "empty"],
    ["exa mple.com", "whitespace"],
    ["-c100", "option"],
    ["https://example.com/", "url"],
    ["example.com:443", "host:port"],
    ["fe80::1%eth0", "zone id"],
    ["1.2.3", "short IPv4"],
    ["bad_host-.com", "label ending in a hyphen"],
    ["198.18.0.0/15", "prefix"],
  ])("refuses %j (%s) as invalid_target", (input) => {
    expect(() => parseTarget(input)).toThrow(TargetError);
  });
  it("accepts hostnames and IP literals, normalised", () => {
    expect(parseTarget("Example.COM.")).toEqual({ kind: "hostname", name: "example.com" });
    expect(parseTarget("2001:0db8::0001")).toEqual({ kind: "ip", address: "2001:db8::1", family: 6 });
    expect(parseTarget("8.8.8.8")).toEqual({ kind: "ip", address: "8.8.8.8", family: 4 });
  });
});

describe("checkTarget", () => {
  it.each([
    "10.1.2.3",
    "127.0.0.1",
    "169.254.1.1",
    "100.64.0.1",
    "224.0.0.1",
    "192.0.2.1",
    "198.18.0.1",
    "255.255.255.255",
    "0.0.0.0",
    "::1",
    "fe80::1",
    "fc00::1",
    "2001:db8::1",
    "2001:2::1",
    "::ffff:10.0.0.1",
  ])("refuses %s unless allow-listed", async (address) => {
    expect(await codeOf(checkTarget(address, { allow: none }))).toBe("target_refused");
  });

  it("accepts a public address", async () => {
    await expect(checkTarget("8.8.8.8", { allow: none })).resolves.toMatchObject({ address: "8.8.8.8" });
  });

  it("accepts a special range the allow-list names, and only that one", async () => {
    const allow = parseAllowList("198.18.0.0/15, 2001:2::/48");
    await expect(checkTarget("198.19.1.1", { allow })).resolves.toMatchObject({ family: 4 });
    await expect(checkTarget("2001:2::5", { allow })).resolves.toMatchObject({ family: 6 });
    expect(await codeOf(checkTarget("10.0.0.1", { allow }))).toBe("target_refused");
  });

  it("refuses a hostname that resolves to a private address (rebinding)", async () => {
    const resolver = fakeResolver({ "evil.example": [{ address: "192.168.1.1", family: 4 }] });
    const err = await checkTarget("evil.example", { allow: none, resolver }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetError);
    expect((err as TargetError).code).toBe("target_refused");
    expect((err as TargetError).message).toContain("evil.example resolves to 192.168.1.1");
  });

  it("returns the resolved address of the requested family", async () => {
    const resolver = fakeResolver({
      "dual.example": [
        { address: "8.8.4.4", family: 4 },
        { address: "2606:4700::1", family: 6 },
      ],
    });
    await expect(checkTarget("dual.example", { allow: none, ipVersion: 6, resolver })).resolves.toEqual({
      target: "dual.example",
      address: "2606:4700::1",
      family: 6,
    });
  });

  it("says resolve_failed when the name does not resolve or lacks the family", async () => {
    const resolver = fakeResolver({ "v4only.example": [{ address: "8.8.4.4", family: 4 }] });
    expect(await codeOf(checkTarget("nx.example", { allow: none, resolver }))).toBe("resolve_failed");
    expect(await codeOf(checkTarget("v4only.example", { allow: none, ipVersion: 6, resolver }))).toBe(
      "resolve_failed",
    );
  });

  it("refuses an IP literal of the wrong family for ipVersion", async () => {
    expect(await codeOf(checkTarget("8.8.8.8", { allow: none, ipVersion: 6 }))).toBe("invalid_target");
  });
});

describe("attacks on the target policy", () => {
  it.each(["::7f00:1", "::a00:1", "::127.0.0.1", "::8.8.8.8", "::0.0.0.2", "ff::1"])(
    "refuses %s, in the reserved range ::/8 (IPv4-compatible and other embedded forms)",
    async (literal) => {
      const err = await checkTarget(literal, { allow: none }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TargetError);
      expect((err as TargetError).code).toBe("target_refused");
      expect((err as TargetError).message).toMatch(/::\/8/);
    },
  );

  it("refuses a name whose only answer is in ::/8", async () => {
    const resolver = fakeResolver({ "compat.example": [{ address: "::7f00:1", family: 6 }] });
    expect(await codeOf(checkTarget("compat.example", { allow: none, resolver }))).toBe("target_refused");
  });

  it("lifts the ::/8 refusal only for what the allow-list names", async () => {
    const allow = parseAllowList("::7f00:1");
    await expect(checkTarget("::7f00:1", { allow })).resolves.toMatchObject({ address: "::7f00:1" });
    expect(await codeOf(checkTarget("::7f00:2", { allow }))).toBe("target_refused");
  });

  it("reads an IPv4-mapped literal as the IPv4 address it carries, so it shares its budget key and opt-out", async () => {
    expect(parseTarget("::ffff:8.8.8.8")).toEqual({ kind: "ip", address: "8.8.8.8", family: 4 });
    expect(parseTarget("::FFFF:808:808")).toEqual({ kind: "ip", address: "8.8.8.8", family: 4 });
    // Without ffff it is the IPv4-compatible form, in ::/8, whatever ipaddr.js makes of it.
    expect(parseTarget("::8.8.8.8")).toEqual({ kind: "ip", address: "::808:808", family: 6 });
    await expect(checkTarget("::ffff:8.8.8.8", { allow: none })).resolves.toEqual({
      target: "8.8.8.8",
      address: "8.8.8.8",
      family: 4,
    });
    expect(await codeOf(checkTarget("::ffff:8.8.8.8", { allow: none, ipVersion: 6 }))).toBe("invalid_target");
    expect(await codeOf(checkTarget("::ffff:127.0.0.1", { allow: none }))).toBe("target_refused");
  });

  it("takes an IPv4-mapped AAAA answer as IPv4, for the policy and for the address returned", async () => {
    const resolver = fakeResolver({ "mapped.example": [{ address: "::ffff:8.8.4.4", family: 6 }] });
    await expect(checkTarget("mapped.example", { allow: none, resolver })).resolves.toEqual({
      target: "mapped.example",
      address: "8.8.4.4",
      family: 4,
    });
    expect(await codeOf(checkTarget("mapped.example", { allow: none, ipVersion: 6, resolver }))).toBe(
      "resolve_failed",
    );
  });
});

describe("confirmTarget (the agent's side of a job)", () => {
  const lab = parseAllowList("127.0.0.0/8");

  it("refuses a name that resolves here to something else than the address the coordinator checked (rebinding)", async () => {
    const resolver = fakeResolver({ "rebind.example": [{ address: "127.0.0.3", family: 4 }] });
    const err = await confirmTarget("rebind.example", "127.0.0.2", {
      allow: lab,
      resolver,
      here: "fra",
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetError);
    expect((err as TargetError).code).toBe("target_refused");
    expect((err as TargetError).message).toBe(
      "fra resolved rebind.example to 127.0.0.3, the coordinator checked 127.0.0.2",
    );
  });

  it("probes exactly the checked address when it is among this side's answers, wherever it is in the list", async () => {
    const resolver = fakeResolver({
      "multi.example": [
        { address: "127.0.0.7", family: 4 },
        { address: "::ffff:127.0.0.2", family: 6 },
      ],
    });
    await expect(confirmTarget("multi.example", "127.0.0.2", { allow: lab, resolver })).resolves.toEqual({
      target: "multi.example",
      address: "127.0.0.2",
      family: 4,
    });
  });

  it("asks only for the family of the checked address", async () => {
    const asked: (4 | 6 | undefined)[] = [];
    const resolver: Resolver = async (_name, family) => {
      asked.push(family);
      return [{ address: "2001:2::5", family: 6 }];
    };
    const allow = parseAllowList("2001:2::/48");
    await expect(confirmTarget("v6.example", "2001:2::5", { allow, resolver })).resolves.toMatchObject({
      family: 6,
    });
    expect(asked).toEqual([6]);
  });

  it("checks the address against this side's own policy before resolving", async () => {
    let resolved = false;
    const resolver: Resolver = async () => {
      resolved = true;
      return [{ address: "10.0.0.1", family: 4 }];
    };
    const err = await confirmTarget("inside.example", "10.0.0.1", { allow: lab, resolver }).catch(
      (e: unknown) => e,
    );
    expect((err as TargetError).code).toBe("target_refused");
    expect((err as TargetError).message).toMatch(/inside\.example was checked as 10\.0\.0\.1, .*private/);
    expect(resolved).toBe(false);
  });

  it("needs no resolution for an IP literal, but the address must be the literal itself", async () => {
    const resolver: Resolver = async () => {
      throw new Error("must not be asked");
    };
    await expect(confirmTarget("127.0.0.2", "127.0.0.2", { allow: lab, resolver })).resolves.toEqual({
      target: "127.0.0.2",
      address: "127.0.0.2",
      family: 4,
    });
    await expect(
      confirmTarget("::ffff:127.0.0.2", "127.0.0.2", { allow: lab, resolver }),
    ).resolves.toMatchObject({ address: "127.0.0.2" });
    expect(await codeOf(confirmTarget("127.0.0.2", "127.0.0.3", { allow: lab, resolver }))).toBe(
      "invalid_target",
    );
    expect(await codeOf(confirmTarget("10.0.0.1", "10.0.0.1", { allow: lab, resolver }))).toBe(
      "target_refused",
    );
  });

  it("refuses an address of the wrong family, one that is not an address, and a name that does not resolve here", async () => {
    const resolver = fakeResolver({});
    expect(
      await codeOf(confirmTarget("a.example", "127.0.0.2", { allow: lab, ipVersion: 6, resolver })),
    ).toBe("invalid_target");
    expect(await codeOf(confirmTarget("a.example", "not-an-ip", { allow: lab, resolver }))).toBe(
      "invalid_target",
    );
    expect(await codeOf(confirmTarget("a.example", "127.0.0.2", { allow: lab, resolver }))).toBe(
      "resolve_failed",
    );
  });
});

describe("parseAllowList", () => {
  it("names the entry that is not a CIDR", () => {
    expect(() => parseAllowList("198.18.0.0/15,nonsense")).toThrow(/'nonsense'/);
  });
});
