/**
 * Matrix products of activations with checkpoint weights, fp32 accumulation:
 * - `gemm`: y = x · Wᵀ, x [m, k] fp32, W [nOut, k] as bf16 bits (Uint16Array, as stored in the
 *   checkpoint) or fp32; y [m, nOut].
 * - `gemmGrouped`: the MoE experts, many weights with a few routed rows each, in one call.
 *
 * `precision` picks the numerics (default 'fp32'):
 * - 'fp32': x as given, W widened exactly, fp32 products and sums (the exact mode);
 * - 'bf16': x rounded to bf16 (round to nearest even) first, then bf16 × bf16 products (exact in
 *   fp32) summed in fp32 — what vdpbf16ps / AMX compute. Error vs the fp32 result is bounded by the
 *   rounding of x: |Δ| ≤ 2⁻⁸ Σ|x·w| plus fp32 summation (see test/native/gemm.test.ts).
 *
 * Native packed, cache-blocked kernels when the addon is loaded (the best level for each slot: AMX,
 * AVX512-BF16, AVX-512, AVX2 or scalar), a float64-accumulating loop otherwise. These signatures are
 * the stable API the runtime calls.
 */
import { checkDims, checkLength, threadsOf, useNative, type KernelOptions } from './common.js';
import * as native from '../../native/index.js';
import { roundBf16 } from '../dtype/convert.js';
import { InputError } from '../errors.js';

export type GemmPrecision = 'fp32' | 'bf16';

export interface GemmInput extends KernelOptions {
  /** [m, k] */ x: Float32Array;
  /** [nOut, k], bf16 bits or fp32 */ w: Uint16Array | Float32Array;
  m: number;
  k: number;
  nOut: number;
  /** Optional output [m, nOut]. */
  out?: Float32Array;
  /** 'fp32' (default) or 'bf16' numerics, see the module comment. */
  precision?: GemmPrecision;
}

const widen = (w: Uint16Array | Float32Array): Float32Array =>
  w instanceof Uint16Array ? new Float32Array(Uint32Array.from(w, (b) => b << 16).buffer) : w;

/** x rounded to bf16 (RNE) and widened back, the activation rounding of the bf16 numerics. */
export function roundActivationsBf16(x: Float32Array): Float32Array {
  return Float32Array.from(x, roundBf16);
}

/** Naive reference: y[i, n] = Σ_k x[i, k]·W[n, k] accumulated in float64 (x rounded first for 'bf16'). */
export function gemmRef(a: GemmInput): Float64Array {
  const y = new Float64Array(a.m * a.nOut);
  const wf = widen(a.w);
  const x = a.precision === 'bf16' ? roundActivationsBf16(a.x) : a.x;
  for (let i = 0; i < a.m; i++) {
    for (let n = 0; n < a.nOut; n++) {
      let s = 0;
      for (let c = 0; c < a.k; c++) s += x[i * a.k + c]! * wf[n * a.k + c]!;
      y[i * a.nOut + n] = s;
    }
  }
  return y;
}

function precisionOf(op: string, p: GemmPrecision | undefined): GemmPrecision {
  if (p === undefined || p === 'fp32' || p === 'bf16') return p ?? 'fp32';
  throw new InputError('E_KERNEL_SHAPE', `${op}: precision must be 'fp32' or 'bf16', got ${String(p)}`);
}

/**
 * @example const logits = await gemm({ x: hidden, w: lmHeadBf16, m: 1, k: 6144, nOut: 200064 });
 * @example const y = await gemm({ x, w: wqkvBf16, m: 512, k: 6144, nOut: 8192, precision: 'bf16' });
 */
export async function gemm(a: GemmInput): Promise<Float32Array> {
  const op = 'gemm';
  checkDims(op, { m: a.m, k: a.k, nOut: a.nOut });
  checkLength(op, 'x', a.x, a.m * a.k);
  checkLength(op, 'w', a.w, a.nOut * a.k);
  if (a.out) checkLength(op, 'out', a.out, a.m * a.nOut);
  const precision = precisionOf(op, a.precision);
  const y = a.out ?? new Float32Array(a.m * a.nOut);
  if (useNative(a, op)) {
    const threads = threadsOf(a);
    await native.gemm({ x: a.x, w: a.w, y, m: a.m, k: a.k, nOut: a.nOut, threads, bf16: precision === 'bf16' }, op);
    return y;
  }
  y.set(gemmRef(a));
  return y;
}

export interface GemmGroupedInput extends KernelOptions {
  /** [Σ rows, k]: the rows routed to expert e are rows offset[e] … offset[e] + rows[e] − 1. */
  x: Float32Array;
  /** [experts, nOut, k] stacked expert weights, bf16 bits or fp32. */
  w: Uint16Array | Float32Array;
  /** Per expert: first row in x / y, and how many rows (0 allowed). */
  offset: ArrayLike<number>;
  rows: ArrayLike<number>;
  experts: number;
  k: number;
  nOut: number;
  /** Optional output [Σ rows, nOut]; rows no expert covers are left as they are. */
  out?: Float32Array;
  precision?: GemmPrecision;
}

/** Float64 reference of gemmGrouped: one gemmRef per expert. */
export function gemmGroupedRef(a: GemmGroupedInput): Float64Array {
  const total = Math.max(0, ...Array.from(a.offset, (o, e) => o + a.rows[e]!));
  const y = new Float64Array(total * a.nOut);
  for (let e = 0; e < a.experts; e++) {
    const r = a.rows[e]!, off = a.offset[e]!;
    if (r === 0) continue;
    const part = gemmRef({
      x: a.x.subarray(off * a.k, (off + r) * a.k), w: a.w.subarray(e * a.nOut * a.k, (e + 1) * a.nOut * a.k),
      m: r, k: a.k, nOut: a.nOut, ...(a.precision ? { precision: a.precision } : {}),
    });
    y.set(part, off * a.nOut);
  }
  return y;
}

/**
 * Grouped expert GEMM: y[rows of e] = x[rows of e] · W_eᵀ for every expert e, one native call (each
 * expert weight streamed once; (expert, column tile) work items spread over the threads).
 * @example
 * // 32 experts, tokens already sorted by expert: counts[e] tokens for expert e
 * const y = await gemmGrouped({ x: sorted, w: w1Bf16, offset: starts, rows: counts, experts: 32, k: 6144, nOut: 9216, precision: 'bf16' });
 */
export async function gemmGrouped(a: GemmGroupedInput): Promise<Float32Array> {
  const op = 'gemmGrouped';
  checkDims(op, { experts: a.experts, k: a.k, nOut: a.nOut });
  checkLength(op, 'offset', a.offset, a.experts);
  checkLength(op, 'rows', a.rows, a.experts);
  if (a.k === 0 && a.x.length !== 0) throw new InputError('E_KERNEL_SHAPE', `${op}: x must be empty when k = 0`);
  const total = a.k === 0 ? Math.max(0, ...Array.from(a.offset, (o, e) => o + a.rows[e]!)) : a.x.length / a.k;
  if (!Number.isInteger(total)) throw new InputError('E_KERNEL_SHAPE', `${op}: x has ${a.x.length} elements, not a multiple of k = ${a.k}`);
  checkLength(op, 'w', a.w, a.experts * a.nOut * a.k);
  for (let e = 0; e < a.experts; e++) {
    const o = a.offset[e]!, r = a.rows[e]!;
    if (!Number.isInteger(o) || !Number.isInteger(r) || o < 0 || r < 0 || o + r > total) {
      throw new InputError('E_KERNEL_SHAPE', `${op}: expert ${e}: offset ${o} + rows ${r} must be non-negative integers within the ${total} rows of x`);
    }
  }
  if (a.out) checkLength(op, 'out', a.out, total * a.nOut);
  const precision = precisionOf(op, a.precision);
  const y = a.out ?? new Float32Array(total * a.nOut);
  if (useNative(a, op)) {
    const threads = threadsOf(a);
    const offset = Float64Array.from(a.offset), rows = Float64Array.from(a.rows);
    await native.gemmGrouped({ x: a.x, w: a.w, y, offset, rows, experts: a.experts, rowsTotal: total, k: a.k, nOut: a.nOut, threads, bf16: precision === 'bf16' }, op);
    return y;
  }
  const ref = gemmGroupedRef(a);
  for (let e = 0; e < a.experts; e++) {
    const o = a.offset[e]! * a.nOut, n = a.rows[e]! * a.nOut;
    y.set(ref.subarray(o, o + n), o);
  }
  return y;
}
