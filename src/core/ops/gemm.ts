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
import { gemmGroupedRef, gemmRef, type GemmGroupedRefInput, type GemmPrecision, type GemmRefInput } from './gemm.ref.js';
import { InputError } from '../errors.js';

export type { GemmPrecision } from './gemm.ref.js';

export interface GemmInput extends KernelOptions, GemmRefInput {
  /** Optional output [m, nOut]. */
  out?: Float32Array;
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

export interface GemmGroupedInput extends KernelOptions, GemmGroupedRefInput {
  /** Optional output [Σ rows, nOut]; rows no expert covers are left as they are. */
  out?: Float32Array;
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
