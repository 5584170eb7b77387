import { startReferenceLab } from "@lg/netlab";

const t0 = Date.now();
const lab = await startReferenceLab();
console.log("up in", Date.now() - t0, "ms", lab.prefix);
try {
  for (const [name, s] of Object.entries(lab.scenarios))
    console.log(name, s.from, s.target, JSON.stringify(s.expectedHops));
  const s = lab.scenarios.clean;
  let t = Date.now();
  const m = await lab.exec(s.from, ["mtr", "-n", "-r", "-w", "-c", "10", "-i", "0.1", "-G", "1", s.target]);
  console.log(m.stdout, m.stderr, Date.now() - t);
  t = Date.now();
  const o = await lab.exec(
    s.from,
    ["/work/main/bin/lg", "trace", "-n", "-r", "-w", "-c", "10", "-i", "0.1", "-G", "1", s.target],
    { env: { LG_FROM_SOURCE: "1" } },
  );
  console.log(o.stdout, o.stderr, o.code, Date.now() - t);
} finally {
  await lab.down();
}
