/**
 * Lightning attention entry points (docs/architecture.md §3.3): native block-form prefill and recurrent
 * decode when the addon is loaded, the TypeScript recurrence otherwise. fp32 in/out, fp32 state.
 * `backend: 'cuda'` runs the GPU kernels of kernels/cuda instead (q, k, v rounded to bf16 on upload,
 * fp32 state; `precision` and `threads` do not apply there).
 *
 * Layouts (token-major): q, k, v, o [n, h, d]; state [h, d, d] with o_t = q_t · S_t (inclusive:
 * S_t = λ S_{t−1} + k_tᵀ v_t); slopes [h] with per-head decay λ = exp(−s).
 * To batch several sequences, stack them as extra heads (h = batch · heads, slopes repeated).
 */
import { checkDims, checkLength, requireCuda, threadsOf, useNative, type Backend, type KernelOptions } from './common.js';
import { roundActivationsBf16 } from './gemm.ref.js';
import { lightningRecurrent } from './lightning.ref.js';
import * as native from '../../native/index.js';
import { InputError } from '../errors.js';

export interface LightningInput extends KernelOptions<Backend> {
  /** [n, h, d] */ q: Float32Array;
  /** [n, h, d] */ k: Float32Array;
  /** [n, h, d] */ v: Float32Array;
  n: number;
  h: number;
  d: number;
  /** [h] decay rates s (λ = exp(−s)) */
  slopes: Float32Array;
  /** [h, d, d] incoming state (default zeros). Not modified unless `inPlace` is set. */
  state?: Float32Array;
  /** Update `state` in place and return it (no copy; what a decode loop wants). Default false. */
  inPlace?: boolean;
  /** Prefill block length B (default 256, as the spec). */
  blockSize?: number;
  /** Optional output buffer [n, h, d] (tests pass a NaN-filled one). */
  out?: Float32Array;
  /**
   * Prefill numerics (default 'fp32'). 'bf16': q, k, v rounded to bf16 (RNE) as a bf16 checkpoint's
   * activations would be; products summed in fp32 and the state kept in fp32 (vdpbf16ps where the CPU
   * has it). Decode is always fp32 (it is bandwidth-bound on the fp32 state).
   */
  precision?: 'fp32' | 'bf16';
}

export interface LightningOutput {
  /** [n, h, d] */ o: Float32Array;
  /** [h, d, d] state after the last token */ state: Float32Array;
}

function prepare(op: string, a: LightningInput): { o: Float32Array; state: Float32Array } {
  checkDims(op, { n: a.n, h: a.h, d: a.d });
  if (a.h < 1 || a.d < 1) throw new InputError('E_KERNEL_SHAPE', `${op}: h and d must be ≥ 1`);
  const nhd = a.n * a.h * a.d;
  checkLength(op, 'q', a.q, nhd);
  checkLength(op, 'k', a.k, nhd);
  checkLength(op, 'v', a.v, nhd);
  checkLength(op, 'slopes', a.slopes, a.h);
  if (a.state) checkLength(op, 'state', a.state, a.h * a.d * a.d);
  if (a.out) checkLength(op, 'out', a.out, nhd);
  const state = a.state ? (a.inPlace ? a.state : a.state.slice()) : new Float32Array(a.h * a.d * a.d);
  return { o: a.out ?? new Float32Array(nhd), state };
}

async function run(op: 'prefill' | 'decode', a: LightningInput): Promise<LightningOutput> {
  const cuda = a.backend === 'cuda';
  const name = `${cuda ? 'cudaL' : 'l'}ightning${op === 'prefill' ? 'Prefill' : 'Decode'}`;
  const { o, state } = prepare(name, a);
  const block = a.blockSize ?? 256;
  if (!Number.isInteger(block) || block < 1 || block > 4096) throw new InputError('E_KERNEL_SHAPE', `${name}: blockSize must be in [1, 4096], got ${block}`);
  const precision = a.precision ?? 'fp32';
  if (precision !== 'fp32' && precision !== 'bf16') throw new InputError('E_KERNEL_SHAPE', `${name}: precision must be 'fp32' or 'bf16', got ${String(precision)}`);
  const bf16 = op === 'prefill' && precision === 'bf16';
  if (cuda) {
    requireCuda(name);
    await native.cudaLightning({ op, q: a.q, k: a.k, v: a.v, o, state, slopes: a.slopes, n: a.n, h: a.h, d: a.d, block }, name);
    return { o, state };
  }
  if (useNative(a, name)) {
    const threads = threadsOf(a);
    const opts = { q: a.q, k: a.k, v: a.v, o, state, slopes: a.slopes, n: a.n, h: a.h, d: a.d, block, threads };
    await (op === 'prefill' ? native.lightningPrefill({ ...opts, bf16 }, name) : native.lightningDecode(opts, name));
    return { o, state };
  }
  const qkv = bf16 ? { q: roundActivationsBf16(a.q), k: roundActivationsBf16(a.k), v: roundActivationsBf16(a.v) } : {};
  const r = lightningRecurrent({ ...a, ...qkv, state });
  o.set(r.o);
  state.set(r.state);
  return { o, state };
}

/**
 * Block-form prefill of n tokens with carried state.
 * @example const { o, state } = await lightningPrefill({ q, k, v, n: 1024, h: 64, d: 128, slopes });
 */
export function lightningPrefill(a: LightningInput): Promise<LightningOutput> {
  return run('prefill', a);
}

/**
 * n recurrent decode steps (S ← λS + kᵀv, o = q·S), batched over heads.
 * @example const { o, state: next } = await lightningDecode({ q, k, v, n: 1, h: 64, d: 128, slopes, state });
 */
export function lightningDecode(a: LightningInput): Promise<LightningOutput> {
  return run('decode', a);
}

/**
 * Streaming prefill: feed a long sequence chunk by chunk; the state is carried between chunks, so
 * memory is bounded by one chunk (q, k, v, o of `chunk` tokens) plus the [h, d, d] state.
 * Chunks whose lengths are multiples of `blockSize` reproduce the block boundaries of one call.
 * @example
 * const s = new LightningPrefillStream({ h: 1, d: 128, slopes });
 * for (const c of chunks) { const o = await s.push(c.q, c.k, c.v, c.n); consume(o); }
 * const finalState = s.state;
 */
export class LightningPrefillStream {
  private st: Float32Array;
  readonly h: number;
  readonly d: number;
  readonly slopes: Float32Array;
  private readonly opts: KernelOptions<Backend> & { blockSize?: number; precision?: 'fp32' | 'bf16' };
  /** Tokens consumed so far. */
  tokens = 0;

  constructor(a: { h: number; d: number; slopes: Float32Array; state?: Float32Array; blockSize?: number; precision?: 'fp32' | 'bf16' } & KernelOptions<Backend>) {
    this.h = a.h;
    this.d = a.d;
    this.slopes = a.slopes;
    this.st = a.state ? a.state.slice() : new Float32Array(a.h * a.d * a.d);
    this.opts = {};
    if (a.blockSize !== undefined) this.opts.blockSize = a.blockSize;
    if (a.precision !== undefined) this.opts.precision = a.precision;
    if (a.threads !== undefined) this.opts.threads = a.threads;
    if (a.backend !== undefined) this.opts.backend = a.backend;
  }

  /** Process the next n tokens ([n, h, d] each); returns their outputs [n, h, d]. */
  async push(q: Float32Array, k: Float32Array, v: Float32Array, n: number, out?: Float32Array): Promise<Float32Array> {
    const input: LightningInput = { ...this.opts, q, k, v, n, h: this.h, d: this.d, slopes: this.slopes, state: this.st, inPlace: true };
    if (out) input.out = out;
    const r = await lightningPrefill(input);
    this.tokens += n;
    return r.o;
  }

  /** State after the last pushed token, [h, d, d]. */
  get state(): Float32Array {
    return this.st;
  }
}
