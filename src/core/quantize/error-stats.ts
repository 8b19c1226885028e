/**
 * Streaming quantization error of one tensor, accumulated band by band in float64 over finite
 * elements: relative RMSE = ‖q − w‖₂ / ‖w‖₂, max |q − w|, SNR = 10·log10(‖w‖² / ‖q − w‖²) dB
 * (Infinity when the error is zero; relative RMSE 0 for an all-zero tensor).
 */
export class ErrorStats {
  private sumSq = 0;
  private errSq = 0;
  private maxAbs = 0;

  add(ref: Float32Array, got: Float32Array): void {
    let s = 0;
    let e = 0;
    let m = this.maxAbs;
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
    this.sumSq += s;
    this.errSq += e;
    this.maxAbs = m;
  }

  result(): { relRmse: number; maxAbs: number; snrDb: number } {
    const relRmse = this.sumSq > 0 ? Math.sqrt(this.errSq / this.sumSq) : 0;
    const snrDb = this.errSq > 0 ? 10 * Math.log10(this.sumSq / this.errSq) : Infinity;
    return { relRmse, maxAbs: this.maxAbs, snrDb };
  }
}
