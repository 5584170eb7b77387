import { spawn } from "node:child_process";
import path from "node:path";
import { FinalResultMessage, PROTOCOL_VERSION, PresenceMessage, subjects } from "@lg/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { job, sendJob, startTestNats, type TestNats, uniqueId, until, waitForFinal } from "./test-support";

const lg = path.resolve(import.meta.dirname, "../../../bin/lg");

describe("lg agent as a process (bin/lg agent, real nats-server)", () => {
  let nats: TestNats;
  beforeAll(async () => {
    nats = await startTestNats();
  });
  afterAll(async () => {
    await nats.close();
  });

  it("on SIGTERM announces leaving, refuses new jobs as draining, finishes the running trace, then exits 0", async () => {
    const id = uniqueId("proc");
    const presence: PresenceMessage[] = [];
    nats.nc.subscribe(subjects.presence(id), {
      callback: (_err, msg) => {
        presence.push(PresenceMessage.parse(msg.json()));
      },
    });
    await nats.nc.flush();

    const child = spawn(
      lg,
      ["agent", "--id", id, "--region", "proc-test", "--allow-targets", "127.0.0.0/8"],
      {
        env: { ...process.env, NATS_URL: nats.server.url, LOG_LEVEL: "info" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      output += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await until(() => presence.some((p) => p.kind === "announce"), 30_000, `announce (output: ${output})`);

      const traceId = uniqueId("drain");
      const accepted = await sendJob(nats.nc, id, job(traceId, "127.0.0.1", { count: 6, interval: 0.5 }));
      expect(accepted).toEqual({ v: PROTOCOL_VERSION, traceId, accepted: true });
      child.kill("SIGTERM");
      await until(() => presence.some((p) => p.kind === "leaving"), 5_000, "leaving");
      expect(presence.find((p) => p.kind === "leaving")?.running).toBe(1);

      const refused = await sendJob(nats.nc, id, job(uniqueId("late"), "127.0.0.1", { count: 1 }));
      expect(refused).toMatchObject({ accepted: false, reason: "draining" });

      expect(await exited).toBe(0);
      // The trace ran to its end (not cancelled) and its result was stored before the process exited.
      const final = FinalResultMessage.parse((await waitForFinal(nats.jsm, id, traceId, 1_000)).json());
      expect(final).toMatchObject({ status: "done", stoppedBy: "destination", agentId: id });
      expect(final.hops[0]).toMatchObject({ sent: 6, recv: 6 });
      expect(presence.at(-1)).toMatchObject({ kind: "leaving", running: 0 });
      // Logs are JSON lines from pino, one module per line.
      const lines = output
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { module?: string; msg: string });
      expect(lines.some((l) => l.module === "jobs" && l.msg === "job accepted")).toBe(true);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 60_000);
});
