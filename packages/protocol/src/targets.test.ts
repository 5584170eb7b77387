import { describe, expect, it } from "vitest";
import { checkTarget, parseAllowList, parseTarget, type Resolver, TargetError } from "./targets";

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

describe("parseAllowList", () => {
  it("names the entry that is not a CIDR", () => {
    expect(() => parseAllowList("198.18.0.0/15,nonsense")).toThrow(/'nonsense'/);
  });
});
