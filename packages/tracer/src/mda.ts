/**
 * Probability that `n` probes spread uniformly over `paths` next hops miss at least one of them
 * (inclusion-exclusion over the hops missed).
 */
function missProbability(paths: number, n: number): number {
  let p = 0;
  let binom = 1;
  for (let j = 1; j <= paths; j++) {
    binom = (binom * (paths - j + 1)) / j;
    p += (j % 2 === 1 ? 1 : -1) * binom * (1 - j / paths) ** n;
  }
  return p;
}

const cache = new Map<number, number>();

/**
 * Probes a hop needs, once `k` distinct next hops have been seen there, so that a (k+1)-th one
 * would have been missed with probability below 5% under uniform load balancing — the stopping
 * rule of the Multipath Detection Algorithm. Gives 6, 11, 16, 21, 27, 33, 38, 44, ... for
 * k = 1, 2, 3, ...
 */
export function mdaProbesNeeded(k: number): number {
  if (k <= 0) return 1;
  const known = cache.get(k);
  if (known !== undefined) return known;
  let n = k + 1;
  while (missProbability(k + 1, n) > 0.05) n++;
  cache.set(k, n);
  return n;
}
