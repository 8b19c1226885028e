/**
 * The machine ceilings of one bench run (what peak.ts and native-peak.ts measure and derived.ts turns
 * into ratios), kept apart so the portable and native probes share the type without importing each other.
 */
export interface PeakResult {
  /** fp32 multiply-add throughput, GFLOP/s, all threads. */
  fmaGflops: number;
  fmaMethod: string;
  /** fp32 SGEMM throughput when a native GEMM exists. */
  sgemmGflops?: number;
  sgemmMethod?: string;
  /** Copy bandwidth (read + write), GB/s (1e9), all threads. */
  bandwidthGBs: number;
  bandwidthMethod: string;
  /** bf16 dot-product peak (vdpbf16ps or AMX loop), GFLOP/s, when the CPU has such an instruction. */
  bf16Gflops?: number;
  bf16Method?: string;
  /** In-place stream (read + write) of a buffer of `streamBytes`, the roof of a decode step of that state size. */
  streamGBs?: number;
  streamMethod?: string;
}
