import type { Diagnosis, Finding, FindingCode } from "@lg/protocol";

/** A finding's headline in plain words; the evidence and advice come from the analysis itself. */
export const FINDING_TITLES: Record<FindingCode, string> = {
  "icmp-throttling": "This router rate-limits its own replies — the loss shown here is not real",
  "real-loss": "Real packet loss that carries on to the destination",
  "latency-step": "Latency rises here and stays higher on every later hop",
  "latency-spike-confined": "Slow replies from this router only — traffic through it is not delayed",
  "unstable-latency": "Unstable latency: round-trip times vary a lot",
  "destination-filters-icmp": "The destination does not answer these probes (filtered, not lost)",
  "routing-loop": "Routing loop: packets go back and forth between the same routers",
  "node-interruption": "The path stops answering from here on",
};

/** Where the fault sits, as the analysis guide names the three regions. */
export const REGION_WORDS: Record<Finding["region"], string> = {
  A: "near the source (its own network or first carrier)",
  B: "in a carrier backbone along the way",
  C: "in the destination's network",
};

export const VERDICT_WORDS: Record<Diagnosis["verdict"], string> = {
  clean: "No real problem on this path",
  problem: "A real problem on this path",
  inconclusive: "Not enough answers to judge this path",
};

/** Findings grouped by the hop they start at, so a table can print each one beside its hop. */
export function findingsByFirstHop(diagnosis: Diagnosis | null | undefined): Map<number, Finding[]> {
  const byHop = new Map<number, Finding[]>();
  for (const f of diagnosis?.findings ?? []) {
    const first = f.hops[0] ?? 0;
    byHop.set(first, [...(byHop.get(first) ?? []), f]);
  }
  return byHop;
}

/** The worst severity among the findings that mention a hop: "problem", "info" or undefined. */
export function hopSeverity(
  diagnosis: Diagnosis | null | undefined,
  ttl: number,
): Finding["severity"] | undefined {
  let worst: Finding["severity"] | undefined;
  for (const f of diagnosis?.findings ?? []) {
    if (!f.hops.includes(ttl)) continue;
    if (f.severity === "problem") return "problem";
    worst = "info";
  }
  return worst;
}
