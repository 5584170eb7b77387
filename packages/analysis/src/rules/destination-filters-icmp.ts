import type { Finding } from "@lg/protocol";
import { type HopView, hopLabel } from "../hop-view";
import { destinationProbes, followUpWords, type TraceView } from "../trace-view";

/**
 * destination-filters-icmp — seed: "Misconfigured destination host — All packets are lost at the final
 * hop. ICMP is likely blocked by the destination server's security policies (firewall rules or
 * iptables). Check the security policies on the destination server."
 *
 * The probes reached the destination (see `reachedDestination`), it answered none of them, and the
 * routers before it did answer. A TCP trace to the service port tells a filter from an outage.
 */
export function destinationFiltersIcmp(view: TraceView): Finding[] {
  const index = view.destinationIndex;
  if (index === null || view.lastAnswered < 0) return [];
  const destination = view.hops[index] as HopView;
  if (destination.answered) return [];
  const before = view.hops[view.lastAnswered] as HopView;
  const port = view.options.servicePort;
  const silentAfter = view.hops.length - 1 - index;
  const probes = destinationProbes(view.options);
  const proof = probes.some((f) => f.answered)
    ? ` Proof that it is there: ${followUpWords(probes)}; ICMP echo: no answer.`
    : "";
  return [
    {
      code: "destination-filters-icmp",
      severity: "problem",
      hops: [destination.ttl],
      region: "C",
      evidence:
        `The destination (hop ${destination.ttl}) answers none of its ${destination.hop.sent} probes` +
        `${silentAfter > 0 ? ` (nor do the ${silentAfter} hops after it)` : ""}, while ${hopLabel(before)} just before it answers ` +
        `${before.hop.recv} of ${before.hop.sent}: only the destination loses everything.${proof}`,
      advice:
        "The destination's firewall or iptables rules likely block ICMP: check its security policies. " +
        `To measure the path anyway, trace with TCP to the service port (lg trace --tcp --port ${port ?? probes.find((f) => f.answered && f.port)?.port ?? "<service port>"}).`,
    },
  ];
}
