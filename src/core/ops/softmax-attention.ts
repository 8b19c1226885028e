/**
 * Causal softmax attention with GQA (docs/architecture.md §3.4) for prefill and for decode against a KV
 * cache: native flash-style kernel (online softmax over key tiles, fp32) when the addon is loaded,
 * the float64 TypeScript reference otherwise. RoPE is applied by the caller (see rope.ts).
 */
import { checkDims, checkLength, threadsOf, useNative, type KernelOptions } from './common.js';
import { softmaxAttentionRef } from './softmax-attention.ref.js';
import * as native from '../../native/index.js';
import { InputError } from '../errors.js';

export interface SoftmaxAttentionInput extends KernelOptions {
  /** [n, hq, d] queries of the n newest positions */ q: Float32Array;
  /** [nk, hkv, d] keys incl. the n new ones at the end */ k: Float32Array;
  /** [nk, hkv, d] */ v: Float32Array;
  n: number;
  nk: number;
  hq: number;
  hkv: number;
  d: number;
  /** Score scale (default 1/√d). */
  scale?: number;
  /** Optional output buffer [n, hq, d]. */
  out?: Float32Array;
}

/**
 * Query i sits at absolute key position nk − n + i and sees keys 0 … nk − n + i (causal).
 * @example const o = await softmaxAttention({ q, k, v, n: 1, nk: 4097, hq: 64, hkv: 8, d: 128 }); // decode step
 */
export async function softmaxAttention(a: SoftmaxAttentionInput): Promise<Float32Array> {
  const op = 'softmaxAttention';
  checkDims(op, { n: a.n, nk: a.nk, hq: a.hq, hkv: a.hkv, d: a.d });
  if (a.nk < a.n) throw new InputError('E_KERNEL_SHAPE', `${op}: nk (${a.nk}) must be ≥ n (${a.n})`);
  if (a.hkv < 1 || a.hq % a.hkv !== 0) throw new InputError('E_KERNEL_SHAPE', `${op}: hq (${a.hq}) must be a multiple of hkv (${a.hkv})`);
  checkLength(op, 'q', a.q, a.n * a.hq * a.d);
  checkLength(op, 'k', a.k, a.nk * a.hkv * a.d);
  checkLength(op, 'v', a.v, a.nk * a.hkv * a.d);
  if (a.out) checkLength(op, 'out', a.out, a.n * a.hq * a.d);
  const scale = a.scale ?? 1 / Math.sqrt(a.d);
  const o = a.out ?? new Float32Array(a.n * a.hq * a.d);
  if (useNative(a, op)) {
    const threads = threadsOf(a);
    await native.softmaxAttention({ q: a.q, k: a.k, v: a.v, o, n: a.n, nk: a.nk, hq: a.hq, hkv: a.hkv, d: a.d, scale, threads }, op);
    return o;
  }
  o.set(softmaxAttentionRef({ ...a, scale }));
  return o;
}
