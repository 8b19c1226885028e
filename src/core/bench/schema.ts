/**
 * The versioned result document of `m1kit bench` (the `result` of its --json output). Documented in
 * README ("bench --json schema"). Bump BENCH_SCHEMA when a field changes meaning; `bench compare`
 * refuses to compare documents of different versions.
 */

import type { Figure } from '../figure.js';

export const BENCH_SCHEMA = 'm1kit.bench/1';

export type { Figure, FigureKind, Spread } from '../figure.js';

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
