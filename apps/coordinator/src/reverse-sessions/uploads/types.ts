import { type Hop, lossInterval } from "@lg/protocol";
import ipaddr from "ipaddr.js";

/** The outputs a customer can upload, by the tool and option that writes them. */
export const UPLOAD_FORMATS = {
  "mtr-report": "mtr's report (mtr -r, mtr -r -w)",
  "mtr-json": "mtr's JSON (mtr --json)",
  "mtr-csv": "mtr's CSV (mtr -C)",
  "mtr-xml": "mtr's XML (mtr --xml)",
  "winmtr-text": "WinMTR's text export",
  "winmtr-html": "WinMTR's HTML export",
} as const;
export type UploadFormat = keyof typeof UPLOAD_FORMATS;

/** A trace read from a tool's output: its hops in the API's shape, and what the format says about the run. */
export interface UploadedTrace {
  format: UploadFormat;
  /** When the run started, where the format carries it (report `Start:`, CSV `Start_Time`). */
  startedAt?: Date;
  /** Why the format's own time could not be used, when it has a start line but no usable time. */
  timeNote?: string;
  /** The tracing host's name as the tool wrote it (report `HOST:`, JSON `src`, XML `SRC`). */
  source?: string;
  /** What was traced, as the tool wrote it (JSON `dst`, XML `DST`, CSV `Host`). */
  destination?: string;
  hops: Hop[];
}

/**
 * Text that is not a trace this coordinator reads, or one of whose lines is not what its format
 * writes there. `line` is 1-based in the text as uploaded.
 */
export class UploadParseError extends Error {
  override name = "UploadParseError";
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

/** A piece of uploaded text quoted in an error message: short, and as a JSON string (no raw control bytes). */
export const quoted = (text: string, max = 60) =>
  JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);

/** The most hops a trace may have (the probe engine's largest max TTL). */
export const MAX_HOPS = 255;

/** One hop as the tools write it; a missing column is left out. */
export interface HopColumns {
  ttl: number;
  /** The responder as written: an address, a name, `name (address)`, or `???`/empty for silence. */
  host: string;
  /** Further responders at this hop (mtr -r -w continuation lines). */
  more?: string[];
  lossPct: number;
  sent: number;
  recv?: number;
  last?: number;
  avg?: number;
  best?: number;
  worst?: number;
  stdev?: number;
  jitter?: number;
  jitterAvg?: number;
  jitterMax?: number;
}

/** `???` (mtr), `No response from host` (WinMTR) or nothing: a hop that did not answer. */
const SILENT = /^(\?\?\?|no response from host|\*|)$/i;

/**
 * A responder as written: `name (address)` (mtr -b) gives both; an address alone is the address;
 * a name alone (mtr without -n, WinMTR with DNS) stands for the address the tool did not print.
 */
export function responderOf(text: string): { address: string; name?: string } | null {
  const t = text.trim();
  if (SILENT.test(t)) return null;
  const both = /^(\S+) \(([^()\s]+)\)$/.exec(t);
  if (both && ipaddr.isValid(both[2] as string))
    return { address: both[2] as string, name: both[1] as string };
  if (ipaddr.isValid(t)) return { address: t };
  return { address: t, name: t };
}

/** Rounds to what a time column can hold (µs). */
const ms = (x: number | undefined) => Math.max(0, Math.round((x ?? 0) * 1000) / 1000);

/**
 * The API's hop from a tool's columns. `recv` is the tool's when it has the column (mtr `Rcv`,
 * WinMTR `Recv`), else what `Loss%` of `Snt` leaves; a column the output does not carry (mtr's
 * jitter unless asked with -o) is 0. A further responder's reply count is not in any format: 0.
 */
export function hopFrom(c: HopColumns): Hop {
  const first = responderOf(c.host);
  const sent = Math.max(0, Math.round(c.sent));
  const recv = Math.min(sent, Math.max(0, Math.round(c.recv ?? (sent * (100 - c.lossPct)) / 100)));
  const answered = first !== null && recv > 0;
  const responders = first
    ? [
        { ...first, count: recv },
        ...(c.more ?? [])
          .map(responderOf)
          .filter((r): r is { address: string; name?: string } => r !== null)
          .map((r) => ({ ...r, count: 0 })),
      ].slice(0, 8)
    : [];
  return {
    ttl: c.ttl,
    host: first?.address ?? null,
    ...(first?.name ? { name: first.name } : {}),
    lossPct: Math.min(100, Math.max(0, c.lossPct)),
    sent,
    recv,
    drop: sent - recv,
    lossCi: lossInterval(sent, recv),
    last: answered ? ms(c.last) : 0,
    avg: answered ? ms(c.avg) : 0,
    best: answered ? ms(c.best) : 0,
    worst: answered ? ms(c.worst) : 0,
    stdev: answered ? ms(c.stdev) : 0,
    jitter: answered ? ms(c.jitter) : 0,
    jitterAvg: answered ? ms(c.jitterAvg) : 0,
    jitterMax: answered ? ms(c.jitterMax) : 0,
    responders,
  };
}

/** A number as a tool writes it (`12.3`, `30.0%`), or undefined. */
export function numberIn(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^\s*(-?\d+(?:\.\d+)?)%?\s*$/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Checks the hop list a parser produced: at least one hop, TTLs rising, not too many. */
export function checkedHops(hops: Hop[], what: string): Hop[] {
  if (hops.length === 0) throw new UploadParseError(`${what} has no hop lines`);
  if (hops.length > MAX_HOPS)
    throw new UploadParseError(`${what} has ${hops.length} hops; at most ${MAX_HOPS}`);
  for (let i = 1; i < hops.length; i++) {
    const prev = hops[i - 1] as Hop;
    const hop = hops[i] as Hop;
    if (hop.ttl <= prev.ttl)
      throw new UploadParseError(`${what}: hop ${hop.ttl} comes after hop ${prev.ttl}; hops must rise`);
  }
  return hops;
}
