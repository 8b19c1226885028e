/**
 * Lightning attention kernels on every SIMD path vs the float64 O(n²) definition (lightningNaive),
 * plus the structural identities of docs/architecture.md §3.8: block form ≡ recurrence, prefill(n) then
 * decode ≡ prefill(n + 1), streaming chunks ≡ one call.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { lightningDecode, lightningPrefill, LightningPrefillStream } from '../../src/core/ops/lightning.js';
import { lightningNaive } from '../../src/core/ops/lightning-ref.js';
import { selectSimdPath } from '../../src/core/ops/info.js';
import { announceSkip, maxAbsDiff, nativeLoaded, poisoned, randArray, simdPaths } from './helpers.js';

/**
 * fp32 kernel vs float64 definition, relative to max |reference|: observed ≤ 3.1e-6 at n = 513
 * (sums of up to n·d fp32 products; error grows roughly like √n·2^-24 per term); 3e-5 leaves 10×.
 */
const LIGHTNING_REL_BUDGET = 3e-5;
/** Two fp32 evaluations of the same quantity in different orders (block vs recurrent): same bound. */
const FORM_REL_BUDGET = 3e-5;

const SIZES = [1, 2, 3, 5, 7, 15, 17, 31, 33, 255, 256, 257, 511, 513];
const SLOPES = Float32Array.from([0.9170040432, 0.0126683]); // fastest and slowest decays of M1 (§3.3.2)

function within(actual: ArrayLike<number>, ref: ArrayLike<number>, budget: number): void {
  const { diff, scale } = maxAbsDiff(actual, ref);
  expect(diff).toBeLessThanOrEqual(budget * Math.max(scale, 1e-30));
}

announceSkip('lightning.test.ts');

describe.skipIf(!nativeLoaded())('lightning kernels (native)', () => {
  for (const simd of simdPaths()) {
    describe(`simd=${simd}`, () => {
      beforeAll(() => {
        expect(selectSimdPath(simd)).toBe(simd);
      });

      for (const d of [48, 128]) {
        it(`prefill and decode match the O(n²) definition, d=${d}, n ∈ {${SIZES.join(',')}}`, async () => {
          const h = 2;
          for (const n of SIZES) {
            const q = randArray(n * h * d, n * 7 + 1), k = randArray(n * h * d, n * 7 + 2), v = randArray(n * h * d, n * 7 + 3);
            const state0 = randArray(h * d * d, n + 5, 0.1);
            const ref = lightningNaive({ q, k, v, n, h, d, slopes: SLOPES, state: state0 });
            const p = await lightningPrefill({ q, k, v, n, h, d, slopes: SLOPES, state: state0, out: poisoned(n * h * d) });
            within(p.o, ref.o, LIGHTNING_REL_BUDGET);
            within(p.state, ref.state, LIGHTNING_REL_BUDGET);
            const r = await lightningDecode({ q, k, v, n, h, d, slopes: SLOPES, state: state0, out: poisoned(n * h * d) });
            within(r.o, ref.o, LIGHTNING_REL_BUDGET);
            within(r.state, ref.state, LIGHTNING_REL_BUDGET);
            within(p.o, r.o, FORM_REL_BUDGET);
          }
        });
      }

      it('prefill(n) then decode(1) equals prefill(n + 1) at the last token', async () => {
        const h = 2, d = 48;
        for (const n of [255, 256, 300]) {
          const q = randArray((n + 1) * h * d, 11), k = randArray((n + 1) * h * d, 12), v = randArray((n + 1) * h * d, 13);
          const full = await lightningPrefill({ q, k, v, n: n + 1, h, d, slopes: SLOPES });
          const head = await lightningPrefill({ q: q.subarray(0, n * h * d), k: k.subarray(0, n * h * d), v: v.subarray(0, n * h * d), n, h, d, slopes: SLOPES });
          const tail = await lightningDecode({ q: q.subarray(n * h * d), k: k.subarray(n * h * d), v: v.subarray(n * h * d), n: 1, h, d, slopes: SLOPES, state: head.state });
          within(tail.o, full.o.subarray(n * h * d), FORM_REL_BUDGET);
          within(tail.state, full.state, FORM_REL_BUDGET);
        }
      });

      it('streaming chunks with carried state equal one call', async () => {
        const h = 1, d = 128, n = 1000;
        const q = randArray(n * d, 21), k = randArray(n * d, 22), v = randArray(n * d, 23);
        const one = await lightningPrefill({ q, k, v, n, h, d, slopes: SLOPES.subarray(0, 1) });
        const s = new LightningPrefillStream({ h, d, slopes: SLOPES.subarray(0, 1) });
        const parts: Float32Array[] = [];
        for (const [a, b] of [[0, 256], [256, 512], [512, 999], [999, 1000]] as const) {
          parts.push(await s.push(q.subarray(a * d, b * d), k.subarray(a * d, b * d), v.subarray(a * d, b * d), b - a));
        }
        const o = new Float32Array(n * d);
        let off = 0;
        for (const p of parts) { o.set(p, off); off += p.length; }
        within(o, one.o, FORM_REL_BUDGET);
        within(s.state, one.state, FORM_REL_BUDGET);
        expect(s.tokens).toBe(n);
      });

      it('all-zero blocks give exact zeros; large and small magnitudes keep the relative budget', async () => {
        const h = 1, d = 48, n = 600;
        const z = new Float32Array(n * d);
        const zero = await lightningPrefill({ q: z, k: z, v: z, n, h, d, slopes: SLOPES.subarray(0, 1), out: poisoned(n * d) });
        expect(zero.o.every((x) => x === 0)).toBe(true);
        expect(zero.state.every((x) => x === 0)).toBe(true);
        // keys/values only in block 1 (tokens 256…511): block 0 outputs are exactly 0
        const k = randArray(n * d, 31), v = randArray(n * d, 32), q = randArray(n * d, 33);
        k.fill(0, 0, 256 * d); v.fill(0, 0, 256 * d);
        const part = await lightningPrefill({ q, k, v, n, h, d, slopes: SLOPES.subarray(0, 1) });
        expect(part.o.subarray(0, 256 * d).every((x) => x === 0)).toBe(true);
        for (const mag of [1e-12, 1e12]) {
          const qs = randArray(300 * d, 41, mag), ks = randArray(300 * d, 42), vs = randArray(300 * d, 43, mag);
          const ref = lightningNaive({ q: qs, k: ks, v: vs, n: 300, h, d, slopes: SLOPES.subarray(1) });
          const r = await lightningPrefill({ q: qs, k: ks, v: vs, n: 300, h, d, slopes: SLOPES.subarray(1) });
          within(r.o, ref.o, LIGHTNING_REL_BUDGET);
        }
      });

      it('a NaN in v at token t poisons that head from t on, not earlier blocks or other heads', async () => {
        const h = 2, d = 48, n = 600, t = 400;
        const q = randArray(n * h * d, 51), k = randArray(n * h * d, 52), v = randArray(n * h * d, 53);
        v[(t * h + 0) * d + 5] = NaN;
        for (const run of [lightningPrefill, lightningDecode]) {
          const r = await run({ q, k, v, n, h, d, slopes: SLOPES });
          const at = (i: number, j: number) => r.o.subarray((i * h + j) * d, (i * h + j + 1) * d);
          for (let i = 0; i < 256; i++) expect(at(i, 0).every(Number.isFinite)).toBe(true);
          for (let i = t; i < n; i++) expect(Number.isNaN(at(i, 0)[5]!)).toBe(true);
          for (let i = 0; i < n; i++) expect(at(i, 1).every(Number.isFinite)).toBe(true);
        }
      });
    });
  }
});

describe('lightning TypeScript fallback', () => {
  it('backend "ref" matches the O(n²) definition', async () => {
    const n = 33, h = 2, d = 16;
    const q = randArray(n * h * d, 61), k = randArray(n * h * d, 62), v = randArray(n * h * d, 63);
    const ref = lightningNaive({ q, k, v, n, h, d, slopes: SLOPES });
    const r = await lightningPrefill({ q, k, v, n, h, d, slopes: SLOPES, backend: 'ref' });
    within(r.o, ref.o, LIGHTNING_REL_BUDGET);
    within(r.state, ref.state, LIGHTNING_REL_BUDGET);
  });

  it('n = 0 returns no output and the incoming state unchanged, on every backend', async () => {
    const st = randArray(2 * 16 * 16, 64);
    for (const backend of nativeLoaded() ? (['ref', 'native'] as const) : (['ref'] as const)) {
      const e = new Float32Array(0);
      const r = await lightningPrefill({ q: e, k: e, v: e, n: 0, h: 2, d: 16, slopes: SLOPES, state: st, backend });
      expect(r.o.length).toBe(0);
      expect(Array.from(r.state)).toEqual(Array.from(st));
    }
  });

  it('rejects mismatched lengths with InputError', async () => {
    await expect(lightningPrefill({ q: new Float32Array(5), k: new Float32Array(6), v: new Float32Array(6), n: 2, h: 1, d: 3, slopes: new Float32Array(1) }))
      .rejects.toMatchObject({ code: 'E_KERNEL_SHAPE', exitCode: 3 });
  });
});

describe('native addon presence', () => {
  it.runIf(process.env.M1KIT_REQUIRE_NATIVE === '1')('is loaded when M1KIT_REQUIRE_NATIVE=1', () => {
    expect(nativeLoaded()).toBe(true);
  });
});
