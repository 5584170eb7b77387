import { z } from "zod";
import { traceFrom } from "./line-formats";
import { quoted, type UploadedTrace, UploadParseError } from "./types";

const num = z.number().nonnegative();

/** One hub of `mtr --json` (0.95): the default columns, and the optional ones `-o` adds. */
const Hub = z.object({
  count: z.union([z.number().int().positive(), z.string().regex(/^\d+$/)]),
  host: z.string().max(300),
  "Loss%": num.max(100),
  Snt: num,
  Rcv: num.optional(),
  Last: num.optional(),
  Avg: num.optional(),
  Best: num.optional(),
  Wrst: num.optional(),
  StDev: num.optional(),
  Jttr: num.optional(),
  Javg: num.optional(),
  Jmax: num.optional(),
});

const Report = z.object({
  report: z.object({
    mtr: z.object({ src: z.string().max(300).optional(), dst: z.string().max(300).optional() }),
    hubs: z.array(Hub).max(300),
  }),
});

/** `report.hubs[3].Snt`: where in the document a zod issue is. */
const pathOf = (path: PropertyKey[]) =>
  path.reduce<string>(
    (s, k) => (typeof k === "number" ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)),
    "",
  );

/**
 * Reads `mtr --json` (mtr 0.95's schema: `report.mtr` with src and dst, `report.hubs` with one hop
 * each). The format carries no start time.
 */
export function parseMtrJsonText(text: string): UploadedTrace {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UploadParseError(`mtr's JSON is not JSON: ${(err as Error).message}`);
  }
  const parsed = Report.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? pathOf(issue.path) : "";
    throw new UploadParseError(
      `mtr's JSON at ${where || "the top"}: ${issue?.message ?? "not mtr's schema"} (expected mtr --json's report.mtr and report.hubs)`,
    );
  }
  const { mtr, hubs } = parsed.data.report;
  const rows = hubs.map((h, i) => {
    const ttl = Number(h.count);
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 255)
      throw new UploadParseError(
        `mtr's JSON at report.hubs[${i}].count: ${quoted(String(h.count))} is not a hop number`,
      );
    return {
      ttl,
      host: h.host,
      lossPct: h["Loss%"],
      sent: h.Snt,
      recv: h.Rcv,
      last: h.Last,
      avg: h.Avg,
      best: h.Best,
      worst: h.Wrst,
      stdev: h.StDev,
      jitter: h.Jttr,
      jitterAvg: h.Javg,
      jitterMax: h.Jmax,
    };
  });
  return traceFrom("mtr-json", "mtr's JSON", rows, { source: mtr.src, destination: mtr.dst });
}
