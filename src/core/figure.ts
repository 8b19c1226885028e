/**
 * One named number with its unit and how it was obtained: the value type of every metric that
 * `m1kit bench` reports (modelled by flops/, measured or derived by bench/), and of the --json
 * result's `metrics` map (core/bench/schema.ts).
 */

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
