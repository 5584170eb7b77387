import { type PresenceMessage, PresenceMessage as PresenceSchema, zeroAgentCounters } from "@lg/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import { agentDescriptor, Presence, type PresenceState, presenceMessage } from "./presence";
import { AGENT_VERSION } from "./version";

const config: Parameters<typeof agentDescriptor>[0] = {
  id: "fra",
  region: "eu",
  role: "pop",
  publicAddresses: ["198.18.0.10"],
  maxTraces: 3,
};
const v4Interfaces = { eth0: [{ address: "198.18.0.10", family: "IPv4", internal: false }] } as never;
const v6Interfaces = { eth0: [{ address: "2001:2::10", family: "IPv6", internal: false }] } as never;
const SENT_AT = new Date("2025-01-01T00:00:00.000Z");

describe("agentDescriptor", () => {
  it("describes the agent with its capabilities and version", () => {
    expect(agentDescriptor(config, v4Interfaces)).toEqual({
      id: "fra",
      region: "eu",
      role: "pop",
      version: AGENT_VERSION,
      addresses: ["198.18.0.10"],
      capabilities: {
        protocols: ["icmp", "udp", "tcp"],
        ipv4: true,
        ipv6: false,
        pinFlow: true,
        mda: true,
        flowControl: "udp4",
        maxTraces: 3,
      },
    });
  });

  it("says it holds every kind of flow when lg-probe answered", () => {
    expect(agentDescriptor(config, v4Interfaces, "all").capabilities.flowControl).toBe("all");
  });

  it("announces where the agent is when LG_LOCATION gave a place, and nothing when it did not", () => {
    const location = { lat: 50.11, lon: 8.68, city: "Frankfurt" };
    const descriptor = agentDescriptor({ ...config, location }, v4Interfaces);
    expect(descriptor.location).toEqual(location);
    expect(
      PresenceSchema.parse(
        presenceMessage("announce", { descriptor, running: 0, counters: zeroAgentCounters() }, SENT_AT),
      ).agent.location,
    ).toEqual(location);
    expect("location" in agentDescriptor(config, v4Interfaces)).toBe(false);
  });

  it("can trace IPv6 when a configured or a detected address is IPv6", () => {
    expect(agentDescriptor(config, v6Interfaces).capabilities.ipv6).toBe(true);
    expect(
      agentDescriptor({ ...config, publicAddresses: ["2001:2::10"] }, v4Interfaces).capabilities.ipv6,
    ).toBe(true);
  });
});

describe("presenceMessage", () => {
  const state: PresenceState = {
    descriptor: agentDescriptor(config, v4Interfaces),
    running: 2,
    counters: { ...zeroAgentCounters(), jobsAccepted: 2 },
  };

  it("carries the descriptor, running traces, counters and send time, and parses as a PresenceMessage", () => {
    const message = presenceMessage("heartbeat", state, SENT_AT);
    expect(message).toEqual({
      v: 1,
      kind: "heartbeat",
      agent: state.descriptor,
      running: 2,
      counters: state.counters,
      sentAt: "2025-01-01T00:00:00.000Z",
    } satisfies PresenceMessage);
    expect(PresenceSchema.parse(message)).toEqual(message);
  });

  it("copies the counters, so counting after it leaves the message as sent", () => {
    const counters = zeroAgentCounters();
    const message = presenceMessage("announce", { ...state, counters }, SENT_AT);
    counters.jobsRejected++;
    expect(message.counters.jobsRejected).toBe(0);
  });

  it("carries the user JWT only when the agent has credentials", () => {
    expect(presenceMessage("announce", state, SENT_AT)).not.toHaveProperty("userJwt");
    expect(presenceMessage("announce", { ...state, userJwt: "a.b.c" }, SENT_AT).userJwt).toBe("a.b.c");
  });
});

describe("Presence", () => {
  afterEach(() => vi.useRealTimers());

  function presence(opts: { draining?: () => boolean; heartbeatIntervalMs?: number } = {}) {
    const sent: PresenceMessage[] = [];
    const p = new Presence({
      state: () => ({
        descriptor: agentDescriptor(config, v4Interfaces),
        running: 0,
        counters: zeroAgentCounters(),
      }),
      draining: opts.draining ?? (() => false),
      send: (m) => sent.push(m),
      heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 5_000,
      now: () => new Date(),
    });
    return { p, sent, kinds: () => sent.map((m) => m.kind) };
  }

  it("heartbeats every interval after the announcement, until stopped", () => {
    vi.useFakeTimers();
    const { p, kinds } = presence({ heartbeatIntervalMs: 5_000 });
    p.announce();
    p.startHeartbeat();
    vi.advanceTimersByTime(4_999);
    expect(kinds()).toEqual(["announce"]);
    vi.advanceTimersByTime(1);
    expect(kinds()).toEqual(["announce", "heartbeat"]);
    vi.advanceTimersByTime(10_000);
    expect(kinds()).toEqual(["announce", "heartbeat", "heartbeat", "heartbeat"]);
    p.stopHeartbeat();
    vi.advanceTimersByTime(60_000);
    expect(kinds()).toHaveLength(4);
  });

  it("says leaving instead of heartbeat while draining", () => {
    vi.useFakeTimers();
    let draining = false;
    const { p, kinds } = presence({ draining: () => draining, heartbeatIntervalMs: 1_000 });
    p.startHeartbeat();
    vi.advanceTimersByTime(1_000);
    draining = true;
    vi.advanceTimersByTime(1_000);
    p.beat();
    p.leaving();
    p.stopHeartbeat();
    expect(kinds()).toEqual(["heartbeat", "leaving", "leaving", "leaving"]);
  });

  it("stamps each message with the time it is sent", () => {
    vi.useFakeTimers({ now: SENT_AT });
    const { p, sent } = presence();
    p.announce();
    vi.advanceTimersByTime(1_500);
    p.beat();
    expect(sent.map((m) => m.sentAt)).toEqual(["2025-01-01T00:00:00.000Z", "2025-01-01T00:00:01.500Z"]);
  });
});
