import type { Hop } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { diagnose } from "./diagnose";
import { labHop } from "./fixtures/build";
import { lostOf, random } from "./fixtures/random";

/** A five-hop trace with the given per-hop loss probabilities, sampled with `sent` probes a hop. */
function sample(rand: () => number, rates: number[], sent: number): Hop[] {
  return rates.map((p, i) => labHop(i + 1, { sent, lost: lostOf(rand, sent, p), avg: i + 1 }));
}

/** How many of `runs` samplings read each way. */
function readings(rates: number[], sent: number, runs = 1_000, seed = 7) {
  const rand = random(seed);
  const count = { real: 0, inconclusive: 0, clean: 0 };
  for (let r = 0; r < runs; r++) {
    const d = diagnose(sample(rand, rates, sent));
    const loss = d.findings.find((f) => f.code === "real-loss");
    if (loss?.status === "inconclusive") count.inconclusive++;
    else if (loss) count.real++;
    else count.clean++;
  }
  return count;
}

describe("calibrated loss verdicts (1,000 seeded samplings each)", () => {
  it("a real 25% loss from hop 4, 20 probes a hop, is read as clean throttling at most 1% of the time", () => {
    const count = readings([0, 0, 0, 0.25, 0.25], 20);
    expect(count.clean).toBeLessThanOrEqual(10);
    expect(count.real).toBeGreaterThan(900);
  });

  it("a real 25% loss over the last three hops, 20 probes a hop, is read as clean at most 0.5% of the time", () => {
    // Wrong only when the destination happens to lose none of its 20 probes (0.75^20 = 0.3%).
    const count = readings([0, 0, 0.25, 0.25, 0.25], 20);
    expect(count.clean).toBeLessThanOrEqual(5);
  });

  it("a router throttling 25% at hop 4 with a clean path after it is read as real loss at most 1% of the time", () => {
    const count = readings([0, 0, 0, 0.25, 0], 20);
    expect(count.real).toBeLessThanOrEqual(10);
  });

  it("a clean path with 1% noise everywhere is read as real loss at most 1% of the time", () => {
    const count = readings([0.01, 0.01, 0.01, 0.01, 0.01], 20);
    expect(count.real).toBeLessThanOrEqual(10);
  });

  it("with 20 probes the issue's case — hop 4 and 5 lose, the destination only 1 — is real loss from hop 4", () => {
    const d = diagnose([
      labHop(1),
      labHop(2),
      labHop(3),
      labHop(4, { sent: 20, lost: 5 }),
      labHop(5, { sent: 20, lost: 5 }),
      labHop(6, { sent: 20, lost: 1 }),
    ]);
    const loss = d.findings.find((f) => f.code === "real-loss");
    expect(loss?.status).toBe("confirmed");
    expect(loss?.hops[0]).toBe(4);
    expect(d.verdict).toBe("problem");
  });

  it("when the probes cannot tell, the finding is inconclusive with the reason and how many more probes would decide", () => {
    const d = diagnose([
      labHop(1),
      labHop(2),
      labHop(3),
      labHop(4, { sent: 20, lost: 5 }),
      labHop(5, { sent: 20, lost: 1 }),
    ]);
    const loss = d.findings.find((f) => f.code === "real-loss");
    expect(loss?.status).toBe("inconclusive");
    expect(loss?.probesNeeded).toBeGreaterThan(0);
    expect(loss?.evidence).toContain(`about ${loss?.probesNeeded} more probes per hop would decide it`);
    expect(d.verdict).toBe("inconclusive");
    expect(d.reason).toContain("cannot tell whether the loss from hop 4 persists");
  });

  it("the same numbers with more probes decide: four times the probes at the same rates read as real loss", () => {
    const d = diagnose([
      labHop(1),
      labHop(2),
      labHop(3),
      labHop(4, { sent: 80, lost: 20 }),
      labHop(5, { sent: 80, lost: 4 }),
    ]);
    expect(d.findings.find((f) => f.code === "real-loss")?.status).toBe("confirmed");
  });
});
