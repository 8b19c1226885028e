/**
 * TypeScript reference quantizers against hand-derived values (no native code involved).
 */
import { describe, expect, it } from 'vitest';
import { fp8e4m3Decode, fp8e4m3Encode, fp8e4m3EncodeBits, quantizeFp8Band, dequantizeFp8Band } from '../../src/core/quant/fp8.js';
import { quantizeInt8Rows, dequantizeInt8Rows } from '../../src/core/quant/int8.js';
import { quantizeInt4Rows, dequantizeInt4Rows } from '../../src/core/quant/int4.js';

describe('fp8 e4m3fn encode/decode', () => {
  it('round-trips all 256 codes (NaN codes included)', () => {
    for (let c = 0; c < 256; c++) {
      if ((c & 0x7f) === 0x7f) continue; // NaN: a JS number cannot carry the sign; checked on fp32 bits below
      expect(fp8e4m3Encode(fp8e4m3Decode(c))).toBe(c);
    }
    expect(fp8e4m3EncodeBits(0x7fc00000)).toBe(0x7f);
    expect(fp8e4m3EncodeBits(0xffc00000)).toBe(0xff);
  });

  it('decodes hand-derived codes', () => {
    expect(fp8e4m3Decode(0x38)).toBe(1);
    expect(fp8e4m3Decode(0x7e)).toBe(448);
    expect(fp8e4m3Decode(0xfe)).toBe(-448);
    expect(fp8e4m3Decode(0x01)).toBe(2 ** -9);
    expect(fp8e4m3Decode(0x08)).toBe(2 ** -6);
    expect(fp8e4m3Decode(0x77)).toBe(240);
    expect(Number.isNaN(fp8e4m3Decode(0x7f))).toBe(true);
    expect(Number.isNaN(fp8e4m3Decode(0xff))).toBe(true);
    expect(Object.is(fp8e4m3Decode(0x80), -0)).toBe(true);
  });

  it('saturates, keeps NaN sign, rounds ties to even', () => {
    expect(fp8e4m3Encode(448)).toBe(0x7e);
    expect(fp8e4m3Encode(464)).toBe(0x7e);
    expect(fp8e4m3Encode(1e30)).toBe(0x7e);
    expect(fp8e4m3Encode(Infinity)).toBe(0x7e);
    expect(fp8e4m3Encode(-Infinity)).toBe(0xfe);
    expect(fp8e4m3Encode(NaN)).toBe(0x7f);
    expect(fp8e4m3Encode(-0)).toBe(0x80);
    expect(fp8e4m3Encode(1.0625)).toBe(0x38); // tie 1 / 1.125 → even mantissa 0
    expect(fp8e4m3Encode(1.1875)).toBe(0x3a); // tie 1.125 / 1.25 → even mantissa 2
    expect(fp8e4m3Encode(2 ** -10)).toBe(0x00); // tie 0 / 2^-9 → 0
    expect(fp8e4m3Encode(3 * 2 ** -10)).toBe(0x02); // tie 2^-9 / 2^-8 → 2·2^-9
    expect(fp8e4m3Encode(2 ** -20)).toBe(0x00);
  });

  it('rounds every midpoint between adjacent finite codes to the even code, neighbours to the nearest', () => {
    for (let c = 0; c < 0x7e; c++) {
      const lo = fp8e4m3Decode(c);
      const hi = fp8e4m3Decode(c + 1);
      const mid = (lo + hi) / 2;
      expect(fp8e4m3Encode(mid)).toBe(c % 2 === 0 ? c : c + 1);
      expect(fp8e4m3Encode(mid * (1 - 2 ** -20))).toBe(c);
      expect(fp8e4m3Encode(mid * (1 + 2 ** -20))).toBe(c + 1);
      expect(fp8e4m3Encode(-mid)).toBe((c % 2 === 0 ? c : c + 1) | 0x80);
    }
  });
});

describe('block fp8 band', () => {
  it('uses scaleInv = amax/448 per block and 1 for an all-zero block', () => {
    // block 2, 2 rows × 5 cols → 3 blocks: [896 …], [0 …], [last column only]
    const w = Float32Array.from([896, -2, 0, 0, 7, -448, 1, 0, 0, NaN]);
    const { codes, scaleInv } = quantizeFp8Band(w, 2, 5, 2);
    expect(Array.from(scaleInv)).toEqual([2, 1, 7 / 448 === Math.fround(7 / 448) ? 7 / 448 : Math.fround(7 / 448)]);
    expect(codes[0]).toBe(0x7e); // 896/2 = 448
    expect(codes[1]).toBe(fp8e4m3Encode(-1));
    expect(codes[5]).toBe(fp8e4m3Encode(-224));
    expect(codes[2]).toBe(0);
    expect(codes[4]).toBe(0x7e); // 7 / (7/448) → 448 (saturating if rounding pushes above)
    expect(codes[9]).toBe(0x7f);
    const back = dequantizeFp8Band(codes, scaleInv, 2, 5, 2);
    expect(back[0]).toBe(896);
    expect(back[5]).toBe(-448);
  });

  it('round-trip error is at most half an e4m3 step (2^-4 relative) of the block scale', () => {
    const rows = 7, cols = 300;
    const w = new Float32Array(rows * cols).map((_, i) => Math.sin(i * 1.7) * (1 + (i % 13)));
    const { codes, scaleInv } = quantizeFp8Band(w, rows, cols);
    const back = dequantizeFp8Band(codes, scaleInv, rows, cols);
    for (let i = 0; i < w.length; i++) {
      const s = scaleInv[Math.floor((i % cols) / 128)]!;
      // |error| ≤ half a step: 2^-4·|x| for normals, 2^-10·s in the subnormal range (+ fp32 rounding)
      expect(Math.abs(back[i]! - w[i]!)).toBeLessThanOrEqual(Math.abs(w[i]!) * 2 ** -4 + 2 ** -10 * s + 1e-6 * Math.abs(w[i]!));
    }
  });
});

describe('int8 per-row', () => {
  it('uses scale = amax/127.5, ties to even, clamps to [-128, 127]', () => {
    const w = Float32Array.from([127.5, -127.5, 0.5, 1.5, 2.5, 0, 0, 0, 0, 0]);
    const { q, scale } = quantizeInt8Rows(w, 2, 5);
    expect(Array.from(scale)).toEqual([1, 2 ** -23]);
    expect(Array.from(q)).toEqual([127, -128, 0, 2, 2, 0, 0, 0, 0, 0]);
    expect(Array.from(dequantizeInt8Rows(q, scale, 2, 5)).slice(0, 5)).toEqual([127, -128, 0, 2, 2]);
  });

  it('maps NaN to 0 and ignores non-finite values for the scale', () => {
    const { q, scale } = quantizeInt8Rows(Float32Array.from([NaN, Infinity, -Infinity, 12.75]), 1, 4);
    expect(scale[0]).toBe(Math.fround(12.75 / 127.5));
    expect(Array.from(q)).toEqual([0, 127, -128, 127]);
  });

  it('rounds the scale to bf16 when asked', () => {
    const { scale } = quantizeInt8Rows(Float32Array.from([1]), 1, 1, { scaleDtype: 'BF16' });
    expect(scale[0]).toBe(129 * 2 ** -14); // 1/127.5 = 128.502·2^-14 → bf16 129·2^-14
  });
});

describe('int4 group-wise packed', () => {
  it('packs nibble q+8 of column 8j+i into bits 4i of word j', () => {
    // one row, 9 columns, amax 7.5 → scale 1; -7.5 ties to -8 (even); 7.5 ties to 8 → clamps to 7
    const w = Float32Array.from([-7.5, -7, -6, -5, -4, -3, -2, 7.5, 1]);
    const { packed, scale } = quantizeInt4Rows(w, 1, 9, 128);
    expect(Array.from(scale)).toEqual([1]);
    // nibbles: 0,1,2,3,4,5,6,15 → 0xF6543210 ; word 1: nibble 9 in bits 0..3
    expect(packed[0]! >>> 0).toBe(0xf6543210);
    expect(packed[1]).toBe(9);
    expect(Array.from(dequantizeInt4Rows(packed, scale, 1, 9, 128))).toEqual([-8, -7, -6, -5, -4, -3, -2, 7, 1]);
  });

  it('uses one scale per group, shorter last group', () => {
    const w = Float32Array.from([15, 1, 2, 0.75, 3.75, 0]); // group 4: [15,1,2,0.75] and [3.75,0]
    const { packed, scale } = quantizeInt4Rows(w, 1, 6, 4);
    expect(Array.from(scale)).toEqual([2, 0.5]);
    const back = dequantizeInt4Rows(packed, scale, 1, 6, 4);
    expect(Array.from(back)).toEqual([14, 0, 2, 0, 3.5, 0]); // 7.5→8→7 ; 0.5→0 ; 1 ; 0.375→0 ; 7.5→7 ; 0
  });
});
