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
 */
import { throwIfAborted, UsageError } from '../errors.js';
import { createSession, type CheckpointLike, type Precision } from '../model/session.js';
import { probabilityAgreement, type ProbabilityAgreement } from './metrics.js';
import { mulberry32, randomTokens, sampleToken, tokenProbability } from './sampling.js';

export interface TrainVsInferOptions {
  checkpoint: CheckpointLike;
  promptLen: number;
  genLen: number;
  sequences: number;
  seed: number;
  /** Multiplies the final-norm weight (reach trained-model logit magnitudes on a random model). */
  logitScale?: number;
  /** Body precision of both paths (default 'bf16'). */
  precision?: Precision;
  /** LM-head precisions to compare (default ['bf16', 'fp32']). */
  lmHeads?: Precision[];
  /** Fixed prompt used for every sequence instead of random tokens. */
  prompt?: number[];
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
  runs: TrainVsInferRun[];
}

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
  const logitScale = o.logitScale ?? 1;
  const session = createSession({
    checkpoint: o.checkpoint,
    precision,
    logitScale,
    bf16Lightning: 'emulate',
    ...(o.maxMemory !== undefined ? { maxMemory: o.maxMemory } : {}),
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const total = heads.length * sequences * (2 * pl + 2 * genLen - 2);
  let done = 0;
  const runs: TrainVsInferRun[] = [];
  for (const head of heads) {
    session.lmHead = head;
    const pI: number[] = [];
    const pT: number[] = [];
    let maxAbs = 0;
    let rowMaxSum = 0;
    const seqs: number[][] = [];
    for (let s = 0; s < sequences; s++) {
      throwIfAborted(o.signal);
      // the same seed stream per sequence for every head: prompts match across heads
      const rand = mulberry32((seed * 1_000_003 + s * 7919) >>> 0);
      const promptTokens = prompt ?? randomTokens(rand, pl, V);
      session.reset();
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
        if (t + 1 < genLen) {
          logits = await session.decodeStep(token);
          done++;
        }
        o.onProgress?.(done, total);
      }
      seqs.push([...promptTokens, ...gen]);
      session.reset();
      const rows = await session.prefill([...promptTokens, ...gen.slice(0, -1)], { logitsFrom: pl - 1 });
      done += pl + genLen - 1;
      for (let t = 0; t < genLen; t++) pT.push(tokenProbability(rows, gen[t]!, 1, t * V, V));
      o.onProgress?.(done, total);
    }
    runs.push({
      lmHead: head,
      agreement: probabilityAgreement(pI, pT),
      maxAbsLogit: maxAbs,
      meanRowMaxAbsLogit: rowMaxSum / pI.length,
      pInfer: Float64Array.from(pI),
      pTrain: Float64Array.from(pT),
      sequences: seqs,
    });
  }
  return { promptLen: pl, genLen, sequences, seed, precision, logitScale, runs };
}
