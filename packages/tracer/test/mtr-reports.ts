import { resolve } from "node:path";
import { type MtrRun, parseMtrReport } from "@lg/netlab";

/*
 * For the lab tests that hold `lg trace` to the real mtr: the same report flags for both, run one
 * after the other, read with netlab's mtr report parser.
 */

/** The checkout's `bin/lg`. */
export const LG = resolve(import.meta.dirname, "../../../bin/lg");

/**
 * The arguments of a report mtr and lg trace both write: -n -r -w with mtr's default columns
 * (`-o "LS NABWV"`: lg's report adds its loss interval after them otherwise), `count` probes per
 * hop `interval` s apart, a 1 s grace, then `flags` and the target.
 */
export function reportArgs(
  count: number,
  interval: number | string,
  flags: string[],
  target: string,
): string[] {
  return [
    "-n",
    "-r",
    "-w",
    "-o",
    "LS NABWV",
    "-c",
    String(count),
    "-i",
    String(interval),
    "-G",
    "1",
    ...flags,
    target,
  ];
}

/** Runs `mtr` and then `lg trace` with the same arguments through `exec` (its stdout) and reads both reports. */
export async function mtrAndLgReports(
  exec: (argv: string[]) => Promise<string>,
  args: string[],
): Promise<{ mtr: MtrRun; ours: MtrRun }> {
  const mtr = parseMtrReport(await exec(["mtr", ...args]));
  const ours = parseMtrReport(await exec([LG, "trace", ...args]));
  return { mtr, ours };
}

/** Each hop's responders, sorted: what a comparison of two runs compares. */
export const respondersPerHop = (run: MtrRun): string[][] => run.hops.map((h) => [...h.responders].sort());
