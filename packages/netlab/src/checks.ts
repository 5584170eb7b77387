import type { MtrHop, MtrRun } from "./mtr";
import type { ExpectedHop, Scenario } from "./reference";

/**
 * Checks of a real mtr reading against a scenario's expectation. Each returns the list of
 * problems found (empty when the reading is as expected), so a test can show both that the
 * lab passes and that a broken lab fails the same check.
 */

function hopAt(run: MtrRun, ttl: number): MtrHop | undefined {
  return run.hops.find((h) => h.ttl === ttl);
}

function fmt(hop: ExpectedHop): string {
  return hop === null ? "silence" : Array.isArray(hop) ? `{${hop.join(", ")}}` : hop;
}

/**
 * Responders per TTL match `expected`: a silent hop shows "???", a single responder is the only
 * one, an ECMP set contains every responder seen (and all of them when `allBranches`).
 */
export function checkResponders(
  expected: ExpectedHop[],
  run: MtrRun,
  opts: { allBranches?: boolean; upToTtl?: number } = {},
): string[] {
  const problems: string[] = [];
  const last = opts.upToTtl ?? expected.length;
  for (let ttl = 1; ttl <= last; ttl++) {
    const want = expected[ttl - 1] ?? null;
    const hop = hopAt(run, ttl);
    const seen = hop?.responders ?? [];
    if (want === null) {
      if (seen.length > 0) problems.push(`hop ${ttl}: expected silence, got ${seen.join(", ")}`);
    } else if (typeof want === "string") {
      if (seen.length !== 1 || seen[0] !== want) {
        problems.push(`hop ${ttl}: expected ${want}, got ${seen.join(", ") || "silence"}`);
      }
    } else {
      const stray = seen.filter((s) => !want.includes(s));
      if (seen.length === 0 || stray.length > 0) {
        problems.push(
          `hop ${ttl}: expected responders from ${fmt(want)}, got ${seen.join(", ") || "silence"}`,
        );
      }
      if (opts.allBranches && want.some((w) => !seen.includes(w))) {
        problems.push(
          `hop ${ttl}: expected every responder of ${fmt(want)}, got ${seen.join(", ") || "silence"}`,
        );
      }
    }
  }
  return problems;
}

/** Probes lost at a hop, from its Loss% and Snt. */
function lost(hop: MtrHop): number {
  return Math.round((hop.lossPct * hop.sent) / 100);
}

/**
 * nth-mode drops take exactly one probe in `every` from a counter; the counter is shared with
 * probes beyond the destination in mtr's first cycle, so allow one probe either way.
 */
function lossWithinNth(hop: MtrHop, fraction: number): boolean {
  const expected = hop.sent * fraction;
  const n = lost(hop);
  return n >= Math.max(1, Math.floor(expected) - 1) && n <= Math.ceil(expected) + 1;
}

/** Every hop up to the destination answered every probe. */
export function checkNoLoss(run: MtrRun, upToTtl?: number): string[] {
  return run.hops
    .filter((h) => upToTtl === undefined || h.ttl <= upToTtl)
    .filter((h) => h.lossPct !== 0)
    .map((h) => `hop ${h.ttl} (${h.host ?? "???"}): expected no loss, got ${h.lossPct}%`);
}

/** Loss only at the throttling hop, about `throttleLoss` of its probes; none before or after. */
export function checkThrottle(s: Scenario, run: MtrRun): string[] {
  const ttl = s.throttleTtl ?? 0;
  const problems: string[] = [];
  for (const hop of run.hops.filter((h) => h.ttl <= s.expectedHops.length)) {
    if (hop.ttl === ttl) {
      if (!lossWithinNth(hop, s.throttleLoss ?? 0)) {
        problems.push(`hop ${ttl}: expected about ${(s.throttleLoss ?? 0) * 100}% loss, got ${hop.lossPct}%`);
      }
    } else if (hop.lossPct !== 0) {
      problems.push(`hop ${hop.ttl}: expected no loss (only hop ${ttl} throttles), got ${hop.lossPct}%`);
    }
  }
  if (!hopAt(run, ttl)) problems.push(`hop ${ttl} is missing`);
  return problems;
}

/** No loss before lossFromTtl; about `forwardLoss` at every hop from there to the destination. */
export function checkForwardLoss(s: Scenario, run: MtrRun): string[] {
  const from = s.lossFromTtl ?? 0;
  const problems: string[] = [];
  for (let ttl = 1; ttl <= s.expectedHops.length; ttl++) {
    const hop = hopAt(run, ttl);
    if (!hop) {
      problems.push(`hop ${ttl} is missing`);
    } else if (ttl < from && hop.lossPct !== 0) {
      problems.push(`hop ${ttl}: expected no loss before hop ${from}, got ${hop.lossPct}%`);
    } else if (ttl >= from && !lossWithinNth(hop, s.forwardLoss ?? 0)) {
      problems.push(`hop ${ttl}: expected about ${(s.forwardLoss ?? 0) * 100}% loss, got ${hop.lossPct}%`);
    }
  }
  return problems;
}

/** The routers answer, the destination is silent to ICMP echo (never appears in the run). */
export function checkFilteredIcmp(s: Scenario, run: MtrRun): string[] {
  const problems = checkResponders(s.expectedHops, run);
  if (run.hops.some((h) => h.responders.includes(s.target))) {
    problems.push(`the destination ${s.target} answered ICMP echo`);
  }
  return problems;
}

/** The routers alternate from loopTtls on up to maxTtl; the destination never answers. */
export function checkLoop(s: Scenario, run: MtrRun): string[] {
  const [first, second] = s.loopTtls ?? [0, 0];
  const problems = checkResponders(s.expectedHops, run, { upToTtl: first - 1 });
  const a = hopAt(run, first)?.host ?? null;
  const b = hopAt(run, second)?.host ?? null;
  if (!a || !b || a === b)
    problems.push(`hops ${first} and ${second}: expected two different routers, got ${a}, ${b}`);
  for (let ttl = first; ttl <= (s.maxTtl ?? first); ttl++) {
    const want = (ttl - first) % 2 === 0 ? a : b;
    const got = hopAt(run, ttl)?.host ?? null;
    if (got !== want) problems.push(`hop ${ttl}: expected ${want} (alternation), got ${got ?? "silence"}`);
  }
  if (run.hops.some((h) => h.responders.includes(s.target)))
    problems.push(`the loop target ${s.target} answered`);
  return problems;
}

/** Hops up to blackholeAfterTtl answer; every hop after it is silent; the target never answers. */
export function checkBlackhole(s: Scenario, run: MtrRun): string[] {
  const after = s.blackholeAfterTtl ?? 0;
  const problems = checkResponders(s.expectedHops, run, { upToTtl: after });
  const later = run.hops.filter((h) => h.ttl > after);
  if (later.length === 0) problems.push(`no hop after ${after} was probed`);
  for (const hop of later) {
    if (hop.responders.length > 0)
      problems.push(`hop ${hop.ttl}: expected silence, got ${hop.responders.join(", ")}`);
  }
  return problems;
}

/**
 * The average RTT at every hop from delayFromTtl on is at least delayMs (and less than
 * delayMs + 40 ms: room for a busy machine, not for a second wire); the hops before it stay
 * under half of it.
 */
export function checkLatencyStep(s: Scenario, run: MtrRun): string[] {
  const from = s.delayFromTtl ?? 0;
  const step = s.delayMs ?? 0;
  const problems: string[] = [];
  for (let ttl = 1; ttl <= s.expectedHops.length; ttl++) {
    const hop = hopAt(run, ttl);
    if (!hop) {
      problems.push(`hop ${ttl} is missing`);
    } else if (ttl < from && hop.avg >= step / 2) {
      problems.push(`hop ${ttl}: expected avg below ${step / 2} ms before the wire, got ${hop.avg} ms`);
    } else if (ttl >= from && (hop.avg < step || hop.avg >= step + 40)) {
      problems.push(
        `hop ${ttl}: expected avg in [${step}, ${step + 40}) ms behind the wire, got ${hop.avg} ms`,
      );
    }
  }
  return problems;
}

/** The ECMP hop shows both routers of the pair (UDP probes with varying ports). */
export function checkEcmp(s: Scenario, run: MtrRun): string[] {
  return checkResponders(s.expectedHops, run, { allBranches: true });
}

/**
 * Maps the responders of the forward and the reverse trace to routers (via `nodeOf`) and
 * checks each matches the scenario and that the two router sets differ.
 */
export function checkAsymmetry(
  s: Scenario,
  forward: MtrRun,
  reverse: MtrRun,
  nodeOf: (address: string) => string | undefined,
): string[] {
  const routers = (run: MtrRun, destination: string) =>
    run.hops
      .flatMap((h) => h.responders)
      .filter((a) => a !== destination)
      .map((a) => nodeOf(a) ?? a);
  const problems: string[] = [];
  const fwd = routers(forward, s.target);
  const rev = routers(reverse, s.reverse?.target ?? "");
  const same = (x: string[], y: string[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  if (!same(fwd, s.forwardRouters ?? [])) {
    problems.push(
      `forward path ${fwd.join(" > ")} differs from the expected ${(s.forwardRouters ?? []).join(" > ")}`,
    );
  }
  if (!same(rev, s.reverseRouters ?? [])) {
    problems.push(
      `return path ${rev.join(" > ")} differs from the expected ${(s.reverseRouters ?? []).join(" > ")}`,
    );
  }
  const fset = new Set(fwd);
  const rset = new Set(rev);
  if (fset.size === rset.size && [...fset].every((r) => rset.has(r))) {
    problems.push(`the paths are symmetric: both cross ${[...fset].sort().join(", ")}`);
  }
  return problems;
}

/**
 * Chance that a correct lab fails one loss-rate check (two-sided binomial tail). One in a
 * million: a suite of dozens of such checks still fails by chance about once in 10 000 runs.
 */
export const LOSS_CHECK_TAIL = 1e-6;

/**
 * The range of lost probes out of `n` that random loss with probability `p` stays inside except
 * with probability `tail` (half on each side), from the exact binomial distribution.
 */
export function binomialRange(n: number, p: number, tail = LOSS_CHECK_TAIL): [number, number] {
  if (p <= 0) return [0, 0];
  if (p >= 1) return [n, n];
  const pmf: number[] = [];
  let x = (1 - p) ** n;
  for (let k = 0; k <= n; k++) {
    pmf.push(x);
    x = (((x * (n - k)) / (k + 1)) * p) / (1 - p);
  }
  let lo = 0;
  let below = 0;
  while (lo < n && below + (pmf[lo] ?? 0) <= tail / 2) below += pmf[lo++] ?? 0;
  let hi = n;
  let above = 0;
  while (hi > 0 && above + (pmf[hi] ?? 0) <= tail / 2) above += pmf[hi--] ?? 0;
  return [lo, hi];
}

/** A hop's probe counts, as mtr (`MtrHop`) and the agents' results both carry them. */
export interface LossSample {
  ttl: number;
  lossPct: number;
  sent: number;
}

/**
 * Each hop's loss is what random loss of `expectedLoss[ttl - 1]` can give (binomialRange); a
 * hop expected clean loses at most `noise` probes (default none: the lab loses nothing by itself).
 */
export function checkLossRates(
  expectedLoss: number[],
  hops: LossSample[],
  opts: { noise?: number; tail?: number } = {},
): string[] {
  const problems: string[] = [];
  for (let ttl = 1; ttl <= expectedLoss.length; ttl++) {
    const p = expectedLoss[ttl - 1] ?? 0;
    const hop = hops.find((h) => h.ttl === ttl);
    if (!hop) {
      problems.push(`hop ${ttl} is missing`);
      continue;
    }
    const n = Math.round((hop.lossPct * hop.sent) / 100);
    const [lo, hi] = p > 0 ? binomialRange(hop.sent, p, opts.tail) : [0, opts.noise ?? 0];
    if (n < lo || n > hi) {
      problems.push(
        `hop ${ttl}: lost ${n} of ${hop.sent} probes, expected ${lo}-${hi} (${Math.round(p * 1000) / 10}% loss)`,
      );
    }
  }
  return problems;
}
