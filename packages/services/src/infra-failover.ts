/**
 * One failover trial on the local core cluster: an agent publishes final results into a
 * replicated LG_RESULTS stream (with message ids, retrying until acknowledged) while a
 * coordinator drains the shared durable consumer; after `killAfter` results one node — the
 * stream's leader or a follower, and the one holding the agent's connection — is killed
 * with SIGKILL.
 */
import { AckPolicy, jetstream, jetstreamManager, type StreamInfo } from "@nats-io/jetstream";
import type { LocalDeployment } from "./infra-cluster";
import { waitFor } from "./infra-cluster";
import { sleep } from "./ports";

// The names the coordinator and agents use (@lg/protocol `subjects`, RESULTS_STREAM, RESULTS_CONSUMER).
export const RESULTS_STREAM = "LG_RESULTS";
export const RESULTS_CONSUMER = "lg-coordinator";
export const RESULTS_SUBJECTS = "lg.result.*.final.*";
const finalSubject = (agentId: string, traceId: string) => `lg.result.${agentId}.final.${traceId}`;
const nanos = (ms: number) => ms * 1_000_000;

export interface FailoverResult {
  killedNode: string;
  killedRole: "stream-leader" | "follower";
  signal: "SIGKILL" | "SIGTERM";
  streamLeaderBefore: string;
  streamLeaderAfter: string;
  /** Results published (each acknowledged once, possibly after retries). */
  published: number;
  /** Publish attempts that failed (timeout, no responders) and were retried with the same id. */
  failedAttempts: number;
  /** Retries the stream recognised as already stored (acknowledged as duplicate, not stored again). */
  duplicateAcks: number;
  /** From the kill to the first acknowledged publish after it. */
  publishResumeMs: number;
  /** Longest time between two consecutive acknowledgements (the failover gap). */
  longestAckGapMs: number;
  /** Messages in the stream at the end. */
  stored: number;
  /** Distinct results the coordinator consumed. */
  consumed: number;
  /** Deliveries of a result already consumed, all flagged as redeliveries by the server. */
  redeliveries: number;
  /**
   * Repeated deliveries NOT flagged as redeliveries. Not zero in every run: an ack that died with the
   * killed leader comes back from the new one, which flags it only when the consumer's delivered
   * state had reached it. The coordinator's ingest never reads the flag (storing is idempotent per
   * trace), so a repeat costs one ignored store, flagged or not.
   */
  unflaggedRepeats: number;
  /** Results published but never consumed (must be empty). */
  missing: string[];
  /** Afterwards the stream lists the killed node as a replica that is not current. */
  killedNodeBehind: boolean;
}

export async function ensureResultsStream(deployment: LocalDeployment, servers: string[]): Promise<void> {
  const nc = await deployment.connectAs("coordinator", servers);
  try {
    const jsm = await jetstreamManager(nc);
    // Right after the meta leader is elected the peers may not yet take assignments: retry briefly.
    await waitFor("the R3 results stream to be created", async () => {
      try {
        await jsm.streams.add({
          name: RESULTS_STREAM,
          subjects: [RESULTS_SUBJECTS],
          num_replicas: 3,
          duplicate_window: nanos(120_000),
        });
        return true;
      } catch {
        return undefined;
      }
    });
    await jsm.consumers.add(RESULTS_STREAM, {
      durable_name: RESULTS_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(2_000),
    });
  } finally {
    await nc.close();
  }
}

export async function runFailoverTrial(
  deployment: LocalDeployment,
  opts: {
    total: number;
    killAfter: number;
    /** Which node dies: the one leading the stream (forces a leader election) or a follower. */
    kill: "stream-leader" | "follower";
    /** SIGKILL is a crash; SIGTERM is a planned stop (the server hands its leaderships over first). */
    signal?: "SIGKILL" | "SIGTERM";
    agentId?: string;
  },
): Promise<FailoverResult> {
  const agentId = opts.agentId ?? "fra-1";
  const all = deployment.nodes.map((n) => n.clientUrl);
  await ensureResultsStream(deployment, all);

  const coordinator = await deployment.connectAs("coordinator", all);
  const jsm = await jetstreamManager(coordinator);
  const before = await jsm.streams.info(RESULTS_STREAM);
  const leader = before.cluster?.leader;
  const victim = deployment.nodes.find((n) =>
    opts.kill === "stream-leader" ? n.name === leader : n.name !== leader,
  );
  if (!victim) throw new Error(`no ${opts.kill} among the nodes (stream leader ${leader})`);

  // The agent dials the victim first, so the kill also takes the agent's connection.
  const agent = await deployment.connectAs(
    "agent",
    [victim.clientUrl, ...deployment.nodes.filter((n) => n !== victim).map((n) => n.clientUrl)],
    agentId,
  );
  if (agent.info?.server_name !== victim.name)
    throw new Error(`agent connected to ${agent.info?.server_name}`);

  const deliveries = new Map<string, number>();
  let redeliveries = 0;
  let unflaggedRepeats = 0;
  let consuming = true;
  const consumer = await jetstream(coordinator).consumers.get(RESULTS_STREAM, RESULTS_CONSUMER);
  const consumeLoop = (async () => {
    while (consuming) {
      try {
        const batch = await consumer.fetch({ max_messages: 200, expires: 1_000 });
        for await (const m of batch) {
          const traceId = m.subject.split(".").pop() as string;
          const count = (deliveries.get(traceId) ?? 0) + 1;
          deliveries.set(traceId, count);
          if (count > 1) {
            if (m.info.redelivered) redeliveries++;
            else unflaggedRepeats++;
          }
          m.ack();
        }
      } catch {
        await sleep(20);
      }
    }
  })();

  const js = jetstream(agent);
  const payload = new TextEncoder().encode(JSON.stringify({ v: 1, hops: new Array(20).fill({ ttl: 1 }) }));
  let killedAt = 0;
  let publishResumeMs = Number.NaN;
  let failedAttempts = 0;
  let duplicateAcks = 0;
  let lastAck = performance.now();
  let longestAckGapMs = 0;
  for (let i = 1; i <= opts.total; i++) {
    if (i === opts.killAfter + 1) {
      victim.process.child.kill(opts.signal ?? "SIGKILL");
      killedAt = performance.now();
    }
    for (;;) {
      try {
        const ack = await js.publish(finalSubject(agentId, `t${i}`), payload, {
          msgID: `t${i}`,
          timeout: 1_000,
        });
        const now = performance.now();
        if (ack.duplicate) duplicateAcks++;
        if (killedAt > 0 && Number.isNaN(publishResumeMs)) publishResumeMs = now - killedAt;
        longestAckGapMs = Math.max(longestAckGapMs, now - lastAck);
        lastAck = now;
        break;
      } catch {
        failedAttempts++;
        await sleep(10);
      }
    }
  }

  const expected = Array.from({ length: opts.total }, (_, i) => `t${i + 1}`);
  await waitFor(
    "every result to be consumed",
    async () => (expected.every((id) => deliveries.has(id)) ? true : undefined),
    30_000,
  ).catch(() => undefined);
  consuming = false;
  await consumeLoop;

  const after: StreamInfo = await jsm.streams.info(RESULTS_STREAM);
  const result: FailoverResult = {
    killedNode: victim.name,
    killedRole: opts.kill,
    signal: opts.signal ?? "SIGKILL",
    streamLeaderBefore: leader ?? "",
    streamLeaderAfter: after.cluster?.leader ?? "",
    published: opts.total,
    failedAttempts,
    duplicateAcks,
    publishResumeMs,
    longestAckGapMs,
    stored: after.state.messages,
    consumed: expected.filter((id) => deliveries.has(id)).length,
    redeliveries,
    unflaggedRepeats,
    missing: expected.filter((id) => !deliveries.has(id)),
    killedNodeBehind: after.cluster?.replicas?.some((r) => r.name === victim.name && !r.current) ?? false,
  };
  await agent.close();
  await coordinator.close();
  return result;
}
