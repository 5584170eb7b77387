import type { FollowUp, Hop } from "@lg/protocol";
import { type AsnOf, type HopView, isPrivateAddress, lostProbes } from "./hop-view";
import { assignRegions } from "./regions";
import { findRoutingLoop, type RoutingLoop } from "./rules/routing-loop";

/** Options of {@link diagnose}. All are optional; each one sharpens a guess the diagnosis otherwise makes. */
export interface DiagnoseOptions {
  /**
   * The path reaches the destination: it answered these probes, or something else proved it is there
   * (a TCP trace or connect to its service port answered). When the trace ends in silent hops, the
   * first silent one is then the destination, which filters ICMP. Default: inferred — true when the
   * last hop answered (and is `destination`, when given) or when a silent last hop is named by the
   * reading (mtr reports may show the destination's address with 100% loss); false otherwise, since
   * a destination that drops ICMP and a dead node before it leave the same single silent hop.
   */
  reachedDestination?: boolean;
  /** The traced address; a last hop with another address did not reach it. */
  destination?: string;
  /** Origin AS lookup for hops that carry no `asn` yet (the coordinator's enrichment). */
  asnOf?: AsnOf;
  /** Origin AS of the source (region A), when the hops do not show it. */
  sourceAsn?: number;
  /** Origin AS of the destination (region C), when the hops do not show it. */
  destinationAsn?: number;
  /** Service port to suggest when the destination filters ICMP (e.g. 443). */
  servicePort?: number;
  /**
   * Probes the agent sent after the trace to decide what it left open (the trace's `followUps`): an
   * answer from the destination to a TCP SYN or UDP probe proves it is there (reachedDestination),
   * and their words become the finding's proof.
   */
  followUps?: FollowUp[];
}

/** Follow-up probes to the destination itself (TCP SYN, UDP, echo), answered or not. */
export function destinationProbes(options: DiagnoseOptions): FollowUp[] {
  const destination = options.destination;
  return (options.followUps ?? []).filter(
    (f) =>
      (f.kind === "tcp-syn" || f.kind === "udp" || f.kind === "echo") &&
      (destination === undefined || f.target === destination),
  );
}

/** "TCP SYN to 443 answered in 0.2 ms; UDP to 33434: no answer". */
export function followUpWords(probes: FollowUp[]): string {
  const kind = (f: FollowUp) =>
    f.kind === "tcp-syn" ? `TCP SYN to ${f.port}` : f.kind === "udp" ? `UDP to ${f.port}` : "ICMP echo";
  return probes
    .map((f) =>
      f.answered
        ? `${kind(f)} answered${f.rtt !== undefined ? ` in ${Number(f.rtt.toFixed(1))} ms` : ""}`
        : `${kind(f)}: no answer`,
    )
    .join("; ");
}

/** A trace prepared for the rules: hops sorted by TTL with regions, ends and scope decided once. */
export interface TraceView {
  hops: HopView[];
  /** Index of the last hop that answered, or -1 when nothing answered. */
  lastAnswered: number;
  /** Index where the trailing run of silent hops starts (`hops.length` when there is none). */
  trailingSilentFrom: number;
  /** Index of the destination hop when the probes reached it, else null. */
  destinationIndex: number | null;
  loop: RoutingLoop | null;
  /** Last index the loss and latency rules look at: the last answering hop, or the end of a loop's first cycle. */
  scopeEnd: number;
  /** Most probes sent to any hop. */
  maxSent: number;
  options: DiagnoseOptions;
}

export function buildTraceView(input: Hop[], options: DiagnoseOptions = {}): TraceView {
  const sorted = withoutEchoes([...input].sort((a, b) => a.ttl - b.ttl));
  const hops: HopView[] = sorted.map((hop) => {
    const answered = hop.recv > 0;
    const address = hop.host;
    const looked = hop.asn === undefined && address && options.asnOf ? options.asnOf(address) : undefined;
    const asn = hop.asn ?? looked?.asn;
    const owner = hop.owner ?? looked?.owner;
    return {
      hop,
      ttl: hop.ttl,
      address,
      answered,
      lost: lostProbes(hop),
      private: address !== null && isPrivateAddress(address),
      ...(asn !== undefined ? { asn } : {}),
      ...(owner !== undefined ? { owner } : {}),
      region: "B",
    };
  });

  let lastAnswered = -1;
  for (let i = hops.length - 1; i >= 0; i--) {
    if ((hops[i] as HopView).answered) {
      lastAnswered = i;
      break;
    }
  }
  const trailingSilentFrom = lastAnswered + 1;
  const loop = findRoutingLoop(hops);
  const destinationIndex = loop ? null : findDestination(hops, lastAnswered, trailingSilentFrom, options);

  const destinationAsn =
    options.destinationAsn ??
    (options.destination && options.asnOf ? options.asnOf(options.destination)?.asn : undefined);
  const regions = assignRegions(hops, {
    reachedDestination: destinationIndex !== null,
    ...(options.sourceAsn !== undefined ? { sourceAsn: options.sourceAsn } : {}),
    ...(destinationAsn !== undefined ? { destinationAsn } : {}),
  });
  hops.forEach((h, i) => {
    h.region = destinationIndex !== null && i >= destinationIndex ? "C" : (regions[i] ?? "B");
  });

  const scopeEnd = loop ? Math.min(lastAnswered, loop.start + loop.period - 1) : lastAnswered;
  const maxSent = hops.reduce((m, h) => Math.max(m, h.hop.sent), 0);
  return { hops, lastAnswered, trailingSilentFrom, destinationIndex, loop, scopeEnd, maxSent, options };
}

function findDestination(
  hops: HopView[],
  lastAnswered: number,
  trailingSilentFrom: number,
  options: DiagnoseOptions,
): number | null {
  if (hops.length === 0) return null;
  const trailingSilent = hops.length - trailingSilentFrom;
  const destinationAt = trailingSilent > 0 ? trailingSilentFrom : lastAnswered;
  if (options.reachedDestination !== undefined) return options.reachedDestination ? destinationAt : null;
  // A TCP or UDP follow-up the destination answered proves it is there, whatever ICMP showed.
  if (trailingSilent > 0 && destinationProbes(options).some((f) => f.answered && f.kind !== "echo")) {
    return destinationAt;
  }
  if (lastAnswered < 0) return null;
  if (trailingSilent === 0) {
    const last = hops[lastAnswered] as HopView;
    if (options.destination === undefined || last.address === options.destination) return lastAnswered;
    const answeredAsDestination = last.hop.responders.some((r) => r.address === options.destination);
    return answeredAsDestination ? lastAnswered : null;
  }
  // A reading may name the destination on a hop that never answered (mtr reports do); nothing else
  // tells a destination that drops ICMP from a dead node before it.
  const named = hops
    .slice(trailingSilentFrom)
    .findIndex(
      (h) => h.address !== null && (options.destination === undefined || h.address === options.destination),
    );
  return named >= 0 ? trailingSilentFrom + named : null;
}

/**
 * Drops the hops after the destination when it answered at several TTLs in a row (probes sent past
 * it reach it too): the first of them is the destination.
 */
function withoutEchoes(hops: Hop[]): Hop[] {
  let last = hops.length - 1;
  while (last >= 0 && (hops[last] as Hop).recv === 0) last--;
  if (last < 1) return hops;
  const address = (hops[last] as Hop).host;
  let first = last;
  while (
    first > 0 &&
    (hops[first - 1] as Hop).host === address &&
    (hops[first - 1] as Hop).ttl === (hops[first] as Hop).ttl - 1
  ) {
    first--;
  }
  return first === last ? hops : hops.slice(0, first + 1);
}
