/**
 * Failover benchmark for the checked-in core cluster (infra/nats/cluster): for each trial a
 * fresh 3-node cluster on local ports, an R3 LG_RESULTS stream, an agent publishing final
 * results with message ids and a coordinator draining the shared durable consumer; one node
 * is stopped mid-run: the stream's leader or a follower killed with SIGKILL (a crash), or the
 * leader stopped with SIGTERM (a planned restart). Prints one row per trial.
 *
 *   pnpm --filter @lg/services exec tsx src/infra-failover-bench.ts [trials per kind, default 3]
 */
import { startLocalDeployment } from "./infra-cluster";
import { type FailoverResult, runFailoverTrial } from "./infra-failover";

const trials = Number(process.argv[2] ?? 3);
if (!Number.isInteger(trials) || trials < 1) {
  console.error("usage: infra-failover-bench.ts [trials per kind, a positive integer]");
  process.exit(2);
}

const rows: Record<string, string | number>[] = [];
const kinds = [
  { kill: "stream-leader", signal: "SIGKILL" },
  { kill: "follower", signal: "SIGKILL" },
  { kill: "stream-leader", signal: "SIGTERM" },
] as const;
for (const { kill, signal } of kinds) {
  for (let t = 1; t <= trials; t++) {
    const deployment = await startLocalDeployment();
    let r: FailoverResult;
    try {
      r = await runFailoverTrial(deployment, { total: 1_000, killAfter: 300, kill, signal });
    } finally {
      await deployment.stop();
    }
    rows.push({
      stopped: `${kill} (${signal})`,
      trial: t,
      "publish resumes (ms)": Math.round(r.publishResumeMs),
      "longest ack gap (ms)": Math.round(r.longestAckGapMs),
      "failed attempts": r.failedAttempts,
      published: r.published,
      stored: r.stored,
      consumed: r.consumed,
      lost: r.missing.length,
      "stored twice": r.stored - r.published,
      "dup acks": r.duplicateAcks,
      redeliveries: r.redeliveries,
    });
  }
}
console.table(rows);
