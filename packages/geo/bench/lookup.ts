/**
 * What places cost: reading the offline database (per family), the memory it keeps, and lookups per
 * second from it and from an operator's table. Run: pnpm -F @lg/geo bench (node --expose-gc).
 */
import { GeoDatabase } from "../src/database";
import { PlaceTable } from "../src/place-table";

const gc = (globalThis as { gc?: () => void }).gc;
const settle = () => {
  gc?.();
  gc?.();
  return process.memoryUsage();
};
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

function randomV4(): string {
  const n = Math.floor(Math.random() * 2 ** 32);
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
/** Random addresses in 2a00::/12 (RIPE's densely allocated block), so most lookups find a place. */
function randomV6(): string {
  const group = () => Math.floor(Math.random() * 0x10000).toString(16);
  return `2a0${Math.floor(Math.random() * 16).toString(16)}:${Array.from({ length: 7 }, group).join(":")}`;
}

const rows: { measure: string; value: string }[] = [];
const db = await GeoDatabase.open();
for (const family of ["ipv4", "ipv6"] as const) {
  const before = settle();
  const started = performance.now();
  await db.load(family);
  const loadMs = performance.now() - started;
  const after = settle();
  rows.push({ measure: `${family} file: load time`, value: `${loadMs.toFixed(0)} ms` });
  rows.push({
    measure: `${family} file: memory kept (RSS / Buffer, delta)`,
    value: `${mb(after.rss - before.rss)} / ${mb(after.arrayBuffers - before.arrayBuffers)}`,
  });
}

async function perSecond(addresses: string[], lookup: (a: string) => Promise<unknown> | unknown) {
  let found = 0;
  const t = performance.now();
  for (const a of addresses) if (await lookup(a)) found++;
  const seconds = (performance.now() - t) / 1000;
  return `${Math.round(addresses.length / seconds).toLocaleString("en-US")} /s (${Math.round((100 * found) / addresses.length)}% placed)`;
}

const v4 = Array.from({ length: 300_000 }, randomV4);
const v6 = Array.from({ length: 100_000 }, randomV6);
await perSecond(v4.slice(0, 20_000), (a) => db.lookup(a)); // warm-up
rows.push({ measure: "database lookups, random IPv4", value: await perSecond(v4, (a) => db.lookup(a)) });
rows.push({ measure: "database lookups, random 2a00::/12", value: await perSecond(v6, (a) => db.lookup(a)) });

// An operator's table the size of a large network's: 10,000 /24s and 1,000 /32s.
const entries = [];
for (let i = 0; i < 10_000; i++)
  entries.push({ cidr: `10.${i >> 8}.${i & 255}.0/24`, lat: 50, lon: 8, city: "Frankfurt", country: "DE" });
for (let i = 0; i < 1_000; i++)
  entries.push({ cidr: `10.${i >> 8}.${i & 255}.1/32`, lat: -33, lon: 151, city: "Sydney", country: "AU" });
const table = new PlaceTable(entries);
const inTable = Array.from(
  { length: 300_000 },
  () =>
    `10.${Math.floor(Math.random() * 40)}.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 4)}`,
);
rows.push({
  measure: "table lookups (11,000 prefixes)",
  value: await perSecond(inTable, (a) => table.lookup(a)),
});
rows.push({ measure: "RSS at the end", value: mb(process.memoryUsage().rss) });

console.table(rows);
if (!gc) console.log("(run with node --expose-gc for settled memory figures)");
