/**
 * Exact small-sample tests on probe counts. A hop's loss is a sample: k of n probes lost. These
 * say how likely such a sample is under a hypothesis, without normal approximations (which fail at
 * the 10-50 probes a trace sends).
 */

/** ln(n!) by summation, cached (n stays in the thousands). */
const logFactorials: number[] = [0];
function logFactorial(n: number): number {
  for (let i = logFactorials.length; i <= n; i++)
    logFactorials[i] = (logFactorials[i - 1] as number) + Math.log(i);
  return logFactorials[n] as number;
}

function logChoose(n: number, k: number): number {
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k);
}

/**
 * P(X ≥ k) for X ~ Binomial(n, p): the chance of losing at least k of n probes when each is lost
 * with probability p.
 *
 * @example
 * binomialAtLeast(2, 10, 0.01); // 0.0043: two of ten lost is unlikely from 1% noise
 */
export function binomialAtLeast(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  let sum = 0;
  for (let i = k; i <= n; i++) {
    sum += Math.exp(logChoose(n, i) + i * Math.log(p) + (n - i) * Math.log(1 - p));
  }
  return Math.min(1, sum);
}

/**
 * Fisher's exact test, one-sided: the chance that group A loses at least `aLost` of the
 * `aLost + bLost` lost probes when both groups lose at the same rate (hypergeometric upper tail).
 * Small: A loses significantly more than B.
 *
 * @example
 * fisherMoreLoss(5, 10, 0, 20); // 0.0024: 5 of 10 lost at a hop, none of 20 after it
 */
export function fisherMoreLoss(aLost: number, aSent: number, bLost: number, bSent: number): number {
  const lost = aLost + bLost;
  const total = aSent + bSent;
  if (lost === 0) return 1;
  const denominator = logChoose(total, lost);
  let sum = 0;
  for (let i = aLost; i <= Math.min(aSent, lost); i++) {
    if (lost - i > bSent) continue;
    sum += Math.exp(logChoose(aSent, i) + logChoose(bSent, lost - i) - denominator);
  }
  return Math.min(1, sum);
}
