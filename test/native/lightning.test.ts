/**
 * Lightning attention kernels on every SIMD path vs the float64 O(n²) definition (lightningNaive),
 * plus the structural identities of docs/architecture.md §3.8: block form ≡ recurrence, prefill(n) then
 * decode ≡ prefill(n + 1), streaming chunks ≡ one call.
 */
import { describe, expect, it } from 'vitest';
import { lightningDecode, lightningPrefill, LightningPrefillStream } from '../../src/core/ops/lightning.js';
import { lightningNaive } from '../../src/core/ops/lightning.ref.js';
import { roundActivationsBf16 } from '../../src/core/ops/gemm.ref.js';
import { announceSkip, forEachSimdPath, maxAbsDiff, nativeLoaded, poisoned, randArray } from './helpers.js';

/**
 * fp32 kernel vs float64 definition, relative to max |reference|: observed ≤ 3.1e-6 at n = 513
 * (sums of up to n·d fp32 products; error grows roughly like √n·2^-24 per term); 3e-5 leaves 10×.
 */
const LIGHTNING_REL_BUDGET = 3e-5;
/** Two fp32 evaluations of the same quantity in different orders (block vs recurrent): same bound. */
const FORM_REL_BUDGET = 3e-5;
/**
 * bf16 prefill vs the fp32 definition, per output relative to Σ|terms| (lightningNaive on |q|, |k|,
 * |v|, |S₀|): each term q·k·v carries up to four bf16 roundings of 2⁻⁸ each (q, k, v, and one
 * intermediate operand — the masked scores or the state — on paths that multiply it in bf16).
 */
const LIGHTNING_BF16_TERM_BUDGET = 4 * 2 ** -8;
/** bf16 prefill vs the fp32 definition on already-rounded inputs: only the intermediate rounding (one 2⁻⁸ per term) remains. */
const LIGHTNING_BF16_INTERNAL_BUDGET = 2 ** -8;

const SIZES = [1, 2, 3, 5, 7, 15, 17, 31, 33, 255, 256, 257, 511, 513];
const SLOPES = Float32Array.from([0.9170040432, 0.0126683]); // fastest and slowest decays of M1 (§3.3.2)

function within(actual: ArrayLike<number>, ref: ArrayLike<number>, budget: number): void {
  const { diff, scale } = maxAbsDiff(actual, ref);
  expect(diff).toBeLessThanOrEqual(budget * Math.max(scale, 1e-30));
}

announceSkip('lightning.test.ts');

describe.skipIf(!nativeLoaded())('lightning kernels (native)', () => {
  forEachSimdPath(() => {
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

    it('block-parallel prefill (few heads, many threads) matches the O(n²) definition and the head-parallel form', async () => {
      const d = 48;
      for (const [h, n] of [[1, 1000], [2, 513], [3, 769]] as const) {
        const q = randArray(n * h * d, 81 + h), k = randArray(n * h * d, 82 + h), v = randArray(n * h * d, 83 + h);
        const slopes = Float32Array.from({ length: h }, (_, j) => SLOPES[j % 2]!);
        const state0 = randArray(h * d * d, 84, 0.1);
        const ref = lightningNaive({ q, k, v, n, h, d, slopes, state: state0 });
        const seq = await lightningPrefill({ q, k, v, n, h, d, slopes, state: state0, threads: 1 }); // one thread: heads in turn
        for (const threads of [2, 3, 5]) {
          const p = await lightningPrefill({ q, k, v, n, h, d, slopes, state: state0, threads, out: poisoned(n * h * d) });
          within(p.o, ref.o, LIGHTNING_REL_BUDGET);
          within(p.state, ref.state, LIGHTNING_REL_BUDGET);
          within(p.o, seq.o, FORM_REL_BUDGET);
          within(p.state, seq.state, FORM_REL_BUDGET);
        }
        within(seq.o, ref.o, LIGHTNING_REL_BUDGET);
      }
    });

    it('bf16 prefill: within the bf16 budget of the fp32 definition, and the fp32 result on bf16-rounded inputs', async () => {
      const h = 2;
      for (const [d, threads, n] of [[128, 2, 1], [128, 2, 17], [128, 2, 257], [128, 2, 300], [48, 1, 300], [40, 2, 260]] as const) {
        const q = randArray(n * h * d, n + 91), k = randArray(n * h * d, n + 92), v = randArray(n * h * d, n + 93);
        const state0 = randArray(h * d * d, n + 94, 0.1);
        const ref = lightningNaive({ q, k, v, n, h, d, slopes: SLOPES, state: state0 });
        const abs = (x: Float32Array) => x.map(Math.abs);
        const mag = lightningNaive({ q: abs(q), k: abs(k), v: abs(v), n, h, d, slopes: SLOPES, state: abs(state0) });
        const p = await lightningPrefill({ q, k, v, n, h, d, slopes: SLOPES, state: state0, precision: 'bf16', threads, out: poisoned(n * h * d) });
        const { scale } = maxAbsDiff(p.o, ref.o);
        for (let i = 0; i < ref.o.length; i++) {
          const allowed = LIGHTNING_BF16_TERM_BUDGET * mag.o[i]! + LIGHTNING_REL_BUDGET * scale;
          if (!(Math.abs(p.o[i]! - ref.o[i]!) <= allowed)) expect.fail(`n=${n} o[${i}] = ${p.o[i]} vs ${ref.o[i]} (allowed ${allowed})`);
        }
        const rq = roundActivationsBf16(q), rk = roundActivationsBf16(k), rv = roundActivationsBf16(v);
        const refR = lightningNaive({ q: rq, k: rk, v: rv, n, h, d, slopes: SLOPES, state: state0 });
        const magR = lightningNaive({ q: abs(rq), k: abs(rk), v: abs(rv), n, h, d, slopes: SLOPES, state: abs(state0) });
        for (let i = 0; i < refR.o.length; i++) {
          const allowed = LIGHTNING_BF16_INTERNAL_BUDGET * magR.o[i]! + LIGHTNING_REL_BUDGET * scale;
          if (!(Math.abs(p.o[i]! - refR.o[i]!) <= allowed)) expect.fail(`n=${n} vs rounded inputs: o[${i}] = ${p.o[i]} vs ${refR.o[i]}`);
        }
        within(p.state, refR.state, LIGHTNING_REL_BUDGET + LIGHTNING_BF16_INTERNAL_BUDGET);
      }
    });

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
  it('is loaded when M1KIT_REQUIRE_NATIVE=1', (ctx) => {
    if (process.env.M1KIT_REQUIRE_NATIVE !== '1') ctx.skip('skipped: M1KIT_REQUIRE_NATIVE is not set (CI sets it)');
    expect(nativeLoaded()).toBe(true);
  });
});
