/**
 * The registry's formats and the addon's quant kernels are one list: every format's `kernel` names a
 * line of M1K_QUANT_FORMATS (the addon's quant_/dequant_ slots), every such line belongs to a format,
 * and the generic op runs each through the addon with the bytes of its TypeScript reference. A kernel
 * record the addon does not have fails natively with the addon's list and still runs on its reference.
 */
import { describe, expect, it } from 'vitest';
import { QUANT_FORMATS } from '../../src/core/formats/index.js';
import { nativeInfo } from '../../src/core/ops/info.js';
import { dequantizeWith, quantizeWith, type QuantKernel } from '../../src/core/ops/quant.js';
import { nvfp4GlobalScale, tensorAmax } from '../../src/core/quant/nvfp4.js';
import { announceSkip, firstBitDiff, nativeLoaded, randArray } from './helpers.js';

/** Format names of the addon's quant slots (`quant_<name>` with its `dequant_<name>`; quant_amax is a reduction). */
function addonQuantFormats(): string[] {
  const slots = Object.keys(nativeInfo().slots);
  return slots.filter((s) => s.startsWith('dequant_')).map((s) => s.slice('dequant_'.length)).filter((n) => slots.includes(`quant_${n}`)).sort();
}

/** A made-up kernel: 8-bit codes of round(w · 16) with no scale beyond one per row, known only to TypeScript. */
const toy: QuantKernel<Uint8Array, Float32Array> = {
  name: 'toy8',
  codes: Uint8Array,
  scale: Float32Array,
  codesShape: (r, c) => [r, c],
  scaleShape: (r) => [r, 1],
  quantize: (w, r) => ({ codes: Uint8Array.from(w, (x) => (Math.round(x * 16) + 128) & 255), scale: new Float32Array(r).fill(1 / 16) }),
  dequantize: (codes, scale, r, c) => Float32Array.from({ length: r * c }, (_, i) => (codes[i]! - 128) * scale[(i / c) | 0]!),
};

announceSkip('quant-registry.test.ts');

describe.skipIf(!nativeLoaded())('quant formats ↔ kernel slots', () => {
  it("the registry's kernels are exactly the addon's quant formats", () => {
    const kernels = [...new Set(QUANT_FORMATS.map((f) => f.kernel.name))].sort();
    expect(addonQuantFormats()).toEqual(['fp8', 'int4', 'int8', 'mxfp4', 'mxfp8', 'nvfp4']);
    expect(kernels).toEqual(addonQuantFormats());
  });

  for (const f of QUANT_FORMATS) {
    it(`${f.id}: quantizeWith / dequantizeWith give the reference bytes natively (kernel ${f.kernel.name})`, async () => {
      const rows = 130, cols = 256, group = f.groupOption ? 64 : f.defaultGroup;
      const w = randArray(rows * cols, 31, 0.05);
      const params = f.kernel.globalScale ? { globalScale: nvfp4GlobalScale(tensorAmax(w)) } : { bf16Scale: true };
      const nat = await quantizeWith(f.kernel, w, rows, cols, group, { backend: 'native', params });
      const ref = await quantizeWith(f.kernel, w, rows, cols, group, { backend: 'ref', params });
      expect(firstBitDiff(nat.codes, ref.codes)).toBe(-1);
      expect(firstBitDiff(nat.scale, ref.scale)).toBe(-1);
      const dn = await dequantizeWith(f.kernel, nat.codes, nat.scale, rows, cols, group, { backend: 'native', params });
      const dr = await dequantizeWith(f.kernel, ref.codes, ref.scale, rows, cols, group, { backend: 'ref', params });
      expect(firstBitDiff(dn, dr)).toBe(-1);
    });
  }

  it('a kernel the addon lacks is refused natively, naming the list, and runs on its reference', async () => {
    const w = Float32Array.from([0.5, -0.25, 1, 0], (x) => x);
    await expect(quantizeWith(toy, w, 2, 2, 1, { backend: 'native' })).rejects.toThrow(/format must be one of fp8, int8, int4, nvfp4, mxfp4, mxfp8/);
    const r = await quantizeWith(toy, w, 2, 2, 1, { backend: 'ref' });
    expect([...r.codes]).toEqual([136, 124, 144, 128]);
    expect([...(await dequantizeWith(toy, r.codes, r.scale, 2, 2, 1, { backend: 'ref' }))]).toEqual([0.5, -0.25, 1, 0]);
  });
});
