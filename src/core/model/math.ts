/**
 * Plain TypeScript numeric building blocks of the reference forward pass. Storage is fp32
 * (Float32Array); reductions accumulate in float64 and round once when stored, so "fp32" results are
 * at least as accurate as an fp32-accumulating kernel. bf16 emulation rounds with `roundBf16InPlace`
 * exactly where the caller says (the model code names each rounding point).
 *
 * Shapes: row-major; a Linear weight is [nOut, k] (PyTorch orientation) and computes y = x·Wᵀ.
 */

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** Round every element of `a` to the nearest bf16 (round to nearest even), in place; returns `a`. */
export function roundBf16InPlace(a: Float32Array): Float32Array {
  const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
  for (let i = 0; i < u.length; i++) {
    const b = u[i]!;
    if ((b & 0x7fffffff) > 0x7f800000) {
      u[i] = (b | 0x00400000) & 0xffff0000; // NaN stays a quiet NaN
    } else {
      u[i] = (b + 0x7fff + ((b >>> 16) & 1)) & 0xffff0000;
    }
  }
  return a;
}

/** Round one number to bf16 (RNE), returned as a JS number. */
export function bf16(x: number): number {
  F32[0] = x;
  const b = U32[0]!;
  if ((b & 0x7fffffff) > 0x7f800000) return NaN;
  U32[0] = (b + 0x7fff + ((b >>> 16) & 1)) & 0xffff0000;
  return F32[0]!;
}

/**
 * y[m, nOut] = x[m, k] · w[nOut, k]ᵀ, dot products accumulated in float64.
 * `out` (if given) receives the result starting at column `col0` of a row of width `ldOut`
 * (used to fill a wide output from row chunks of a streamed weight).
 */
export function gemm(
  x: Float32Array,
  w: Float32Array,
  m: number,
  k: number,
  nOut: number,
  out?: Float32Array,
  col0 = 0,
  ldOut = nOut,
): Float32Array {
  const y = out ?? new Float32Array(m * nOut);
  for (let i = 0; i < m; i++) {
    const xo = i * k;
    const yo = i * ldOut + col0;
    for (let o = 0; o < nOut; o++) {
      const wo = o * k;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let c = 0;
      for (; c + 3 < k; c += 4) {
        s0 += x[xo + c]! * w[wo + c]!;
        s1 += x[xo + c + 1]! * w[wo + c + 1]!;
        s2 += x[xo + c + 2]! * w[wo + c + 2]!;
        s3 += x[xo + c + 3]! * w[wo + c + 3]!;
      }
      for (; c < k; c++) s0 += x[xo + c]! * w[wo + c]!;
      y[yo + o] = s0 + s1 + (s2 + s3);
    }
  }
  return y;
}

/** Logistic sigmoid in float64. */
export const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
/** SiLU(v) = v·σ(v) in float64. */
export const silu = (v: number): number => v / (1 + Math.exp(-v));

/** In-place SiLU of every element (stored back as fp32). */
export function siluInPlace(a: Float32Array): Float32Array {
  for (let i = 0; i < a.length; i++) a[i] = silu(a[i]!);
  return a;
}

/**
 * RMSNorm of each row of x [m, n]: γ ⊙ (x · (mean(x²) + eps)^(−1/2)).
 * With `bf16` set, the official rounding points are emulated: the normalised row is rounded to bf16
 * before the γ product, and the product is rounded to bf16 (docs/architecture.md §3.6).
 */
export function rmsNorm(x: Float32Array, gamma: Float32Array, m: number, n: number, eps: number, bf16Emul: boolean): Float32Array {
  const y = new Float32Array(m * n);
  const eps32 = Math.fround(eps);
  for (let i = 0; i < m; i++) {
    const o = i * n;
    let ss = 0;
    for (let c = 0; c < n; c++) ss += x[o + c]! * x[o + c]!;
    const variance = Math.fround(ss / n);
    const inv = Math.fround(1 / Math.sqrt(Math.fround(variance + eps32)));
    for (let c = 0; c < n; c++) {
      const normed = Math.fround(x[o + c]! * inv);
      y[o + c] = bf16Emul ? bf16(gamma[c]! * bf16(normed)) : gamma[c]! * normed;
    }
  }
  return y;
}

/** Softmax of a row in float64 (stable): returns probabilities as a Float64Array. */
export function softmax64(z: ArrayLike<number>, from = 0, len = z.length - from): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < len; i++) if (z[from + i]! > max) max = z[from + i]!;
  const p = new Float64Array(len);
  let sum = 0;
  for (let i = 0; i < len; i++) {
    const e = Math.exp(z[from + i]! - max);
    p[i] = e;
    sum += e;
  }
  for (let i = 0; i < len; i++) p[i] = p[i]! / sum;
  return p;
}
