import { describe, expect, it } from "vitest";
import { AgentCapabilities, PresenceMessage } from "./messages";

describe("AgentCapabilities", () => {
  const older = {
    protocols: ["icmp", "udp", "tcp"],
    ipv4: true,
    ipv6: true,
    pinFlow: true,
    mda: true,
    maxTraces: 200,
  };

  it("reads an agent older than lg-probe, which does not say flowControl, as IPv4 UDP only", () => {
    expect(AgentCapabilities.parse(older).flowControl).toBe("udp4");
  });

  it("keeps an agent's flowControl, and refuses a value it does not know", () => {
    expect(AgentCapabilities.parse({ ...older, flowControl: "all" }).flowControl).toBe("all");
    expect(AgentCapabilities.safeParse({ ...older, flowControl: "tcp" }).success).toBe(false);
  });

  it("still parses an older agent's whole presence message", () => {
    const message = {
      v: 1,
      kind: "heartbeat",
      agent: { id: "fra", region: "eu", role: "pop", version: "0.1.0", addresses: [], capabilities: older },
      running: 0,
      counters: {
        jobsAccepted: 0,
        jobsRejected: 0,
        tracesDone: 0,
        tracesFailed: 0,
        probesSent: 0,
        probesAnswered: 0,
      },
      sentAt: new Date(0).toISOString(),
    };
    expect(PresenceMessage.parse(message).agent.capabilities.flowControl).toBe("udp4");
  });
});
