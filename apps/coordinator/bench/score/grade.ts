import type { PairScenario } from "@lg/netlab";
import type { PathTestView } from "@lg/protocol";

/** How a path test's reading compares with the lab's ground truth for one pair. */
export interface PairGrade {
  /** Routers both directions cross are shared (and paired with themselves); every other router is
   * its direction's own — none unidentified, none paired with another. */
  routersRight: boolean;
  /** The comparison's faultDirection is the lab's, and each lossy stretch it names is the lab's. */
  faultRight: boolean;
  /** What was read, in lab node names, for a table or a failure message. */
  read: {
    shared: string[];
    forwardOwn: string[];
    reverseOwn: string[];
    unknown: string[];
    mispaired: string[];
    faultDirection: string;
    stretches: string[];
  };
  /** Probes sent by both traces and by the follow-ups (an alias trace's probes counted on every hop up to its target). */
  probes: number;
}

const sorted = (xs: string[]) => [...xs].sort();
const same = (a: string[], b: string[]) => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));

/**
 * Grades a finished path test against a netlab pair scenario: lab nodes are read off each router's
 * TTL in each direction (the scenario's modelled nodes per TTL), so the grade does not depend on
 * which address a router answered from.
 */
export function gradePathTest(v: PathTestView, s: PairScenario): PairGrade {
  const c = v.comparison;
  const fNode = (ttl: number | null) => (ttl === null ? null : (s.forward.expectedNodes[ttl - 1] ?? null));
  const rNode = (ttl: number | null) => (ttl === null ? null : (s.reverse.expectedNodes[ttl - 1] ?? null));
  const shared: string[] = [];
  const mispaired: string[] = [];
  const forwardOwn: string[] = [];
  const reverseOwn: string[] = [];
  const unknown: string[] = [];
  for (const r of c?.routers ?? []) {
    const f = fNode(r.forwardTtl);
    const b = rNode(r.reverseTtl);
    if (r.identity === "shared") {
      if (f && f === b) shared.push(f);
      else mispaired.push(`${f}=${b}`);
    } else if (r.identity === "own") {
      if (f) forwardOwn.push(f);
      if (b) reverseOwn.push(b);
    } else unknown.push(f ?? b ?? r.id);
  }
  const routersRight =
    !!c &&
    mispaired.length === 0 &&
    unknown.length === 0 &&
    same(shared, s.shared) &&
    same(forwardOwn, s.forwardOnly) &&
    same(reverseOwn, s.reverseOnly);

  const stretches = (c?.loss?.stretches ?? []).map((x) => {
    const node = x.direction === "forward" ? fNode : rNode;
    const from = x.fromTtl === null ? (x.direction === "forward" ? s.a : s.b) : node(x.fromTtl);
    return `${x.direction} ${from}->${node(x.toTtl)}`;
  });
  const expectedStretches = s.losses.map((l) => {
    const direction = s.forward.lossOnPath.some((x) => x.from === l.from && x.to === l.to)
      ? "forward"
      : "reverse";
    return `${direction} ${l.from}->${l.to}`;
  });
  const faultRight = !!c && c.faultDirection === s.faultDirection && same(stretches, expectedStretches);

  const followUpProbes = [...v.forward.followUps, ...(v.reverse?.followUps ?? [])].reduce(
    // An alias trace probes every hop up to its target; a TCP, UDP or echo follow-up probes its target only.
    (n, f) => n + (f.sent ?? 0) * (f.kind === "alias-trace" ? (f.ttl ?? f.path?.length ?? 1) : 1),
    0,
  );
  const traceProbes = [...v.forward.hops, ...(v.reverse?.hops ?? [])].reduce((n, h) => n + h.sent, 0);
  return {
    routersRight,
    faultRight,
    read: {
      shared,
      forwardOwn,
      reverseOwn,
      unknown,
      mispaired,
      faultDirection: c?.faultDirection ?? "no comparison",
      stretches,
    },
    probes: traceProbes + followUpProbes,
  };
}
