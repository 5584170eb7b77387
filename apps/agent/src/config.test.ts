import { describe, expect, it } from "vitest";
import { agentIdFromHostname, ConfigError, parseAgentConfig } from "./config";

const host = {
  hostname: "fra-pop1.example.net",
  interfaces: {
    lo: [{ address: "127.0.0.1", family: "IPv4", internal: true }],
    eth0: [
      { address: "198.18.1.2", family: "IPv4", internal: false },
      { address: "fe80::1", family: "IPv6", internal: false },
      { address: "2001:2::2", family: "IPv6", internal: false },
    ],
  },
} as unknown as Parameters<typeof parseAgentConfig>[1];

describe("parseAgentConfig", () => {
  it("fills the documented defaults from the host", () => {
    const config = parseAgentConfig({ NATS_URL: "nats://127.0.0.1:4222" }, host);
    expect(config).toMatchObject({
      natsUrl: "nats://127.0.0.1:4222",
      id: "fra-pop1",
      region: "local",
      role: "pop",
      publicAddresses: ["198.18.1.2", "2001:2::2"],
      maxTraces: 200,
      allowTargets: "",
      drainTimeoutSec: 120,
      logLevel: "info",
    });
    expect(config.allowList).toEqual([]);
  });

  it("takes every variable when given", () => {
    const config = parseAgentConfig(
      {
        NATS_URL: "nats://a:4222,nats://b:4222",
        NATS_CREDS: "/etc/lg/agent.creds",
        LG_AGENT_ID: "sin-1",
        LG_REGION: "ap",
        LG_ROLE: "neutral",
        LG_PUBLIC_ADDRS: "203.0.113.5, 2001:db8::5",
        LG_MAX_TRACES: "7",
        LG_ALLOW_TARGETS: "198.18.0.0/15,2001:2::/48",
        LG_DATA_DIR: "/var/lib/lg",
        LG_PROBE_HELPER: "/opt/lg/lg-probe",
        LG_DRAIN_TIMEOUT: "30",
        LOG_LEVEL: "debug",
      },
      host,
    );
    expect(config).toMatchObject({
      probeHelper: "/opt/lg/lg-probe",
      natsCreds: "/etc/lg/agent.creds",
      id: "sin-1",
      region: "ap",
      role: "neutral",
      publicAddresses: ["203.0.113.5", "2001:db8::5"],
      maxTraces: 7,
      dataDir: "/var/lib/lg",
      drainTimeoutSec: 30,
      logLevel: "debug",
    });
    expect(config.allowList).toHaveLength(2);
  });

  it("reads LG_LOCATION and LG_CITY as the PoP's place, and refuses a bad one naming the variable", () => {
    const base = { NATS_URL: "nats://x:1" };
    expect(
      parseAgentConfig({ ...base, LG_LOCATION: "50.11,8.68", LG_CITY: "Frankfurt" }, host).location,
    ).toEqual({ lat: 50.11, lon: 8.68, city: "Frankfurt" });
    expect(parseAgentConfig({ ...base, LG_LOCATION: "1.29, 103.85" }, host).location).toEqual({
      lat: 1.29,
      lon: 103.85,
    });
    expect(parseAgentConfig(base, host).location).toBeUndefined();
    expect(() => parseAgentConfig({ ...base, LG_LOCATION: "95,8" }, host)).toThrow(
      "LG_LOCATION: latitude 95 is not within -90..90",
    );
    expect(() => parseAgentConfig({ ...base, LG_CITY: "Frankfurt" }, host)).toThrow(
      /^LG_CITY needs LG_LOCATION/,
    );
  });

  it("refuses an id from a hostname that starts with join- (the coordinator would take it for a join agent)", () => {
    expect(() =>
      parseAgentConfig({ NATS_URL: "nats://x:1" }, { ...host, hostname: "join-box.example" } as typeof host),
    ).toThrow(/^LG_AGENT_ID is needed: the hostname gives the id 'join-box'/);
  });

  it("notes whether LG_ROLE was set, so a different role in the credentials can be pointed out", () => {
    expect(parseAgentConfig({ NATS_URL: "nats://x:1" }, host).roleGiven).toBe(false);
    expect(parseAgentConfig({ NATS_URL: "nats://x:1", LG_ROLE: "neutral" }, host).roleGiven).toBe(true);
  });

  it("treats empty variables as unset", () => {
    const config = parseAgentConfig(
      { NATS_URL: "nats://x:1", LG_REGION: "", LG_MAX_TRACES: " ", LG_PROBE_HELPER: "" },
      host,
    );
    expect(config.region).toBe("local");
    expect("probeHelper" in config).toBe(false);
    expect(config.maxTraces).toBe(200);
  });

  it.each([
    [{}, /^NATS_URL is required/],
    [{ NATS_URL: "http://x:80" }, /^NATS_URL: 'http:\/\/x:80' is not a NATS server URL/],
    [{ NATS_URL: "nats://x:1", LG_AGENT_ID: "a.b" }, /^LG_AGENT_ID: use letters/],
    [{ NATS_URL: "nats://x:1", LG_ROLE: "join" }, /^LG_ROLE: must be 'pop' or 'neutral'/],
    [
      { NATS_URL: "nats://x:1", LG_AGENT_ID: "join-abc" },
      /^LG_AGENT_ID: ids starting with 'join-' are reserved for reverse-session join agents/,
    ],
    [{ NATS_URL: "nats://x:1", LG_MAX_TRACES: "0" }, /^LG_MAX_TRACES: /],
    [{ NATS_URL: "nats://x:1", LG_MAX_TRACES: "many" }, /^LG_MAX_TRACES: /],
    [
      { NATS_URL: "nats://x:1", LG_PUBLIC_ADDRS: "1.2.3.4,nope" },
      /^LG_PUBLIC_ADDRS: 'nope' is not an IP address/,
    ],
    [{ NATS_URL: "nats://x:1", LG_ALLOW_TARGETS: "10.0.0.0/8,bogus" }, /^LG_ALLOW_TARGETS: 'bogus'/],
    [{ NATS_URL: "nats://x:1", LOG_LEVEL: "loud" }, /^LOG_LEVEL: /],
  ])("refuses %j with a one-line message naming the variable", (env, message) => {
    expect(() => parseAgentConfig(env, host)).toThrow(ConfigError);
    expect(() => parseAgentConfig(env, host)).toThrow(message);
  });
});

describe("agentIdFromHostname", () => {
  it("uses the first label, reduced to subject-safe characters", () => {
    expect(agentIdFromHostname("web+1.example.net")).toBe("web-1");
    expect(agentIdFromHostname("")).toBe("agent");
  });
});
