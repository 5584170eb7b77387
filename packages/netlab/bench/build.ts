// Measures how long the reference lab takes to build and to tear down.
// usage: pnpm --filter @lg/netlab bench [runs]   (root; prints a table)
import { startReferenceLab } from "../src/reference";

const runs = Number(process.argv[2] ?? 5);
const rows: { run: number; namespaces: number; buildMs: number; downMs: number }[] = [];
for (let run = 1; run <= runs; run++) {
  const t0 = performance.now();
  const lab = await startReferenceLab();
  const t1 = performance.now();
  await lab.down();
  const t2 = performance.now();
  rows.push({
    run,
    namespaces: lab.plan.nodes.size,
    buildMs: Math.round(t1 - t0),
    downMs: Math.round(t2 - t1),
  });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
console.table(rows);
console.log(
  `reference lab: median build ${median(rows.map((r) => r.buildMs))} ms, median teardown ${median(rows.map((r) => r.downMs))} ms over ${runs} runs`,
);
