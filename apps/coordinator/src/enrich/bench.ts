/**
 * Measures the public ASN table: load time, memory it keeps, and the cost of one lookup.
 * Run: node --expose-gc --import tsx apps/coordinator/src/enrich/bench.ts
 */
import { AsnDatabase } from "./asn-database";

const gc = (globalThis as { gc?: () => void }).gc;
const settle = () => {
  gc?.();
  gc?.();
  return process.memoryUsage();
};

const before = settle();
const started = performance.now();
const db = await AsnDatabase.load();
const loadMs = performance.now() - started;
const peakRss = process.memoryUsage().rss;
const after = settle();

function randomV4(): string {
  const n = Math.floor(Math.random() * 2 ** 32);
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
/** Random addresses in 2a00::/12, RIPE's densely allocated IPv6 block, so most lookups find a range. */
function randomV6(): string {
  const group = () => Math.floor(Math.random() * 0x10000).toString(16);
  return `2a0${Math.floor(Math.random() * 16).toString(16)}:${Array.from({ length: 7 }, group).join(":")}`;
}

function perLookup(addresses: string[]): { ns: number; found: number } {
  let found = 0;
  const t = performance.now();
  for (const a of addresses) if (db.lookup(a)) found++;
  return { ns: ((performance.now() - t) * 1e6) / addresses.length, found };
}

const v4 = Array.from({ length: 500_000 }, randomV4);
const v6 = Array.from({ length: 200_000 }, randomV6);
perLookup(v4.slice(0, 20_000));
const r4 = perLookup(v4);
const r6 = perLookup(v6);
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

console.table([
  { measure: "ranges loaded (IPv4 / IPv6)", value: `${db.counts.v4} / ${db.counts.v6}` },
  { measure: "load time", value: `${loadMs.toFixed(0)} ms` },
  { measure: "RSS kept after load (delta)", value: mb(after.rss - before.rss) },
  {
    measure: "heap + array buffers kept (delta)",
    value: mb(after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers),
  },
  { measure: "peak RSS during load", value: mb(peakRss) },
  {
    measure: "IPv4 lookup (random addresses)",
    value: `${r4.ns.toFixed(0)} ns (${((100 * r4.found) / v4.length).toFixed(0)}% found)`,
  },
  {
    measure: "IPv6 lookup (random 2a00::/12 addresses)",
    value: `${r6.ns.toFixed(0)} ns (${((100 * r6.found) / v6.length).toFixed(0)}% found)`,
  },
]);
if (!gc) console.log("(run with node --expose-gc for settled memory figures)");
