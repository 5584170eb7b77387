import type { ComparisonSegment, Diagnosis, Finding } from "@lg/protocol";
import { asLabel, type HopView, hopLabel, ms, pct } from "./hop-view";
import type { TraceView } from "./trace-view";

export type Direction = "forward" | "reverse";

/** A short clause for a problem finding: "loses 30% from hop 4 (198.18.4.1) on". */
export function headline(finding: Finding, view: TraceView): string {
  const at = (ttl: number | undefined) => view.hops.find((h) => h.ttl === ttl);
  const first = at(finding.hops[0]);
  const label = first ? hopLabel(first) : `hop ${finding.hops[0]}`;
  switch (finding.code) {
    case "real-loss": {
      const reference = at(finding.hops[finding.hops.length - 1]);
      return `loses ${pct(reference?.hop.lossPct ?? 0)} from ${label} on`;
    }
    case "latency-step": {
      const index = first ? view.hops.indexOf(first) : -1;
      const before = view.hops
        .slice(0, Math.max(index, 0))
        .reverse()
        .find((h) => h.answered);
      const rise = first && before ? first.hop.avg - before.hop.avg : 0;
      return `gains ${ms(rise)} of latency from ${label} on`;
    }
    case "unstable-latency":
      return `has unstable latency from ${label} to the end`;
    case "destination-filters-icmp":
      return `reaches the destination (hop ${finding.hops[0]}), which answers no probe: it likely filters ICMP`;
    case "routing-loop":
      return `loops from ${label} on and never reaches the destination`;
    case "node-interruption":
      return `gets no answer after ${label}`;
    default:
      return `shows ${finding.code} at ${label}`;
  }
}

/** "contact AS64501 (Beta Transit)", by the region of the hop where the problem starts. */
export function contactFor(hop: HopView): string {
  const as = asLabel(hop);
  switch (hop.region) {
    case "A":
      return `contact the source's network administrator or access carrier${as ? ` (${as})` : ""}`;
    case "B":
      return as
        ? `contact ${as}, the carrier of ${hop.address ?? `hop ${hop.ttl}`}`
        : `contact the carrier that operates ${hop.address ?? `hop ${hop.ttl}`}`;
    case "C":
      return `contact the destination's network${as ? ` (${as})` : ""}`;
  }
}

/** One direction's reading: "the reverse path loses 30% from hop 4 (198.18.4.1) on; contact …". */
export function directionSentence(
  direction: Direction,
  diagnosis: Diagnosis,
  view: TraceView,
  segments: ComparisonSegment[],
): string {
  const name = `the ${direction} path`;
  if (diagnosis.verdict === "clean") return `${name} is clean`;
  if (diagnosis.verdict === "inconclusive") {
    return `${name} is inconclusive${diagnosis.reason ? ` (${diagnosis.reason.replace(/\.$/, "")})` : ""}`;
  }
  const problems = diagnosis.findings.filter((f) => f.severity === "problem").slice(0, 2);
  const main = problems[0];
  if (!main) return `${name} has a problem`;
  const start = view.hops.find((h) => h.ttl === main.hops[0]);
  const where = start ? divergedNote(direction, start.ttl, segments) : "";
  const contact = start ? `; ${contactFor(start)}` : "";
  return `${name} ${problems.map((f) => headline(f, view)).join(", and ")}${where}${contact}`;
}

/** Notes when the problem starts on a stretch only this direction crosses. */
function divergedNote(direction: Direction, ttl: number, segments: ComparisonSegment[]): string {
  const other: Direction = direction === "forward" ? "reverse" : "forward";
  const segment = segments.find((s) => s[direction].hops.some((h) => h.ttl === ttl));
  if (segment?.kind !== "diverged") return "";
  return ` (on a stretch the ${other} path does not cross)`;
}

/** Describes where the two directions part and meet again. */
export function shapeSentence(segments: ComparisonSegment[], sharedCount: number): string {
  const diverged = segments.filter((s) => s.kind === "diverged");
  if (diverged.length === 0) {
    return sharedCount > 0
      ? `Both directions cross the same routers (${sharedCount} aligned).`
      : "The two ends are neighbours: there is no router between them to compare.";
  }
  const parts = diverged.map((segment) => {
    const index = segments.indexOf(segment);
    const before = segments
      .slice(0, index)
      .reverse()
      .find((s) => s.kind === "shared");
    const after = segments.slice(index + 1).find((s) => s.kind === "shared");
    const from = before ? `after forward hop ${lastTtl(before)}` : "from the source";
    const to = after
      ? `re-converge at forward hop ${firstTtl(after)}`
      : "do not re-converge before the destination";
    return `they diverge ${from} and ${to} (forward: ${sideWords(segment.forward)}; reverse: ${sideWords(segment.reverse)})`;
  });
  return `The directions take different paths: ${parts.join("; ")}.`;
}

function lastTtl(segment: ComparisonSegment): number | undefined {
  return segment.forward.hops[segment.forward.hops.length - 1]?.ttl;
}
function firstTtl(segment: ComparisonSegment): number | undefined {
  return segment.forward.hops[0]?.ttl;
}

function sideWords(side: ComparisonSegment["forward"]): string {
  if (!side.ttls) return "no router of its own";
  const addresses = [...side.hops].sort((a, b) => a.ttl - b.ttl).map((h) => h.address ?? "no reply");
  const shown = addresses.length > 3 ? [...addresses.slice(0, 3), "…"] : addresses;
  const range =
    side.ttls.from === side.ttls.to ? `hop ${side.ttls.from}` : `hops ${side.ttls.from}–${side.ttls.to}`;
  return `${range}, ${shown.join(", ")}`;
}
