import { describe, expect, it } from "vitest";
import { benjaminiHochberg, logGamma, poissonUpperTail, poissonUpperTailLog } from "../../regression/poisson.js";

/**
 * P(X ≥ k | λ) computed independently with mpmath at 30 digits (`gammainc(k, 0, λ, regularized=True)`),
 * rounded to 15 significant digits.
 */
const REFERENCE: Array<[lambda: number, k: number, p: number]> = [
  [10, 20, 0.00345434197585681],
  [1, 5, 0.00365984682734371],
  [0.1, 3, 0.000154653070264672],
  [2.5, 1, 0.917915001376101],
  [5, 40, 8.55002375684289e-23],
  [50, 50, 0.518808315472043],
  [100, 130, 0.00228209305431696],
  [1000, 1100, 0.000962630405866557],
  [1e5, 102_000, 1.46345078372492e-10],
  [1e6, 999_000, 0.841465751603325],
  [1e6, 1_001_000, 0.158776219137774],
  [1e6, 1_005_000, 2.93403404803164e-7],
  [1e-6, 1, 9.99999500000167e-7],
];

describe("exact one-tailed Poisson p-values", () => {
  it.each(REFERENCE)("Given λ=%s expected, When %s or more are seen, Then P(X ≥ k) matches the independent reference", (lambda, k, p) => {
    const got = poissonUpperTail(k, lambda);
    expect(Math.abs(got - p) / p).toBeLessThan(1e-8);
  });

  it("Given the textbook case λ=10, k=20, When tested, Then p ≈ 0.00345 (a rise an operator would call unlikely)", () => {
    expect(poissonUpperTail(20, 10)).toBeCloseTo(0.00345, 5);
  });

  it("Given a tail far below the smallest double, When asked in log space, Then the log p-value is still exact", () => {
    // mpmath: ln P(X ≥ 2,000,000 | λ = 1,000,000) = -386301.841241154
    expect(poissonUpperTail(2_000_000, 1e6)).toBe(0);
    expect(poissonUpperTailLog(2_000_000, 1e6)).toBeCloseTo(-386301.841241154, 3);
  });

  it("Given nothing observed, When tested, Then p = 1 (no evidence of a rise)", () => {
    expect(poissonUpperTail(0, 3.5)).toBe(1);
  });

  it("Given k and λ near 1e6, When p-values are computed, Then each takes milliseconds, not a sum over a million terms", () => {
    const started = performance.now();
    for (let i = 0; i < 20; i += 1) poissonUpperTail(1_000_000 + i * 100, 1e6);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it("Given bad arguments, When a p-value is asked for, Then the error names the argument and what was expected", () => {
    expect(() => poissonUpperTail(2.5, 1)).toThrow(/k must be a whole number ≥ 0, got 2.5/);
    expect(() => poissonUpperTail(3, 0)).toThrow(/λ must be a finite number > 0, got 0/);
    expect(() => poissonUpperTail(3, Number.NaN)).toThrow(/λ must be a finite number > 0/);
  });

  it("Given whole numbers, When ln Γ is computed, Then it equals ln((n − 1)!)", () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(11)).toBeCloseTo(Math.log(3_628_800), 10);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
  });
});

describe("Benjamini–Hochberg q-values", () => {
  // Benjamini & Hochberg (1995), section 4: 15 p-values from a clinical trial; at q = 0.05 the
  // procedure rejects the four smallest. Expected q-values from R's p.adjust(p, "BH") (scipy's
  // false_discovery_control gives the same).
  const P = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.324, 0.4262, 0.5719, 0.6528, 0.759, 1.0];
  const Q = [0.0015, 0.003, 0.0095, 0.035625, 0.0603, 0.06385714285714286, 0.06385714285714286, 0.0645, 0.0765, 0.486, 0.5811818181818181, 0.714875, 0.7532307692307693, 0.8132142857142857, 1.0];

  it("Given the 15 p-values of the original paper, When adjusted, Then the q-values match and four are rejected at 0.05", () => {
    const q = benjaminiHochberg(P);
    q.forEach((value, i) => expect(value).toBeCloseTo(Q[i] ?? NaN, 12));
    expect(q.filter((value) => value <= 0.05)).toHaveLength(4);
  });

  it("Given the same p-values shuffled, When adjusted, Then each keeps its q-value (order does not matter)", () => {
    const order = [14, 3, 0, 9, 7, 1, 12, 5, 2, 11, 4, 13, 6, 10, 8];
    const q = benjaminiHochberg(order.map((i) => P[i] ?? 1));
    order.forEach((i, j) => expect(q[j]).toBeCloseTo(Q[i] ?? NaN, 12));
  });

  it("Given a p-value outside [0, 1], When adjusted, Then the error names its position", () => {
    expect(() => benjaminiHochberg([0.1, 1.5])).toThrow(/p-value \[1\] must be within \[0, 1\], got 1.5/);
  });
});
