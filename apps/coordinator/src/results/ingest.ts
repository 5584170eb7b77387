import type { Repository } from "@lg/db";
import {
  type Diagnosis,
  type FinalResultMessage,
  FinalResultMessage as FinalResultSchema,
  type Hop,
  RESULTS_CONSUMER,
  RESULTS_STREAM,
  subjects,
} from "@lg/protocol";
import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  type JsMsg,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { type NatsConnection, nanos } from "@nats-io/transport-node";
import { publishTraceChange } from "../live/publish";
import type { Logger } from "../logger";

/** Diagnoses a finished trace; the coordinator passes @lg/analysis's rules. */
export type Diagnose = (result: FinalResultMessage) => Diagnosis | null;

export interface ResultIngestDeps {
  nc: NatsConnection;
  repo: Repository;
  logger: Logger;
  diagnose?: Diagnose | undefined;
  /** Fills each hop's origin AS and owner before the result is diagnosed and stored. */
  enrich?: ((hops: Hop[]) => Promise<Hop[]>) | undefined;
  /** Places each hop and checks the place against the measuring PoP's round-trip times (`geo`). */
  place?: ((hops: Hop[], agentId: string) => Promise<Hop[]>) | undefined;
  /** Copies of the results stream on a NATS cluster (`LG_RESULTS_REPLICAS`). */
  replicas?: number | undefined;
}

/** How long JetStream remembers a message id: an agent retrying a publish within it is stored once. */
const DUPLICATE_WINDOW_MS = 10 * 60_000;
/** Results stay in the stream this long after they are stored (for replays and investigations). */
const STREAM_MAX_AGE_MS = 7 * 24 * 3_600_000;

/** Creates the results stream and the shared durable consumer when they do not exist yet. */
export async function ensureResultsStream(nc: NatsConnection, replicas = 1): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const config = {
    num_replicas: replicas,
    name: RESULTS_STREAM,
    subjects: [subjects.finalAll],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    max_age: nanos(STREAM_MAX_AGE_MS),
  };
  const existing = await jsm.streams.info(RESULTS_STREAM).catch(() => null);
  if (!existing) {
    try {
      await jsm.streams.add(config);
    } catch (err) {
      // Another replica created it in the meantime.
      await jsm.streams.info(RESULTS_STREAM).catch(() => {
        throw err;
      });
    }
  } else if (existing.config.num_replicas < replicas) {
    // A stream made before the cluster grew keeps one copy until raised; raising works in place.
    await jsm.streams.update(RESULTS_STREAM, { ...existing.config, num_replicas: replicas });
  }
  await jsm.consumers.add(RESULTS_STREAM, {
    durable_name: RESULTS_CONSUMER,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: subjects.finalAll,
    ack_wait: nanos(30_000),
    max_ack_pending: 1_000,
  });
}

/**
 * Consumes final results with the durable pull consumer every replica shares (each result goes
 * to one replica), stores each one idempotently and acknowledges only after the write, so a
 * crash before the ack means a redelivery, and a redelivery writes nothing twice.
 */
export async function startResultIngest(deps: ResultIngestDeps): Promise<{ stop(): Promise<void> }> {
  const log = deps.logger.child({ module: "ingest" });
  await ensureResultsStream(deps.nc, deps.replicas);
  const js = jetstream(deps.nc);
  const consumer = await js.consumers.get(RESULTS_STREAM, RESULTS_CONSUMER);
  // Short pulls (heartbeat every 2.5 s): when a NATS node dies and the consumer moves, a stalled
  // pull is noticed and renewed in seconds rather than after the default 30 s expiry.
  const messages: ConsumerMessages = await consumer.consume({ max_messages: 100, expires: 5_000 });

  async function handle(m: JsMsg): Promise<void> {
    let parsed: ReturnType<typeof FinalResultSchema.safeParse>;
    try {
      parsed = FinalResultSchema.safeParse(m.json());
    } catch {
      log.warn({ subject: m.subject }, "dropping a final result that is not JSON");
      m.term();
      return;
    }
    if (!parsed.success) {
      log.warn(
        { subject: m.subject, issue: parsed.error.issues[0] },
        "dropping a final result that does not parse",
      );
      m.term();
      return;
    }
    let result = parsed.data;
    // The subject carries the publisher's agent id, which NATS permissions guarantee.
    if (m.subject !== subjects.final(result.agentId, result.traceId)) {
      log.warn(
        { subject: m.subject, agentId: result.agentId },
        "dropping a final result published under another agent's subject",
      );
      m.term();
      return;
    }
    if (deps.enrich) {
      try {
        result = { ...result, hops: await deps.enrich(result.hops) };
      } catch (err) {
        log.warn(
          { err, traceId: result.traceId },
          "could not look up origin ASes; storing the trace without",
        );
      }
    }
    if (deps.place) {
      try {
        result = { ...result, hops: await deps.place(result.hops, result.agentId) };
      } catch (err) {
        log.warn({ err, traceId: result.traceId }, "could not place the hops; storing the trace without");
      }
    }
    let diagnosis: Diagnosis | null = null;
    if (result.status === "done" && deps.diagnose) {
      try {
        diagnosis = deps.diagnose(result);
      } catch (err) {
        log.error({ err, traceId: result.traceId }, "diagnosis failed; storing the trace without one");
      }
    }
    try {
      const row = await deps.repo.storeFinalResult(result, diagnosis);
      m.ack();
      if (row) publishTraceChange(deps.nc, row);
      else log.debug({ traceId: result.traceId }, "final result already stored or unknown trace");
    } catch (err) {
      log.error({ err, traceId: result.traceId }, "could not store a final result; it will be redelivered");
      m.nak(2_000);
    }
  }

  const loop = (async () => {
    for await (const m of messages) await handle(m);
  })().catch((err) => log.error({ err }, "result consumer stopped"));

  return {
    async stop() {
      await messages.close().catch(() => {});
      await loop;
    },
  };
}
