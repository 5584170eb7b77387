import { describe, expect, it } from "vitest";
import { checkTarget, parseAllowList, parseTarget, TargetError } from "./targets";

const none = parseAllowList("");

async function reasonOf(target: string): Promise<string> {
  const err = await checkTarget(target, { allow: none }).catch((e: unknown) => e);
  if (!(err instanceof TargetError)) throw new Error(`${target} was not refused`);
  expect(err.code).toBe("target_refused");
  return err.message;
}

describe("target refusals name the range", () => {
  it.each([
    ["10.1.2.3", /private \(RFC 1918\)/],
    ["100.64.1.1", /carrier-grade NAT \(RFC 6598\)/],
    ["198.18.0.1", /benchmarking \(RFC 2544\)/],
    ["198.19.255.254", /benchmarking/],
    ["2001:2::1", /benchmarking/],
    ["192.0.2.1", /documentation \(RFC 5737\)/],
    ["198.51.100.7", /documentation/],
    ["203.0.113.9", /documentation/],
    ["2001:db8::1", /documentation \(RFC 3849\)/],
    ["3fff::1", /documentation \(RFC 9637\)/],
    ["240.0.0.1", /class E/],
    ["0.1.2.3", /this network/],
    ["169.254.0.1", /link-local/],
    ["fe80::1", /link-local/],
    ["ff02::1", /multicast/],
    ["224.0.0.5", /multicast/],
    ["fd00::1", /unique-local/],
    ["::ffff:192.168.0.1", /private/],
    ["2002:a00:1::1", /6to4/],
    ["2001:0:a00:1::1", /Teredo/],
    ["64:ff9b::a00:1", /NAT64/],
  ])("%s is refused as %s, and the message says the allow-list lifts it", async (address, words) => {
    const message = await reasonOf(address);
    expect(message).toMatch(words);
    expect(message).toMatch(/allow-lists it/);
  });

  it("the lab's own ranges pass when the allow-list names them", async () => {
    const allow = parseAllowList("198.18.0.0/15,2001:2::/48");
    await expect(checkTarget("198.18.3.4", { allow })).resolves.toMatchObject({ address: "198.18.3.4" });
    await expect(checkTarget("2001:2::9", { allow })).resolves.toMatchObject({ address: "2001:2::9" });
  });
});

describe("names that the system resolver would read as IPv4 addresses", () => {
  it.each(["0x7f000001", "0x7f.1", "127.0x0.0.1", "foo.123", "1.0x2"])("%s is invalid_target", (name) => {
    expect(() => parseTarget(name)).toThrow(/not accepted/);
  });

  it("an ordinary name with digits is still a hostname", () => {
    expect(parseTarget("r1.fra2.example")).toEqual({ kind: "hostname", name: "r1.fra2.example" });
    expect(parseTarget("123.example")).toEqual({ kind: "hostname", name: "123.example" });
  });
});
