/**
 * Reference for the quantization-error sums that the native quantizers can add in the same call:
 * over the row blocks sampled by `ErrorSample`, in float64 and over finite differences only,
 * out[0] += Σ ref², out[1] += Σ (deq − ref)², out[2] = max(out[2], max |deq − ref|).
 */

/** Which rows to measure and where the sums go. */
export interface ErrorSample {
  /** Rows per block (128: the fp8 block edge or the error report's unit). */
  unit: number;
  /** Measure blocks whose global index is a multiple of this (1: every block). */
  stride: number;
  /** Global index of the block that starts at row 0 of this call. */
  block0: number;
  /** [Σ ref², Σ err², max |err|], added to. */
  out: Float64Array;
}

/** Add the sums of `ref` against `got` (same length) to `out`. */
export function accumulateErrors(ref: Float32Array, got: Float32Array, out: Float64Array): void {
  let s = 0;
  let e = 0;
  let m = out[2]!;
  const n = ref.length;
  for (let i = 0; i < n; i++) {
    const a = ref[i]!;
    const d = got[i]! - a;
    // d − d is NaN exactly when d is ±Inf or NaN, i.e. when either side is not finite
    if (d - d !== 0) continue;
    s += a * a;
    e += d * d;
    const ad = Math.abs(d);
    if (ad > m) m = ad;
  }
  out[0]! += s;
  out[1]! += e;
  out[2] = m;
}

/** The sampled [first, end) row ranges of a call over `rows` rows. */
export function sampledRows(rows: number, e: Pick<ErrorSample, 'unit' | 'stride' | 'block0'>): [number, number][] {
  const ranges: [number, number][] = [];
  for (let b = 0; b * e.unit < rows; b++) if ((e.block0 + b) % e.stride === 0) ranges.push([b * e.unit, Math.min(rows, (b + 1) * e.unit)]);
  return ranges;
}

/**
 * Add the error sums of the sampled blocks: `w` is the fp32 input [rows, cols] and `deq(a, b)` the
 * dequantized rows [a, b) of the codes.
 */
export function addErrorSums(e: ErrorSample, w: Float32Array, rows: number, cols: number, deq: (a: number, b: number) => Float32Array): void {
  for (const [a, b] of sampledRows(rows, e)) accumulateErrors(w.subarray(a * cols, b * cols), deq(a, b), e.out);
}
