import { resolve } from "node:path";
import type { Scenario } from "@lg/netlab";
import type { Finding, MeasurementAccepted, MeasurementView, TraceView } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { waitForMeasurementDone } from "./harness";
import { labStackForSuite } from "./lab-suite";

const LG = resolve(import.meta.dirname, "../../../bin/lg");

/**
 * Verdicts that confirm themselves, on real agents (`lg agent` inside fra) in the reference lab
 * (packages/netlab): tfilt drops ICMP echo and serves TCP on FILTERED_TCP_PORT, tbh sits behind the
 * black-holed router hole, and lossy drops every 4th packet towards tloss (25% from its hop on).
 */
describe("lab end-to-end: follow-up probes and --until-sure", () => {
  const env = labStackForSuite();

  async function measure(
    s: Scenario,
    extra: Record<string, unknown> = {},
  ): Promise<{ id: string; t: TraceView }> {
    const res = await fetch(`${env.url}/api/v1/measurements`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ target: s.target, from: [s.from], count: 10, interval: 0.2, ...extra }),
    });
    const accepted = (await res.json()) as MeasurementAccepted;
    expect(res.status, JSON.stringify(accepted)).toBe(202);
    const m: MeasurementView = await waitForMeasurementDone(env.url, accepted.id, 120_000);
    const t = m.traces[0] as TraceView;
    expect(t.status).toBe("done");
    return { id: accepted.id, t };
  }

  const finding = (t: TraceView, code: string): Finding | undefined =>
    t.diagnosis?.findings.find((f) => f.code === code);
  const probesOf = (t: TraceView) => t.hops.reduce((n, h) => n + h.sent, 0);

  it("an ICMP measurement of tfilt naming port 8080 reads destination-filters-icmp with the TCP proof, listed on the page", async () => {
    const s = env.lab.scenarios.filtered;
    const { id, t } = await measure(s, { servicePort: s.tcpPort });
    expect(t.stoppedBy).toBe("max-unknown");
    expect(t.followUps.map((f) => [f.kind, f.target, f.port, f.ttl, f.answered, f.sent, f.recv])).toEqual([
      ["tcp-syn", s.target, s.tcpPort, 64, true, 3, 3],
      ["udp", s.target, 33434, 64, true, 3, 3],
    ]);
    const f = finding(t, "destination-filters-icmp");
    expect(f?.hops).toEqual([s.expectedHops.length]);
    expect(f?.evidence).toMatch(
      new RegExp(
        `Proof that it is there: TCP SYN to ${s.tcpPort} answered in [\\d.]+ ms; UDP to 33434 answered in [\\d.]+ ms; ICMP echo: no answer\\.`,
      ),
    );
    expect(finding(t, "node-interruption")).toBeUndefined();
    expect(t.hops.every((h) => Array.isArray(h.lossCi))).toBe(true);
    console.log(`tfilt follow-ups: ${JSON.stringify(t.followUps.map((x) => x.result))}`);

    const page = await (await fetch(`${env.url}/m/${id}`)).text();
    expect(page).toContain("Follow-up probes from fra (2)");
    expect(page).toContain(`${s.target}:${s.tcpPort}`);
    expect(page).toContain("Proof that it is there");
  }, 180_000);

  it("without a service port, tfilt's RST on 443 and 80 is the proof", async () => {
    const s = env.lab.scenarios.filtered;
    const { t } = await measure(s);
    expect(t.followUps.map((f) => [f.port, f.answered])).toEqual([
      [443, true],
      [80, true],
      [33434, true],
    ]);
    expect(finding(t, "destination-filters-icmp")?.evidence).toMatch(
      /Proof that it is there: TCP SYN to 443 answered/,
    );
  }, 180_000);

  it("the black-holed tbh stays node-interruption, listing the probes tried", async () => {
    const s = env.lab.scenarios.blackhole;
    const { t } = await measure(s);
    expect(t.followUps.map((f) => [f.kind, f.port, f.answered, f.sent, f.recv])).toEqual([
      ["tcp-syn", 443, false, 3, 0],
      ["tcp-syn", 80, false, 3, 0],
      ["udp", 33434, false, 3, 0],
    ]);
    const after = s.blackholeAfterTtl as number;
    const f = finding(t, "node-interruption");
    expect(f?.hops).toEqual([after, after + 1]);
    expect(f?.evidence).toContain(
      "Follow-up probes to the destination: TCP SYN to 443: no answer; TCP SYN to 80: no answer; UDP to 33434: no answer.",
    );
    expect(finding(t, "destination-filters-icmp")).toBeUndefined();
  }, 180_000);

  it("lossy at count 10 with --until-sure reads real loss from its hop, decided, and says what it spent", async () => {
    const s = env.lab.scenarios.loss;
    // One after the other: lossy's drop counters count every packet towards tloss, so two traces at
    // once would share them and each would see an uneven share of the loss.
    const plain = await measure(s);
    const sure = await measure(s, { adaptive: true });
    for (const { t } of [plain, sure]) {
      expect(finding(t, "real-loss")?.hops[0]).toBe(s.lossFromTtl);
      expect(t.diagnosis?.findings.some((f) => f.status === "inconclusive")).toBe(false);
    }
    expect(plain.t.adaptive).toBeUndefined();
    expect(sure.t.adaptive).toMatchObject({ decided: true, maxExtraCycles: 30 });
    expect(probesOf(sure.t)).toBe(probesOf(plain.t) + (sure.t.adaptive?.extraProbes ?? 0));
    console.log(
      `lossy count 10: ${probesOf(plain.t)} probes without --until-sure; with it ${probesOf(sure.t)} ` +
        `(${JSON.stringify(sure.t.adaptive)})`,
    );
  }, 180_000);

  it("lg trace in fra runs the same follow-ups and prints them, and the loss interval, under its report", async () => {
    const s = env.lab.scenarios.filtered;
    const r = await env.lab.exec(
      s.from,
      [LG, "trace", "-n", "-r", "-c", "5", "-i", "0.2", "--service-port", String(s.tcpPort), s.target],
      { timeoutMs: 120_000, env: { LG_FROM_SOURCE: "1" } },
    );
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[1]).toMatch(/StDev {5}Loss%CI$/);
    expect(r.stdout).toContain(
      `Follow-up probes: the ICMP trace ends in silence after hop ${s.expectedHops.length - 1}`,
    );
    expect(r.stdout).toMatch(
      new RegExp(
        `TCP SYN +${s.target.replaceAll(".", "\\.")}:${s.tcpPort} +${s.target.replaceAll(".", "\\.")} answered 3 of 3 \\(SYN-ACK or RST\\)`,
      ),
    );

    const loss = env.lab.scenarios.loss;
    const sure = await env.lab.exec(
      loss.from,
      [LG, "trace", "-n", "-r", "-c", "10", "-i", "0.2", "--until-sure", loss.target],
      { timeoutMs: 120_000, env: { LG_FROM_SOURCE: "1" } },
    );
    expect(sure.code, sure.stderr).toBe(0);
    expect(sure.stdout).toMatch(/^Until sure: decided/m);
    console.log(`lg trace --until-sure on lossy:\n${sure.stdout}`);
  }, 240_000);
});
