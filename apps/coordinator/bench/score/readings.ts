/**
 * What the scoreboard calls right, undecided or wrong — pure functions over the API's views and
 * netlab's ground truth, so they are tested on fixtures (readings.test.ts) and the lab run only
 * feeds them. Nothing here belongs in `@lg/analysis`: it grades the analysis, it is not part of it.
 */
import type { PairScenario, Scenario, ScenarioName } from "@lg/netlab";
import type { Finding, FindingCode, FollowUp, MeasurementRequestInput, TraceView } from "@lg/protocol";
import type { PairGrade } from "./grade";

/** How one reading compares with the lab: right, undecided (said so: `inconclusive`), or wrong. */
export type Outcome = "right" | "inconclusive" | "wrong";

/** What a single-trace scenario must read. */
export interface TraceExpectation {
  verdict: "clean" | "problem";
  /** The finding that names the lab's fault: its code and hops (`first`: only the hop where it
   * starts must match; `exact`: every hop it lists). Absent: the path has no fault. */
  finding?: { code: FindingCode; hops: number[]; match: "first" | "exact" };
  /** filtered: a TCP SYN follow-up to this port, answered by the destination, must be in the reading. */
  tcpProofPort?: number;
}

/** The single-trace scenarios the scoreboard runs, in table order. */
export const TRACE_SCENARIOS = [
  "clean",
  "clean6",
  "throttle",
  "loss",
  "filtered",
  "loop",
  "blackhole",
  "delay",
  "ecmp",
  "asym",
  "randloss",
] as const satisfies readonly ScenarioName[];
export type TraceScenarioName = (typeof TRACE_SCENARIOS)[number];

const need = (name: string, field: string, v: number | undefined): number => {
  if (v === undefined) throw new Error(`netlab scenario ${name} has no ${field}`);
  return v;
};

/**
 * The lab's ground truth for a single-trace scenario as the reading that is right: clean paths
 * (clean, clean6, ecmp, asym) read `clean`; throttling is an `icmp-throttling` note at its hop on a
 * clean verdict; every other fault is its code at its hop (packages/netlab README, "Scenarios").
 *
 * @example
 * traceExpectation("loss", lab.scenarios.loss); // { verdict: "problem", finding: { code: "real-loss", hops: [3], match: "first" } }
 */
export function traceExpectation(name: TraceScenarioName, s: Scenario): TraceExpectation {
  switch (name) {
    case "clean":
    case "clean6":
    case "ecmp":
    case "asym":
      return { verdict: "clean" };
    case "throttle":
      return {
        verdict: "clean",
        finding: {
          code: "icmp-throttling",
          hops: [need(name, "throttleTtl", s.throttleTtl)],
          match: "exact",
        },
      };
    case "loss":
    case "randloss":
      return {
        verdict: "problem",
        finding: { code: "real-loss", hops: [need(name, "lossFromTtl", s.lossFromTtl)], match: "first" },
      };
    case "filtered":
      return {
        verdict: "problem",
        // The destination is the last modelled hop; it is the one that stays silent.
        finding: { code: "destination-filters-icmp", hops: [s.expectedHops.length], match: "exact" },
        tcpProofPort: need(name, "tcpPort", s.tcpPort),
      };
    case "loop": {
      if (!s.loopTtls) throw new Error("netlab scenario loop has no loopTtls");
      return { verdict: "problem", finding: { code: "routing-loop", hops: [...s.loopTtls], match: "exact" } };
    }
    case "blackhole": {
      const after = need(name, "blackholeAfterTtl", s.blackholeAfterTtl);
      return {
        verdict: "problem",
        finding: { code: "node-interruption", hops: [after, after + 1], match: "exact" },
      };
    }
    case "delay":
      return {
        verdict: "problem",
        finding: { code: "latency-step", hops: [need(name, "delayFromTtl", s.delayFromTtl)], match: "first" },
      };
  }
}

/**
 * The measurement that reads a scenario: from its PoP, to its target, in its family; the loop with
 * the scenario's max TTL (it never ends otherwise), ECMP over UDP (varying ports spread the probes
 * over both branches, the case to read right), the filtered destination with its service port (the
 * port its TCP follow-up proof is sent to).
 */
export function traceRequest(
  name: TraceScenarioName,
  s: Scenario,
  probes: { count: number; interval: number; adaptive: boolean },
): MeasurementRequestInput {
  return {
    target: s.target,
    from: [s.from],
    count: probes.count,
    interval: probes.interval,
    ...(s.family === 6 ? { ipVersion: 6 as const } : {}),
    ...(name === "loop" && s.maxTtl !== undefined ? { maxTtl: s.maxTtl } : {}),
    ...(name === "ecmp" ? { protocol: "udp" as const } : {}),
    ...(name === "filtered" && s.tcpPort !== undefined ? { servicePort: s.tcpPort } : {}),
    ...(probes.adaptive ? { adaptive: true } : {}),
  };
}

/** A finished trace as the grader reads it. */
export type TraceReading = Pick<TraceView, "status" | "failure" | "hops" | "diagnosis" | "followUps">;

export interface TraceGrade {
  outcome: Outcome;
  /** The reading in a few words: verdict, then each finding as code@hops (and its status). */
  read: string;
  /** Why it is not right (empty when it is). */
  why: string;
  /** Probes the trace sent: every hop's, and its follow-ups'. */
  probes: number;
}

const hopsText = (hops: number[]) =>
  hops.length > 1 && hops.every((h, i) => i === 0 || h === (hops[i - 1] as number) + 1)
    ? `${hops[0]}-${hops.at(-1)}`
    : hops.join(",");

const findingText = (f: Finding) =>
  `${f.code}@${hopsText(f.hops)}${f.status === "inconclusive" ? ` (inconclusive${f.probesNeeded ? `, +${f.probesNeeded} probes` : ""})` : ""}`;

/** Probes a follow-up sent: an alias trace's on every TTL up to its target, a single probe's once. */
export function followUpProbes(followUps: FollowUp[]): number {
  return followUps.reduce(
    (n, f) => n + (f.sent ?? 0) * (f.kind === "alias-trace" ? (f.ttl ?? f.path?.length ?? 1) : 1),
    0,
  );
}

/**
 * Grades one single-trace reading against its scenario. Right: the verdict and the expected finding
 * at its hop, decided, with no other decided problem (info notes beside it are allowed), and for the
 * filtered destination the TCP proof. Wrong: a decided problem the lab does not have, or a decided
 * reading that misses the lab's (a failed trace too). Otherwise, when the reading says it cannot
 * decide (verdict or a finding `inconclusive`), undecided — not wrong.
 */
export function gradeTrace(t: TraceReading, e: TraceExpectation): TraceGrade {
  const probes = t.hops.reduce((n, h) => n + h.sent, 0) + followUpProbes(t.followUps);
  const d = t.diagnosis;
  if (t.status !== "done" || !d) {
    const why = t.failure ? `trace ${t.status}: ${t.failure.message}` : `trace ${t.status}, no diagnosis`;
    return { outcome: "wrong", read: t.status, why, probes };
  }
  const read = [d.verdict, ...d.findings.map(findingText)].join(" ");
  const want = e.finding;
  const isExpected = (f: Finding) =>
    !!want &&
    f.code === want.code &&
    (want.match === "exact" ? hopsText(f.hops) === hopsText(want.hops) : f.hops[0] === want.hops[0]);
  const undecided = d.verdict === "inconclusive" || d.findings.some((f) => f.status === "inconclusive");
  const stray = d.findings.filter(
    (f) => f.severity === "problem" && f.status !== "inconclusive" && !isExpected(f),
  );
  const expected = d.findings.find(isExpected);
  const proof =
    e.tcpProofPort === undefined ||
    t.followUps.some((f) => f.kind === "tcp-syn" && f.port === e.tcpProofPort && f.answered);

  if (!undecided && stray.length === 0 && d.verdict === e.verdict && (!want || expected) && proof) {
    return { outcome: "right", read, why: "", probes };
  }
  const wanted = `${e.verdict}${want ? ` with ${want.code}@${hopsText(want.hops)}` : ""}`;
  if (stray.length > 0) {
    return {
      outcome: "wrong",
      read,
      why: `called ${stray.map(findingText).join(", ")}; wanted ${wanted}`,
      probes,
    };
  }
  if (undecided) {
    return { outcome: "inconclusive", read, why: d.reason ?? "a finding is inconclusive", probes };
  }
  if (expected && !proof) {
    return { outcome: "wrong", read, why: `no answered TCP SYN follow-up to port ${e.tcpProofPort}`, probes };
  }
  return { outcome: "wrong", read, why: `wanted ${wanted}`, probes };
}

/**
 * One pair run as right, undecided or wrong. Wrong: a decided call the lab contradicts — two
 * different routers paired, a router put on the wrong side or left out without a word, a fault
 * direction (or stretch) other than the lab's. Undecided: nothing decided is wrong, but a router is
 * `unknown` or the direction `undetermined`. Only the checks the scenario grades count
 * (`conventions`: routers only).
 */
export function pairOutcome(g: PairGrade, s: PairScenario): { outcome: Outcome; why: string } {
  const r = g.read;
  if (r.faultDirection === "no comparison") return { outcome: "wrong", why: "no comparison" };
  const gradeRouters = s.checks.includes("routers");
  const gradeFault = s.checks.includes("faultDirection");
  const seen = new Set([...r.shared, ...r.forwardOwn, ...r.reverseOwn, ...r.unknown]);
  const routerErrors = [
    ...r.shared.filter((n) => !s.shared.includes(n)).map((n) => `${n} read as shared`),
    ...r.forwardOwn.filter((n) => !s.forwardOnly.includes(n)).map((n) => `${n} read as a -> b's own`),
    ...r.reverseOwn.filter((n) => !s.reverseOnly.includes(n)).map((n) => `${n} read as b -> a's own`),
    ...r.mispaired.map((p) => `${p} paired`),
    ...[...s.shared, ...s.forwardOnly, ...s.reverseOnly]
      .filter((n) => !seen.has(n))
      .map((n) => `${n} not read`),
  ];
  const wrong = [
    ...(gradeRouters ? routerErrors : []),
    ...(gradeFault && !g.faultRight && r.faultDirection !== "undetermined"
      ? [`fault ${r.faultDirection} [${r.stretches.join("; ")}], lab ${s.faultDirection}`]
      : []),
  ];
  if (wrong.length > 0) return { outcome: "wrong", why: wrong.join("; ") };
  const open = [
    ...(gradeRouters && !g.routersRight ? [`unidentified: ${r.unknown.join(", ")}`] : []),
    ...(gradeFault && !g.faultRight ? ["fault direction undetermined"] : []),
  ];
  return open.length === 0
    ? { outcome: "right", why: "" }
    : { outcome: "inconclusive", why: open.join("; ") };
}
