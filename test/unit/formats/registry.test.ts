/**
 * The quant-format registry: every format's band encoder (native or reference) writes exactly its
 * reference quantizer's bytes in its declared stored shapes, the one decoder recognises each format
 * from its stored tensors (with and without a declaring config) and returns its reference
 * dequantizer's values for any row band, and each config fragment is recognised as its own format.
 */
import { describe, expect, it } from 'vitest';
import type { DType } from '../../../src/core/dtype/dtypes.js';
import { dtypeBytes, numel } from '../../../src/core/dtype/dtypes.js';
import { decodeStoredRows, resolveStored } from '../../../src/core/formats/decode.js';
import { declaredFormat, formatOf, GGUF_TYPES, ggufTypeOf, QUANT_FORMATS, STORED_FORMATS, storedBytes, type QuantFormat, type TensorStore } from '../../../src/core/formats/index.js';
import { GGML_TYPES } from '../../../src/core/gguf/format.js';

/** Deterministic Gaussian-ish weights (xorshift32, sum of 4 uniforms). */
function weights(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const u = () => ((s ^= s << 13), (s ^= s >>> 17), (s ^= s << 5), (s >>> 0) / 2 ** 32 - 0.5);
  return Float32Array.from({ length: n }, () => (u() + u() + u() + u()) * 0.05);
}

function memStore(entries: Map<string, { dtype: DType; shape: number[]; bytes: Uint8Array }>): TensorStore {
  return {
    has: (n) => entries.has(n),
    info: (n) => entries.get(n)!,
    read: async (n, o = 0, l) => entries.get(n)!.bytes.subarray(o, l === undefined ? undefined : o + l),
  };
}

/** Stored tensors of `w` [R, C] as written by the format's encoder in bands of `bandRows`. */
async function encode(f: QuantFormat, w: Float32Array, R: number, C: number, g: number, bandRows: number, backend: 'ref' | 'auto'): Promise<Uint8Array[]> {
  // formats with a tensor-wide scale (NVFP4) get the tensor's largest |w|, as the quantize job measures it
  const enc = f.encoder(R, C, g, f.tensorAmax ? { amax: w.reduce((m, v) => Math.max(m, Math.abs(v)), 0) } : undefined);
  const codes = new Uint8Array(enc.codeBytes(R, C));
  for (let r0 = 0; r0 < R; r0 += bandRows) {
    const n = Math.min(bandRows, R - r0);
    const b = await enc.band(w.subarray(r0 * C, (r0 + n) * C), r0, n, 0, C, new ArrayBuffer(enc.codeBytes(n, C)), { kernels: { backend }, errors: undefined });
    codes.set(b, enc.codeBytes(r0, C));
  }
  return [codes, ...enc.finish()];
}

// 200 rows: two fp8 block rows (one partial); 96 columns: three groups of 32, a partial 128-block
const R = 200;
const C = 96;

describe('every registered format', () => {
  for (const f of QUANT_FORMATS) {
    const g = f.groupOption ? 32 : f.defaultGroup;
    describe(f.id, () => {
      const w = weights(R * C, 7);
      const ref = f.quantizeRef(w, R, C, g);

      it('stores exactly its declared tensors (dtype × shape bytes)', () => {
        expect(ref).toHaveLength(f.outputs.length);
        f.outputs.forEach((o, i) => expect([o.suffix, ref[i]!.length]).toEqual([o.suffix, numel(o.shape(R, C, g)) * dtypeBytes(o.dtype)]));
        expect(storedBytes(f, R, C, g)).toBe(ref.reduce((s, b) => s + b.length, 0));
      });

      for (const backend of ['ref', 'auto'] as const)
        it(`its band encoder (${backend}) writes the reference bytes, whatever the bands`, async () => {
          const bandRows = f.rowUnit(g) === 128 && g !== 128 ? 64 : f.rowUnit(g);
          const got = await encode(f, w, R, C, g, bandRows, backend);
          got.forEach((b, i) => expect(Buffer.from(b).equals(Buffer.from(ref[i]!)), `${f.outputs[i]!.suffix}`).toBe(true));
        });

      it('dequantizes close to the input (within the documented error scale)', () => {
        const d = f.dequantizeRef(ref, R, C, g);
        let e = 0;
        let s = 0;
        for (let i = 0; i < w.length; i++) ((e += (d[i]! - w[i]!) ** 2), (s += w[i]! ** 2));
        const rel = Math.sqrt(e / s);
        // a rounding-step estimate, not a bound: within 3× of it, and not exact (the test can tell a no-op)
        expect(rel).toBeGreaterThan(0);
        expect(rel).toBeLessThan(3 * f.expectedRelRmse);
      });

      const stem = 'model.layers.0.self_attn.out_proj';
      const entries = new Map(f.outputs.map((o, i) => [`${stem}.${o.suffix}`, { dtype: o.dtype, shape: o.shape(R, C, g), bytes: ref[i]! }]));
      const qc = f.quantizationConfig({ group: g, skipModules: ['lm_head'], ignorePatterns: ['lm_head'] });

      it('its config fragment declares it, with its group', () => {
        const d = declaredFormat(qc, 'config.json');
        expect([d?.format.id, d?.group]).toEqual([f.id, g]);
        for (const other of QUANT_FORMATS) if (other !== f) expect(other.fromConfig(qc, 'config.json')).toBeUndefined();
      });

      for (const withConfig of [true, false])
        it(`the decoder recognises it ${withConfig ? 'as declared' : 'from its tensors alone'} and decodes any row band to the reference values`, async () => {
          const store = memStore(entries);
          const lay = await resolveStored(store, `${stem}.weight`, withConfig ? qc : undefined);
          expect([lay.format, lay.rows, lay.cols]).toEqual([f.id, R, C]);
          const full = f.dequantizeRef(ref, R, C, g);
          for (const [r0, n] of [[0, R], [127, 3], [199, 1], [40, 100]] as const) {
            const got = await decodeStoredRows(store, lay, r0, n, { backend: 'ref' });
            expect(Buffer.from(got.buffer).equals(Buffer.from(full.subarray(r0 * C, (r0 + n) * C).slice().buffer)), `rows ${r0}+${n}`).toBe(true);
          }
        });

      it('a declared layout with a wrong stored shape is refused naming the tensor', async () => {
        const bad = new Map(entries);
        const last = f.outputs.length - 1;
        const o = f.outputs[last]!;
        bad.set(`${stem}.${o.suffix}`, { dtype: o.dtype, shape: [...o.shape(R, C, g), 1], bytes: ref[last]! });
        await expect(resolveStored(memStore(bad), `${stem}.weight`, qc)).rejects.toThrow(new RegExp(`${stem.replace(/\./g, '\\.')}\\.${o.suffix}`));
      });
    });
  }

  it('the decoder tries the formats most specific first, by their ranks (ranks distinct)', () => {
    // a global scale marks NVFP4 among packed E2M1 layouts; F32 block scales mark fp8-block among E4M3
    // layouts; m1kit's own int8 layout comes before the any-tiling reader of other writers
    expect(STORED_FORMATS.map((f) => f.id)).toEqual(['nvfp4', 'mxfp4', 'w4a16', 'fp8-block', 'mxfp8', 'int8-channel', 'ct-scaled']);
    expect(new Set(STORED_FORMATS.map((f) => f.detectRank)).size).toBe(STORED_FORMATS.length);
  });

  it('unknown scheme ids are a usage error listing the registered ones', () => {
    expect(() => formatOf('fp4-magic')).toThrow(/--scheme must be one of fp8-block, int8-channel, w4a16, nvfp4, mxfp4, mxfp8; got "fp4-magic"/);
  });
});

describe('GGUF types', () => {
  it('agree with the GGUF container table (type id, block size, bytes per block)', () => {
    for (const t of GGUF_TYPES) expect([t.ggml, t.typeId, t.blockSize, t.typeSize]).toEqual([t.ggml, ...Object.values(GGML_TYPES[t.ggml as keyof typeof GGML_TYPES])]);
    expect(GGUF_TYPES.map((t) => t.ggml).sort()).toEqual(Object.keys(GGML_TYPES).sort());
  });
  it('encode to typeSize bytes per block and decode back to within a step (hand-checked block)', () => {
    const x = Float32Array.from({ length: 64 }, (_, i) => (i - 32) / 16);
    for (const t of GGUF_TYPES) {
      const b = t.encode(x);
      expect(b.length).toBe((64 / t.blockSize) * t.typeSize);
      const d = t.decode(b);
      // 2 / 2^k steps: exact for f32/f16/bf16 on these dyadic values; q8_0 and q4_0 within their step
      const step = t.ggml === 'Q4_0' ? 2 / 8 : t.ggml === 'Q8_0' ? 2 / 127 : 0;
      for (let i = 0; i < 64; i++) expect(Math.abs(d[i]! - x[i]!)).toBeLessThanOrEqual(step);
    }
    expect(() => ggufTypeOf('Q2_K')).toThrow(/no GGUF type Q2_K/);
  });
});
