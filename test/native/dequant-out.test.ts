import { describe, expect, it } from 'vitest';
import { dequantizeFp8Blocks, dequantizeInt4, dequantizeInt8 } from '../../src/core/ops/quant.js';
import { fp8e4m3Decode } from '../../src/core/quant/fp8.js';
import { nativeAvailable } from '../../src/native/index.js';

/** Deterministic pseudo-random integers in [0, m). */
function ints(n: number, m: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s % m));
}

// 260 rows × 136 columns: partial 128-blocks in both directions, a partial int4 word at the row end
const ROWS = 260;
const COLS = 136;
const G = 128;
const backends = nativeAvailable() ? (['ref', 'native'] as const) : (['ref'] as const);

describe.each(backends)('dequantizers (%s) equal the defining formula, into the given buffer', (backend) => {
  const k = (out: Float32Array) => ({ backend, threads: 2, out });
  it('fp8-block: fp32(decode(code) · scaleInv[block])', async () => {
    const codes = Uint8Array.from(ints(ROWS * COLS, 256, 1).map((c) => ((c & 0x7f) === 0x7f ? 0 : c))); // no NaN codes
    const nbc = Math.ceil(COLS / G);
    const scale = Float32Array.from(ints(Math.ceil(ROWS / G) * nbc, 1000, 2), (v) => (v + 1) / 4096);
    const out = new Float32Array(ROWS * COLS).fill(NaN);
    const got = await dequantizeFp8Blocks(codes, scale, ROWS, COLS, G, k(out));
    expect(got).toBe(out);
    for (let r = 0; r < ROWS; r++) {
      for (let c = 0; c < COLS; c++) {
        const want = Math.fround(fp8e4m3Decode(codes[r * COLS + c]!) * scale[Math.floor(r / G) * nbc + Math.floor(c / G)]!);
        if (!Object.is(out[r * COLS + c], want)) expect([r, c, out[r * COLS + c]]).toEqual([r, c, want]);
      }
    }
  });
  it('int8-channel: fp32(q · scale[row])', async () => {
    const q = Int8Array.from(ints(ROWS * COLS, 255, 3), (v) => v - 127);
    const scale = Float32Array.from(ints(ROWS, 1000, 4), (v) => (v + 1) / 8192);
    const out = new Float32Array(ROWS * COLS).fill(NaN);
    await dequantizeInt8(q, scale, ROWS, COLS, k(out));
    for (let i = 0; i < ROWS * COLS; i++) if (out[i] !== Math.fround(q[i]! * scale[Math.floor(i / COLS)]!)) expect([i, out[i]]).toEqual([i, Math.fround(q[i]! * scale[Math.floor(i / COLS)]!)]);
  });
  it('w4a16: fp32((nibble − 8) · scale[row, group]) with 8 nibbles per word, low first', async () => {
    const g = 8;
    const words = Math.ceil(COLS / 8);
    const nibs = ints(ROWS * COLS, 16, 5);
    const packed = new Int32Array(ROWS * words);
    for (let r = 0; r < ROWS; r++) for (let c = 0; c < COLS; c++) packed[r * words + (c >> 3)]! |= nibs[r * COLS + c]! << ((c & 7) * 4);
    const ng = Math.ceil(COLS / g);
    const scale = Float32Array.from(ints(ROWS * ng, 1000, 6), (v) => (v + 1) / 1024);
    const out = new Float32Array(ROWS * COLS).fill(NaN);
    await dequantizeInt4(packed, scale, ROWS, COLS, g, k(out));
    for (let r = 0; r < ROWS; r++) {
      for (let c = 0; c < COLS; c++) {
        const want = Math.fround((nibs[r * COLS + c]! - 8) * scale[r * ng + Math.floor(c / g)]!);
        if (out[r * COLS + c] !== want) expect([r, c, out[r * COLS + c]]).toEqual([r, c, want]);
      }
    }
  });
  it('refuses an output buffer of the wrong length', async () => {
    await expect(dequantizeInt8(new Int8Array(8), new Float32Array(2), 2, 4, k(new Float32Array(7)))).rejects.toThrow(/out/);
  });
});
