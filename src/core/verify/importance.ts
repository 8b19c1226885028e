/**
 * What a train/inference probability mismatch does to an RL update (MiniMax-M1 report, §3 CISPO).
 *
 * Rollouts are sampled by the inference engine, so the first gradient step on them weighs token t by
 * the importance ratio r_t = p_train(t) / p_infer(t); with identical engines r_t = 1. Two ways of
 * bounding it:
 * - PPO/GRPO ε-clip: the surrogate min(r·A, clip(r, 1−ε, 1+ε)·A) has zero gradient for a token whose
 *   ratio lies outside [1−ε, 1+ε] on the side the advantage pushes (r > 1+ε when A > 0, r < 1−ε when
 *   A < 0). "Cut" below counts tokens outside the band; `above`/`below` split it by side, so the share
 *   cut at a given advantage sign is one of the two.
 * - CISPO: the gradient of every token is kept and weighted by the stop-gradient IS weight
 *   ŵ = clip(r, 1−ε_low, 1+ε_high); the report sets ε_low large (no lower bound) and tunes only ε_high,
 *   so ŵ = min(r, 1 + ε_high). "Capped" counts tokens with r > 1 + ε_high; the weight change is
 *   |ŵ − r| = max(0, r − 1 − ε_high).
 * Low-probability tokens (p_infer < 0.1 by default) are reported separately: they are the reflective
 * "fork" tokens CISPO was designed to keep.
 */
import { summarize, type Summary } from './metrics.js';

/** PPO/GRPO clip range most RL recipes use (PPO's default). */
export const DEFAULT_CLIP_EPS = 0.2;
/**
 * CISPO's ε_high. The report disables the lower bound and tunes only ε_high without publishing the
 * value; 4 (IS weight ≤ 5) is the cap the ScaleRL study published for CISPO, which found results
 * insensitive over caps of 4–8.
 */
export const DEFAULT_CISPO_EPS_HIGH = 4;
/** "Low-probability" tokens: inference probability below this. */
export const DEFAULT_LOW_PROB = 0.1;

export interface ImportanceOptions {
  clipEps?: number;
  cispoEpsHigh?: number;
  lowProb?: number;
}

export interface ClipShares {
  tokens: number;
  /** Fraction of tokens with r outside [1−ε, 1+ε] (PPO/GRPO clip binds for one advantage sign). */
  clipped: number;
  /** Fraction with r > 1+ε (cut when A > 0). */
  clippedAbove: number;
  /** Fraction with r < 1−ε (cut when A < 0). */
  clippedBelow: number;
  /** Fraction with r > 1+ε_high (CISPO caps the IS weight). */
  cispoCapped: number;
  /** mean |min(r, 1+ε_high) − r| over the tokens. */
  cispoMeanAbsWeightChange: number;
}

export interface ImportanceStats {
  clipEps: number;
  cispoEpsHigh: number;
  lowProb: number;
  /** Quantiles of r = p_train / p_infer over all tokens. */
  ratio: Summary;
  /** Quantiles of |r − 1|. */
  absDeviation: Summary;
  all: ClipShares;
  /** The same shares over tokens with p_infer < lowProb. */
  lowProbTokens: ClipShares;
}

/** r = p_train / p_infer per token (float64). */
export function importanceRatios(pInfer: ArrayLike<number>, pTrain: ArrayLike<number>): Float64Array {
  if (pInfer.length !== pTrain.length) throw new RangeError(`importanceRatios: lengths differ (${pInfer.length} vs ${pTrain.length})`);
  const r = new Float64Array(pInfer.length);
  for (let i = 0; i < r.length; i++) r[i] = pTrain[i]! / pInfer[i]!;
  return r;
}

/** The options with their defaults filled in; RangeError when one is out of range. */
export function importanceOptions(o: ImportanceOptions = {}): Required<ImportanceOptions> {
  const clipEps = o.clipEps ?? DEFAULT_CLIP_EPS;
  const cispoEpsHigh = o.cispoEpsHigh ?? DEFAULT_CISPO_EPS_HIGH;
  const lowProb = o.lowProb ?? DEFAULT_LOW_PROB;
  if (!(clipEps > 0 && clipEps < 1)) throw new RangeError(`clip ε must lie in (0, 1), got ${clipEps}`);
  if (!(cispoEpsHigh > 0 && Number.isFinite(cispoEpsHigh))) throw new RangeError(`CISPO ε_high must be a finite number > 0, got ${cispoEpsHigh}`);
  if (!(lowProb > 0 && lowProb <= 1)) throw new RangeError(`the low-probability threshold must lie in (0, 1], got ${lowProb}`);
  return { clipEps, cispoEpsHigh, lowProb };
}

function shares(r: Float64Array, keep: (i: number) => boolean, eps: number, epsHigh: number): ClipShares {
  let n = 0;
  let above = 0;
  let below = 0;
  let capped = 0;
  let change = 0;
  const cap = 1 + epsHigh;
  for (let i = 0; i < r.length; i++) {
    if (!keep(i)) continue;
    const x = r[i]!;
    n++;
    if (x > 1 + eps) above++;
    else if (x < 1 - eps) below++;
    if (x > cap) {
      capped++;
      change += x - cap;
    }
  }
  const f = (c: number) => (n ? c / n : NaN);
  return { tokens: n, clipped: f(above + below), clippedAbove: f(above), clippedBelow: f(below), cispoCapped: f(capped), cispoMeanAbsWeightChange: f(change) };
}

/**
 * Ratio quantiles and the shares a PPO/GRPO clip or CISPO's capped IS weight would change.
 * @example importanceStats(run.pInfer, run.pTrain).all.clipped
 */
export function importanceStats(pInfer: ArrayLike<number>, pTrain: ArrayLike<number>, o: ImportanceOptions = {}): ImportanceStats {
  const { clipEps, cispoEpsHigh, lowProb } = importanceOptions(o);
  const r = importanceRatios(pInfer, pTrain);
  const dev = r.map((x) => Math.abs(x - 1));
  return {
    clipEps,
    cispoEpsHigh,
    lowProb,
    ratio: summarize(r),
    absDeviation: summarize(dev),
    all: shares(r, () => true, clipEps, cispoEpsHigh),
    lowProbTokens: shares(r, (i) => pInfer[i]! < lowProb, clipEps, cispoEpsHigh),
  };
}

export interface RatioHistogram {
  /** Bin edges in log10 r (bins.length + 1 values); the outer bins also hold everything beyond them. */
  edges: number[];
  counts: number[];
}

/** Histogram of log10 r over [−span, span] in `bins` equal bins, values beyond the range clamped into the outer bins. */
export function ratioHistogram(pInfer: ArrayLike<number>, pTrain: ArrayLike<number>, bins = 60, span = 1): RatioHistogram {
  const counts = new Array<number>(bins).fill(0);
  const r = importanceRatios(pInfer, pTrain);
  for (const x of r) {
    const b = Math.floor(((Math.log10(x) + span) / (2 * span)) * bins);
    counts[Math.min(bins - 1, Math.max(0, Number.isNaN(b) ? 0 : b))]!++;
  }
  return { edges: Array.from({ length: bins + 1 }, (_, i) => -span + (2 * span * i) / bins), counts };
}
