/**
 * GEMM kernels on every instruction-set level this CPU runs, against float64 references:
 * fp32 (exact mode: fp32 dot-product bound), bf16 numerics (x rounded to bf16: named budget from that
 * rounding), the grouped expert GEMM; sizes cover the dot-tile path (m < 16), the packed path (k over
 * several KC slices, partial MR/NR tiles), both thread splits, and bf16 pairs with odd k.
 */
import { describe, expect, it } from 'vitest';
import { gemm, gemmGrouped } from '../../src/core/ops/gemm.js';
import { gemmGroupedRef, gemmRef, roundActivationsBf16 } from '../../src/core/ops/gemm.ref.js';
import { nativeInfo } from '../../src/core/ops/info.js';
import { f32ToBf16 } from '../../src/core/dtype/convert.js';
import { announceSkip, forEachSimdPath, nativeLoaded, poisoned, randArray } from './helpers.js';

/** fp32 unit roundoff and the standard dot-product bound γ_k = k·u/(1 − k·u). */
const U32 = 2 ** -24;
const gamma = (k: number) => (k * U32) / (1 - k * U32);
/**
 * bf16 keeps 8 significant bits: rounding x to bf16 (RNE) moves each element by ≤ 2⁻⁸·|x|, so the
 * bf16-numerics result differs from the fp32 one by ≤ BF16_U·Σ|x·w| (W is bf16 in both) plus the
 * fp32 summation bound.
 */
const BF16_U = 2 ** -8;
/** Floor for sums that are exactly 0 (FTZ/DAZ may drop products below 2⁻¹²⁶). */
const TINY = 1e-30;

const widen = (w: Uint16Array | Float32Array) => (w instanceof Uint16Array ? new Float32Array(Uint32Array.from(w, (b) => b << 16).buffer) : w);

function absDot(x: Float32Array, w: Float32Array, m: number, k: number, nOut: number): Float64Array {
  const s = new Float64Array(m * nOut);
  for (let i = 0; i < m; i++)
    for (let o = 0; o < nOut; o++) {
      let a = 0;
      for (let c = 0; c < k; c++) a += Math.abs(x[i * k + c]! * w[o * k + c]!);
      s[i * nOut + o] = a;
    }
  return s;
}

/** Largest (|y − ref| − allowed) over all outputs; ≤ 0 means within budget. */
function excess(y: Float32Array, ref: Float64Array, allowed: (i: number) => number): number {
  let worst = -Infinity;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(y[i]! - ref[i]!);
    worst = Math.max(worst, Number.isNaN(d) ? Infinity : d - allowed(i));
  }
  return worst;
}

const SHAPES: [number, number, number][] = [];
for (const m of [1, 3, 5, 17]) for (const k of [1, 7, 48, 129, 257]) for (const nOut of [1, 3, 5, 33]) SHAPES.push([m, k, nOut]);
// packed path: several KC slices (k > 512), partial tiles, rows split (few outputs) and outputs split
SHAPES.push([16, 600, 70], [40, 1030, 33], [200, 300, 5], [413, 65, 131], [31, 513, 257]);

announceSkip('gemm.test.ts');

describe.skipIf(!nativeLoaded())('gemm (native, every level)', () => {
  it('knows every level and says which this CPU cannot run', () => {
    const i = nativeInfo();
    const all = ['amx', 'avx512bf16', 'avx512', 'avx2', 'scalar'];
    const missing = all.filter((l) => !i.simdAvailable.includes(l));
    if (missing.length) console.warn(`gemm.test.ts: levels NOT run on this CPU: ${missing.join(', ')}${i.simdNote ? ` (${i.simdNote})` : ''}`);
    expect(i.simdAvailable.every((l) => all.includes(l))).toBe(true);
    expect(i.simdAvailable).toContain('scalar');
    for (const slot of ['gemm', 'gemm_bf16', 'gemm_grouped', 'lightning_prefill', 'lightning_prefill_bf16']) expect(i.slots[slot]).toBeTruthy();
  });

  forEachSimdPath(() => {
    it('fp32: x·Wᵀ with fp32 and bf16 weights within γ_k·Σ|x·w|', async () => {
      for (const [m, k, nOut] of SHAPES) {
        const x = randArray(m * k, m + k), wf = randArray(nOut * k, nOut + 2 * k);
        for (const w of [wf, f32ToBf16(wf)]) {
          for (const threads of [1, 2, 3]) {
            const ref = gemmRef({ x, w, m, k, nOut });
            const y = await gemm({ x, w, m, k, nOut, threads, out: poisoned(m * nOut) });
            const abs = absDot(x, widen(w), m, k, nOut);
            expect(excess(y, ref, (i) => gamma(k) * abs[i]! + TINY), `m=${m} k=${k} nOut=${nOut} threads=${threads}`).toBeLessThanOrEqual(0);
          }
        }
      }
    });

    it('bf16: exact fp32 sums of bf16(x)·W, and within the bf16 input-rounding budget of the fp32 result', async () => {
      for (const [m, k, nOut] of SHAPES) {
        const x = randArray(m * k, 3 * m + k), w = f32ToBf16(randArray(nOut * k, nOut + 5 * k));
        const y = await gemm({ x, w, m, k, nOut, precision: 'bf16', out: poisoned(m * nOut) });
        const xr = roundActivationsBf16(x);
        const absR = absDot(xr, widen(w), m, k, nOut), abs = absDot(x, widen(w), m, k, nOut);
        const refR = gemmRef({ x, w, m, k, nOut, precision: 'bf16' });
        expect(excess(y, refR, (i) => gamma(k) * absR[i]! + TINY), `vs bf16 ref m=${m} k=${k} nOut=${nOut}`).toBeLessThanOrEqual(0);
        const ref = gemmRef({ x, w, m, k, nOut });
        expect(excess(y, ref, (i) => BF16_U * abs[i]! + gamma(k) * absR[i]! + TINY), `vs fp32 ref m=${m} k=${k} nOut=${nOut}`).toBeLessThanOrEqual(0);
      }
    });

    it('bf16 rounding is real: a value between two bf16 numbers is rounded to nearest even', async () => {
      const x = Float32Array.from([1 + 2 ** -8, 1 + 3 * 2 ** -8]); // ties: → 1 and → 1 + 2⁻⁶ (even)
      const w = f32ToBf16(Float32Array.from([1, 0, 0, 1]));
      const y = await gemm({ x, w, m: 1, k: 2, nOut: 2, precision: 'bf16' });
      expect(Array.from(y)).toEqual([1, 1 + 2 ** -6]);
      const y32 = await gemm({ x, w, m: 1, k: 2, nOut: 2 });
      expect(Array.from(y32)).toEqual([1 + 2 ** -8, 1 + 3 * 2 ** -8]);
    });

    it('grouped experts (0, few and many rows) equal one gemm per expert', async () => {
      const k = 130, nOut = 97, experts = 6;
      const rows = [3, 0, 1, 20, 7, 2];
      const offset: number[] = [];
      let t = 0;
      for (const r of rows) { offset.push(t); t += r; }
      const x = randArray(t * k, 71), wf = randArray(experts * nOut * k, 72);
      for (const w of [wf, f32ToBf16(wf)]) {
        for (const precision of ['fp32', 'bf16'] as const) {
          const y = await gemmGrouped({ x, w, offset, rows, experts, k, nOut, precision, out: poisoned(t * nOut) });
          const xr = precision === 'bf16' ? roundActivationsBf16(x) : x;
          const ref = gemmGroupedRef({ x, w, offset, rows, experts, k, nOut, precision });
          const absAll = new Float64Array(t * nOut);
          for (let e = 0; e < experts; e++) {
            if (rows[e] === 0) continue;
            const a = absDot(xr.subarray(offset[e]! * k, (offset[e]! + rows[e]!) * k), widen(w.subarray(e * nOut * k, (e + 1) * nOut * k)), rows[e]!, k, nOut);
            absAll.set(a, offset[e]! * nOut);
          }
          expect(excess(y, ref, (i) => gamma(k) * absAll[i]! + TINY), `${precision} w=${w.constructor.name}`).toBeLessThanOrEqual(0);
        }
      }
    });
  });
});

describe('gemm TypeScript fallback and argument checks', () => {
  it('backend "ref" gives the float64 reference in both precisions', async () => {
    const x = randArray(2 * 9, 1), w = randArray(3 * 9, 2);
    for (const precision of ['fp32', 'bf16'] as const) {
      const y = await gemm({ x, w, m: 2, k: 9, nOut: 3, precision, backend: 'ref' });
      expect(Array.from(y)).toEqual(Array.from(Float32Array.from(gemmRef({ x, w, m: 2, k: 9, nOut: 3, precision }))));
    }
  });

  it('rejects an unknown precision and experts whose rows fall outside x', async () => {
    await expect(gemm({ x: new Float32Array(1), w: new Float32Array(1), m: 1, k: 1, nOut: 1, precision: 'fp8' as 'fp32' })).rejects.toMatchObject({ code: 'E_KERNEL_SHAPE' });
    await expect(gemmGrouped({ x: new Float32Array(4), w: new Float32Array(2 * 2), offset: [0, 1], rows: [1, 2], experts: 2, k: 2, nOut: 1 }))
      .rejects.toMatchObject({ code: 'E_KERNEL_SHAPE' });
  });
});
