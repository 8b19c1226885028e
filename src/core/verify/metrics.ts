/**
 * The one implementation of the comparison metrics used across m1kit (docs/ecosystem.md §4, llama.cpp
 * `llama-perplexity --kl-divergence` conventions, and the Figure-3 train-vs-inference statistics).
 * All sums are float64. Definitions:
 * - KLD of a position: KL(P_ref ‖ P_test) = Σ_v p_ref(v) (ln p_ref(v) − ln p_test(v)), over the full vocabulary.
 * - same top-1: argmax of the two logit rows is the same token (lowest index on ties).
 * - Δp of a position with a known next token x: p_test(x) − p_ref(x); RMS Δp = √(mean Δp²).
 * - perplexity: exp(mean −ln p(x)) over positions with a next token; ratio = PPL(test)/PPL(ref).
 * - percentiles: linear interpolation between closest ranks (p·(n−1)), as numpy's default.
 * - Pearson r: Σ(x−x̄)(y−ȳ) / √(Σ(x−x̄)² Σ(y−ȳ)²); NaN when either side is constant.
 */

export interface Summary {
  count: number;
  mean: number;
  min: number;
  p01: number;
  p05: number;
  p10: number;
  median: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

/** Percentile q ∈ [0, 1] of an ascending-sorted array (linear interpolation). */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Mean, extremes and percentiles of a list of values. */
export function summarize(values: ArrayLike<number>): Summary {
  const s = Float64Array.from(values as ArrayLike<number>).sort();
  let sum = 0;
  for (const v of s) sum += v;
  const P = (q: number) => percentile(s, q);
  return {
    count: s.length,
    mean: s.length ? sum / s.length : NaN,
    min: s.length ? s[0]! : NaN,
    p01: P(0.01),
    p05: P(0.05),
    p10: P(0.1),
    median: P(0.5),
    p90: P(0.9),
    p95: P(0.95),
    p99: P(0.99),
    p999: P(0.999),
    max: s.length ? s[s.length - 1]! : NaN,
  };
}

/** Pearson correlation of two equally long lists. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  if (n !== y.length) throw new RangeError(`pearson: lengths differ (${n} vs ${y.length})`);
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const a = x[i]! - mx;
    const b = y[i]! - my;
    sxy += a * b;
    sxx += a * a;
    syy += b * b;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** ln softmax of `len` logits starting at `from` (float64). */
export function logSoftmax(z: ArrayLike<number>, from = 0, len = z.length - from): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < len; i++) max = Math.max(max, z[from + i]!);
  let sum = 0;
  for (let i = 0; i < len; i++) sum += Math.exp(z[from + i]! - max);
  const lse = max + Math.log(sum);
  const out = new Float64Array(len);
  for (let i = 0; i < len; i++) out[i] = z[from + i]! - lse;
  return out;
}

/** Index of the largest value (lowest index on ties). */
export function argmax(z: ArrayLike<number>, from = 0, len = z.length - from): number {
  let best = 0;
  for (let i = 1; i < len; i++) if (z[from + i]! > z[from + best]!) best = i;
  return best;
}

/** KL(P_ref ‖ P_test) between two log-probability rows. */
export function kld(logPRef: ArrayLike<number>, logPTest: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < logPRef.length; i++) {
    const p = Math.exp(logPRef[i]!);
    if (p > 0) s += p * (logPRef[i]! - logPTest[i]!);
  }
  return Math.max(0, s);
}

export interface LogitComparison {
  positions: number;
  kld: Summary;
  /** Fraction of positions whose top-1 token agrees (0–1). */
  sameTop1: number;
  /** Positions with a known next token (Δp and perplexity use these). */
  scoredPositions: number;
  deltaP: Summary;
  rmsDeltaP: number;
  pplRef: number;
  pplTest: number;
  pplRatio: number;
  /** mean(ln p_ref(x) − ln p_test(x)) = ln(PPL(test)/PPL(ref)). */
  meanLnPplRatio: number;
  /** Largest |z_test − z_ref| over all positions and vocabulary entries (raw logits). */
  maxAbsLogitDiff: number;
}

/** Streaming accumulator: add one (reference, test) logit row at a time; memory O(positions). */
export class LogitComparer {
  private readonly klds: number[] = [];
  private readonly dps: number[] = [];
  private readonly nllRefs: number[] = [];
  private readonly nllTests: number[] = [];
  private same = 0;
  private nllRef = 0;
  private nllTest = 0;
  private maxLogitDiff = 0;

  /** Add a position: logit rows of length `vocab` at `from`; `next` = the token that follows, if known. */
  add(ref: ArrayLike<number>, test: ArrayLike<number>, vocab: number, next?: number, refFrom = 0, testFrom = 0): void {
    const lr = logSoftmax(ref, refFrom, vocab);
    const lt = logSoftmax(test, testFrom, vocab);
    for (let i = 0; i < vocab; i++) {
      const dz = Math.abs(test[testFrom + i]! - ref[refFrom + i]!);
      if (dz > this.maxLogitDiff || Number.isNaN(dz)) this.maxLogitDiff = dz;
    }
    this.klds.push(kld(lr, lt));
    if (argmax(ref, refFrom, vocab) === argmax(test, testFrom, vocab)) this.same++;
    if (next !== undefined) {
      this.dps.push(Math.exp(lt[next]!) - Math.exp(lr[next]!));
      this.nllRefs.push(-lr[next]!);
      this.nllTests.push(-lt[next]!);
      this.nllRef -= lr[next]!;
      this.nllTest -= lt[next]!;
    }
  }

  /**
   * The per-position values behind result(): KLD of every position, and for the positions with a next
   * token Δp and both negative log-likelihoods (in the order added).
   */
  values(): { kld: number[]; deltaP: number[]; nllRef: number[]; nllTest: number[]; sameTop1: number } {
    return { kld: this.klds, deltaP: this.dps, nllRef: this.nllRefs, nllTest: this.nllTests, sameTop1: this.same };
  }

  result(): LogitComparison {
    const n = this.klds.length;
    const m = this.dps.length;
    let ss = 0;
    for (const d of this.dps) ss += d * d;
    const pplRef = Math.exp(this.nllRef / m);
    const pplTest = Math.exp(this.nllTest / m);
    return {
      positions: n,
      kld: summarize(this.klds),
      sameTop1: n ? this.same / n : NaN,
      scoredPositions: m,
      deltaP: summarize(this.dps),
      rmsDeltaP: m ? Math.sqrt(ss / m) : NaN,
      pplRef,
      pplTest,
      pplRatio: pplTest / pplRef,
      meanLnPplRatio: m ? (this.nllTest - this.nllRef) / m : NaN,
      maxAbsLogitDiff: this.maxLogitDiff,
    };
  }
}

/**
 * Compare two logit matrices [n, vocab] of the same token sequence; row t's next token is tokens[t+1].
 * @example compareLogits(refLogits, quantLogits, 200064, tokens).kld.mean
 */
export function compareLogits(ref: Float32Array, test: Float32Array, vocab: number, tokens?: number[]): LogitComparison {
  if (ref.length !== test.length || ref.length % vocab !== 0) throw new RangeError(`compareLogits: shapes differ (${ref.length} vs ${test.length} values, vocab ${vocab})`);
  const c = new LogitComparer();
  const n = ref.length / vocab;
  for (let t = 0; t < n; t++) c.add(ref, test, vocab, tokens?.[t + 1], t * vocab, t * vocab);
  return c.result();
}

export interface ProbabilityAgreement {
  tokens: number;
  pearson: number;
  meanAbsDelta: number;
  maxAbsDelta: number;
  /** Fraction of tokens with |Δp| > 0.1. */
  fracAbsDeltaOver01: number;
}

/** Agreement of two probability lists (Figure 3: inference vs training probability of the same tokens). */
export function probabilityAgreement(pa: ArrayLike<number>, pb: ArrayLike<number>): ProbabilityAgreement {
  let sum = 0;
  let max = 0;
  let over = 0;
  for (let i = 0; i < pa.length; i++) {
    const d = Math.abs(pa[i]! - pb[i]!);
    sum += d;
    max = Math.max(max, d);
    if (d > 0.1) over++;
  }
  const n = pa.length;
  return { tokens: n, pearson: pearson(pa, pb), meanAbsDelta: n ? sum / n : NaN, maxAbsDelta: max, fracAbsDeltaOver01: n ? over / n : NaN };
}

/** Elementwise error metrics between a reference and a test tensor. */
export function errorStats(ref: ArrayLike<number>, test: ArrayLike<number>): { maxAbs: number; rmse: number; relRmse: number; cosine: number } {
  let maxAbs = 0;
  let se = 0;
  let sr = 0;
  let st = 0;
  let dot = 0;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i]!;
    const t = test[i]!;
    const d = t - r;
    maxAbs = Math.max(maxAbs, Math.abs(d));
    se += d * d;
    sr += r * r;
    st += t * t;
    dot += r * t;
  }
  const n = ref.length;
  return { maxAbs, rmse: Math.sqrt(se / n), relRmse: Math.sqrt(se / (sr || 1)), cosine: dot / Math.sqrt(sr * st) };
}
