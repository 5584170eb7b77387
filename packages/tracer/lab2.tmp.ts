import { startReferenceLab } from "@lg/netlab";

const lab = await startReferenceLab();
try {
  for (const name of ["ecmp", "filtered", "blackhole", "throttle", "loss", "loop"] as const) {
    const s = lab.scenarios[name];
    const extra = name === "ecmp" ? ["-u"] : name === "loop" ? ["-m", "10"] : [];
    for (const cmd of [["mtr"], ["/work/main/bin/lg", "trace"]]) {
      const t = Date.now();
      const o = await lab.exec(
        s.from,
        [...cmd, "-n", "-r", "-w", "-c", "20", "-i", "0.1", "-G", "1", ...extra, s.target],
        { env: { LG_FROM_SOURCE: "1" } },
      );
      console.log(name, cmd[0], Date.now() - t, "ms\n" + o.stdout + o.stderr);
    }
  }
} finally {
  await lab.down();
}
