import type { ReferenceLab, Scenario } from "@lg/netlab";
import type { AlertView, MonitorSample, MonitorView } from "@lg/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, createSecurityStore } from "../src/security";
import { waitFor } from "./harness";
import { type LabStack, startLabStack } from "./lab-stack";
import { startWebhookReceiver } from "./webhook-receiver";

/**
 * A monitor on the reference lab's `loss` path (fra -> tloss behind the router lossy), with the
 * lossy router's drop rules switched off before the monitor starts, switched on mid-run, and off
 * again: the loss alert fires to a webhook receiver in this test, then resolves.
 */
describe("lab end-to-end: a loss monitor fires and resolves as the impairment is switched on and off", () => {
  let labStack: LabStack;
  let lab: ReferenceLab;
  let scenario: Scenario;
  let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let key: string;
  /** lossy's raw table as the lab built it (the nth-drop rules), to switch the loss back on. */
  let lossRules: string;

  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${labStack.url}${path}`, {
      ...init,
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    });

  async function iptables(argv: string[], input?: string) {
    const r = await lab.exec("lossy", argv, input === undefined ? {} : { input });
    if (r.code !== 0) throw new Error(`${argv.join(" ")} in lossy: ${r.stderr}`);
    return r.stdout;
  }
  const lossOff = () => iptables(["iptables", "-t", "raw", "-F", "PREROUTING"]);
  const lossOn = () => iptables(["iptables-restore", "--noflush"], lossRules);

  beforeAll(async () => {
    // The webhook receiver listens on this host's loopback, an internal address: allow-listed.
    labStack = await startLabStack({ env: { LG_WEBHOOK_ALLOW: "127.0.0.1/32" } });
    lab = labStack.lab;
    scenario = lab.scenarios.loss;
    key = (await createApiKey(createSecurityStore(labStack.stack.coordinator.db.db), ["monitors"], "lab"))
      .key;
    hook = await startWebhookReceiver();
    lossRules = await iptables(["iptables-save", "-t", "raw"]);
    expect(lossRules).toContain("statistic --mode nth --every 4");
    await lossOff();
  }, 240_000);

  afterAll(async () => {
    await hook?.close();
    await labStack?.stop();
  }, 60_000);

  it("a loss monitor from fra to tloss stays quiet, fires when lossy starts dropping 1 in 4, and resolves when it stops", async () => {
    const res = await api("/api/v1/monitors", {
      method: "POST",
      body: JSON.stringify({
        kind: "trace",
        name: "fra to tloss",
        every: 5,
        measurement: { target: scenario.target, from: [scenario.from], count: 12, interval: 0.1 },
        rules: { loss: { pct: 10, runs: 2 } },
        webhook: hook.url,
      }),
    });
    expect(res.status).toBe(201);
    const monitor = (await res.json()) as MonitorView;
    const runs = async () =>
      ((await (await api(`/api/v1/monitors/${monitor.id}`)).json()) as MonitorView).runs;
    const destinationLoss = async () => {
      const series = (await (await api(`/api/v1/monitors/${monitor.id}/series`)).json()) as MonitorSample[];
      const last = series.at(-1);
      return last ? { host: last.host, lossPct: last.lossPct, at: last.at } : undefined;
    };

    // Two clean runs: the destination answers every probe, nothing fires.
    await waitFor("two clean runs", async () => (await runs()) >= 2, 60_000);
    expect(await destinationLoss()).toMatchObject({ host: scenario.target, lossPct: 0 });
    expect(hook.received).toEqual([]);

    await lossOn();
    const fired = await waitFor(
      "the loss alert's webhook",
      async () => hook.received.find((w) => w.event === "alert.fired"),
      90_000,
    );
    expect(fired.alert).toMatchObject({
      monitorId: monitor.id,
      rule: "loss",
      subject: "fra",
      status: "firing",
    });
    const evidence = fired.alert.evidence as {
      lossPct: number;
      thresholdPct: number;
      consecutiveRuns: number;
    };
    // lossy drops one probe in four from its hop on: the destination loses about 25 %.
    expect(evidence.lossPct).toBeGreaterThan(10);
    expect(evidence.lossPct).toBeLessThan(50);
    expect(evidence.consecutiveRuns).toBe(2);
    expect(fired.alert.link).toMatch(/\/m\/[A-Za-z0-9_-]+$/);
    // The link is the permalink of the run that fired: its page exists.
    const page = await fetch((fired.alert.link as string).replace(/^http:\/\/[^/]+/, labStack.url));
    expect(page.status).toBe(200);

    await lossOff();
    const resolved = await waitFor(
      "the loss alert's resolve webhook",
      async () => hook.received.find((w) => w.event === "alert.resolved"),
      90_000,
    );
    expect(resolved.alert).toMatchObject({ id: fired.alert.id, status: "resolved" });
    expect((resolved.alert.resolveEvidence as { lossPct: number }).lossPct).toBe(0);
    expect(await destinationLoss()).toMatchObject({ host: scenario.target, lossPct: 0 });

    const history = (await (await api(`/api/v1/alerts?monitor=${monitor.id}`)).json()) as AlertView[];
    expect(history.map((a) => [a.rule, a.status])).toEqual([["loss", "resolved"]]);
    expect(hook.received.map((w) => w.event)).toEqual(["alert.fired", "alert.resolved"]);
  }, 240_000);
});
