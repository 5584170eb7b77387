import { z } from "zod";

/**
 * Parsers for the output of the real mtr (0.95), pure so that any test can feed them saved
 * output. The report (`mtr -r -w`) lists every responder of a hop; the JSON (`mtr --json`)
 * carries the figures but only one responder per hop.
 */

export interface MtrHop {
  ttl: number;
  /** First responder, or null for a silent hop ("???"). */
  host: string | null;
  /** Every responder the report lists for this hop (first one first). */
  responders: string[];
  lossPct: number;
  sent: number;
  last: number;
  avg: number;
  best: number;
  worst: number;
  stdev: number;
}

export interface MtrRun {
  /** The HOST column header (report) or report.mtr.src (JSON): the tracing machine's name. */
  source: string;
  /** report.mtr.dst (JSON only). */
  destination?: string;
  hops: MtrHop[];
}

/** Thrown when text is not mtr output of the expected shape. */
export class MtrParseError extends Error {
  override name = "MtrParseError";
}

const HOP_LINE =
  /^\s*(\d+)\.\|--\s+(\S+)\s+([\d.]+)%?\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$/;
const EXTRA_RESPONDER = /^\s+(\S+)\s*$/;
const HEADER = /^HOST:\s+(\S+)\s+Loss%/;

function hostOrNull(text: string): string | null {
  return text === "???" ? null : text;
}

/**
 * Parses `mtr -n -r -w` (report, wide). Continuation lines under a hop (further responders,
 * e.g. ECMP) go into that hop's `responders`; MPLS lines are skipped.
 *
 * @example parseMtrReport(stdout).hops[2]?.responders // ["198.18.70.2", "198.18.71.2"]
 */
export function parseMtrReport(text: string): MtrRun {
  let source: string | undefined;
  const hops: MtrHop[] = [];
  for (const line of text.split("\n")) {
    const header = HEADER.exec(line);
    if (header?.[1]) {
      source = header[1];
      continue;
    }
    const m = HOP_LINE.exec(line);
    if (m) {
      const host = hostOrNull(m[2] as string);
      hops.push({
        ttl: Number(m[1]),
        host,
        responders: host ? [host] : [],
        lossPct: Number(m[3]),
        sent: Number(m[4]),
        last: Number(m[5]),
        avg: Number(m[6]),
        best: Number(m[7]),
        worst: Number(m[8]),
        stdev: Number(m[9]),
      });
      continue;
    }
    const extra = EXTRA_RESPONDER.exec(line);
    const hop = hops[hops.length - 1];
    if (extra?.[1] && hop && !extra[1].startsWith("[")) hop.responders.push(extra[1]);
  }
  if (source === undefined) throw new MtrParseError("not an mtr report: no HOST: header line");
  return { source, hops };
}

const jsonHop = z.object({
  count: z.union([z.number(), z.string()]),
  host: z.string(),
  "Loss%": z.number(),
  Snt: z.number(),
  Last: z.number(),
  Avg: z.number(),
  Best: z.number(),
  Wrst: z.number(),
  StDev: z.number(),
});

const jsonReport = z.object({
  report: z.object({
    mtr: z.object({ src: z.string(), dst: z.string() }).loose(),
    hubs: z.array(jsonHop),
  }),
});

/** Parses `mtr -n --json`. */
export function parseMtrJson(text: string): MtrRun {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new MtrParseError(`mtr JSON is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = jsonReport.safeParse(raw);
  if (!parsed.success)
    throw new MtrParseError(`unexpected mtr JSON: ${parsed.error.issues[0]?.message ?? ""}`);
  const { mtr, hubs } = parsed.data.report;
  return {
    source: mtr.src,
    destination: mtr.dst,
    hops: hubs.map((h) => {
      const host = hostOrNull(h.host);
      return {
        ttl: Number(h.count),
        host,
        responders: host ? [host] : [],
        lossPct: h["Loss%"],
        sent: h.Snt,
        last: h.Last,
        avg: h.Avg,
        best: h.Best,
        worst: h.Wrst,
        stdev: h.StDev,
      };
    }),
  };
}

export interface MtrArgs {
  target: string;
  count?: number;
  /** Seconds between cycles (root may go below 1). */
  interval?: number;
  /** Seconds to wait for late answers after the last probe. */
  grace?: number;
  protocol?: "icmp" | "udp" | "tcp";
  port?: number;
  maxTtl?: number;
  family?: 4 | 6;
  format: "report" | "json";
}

/** The argv of an mtr run (numeric, report or JSON). */
export function mtrArgv(args: MtrArgs): string[] {
  const argv = ["mtr", "-n", "-c", String(args.count ?? 10), "-i", String(args.interval ?? 0.1)];
  argv.push("-G", String(args.grace ?? 0.5));
  if (args.family) argv.push(`-${args.family}`);
  if (args.protocol === "udp") argv.push("-u");
  if (args.protocol === "tcp") argv.push("-T");
  if (args.port !== undefined) argv.push("-P", String(args.port));
  if (args.maxTtl !== undefined) argv.push("-m", String(args.maxTtl));
  argv.push(...(args.format === "json" ? ["--json"] : ["-r", "-w"]));
  argv.push(args.target);
  return argv;
}
