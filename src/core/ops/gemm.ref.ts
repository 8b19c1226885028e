/**
 * TypeScript references of the GEMMs (core/ops/gemm.ts): y[i, n] = Σ_k x[i, k]·W[n, k] accumulated in
 * float64, W [nOut, k] as bf16 bits (Uint16Array) or fp32; for the 'bf16' numerics x is rounded to bf16
 * (RNE) first, as the kernels do.
 */
import { roundBf16 } from '../dtype/convert.js';

export type GemmPrecision = 'fp32' | 'bf16';

export interface GemmRefInput {
  /** [m, k] */ x: Float32Array;
  /** [nOut, k], bf16 bits or fp32 */ w: Uint16Array | Float32Array;
  m: number;
  k: number;
  nOut: number;
  /** 'fp32' (default) or 'bf16' numerics, see gemm.ts. */
  precision?: GemmPrecision;
}

export interface GemmGroupedRefInput {
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
  precision?: GemmPrecision;
}

const widen = (w: Uint16Array | Float32Array): Float32Array =>
  w instanceof Uint16Array ? new Float32Array(Uint32Array.from(w, (b) => b << 16).buffer) : w;

/** x rounded to bf16 (RNE) and widened back, the activation rounding of the bf16 numerics. */
export function roundActivationsBf16(x: Float32Array): Float32Array {
  return Float32Array.from(x, roundBf16);
}

/** Naive reference: y[i, n] = Σ_k x[i, k]·W[n, k] accumulated in float64 (x rounded first for 'bf16'). */
export function gemmRef(a: GemmRefInput): Float64Array {
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

/** Float64 reference of gemmGrouped: one gemmRef per expert. */
export function gemmGroupedRef(a: GemmGroupedRefInput): Float64Array {
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
