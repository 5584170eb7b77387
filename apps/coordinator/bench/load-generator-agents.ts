/**
 * LOAD GENERATOR FOR THE CONTROL-PLANE BENCHMARK ONLY. It is not an agent: it sends no probes.
 * It plays N agents over NATS with the real protocol (presence, job accept, progress, final
 * result through JetStream with a message id) and answers every job with a synthetic trace, so
 * the benchmark measures the coordinator, NATS and PostgreSQL and nothing else.
 *
 * Env: NATS_URL, BENCH_AGENTS (100), BENCH_TRACE_MS (1000: accept -> final), BENCH_HOPS (8),
 * BENCH_CREDS_DIR (operator-mode NATS: `<agent id>.creds` per agent). With several servers in
 * NATS_URL, agent i dials server i mod n first, so the agents spread over a cluster's nodes.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type FinalResultMessage,
  HEARTBEAT_INTERVAL_MS,
  type Hop,
  JobRequest,
  type PresenceMessage,
  type ProgressMessage,
  subjects,
  zeroAgentCounters,
} from "@lg/protocol";
import { jetstream } from "@nats-io/jetstream";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";

const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const agentCount = Number(process.env.BENCH_AGENTS ?? 100);
const traceMs = Number(process.env.BENCH_TRACE_MS ?? 1_000);
const hopCount = Number(process.env.BENCH_HOPS ?? 8);
const credsDir = process.env.BENCH_CREDS_DIR;
const servers = natsUrl.split(",").map((s) => s.trim());

function syntheticHops(sent: number): Hop[] {
  return Array.from({ length: hopCount }, (_, i) => {
    const rtt = 1 + i * 2.5;
    return {
      ttl: i + 1,
      host: `198.18.${100 + i}.1`,
      lossPct: 0,
      sent,
      recv: sent,
      drop: 0,
      last: rtt,
      avg: rtt,
      best: rtt,
      worst: rtt,
      stdev: 0,
      jitter: 0,
      jitterAvg: 0,
      jitterMax: 0,
      responders: [{ address: `198.18.${100 + i}.1`, count: sent }],
    };
  });
}

async function playAgent(index: number): Promise<NatsConnection> {
  const id = `bench${String(index).padStart(3, "0")}`;
  const first = index % servers.length;
  const nc = await connect({
    servers: [...servers.slice(first), ...servers.slice(0, first)],
    noRandomize: true,
    name: id,
    inboxPrefix: `_INBOX_${id}`,
    ...(credsDir ? { authenticator: credsAuthenticator(readFileSync(join(credsDir, `${id}.creds`))) } : {}),
  });
  const js = jetstream(nc);
  const counters = zeroAgentCounters();
  let running = 0;
  const presence = (kind: PresenceMessage["kind"]): PresenceMessage => ({
    v: 1,
    kind,
    agent: {
      id,
      region: `r${index % 10}`,
      role: "pop",
      version: "load-generator",
      addresses: [`198.18.200.${index % 250}`],
      capabilities: {
        protocols: ["icmp", "udp", "tcp"],
        ipv4: true,
        ipv6: true,
        pinFlow: true,
        mda: false,
        flowControl: "udp4",
        maxTraces: 200,
      },
    },
    running,
    counters,
    sentAt: new Date().toISOString(),
  });
  nc.publish(subjects.presence(id), JSON.stringify(presence("announce")));
  const beat = setInterval(() => {
    // At shutdown a beat may fall while the connection drains: nothing to send then.
    if (!nc.isDraining() && !nc.isClosed())
      nc.publish(subjects.presence(id), JSON.stringify(presence("heartbeat")));
  }, HEARTBEAT_INTERVAL_MS);
  nc.closed().then(() => clearInterval(beat));

  nc.subscribe(subjects.job(id), {
    callback: (err, msg) => {
      if (err) return;
      const job = JobRequest.safeParse(msg.json());
      if (!job.success) return;
      const { traceId, measurementId, target } = job.data;
      msg.respond(JSON.stringify({ v: 1, traceId, accepted: true }));
      counters.jobsAccepted++;
      running++;
      const startedAt = new Date().toISOString();
      // Two progress snapshots while "tracing", then the final result.
      for (const [seq, at] of [0.3, 0.7].entries()) {
        setTimeout(() => {
          const progress: ProgressMessage = {
            v: 1,
            traceId,
            agentId: id,
            seq,
            cycle: seq + 1,
            address: target,
            hops: syntheticHops(seq + 1),
            sentAt: new Date().toISOString(),
          };
          nc.publish(subjects.progress(id, traceId), JSON.stringify(progress));
        }, traceMs * at);
      }
      setTimeout(async () => {
        const final: FinalResultMessage = {
          v: 1,
          traceId,
          measurementId,
          agentId: id,
          status: "done",
          target,
          address: target,
          hops: syntheticHops(3),
          stoppedBy: "destination",
          startedAt,
          finishedAt: new Date().toISOString(),
        };
        for (let attempt = 0; attempt < 5; attempt++) {
          try {
            await js.publish(subjects.final(id, traceId), JSON.stringify(final), { msgID: traceId });
            break;
          } catch {
            await new Promise((r) => setTimeout(r, 200));
          }
        }
        running--;
        counters.tracesDone++;
      }, traceMs);
    },
  });
  return nc;
}

const connections: NatsConnection[] = [];
for (let i = 0; i < agentCount; i++) connections.push(await playAgent(i));
process.stdout.write(`ready ${agentCount}\n`);
const stop = async () => {
  await Promise.all(connections.map((nc) => nc.drain().catch(() => {})));
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
