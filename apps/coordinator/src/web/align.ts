import type { Hop } from "@lg/protocol";

/**
 * Lines several traces up hop by hop so that a router two PoPs both cross sits on one row, even
 * when one PoP reaches it a hop or two later. Each trace gets one shift (the first router it shares
 * with an already placed trace decides it); traces that share nothing keep their own TTLs.
 * Returns one row per position, with each trace's hop there (or undefined).
 */
export function alignByHop(hopLists: Hop[][]): (Hop | undefined)[][] {
  if (hopLists.length === 0) return [];
  const answered = (hops: Hop[]) => hops.filter((h) => h.recv > 0).length;
  const reference = hopLists.reduce(
    (best, hops, i) => (answered(hops) > answered(hopLists[best] ?? []) ? i : best),
    0,
  );
  const shift = new Map<number, number>([[reference, 0]]);
  const firstTtl = (hops: Hop[], host: string) => hops.find((h) => h.host === host)?.ttl;

  // Place traces one by one against those already placed, until none can be placed by a shared router.
  for (let progress = true; progress; ) {
    progress = false;
    hopLists.forEach((hops, i) => {
      if (shift.has(i)) return;
      for (const hop of hops) {
        if (!hop.host) continue;
        for (const [j, s] of shift) {
          const there = firstTtl(hopLists[j] ?? [], hop.host);
          if (there === undefined) continue;
          shift.set(i, there + s - hop.ttl);
          progress = true;
          return;
        }
      }
    });
  }

  const pos = (i: number, hop: Hop) => hop.ttl + (shift.get(i) ?? 0);
  const all = hopLists.flatMap((hops, i) => hops.map((h) => pos(i, h)));
  if (all.length === 0) return [];
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const rows: (Hop | undefined)[][] = [];
  for (let p = lo; p <= hi; p++) rows.push(hopLists.map((hops, i) => hops.find((h) => pos(i, h) === p)));
  return rows;
}
