/** The sampler against hand-computed distributions (logits chosen so the probabilities are exact). */
import { describe, expect, it } from 'vitest';
import { sample } from '../../../src/core/generation/sampler.js';
import { topK } from '../../../src/core/generation/next-token.js';
import { mulberry32 } from '../../../src/core/generation/sampling.js';

const fixed = (u: number) => () => u;
/** Logits whose softmax is exactly [0.5, 0.3, 0.2]. */
const L = Float64Array.from([Math.log(0.5), Math.log(0.3), Math.log(0.2)]);
/** Sampling-frequency tolerance: 5 standard deviations of a binomial share over N draws (false alarm < 1e-6). */
const sigmas = 5;

describe('sample', () => {
  it('greedy: the most likely allowed id, the lower id on ties, with its T = 1 probability', () => {
    expect(sample(L, fixed(0.99), { temperature: 0 })).toEqual({ id: 0, p: expect.closeTo(0.5, 12) });
    expect(sample(Float64Array.from([1, 3, 3]), fixed(0), { temperature: 0 }).id).toBe(1);
    const masked = sample(L, fixed(0), { temperature: 0, allowed: (i) => i !== 0 });
    expect(masked.id).toBe(1);
    expect(masked.p).toBeCloseTo(0.3 / 0.5, 12);
  });

  it('top-p keeps the smallest most-likely set reaching p and draws from it renormalised', () => {
    // top-p 0.6: {0, 1} (mass 0.8); u · 0.8 against the cumulative 0.5, 0.8
    expect(sample(L, fixed(0.5), { topP: 0.6 }).id).toBe(0); // 0.40 < 0.5
    expect(sample(L, fixed(0.7), { topP: 0.6 }).id).toBe(1); // 0.56 ≥ 0.5
    expect(sample(L, fixed(0.999), { topP: 0.6 }).id).toBe(1); // never 2
    // top-p 0.5: {0} alone (its mass reaches 0.5)
    expect(sample(L, fixed(0.999), { topP: 0.5 })).toEqual({ id: 0, p: expect.closeTo(0.5, 12) });
    // no cut: u = 0.85 falls in (0.8, 1]
    expect(sample(L, fixed(0.85)).id).toBe(2);
  });

  it('temperature 2 on logits [0, ln 4] gives probabilities [1/3, 2/3]', () => {
    const r = Float64Array.from([0, Math.log(4)]);
    expect(sample(r, fixed(0.5), { temperature: 2 })).toEqual({ id: 1, p: expect.closeTo(2 / 3, 12) });
    expect(sample(r, fixed(0.3), { temperature: 2 }).id).toBe(0);
  });

  it('draw frequencies match the hand probabilities (seeded)', () => {
    const rand = mulberry32(11);
    const N = 20000;
    const counts = [0, 0, 0];
    for (let i = 0; i < N; i++) counts[sample(L, rand).id]!++;
    for (const [i, p] of [0.5, 0.3, 0.2].entries()) expect(Math.abs(counts[i]! / N - p)).toBeLessThan(sigmas * Math.sqrt((p * (1 - p)) / N));
  });

  it('refuses a bad temperature, top-p, or a mask that allows nothing', () => {
    expect(() => sample(L, fixed(0), { temperature: -1 })).toThrow(RangeError);
    expect(() => sample(L, fixed(0), { topP: 0 })).toThrow(RangeError);
    expect(() => sample(L, fixed(0), { allowed: () => false })).toThrow('no token is allowed');
  });
});

describe('topK', () => {
  it('equals a full sort (ties: lower id first) and softmax probabilities', () => {
    const rand = mulberry32(3);
    const row = Float32Array.from({ length: 1000 }, () => Math.round(rand() * 40) / 4); // many ties
    const order = [...row.keys()].sort((a, b) => row[b]! - row[a]! || a - b);
    let z = 0;
    const max = Math.max(...row);
    for (const x of row) z += Math.exp(x - max);
    const got = topK(row, 25);
    expect(got.map((t) => t.id)).toEqual(order.slice(0, 25));
    for (const t of got) expect(t.p).toBeCloseTo(Math.exp(t.logit - max) / z, 14);
    expect(topK(row, 5000)).toHaveLength(1000);
  });
});
