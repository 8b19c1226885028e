import { describe, expect, it } from 'vitest';
import { argmax, compareLogits, errorStats, kld, logSoftmax, pearson, percentile, probabilityAgreement, summarize } from '../../../src/core/verify/metrics.js';

describe('metrics (hand-derived values)', () => {
  it('pearson: perfect, anti and a worked example', () => {
    expect(pearson([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(pearson([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
    // x̄ = 2, ȳ = 3: Σdxdy = (−1)(−1) + 0·(−1) + 1·2 = 3; Σdx² = 2; Σdy² = 1 + 1 + 4 = 6 → 3/√12
    expect(pearson([1, 2, 3], [2, 2, 5])).toBeCloseTo(3 / Math.sqrt(12), 12);
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNaN();
  });
  it('percentile interpolates linearly between ranks', () => {
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(percentile([10, 20], 0.99)).toBeCloseTo(19.9, 12);
    const s = summarize([5, 1, 4, 2, 3]);
    expect(s).toMatchObject({ count: 5, mean: 3, min: 1, median: 3, max: 5 });
    expect(s.p99).toBeCloseTo(4.96, 12);
  });
  it('KL divergence of two known distributions', () => {
    // P = (1/2, 1/2), Q = (1/4, 3/4): KL = ½ ln 2 + ½ ln(2/3)
    const lp = logSoftmax([0, 0]);
    const lq = logSoftmax([0, Math.log(3)]);
    expect(kld(lp, lq)).toBeCloseTo(0.5 * Math.log(2) + 0.5 * Math.log(2 / 3), 12);
    expect(kld(lp, lp)).toBe(0);
    expect(argmax([1, 3, 3])).toBe(1);
  });
  it('compareLogits: KLD, top-1, Δp of the next token, perplexity ratio', () => {
    const V = 2;
    const ref = Float32Array.from([0, 0, 0, 5]);
    const test = Float32Array.from([0, Math.log(3), 5, 0]);
    const tokens = [7, 1]; // row 0 predicts token 1; row 1 has no next token
    const r = compareLogits(ref, test, V, tokens);
    expect(r.positions).toBe(2);
    expect(r.scoredPositions).toBe(1);
    expect(r.sameTop1).toBe(0); // row 0: ref tie → 0, test → 1; row 1: 1 vs 0
    expect(r.deltaP.mean).toBeCloseTo(0.75 - 0.5, 6);
    expect(r.rmsDeltaP).toBeCloseTo(0.25, 6);
    expect(r.pplRatio).toBeCloseTo(0.5 / 0.75, 6); // PPL = 1/p for one scored token
    expect(r.meanLnPplRatio).toBeCloseTo(Math.log(0.5 / 0.75), 6);
  });
  it('probabilityAgreement: |Δp| statistics and the > 0.1 fraction', () => {
    const a = probabilityAgreement([0.1, 0.5, 0.9, 0.3], [0.1, 0.7, 0.85, 0.3]);
    expect(a.tokens).toBe(4);
    expect(a.maxAbsDelta).toBeCloseTo(0.2, 12);
    expect(a.meanAbsDelta).toBeCloseTo(0.25 / 4, 12);
    expect(a.fracAbsDeltaOver01).toBe(0.25);
  });
  it('errorStats', () => {
    const e = errorStats([1, 0, 0], [1, 0, 1]);
    expect(e.maxAbs).toBe(1);
    expect(e.rmse).toBeCloseTo(Math.sqrt(1 / 3), 12);
    expect(e.cosine).toBeCloseTo(1 / Math.sqrt(2), 12);
  });
});

describe('max |logit diff|', () => {
  it('is the largest raw logit difference over every position and vocabulary entry', () => {
    const ref = Float32Array.from([0, 1, 2, 3, 4, 5]);
    const test = Float32Array.from([0, 1.5, 2, 3, 4, 4.75]);
    expect(compareLogits(ref, test, 3).maxAbsLogitDiff).toBe(0.5);
    expect(compareLogits(ref, ref, 3).maxAbsLogitDiff).toBe(0);
  });
});
