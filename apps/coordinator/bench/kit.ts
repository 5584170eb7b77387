/** Small pieces the benchmarks share: percentiles, CPU from /proc, SSE following, a table. */
import { readdirSync, readFileSync } from "node:fs";
import { createParser } from "eventsource-parser";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
};

/** CPU seconds (user + system) a process and its children have used, from /proc. */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  const tick = 100; // USER_HZ on Linux
  let total = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ppid = Number(fields[1]);
    if (Number(entry) !== pid && ppid !== pid) continue;
    total += (Number(fields[11]) + Number(fields[12])) / tick;
  }
  return total;
}

/** Reads a measurement's live stream until its `done` event; resolves with performance.now() then. */
export async function followDone(base: string, id: string): Promise<number> {
  const res = await fetch(`${base}/api/v1/measurements/${id}/events`, {
    signal: AbortSignal.timeout(60_000),
  });
  let at: number | undefined;
  const parser = createParser({
    onEvent: (e) => {
      if (e.event === "done") at = performance.now();
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of res.body ?? []) {
    parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
    if (at !== undefined) return at;
  }
  throw new Error(`the stream of ${id} ended without a done event`);
}

/** Waits until `base/healthz` answers 200 (up to 20 s). */
export async function waitHealthy(base: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (
      await fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await sleep(100);
  }
  throw new Error(`${base} did not become healthy`);
}

/** Prints rows as a Markdown table: metric | value | note. */
export function printTable(rows: [string, string, string][]): void {
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  const line = (a: string, b: string, c: string) => `| ${a.padEnd(w0)} | ${b.padEnd(w1)} | ${c} |`;
  process.stdout.write(
    `${line("metric", "value", "note")}\n|${"-".repeat(w0 + 2)}|${"-".repeat(w1 + 2)}|------|\n`,
  );
  for (const r of rows) process.stdout.write(`${line(...r)}\n`);
}
