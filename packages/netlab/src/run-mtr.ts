import type { LabHandle } from "./lab";
import { type MtrArgs, type MtrRun, mtrArgv, parseMtrJson, parseMtrReport } from "./mtr";
import { LabError } from "./system";

/** Runs the real mtr inside a lab node and parses its report or JSON output. */
export async function runMtr(lab: LabHandle, node: string, args: MtrArgs): Promise<MtrRun> {
  const argv = mtrArgv(args);
  const timeoutMs = ((args.count ?? 10) * (args.interval ?? 0.1) + (args.grace ?? 0.5) + 10) * 1000;
  const r = await lab.exec(node, argv, { timeoutMs });
  if (r.code !== 0)
    throw new LabError(`${argv.join(" ")} in ${node} failed (exit ${r.code}): ${r.stderr.trim()}`);
  return args.format === "json" ? parseMtrJson(r.stdout) : parseMtrReport(r.stdout);
}
