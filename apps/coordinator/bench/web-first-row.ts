/**
 * Web benchmark: how long a person waits, in real Chromium, between pressing Enter on the form and
 * seeing the first hop row of the live table. Runs on the reference lab (real nats-server, the
 * coordinator on PGlite, real agents in fra and sin probing the lab's clean target) and prints a
 * table of each stage: the live page shown (POST, dispatch, redirect, render), the event stream
 * open (snapshot received), and the first row drawn.
 *
 *   node --import tsx apps/coordinator/bench/web-first-row.ts --runs 5
 */
import { parseArgs } from "node:util";
import { launchChromium } from "../test/browser";
import { startLabStack } from "../test/lab-stack";

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: { runs: { type: "string", default: "5" }, count: { type: "string", default: "3" } },
});
const runs = Number(args.runs);

const env = await startLabStack();
const browser = await launchChromium();
const samples: { page: number; live: number; row: number }[] = [];
try {
  const target = env.lab.scenarios.clean.target;
  const page = await browser.context.newPage();
  for (let i = 0; i < runs; i++) {
    await page.goto(`${env.url}/`);
    await page.fill("#target", target);
    await page.fill("#count", String(args.count));
    const t0 = performance.now();
    await page.press("#target", "Enter");
    await page.waitForSelector("[data-measurement]");
    const shown = performance.now() - t0;
    await page.waitForSelector('[data-measurement][data-live="on"]');
    const live = performance.now() - t0;
    await page.waitForSelector("tr.hop", { timeout: 30_000 });
    const row = performance.now() - t0;
    samples.push({ page: shown, live, row });
    await page.waitForSelector('[data-role="m-status"].status-done', { timeout: 60_000 });
  }
} finally {
  await browser.close();
  await env.stop();
}

const stat = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] as number;
  return [s[0] as number, q(0.5), s[s.length - 1] as number].map((v) => v.toFixed(0).padStart(8));
};
const rows: [string, number[]][] = [
  ["submit -> live page shown", samples.map((s) => s.page)],
  ["submit -> event stream open", samples.map((s) => s.live)],
  ["submit -> first hop row", samples.map((s) => s.row)],
];
console.log(`web first row, ${runs} runs, fra+sin -> the lab's clean target (ms)`);
console.log(`${"stage".padEnd(30)}${"min".padStart(8)}${"median".padStart(8)}${"max".padStart(8)}`);
for (const [name, xs] of rows) console.log(`${name.padEnd(30)}${stat(xs).join("")}`);
