/**
 * The train-vs-inference probability experiment (docs/architecture.md §4, Figure 3 of the MiniMax-M1 report).
 *
 * For each sequence and each LM-head precision:
 * - inference path: block-form prefill of the prompt, then token-by-token decode (recurrent lightning
 *   state, KV cache) sampling at temperature 1 with a seeded PRNG; p_I = probability of each sampled
 *   token under the distribution it was sampled from;
 * - training path: one block-form prefill over prompt + generated tokens; p_T = probability of the same
 *   tokens at the same positions.
 * Both paths use the same precision mode (bf16 emulation by default) and the same LM-head choice.
 * The inference path stops a sequence early by the report's truncation rule (a long run of
 * near-certain tokens, see generation/early-truncation.ts); the training path then scores what was
 * generated. Importance ratios r = p_T / p_I and their clip shares come from the same p arrays.
 */
import { throwIfAborted, UsageError } from '../errors.js';
import { createSession, type CheckpointLike, type Precision } from '../model/session.js';
import { EarlyTruncationGuard, type EarlyTruncationOptions } from '../generation/early-truncation.js';
import { importanceOptions, importanceStats, type ImportanceOptions, type ImportanceStats } from './importance.js';
import { probabilityAgreement, type ProbabilityAgreement } from './metrics.js';
import { mulberry32, randomTokens, sampleToken, tokenProbability } from '../generation/sampling.js';

export interface TrainVsInferOptions {
  checkpoint: CheckpointLike;
  promptLen: number;
  genLen: number;
  sequences: number;
  seed: number;
  /**
   * Multiplies the final-norm weight (reach trained-model logit magnitudes on a random model).
   * 'auto' (default): measure the first prompt's logits at scale 1 and scale them to a mean row
   * max |z| of AUTO_TARGET_MAX_ABS_LOGIT.
   */
  logitScale?: number | 'auto';
  /** Body precision of both paths (default 'bf16'). */
  precision?: Precision;
  /** LM-head precisions to compare (default ['bf16', 'fp32']). */
  lmHeads?: Precision[];
  /** Fixed prompt used for every sequence instead of random tokens. */
  prompt?: number[];
  /** Ratio statistics: PPO clip ε, CISPO ε_high, low-probability threshold. */
  importance?: ImportanceOptions;
  /** Early truncation of the inference path (defaults: the report's 3,000 tokens above 0.99). */
  earlyTruncation?: EarlyTruncationOptions;
  maxMemory?: number;
  /** Threads for native kernels. */
  threads?: number;
  signal?: AbortSignal;
  /** (tokensDone, tokensTotal) over all paths. */
  onProgress?: (done: number, total: number) => void;
}

export interface TrainVsInferRun {
  lmHead: Precision;
  agreement: ProbabilityAgreement;
  /** r = p_T / p_I: quantiles and the shares a PPO/GRPO clip or CISPO would change. */
  importance: ImportanceStats;
  /** Sequences the early-truncation guard stopped before genLen tokens. */
  stoppedEarly: number;
  /** Largest |logit| seen on the sampled rows, and the mean over rows of the row's max |logit|. */
  maxAbsLogit: number;
  meanRowMaxAbsLogit: number;
  /** Per-token probabilities (inference, training), in sequence order. */
  pInfer: Float64Array;
  pTrain: Float64Array;
  /** Per sequence: prompt followed by the generated tokens. */
  sequences: number[][];
}

export interface TrainVsInferResult {
  promptLen: number;
  genLen: number;
  sequences: number;
  seed: number;
  precision: Precision;
  logitScale: number;
  /** True when the logit scale was chosen by 'auto'. */
  logitScaleAuto: boolean;
  earlyTruncation: { minProb: number; window: number };
  runs: TrainVsInferRun[];
  /** Conditions that make the numbers meaningless or off-regime (the caller shows them). */
  warnings: string[];
}

/** Mean row max |logit| that --logit-scale auto aims for: inside the trained-model regime |z| ≈ 15–50 (docs/architecture.md §4). */
export const AUTO_TARGET_MAX_ABS_LOGIT = 30;
/**
 * Below this mean row max |z| the logits sit under the trained-model regime: bf16 spacing there is
 * ≤ 2^-4, rounding moves probabilities by well under the Figure-3 effect, and r ≈ 1 says nothing.
 */
export const MIN_MEANINGFUL_MAX_ABS_LOGIT = 15;

const rowMaxAbs = (z: Float32Array, from: number, n: number): number => {
  let m = 0;
  for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(z[from + i]!));
  return m;
};

/**
 * Run the experiment.
 * @example const r = await trainVsInfer({ checkpoint, promptLen: 300, genLen: 1000, sequences: 20, seed: 0, logitScale: 40 });
 */
export async function trainVsInfer(o: TrainVsInferOptions): Promise<TrainVsInferResult> {
  const { promptLen, genLen, sequences, seed } = o;
  if (genLen < 1 || sequences < 1) throw new UsageError('train-vs-infer needs --gen-len ≥ 1 and --sequences ≥ 1');
  const prompt = o.prompt;
  const pl = prompt ? prompt.length : promptLen;
  if (pl < 1) throw new UsageError('train-vs-infer needs a prompt of at least one token');
  const V = o.checkpoint.config.vocabSize;
  const precision = o.precision ?? 'bf16';
  const heads = o.lmHeads ?? ['bf16', 'fp32'];
  // option errors before any work
  const usage = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw err instanceof RangeError ? new UsageError(`train-vs-infer: ${err.message}`) : err;
    }
  };
  const guard = usage(() => new EarlyTruncationGuard(o.earlyTruncation));
  const ratioOptions = usage(() => importanceOptions(o.importance));
  if (o.logitScale !== undefined && o.logitScale !== 'auto' && !(o.logitScale > 0)) throw new UsageError(`train-vs-infer: the logit scale must be > 0 or 'auto', got ${o.logitScale}`);
  const sessionOpts = {
    checkpoint: o.checkpoint,
    precision,
    bf16Lightning: 'emulate' as const,
    ...(o.maxMemory !== undefined ? { maxMemory: o.maxMemory } : {}),
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  };
  const promptOf = (s: number) => {
    // the same seed stream per sequence for every head: prompts match across heads
    const rand = mulberry32((seed * 1_000_003 + s * 7919) >>> 0);
    return { rand, promptTokens: prompt ?? randomTokens(rand, pl, V) };
  };
  const auto = (o.logitScale ?? 'auto') === 'auto';
  const logitScale = auto ? await autoLogitScale(createSession({ ...sessionOpts, lmHead: 'fp32' }), promptOf(0).promptTokens, V) : (o.logitScale as number);
  const session = createSession({ ...sessionOpts, logitScale });
  let total = heads.length * sequences * (2 * pl + 2 * genLen - 2);
  let done = 0;
  const runs: TrainVsInferRun[] = [];
  for (const head of heads) {
    session.lmHead = head;
    const pI: number[] = [];
    const pT: number[] = [];
    let maxAbs = 0;
    let rowMaxSum = 0;
    const seqs: number[][] = [];
    let stoppedEarly = 0;
    for (let s = 0; s < sequences; s++) {
      throwIfAborted(o.signal);
      const { rand, promptTokens } = promptOf(s);
      session.reset();
      guard.reset();
      let logits = await session.prefill(promptTokens, { lastOnly: true });
      done += pl;
      const gen: number[] = [];
      for (let t = 0; t < genLen; t++) {
        const { token, p } = sampleToken(logits, rand, 1, 0, V);
        gen.push(token);
        pI.push(p);
        const m = rowMaxAbs(logits, 0, V);
        maxAbs = Math.max(maxAbs, m);
        rowMaxSum += m;
        if (guard.push(p) && t + 1 < genLen) {
          stoppedEarly++;
          // the steps this sequence no longer takes, on both paths
          total -= 2 * (genLen - 1 - t);
          break;
        }
        if (t + 1 < genLen) {
          logits = await session.decodeStep(token);
          done++;
        }
        o.onProgress?.(done, total);
      }
      seqs.push([...promptTokens, ...gen]);
      session.reset();
      const rows = await session.prefill([...promptTokens, ...gen.slice(0, -1)], { logitsFrom: pl - 1 });
      done += pl + gen.length - 1;
      for (let t = 0; t < gen.length; t++) pT.push(tokenProbability(rows, gen[t]!, 1, t * V, V));
      o.onProgress?.(done, total);
    }
    runs.push({
      lmHead: head,
      agreement: probabilityAgreement(pI, pT),
      importance: importanceStats(pI, pT, ratioOptions),
      stoppedEarly,
      maxAbsLogit: maxAbs,
      meanRowMaxAbsLogit: rowMaxSum / pI.length,
      pInfer: Float64Array.from(pI),
      pTrain: Float64Array.from(pT),
      sequences: seqs,
    });
  }
  const warnings: string[] = [];
  const lowest = Math.min(...runs.map((r) => r.meanRowMaxAbsLogit));
  if (lowest < MIN_MEANINGFUL_MAX_ABS_LOGIT) {
    warnings.push(`logits stay small (mean row max |z| = ${lowest.toFixed(2)}, below the trained-model regime of ${MIN_MEANINGFUL_MAX_ABS_LOGIT}–50): bf16 rounding barely moves probabilities there, so r near 1 says little; raise the logit scale (auto aims at ${AUTO_TARGET_MAX_ABS_LOGIT})`);
  }
  return {
    promptLen: pl, genLen, sequences, seed, precision, logitScale, logitScaleAuto: auto,
    earlyTruncation: { minProb: guard.minProb, window: guard.window }, runs, warnings,
  };
}

/**
 * The logit scale that brings the mean row max |z| of `prompt`'s logits to AUTO_TARGET_MAX_ABS_LOGIT
 * (logits are linear in the final-norm weight), rounded to two significant digits.
 */
async function autoLogitScale(session: ReturnType<typeof createSession>, prompt: number[], V: number): Promise<number> {
  const rows = await session.prefill(prompt, { logitsFrom: 0 });
  let sum = 0;
  const n = rows.length / V;
  for (let t = 0; t < n; t++) sum += rowMaxAbs(rows, t * V, V);
  const mean = sum / n;
  if (!(mean > 0)) throw new UsageError('--logit-scale auto: the model produced all-zero logits on the prompt; pass --logit-scale x');
  return Number((AUTO_TARGET_MAX_ABS_LOGIT / mean).toPrecision(2));
}
