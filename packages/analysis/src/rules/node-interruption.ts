import type { Finding } from "@lg/protocol";
import { regionContact } from "../advice";
import { type HopView, hopLabel } from "../hop-view";
import { destinationProbes, followUpWords, type TraceView } from "../trace-view";

/**
 * node-interruption — seed: "Packets stop receiving responses after passing through a hop. The Loss%,
 * Last, Avg, and Best fields show no statistics. [...] This typically indicates the node is down. Run a
 * reverse path test to confirm, then contact the carrier responsible for that node."
 *
 * The trace did not reach its destination and is not looping: the finding names the last hop that
 * answered and the first silent one after it.
 */
export function nodeInterruption(view: TraceView): Finding[] {
  if (view.destinationIndex !== null || view.loop || view.lastAnswered < 0) return [];
  const last = view.hops[view.lastAnswered] as HopView;
  const silent = view.hops.slice(view.trailingSilentFrom);
  const firstSilent = silent[0];
  const evidence = firstSilent
    ? `${hopLabel(last)} is the last hop that answers; hops ${firstSilent.ttl}–${(silent[silent.length - 1] as HopView).ttl} answer none of their probes and the destination is never reached.`
    : `The trace ends at ${hopLabel(last)} without reaching the destination; nothing answers after it.`;
  const probes = destinationProbes(view.options);
  const tried = probes.length > 0 ? ` Follow-up probes to the destination: ${followUpWords(probes)}.` : "";
  return [
    {
      code: "node-interruption",
      severity: "problem",
      hops: firstSilent ? [last.ttl, firstSilent.ttl] : [last.ttl],
      region: last.region,
      evidence: `${evidence}${tried}`,
      advice:
        `The node after ${hopLabel(last)} is likely down${probes.length > 0 ? "" : " (or the destination filters ICMP: a TCP trace to its service port tells them apart)"}. ` +
        `Run a reverse path test to confirm, then ${regionContact(last, "contact")}.`,
    },
  ];
}
