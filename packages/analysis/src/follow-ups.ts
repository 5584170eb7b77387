import type { FollowUp, Hop } from "@lg/protocol";
import type { AliasObservation, End } from "./identity";
import { isRouterHop } from "./identity";
import { sameAddress } from "./links";
import { ALIAS_TRACES_PER_END } from "./thresholds";
import { buildTraceView } from "./trace-view";

/** One alias trace a path test should run: `from` traces to `target`, an address only the other end saw. */
export interface AliasTarget {
  from: End;
  target: string;
  /** The TTL at which the other end's trace saw it. */
  seenAt: number;
  purpose: string;
}

/**
 * The alias traces that let the two ends of a path test tell their routers apart: each end traces to
 * the router addresses only the other end's trace shows (neither endpoint, nor an address both show),
 * nearest to its own end first, at most {@link ALIAS_TRACES_PER_END} per end. Their answers say
 * whether that router is on this end's path (reached where one of its own hops is) and, because the
 * replies come back over the other direction only, which direction a loss belongs to.
 *
 * @example
 * aliasTargets(forward.hops, reverse.hops, { aAddress, bAddress, labels: { a: "fra", b: "sin" } });
 * // [{ from: "a", target: "198.18.5.2", seenAt: 2, purpose: "is sin → fra's hop 2 (198.18.5.2) on fra's path?…" }, …]
 */
export function aliasTargets(
  forward: Hop[],
  reverse: Hop[],
  opts: { aAddress?: string; bAddress?: string; labels?: { a: string; b: string } } = {},
): AliasTarget[] {
  const labels = opts.labels ?? { a: "A", b: "B" };
  const f = buildTraceView(forward, opts.bAddress ? { destination: opts.bAddress } : {});
  const r = buildTraceView(reverse, opts.aAddress ? { destination: opts.aAddress } : {});
  const addressesOf = (hops: Hop[]) => hops.flatMap((h) => [h.host, ...h.responders.map((x) => x.address)]);
  const endpoints = [opts.aAddress, opts.bAddress].filter((x): x is string => !!x);
  const pick = (from: End): AliasTarget[] => {
    const other = from === "a" ? r : f;
    const own = from === "a" ? forward : reverse;
    const ownAddresses = addressesOf(own).filter((x): x is string => !!x);
    const targets: AliasTarget[] = [];
    // Nearest to this end first: the other trace read from its far end (which is this end).
    const order = other.hops.map((_, i) => i).reverse();
    for (const i of order) {
      const h = other.hops[i];
      if (!h || !isRouterHop(other, i) || !h.address) continue;
      const address = h.address;
      if (ownAddresses.some((x) => sameAddress(x, address)) || endpoints.some((x) => sameAddress(x, address)))
        continue;
      if (targets.some((t) => sameAddress(t.target, address))) continue;
      const me = from === "a" ? labels.a : labels.b;
      const them = from === "a" ? `${labels.b} → ${labels.a}` : `${labels.a} → ${labels.b}`;
      targets.push({
        from,
        target: address,
        seenAt: h.ttl,
        purpose: `is ${them}'s hop ${h.ttl} (${address}) on ${me}'s path, and do its replies to ${me} get lost?`,
      });
    }
    return targets.slice(0, ALIAS_TRACES_PER_END);
  };
  return [...pick("a"), ...pick("b")];
}

/** What an alias trace's hops show, as the comparison reads it. */
export function aliasObservation(from: End, target: string, hops: Hop[]): AliasObservation {
  const sorted = [...hops].sort((x, y) => x.ttl - y.ttl);
  const at = sorted.find(
    (h) =>
      h.responders.some((x) => sameAddress(x.address, target)) ||
      (h.host !== null && sameAddress(h.host, target)),
  );
  const reachedAt = at?.ttl ?? null;
  const path: (string | null)[] = [];
  const last = reachedAt ?? sorted.at(-1)?.ttl ?? 0;
  for (let ttl = 1; ttl <= last; ttl++) path.push(sorted.find((h) => h.ttl === ttl)?.host ?? null);
  if (reachedAt !== null) path[reachedAt - 1] = target;
  const answeredByTarget = at
    ? (at.responders.find((x) => sameAddress(x.address, target))?.count ?? at.recv)
    : 0;
  return { from, target, path, reachedAt, sent: at?.sent ?? 0, recv: answeredByTarget };
}

/** The follow-up record of an alias trace, for the trace of the end that ran it. */
export function aliasFollowUp(
  t: AliasTarget,
  observation: AliasObservation | null,
  failure?: string,
): FollowUp {
  const reached = observation?.reachedAt ?? null;
  const hops = observation?.path ?? [];
  const before = reached !== null && reached > 1 ? hops[reached - 2] : null;
  const result = failure
    ? `not sent: ${failure}`
    : reached === null
      ? "the target did not answer"
      : `reached at hop ${reached}${reached > 1 ? ` after ${before ?? "a silent hop"}` : ""}; ${observation?.recv ?? 0} of ${observation?.sent ?? 0} answered`;
  return {
    kind: "alias-trace",
    target: t.target,
    ...(reached !== null ? { ttl: reached } : {}),
    answered: reached !== null,
    ...(observation ? { sent: observation.sent, recv: observation.recv, path: hops } : {}),
    purpose: t.purpose,
    result,
  };
}
