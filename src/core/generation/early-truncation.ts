/**
 * Early truncation of degenerate generations (MiniMax-M1 report, RL on long outputs): once a model
 * emits a long run of near-certain tokens it is usually stuck repeating itself, so sampling stops
 * after `window` consecutive tokens whose sampled probability exceeds `minProb` (the report: 3,000
 * tokens above 0.99). One guard per sequence; it only looks at the probabilities fed to it.
 */

/** The report's rule: stop after 3,000 consecutive tokens with p > 0.99. */
export const EARLY_TRUNCATION_DEFAULTS = { minProb: 0.99, window: 3000 } as const;

export interface EarlyTruncationOptions {
  /** A token counts towards the run when its probability is strictly above this (default 0.99). */
  minProb?: number;
  /** Consecutive counted tokens that stop the sequence (default 3000; 0 disables the guard). */
  window?: number;
}

export class EarlyTruncationGuard {
  readonly minProb: number;
  readonly window: number;
  private run = 0;
  private tripped = false;

  constructor(o: EarlyTruncationOptions = {}) {
    this.minProb = o.minProb ?? EARLY_TRUNCATION_DEFAULTS.minProb;
    this.window = o.window ?? EARLY_TRUNCATION_DEFAULTS.window;
    if (!(this.minProb >= 0 && this.minProb < 1)) throw new RangeError(`early-truncation probability must lie in [0, 1), got ${this.minProb}`);
    if (!Number.isInteger(this.window) || this.window < 0) throw new RangeError(`early-truncation window must be a whole number ≥ 0, got ${this.window}`);
  }

  /** Record the probability of the token just sampled; true when the sequence must stop after it. */
  push(p: number): boolean {
    if (this.window === 0) return false;
    this.run = p > this.minProb ? this.run + 1 : 0;
    if (this.run >= this.window) this.tripped = true;
    return this.tripped;
  }

  /** Length of the current run of tokens above the threshold. */
  get currentRun(): number {
    return this.run;
  }

  /** Whether the guard has fired since the last reset. */
  get stopped(): boolean {
    return this.tripped;
  }

  /** Start a new sequence. */
  reset(): void {
    this.run = 0;
    this.tripped = false;
  }
}
