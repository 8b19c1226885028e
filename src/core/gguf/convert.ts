/**
 * `m1kit convert --to gguf`: MiniMax-M1 safetensors checkpoint → one GGUF v3 file for llama.cpp's
 * `minimax-01`. Streams in chunks of ≤ 16 MiB of source rows, with at most threads + 1 chunks in
 * flight (never a whole tensor; a stacked expert tensor is filled expert by expert). Reads overlap
 * writes, and decode/fold/quantize runs on a worker pool. Tensors whose bytes do not change (same
 * dtype, fold factor 1) are copied verbatim, file to file, in 64 MiB ranges (copy_file_range when the
 * native addon is loaded), without passing through JavaScript.
 */
import { availableParallelism } from 'node:os';
import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import { openCheckpoint } from '../checkpoint/validate.js';
import { dtypeBytes, numel } from '../dtype/dtypes.js';
import { InputError, UsageError, throwIfAborted } from '../errors.js';
import { BAND_BYTES, COPY_BYTES, MAX_ENCODE_THREADS } from '../io-tuning.js';
import { forEachChunk, InFlight } from '../pipeline/in-flight.js';
import type { SourceDtype } from './encode-job.js';
import { EncodePool } from './encode-pool.js';
import { rowBytes, type GgmlType } from './format.js';
import { residualFold } from './fold.js';
import { assertConvertible, GGUF_ARCH, GGUF_DTYPES, modelMetadata, tensorPlan, type GgufDtype, type PlannedTensor } from './minimax01.js';
import { loadVocab } from './tokenizer.js';
import { SUPPRESS_TOKENS_KEY, zeroEmbeddingRows } from './suppress.js';
import { GgufWriter } from './writer.js';
import { encodeGgufHeader } from './header.js';
import { collectInputs, guardOutput } from '../fs/output-guard.js';
import { lockOutput } from '../fs/output-lock.js';
import { waitOptions, type OutputRunOptions } from '../fs/output-run.js';
import { checkFreeSpace } from '../fs/write-errors.js';

export interface ConvertGgufParams extends OutputRunOptions {
  /** Checkpoint directory (config.json + safetensors). */
  input: string;
  /** Output .gguf path (written as `<output>.incomplete`, renamed when complete). */
  output: string;
  /** Type of the large matrices; norms and routers stay F32. */
  dtype: GgufDtype;
  /** Source bytes processed so far and in total. */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** Encode threads (worker pool; default min(CPUs, 8)). 1 encodes on the main thread. */
  threads?: number;
  /** Chat template text written instead of the checkpoint's (convert --chat-template file.jinja). */
  chatTemplate?: string;
}

/** What an export wrote: the `--json` result of `convert --to gguf` (the object convertToGguf builds). */
export type GgufExportSummary = Awaited<ReturnType<typeof convertToGguf>>;

/** Lock directory beside a GGUF output file (one writer per output). */
export const ggufLockDir = (output: string) => `${output}.m1kit-lock`;

/** Source safetensors dtype whose bytes are already the target ggml type. */
const PASSTHROUGH: Partial<Record<string, GgmlType>> = { BF16: 'BF16', F16: 'F16', F32: 'F32' };

function checkSources(ckpt: Checkpoint, plan: PlannedTensor[]): void {
  for (const t of plan) {
    for (const src of t.sources) {
      if (!ckpt.has(src)) throw new InputError('E_TENSOR_MISSING', `${ckpt.dir}: tensor "${src}" (needed for GGUF "${t.name}") is missing`);
      const { info } = ckpt.info(src);
      if (info.shape.join(',') !== t.sourceShape.join(',')) {
        throw new InputError('E_SHAPE', `${ckpt.dir}: tensor "${src}" has shape [${info.shape.join(', ')}], expected [${t.sourceShape.join(', ')}] from config.json`);
      }
      if (!['BF16', 'F16', 'F32'].includes(info.dtype)) throw new InputError('E_DTYPE', `${ckpt.dir}: tensor "${src}" has dtype ${info.dtype}; GGUF export reads BF16, F16 or F32`);
    }
  }
}

interface StreamContext {
  ckpt: Checkpoint;
  writer: GgufWriter;
  pool: EncodePool;
  window: InFlight;
  progress: (n: number) => void;
  signal?: AbortSignal;
}

/** Copy or convert one source tensor into `byteBase` of GGUF tensor `t`, chunk by chunk. */
async function streamSource(x: StreamContext, t: PlannedTensor, src: string, byteBase: number): Promise<void> {
  const { info, file } = x.ckpt.info(src);
  const srcDtype = info.dtype as SourceDtype;
  const rows = t.sourceShape.length === 1 ? 1 : t.sourceShape[0]!;
  const rowLen = numel(t.sourceShape) / rows;
  const inRow = rowLen * dtypeBytes(info.dtype);
  const outRow = rowBytes(t.type, rowLen);
  const rowsPerChunk = Math.max(1, Math.floor(BAND_BYTES / inRow));
  if (t.scale === 1 && PASSTHROUGH[info.dtype] === t.type) {
    // unchanged bytes: one contiguous range in the source and in the GGUF tensor, copied in the kernel
    const reader = await x.ckpt.reader(file);
    const base = reader.absoluteOffset(src);
    const total = rows * inRow;
    await forEachChunk(total, COPY_BYTES, x.signal, (b0, n) => x.window.add(x.writer.copyFrom(t.name, reader.fd, base + b0, n, byteBase + b0, reader.path).then(() => x.progress(n))));
    return;
  }
  for (let r0 = 0; r0 < rows; r0 += rowsPerChunk) {
    throwIfAborted(x.signal);
    const n = Math.min(rowsPerChunk, rows - r0);
    const at = byteBase + r0 * outRow;
    const raw = await x.ckpt.read(src, r0 * inRow, n * inRow);
    const bytes = x.pool.encode({ raw, srcDtype, scale: t.scale, type: t.type });
    await x.window.add(bytes.then((b) => x.writer.write(t.name, b, at)).then(() => x.progress(n * inRow)));
  }
}

/**
 * Convert a MiniMax-M1 checkpoint to GGUF. Returns a summary (types, fold, tokenizer, sizes).
 * @example await convertToGguf({ input: 'MiniMax-M1-80k', output: 'm1-q8_0.gguf', dtype: 'q8_0' })
 */
export async function convertToGguf(p: ConvertGgufParams) {
  if (!GGUF_DTYPES.includes(p.dtype)) throw new UsageError(`--dtype ${String(p.dtype)} is not a GGUF export type; choose one of ${GGUF_DTYPES.join(', ')}`);
  const started = performance.now();
  // the output (and its temporary) must not be, hold or lie inside an input; its directory must exist and be writable
  const guarded = await guardOutput({ path: p.output, kind: 'file', label: 'GGUF output', extra: [`${p.output}.incomplete`, ggufLockDir(p.output)] }, await collectInputs([{ path: p.input, label: 'input' }]));
  if (await stat(join(p.input, 'm1kit-layout.json')).catch(() => undefined)) {
    throw new InputError('E_GGUF_LAYOUT', `${p.input}: is an m1kit rank/stacked layout; GGUF export reads the standard HF layout`, {
      hint: `m1kit convert ${p.input} <hf-dir> --merge, then m1kit convert <hf-dir> ${p.output} --to gguf`,
    });
  }
  const ckpt = await openCheckpoint(p.input, { signal: p.signal });
  let lock: { release(): Promise<void> } | undefined;
  let writer: GgufWriter | undefined;
  let pool: EncodePool | undefined;
  let window: InFlight | undefined;
  try {
    const c = ckpt.config;
    const cfgFile = `${p.input}/config.json`;
    if (c.raw.quantization_config !== undefined) {
      throw new InputError('E_GGUF_QUANTIZED', `${cfgFile}: the checkpoint is already quantized (quantization_config); GGUF export reads BF16/F16/F32 weights`, {
        hint: 'export from the original bf16 checkpoint and choose --dtype q8_0 or q4_0 there',
      });
    }
    assertConvertible(c, cfgFile);
    const fold = residualFold(c, cfgFile);
    const hasLmHead = ckpt.has('lm_head.weight');
    if (!hasLmHead && !c.tieWordEmbeddings) throw new InputError('E_TENSOR_MISSING', `${p.input}: "lm_head.weight" is missing and tie_word_embeddings is false`);
    const plan = tensorPlan(c, fold, p.dtype, hasLmHead);
    checkSources(ckpt, plan);
    const vocab = await loadVocab(p.input, c.vocabSize, c.raw, p.chatTemplate !== undefined ? { chatTemplate: p.chatTemplate } : {});
    // as llama.cpp's converter: embedding rows past the tokenizer's base vocabulary that are all zero
    const suppressed = vocab.source === 'tokenizer.json' ? await zeroEmbeddingRows(ckpt, vocab.baseVocabSize, p.signal ? { signal: p.signal } : {}) : [];
    if (suppressed.length > 0) vocab.kvs.push({ key: SUPPRESS_TOKENS_KEY, type: 'ARRAY', itemType: 'INT32', values: suppressed });
    const kvs = [...modelMetadata(c, fold, p.dtype, basename(resolve(p.input)) || 'MiniMax-M1'), ...vocab.kvs];
    const specs = plan.map(({ name, ne, type }) => ({ name, ne, type }));
    lock = await lockOutput(ggufLockDir(guarded.real), { plan: 'gguf', ...waitOptions(p), what: p.output });
    await checkFreeSpace(p.output, encodeGgufHeader(kvs, specs).fileSize, p.freeBytes);
    writer = await GgufWriter.create(guarded.real, kvs, specs);
    const total = plan.reduce((a, t) => a + t.sources.reduce((b, s) => b + (ckpt.info(s).info.end - ckpt.info(s).info.begin), 0), 0);
    let done = 0;
    const progress = (n: number) => p.onProgress?.((done += n), total);
    const types: Record<string, number> = {};
    const threads = Math.max(1, Math.floor(p.threads ?? Math.min(availableParallelism(), MAX_ENCODE_THREADS)));
    pool = EncodePool.create(threads);
    window = new InFlight(threads + 1);
    const x: StreamContext = { ckpt, writer, pool, window, progress, ...(p.signal ? { signal: p.signal } : {}) };
    for (const t of plan) {
      types[t.type] = (types[t.type] ?? 0) + 1;
      const perSource = writer.tensor(t.name).bytes / t.sources.length;
      for (let e = 0; e < t.sources.length; e++) await streamSource(x, t, t.sources[e]!, e * perSource);
    }
    await window.drain();
    await writer.finish();
    const seconds = (performance.now() - started) / 1000;
    return {
      output: p.output,
      architecture: GGUF_ARCH,
      dtype: p.dtype,
      tensors: plan.length,
      tensorTypes: types,
      bytes: writer.fileSize,
      sourceBytes: total,
      seconds: Number(seconds.toFixed(3)),
      threads: pool.threads,
      residualScale: fold.residualScale,
      residualFolded: !fold.identity,
      recurrentLayers: c.attnTypes.filter((x) => x === 0).length,
      softmaxLayers: c.attnTypes.flatMap((x, i) => (x === 1 ? [i] : [])),
      tokenizer: { source: vocab.source, pre: vocab.pre, tokens: c.vocabSize, ...(vocab.eosId !== undefined ? { eosId: vocab.eosId } : {}), suppressedTokens: suppressed.length, ...(vocab.chatTemplate ? { chatTemplate: vocab.chatTemplate } : {}) },
      warnings: [
        ...vocab.warnings,
        `llama.cpp normalises the lightning-attention output with rms_norm_eps (${c.rmsNormEps}); the checkpoint's reference uses ${c.lightningNormEps}`,
      ],
    };
  } catch (e) {
    await window?.drain().catch(() => undefined); // let in-flight writes settle before the file goes
    await writer?.abort();
    throw e;
  } finally {
    await pool?.close();
    await lock?.release();
    await ckpt.close();
  }
}
