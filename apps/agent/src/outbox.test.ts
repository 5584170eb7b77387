import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { FinalResultMessage } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { Outbox } from "./outbox";

const result = (traceId: string): FinalResultMessage => ({
  v: 1,
  traceId,
  measurementId: "m1",
  agentId: "a1",
  status: "done",
  target: "198.18.0.1",
  hops: [],
  stoppedBy: "destination",
  startedAt: "2026-01-01T00:00:00.000Z",
  finishedAt: "2026-01-01T00:00:10.000Z",
});

describe("Outbox", () => {
  it("retries a result until the publish succeeds, then forgets it", async () => {
    let calls = 0;
    const retries: number[] = [];
    const outbox = new Outbox(
      async () => {
        calls++;
        if (calls < 3) throw new Error("no responders");
        return { duplicate: false };
      },
      { baseDelayMs: 5, onRetry: (_id, _err, delay) => retries.push(delay) },
    );
    outbox.add(result("t1"));
    expect(await outbox.whenEmpty(2_000)).toBe(true);
    expect(calls).toBe(3);
    expect(retries).toEqual([5, 10]);
    outbox.stop();
  });

  it("keeps unsent results in its file and publishes them after a restart", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "lg-outbox-")), "unsent.json");
    const failing = new Outbox(
      async () => {
        throw new Error("connection lost");
      },
      { file, baseDelayMs: 1_000 },
    );
    failing.add(result("t1"));
    failing.add(result("t2"));
    failing.stop();
    expect(JSON.parse(fs.readFileSync(file, "utf8"))).toHaveLength(2);

    const published: string[] = [];
    const next = new Outbox(
      async (r) => {
        published.push(r.traceId);
        return { duplicate: false };
      },
      { file },
    );
    expect(next.load()).toBe(2);
    expect(await next.whenEmpty(2_000)).toBe(true);
    expect(published.sort()).toEqual(["t1", "t2"]);
    expect(JSON.parse(fs.readFileSync(file, "utf8"))).toEqual([]);
    next.stop();
    fs.rmSync(path.dirname(file), { recursive: true });
  });

  it("drops entries of the file that are not final results", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "lg-outbox-")), "unsent.json");
    fs.writeFileSync(file, JSON.stringify([{ traceId: "x" }, result("good")]));
    const outbox = new Outbox(async () => ({ duplicate: false }), { file });
    expect(outbox.load()).toBe(1);
    outbox.stop();
    fs.rmSync(path.dirname(file), { recursive: true });
  });

  it("reports that it is not empty when the time runs out", async () => {
    const outbox = new Outbox(
      async () => {
        throw new Error("down");
      },
      { baseDelayMs: 1_000 },
    );
    outbox.add(result("t1"));
    expect(await outbox.whenEmpty(50)).toBe(false);
    expect(outbox.size).toBe(1);
    outbox.stop();
  });
});
