import { diagnose } from "@lg/analysis";
import type { Diagnosis, FinalResultMessage } from "@lg/protocol";

/**
 * The analysis guide's diagnosis of a finished trace, stored with it. The agent's follow-up probes
 * decide a silent end: an answer over TCP or UDP makes it `destination-filters-icmp` with the proof,
 * silence keeps `node-interruption` and says what was tried.
 */
export function diagnoseFinal(result: FinalResultMessage): Diagnosis {
  return diagnose(result.hops, {
    destination: result.address ?? result.target,
    ...(result.stoppedBy === "destination" ? { reachedDestination: true } : {}),
    ...(result.followUps?.length ? { followUps: result.followUps } : {}),
  });
}
