/**
 * What a 100 MiB request body costs the coordinator: `lg coordinator` as its own process (PGlite,
 * a real nats-server), three 100 MiB POSTs (JSON with a Content-Length, JSON chunked, the web
 * form), and for each the status, how long the answer took, how much the client had sent by then,
 * and the coordinator's resident memory (VmRSS from /proc) before and after. The coordinator is
 * left to settle first (it loads the origin-AS table in the background at start). Not part of CI.
 *
 *   pnpm -F @lg/coordinator bench:body-limit
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { findFreePort, startNatsServer } from "@lg/services";

const repoRoot = resolve(import.meta.dirname, "../../..");
const MiB = 1024 * 1024;
const TOTAL = 100 * MiB;

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
}

/** POSTs TOTAL bytes as fast as the socket takes them; stops writing when the answer comes. */
function post(url: string, how: "length" | "chunked", type: string) {
  const filler = Buffer.alloc(256 * 1024, 0x61);
  const started = performance.now();
  return new Promise<{ status: number; ms: number; sent: number }>((done, fail) => {
    let sent = 0;
    let answered = false;
    const req = request(url, {
      method: "POST",
      headers: { "content-type": type, ...(how === "length" ? { "content-length": String(TOTAL) } : {}) },
    });
    req.on("response", (res) => {
      answered = true;
      const result = { status: res.statusCode ?? 0, ms: Math.round(performance.now() - started), sent };
      res.resume();
      res.on("end", () => {
        req.destroy();
        done(result);
      });
    });
    req.on("error", (err) => {
      if (!answered) fail(err);
    });
    const pump = () => {
      while (!answered && sent < TOTAL) {
        const chunk = sent === 0 ? Buffer.from('{"target":"127.0.0.1","pad":"') : filler;
        const piece = chunk.subarray(0, Math.min(chunk.length, TOTAL - sent));
        sent += piece.length;
        if (!req.write(piece)) return void req.once("drain", pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

const dir = await mkdtemp(join(tmpdir(), "lg-bench-body-"));
const nats = await startNatsServer({ dataDir: join(dir, "nats") });
const port = await findFreePort();
const base = `http://127.0.0.1:${port}`;
const child = spawn(
  process.execPath,
  ["--import", "tsx", join(repoRoot, "apps/cli/src/main.ts"), "coordinator"],
  {
    cwd: repoRoot,
    env: {
      ...process.env,
      HOST: "127.0.0.1",
      PORT: String(port),
      NATS_URL: nats.url,
      LG_DATA_DIR: dir,
      LOG_LEVEL: "warn",
    },
    stdio: "ignore",
  },
);
try {
  for (let i = 0; ; i++) {
    if ((await fetch(`${base}/healthz`).catch(() => undefined))?.ok) break;
    if (i > 600) throw new Error("the coordinator did not start");
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = child.pid as number;
  // Settled: RSS moved less than 2 MiB in a second.
  for (let last = 0, now = await rssOf(pid); Math.abs(now - last) > 2 * MiB; ) {
    await new Promise((r) => setTimeout(r, 1_000));
    [last, now] = [now, await rssOf(pid)];
  }
  const cases = [
    ["/api/v1/measurements", "length", "application/json"],
    ["/api/v1/measurements", "chunked", "application/json"],
    ["/", "length", "application/x-www-form-urlencoded"],
  ] as const;
  const mb = (n: number) => `${(n / MiB).toFixed(0)} MiB`;
  console.log("| POST | body | status | answer after | sent by then | RSS before | RSS after |");
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (const [path, how, type] of cases) {
    const before = await rssOf(pid);
    const r = await post(`${base}${path}`, how, type);
    await new Promise((res) => setTimeout(res, 500));
    const after = await rssOf(pid);
    console.log(
      `| ${path} | ${how === "length" ? "Content-Length" : "chunked"} | ${r.status} | ${r.ms} ms | ${(r.sent / MiB).toFixed(1)} MiB | ${mb(before)} | ${mb(after)} |`,
    );
  }
} finally {
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  await nats.stop();
  await rm(dir, { recursive: true, force: true });
}
