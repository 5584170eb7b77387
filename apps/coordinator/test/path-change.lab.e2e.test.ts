import type { ReferenceLab } from "@lg/netlab";
import type { AlertView, AlertWebhook, MeasurementView, MonitorView } from "@lg/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, createSecurityStore } from "../src/security";
import { waitFor } from "./harness";
import { type LabStack, startLabStack } from "./lab-stack";
import { startWebhookReceiver } from "./webhook-receiver";

/** sin's LAN, which efra routes over core1 (the lab's asymmetry); over core3 it is one router shorter. */
const SIN_LAN = "198.18.7.0/24";
/** core3's end of link 6 (core3 - efra: core3 is its first node, efra has 198.18.6.2). */
const CORE3_ON_LINK_6 = "198.18.6.1";

/**
 * On the reference lab (fra, sin, vm agents; packages/netlab "The reference lab"): a path-test
 * monitor fra <-> sin and a trace monitor fra -> tecmp over UDP (hop 3 is the ECMP pair ecmpa |
 * ecmpb), both with the pathChange rule. Mid-run, efra's route to sin's LAN moves from core1 to
 * core3 — fra -> sin changes routers; sin -> fra keeps its routers, though efra now answers sin from
 * another interface — and then back. Alerts go to a webhook receiver in this test.
 */
describe("lab end-to-end: pathChange per direction, and an ECMP hop", () => {
  let labStack: LabStack;
  let lab: ReferenceLab;
  let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let key: string;
  /** efra's route to sin's LAN as the lab built it (`ip route show` output), to restore it. */
  let sinRoute: string;

  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${labStack.url}${path}`, {
      ...init,
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    });
  const monitor = async (id: string) => (await (await api(`/api/v1/monitors/${id}`)).json()) as MonitorView;
  const alertsOf = async (id: string) =>
    (await (await api(`/api/v1/alerts?monitor=${id}`)).json()) as AlertView[];
  async function efra(argv: string[]) {
    const r = await lab.exec("efra", argv);
    if (r.code !== 0) throw new Error(`${argv.join(" ")} in efra: ${r.stderr}`);
    return r.stdout.trim();
  }
  const create = async (body: unknown) => {
    const res = await api("/api/v1/monitors", { method: "POST", body: JSON.stringify(body) });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as MonitorView;
  };
  /** Resolves as soon as the monitor's next run has finished (runs follow each other within a second). */
  const betweenRuns = async (id: string) => {
    const done = (await monitor(id)).runs;
    await waitFor("the end of a run", async () => (await monitor(id)).runs > done, 120_000);
  };
  const webhooksOf = (id: string): AlertWebhook[] => hook.received.filter((w) => w.alert.monitorId === id);

  beforeAll(async () => {
    // The webhook receiver listens on this host's loopback, an internal address: allow-listed.
    labStack = await startLabStack({ env: { LG_WEBHOOK_ALLOW: "127.0.0.1/32" } });
    lab = labStack.lab;
    key = (await createApiKey(createSecurityStore(labStack.stack.coordinator.db.db), ["monitors"], "lab"))
      .key;
    hook = await startWebhookReceiver();
    sinRoute = await efra(["ip", "-4", "route", "show", SIN_LAN]);
    expect(sinRoute).toMatch(/^198\.18\.7\.0\/24 via 198\.18\.2\.2 /);
  }, 240_000);

  afterAll(async () => {
    await hook?.close();
    await labStack?.stop();
  }, 60_000);

  it("moving efra's route to sin raises one pathChange alert, for forward only, and resolves it when the route is back; the ECMP hop raises none", async () => {
    const pair = await create({
      kind: "path-test",
      name: "fra <-> sin",
      every: 5,
      pathTest: { a: "fra", b: "sin", ipVersion: 4, count: 10, interval: 0.2 },
      // The new route must not become the normal one while the test runs: it resolves only by coming back.
      rules: { pathChange: { runs: 100 } },
      webhook: hook.url,
    });
    const ecmp = await create({
      kind: "trace",
      name: "fra to tecmp over UDP",
      every: 5,
      measurement: {
        target: lab.scenarios.ecmp.target,
        from: ["fra"],
        protocol: "udp",
        count: 16,
        interval: 0.1,
      },
      rules: { pathChange: { runs: 100 } },
      webhook: hook.url,
    });

    // Two runs on the usual routes: nothing fires.
    await waitFor(
      "two runs of each monitor",
      async () => (await monitor(pair.id)).runs >= 2 && (await monitor(ecmp.id)).runs >= 2,
      150_000,
    );
    expect(hook.received).toEqual([]);

    // Right after a run ends, so that the next run traces the new route from its first probe (a run
    // that straddles the change sees both routes at once).
    await betweenRuns(pair.id);
    await efra(["ip", "route", "replace", SIN_LAN, "via", CORE3_ON_LINK_6]);
    const fired = await waitFor(
      "the pathChange alert of fra <-> sin",
      async () => webhooksOf(pair.id).find((w) => w.event === "alert.fired"),
      150_000,
    );
    expect(fired.alert).toMatchObject({ rule: "pathChange", subject: "forward", status: "firing" });
    const evidence = fired.alert.evidence as {
      direction: string;
      segment: { before: { addresses: string[] }[]; now: { addresses: string[] }[]; words: string };
    };
    expect(evidence.direction).toBe("forward");
    // core1 and core2 (198.18.2.2, 198.18.3.2) gave way to core3 (198.18.6.1).
    const firedRun = (await (
      await api(`/api/v1/path-tests/${(fired.alert.link as string).split("/p/")[1]}`)
    ).json()) as { forward: { hops: { ttl: number; host: string | null; responders: unknown[] }[] } };
    const seen = JSON.stringify({
      evidence: fired.alert.evidence,
      forward: firedRun.forward.hops.map((h) => [h.ttl, h.host, h.responders]),
    });
    expect(
      evidence.segment.before.map((s) => s.addresses[0]),
      seen,
    ).toEqual(["198.18.2.2", "198.18.3.2"]);
    expect(
      evidence.segment.now.map((s) => s.addresses[0]),
      seen,
    ).toEqual([CORE3_ON_LINK_6]);
    expect(fired.summary).toContain("forward path changed");

    // Two more runs on the new route: the reverse direction, whose routers did not change, stays quiet.
    const firedAt = (await monitor(pair.id)).runs;
    await waitFor("two more runs", async () => (await monitor(pair.id)).runs >= firedAt + 2, 120_000);
    expect((await alertsOf(pair.id)).map((a) => [a.rule, a.subject, a.status])).toEqual([
      ["pathChange", "forward", "firing"],
    ]);

    await betweenRuns(pair.id);
    await efra(["ip", "route", "replace", ...sinRoute.split(/\s+/)]);
    const resolved = await waitFor(
      "the pathChange alert resolving",
      async () => webhooksOf(pair.id).find((w) => w.event === "alert.resolved"),
      150_000,
    );
    expect(resolved.alert).toMatchObject({ id: fired.alert.id, status: "resolved", subject: "forward" });
    expect(resolved.alert.resolveEvidence).toMatchObject({ direction: "forward", back: true });
    expect((await alertsOf(pair.id)).map((a) => [a.rule, a.subject, a.status])).toEqual([
      ["pathChange", "forward", "resolved"],
    ]);
    expect(webhooksOf(pair.id).map((w) => w.event)).toEqual(["alert.fired", "alert.resolved"]);

    // The ECMP monitor ran all along without an alert, though its hop 3 answered from both branches.
    const ecmpRuns = await monitor(ecmp.id);
    expect(ecmpRuns.runs).toBeGreaterThanOrEqual(6);
    expect(await alertsOf(ecmp.id)).toEqual([]);
    const last = (await (
      await api(`/api/v1/measurements/${(ecmpRuns.lastLink as string).split("/m/")[1]}`)
    ).json()) as MeasurementView;
    const hop3 = last.traces[0]?.hops.find((h) => h.ttl === lab.scenarios.ecmp.ecmpTtl);
    expect(hop3?.responders.map((r) => r.address).sort()).toEqual(["198.18.70.2", "198.18.71.2"]);
  }, 600_000);
});
