import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { AsnInfo } from "@lg/analysis";
import ipaddr from "ipaddr.js";
import { AsnDatabaseError } from "./errors";

interface RangeColumns {
  /** First address of each range (IPv4: one word per range; IPv6: four 32-bit words, most significant first). */
  start: Uint32Array;
  /** Last address of each range, laid out like `start`. */
  end: Uint32Array;
  /** Index into the records of each range. */
  record: Uint32Array;
}

/**
 * Origin AS of public addresses from the `@ip-location-db/asn` package (RouteViews and DB-IP data,
 * CC BY 4.0). Its numeric CSV files hold sorted, non-overlapping ranges `start,end,asn,owner`; they are
 * kept in typed arrays (IPv6 as four 32-bit words) and searched by binary search, owners stored once.
 */
export class AsnDatabase {
  private constructor(
    private readonly v4: RangeColumns,
    private readonly v6: RangeColumns,
    private readonly records: AsnInfo[],
  ) {}

  /** Ranges loaded, per family. */
  get counts(): { v4: number; v6: number } {
    return { v4: this.v4.record.length, v6: this.v6.record.length };
  }

  /** Reads both CSV files from `dir` (default: the installed package). Takes about half a second. */
  static async load(dir = packageDir()): Promise<AsnDatabase> {
    const records: AsnInfo[] = [];
    const recordIds = new Map<string, number>();
    const recordOf = (asn: number, owner: string): number => {
      const key = `${asn}\u0000${owner}`;
      let id = recordIds.get(key);
      if (id === undefined) {
        id = records.length;
        // A copy, so the record does not keep the whole file's text alive through a sliced string.
        records.push({ asn, ...(owner ? { owner: Buffer.from(owner, "utf8").toString("utf8") } : {}) });
        recordIds.set(key, id);
      }
      return id;
    };
    const [text4, text6] = await Promise.all([
      readCsv(join(dir, "asn-ipv4-num.csv")),
      readCsv(join(dir, "asn-ipv6-num.csv")),
    ]);
    const v4 = fill(
      text4,
      1,
      (target, row, text) => {
        target[row] = Number(text);
      },
      recordOf,
    );
    const v6 = fill(text6, 4, (target, row, text) => writeWords(target, row, BigInt(text)), recordOf);
    if (v4.record.length === 0 || v6.record.length === 0)
      throw new AsnDatabaseError(`no ranges found in ${dir}`);
    return new AsnDatabase(v4, v6, records);
  }

  /** Origin AS of an address, or undefined when no announced range holds it. */
  lookup(address: string): AsnInfo | undefined {
    const quad = parseDottedQuad(address);
    if (quad !== null) return this.find(this.v4, [quad]);
    if (!ipaddr.isValid(address)) return undefined;
    const parsed = ipaddr.process(address);
    const bytes = parsed.toByteArray();
    const words: number[] = [];
    for (let k = 0; k < bytes.length; k += 4) {
      words.push(
        ((bytes[k] as number) * 2 ** 24 +
          ((bytes[k + 1] as number) << 16) +
          ((bytes[k + 2] as number) << 8) +
          (bytes[k + 3] as number)) >>>
          0,
      );
    }
    return this.find(parsed.kind() === "ipv4" ? this.v4 : this.v6, words);
  }

  private find(columns: RangeColumns, address: number[]): AsnInfo | undefined {
    const { start, end, record } = columns;
    const width = address.length;
    let low = 0;
    let high = record.length - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (compareWords(start, mid, width, address) <= 0) {
        found = mid;
        low = mid + 1;
      } else high = mid - 1;
    }
    if (found < 0 || compareWords(end, found, width, address) < 0) return undefined;
    return this.records[record[found] as number];
  }
}

/** Where npm installed `@ip-location-db/asn` (it has no entry point, so resolve its package.json). */
export function packageDir(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve("@ip-location-db/asn/package.json"));
  } catch (cause) {
    throw new AsnDatabaseError("the @ip-location-db/asn package is not installed", { cause });
  }
}

async function readCsv(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (cause) {
    throw new AsnDatabaseError(`cannot read ${path}`, { cause });
  }
}

/** Fills range columns of `width` words per address straight from the CSV text. */
function fill(
  text: string,
  width: number,
  write: (target: Uint32Array, row: number, text: string) => void,
  recordOf: (asn: number, owner: string) => number,
): RangeColumns {
  const capacity = countLines(text);
  const start = new Uint32Array(capacity * width);
  const end = new Uint32Array(capacity * width);
  const record = new Uint32Array(capacity);
  let rows = 0;
  forEachRow(text, (first, last, asn, owner) => {
    write(start, rows, first);
    write(end, rows, last);
    record[rows] = recordOf(asn, owner);
    rows++;
  });
  return {
    start: start.slice(0, rows * width),
    end: end.slice(0, rows * width),
    record: record.slice(0, rows),
  };
}

/** Upper bound of the rows in a CSV text (one per line; a last line without newline counts). */
function countLines(text: string): number {
  let n = 0;
  for (let pos = text.indexOf("\n"); pos >= 0; pos = text.indexOf("\n", pos + 1)) n++;
  return n + 1;
}

/**
 * Calls `row` for each `start,end,asn,owner` line; the owner is the rest of the line, CSV-quoted when it
 * holds a comma or a quote. Written by hand because the three leading fields are plain numbers, and
 * filling typed arrays straight from the text keeps the load from building 500,000 row objects.
 */
function forEachRow(
  text: string,
  row: (start: string, end: string, asn: number, owner: string) => void,
): void {
  let pos = 0;
  while (pos < text.length) {
    let eol = text.indexOf("\n", pos);
    if (eol < 0) eol = text.length;
    const c1 = text.indexOf(",", pos);
    const c2 = text.indexOf(",", c1 + 1);
    const c3 = text.indexOf(",", c2 + 1);
    if (c1 > pos && c2 > c1 && c2 < eol) {
      const asnEnd = c3 > 0 && c3 < eol ? c3 : eol;
      let owner = asnEnd < eol ? text.slice(asnEnd + 1, eol).replace(/\r$/, "") : "";
      if (owner.startsWith('"') && owner.endsWith('"')) owner = owner.slice(1, -1).replaceAll('""', '"');
      row(text.slice(pos, c1), text.slice(c1 + 1, c2), Number(text.slice(c2 + 1, asnEnd)), owner);
    }
    pos = eol + 1;
  }
}

/** 198.18.0.1 -> its 32-bit value without a general-purpose parser (the common case); null otherwise. */
function parseDottedQuad(address: string): number | null {
  const parts = address.split(".");
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

/** Stores a 128-bit value as four 32-bit words at row `row`. */
function writeWords(target: Uint32Array, row: number, value: bigint): void {
  let rest = value;
  for (let w = 3; w >= 0; w--) {
    target[row * 4 + w] = Number(rest & 0xffffffffn);
    rest >>= 32n;
  }
}

/** Compares row `row` of `columns` (`width` words a row) with `address`: negative, zero or positive. */
function compareWords(columns: Uint32Array, row: number, width: number, address: number[]): number {
  for (let w = 0; w < width; w++) {
    const diff = (columns[row * width + w] as number) - (address[w] as number);
    if (diff !== 0) return diff;
  }
  return 0;
}
