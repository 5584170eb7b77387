import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { requestBodyLimit } from "./body-limit";

const KiB = 1024;
const CHUNK = 4 * KiB;

/** A body of `total` bytes that counts how much of it was pulled by the reader. */
function countedStream(total: number) {
  const seen = { pulled: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (seen.pulled >= total) return controller.close();
      const n = Math.min(CHUNK, total - seen.pulled);
      seen.pulled += n;
      controller.enqueue(new Uint8Array(n).fill(0x61));
    },
  });
  return { stream, seen };
}

/** A POST whose body is streamed (no Content-Length unless `headers` give one). */
const streamed = (body: ReadableStream<Uint8Array>, headers: Record<string, string> = {}): RequestInit =>
  ({ method: "POST", headers, body, duplex: "half" }) as RequestInit;

function appWith() {
  const app = new Hono();
  app.use(
    requestBodyLimit({
      maxBytes: 16 * KiB,
      routes: [{ method: "POST", path: /^\/upload$/, maxBytes: 256 * KiB }],
    }),
  );
  const echo = async (c: import("hono").Context) => c.json({ bytes: (await c.req.arrayBuffer()).byteLength });
  app.post("/api", echo);
  app.post("/upload", echo);
  return app;
}

describe("request body limit", () => {
  it("a Content-Length over the limit is 413 with the API's error body, without reading the body", async () => {
    const { stream, seen } = countedStream(1024 * KiB);
    const res = await appWith().request(
      "/api",
      streamed(stream, { "content-length": String(1024 * KiB), "content-type": "application/json" }),
    );
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      error: { code: "body_too_large", message: expect.stringContaining("16384 bytes") },
    });
    expect(seen.pulled).toBeLessThanOrEqual(CHUNK);
  });

  it("a body without Content-Length is refused at the first chunk past the limit, not read to its end", async () => {
    const { stream, seen } = countedStream(10 * 1024 * KiB);
    const res = await appWith().request("/api", streamed(stream));
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("body_too_large");
    // The reader may be a chunk or two ahead of the limit (stream buffering), never near the 10 MiB.
    expect(seen.pulled).toBeLessThanOrEqual(16 * KiB + 3 * CHUNK);
  });

  it("a body within the limit reaches the handler whole", async () => {
    const { stream } = countedStream(16 * KiB);
    const res = await appWith().request("/api", streamed(stream));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ bytes: 16 * KiB });
  });

  it("a route with its own limit takes a larger body, and is still refused past its own limit", async () => {
    const app = appWith();
    const ok = await app.request("/upload", streamed(countedStream(200 * KiB).stream));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ bytes: 200 * KiB });
    const over = await app.request("/upload", streamed(countedStream(300 * KiB).stream));
    expect(over.status).toBe(413);
    expect(((await over.json()) as { error: { message: string } }).error.message).toContain("262144 bytes");
  });
});
