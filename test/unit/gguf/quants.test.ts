import { describe, expect, it } from 'vitest';
import { f32BitsToF16 } from '../../../src/core/dtype/convert.js';
import { dequantizeQ4_0, dequantizeQ8_0, quantizeQ4_0, quantizeQ8_0 } from '../../../src/core/quant/ggml.js';
import { refF16Bits, refQ4_0, refQ8_0 } from './ref-quant.js';

/** Deterministic pseudo-random floats (xorshift32 → Box–Muller-free uniform in [-1, 1)). */
function rand(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

/** First differing block and bytes, for a readable failure. */
function firstDiff(a: Uint8Array, b: Uint8Array, blockBytes: number): string {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  let bad = 0, first = -1;
  for (let blk = 0; blk < a.length / blockBytes; blk++) {
    for (let i = 0; i < blockBytes; i++) if (a[blk * blockBytes + i] !== b[blk * blockBytes + i]) { bad++; if (first < 0) first = blk; break; }
  }
  return bad === 0 ? 'identical' : `${bad} bad blocks, first ${first}: ${[...a.subarray(first * blockBytes, (first + 1) * blockBytes)]} vs ${[...b.subarray(first * blockBytes, (first + 1) * blockBytes)]}`;
}

const bits = (x: number) => { const f = new Float32Array([x]); return new Uint32Array(f.buffer)[0]!; };

/**
 * Largest |dequantized − input| a Q8_0 block with max |x| = amax may show: the step is d = amax/127 and
 * rounding to nearest costs d/2; the fp16 scale adds a relative 2^-11 of the value on top.
 */
const Q8_0_BUDGET = (amax: number) => amax / 127 / 2 + amax * 2 ** -11;
/**
 * The same for Q4_0: the step is |d| = amax/8; codes are floor(x/d + 8.5) (round half up), so the error
 * is ≤ |d|/2, except the clamped top code (x = -max → 16 → 15), whose error is exactly |d|; plus the fp16
 * scale error.
 */
const Q4_0_BUDGET = (amax: number) => amax / 8 + amax * 2 ** -10;

/** 4000 blocks of `rand(seed, scale)` per case quantize to the same bytes as the independent reference. */
function expectBitExact(quantize: (x: Float32Array) => Uint8Array, ref: (x: Float32Array) => Uint8Array, blockBytes: number, cases: readonly (readonly [number, number])[]): void {
  for (const [seed, scale] of cases) {
    const x = rand(32 * 4000, seed, scale);
    expect(firstDiff(quantize(x), ref(x), blockBytes)).toBe('identical');
  }
}

/** Over 1000 blocks of 32 weights, every dequantized value lies within `budget(block amax)` of its input. */
function expectRoundTripWithin(quantize: (x: Float32Array) => Uint8Array, dequantize: (q: Uint8Array) => Float32Array, seed: number, budget: (amax: number) => number): void {
  const x = rand(32 * 1000, seed, 0.05);
  const y = dequantize(quantize(x));
  for (let b = 0; b < 1000; b++) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[b * 32 + j]!));
    const limit = budget(amax);
    for (let j = 0; j < 32; j++) expect(Math.abs(y[b * 32 + j]! - x[b * 32 + j]!)).toBeLessThanOrEqual(limit);
  }
}

describe('fp16 reference used by the quantizer tests', () => {
  it('agrees with hand-derived encodings', () => {
    expect(refF16Bits(1)).toBe(0x3c00);
    expect(refF16Bits(-2)).toBe(0xc000);
    expect(refF16Bits(65504)).toBe(0x7bff);
    expect(refF16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(refF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie → even (mantissa 0)
    expect(refF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (mantissa 2)
    expect(refF16Bits(-0)).toBe(0x8000);
  });
  it('matches the dtype module on many values (the quantizers use that one)', () => {
    for (const x of rand(20000, 9, 70000)) expect(f32BitsToF16(bits(x))).toBe(refF16Bits(x));
    for (const x of rand(20000, 10, 1e-4)) expect(f32BitsToF16(bits(x))).toBe(refF16Bits(x));
  });
});

describe('Q8_0', () => {
  it('encodes a hand-computed block: d = 1, halves round away from zero', () => {
    const x = new Float32Array(32);
    x.set([127, 2.5, -2.5, 0.5, -0.5, 1.5, -1.49]);
    const q = quantizeQ8_0(x);
    expect(q.length).toBe(34);
    expect([q[0], q[1]]).toEqual([0x00, 0x3c]); // fp16(1.0) little-endian
    expect([...new Int8Array(q.buffer, 2, 7)]).toEqual([127, 3, -3, 1, -1, 2, -1]);
    expect([...q.subarray(9)]).toEqual(new Array(25).fill(0));
  });
  it('encodes an all-zero block as d = 0 and zero codes', () => {
    expect([...quantizeQ8_0(new Float32Array(32))]).toEqual(new Array(34).fill(0));
  });
  it('is bit-exact with the independent reference over many blocks and scales', () => {
    expectBitExact(quantizeQ8_0, refQ8_0, 34, [[1, 0.02], [2, 1], [3, 3e4], [4, 1e-6], [5, 2e-9]]);
  });
  it('stays within half a step of the input after dequantization', () => {
    expectRoundTripWithin(quantizeQ8_0, dequantizeQ8_0, 6, Q8_0_BUDGET);
  });
  it('rejects lengths that are not whole blocks', () => {
    expect(() => quantizeQ8_0(new Float32Array(33))).toThrow(/multiple of 32/);
  });
});

describe('Q4_0', () => {
  it('encodes a hand-computed block: max = -8 gives d = 1', () => {
    const x = new Float32Array(32);
    x.set([-8, 7, 0, -0.5, 3.4, 8]); // 8 ties |−8| → the first (−8) stays the max
    x[16] = -3;
    const q = quantizeQ4_0(x);
    expect(q.length).toBe(18);
    expect([q[0], q[1]]).toEqual([0x00, 0x3c]);
    // codes = min(15, trunc(x + 8.5)): −8→0, 7→15, 0→8, −0.5→8, 3.4→11, 8→15 (clamped), −3→5 (high nibble of byte 0)
    expect(q[2]).toBe(0 | (5 << 4));
    expect([q[3], q[4], q[5], q[6], q[7]]).toEqual([15 | (8 << 4), 8 | (8 << 4), 8 | (8 << 4), 11 | (8 << 4), 15 | (8 << 4)]);
  });
  it('encodes an all-zero block as d = -0 (0x8000) and code 8 everywhere', () => {
    expect([...quantizeQ4_0(new Float32Array(32))]).toEqual([0x00, 0x80, ...new Array(16).fill(0x88)]);
  });
  it('is bit-exact with the independent reference over many blocks and scales', () => {
    expectBitExact(quantizeQ4_0, refQ4_0, 18, [[11, 0.02], [12, 1], [13, 3e4], [14, 1e-6], [15, 2e-9]]);
  });
  it('stays within one step of the input after dequantization', () => {
    expectRoundTripWithin(quantizeQ4_0, dequantizeQ4_0, 16, Q4_0_BUDGET);
  });
});
