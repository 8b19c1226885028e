import { describe, expect, it } from 'vitest';
import { importanceStats, ratioHistogram } from '../../../src/core/verify/importance.js';
import { trainVsInfer } from '../../../src/core/verify/train-vs-infer.js';
import { memorySource, smallRawConfig } from '../model/helpers.js';

/** Shares and weight changes are sums of at most a few thousand float64 terms: agreement to ~1e-12. */
const SUM_DIGITS = 12;

/** numpy's default percentile (linear between closest ranks), written here from its definition. */
function npPercentile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const h = (s.length - 1) * q;
  const i = Math.floor(h);
  return i + 1 < s.length ? s[i]! + (h - i) * (s[i + 1]! - s[i]!) : s[i]!;
}

/** The shares straight from their definitions, one token at a time. */
function direct(pI: ArrayLike<number>, pT: ArrayLike<number>, eps: number, epsHigh: number, low: number, onlyLow: boolean) {
  let n = 0, out = 0, hi = 0, lo = 0, cap = 0, dw = 0;
  for (let i = 0; i < pI.length; i++) {
    if (onlyLow && !(pI[i]! < low)) continue;
    const r = pT[i]! / pI[i]!;
    const w = Math.min(r, 1 + epsHigh); // CISPO's IS weight with no lower bound
    n++;
    if (r < 1 - eps || r > 1 + eps) out++;
    if (r > 1 + eps) hi++;
    if (r < 1 - eps) lo++;
    if (w !== r) cap++;
    dw += Math.abs(w - r);
  }
  return { tokens: n, clipped: out / n, clippedAbove: hi / n, clippedBelow: lo / n, cispoCapped: cap / n, cispoMeanAbsWeightChange: dw / n };
}

describe('importance ratios p_train / p_infer', () => {
  it('hand-derived shares on five tokens', () => {
    // r = 1.1, 0.6, 3, 9, 0.5; low-p tokens (p_infer < 0.1): r = 0.6 and 9
    const s = importanceStats([0.5, 0.05, 0.25, 0.01, 0.4], [0.55, 0.03, 0.75, 0.09, 0.2], { clipEps: 0.2, cispoEpsHigh: 4 });
    expect(s.all.tokens).toBe(5);
    expect(s.all.clipped).toBeCloseTo(4 / 5, 15);
    expect(s.all.clippedAbove).toBeCloseTo(2 / 5, 15);
    expect(s.all.clippedBelow).toBeCloseTo(2 / 5, 15);
    expect(s.all.cispoCapped).toBeCloseTo(1 / 5, 15);
    expect(s.all.cispoMeanAbsWeightChange).toBeCloseTo((9 - 5) / 5, 12);
    expect(s.lowProbTokens).toMatchObject({ tokens: 2, clipped: 1, clippedAbove: 0.5, clippedBelow: 0.5, cispoCapped: 0.5 });
    expect(s.lowProbTokens.cispoMeanAbsWeightChange).toBeCloseTo(2, 12);
    expect(s.ratio.median).toBeCloseTo(1.1, 12);
    expect(s.ratio.max).toBeCloseTo(9, 12);
    expect(s.absDeviation.min).toBeCloseTo(0.1, 12);
  });

  it('identical probabilities: r = 1 everywhere, nothing clipped; a tighter ε clips more', () => {
    const p = [0.3, 0.02, 0.9];
    const s = importanceStats(p, p);
    expect(s.ratio.min).toBe(1);
    expect(s.ratio.max).toBe(1);
    expect(s.all).toMatchObject({ clipped: 0, cispoCapped: 0, cispoMeanAbsWeightChange: 0 });
    const pT = [0.33, 0.02, 0.9 * 1.05];
    expect(importanceStats(p, pT, { clipEps: 0.2 }).all.clipped).toBe(0);
    expect(importanceStats(p, pT, { clipEps: 0.04 }).all.clipped).toBeCloseTo(2 / 3, 15);
  });

  it('rejects out-of-range options', () => {
    expect(() => importanceStats([0.5], [0.5], { clipEps: 1 })).toThrow(RangeError);
    expect(() => importanceStats([0.5], [0.5], { cispoEpsHigh: 0 })).toThrow(RangeError);
    expect(() => importanceStats([0.5], [0.5], { lowProb: 0 })).toThrow(RangeError);
  });

  it('train-vs-infer ratio statistics match a direct float64 computation on its own p arrays', async () => {
    const src = memorySource(smallRawConfig({ vocab_size: 64 }), 21);
    const o = { clipEps: 0.05, cispoEpsHigh: 0.1, lowProb: 0.5 }; // tight bounds so that every share is non-zero here
    const r = await trainVsInfer({ checkpoint: src, promptLen: 12, genLen: 40, sequences: 2, seed: 4, logitScale: 10, precision: 'bf16', importance: o });
    for (const run of r.runs) {
      const im = run.importance;
      expect(im).toMatchObject(o);
      const ratios = Array.from(run.pInfer, (p, i) => run.pTrain[i]! / p);
      for (const [key, q] of [['p01', 0.01], ['p10', 0.1], ['median', 0.5], ['p90', 0.9], ['p99', 0.99]] as const) {
        expect(im.ratio[key]).toBeCloseTo(npPercentile(ratios, q), SUM_DIGITS);
      }
      expect(im.ratio.count).toBe(80);
      for (const [mine, ref] of [[im.all, direct(run.pInfer, run.pTrain, 0.05, 0.1, 0.5, false)], [im.lowProbTokens, direct(run.pInfer, run.pTrain, 0.05, 0.1, 0.5, true)]] as const) {
        expect(mine.tokens).toBe(ref.tokens);
        for (const k of ['clipped', 'clippedAbove', 'clippedBelow', 'cispoCapped', 'cispoMeanAbsWeightChange'] as const) expect(mine[k]).toBeCloseTo(ref[k], SUM_DIGITS);
        expect(mine.cispoCapped).toBeGreaterThan(0); // so that the capped branch is compared too
      }
      expect(im.lowProbTokens.tokens).toBeGreaterThan(0);
    }
    // the bf16 head must show some mismatch for this test to check anything
    expect(r.runs[0]!.importance.all.clipped).toBeGreaterThan(0);
  });

  it('histogram of log10 r counts every token once, outliers in the outer bins', () => {
    const h = ratioHistogram([0.5, 0.5, 0.5, 0.5], [0.5, 0.55, 500, 1e-9], 4, 1);
    expect(h.edges).toEqual([-1, -0.5, 0, 0.5, 1]);
    // log10 r = 0, 0.041, 3 (clamped high), −8.7 (clamped low)
    expect(h.counts).toEqual([1, 0, 2, 1]);
  });
});
