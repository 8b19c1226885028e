/**
 * Streaming quantization error of one tensor, accumulated band by band in float64 over finite
 * elements: relative RMSE = ‖q − w‖₂ / ‖w‖₂, max |q − w|, SNR = 10·log10(‖w‖² / ‖q − w‖²) dB
 * (Infinity when the error is zero; relative RMSE 0 for an all-zero tensor). The sums live in `sums`
 * ([Σ w², Σ (q − w)², max |q − w|]), which the quantizers can add to directly (see core/quant/error-sums.ts).
 */
export class ErrorStats {
  readonly sums = new Float64Array(3);

  result(): { relRmse: number; maxAbs: number; snrDb: number } {
    const [sumSq, errSq, maxAbs] = this.sums as unknown as [number, number, number];
    const relRmse = sumSq > 0 ? Math.sqrt(errSq / sumSq) : 0;
    const snrDb = errSq > 0 ? 10 * Math.log10(sumSq / errSq) : Infinity;
    return { relRmse, maxAbs, snrDb };
  }
}
