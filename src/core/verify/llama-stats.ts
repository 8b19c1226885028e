/**
 * The final statistics `llama-perplexity --kl-divergence` prints (docs/llama-files.md §2.2), computed from
 * m1kit's per-position values (float64): each mean with its standard error, the perplexities, their
 * ratio and difference with the error propagated through the correlation of the two log-likelihoods,
 * the KLD and Δp percentiles it lists, RMS Δp and the same-top-1 share.
 * Rules as llama.cpp applies them: a mean's error is √(var/(n−1)), 0 when n ≤ 10 or var ≤ 0; the
 * covariance is 0 when n < 10; percentiles interpolate linearly at q·(n−1) (metrics.ts `percentile`).
 */
import { percentile } from './metrics.js';

export interface ValueWithError {
  value: number;
  error: number;
}

/** llama.cpp's mean_and_uncertainty over a sum and a sum of squares. */
export function meanAndError(sum: number, sum2: number, n: number): ValueWithError {
  if (n < 1) return { value: 0, error: 0 };
  const m = sum / n;
  const v = sum2 / n - m * m;
  return { value: m, error: v > 0 && n > 10 ? Math.sqrt(v / (n - 1)) : 0 };
}

function sums(a: readonly number[], b?: readonly number[]): { s: number; s2: number; sab: number } {
  let s = 0, s2 = 0, sab = 0;
  for (let i = 0; i < a.length; i++) {
    s += a[i]!;
    s2 += a[i]! * a[i]!;
    if (b) sab += a[i]! * b[i]!;
  }
  return { s, s2, sab };
}

/** KLD percentiles in the order llama-perplexity prints them (maximum first). */
export interface KldDistribution {
  mean: number;
  meanError: number;
  max: number;
  p999: number;
  p99: number;
  p95: number;
  p90: number;
  median: number;
  p10: number;
  p05: number;
  p01: number;
  p001: number;
  min: number;
}

/** Δp percentiles as llama-perplexity prints them: the KLD ones plus the quartiles. */
export interface DeltaPDistribution extends KldDistribution {
  p75: number;
  p25: number;
}

export interface PerplexityStats {
  positions: number;
  ppl: ValueWithError;
  pplBase: ValueWithError;
  /** Correlation of ln PPL(Q) and ln PPL(base) (−1…1; NaN when an error is 0). */
  lnPplCorrelation: number;
  lnPplRatio: ValueWithError;
  pplRatio: ValueWithError;
  pplDiff: ValueWithError;
  kld: KldDistribution;
  deltaP: DeltaPDistribution;
  rmsDeltaP: ValueWithError;
  sameTop1: ValueWithError;
}

/** Perplexity exp(mean nll) with llama-perplexity's final error estimate (one model). */
export function perplexityOf(nll: readonly number[]): ValueWithError {
  const { s, s2 } = sums(nll);
  const m = meanAndError(s, s2, nll.length);
  const p = Math.exp(m.value);
  return { value: p, error: p * m.error };
}

const sorted = (v: readonly number[]): Float64Array => Float64Array.from(v).sort();
const P = (s: Float64Array, q: number): number => percentile(s, q);

/**
 * The statistics of a comparison: test NLLs (Q), base NLLs, KLD, Δp per scored position, and the count
 * of positions whose top-1 agrees.
 */
export function perplexityStats(v: { nllTest: readonly number[]; nllRef: readonly number[]; kld: readonly number[]; deltaP: readonly number[]; sameTop1: number }): PerplexityStats {
  const n = v.nllTest.length;
  const q = sums(v.nllTest, v.nllRef);
  const b = sums(v.nllRef);
  const lq = meanAndError(q.s, q.s2, n);
  const lb = meanAndError(b.s, b.s2, n);
  const cov = n < 10 ? 0 : (q.sab / n - (q.s / n) * (b.s / n)) / (n - 1);
  const ppl = Math.exp(lq.value);
  const pplBase = Math.exp(lb.value);
  const lnRatio = lq.value - lb.value;
  const lnRatioErr = Math.sqrt(Math.max(0, lq.error ** 2 + lb.error ** 2 - 2 * cov));
  const ratio = Math.exp(lnRatio);
  const pplErr = ppl * lq.error;
  const baseErr = pplBase * lb.error;
  const k = sums(v.kld);
  const km = meanAndError(k.s, k.s2, v.kld.length);
  const ks = sorted(v.kld);
  const d = sums(v.deltaP);
  const dm = meanAndError(d.s, d.s2, n);
  const ds = sorted(v.deltaP);
  let s4 = 0;
  for (const x of v.deltaP) s4 += x ** 4;
  const mse = meanAndError(d.s2, s4, n);
  const rms = Math.sqrt(mse.value);
  const top = n ? v.sameTop1 / n : NaN;
  return {
    positions: n,
    ppl: { value: ppl, error: pplErr },
    pplBase: { value: pplBase, error: baseErr },
    lnPplCorrelation: cov / (lq.error * lb.error),
    lnPplRatio: { value: lnRatio, error: lnRatioErr },
    pplRatio: { value: ratio, error: ratio * lnRatioErr },
    pplDiff: { value: ppl - pplBase, error: Math.sqrt(Math.max(0, pplErr ** 2 + baseErr ** 2 - 2 * ppl * pplBase * cov)) },
    kld: {
      mean: km.value, meanError: km.error, max: ks[ks.length - 1] ?? NaN, p999: P(ks, 0.999), p99: P(ks, 0.99), p95: P(ks, 0.95), p90: P(ks, 0.9),
      median: P(ks, 0.5), p10: P(ks, 0.1), p05: P(ks, 0.05), p01: P(ks, 0.01), p001: P(ks, 0.001), min: ks[0] ?? NaN,
    },
    deltaP: {
      mean: dm.value, meanError: dm.error, max: ds[ds.length - 1] ?? NaN, p999: P(ds, 0.999), p99: P(ds, 0.99), p95: P(ds, 0.95), p90: P(ds, 0.9),
      p75: P(ds, 0.75), median: P(ds, 0.5), p25: P(ds, 0.25), p10: P(ds, 0.1), p05: P(ds, 0.05), p01: P(ds, 0.01), p001: P(ds, 0.001), min: ds[0] ?? NaN,
    },
    rmsDeltaP: { value: rms, error: rms > 0 ? (0.5 / rms) * mse.error : 0 },
    sameTop1: { value: top, error: n > 1 ? Math.sqrt((top * (1 - top)) / (n - 1)) : 0 },
  };
}
