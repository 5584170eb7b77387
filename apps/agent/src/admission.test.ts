import { parseAllowList, type ResolvedTarget } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { type AdmissionState, admit, checkTarget, type TargetCheckOptions } from "./admission";
import { agentCapabilities } from "./support";
import { job } from "./test-jobs";

const v4Only = agentCapabilities({ maxTraces: 4, ipv6: false, mda: true });
const before: AdmissionState = {
  draining: false,
  maxTraces: 4,
  inFlight: 0,
  alreadyAccepted: false,
  beingChecked: false,
  capabilities: v4Only,
  isLocalAddress: (a) => a === "198.18.1.2",
};
const resolved = (address: string, family: 4 | 6 = 4): ResolvedTarget => ({
  target: address,
  address,
  family,
});
const after = (target: ResolvedTarget, state: Partial<AdmissionState> = {}): AdmissionState => ({
  ...before,
  ...state,
  target: { resolved: target },
});

describe("admit before the target check", () => {
  const request = job("t1", "198.18.0.9");

  it("asks for the target check when nothing stands in the way", () => {
    expect(admit(request, before)).toEqual({ verdict: "check-target" });
  });

  it("confirms a repeated request for a trace already accepted instead of running it twice", () => {
    // Even while draining and at the limit: the trace was taken before either.
    expect(admit(request, { ...before, alreadyAccepted: true, draining: true, inFlight: 4 })).toEqual({
      verdict: "confirm",
    });
  });

  it("refuses a second request for a job still being checked as busy", () => {
    expect(admit(request, { ...before, beingChecked: true })).toEqual({
      verdict: "reject",
      reason: "busy",
      message: "this job is already being checked",
    });
  });

  it("refuses every new job while draining", () => {
    expect(admit(request, { ...before, draining: true, inFlight: 4 })).toEqual({
      verdict: "reject",
      reason: "draining",
      message: "the agent is shutting down and takes no new jobs",
    });
  });

  it("refuses a job as busy when running and checked jobs fill LG_MAX_TRACES", () => {
    expect(admit(request, { ...before, inFlight: 3 })).toEqual({ verdict: "check-target" });
    expect(admit(request, { ...before, inFlight: 4 })).toEqual({
      verdict: "reject",
      reason: "busy",
      message: "the agent is running its limit of 4 traces",
    });
  });
});

describe("admit with the target check's outcome", () => {
  it("accepts a job whose target was confirmed, with the address to probe", () => {
    const target = resolved("198.18.0.9");
    expect(admit(job("t2", "198.18.0.9"), after(target))).toEqual({ verdict: "accept", target });
  });

  it("passes a refused target's reason and message on", () => {
    const refused = { reason: "target-refused", message: "fra resolved a.test to 198.18.0.1" } as const;
    expect(admit(job("t3", "a.test", {}, "198.18.0.2"), { ...before, target: { refused } })).toEqual({
      verdict: "reject",
      ...refused,
    });
  });

  it("refuses a job as draining when shutdown began during the check", () => {
    expect(admit(job("t4", "198.18.0.9"), after(resolved("198.18.0.9"), { draining: true }))).toMatchObject({
      verdict: "reject",
      reason: "draining",
    });
  });

  it("refuses an IPv6 target on an agent without IPv6 as unsupported", () => {
    expect(admit(job("t5", "2001:2::9"), after(resolved("2001:2::9", 6)))).toEqual({
      verdict: "reject",
      reason: "unsupported",
      message: "this agent has no IPv6 address to trace from",
    });
  });

  it("refuses a source address that is not the agent's as unsupported", () => {
    const request = job("t6", "198.18.0.9", { sourceAddress: "192.0.2.9" });
    expect(admit(request, after(resolved("198.18.0.9")))).toMatchObject({
      verdict: "reject",
      reason: "unsupported",
      message: "192.0.2.9 is not an address of this agent",
    });
  });

  it("refuses what the tracer would refuse before probing, with the tracer's reason", () => {
    const icmpLocalPort = job("t7", "198.18.0.9", { protocol: "icmp", localPort: 2000 });
    expect(admit(icmpLocalPort, after(resolved("198.18.0.9")))).toMatchObject({
      verdict: "reject",
      reason: "invalid",
      message: expect.stringMatching(/localport sets the source port of UDP and TCP probes; ICMP has none/),
    });
    const lowLocalPort = job("t8", "198.18.0.9", { protocol: "udp", localPort: 80 });
    expect(admit(lowLocalPort, after(resolved("198.18.0.9")))).toMatchObject({
      verdict: "reject",
      reason: "invalid",
      message: expect.stringMatching(/ports 1024-65535 only/),
    });
  });
});

describe("checkTarget", () => {
  const options = (resolver: TargetCheckOptions["resolver"], timeoutMs = 1_000): TargetCheckOptions => ({
    allow: parseAllowList("198.18.0.0/15"),
    resolver,
    here: "fra",
    timeoutMs,
  });
  const noNames: TargetCheckOptions["resolver"] = async () => [];

  it("confirms an allowed IP literal without resolving anything", async () => {
    expect(await checkTarget(job("c1", "198.18.0.9"), options(noNames))).toEqual({
      resolved: { target: "198.18.0.9", address: "198.18.0.9", family: 4 },
    });
  });

  it("confirms a name that resolves here to the checked address", async () => {
    const resolver: TargetCheckOptions["resolver"] = async () => [{ address: "198.18.0.9", family: 4 }];
    expect(await checkTarget(job("c2", "a.test", {}, "198.18.0.9"), options(resolver))).toEqual({
      resolved: { target: "a.test", address: "198.18.0.9", family: 4 },
    });
  });

  it("refuses an address in a special range this agent does not allow", async () => {
    const check = await checkTarget(job("c3", "10.0.0.1"), options(noNames));
    expect(check).toMatchObject({
      refused: { reason: "target-refused", message: expect.stringMatching(/private/) },
    });
  });

  it("calls an IP literal that differs from the job's address invalid", async () => {
    const check = await checkTarget(job("c4", "198.18.0.9", {}, "198.18.0.8"), options(noNames));
    expect(check).toMatchObject({ refused: { reason: "invalid" } });
  });

  it("refuses a name that resolves here to another address, naming both", async () => {
    const resolver: TargetCheckOptions["resolver"] = async () => [{ address: "198.18.0.7", family: 4 }];
    expect(await checkTarget(job("c5", "a.test", {}, "198.18.0.9"), options(resolver))).toEqual({
      refused: {
        reason: "target-refused",
        message: "fra resolved a.test to 198.18.0.7, the coordinator checked 198.18.0.9",
      },
    });
  });

  it("refuses a name that does not resolve within the timeout", async () => {
    const never: TargetCheckOptions["resolver"] = () => new Promise(() => {});
    expect(await checkTarget(job("c6", "slow.test", {}, "198.18.0.9"), options(never, 20))).toEqual({
      refused: { reason: "target-refused", message: "slow.test did not resolve within 0.02 s" },
    });
  });
});
