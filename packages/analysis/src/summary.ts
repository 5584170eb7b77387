import type {
  ComparisonSegment,
  Diagnosis,
  Finding,
  LossReading,
  LossStretch,
  PathRouter,
} from "@lg/protocol";
import { asLabel, type HopView, hopLabel, ms, pct } from "./hop-view";
import type { Identity } from "./identity";
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

/** Names of the two ends of a path test (agent ids), for sentences: A is the forward trace's source. */
export interface Labels {
  a: string;
  b: string;
}

const arrow = (direction: Direction, labels: Labels) =>
  direction === "forward" ? `${labels.a} → ${labels.b}` : `${labels.b} → ${labels.a}`;

/** "198.18.1.2", with its other address when the two directions see it under two. */
function routerWords(router: PathRouter): string {
  const name = router.name ? ` ${router.name}` : "";
  return router.addresses.length > 1
    ? `${router.addresses[0]}${name} (also ${router.addresses.slice(1).join(", ")})`
    : `${router.addresses[0] ?? router.id}${name}`;
}

/**
 * Where the two directions run together and apart, naming only routers the evidence identified:
 * the ones both cross, and between them the ones each crosses alone (or not identified either way).
 */
export function shapeSentence(segments: ComparisonSegment[], identity: Identity, labels: Labels): string {
  const byId = new Map(identity.routers.map((r) => [r.id, r]));
  const shared = identity.routers.filter((r) => r.identity === "shared");
  const diverged = segments.filter((s) => s.kind === "diverged");
  const sharedWords = shared.map(
    (r) => `${routerWords(r)} (forward hop ${r.forwardTtl}, reverse hop ${r.reverseTtl})`,
  );
  if (diverged.length === 0) {
    if (identity.routers.length === 0)
      return "The two ends are neighbours: there is no router between them to compare.";
    return `Both directions cross the same routers: ${sharedWords.join(", ")}.`;
  }
  const sideWords = (side: ComparisonSegment["forward"], direction: Direction) => {
    const routers = side.routerIds.map((id) => byId.get(id)).filter((r): r is PathRouter => !!r);
    const who = arrow(direction, labels);
    if (routers.length === 0) {
      const silent = side.hops.filter((h) => h.address === null).length;
      return silent > 0 ? `${who} shows only silent hops there` : `${who} crosses no router of its own there`;
    }
    const own = routers.filter((r) => r.identity === "own");
    const unknown = routers.filter((r) => r.identity === "unknown");
    const ttls = side.ttls
      ? side.ttls.from === side.ttls.to
        ? `hop ${side.ttls.from}`
        : `hops ${Math.min(side.ttls.from, side.ttls.to)}–${Math.max(side.ttls.from, side.ttls.to)}`
      : "";
    const parts: string[] = [];
    if (own.length > 0) parts.push(`${own.map(routerWords).join(", ")}, not on the other path`);
    if (unknown.length > 0)
      parts.push(
        `${unknown.map(routerWords).join(", ")}, not identified on the other path (it may cross ${unknown.length === 1 ? "it" : "them"} under other addresses)`,
      );
    return `${who} crosses ${ttls}: ${parts.join("; and ")}`;
  };
  const parts = diverged.map((segment) => {
    const index = segments.indexOf(segment);
    const before = segments
      .slice(0, index)
      .reverse()
      .find((s) => s.kind === "shared");
    const after = segments.slice(index + 1).find((s) => s.kind === "shared");
    const lastOf = (s: ComparisonSegment | undefined) => byId.get(s?.forward.routerIds.at(-1) ?? "");
    const firstOf = (s: ComparisonSegment | undefined) => byId.get(s?.forward.routerIds[0] ?? "");
    const from = lastOf(before)
      ? `after ${routerWords(lastOf(before) as PathRouter)}`
      : `from ${labels.a}'s end`;
    const to = firstOf(after) ? `until ${routerWords(firstOf(after) as PathRouter)}` : `to ${labels.b}'s end`;
    return `${from} ${to}, ${sideWords(segment.forward, "forward")}; ${sideWords(segment.reverse, "reverse")}`;
  });
  const both =
    shared.length > 0
      ? ` Both cross ${sharedWords.join(" and ")}.`
      : " No router is identified in both directions.";
  return `The directions take different paths.${both} ${capitalize(parts.join(". "))}.`;
}

export interface DirectionContext {
  diagnosis: Diagnosis;
  view: TraceView;
}

/** "between hop 2 (198.18.106.1) and hop 3 (198.18.100.2)". */
function stretchWords(s: LossStretch, labels: Labels): string {
  const from =
    s.fromTtl === null
      ? `${s.direction === "forward" ? labels.a : labels.b}`
      : `hop ${s.fromTtl} (${s.fromAddress ?? "no reply"})`;
  return `between ${from} and hop ${s.toTtl} (${s.toAddress ?? "no reply"})`;
}

/**
 * The reading of each direction, with each trace's loss put on the direction that really loses it:
 * "fra → sin is clean: its loss from hop 4 is its replies' way back; sin → fra loses 25% between …".
 */
export function directionSentences(ctx: {
  forward: DirectionContext;
  reverse: DirectionContext;
  loss: LossReading | null;
  identity: Identity;
  segments: ComparisonSegment[];
  labels: Labels;
}): string {
  const sentences: string[] = [];
  const lossOf = (d: Direction) => ctx.loss?.stretches.find((s) => s.direction === d);
  for (const direction of ["forward", "reverse"] as const) {
    const { diagnosis, view } = ctx[direction];
    const other: Direction = direction === "forward" ? "reverse" : "forward";
    const name = arrow(direction, ctx.labels);
    if (diagnosis.verdict === "inconclusive" && !lossOf(direction)) {
      sentences.push(
        `${name} is inconclusive${diagnosis.reason ? ` (${diagnosis.reason.replace(/\.$/, "")})` : ""}`,
      );
      continue;
    }
    const ownLoss = diagnosis.findings.find((x) => x.code === "real-loss");
    const problems = diagnosis.findings
      .filter((x) => x.severity === "problem" && x.code !== "real-loss")
      .slice(0, 2);
    const clauses: string[] = [];
    const stretch = lossOf(direction);
    if (stretch) {
      // The loss happens where packets leave the stretch's first router: its carrier is the one to call.
      const at = view.hops.find((h) => h.ttl === stretch.toTtl);
      const leaving = stretch.fromTtl !== null ? view.hops.find((h) => h.ttl === stretch.fromTtl) : at;
      const where = at ? divergedNote(direction, at.ttl, ctx.segments) : "";
      clauses.push(
        `loses ${pct(stretch.lossPct)} ${stretchWords(stretch, ctx.labels)}${where}${leaving ? `; ${contactFor(leaving)}` : ""}`,
      );
    }
    for (const p of problems) clauses.push(headline(p, view));
    if (ownLoss && !stretch && ctx.loss) {
      const first = view.hops.find((h) => h.ttl === ownLoss.hops[0]);
      const label = first ? hopLabel(first) : `hop ${ownLoss.hops[0]}`;
      if (ctx.loss.reading === "undetermined") {
        clauses.push(
          `shows loss from ${label} on that may be its own or its replies' way back over ${arrow(other, ctx.labels)}: ${ctx.loss.evidence}`,
        );
      } else {
        const lossy = lossOf(other);
        clauses.push(
          `its loss from ${label} on is its replies' way back over ${arrow(other, ctx.labels)}${lossy ? `, which loses ${pct(lossy.lossPct)} ${stretchWords(lossy, ctx.labels)}` : ""}`,
        );
      }
    }
    if (clauses.length === 0) {
      sentences.push(`${name} is clean`);
      continue;
    }
    const undecided = ctx.loss?.reading === "undetermined";
    if (!stretch && problems.length === 0 && !undecided)
      sentences.push(`${name} is clean; ${clauses.join(", and ")}`);
    else sentences.push(`${name} ${clauses.join(", and ")}`);
  }
  const text = `${sentences.map(capitalize).join(". ")}.`;
  const why =
    ctx.loss && ctx.loss.reading !== "undetermined" ? ` How the loss was placed: ${ctx.loss.evidence}.` : "";
  return `${text}${why}`;
}

/** Notes when the problem starts on a stretch only this direction crosses. */
function divergedNote(direction: Direction, ttl: number, segments: ComparisonSegment[]): string {
  const other: Direction = direction === "forward" ? "reverse" : "forward";
  const segment = segments.find((s) => s[direction].hops.some((h) => h.ttl === ttl));
  if (segment?.kind !== "diverged") return "";
  return ` (on a stretch the ${other} path does not cross)`;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
