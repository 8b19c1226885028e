/**
 * Before anything is timed, each kernel must reproduce the float64 reference on a small problem that
 * crosses a block boundary, ends in a partial block and is split into two chunks with a carried state
 * (the streaming path used at 1M tokens). A kernel that fails is never timed: the bench stops with a
 * VerificationError (exit 4).
 */
import { VerificationError } from '../errors.js';
import type { KernelBackend, LightningPrefillParams } from './backend.js';
import { roundBf16 } from '../dtype/convert.js';
import { lightningRecurrent } from '../ops/lightning.ref.js';
import { softmaxAttentionRef } from '../ops/softmax-attention.ref.js';

/**
 * Error budget, relative to max |reference|: the kernels compute in fp32 (about 1e-7 relative per
 * operation) over at most a few hundred accumulated terms, so correct kernels stay below ~1e-5; a wrong
 * decay exponent or a dropped block is off by percents (docs/architecture.md §7 item 5: 2.5%).
 */
export const SELF_CHECK_REL_TOL = 1e-4;
/**
 * bf16 prefill vs the float64 recurrence on the same bf16-rounded q, k, v, relative to max |ref|: a
 * kernel may round one intermediate operand (scores or state) to bf16 (2⁻⁸ per term); summed
 * magnitudes can exceed |ref| a few times, so 2⁻⁶. A wrong decay or a lost state is O(1).
 */
export const SELF_CHECK_BF16_REL_TOL = 2 ** -6;

/** Self-check sizes: n crosses one 256-token block boundary and ends in a partial block. */
const N = 300;
const SPLIT = 200;
const HEADS = 2;
const DECODE_STEPS = 3;
const SM_QUERIES = 24;
const SM_HQ = 4;
const SM_HKV = 2;

/** Deterministic uniform values in [−scale, scale) (xorshift32). */
export function randomFill(out: Float32Array, seed: number, scale = 1): Float32Array {
  let x = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = ((x / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

/** max |a − ref| / max |ref| (0 when both are all zero; Infinity on NaN). */
export function relMaxError(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (a.length !== ref.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(a[i]! - ref[i]!);
    if (Number.isNaN(e)) return Infinity;
    if (e > num) num = e;
    const r = Math.abs(ref[i]!);
    if (r > den) den = r;
  }
  return den === 0 ? num : num / den;
}

export interface SelfCheck {
  kernel: string;
  relError: number;
  ok: boolean;
}

/** Run every self-check; returns the results and throws if any failed. */
export async function selfCheck(b: KernelBackend, d: number, blockSize: number, slopes: Float32Array, threads?: number): Promise<SelfCheck[]> {
  const h = HEADS;
  const sl = slopes.subarray(0, h);
  const rnd = (len: number, seed: number) => randomFill(new Float32Array(len), seed, 0.5);
  const q = rnd(N * h * d, 1);
  const k = rnd(N * h * d, 2);
  const v = rnd(N * h * d, 3);
  const ref = lightningRecurrent({ q, k, v, n: N, h, d, slopes: sl });
  const part = (a: Float32Array, t0: number, t1: number) => a.subarray(t0 * h * d, t1 * h * d);
  // the streaming path: tokens [0, SPLIT), then [SPLIT, N) from the carried state; outputs stitched back together
  const streamed = async (run: (p: LightningPrefillParams) => Promise<{ o: Float32Array; state: Float32Array }>) => {
    const first = await run({ q: part(q, 0, SPLIT), k: part(k, 0, SPLIT), v: part(v, 0, SPLIT), n: SPLIT, h, d, slopes: sl, blockSize, threads });
    const second = await run({ q: part(q, SPLIT, N), k: part(k, SPLIT, N), v: part(v, SPLIT, N), n: N - SPLIT, h, d, slopes: sl, state: first.state, blockSize, threads });
    const o = new Float32Array(N * h * d);
    o.set(first.o, 0);
    o.set(second.o, SPLIT * h * d);
    return { o, state: second.state };
  };
  const results: SelfCheck[] = [];
  const add = (kernel: string, relError: number, tol = SELF_CHECK_REL_TOL) => results.push({ kernel, relError, ok: relError <= tol });
  const f32 = await streamed((p) => b.lightningPrefill(p));
  add('lightning_prefill', Math.max(relMaxError(f32.o, ref.o), relMaxError(f32.state, ref.state)));

  if (b.lightningPrefillBf16) {
    const rq = q.map(roundBf16), rk = k.map(roundBf16), rv = v.map(roundBf16);
    const bref = lightningRecurrent({ q: rq, k: rk, v: rv, n: N, h, d, slopes: sl });
    const bf16 = await streamed((p) => b.lightningPrefillBf16!(p));
    add('lightning_prefill_bf16', Math.max(relMaxError(bf16.o, bref.o), relMaxError(bf16.state, bref.state)), SELF_CHECK_BF16_REL_TOL);
  }

  // Decode: DECODE_STEPS recurrent steps continuing from the reference state.
  let state: Float32Array = Float32Array.from(ref.state);
  const dq = rnd(DECODE_STEPS * h * d, 4);
  const dk = rnd(DECODE_STEPS * h * d, 5);
  const dv = rnd(DECODE_STEPS * h * d, 6);
  const dref = lightningRecurrent({ q: dq, k: dk, v: dv, n: DECODE_STEPS, h, d, slopes: sl, state: ref.state });
  const dout = new Float32Array(DECODE_STEPS * h * d);
  for (let t = 0; t < DECODE_STEPS; t++) {
    const r = await b.lightningDecode({ q: part(dq, t, t + 1), k: part(dk, t, t + 1), v: part(dv, t, t + 1), h, d, slopes: sl, state, threads });
    dout.set(r.o, t * h * d);
    state = r.state;
  }
  add('lightning_decode', Math.max(relMaxError(dout, dref.o), relMaxError(state, dref.state)));

  // Softmax: SM_QUERIES causal queries at the end of N keys, GQA.
  const sq = rnd(SM_QUERIES * SM_HQ * d, 7);
  const sk = rnd(N * SM_HKV * d, 8);
  const sv = rnd(N * SM_HKV * d, 9);
  const sp = { q: sq, k: sk, v: sv, n: SM_QUERIES, nk: N, hq: SM_HQ, hkv: SM_HKV, d };
  add('softmax_attention', relMaxError(await b.softmaxAttention({ ...sp, threads }), softmaxAttentionRef(sp)));

  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) {
    const list = failed.map((f) => `${f.kernel} (max error ${f.relError.toExponential(2)} of max |ref|, budget ${f.kernel.endsWith('_bf16') ? SELF_CHECK_BF16_REL_TOL : SELF_CHECK_REL_TOL})`).join(', ');
    throw new VerificationError('E_SELF_CHECK', `${b.name}: self-check against the float64 reference failed for ${list}; refusing to time it`, {
      hint: 'run `m1kit doctor` to see which kernel path is selected; M1KIT_SIMD=scalar forces the scalar kernels',
    });
  }
  return results;
}
