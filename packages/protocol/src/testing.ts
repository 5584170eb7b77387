import {
  type AgentCapabilities,
  type AgentDescriptor,
  PROTOCOL_VERSION,
  type PresenceMessage,
  zeroAgentCounters,
} from "./messages";
import type { Hop } from "./trace";

export { startTestDns, type TestDnsAnswer, type TestDnsQuery, type TestDnsServer } from "./testing-dns";

/**
 * A hop for tests: `sent` probes all answered by `host` with 1 ms each, or all lost when `host`
 * is null. `extra` overrides any field.
 *
 * @example
 * const hops = [hopOf(1, "198.18.1.2"), hopOf(2, null), hopOf(3, "198.18.3.2", 5, { lossPct: 20 })];
 */
export function hopOf(ttl: number, host: string | null, sent = 10, extra: Partial<Hop> = {}): Hop {
  const recv = host ? sent : 0;
  return {
    ttl,
    host,
    lossPct: host ? 0 : 100,
    sent,
    recv,
    drop: sent - recv,
    last: 1,
    avg: 1,
    best: 1,
    worst: 1,
    stdev: 0,
    jitter: 0,
    jitterAvg: 0,
    jitterMax: 0,
    responders: host ? [{ address: host, count: sent }] : [],
    ...extra,
  };
}

/**
 * What an agent can do, for tests: ICMP over IPv4 only, no flow pinning or multipath, 4 traces at
 * once. `extra` overrides any field.
 */
export function capabilitiesOf(extra: Partial<AgentCapabilities> = {}): AgentCapabilities {
  return {
    protocols: ["icmp"],
    ipv4: true,
    ipv6: false,
    pinFlow: false,
    mda: false,
    flowControl: "udp4",
    maxTraces: 4,
    ...extra,
  };
}

/**
 * An agent descriptor for tests: a PoP in region "test", version "test", at 127.0.0.1, with
 * `capabilitiesOf()`. `extra` overrides any field.
 */
export function descriptorOf(id: string, extra: Partial<AgentDescriptor> = {}): AgentDescriptor {
  return {
    id,
    region: "test",
    role: "pop",
    version: "test",
    addresses: ["127.0.0.1"],
    capabilities: capabilitiesOf(),
    ...extra,
  };
}

/**
 * A presence message as an agent sends it, for tests: a heartbeat from `descriptorOf(id, agent)`,
 * nothing running, counters at zero, sent now. `extra` overrides any other field; a `userJwt`
 * that is undefined is left out, as the agent leaves it out.
 *
 * @example
 * nc.publish(subjects.presence("fra"), JSON.stringify(presenceOf("fra", { role: "neutral" }, { kind: "announce" })));
 */
export function presenceOf(
  id: string,
  agent: Partial<AgentDescriptor> = {},
  extra: Partial<Omit<PresenceMessage, "agent">> = {},
): PresenceMessage {
  const { userJwt, ...rest } = extra;
  return {
    v: PROTOCOL_VERSION,
    kind: "heartbeat",
    agent: descriptorOf(id, agent),
    running: 0,
    counters: zeroAgentCounters(),
    sentAt: new Date().toISOString(),
    ...rest,
    ...(userJwt ? { userJwt } : {}),
  };
}
