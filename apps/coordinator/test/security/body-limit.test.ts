import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../harness";

const MiB = 1024 * 1024;
const ATTACK_BYTES = 100 * MiB;
/**
 * A server that waits for the whole body answers only after all 100 MiB. One that answers at once
 * still lets the client write on while the answer travels: Node discards the rest of a refused body
 * as it arrives, and loopback buffers hold a few MiB, so the client's count when the answer lands
 * depends on scheduling (19 MiB on a loaded 2-core machine, under 5 MiB when it is quiet).
 */
const SENT_BEFORE_ANSWER_MAX = ATTACK_BYTES / 2;
/** The old code held the whole body (100 MiB and more); a refused body must not be held at all. */
const HELD_MAX = 16 * MiB;

interface Sent {
  status: number;
  body: string;
  /** Bytes the client had written when the answer's headers came. */
  sentBeforeAnswer: number;
  ms: number;
}

/**
 * POSTs `total` bytes (a JSON object with one long string) over real HTTP, with a Content-Length
 * or chunked, writing as fast as the socket takes it and stopping when the answer arrives.
 */
function postHuge(
  url: string,
  path: string,
  total: number,
  how: "length" | "chunked",
  type: string,
): Promise<Sent> {
  const head = Buffer.from('{"target":"127.0.0.1","pad":"');
  const tail = Buffer.from('"}');
  const filler = Buffer.alloc(256 * 1024, 0x61);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request(new URL(path, url), {
      method: "POST",
      headers: { "content-type": type, ...(how === "length" ? { "content-length": String(total) } : {}) },
    });
    req.on("response", (res) => {
      answered = true;
      const sentBeforeAnswer = sent;
      const ms = Math.round(performance.now() - started);
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => {
        body += d;
      });
      res.on("end", () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body, sentBeforeAnswer, ms });
      });
    });
    req.on("error", (err) => {
      if (!answered) reject(err);
    });
    const pump = () => {
      while (!answered && sent < total) {
        const left = total - sent;
        let chunk = filler;
        if (sent === 0) chunk = head;
        else if (left <= tail.length) chunk = tail.subarray(tail.length - left);
        else if (left - tail.length < filler.length) chunk = filler.subarray(0, left - tail.length);
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once("drain", pump);
          return;
        }
      }
      if (!answered && sent >= total) req.end();
    };
    pump();
  });
}

describe("a 100 MB request body (real HTTP through @hono/node-server)", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack("pglite");
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  const cases = [
    ["/api/v1/measurements", "length", "application/json"],
    ["/api/v1/measurements", "chunked", "application/json"],
    ["/", "length", "application/x-www-form-urlencoded"],
    ["/api/v1/reverse-sessions", "chunked", "application/json"],
  ] as const;

  it.each(cases)(
    "POST %s (%s) is 413 with the error body before the rest is sent, and the coordinator does not hold it",
    async (path, how, type) => {
      // The coordinator runs in this process, beside PGlite, whose freed pages it reuses, so its
      // RSS barely moves; what it allocates (JS heap and buffers) while the body arrives does.
      const allocated = () => {
        const m = process.memoryUsage();
        return m.heapUsed + m.external;
      };
      const before = allocated();
      let peak = before;
      const sampler = setInterval(() => {
        peak = Math.max(peak, allocated());
      }, 5);
      const res = await postHuge(stack.coordinator.url, path, ATTACK_BYTES, how, type);
      clearInterval(sampler);
      const held = Math.max(peak, allocated()) - before;
      expect(res.status).toBe(413);
      expect(JSON.parse(res.body)).toEqual({
        error: { code: "body_too_large", message: expect.stringContaining("65536 bytes") },
      });
      expect(res.sentBeforeAnswer).toBeLessThan(SENT_BEFORE_ANSWER_MAX);
      expect(held).toBeLessThan(HELD_MAX);
    },
    60_000,
  );

  it("a body within the limit still works after refused ones (the server is fine)", async () => {
    const res = await fetch(`${stack.coordinator.url}/api/v1/measurements`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ target: "127.0.0.1", pad: "a".repeat(60_000) }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unknown_field");
  });
});
