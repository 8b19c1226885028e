/**
 * Perplexity and KL divergence over a corpus, chunked as llama-perplexity chunks it (corpus.ts), on the
 * m1kit runtime: one checkpoint alone (its perplexity, optionally the --kl-divergence-base file of its
 * logits), or a checkpoint against a reference (both perplexities, their ratio, the KLD distribution,
 * same top-1 and RMS Δp as llama-perplexity --kl-divergence reports them, llama-stats.ts).
 *
 * The chunks run layer-major: by default all of them in one batch, so each layer of each checkpoint is
 * read once per run (`batchChunks` bounds the activations at the cost of one weight pass per batch).
 * The LM heads run only on the scored rows, in row chunks across the batch (LOGIT_CHUNK_BYTES).
 */
import { InputError, throwIfAborted } from '../errors.js';
import { logitChunkRows, type CheckpointLike, type Precision } from '../model/session.js';
import type { KernelChoice } from '../model/kernels.js';
import { assertChunksFit, type CorpusChunks } from './corpus.js';
import type { KldBaseWriter } from './kld-base.js';
import { LogitComparer } from './metrics.js';
import { logSumExp } from '../generation/next-token.js';
import { perplexityOf, perplexityStats, type PerplexityStats, type ValueWithError } from './llama-stats.js';
import { runtimeSession, thresholdFailures, type Thresholds } from './against.js';

export interface CorpusEvalOptions {
  /** The checkpoint scored (alone, or against `reference`). */
  checkpoint: CheckpointLike;
  reference?: CheckpointLike | undefined;
  corpus: CorpusChunks;
  precision?: Precision;
  lmHead?: Precision;
  maxMemory?: number;
  threads?: number;
  kernels?: KernelChoice;
  /** Chunks per layer-major batch (default: all, so weights are read once). */
  batchChunks?: number;
  /** Receives the logits of the base model's scored rows in order: the reference's, else the checkpoint's. */
  kldBase?: KldBaseWriter | undefined;
  thresholds?: Thresholds;
  signal?: AbortSignal;
  /** (done, total) in layer passes: batches × checkpoints × layers. */
  onProgress?: (done: number, total: number) => void;
}

export interface CorpusEvalResult {
  ctx: number;
  chunks: number;
  corpusTokens: number;
  scoredPerChunk: number;
  /** Scored positions in all (chunks × scoredPerChunk). */
  scored: number;
  vocab: number;
  bos: number | undefined;
  /** Layer-major batches run (each reads every layer of each checkpoint once). */
  batches: number;
  /** Bytes read from the checkpoints (both, with a reference): about their weights × batches when nothing is cached. */
  bytesRead: number;
  /** Perplexity of the checkpoint alone (no reference). */
  ppl?: ValueWithError;
  /** The comparison against the reference. */
  stats?: PerplexityStats;
  thresholds: Thresholds;
  pass: boolean;
  failures: string[];
}

/** Rows [first, ctx − 1) of every chunk of a batch, gathered into a contiguous [rows, H] buffer. */
function scoredRows(hidden: Float32Array, H: number, chunks: number, ctx: number, first: number, from: number, rows: number): Float32Array {
  const per = ctx - 1 - first;
  const out = new Float32Array(rows * H);
  for (let r = 0; r < rows; r++) {
    const g = from + r;
    const c = Math.floor(g / per);
    const src = c * ctx + first + (g % per);
    out.set(hidden.subarray(src * H, (src + 1) * H), r * H);
  }
  return out;
}

/**
 * Score a corpus.
 * @example await evaluateCorpus({ checkpoint: q, reference: orig, corpus: chunkCorpus(ids, { ctx: 512 }) })
 */
export async function evaluateCorpus(o: CorpusEvalOptions): Promise<CorpusEvalResult> {
  const c = o.corpus;
  const V = o.checkpoint.config.vocabSize;
  if (o.reference && o.reference.config.vocabSize !== V) {
    throw new InputError('E_VOCAB_MISMATCH', `vocab sizes differ: checkpoint ${V}, reference ${o.reference.config.vocabSize}`);
  }
  assertChunksFit(c, o.checkpoint.config.maxPositionEmbeddings);
  for (const [i, ch] of c.evaluated.entries()) {
    const bad = ch.findIndex((t) => !Number.isInteger(t) || t < 0 || t >= V);
    if (bad >= 0) throw new InputError('E_TOKEN', `chunk ${i}, token ${bad} = ${ch[bad]} is outside the vocabulary [0, ${V})`);
  }
  const per = o.batchChunks ?? c.evaluated.length;
  const batches: number[][][] = [];
  for (let i = 0; i < c.evaluated.length; i += per) batches.push(c.evaluated.slice(i, i + per));
  const models = o.reference ? 2 : 1;
  const total = batches.length * models * o.checkpoint.config.numLayers;
  let done = 0;
  const onLayer = () => o.onProgress?.(++done, total);
  const test = runtimeSession(o.checkpoint, o, onLayer);
  const ref = o.reference ? runtimeSession(o.reference, o, onLayer) : undefined;
  const H = { test: o.checkpoint.config.hiddenSize, ref: o.reference?.config.hiddenSize ?? 0 };
  const cmp = new LogitComparer();
  const nll: number[] = [];
  const rowsPerLogitChunk = logitChunkRows(V);
  let chunk0 = 0;
  for (const batch of batches) {
    throwIfAborted(o.signal);
    const rh = ref ? (await ref.hiddenBatch(batch)).hidden : undefined;
    const th = (await test.hiddenBatch(batch)).hidden;
    const N = batch.length * c.scoredPerChunk;
    for (let r0 = 0; r0 < N; r0 += rowsPerLogitChunk) {
      throwIfAborted(o.signal);
      const rows = Math.min(rowsPerLogitChunk, N - r0);
      const tl = await test.logits(scoredRows(th, H.test, batch.length, c.ctx, c.first, r0, rows), rows);
      const rl = ref && rh ? await ref.logits(scoredRows(rh, H.ref, batch.length, c.ctx, c.first, r0, rows), rows) : undefined;
      for (let r = 0; r < rows; r++) {
        const g = r0 + r;
        const ci = chunk0 + Math.floor(g / c.scoredPerChunk);
        const next = c.chunks[ci]![c.first + (g % c.scoredPerChunk) + 1]!;
        if (rl) cmp.add(rl, tl, V, next, r * V, r * V);
        else nll.push(logSumExp(tl.subarray(r * V, (r + 1) * V)) - tl[r * V + next]!); // −ln softmax(row)[next], no vocabulary-sized array
      }
      await o.kldBase?.addRows(rl ?? tl, rows);
    }
    chunk0 += batch.length;
  }
  const base = {
    ctx: c.ctx, chunks: c.chunks.length, corpusTokens: c.corpusTokens, scoredPerChunk: c.scoredPerChunk, scored: c.chunks.length * c.scoredPerChunk,
    vocab: V, bos: c.bos, batches: batches.length, bytesRead: test.bytesRead + (ref?.bytesRead ?? 0), thresholds: o.thresholds ?? {},
  };
  if (!ref) return { ...base, ppl: perplexityOf(nll), pass: true, failures: [] };
  const stats = perplexityStats(cmp.values());
  const failures = thresholdFailures(o.thresholds ?? {}, stats.kld.mean, stats.sameTop1.value);
  return { ...base, stats, pass: failures.length === 0, failures };
}
