import type { Hop } from "@lg/protocol";

/** One of mtr's data columns (`mtr -o` letters). */
export interface Field {
  key: string;
  title: string;
  /** Column width in the report, the leading space included. */
  width: number;
  /** True for values printed with decimals (times, Loss%). */
  decimal: boolean;
  value: (hop: Hop) => number;
  /** The report cell, e.g. ` 30.0%` or `  12.3`. */
  cell: (hop: Hop) => string;
  /**
   * A column that is not one number (the loss interval): CSV writes this text, and mtr's JSON
   * hubs leave it out (it is in the `lg` key's hops).
   */
  text?: (hop: Hop) => string;
}

/**
 * printf's %.Nf: like toFixed, but a value exactly halfway rounds to even (1.25 -> "1.2"), as
 * C's printf does and JavaScript's toFixed does not.
 */
export function cFixed(v: number, digits: number): string {
  // toFixed with many digits shows the double's exact decimal expansion: a tie is "5" then zeros.
  const exact = Math.abs(v).toFixed(Math.min(100, digits + 40));
  const tail = exact.slice(exact.indexOf(".") + 1 + digits);
  if (/^50*$/.test(tail)) {
    const down = Math.floor(Math.abs(v) * 10 ** digits);
    const even = down % 2 === 0 ? down : down + 1;
    return (Math.sign(v) * (even / 10 ** digits)).toFixed(digits);
  }
  return v.toFixed(digits);
}

const f1 = (v: number, width: number) => cFixed(v, 1).padStart(width);
const int = (v: number, width: number) => String(v).padStart(width);

function timeField(key: string, title: string, width: number, value: (h: Hop) => number): Field {
  return { key, title, width, decimal: true, value, cell: (h) => ` ${f1(value(h), width - 1)}` };
}

/** "10.8-60.3": a hop's 95% loss interval, or "" when it has none (a hop from an older reading). */
function intervalText(h: Hop): string {
  return h.lossCi ? `${cFixed(h.lossCi[0], 1)}-${cFixed(h.lossCi[1], 1)}` : "";
}

/**
 * mtr's field table, limited to the statistics this engine keeps (no Gmean, no Jint), plus `C`,
 * which mtr does not have: the 95% interval of Loss% (Wilson), e.g. `10.8-60.3`.
 */
export const FIELDS: Record<string, Field> = {
  " ": { key: " ", title: " ", width: 1, decimal: false, value: (h) => h.drop, cell: () => " " },
  L: {
    key: "L",
    title: "Loss%",
    width: 6,
    decimal: true,
    value: (h) => h.lossPct,
    cell: (h) => ` ${f1(h.lossPct, 4)}%`,
  },
  D: {
    key: "D",
    title: "Drop",
    width: 5,
    decimal: false,
    value: (h) => h.drop,
    cell: (h) => ` ${int(h.drop, 4)}`,
  },
  R: {
    key: "R",
    title: "Rcv",
    width: 6,
    decimal: false,
    value: (h) => h.recv,
    cell: (h) => ` ${int(h.recv, 5)}`,
  },
  S: {
    key: "S",
    title: "Snt",
    width: 6,
    decimal: false,
    value: (h) => h.sent,
    cell: (h) => ` ${int(h.sent, 5)}`,
  },
  N: timeField("N", "Last", 6, (h) => h.last),
  B: timeField("B", "Best", 6, (h) => h.best),
  A: timeField("A", "Avg", 6, (h) => h.avg),
  W: timeField("W", "Wrst", 6, (h) => h.worst),
  V: timeField("V", "StDev", 6, (h) => h.stdev),
  J: timeField("J", "Jttr", 5, (h) => h.jitter),
  M: timeField("M", "Javg", 5, (h) => h.jitterAvg),
  X: timeField("X", "Jmax", 5, (h) => h.jitterMax),
  C: {
    key: "C",
    title: "Loss%CI",
    width: 12,
    decimal: false,
    value: (h) => h.lossCi?.[1] ?? 100,
    cell: (h) => ` ${(intervalText(h) || "-").padStart(11)}`,
    text: intervalText,
  },
};

/** mtr's default columns: Loss%, Snt, a space, Last, Avg, Best, Wrst, StDev. */
export const DEFAULT_ORDER = "LS NABWV";
/** Jitter columns as `mtr -o "LSD NBAW JMX"` shows them. */
export const JITTER_ORDER = "LS NABWV JMX";
/**
 * `lg trace`'s and `lg measure`'s report columns: mtr's, then the loss interval at the end, so
 * tools that read mtr's columns by position still find them where mtr puts them.
 */
export const LG_REPORT_ORDER = "LS NABWVC";

/** Parses an `-o` field order; returns the unknown letters when there are any. */
export function parseFieldOrder(order: string): { fields: Field[] } | { unknown: string } {
  const fields: Field[] = [];
  for (const ch of order) {
    const field = FIELDS[ch];
    if (!field) return { unknown: ch };
    fields.push(field);
  }
  return { fields };
}

export function fieldsOf(order: string | undefined): Field[] {
  const parsed = parseFieldOrder(order ?? DEFAULT_ORDER);
  return "fields" in parsed ? parsed.fields : (parseFieldOrder(DEFAULT_ORDER) as { fields: Field[] }).fields;
}
