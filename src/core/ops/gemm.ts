/**
 * y = x · Wᵀ with fp32 accumulation: x [m, k] fp32, W [nOut, k] as bf16 bits (Uint16Array, widened
 * exactly) or fp32; y [m, nOut]. Native dot-product tiles when the addon is loaded, a plain loop
 * (float64 accumulate) otherwise.
 */
import { checkDims, checkLength, threadsOf, useNative, type KernelOptions } from './common.js';
import { withNative } from '../../native/index.js';

export interface GemmInput extends KernelOptions {
  /** [m, k] */ x: Float32Array;
  /** [nOut, k], bf16 bits or fp32 */ w: Uint16Array | Float32Array;
  m: number;
  k: number;
  nOut: number;
  /** Optional output [m, nOut]. */
  out?: Float32Array;
}

/** Naive reference: y[i, n] = Σ_k x[i, k]·W[n, k] accumulated in float64. */
export function gemmRef(a: GemmInput): Float64Array {
  const y = new Float64Array(a.m * a.nOut);
  const wf = a.w instanceof Uint16Array ? new Float32Array(Uint32Array.from(a.w, (b) => b << 16).buffer) : a.w;
  for (let i = 0; i < a.m; i++) {
    for (let n = 0; n < a.nOut; n++) {
      let s = 0;
      for (let c = 0; c < a.k; c++) s += a.x[i * a.k + c]! * wf[n * a.k + c]!;
      y[i * a.nOut + n] = s;
    }
  }
  return y;
}

/**
 * @example const logits = await gemm({ x: hidden, w: lmHeadBf16, m: 1, k: 6144, nOut: 200064 });
 */
export async function gemm(a: GemmInput): Promise<Float32Array> {
  const op = 'gemm';
  checkDims(op, { m: a.m, k: a.k, nOut: a.nOut });
  checkLength(op, 'x', a.x, a.m * a.k);
  checkLength(op, 'w', a.w, a.nOut * a.k);
  if (a.out) checkLength(op, 'out', a.out, a.m * a.nOut);
  const y = a.out ?? new Float32Array(a.m * a.nOut);
  if (useNative(a, op)) {
    const threads = threadsOf(a);
    await withNative(op, (x) => x.gemm({ x: a.x, w: a.w, y, m: a.m, k: a.k, nOut: a.nOut, threads }));
    return y;
  }
  y.set(gemmRef(a));
  return y;
}
