// Helpers for the agent's integration tests: a real nats-server with the results stream, and jobs.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type JobReply, RESULTS_STREAM, subjects } from "@lg/protocol";
import { type NatsServer, startNatsServer } from "@lg/services";
import { type JetStreamManager, jetstreamManager, type StoredMsg } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";

export { job, uniqueId } from "./test-jobs";

export interface TestNats {
  server: NatsServer;
  dataDir: string;
  nc: NatsConnection;
  jsm: JetStreamManager;
  /** Stops the client and the server and removes the data folder. */
  close(): Promise<void>;
}

/** A nats-server on a free port with the results stream the coordinator would create. */
export async function startTestNats(): Promise<TestNats> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "lg-agent-nats-"));
  const server = await startNatsServer({ dataDir });
  const nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  const jsm = await jetstreamManager(nc);
  await createResultsStream(jsm);
  return {
    server,
    dataDir,
    nc,
    jsm,
    async close() {
      await nc.close().catch(() => {});
      await server.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function createResultsStream(jsm: JetStreamManager): Promise<void> {
  await jsm.streams.add({ name: RESULTS_STREAM, subjects: [subjects.finalAll] });
}

/** Sends a job (or any payload) to an agent and returns its answer. */
export async function sendJob(nc: NatsConnection, agentId: string, payload: unknown): Promise<JobReply> {
  const body = typeof payload === "string" ? payload : JSON.stringify(payload);
  const msg = await nc.request(subjects.job(agentId), body, { timeout: 5_000 });
  return msg.json<JobReply>();
}

/** Waits until JetStream holds the final result of a trace. */
export async function waitForFinal(
  jsm: JetStreamManager,
  agentId: string,
  traceId: string,
  timeoutMs = 30_000,
): Promise<StoredMsg> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stored = await jsm.streams
      .getMessage(RESULTS_STREAM, { last_by_subj: subjects.final(agentId, traceId) })
      .catch(() => null);
    if (stored) return stored;
    if (Date.now() > deadline) throw new Error(`no final result for ${traceId} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** How many messages the results stream holds for a subject. */
export async function countStored(jsm: JetStreamManager, subject: string): Promise<number> {
  const info = await jsm.streams.info(RESULTS_STREAM, { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
