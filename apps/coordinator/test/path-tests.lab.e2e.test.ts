import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { ReferenceLab, Scenario } from "@lg/netlab";
import {
  type Finding,
  type MeasurementAccepted,
  type MeasurementView,
  type PathTestView,
  PathTestView as PathTestViewSchema,
  type ReverseSessionCreated,
  ReverseSessionView as ReverseSessionViewSchema,
  type TraceView,
} from "@lg/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, waitFor, waitForMeasurementDone } from "./harness";
import { type LabStack, startLabStack } from "./lab-stack";

/**
 * The reference lab (packages/netlab) with a per-run prefix and the real stack on top
 * (`startLabStack`): PoPs fra and sin (whose paths differ in each direction), the neutral VM host
 * vm, the impairment targets, and the customer host cust behind the NAT router nat. NATS and the
 * coordinator listen on the lab's host-side address; agents run inside fra, sin and vm.
 */
describe("lab end-to-end: path tests and diagnoses in the reference lab", () => {
  let labStack: LabStack;
  let lab: ReferenceLab;
  let url: string;
  let labUrl: string;

  beforeAll(async () => {
    // The customer downloads the bundled join agent: build it as the build step does.
    const built = spawnSync(process.execPath, ["build.mjs"], {
      cwd: join(repoRoot, "apps/agent"),
      encoding: "utf8",
    });
    if (built.status !== 0) throw new Error(`join agent bundle: ${built.stderr}`);
    labStack = await startLabStack();
    lab = labStack.lab;
    // This test is a local client (127.0.0.1); the agents and the customer inside the lab use the
    // coordinator's lab-side address.
    url = labStack.url;
    labUrl = labStack.stack.coordinator.urls[1] as string;
  }, 240_000);

  afterAll(async () => {
    await labStack?.stop();
  }, 60_000);

  async function pathTest(body: unknown): Promise<PathTestView> {
    const res = await fetch(`${url}/api/v1/path-tests`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    return waitFor(
      `path test ${id}`,
      async () => {
        const v = PathTestViewSchema.parse(await (await fetch(`${url}/api/v1/path-tests/${id}`)).json());
        return v.status === "done" ? v : undefined;
      },
      90_000,
    );
  }

  /** Lab node names of a trace's hops, from netlab's documented per-TTL expectation. */
  const nodesOf = (s: { expectedNodes: (string | string[] | null)[] }) =>
    s.expectedNodes.map((n) => (Array.isArray(n) ? n.join("|") : n));

  it("fra <-> sin is reported asymmetric, diverging where netlab's forward and return routers differ", async () => {
    const asym = lab.scenarios.asym;
    const v = await pathTest({ a: "fra", b: "sin", count: 10, interval: 0.2 });
    expect(v.forward.status).toBe("done");
    expect(v.reverse?.status).toBe("done");
    // Each direction crossed the routers netlab's routes predict.
    expect(v.forward.hops.map((h) => h.host)).toEqual(asym.expectedHops);
    expect(v.reverse?.hops.map((h) => h.host)).toEqual(asym.reverse?.expectedHops);
    expect(v.aAddress).toBe(lab.addr("fra"));
    expect(v.bAddress).toBe(lab.addr("sin"));

    expectRoutersOfLab(v, asym);
  }, 120_000);

  it("fra <-> sin over IPv6 is read router by router the same way", async () => {
    const asym = lab.scenarios.asym;
    const v = await pathTest({ a: "fra", b: "sin", count: 10, interval: 0.2, ipVersion: 6 });
    expect(v.forward.status).toBe("done");
    expect(v.reverse?.status).toBe("done");
    expect(v.bAddress).toBe(lab.addr("sin", 6));
    // The IPv6 routes mirror the IPv4 ones: the same routers at the same TTLs in each direction.
    expect(v.forward.hops).toHaveLength(asym.expectedHops.length);
    expect(v.reverse?.hops).toHaveLength(asym.reverse?.expectedHops.length ?? -1);
    expectRoutersOfLab(v, asym);
  }, 120_000);

  /**
   * The comparison names exactly the routers netlab's routes put on each side: those both directions
   * cross are shared and paired with themselves; every other one is its direction's own, shown so by
   * the other end's alias trace; the follow-ups are listed; a shared router has one id both ways.
   */
  function expectRoutersOfLab(v: PathTestView, asym: Scenario) {
    const c = v.comparison;
    expect(c?.verdict).toBe("asymmetric");
    expect(c?.faultDirection).toBe("none");
    const forwardNodes = nodesOf(asym);
    const reverseNodes = nodesOf(asym.reverse as Scenario);
    const forwardRouters = asym.forwardRouters ?? [];
    const reverseRouters = asym.reverseRouters ?? [];
    const both = forwardRouters.filter((r) => reverseRouters.includes(r));
    const routers = (c?.routers ?? []).map((r) => ({
      identity: r.identity,
      forward: r.forwardTtl !== null ? forwardNodes[r.forwardTtl - 1] : null,
      reverse: r.reverseTtl !== null ? reverseNodes[r.reverseTtl - 1] : null,
      evidence: r.evidence.map((e) => `${e.test}:${e.agrees}`),
    }));
    console.log(JSON.stringify(routers));
    const shared = routers.filter((r) => r.identity === "shared");
    expect(shared.map((r) => r.forward).sort()).toEqual([...both].sort());
    for (const r of shared) expect(r.reverse).toBe(r.forward);
    const oneSided = routers.filter((r) => r.identity !== "shared");
    expect(oneSided.map((r) => r.identity)).toEqual(oneSided.map(() => "own"));
    expect(oneSided.flatMap((r) => (r.forward ? [r.forward] : [])).sort()).toEqual(
      forwardRouters.filter((r) => !both.includes(r)).sort(),
    );
    expect(oneSided.flatMap((r) => (r.reverse ? [r.reverse] : [])).sort()).toEqual(
      reverseRouters.filter((r) => !both.includes(r)).sort(),
    );
    expect(v.forward.followUps.filter((f) => f.kind === "alias-trace" && f.answered).length).toBeGreaterThan(
      0,
    );
    expect(v.reverse?.followUps.filter((f) => f.kind === "alias-trace" && f.answered).length).toBeGreaterThan(
      0,
    );
    const sharedRouter = c?.routers.find((r) => r.identity === "shared");
    const fwdHop = v.forward.hops.find((h) => h.ttl === sharedRouter?.forwardTtl);
    const revHop = v.reverse?.hops.find((h) => h.ttl === sharedRouter?.reverseTtl);
    expect(fwdHop?.routerId).toBe(sharedRouter?.id);
    expect(revHop?.routerId).toBe(sharedRouter?.id);
    expect(c?.summary).toContain("not on the other path");
  }

  it("fra -> a host without an agent runs the forward direction only and says so", async () => {
    const v = await pathTest({ a: "fra", b: { host: lab.scenarios.clean.target }, count: 5, interval: 0.2 });
    expect(v.reverse).toBeNull();
    expect(v.comparison).toBeNull();
    expect(v.note).toMatch(/only the forward direction/);
    expect(v.forward.hops.map((h) => h.host)).toEqual(lab.scenarios.clean.expectedHops);
    expect(v.forward.diagnosis?.verdict).toBe("clean");
  }, 90_000);

  async function traceFromFra(s: Scenario, extra: Record<string, unknown> = {}): Promise<TraceView> {
    const res = await fetch(`${url}/api/v1/measurements`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ target: s.target, from: [s.from], count: 20, interval: 0.2, ...extra }),
    });
    expect(res.status).toBe(202);
    const accepted = (await res.json()) as MeasurementAccepted;
    const m: MeasurementView = await waitForMeasurementDone(url, accepted.id, 90_000);
    const t = m.traces[0] as TraceView;
    expect(t.status).toBe("done");
    return t;
  }

  const finding = (t: TraceView, code: string): Finding | undefined =>
    t.diagnosis?.findings.find((f) => f.code === code);

  it("every impairment scenario gets its diagnosis code at the hop netlab documents", async () => {
    const s = lab.scenarios;
    const [clean, clean6, throttle, loss, filtered, loop, blackhole, delay, ecmp] = await Promise.all([
      traceFromFra(s.clean),
      traceFromFra(s.clean6, { ipVersion: 6 }),
      traceFromFra(s.throttle),
      traceFromFra(s.loss),
      traceFromFra(s.filtered, { servicePort: s.filtered.tcpPort }),
      traceFromFra(s.loop, { maxTtl: s.loop.maxTtl }),
      traceFromFra(s.blackhole),
      traceFromFra(s.delay),
      traceFromFra(s.ecmp, { protocol: "udp" }),
    ]);
    const report = Object.fromEntries(
      Object.entries({ clean, clean6, throttle, loss, filtered, loop, blackhole, delay, ecmp }).map(
        ([k, t]) => [
          k,
          {
            verdict: t.diagnosis?.verdict,
            findings: t.diagnosis?.findings.map((f) => [f.code, f.hops, f.region]),
          },
        ],
      ),
    );
    // One line per scenario in the test output, to read what the analysis said.
    console.log(JSON.stringify(report));

    expect(clean.diagnosis?.verdict).toBe("clean");
    expect(clean6.diagnosis?.verdict).toBe("clean");
    expect(ecmp.diagnosis?.verdict).toBe("clean");

    // One router drops every second answer, the hops after it lose nothing: clean, with the throttling named.
    expect(throttle.diagnosis?.verdict).toBe("clean");
    expect(finding(throttle, "icmp-throttling")?.hops).toEqual([s.throttle.throttleTtl]);
    expect(finding(throttle, "real-loss")).toBeUndefined();

    expect(loss.diagnosis?.verdict).toBe("problem");
    expect(finding(loss, "real-loss")?.hops[0]).toBe(s.loss.lossFromTtl);

    expect(loop.diagnosis?.verdict).toBe("problem");
    expect(finding(loop, "routing-loop")?.hops).toEqual(s.loop.loopTtls);

    expect(blackhole.diagnosis?.verdict).toBe("problem");
    const after = s.blackhole.blackholeAfterTtl as number;
    expect(finding(blackhole, "node-interruption")?.hops).toEqual([after, after + 1]);
    expect(finding(blackhole, "node-interruption")?.evidence).toContain(
      "Follow-up probes to the destination: TCP SYN to 443: no answer; TCP SYN to 80: no answer; UDP to 33434: no answer.",
    );

    expect(delay.diagnosis?.verdict).toBe("problem");
    expect(finding(delay, "latency-step")?.hops[0]).toBe(s.delay.delayFromTtl);

    // ICMP alone cannot tell a filtering destination from a dead one, so the agent asks the silent
    // end over TCP (the service port named) and UDP before it finishes: the SYN-ACK proves the
    // destination is there, and the ICMP measurement alone reads it as filtering ICMP, with the
    // proof. A TCP trace to the served port reads clean.
    const lastRouterTtl = s.filtered.expectedHops.length - 1;
    expect(finding(filtered, "node-interruption")).toBeUndefined();
    expect(finding(filtered, "destination-filters-icmp")?.hops).toEqual([lastRouterTtl + 1]);
    expect(finding(filtered, "destination-filters-icmp")?.evidence).toMatch(
      new RegExp(`Proof that it is there: TCP SYN to ${s.filtered.tcpPort} answered in [\\d.]+ ms`),
    );
    const tcp = await traceFromFra(s.filtered, { protocol: "tcp", port: s.filtered.tcpPort });
    expect(tcp.hops.map((h) => h.host)).toEqual(s.filtered.expectedTcpHops);
    expect(tcp.diagnosis?.verdict).toBe("clean");
  }, 240_000);

  it("a customer behind the lab's NAT joins with the one command and both legs go through the neutral VM", async () => {
    const server = lab.scenarios.clean.target;
    // Asked on the lab-side address, so the command it prints works from inside the lab.
    const res = await fetch(`${labUrl}/api/v1/reverse-sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ server: { host: server }, via: "vm", count: 10, interval: 0.5 }),
    });
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(201);
    const created = body as ReverseSessionCreated;
    // Run inside the customer's namespace exactly as printed.
    const ran = await lab.exec("cust", ["sh", "-c", created.command], { timeoutMs: 120_000 });
    expect(ran.code, `${ran.stdout}\n${ran.stderr}`).toBe(0);

    const v = ReverseSessionViewSchema.parse(
      await (await fetch(`${url}/api/v1/reverse-sessions/${created.id}`)).json(),
    );
    expect(v.status).toBe("done");
    // The coordinator saw the NAT's outside address, not the customer's private one.
    const natOutside = lab.addr("nat");
    expect(natOutside).toMatch(/^198\.1[89]\./);
    expect(v.customer.publicAddress).toBe(natOutside);
    expect(ran.stderr).toContain(`the looking-glass sees you as ${natOutside}`);

    const customer = `join-${created.id}`;
    expect(v.legs).toHaveLength(2);
    const toVm = v.legs.find((l) => l.a === customer);
    const vmToServer = v.legs.find((l) => l.a === "vm");
    // Leg 1: customer -> vm, and vm -> the customer's public address (it ends at the NAT).
    expect(toVm?.b).toBe("vm");
    expect(toVm?.forward.status).toBe("done");
    expect(toVm?.forward.hops.at(-1)?.host).toBe(lab.addr("vm"));
    expect(toVm?.reverse?.agentId).toBe("vm");
    expect(toVm?.reverse?.target).toBe(natOutside);
    expect(toVm?.reverse?.status).toBe("done");
    expect(toVm?.reverse?.hops.at(-1)?.host).toBe(natOutside);
    expect(toVm?.comparison).not.toBeNull();
    // The customer's own router (the NAT's LAN side, hop 1) is only on the way out: it is named in
    // the note and left out of the comparison, which starts where the reverse direction ends.
    expect(toVm?.forward.hops[0]?.host).not.toBe(natOutside);
    expect(toVm?.note).toContain(
      `forward hop 1 (${toVm?.forward.hops[0]?.host}) are the customer's network behind its NAT`,
    );
    expect(toVm?.comparison?.segments[0]?.kind).toBe("shared");
    expect(toVm?.comparison?.segments[0]?.forward.hops[0]?.ttl).toBe(2);
    // Leg 2: vm -> the server host (it has no agent: forward only, and said so).
    expect(vmToServer?.b).toEqual({ host: server });
    expect(vmToServer?.forward.status).toBe("done");
    expect(vmToServer?.forward.hops.at(-1)?.host).toBe(server);
    expect(vmToServer?.reverse).toBeNull();
    // The customer sees each leg's reading when it is done.
    expect(ran.stdout).toContain(`${customer} ⇄ vm: `);
    expect(ran.stdout).toContain(`vm ⇄ ${server}: `);
  }, 180_000);
});
