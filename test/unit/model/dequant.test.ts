import { describe, expect, it } from 'vitest';
import { decodeStoredRows, resolveStored } from '../../../src/core/formats/decode.js';
import type { StoredLayout } from '../../../src/core/formats/index.js';
import { WeightStore } from '../../../src/core/model/weights.js';
import { gemm } from '../../../src/core/model/math.js';
import { forward } from '../../../src/core/model/forward.js';
import type { DType } from '../../../src/core/dtype/dtypes.js';
import type { WeightSource } from '../../../src/core/model/source.js';
import { dequantizeFp8Band, quantizeFp8Band } from '../../../src/core/quant/fp8.js';
import { dequantizeInt8Rows, quantizeInt8Rows } from '../../../src/core/quant/int8.js';
import { dequantizeInt4Rows, quantizeInt4Rows } from '../../../src/core/quant/int4.js';
import { parseConfig } from '../../../src/core/checkpoint/config.js';
import { gaussian, memorySource, prng, randomTokens, smallRawConfig, type MemorySource } from './helpers.js';

type Entry = { dtype: DType; shape: number[]; bytes: Uint8Array };
const f32Bytes = (a: Float32Array) => new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));

const resolveLayout = (src: WeightSource, name: string) => resolveStored(src, name, src.config.raw.quantization_config);
/** Decoded rows through the reference decoders (no addon). */
const readRows = (src: WeightSource, lay: StoredLayout, r0: number, n: number) => decodeStoredRows(src, lay, r0, n, { backend: 'ref' });

function source(entries: Record<string, Entry>, config = memorySource(smallRawConfig(), 1).config): WeightSource {
  return {
    config,
    has: (n) => n in entries,
    info: (n) => entries[n]!,
    read: async (n, o = 0, l) => entries[n]!.bytes.subarray(o, l === undefined ? undefined : o + l),
  };
}

describe('weight formats (one dequantization point)', () => {
  it('fp8 block: code × scale_inv of the 128×128 block (hand-built codes)', async () => {
    // 130×3 weight: rows 0–127 in block row 0, rows 128–129 in block row 1; codes 0x38 = 1.0, 0x40 = 2.0, 0xb8 = −1.0
    const rows = 130;
    const cols = 3;
    const codes = new Uint8Array(rows * cols).fill(0x38);
    codes[1] = 0x40;
    codes[129 * cols + 2] = 0xb8;
    const src = source({
      'w.weight': { dtype: 'F8_E4M3', shape: [rows, cols], bytes: codes },
      'w.weight_scale_inv': { dtype: 'F32', shape: [2, 1], bytes: f32Bytes(Float32Array.from([0.5, 3])) },
    });
    const lay = await resolveLayout(src, 'w.weight');
    expect(lay.format).toBe('fp8-block');
    const w = await readRows(src, lay, 127, 3);
    expect(Array.from(w)).toEqual([0.5, 0.5, 0.5, 3, 3, 3, 3, 3, -3]);
    const top = await readRows(src, lay, 0, 1);
    expect(Array.from(top)).toEqual([0.5, 1, 0.5]);
  });

  it('int8 channel and int4 packed groups (hand-built)', async () => {
    const q = Int8Array.from([1, -2, 3, 127, -128, 0]);
    // int4: row 0 codes q = [-8, 7, 0, 1, 2, 3, 4, 5, -1] (9 cols → 2 words), group 8 → 2 groups
    const qs = [-8, 7, 0, 1, 2, 3, 4, 5, -1];
    const words = new Uint32Array(2);
    qs.forEach((v, c) => (words[c >> 3]! |= (v + 8) << ((c & 7) * 4)));
    const config = parseConfig(smallRawConfig({ quantization_config: { quant_method: 'compressed-tensors', config_groups: { group_0: { weights: { num_bits: 4, group_size: 8 } } } } }));
    const src = source({
      'a.weight': { dtype: 'I8', shape: [2, 3], bytes: new Uint8Array(q.buffer) },
      'a.weight_scale': { dtype: 'F32', shape: [2, 1], bytes: f32Bytes(Float32Array.from([0.5, 0.25])) },
      'b.weight_packed': { dtype: 'I32', shape: [1, 2], bytes: new Uint8Array(words.buffer) },
      'b.weight_scale': { dtype: 'F32', shape: [1, 2], bytes: f32Bytes(Float32Array.from([2, 10])) },
      'b.weight_shape': { dtype: 'I32', shape: [2], bytes: new Uint8Array(Int32Array.from([1, 9]).buffer) },
    }, config);
    const la = await resolveLayout(src, 'a.weight');
    expect(Array.from(await readRows(src, la, 0, 2))).toEqual([0.5, -1, 1.5, 31.75, -32, 0]);
    const lb = await resolveLayout(src, 'b.weight');
    expect([lb.format, lb.rows, lb.cols, lb.group]).toEqual(['w4a16', 1, 9, 8]);
    expect(Array.from(await readRows(src, lb, 0, 1))).toEqual([-16, 14, 0, 2, 4, 6, 8, 10, -10]);
  });

  it('rejects zero-point schemes and unknown dtypes with the tensor name', async () => {
    const src = source({
      'z.weight': { dtype: 'I8', shape: [1, 1], bytes: new Uint8Array(1) },
      'z.weight_scale': { dtype: 'F32', shape: [1, 1], bytes: new Uint8Array(4) },
      'z.weight_zero_point': { dtype: 'I8', shape: [1, 1], bytes: new Uint8Array(1) },
      'u.weight': { dtype: 'U8', shape: [1, 1], bytes: new Uint8Array(1) },
    });
    await expect(resolveLayout(src, 'z.weight')).rejects.toThrow(/z\.weight_zero_point/);
    await expect(resolveLayout(src, 'u.weight')).rejects.toThrow(/u\.weight: unsupported weight dtype U8/);
  });

  it('a quantized checkpoint computes exactly what its dequantized weights compute', async () => {
    // intermediate 20 is not a multiple of the int4 group (8): the declared group size must be used
    const base = memorySource(smallRawConfig({ intermediate_size: 20, quantization_config: { quant_method: 'compressed-tensors', config_groups: { g: { weights: { num_bits: 4, group_size: 8 } } } } }), 31);
    const quantEntries: Record<string, Entry> = {};
    const deqEntries: Record<string, Entry> = {};
    let i = 0;
    for (const [name, vals] of base.values) {
      const shape = base.shapes.get(name)!;
      const f = Float32Array.from(vals);
      const isMatrix = shape.length === 2 && !name.includes('embed') && !name.includes('lm_head') && !name.endsWith('gate.weight');
      if (!isMatrix) {
        quantEntries[name] = deqEntries[name] = { dtype: 'F32', shape, bytes: f32Bytes(f) };
        continue;
      }
      const [r, c] = shape as [number, number];
      const stem = name.slice(0, -'.weight'.length);
      const kind = i++ % 3;
      let deq: Float32Array;
      if (kind === 0) {
        const codes = new Uint8Array(r * c);
        const nb = Math.ceil(c / 128);
        const scale = new Float32Array(Math.ceil(r / 128) * nb);
        for (let b = 0; b * 128 < r; b++) {
          const n = Math.min(128, r - b * 128);
          const q = quantizeFp8Band(f.subarray(b * 128 * c, (b * 128 + n) * c), n, c);
          codes.set(q.codes, b * 128 * c);
          scale.set(q.scaleInv, b * nb);
        }
        quantEntries[name] = { dtype: 'F8_E4M3', shape, bytes: codes };
        quantEntries[`${stem}.weight_scale_inv`] = { dtype: 'F32', shape: [Math.ceil(r / 128), nb], bytes: f32Bytes(scale) };
      } else if (kind === 1) {
        const q = quantizeInt8Rows(f, r, c);
        quantEntries[name] = { dtype: 'I8', shape, bytes: new Uint8Array(q.q.buffer) };
        quantEntries[`${stem}.weight_scale`] = { dtype: 'F32', shape: [r, 1], bytes: f32Bytes(q.scale) };
      } else {
        const q = quantizeInt4Rows(f, r, c, 8);
        quantEntries[`${stem}.weight_packed`] = { dtype: 'I32', shape: [r, Math.ceil(c / 8)], bytes: new Uint8Array(q.packed.buffer) };
        quantEntries[`${stem}.weight_scale`] = { dtype: 'F32', shape: [r, Math.ceil(c / 8)], bytes: f32Bytes(q.scale) };
        quantEntries[`${stem}.weight_shape`] = { dtype: 'I32', shape: [2], bytes: new Uint8Array(Int32Array.from([r, c]).buffer) };
      }
      const qsrc = source(quantEntries, base.config);
      const lay = await resolveLayout(qsrc, name);
      deq = await readRows(qsrc, lay, 0, r);
      // the format owners' reference dequantizers agree bit for bit
      if (kind === 0) {
        for (let b = 0; b * 128 < r; b++) {
          const n = Math.min(128, r - b * 128);
          const q = quantizeFp8Band(f.subarray(b * 128 * c, (b * 128 + n) * c), n, c);
          expect(Array.from(deq.subarray(b * 128 * c, (b * 128 + n) * c))).toEqual(Array.from(dequantizeFp8Band(q.codes, q.scaleInv, n, c)));
        }
      } else if (kind === 1) {
        const q = quantizeInt8Rows(f, r, c);
        expect(Array.from(deq)).toEqual(Array.from(dequantizeInt8Rows(q.q, q.scale, r, c)));
      } else {
        const q = quantizeInt4Rows(f, r, c, 8);
        expect(Array.from(deq)).toEqual(Array.from(dequantizeInt4Rows(q.packed, q.scale, r, c, 8)));
      }
      deqEntries[name] = { dtype: 'F32', shape, bytes: f32Bytes(deq) };
    }
    const tokens = randomTokens(9, 40, 2);
    const a = await forward({ checkpoint: source(quantEntries, base.config), tokens });
    const b = await forward({ checkpoint: source(deqEntries, base.config), tokens });
    expect(Array.from(a)).toEqual(Array.from(b));
    // and the quantized model is close to, but not equal to, the original
    const o = await forward({ checkpoint: base as MemorySource, tokens });
    expect(Array.from(a)).not.toEqual(Array.from(o));
  });
});

describe('WeightStore streaming', () => {
  it('streams an uncached weight in row chunks with the same result as the whole matrix', async () => {
    const r = prng(4);
    const rows = 37;
    const cols = 11;
    const w = Float32Array.from({ length: rows * cols }, () => gaussian(r));
    const x = Float32Array.from({ length: 3 * cols }, () => gaussian(r));
    const src = source({ 'm.weight': { dtype: 'F32', shape: [rows, cols], bytes: f32Bytes(w) } });
    const store = new WeightStore(src, { cacheBytes: 0, chunkBytes: 5 * cols * 4, kernels: 'ts' });
    const y = await store.linear('m.weight', x, 3);
    expect(Array.from(y)).toEqual(Array.from(gemm(x, w, 3, cols, rows)));
    expect(store.bytesDecoded).toBe(rows * cols * 4);
    await store.linear('m.weight', x, 3);
    expect(store.bytesDecoded).toBe(2 * rows * cols * 4); // not cached: read again
    const cached = new WeightStore(src);
    const yAuto = await cached.linear('m.weight', x, 3);
    await cached.linear('m.weight', x, 3);
    expect(cached.bytesDecoded).toBe(rows * cols * 4);
    // 'auto' may use the native kernel (fp32 accumulation over k = 11 terms of |x·w| ≲ 10): ≤ 1e-5 apart
    for (let i = 0; i < y.length; i++) expect(Math.abs(yAuto[i]! - y[i]!)).toBeLessThan(1e-5);
  });
});
