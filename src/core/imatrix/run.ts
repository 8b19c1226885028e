/**
 * Collect an importance matrix over a corpus on the m1kit runtime, chunked as llama-imatrix chunks it
 * (docs/llama-files.md §1.5: every position of each chunk goes through the model). The chunks run
 * layer-major, by default all in one batch, so each layer's weights are read once per run.
 */
import { InputError, throwIfAborted } from '../errors.js';
import { createSession, logitChunkRows, type CheckpointLike, type Precision } from '../model/session.js';
import type { KernelChoice } from '../model/kernels.js';
import { assertChunksFit, type CorpusChunks } from '../verify/corpus.js';
import { ImatrixCollector, type ImatrixEntry } from './collect.js';

/** llama-imatrix skips dense products of fewer rows; a chunk at least this long is never skipped there. */
export const IMATRIX_MIN_CTX = 16;

export interface ImatrixOptions {
  checkpoint: CheckpointLike;
  corpus: CorpusChunks;
  /** Also collect the LM head (`output.weight`), as llama-imatrix --process-output. */
  processOutput?: boolean;
  precision?: Precision;
  maxMemory?: number;
  threads?: number;
  kernels?: KernelChoice;
  /** Chunks per layer-major batch (default: all). */
  batchChunks?: number;
  signal?: AbortSignal;
  /** (done, total) in layer passes. */
  onProgress?: (done: number, total: number) => void;
}

export interface ImatrixResult {
  entries: ImatrixEntry[];
  /** Chunks processed (imatrix.chunk_count) and their length (imatrix.chunk_size). */
  chunks: number;
  chunkSize: number;
  tokens: number;
  batches: number;
  /** Bytes read from the checkpoint. */
  bytesRead: number;
}

/**
 * @example const m = await computeImatrix({ checkpoint, corpus: chunkCorpus(ids, { ctx: 512 }) }); await writeImatrix('imatrix.gguf', m, ['calib.txt']);
 */
export async function computeImatrix(o: ImatrixOptions): Promise<ImatrixResult> {
  const c = o.corpus;
  const cfg = o.checkpoint.config;
  if (c.ctx < IMATRIX_MIN_CTX) throw new InputError('E_CORPUS', `--ctx ${c.ctx}: the importance matrix needs chunks of at least ${IMATRIX_MIN_CTX} tokens (llama-imatrix ignores smaller batches)`);
  assertChunksFit(c, cfg.maxPositionEmbeddings);
  const collector = new ImatrixCollector(cfg, !cfg.tieWordEmbeddings && o.checkpoint.has('lm_head.weight'), o.processOutput);
  const per = o.batchChunks ?? c.evaluated.length;
  const batches = Math.ceil(c.evaluated.length / per);
  let done = 0;
  const session = createSession({
    checkpoint: o.checkpoint,
    precision: o.precision ?? 'fp32',
    ...(o.maxMemory !== undefined ? { maxMemory: o.maxMemory } : {}),
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    ...(o.kernels ? { kernels: o.kernels } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    onProgress: () => o.onProgress?.(++done, batches * cfg.numLayers),
    onLinearInput: (name, x, rows) => collector.add(name, x, rows),
  });
  for (let i = 0; i < c.evaluated.length; i += per) {
    throwIfAborted(o.signal);
    const batch = c.evaluated.slice(i, i + per);
    const { hidden, offsets } = await session.hiddenBatch(batch);
    if (!o.processOutput) continue;
    const H = cfg.hiddenSize;
    const N = offsets[batch.length]!;
    const step = logitChunkRows(cfg.vocabSize);
    for (let r0 = 0; r0 < N; r0 += step) {
      throwIfAborted(o.signal);
      const rows = Math.min(step, N - r0);
      await session.logits(hidden.subarray(r0 * H, (r0 + rows) * H), rows);
    }
  }
  return { entries: collector.entries(), chunks: c.evaluated.length, chunkSize: c.ctx, tokens: c.evaluated.length * c.ctx, batches, bytesRead: session.bytesRead };
}
