/**
 * The versioned result document of `m1kit bench` (the `result` of its --json output). Documented in
 * README ("bench --json schema"). Bump BENCH_SCHEMA when a field changes meaning; `bench compare`
 * refuses to compare documents of different versions.
 */

export const BENCH_SCHEMA = 'm1kit.bench/1';

/**
 * How a figure was obtained:
 * - `modelled`: computed from the architecture by formula (deterministic);
 * - `measured`: timed on this machine in this run;
 * - `derived`: arithmetic on measured times and modelled counts (e.g. GFLOP/s, per-layer time);
 * - `extrapolated`: a measured sample scaled beyond what was run (method in `note`).
 */
export type FigureKind = 'modelled' | 'measured' | 'derived' | 'extrapolated';

export interface Spread {
  min: number;
  max: number;
  /** (max − min) / median. */
  rel: number;
}

export interface Figure {
  value: number;
  /** Unit of `value`: FLOP, FLOP/token, B, B/token, tokens/s, s, GFLOP/s, GB/s, ratio, FLOP/B. */
  unit: string;
  kind: FigureKind;
  /** For gated throughput metrics: which direction is better. Only `measured` figures with `better` are gated. */
  better?: 'higher' | 'lower';
  /** Every repeat's value when measured more than once; `value` is their median. */
  samples?: number[];
  spread?: Spread;
  note?: string;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryBytes: number;
  platform: string;
  node: string;
  /** Native addon facts as reported by the addon (SIMD path, CUDA devices), or why it is absent. */
  native: Record<string, unknown>;
}

export interface BenchParams {
  ctx: number;
  /** Sweep of context lengths for the model tables. */
  sweep: number[];
  convention: 'physical' | 'paper';
  /** Ids of the models, subject first. */
  models: string[];
  /** Where the subject's config came from ("preset:minimax-m1" or a path). */
  config: string;
  /** Kernel run settings, absent when kernels were not run. */
  kernels?: { device: string; threads: number; repeat: number; heads: number; tokens: number };
}

export interface BenchResult {
  schema: typeof BENCH_SCHEMA;
  createdAt: string;
  tool: { name: 'm1kit'; version: string; git: string | null };
  machine: MachineInfo;
  params: BenchParams;
  /** Every figure by stable id, e.g. `model.minimax-m1.decode_flops@1000000`, `kernel.lightning_prefill.tokens_per_s`. */
  metrics: Record<string, Figure>;
  /** Free-form notes printed under the tables (methods, extrapolations, skipped parts). */
  notes: string[];
}
