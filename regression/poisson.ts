/**
 * Exact Poisson tail probabilities and Benjamini–Hochberg q-values: the statistics of the
 * regression watch. Pure numerics, no I/O.
 */

/** Lanczos coefficients (g = 7, n = 9): about 15 significant digits over the positive reals. */
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`logGamma: expected x > 0, got ${x}`);
  // Reflection keeps the approximation on x ≥ 0.5, where it is accurate.
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0] ?? 1;
  for (let i = 1; i < LANCZOS.length; i += 1) sum += (LANCZOS[i] ?? 0) / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

const EPSILON = 1e-15;
const TINY = 1e-300;

/** Enough iterations for the series and the continued fraction: both converge in O(√max(a, x)) steps. */
function iterationLimit(a: number, x: number): number {
  return 200 + Math.ceil(50 * Math.sqrt(Math.max(a, x)));
}

/**
 * ln of the regularized lower incomplete gamma P(a, x) by its power series, for x < a + 1, where
 * the series converges fast and P is the small side (no cancellation).
 */
function logLowerSeries(a: number, x: number): number {
  let term = 1 / a;
  let sum = term;
  const limit = iterationLimit(a, x);
  for (let n = 1; n <= limit; n += 1) {
    term *= x / (a + n);
    sum += term;
    if (term < sum * EPSILON) return -x + a * Math.log(x) - logGamma(a) + Math.log(sum);
  }
  throw new RangeError(`incomplete gamma series did not converge for a=${a}, x=${x}`);
}

/**
 * ln of the regularized upper incomplete gamma Q(a, x) by its continued fraction (modified
 * Lentz), for x ≥ a + 1, where Q is the small side.
 */
function logUpperFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  const limit = iterationLimit(a, x);
  for (let i = 1; i <= limit; i += 1) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) return -x + a * Math.log(x) - logGamma(a) + Math.log(h);
  }
  throw new RangeError(`incomplete gamma continued fraction did not converge for a=${a}, x=${x}`);
}

function checkArguments(k: number, lambda: number): void {
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`Poisson tail: k must be a whole number ≥ 0, got ${k}`);
  if (!Number.isFinite(lambda) || lambda <= 0) throw new RangeError(`Poisson tail: λ must be a finite number > 0, got ${lambda}`);
}

/**
 * ln P(X ≥ k) for X ~ Poisson(λ): the one-tailed p-value of observing k or more when λ was
 * expected. P(X ≥ k) is the regularized lower incomplete gamma P(k, λ); it is evaluated in log
 * space (series below k + 1, continued fraction for the complement above), so it stays exact to
 * about 1e-12 relative for λ and k up to 1e6 and far below the smallest double.
 */
export function poissonUpperTailLog(k: number, lambda: number): number {
  checkArguments(k, lambda);
  if (k === 0) return 0;
  if (lambda < k + 1) return logLowerSeries(k, lambda);
  return Math.log1p(-Math.exp(logUpperFraction(k, lambda)));
}

/** P(X ≥ k) for X ~ Poisson(λ), the one-tailed p-value (see {@link poissonUpperTailLog}). */
export function poissonUpperTail(k: number, lambda: number): number {
  return Math.exp(poissonUpperTailLog(k, lambda));
}

/**
 * Benjamini–Hochberg adjusted p-values (q-values), in the order given: q(i) = min over j with
 * p(j) ≥ p(i) of p(j)·m / rank(j), capped at 1. Rejecting every q ≤ α keeps the expected share
 * of false discoveries at or below α for independent or positively dependent tests.
 */
export function benjaminiHochberg(pValues: readonly number[]): number[] {
  const m = pValues.length;
  for (const [i, p] of pValues.entries()) {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`benjaminiHochberg: p-value [${i}] must be within [0, 1], got ${p}`);
  }
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p || a.i - b.i);
  const q = new Array<number>(m).fill(1);
  let running = 1;
  for (let rank = m; rank >= 1; rank -= 1) {
    const entry = order[rank - 1];
    if (entry === undefined) continue;
    running = Math.min(running, (entry.p * m) / rank);
    q[entry.i] = running;
  }
  return q;
}
