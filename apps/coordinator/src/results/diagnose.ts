import { diagnose } from "@lg/analysis";
import type { Diagnosis, FinalResultMessage } from "@lg/protocol";

/** The analysis guide's diagnosis of a finished trace, stored with it. */
export function diagnoseFinal(result: FinalResultMessage): Diagnosis {
  return diagnose(result.hops, {
    destination: result.address ?? result.target,
    ...(result.stoppedBy === "destination" ? { reachedDestination: true } : {}),
  });
}
