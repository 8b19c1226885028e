/**
 * The library form of every command: one typed function per command, taking paths as strings, an
 * optional `onProgress(done, total)` and an `AbortSignal`. They never print or exit; failures are
 * `M1kitError`s with a stable `code` and the CLI's `exitCode`. Each is a thin call into the same core
 * function the command runs, with the command's defaults.
 *
 * @example
 * import { inspect, convert, verify } from 'm1kit';
 * const report = await inspect('/models/MiniMax-M1-80k', { tp: 8, ctx: 1_000_000 });
 * await convert('/models/MiniMax-M1-80k', '/models/m1-tp8', { tp: 8, onProgress: (d, t) => console.log(d / t) });
 * const r = await verify('/models/m1-fp8', { against: '/models/MiniMax-M1-80k', maxKld: 0.01 });
 */
import { loadBackend, type DeviceChoice } from './core/bench/load-backend.js';
import { runBench, type BenchProgress } from './core/bench/run.js';
import type { BenchResult } from './core/bench/schema.js';
import { runConversion, type RunParams, type RunResult } from './core/convert/run.js';
import { UsageError } from './core/errors.js';
import { generateCheckpoint, type GenerateParams, type GenerateResult } from './core/fixture/generate.js';
import { PEERS } from './core/flops/peers.js';
import type { Convention } from './core/flops/report.js';
import { loadSubject } from './core/flops/subject.js';
import { DEFAULT_SWEEP } from './core/flops/tokens.js';
import { convertToGguf } from './core/gguf/convert.js';
import type { GgufDtype } from './core/gguf/minimax01.js';
import { downloadRepo, type DownloadParams, type DownloadSummary } from './core/hub/download-repo.js';
import { hubSettings } from './core/hub/env.js';
import { verifyDownload as verifyDownloadCore, type VerifyResult as DownloadVerifyResult } from './core/hub/verify-download.js';
import { openTensorView } from './core/view/open.js';
import { inspectCheckpoint, type InspectParams, type InspectReport } from './core/inspect/inspect.js';
import { forward as forwardCore, type ForwardOptions } from './core/model/forward.js';
import { generate as generateCore, type GenerateOptions as GenerateCoreOptions, type GenerateResult as GenerationResult } from './core/generation/generate.js';
import type { CheckpointLike } from './core/model/session.js';
import type { Targets } from './core/quantize/targets.js';
import { loadRecipe } from './core/quantize/recipe.js';
import type { SchemeId } from './core/formats/index.js';
import { randomSequences, verifyAgainst, type CompareResult } from './core/verify/against.js';
import type { KernelChoice } from './core/model/kernels.js';
import { verifyLlamaCppAgainst } from './core/verify/against-llama.js';
import { trainVsInfer, type TrainVsInferOptions, type TrainVsInferResult } from './core/verify/train-vs-infer.js';
import { chunkCorpus, type CorpusOptions } from './core/verify/corpus.js';
import { evaluateCorpus, type CorpusEvalResult } from './core/verify/perplexity.js';
import { KldBaseWriter } from './core/verify/kld-base.js';
import { computeImatrix, type ImatrixResult } from './core/imatrix/run.js';
import { writeImatrix } from './core/imatrix/write.js';

/** What every library function accepts besides its own options. */
export interface CommonOptions {
  /** Aborting rejects with an `E_INTERRUPTED` error; finished files are kept and a rerun resumes. */
  signal?: AbortSignal;
  /** Progress in the command's unit (bytes for I/O, layer passes or tokens for the runtime). */
  onProgress?: (done: number, total: number) => void;
}

/** Drop undefined values so optional fields stay absent (exactOptionalPropertyTypes-friendly). */
const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** A checkpoint given as a path (HF, m1kit layout or quantized: one tensor view) is opened and checked for the call and closed after it. */
async function withCheckpoint<T>(c: string | CheckpointLike, signal: AbortSignal | undefined, fn: (ck: CheckpointLike) => Promise<T>): Promise<T> {
  if (typeof c !== 'string') return fn(c);
  const ck = await openTensorView(c, { signal });
  try {
    return await fn(ck);
  } finally {
    await ck.close();
  }
}

// ---------------------------------------------------------------- download

export interface DownloadOptions extends CommonOptions {
  revision?: string;
  include?: string[];
  exclude?: string[];
  /** Plain files in this directory instead of the Hugging Face cache. */
  localDir?: string;
  /** Hub cache directory (default: HF_HUB_CACHE / HF_HOME as the CLI). */
  cacheDir?: string;
  /** Hub endpoint (default: HF_ENDPOINT or https://huggingface.co). */
  endpoint?: string;
  /** Bearer token (default: HF_TOKEN / HUGGING_FACE_HUB_TOKEN / $HF_HOME/token). */
  token?: string;
  concurrency?: number;
  dryRun?: boolean;
  threads?: number;
  fetch?: typeof fetch;
  /** Re-hash files already in place and fetch again those that fail. */
  repair?: boolean;
  /** Fetch every file again. */
  forceDownload?: boolean;
  /** Wait for another download of the same file (default true); false: fail at once (E_BUSY). */
  waitForLock?: boolean;
}

function hubTarget(o: DownloadOptions) {
  const s = hubSettings(process.env, defined({ endpoint: o.endpoint, cacheDir: o.cacheDir }));
  const destination: DownloadParams['destination'] = o.localDir !== undefined ? { kind: 'local', dir: o.localDir } : { kind: 'cache', cacheDir: s.cacheDir };
  const token = o.token ?? s.token;
  return defined({ destination, endpoint: s.endpoint, token, offline: s.offline, revision: o.revision, include: o.include, exclude: o.exclude, fetch: o.fetch, signal: o.signal });
}

/**
 * Download a repository into the HF cache (or `localDir`), resumable and hash-checked.
 * `onProgress` counts bytes of the files still to fetch.
 * @example const r = await download('MiniMaxAI/MiniMax-M1-40k', { include: ['*.json'] });
 */
export async function download(repo: string, o: DownloadOptions = {}): Promise<DownloadSummary> {
  let done = 0;
  let total = 0;
  const onEvent: DownloadParams['onEvent'] = o.onProgress
    ? (e) => {
        if (e.type === 'plan') (total = e.totalBytes), (done = e.doneBytes);
        else if (e.type === 'bytes') done += e.delta;
        else return;
        o.onProgress!(done, total);
      }
    : undefined;
  return downloadRepo(defined({
    ...hubTarget(o), repo, concurrency: o.concurrency, dryRun: o.dryRun, threads: o.threads, repair: o.repair, forceDownload: o.forceDownload, waitForLock: o.waitForLock, onEvent,
  }) as DownloadParams);
}

/**
 * Re-hash an existing download (a repo id in the cache, or `localDir`); fetches nothing.
 * @example const v = await verifyDownload('MiniMaxAI/MiniMax-M1-40k'); v.ok
 */
export async function verifyDownload(repo: string | undefined, o: DownloadOptions = {}): Promise<DownloadVerifyResult> {
  const onProgress = o.onProgress;
  return verifyDownloadCore(defined({ ...hubTarget(o), repo, onProgress: onProgress ? (d: number, t: number) => onProgress(d, t) : undefined }));
}

// ---------------------------------------------------------------- inspect

/**
 * Headers-only report of a checkpoint: parameters, dtypes, completeness, memory plan.
 * @example const r = await inspect('fixtures/tiny', { tp: 8, ctx: 2 ** 20 }); r.complete
 */
export async function inspect(dir: string, o: Omit<InspectParams, 'dir'> = {}): Promise<InspectReport> {
  return inspectCheckpoint({ ...o, dir });
}

// ---------------------------------------------------------------- convert, quantize, dequantize

type RunOptions = Omit<RunParams, 'kind' | 'input' | 'output' | 'quant'> & CommonOptions;

export type ConvertOptions = RunOptions & { to?: 'safetensors' };
export interface GgufConvertOptions extends CommonOptions {
  to: 'gguf';
  /** Type of the large matrices (default bf16). */
  dtype?: GgufDtype;
  threads?: number;
}

/**
 * Re-shard or cast a checkpoint (safetensors), or export a GGUF with `{ to: 'gguf' }`.
 * `onProgress` counts output bytes.
 * @example await convert('in', 'out-tp8', { tp: 8 })
 * @example await convert('in', 'm1.gguf', { to: 'gguf', dtype: 'q8_0' })
 */
export async function convert(input: string, output: string, o?: ConvertOptions): Promise<RunResult>;
export async function convert(input: string, output: string, o: GgufConvertOptions): Promise<Record<string, unknown>>;
export async function convert(input: string, output: string, o: ConvertOptions | GgufConvertOptions = {}): Promise<RunResult | Record<string, unknown>> {
  if (o.to === 'gguf') return convertToGguf(defined({ input, output, dtype: o.dtype ?? 'bf16', threads: o.threads, signal: o.signal, onProgress: o.onProgress }));
  const { to: _to, ...rest } = o as ConvertOptions;
  return runConversion({ ...rest, kind: 'convert', input, output });
}

export interface QuantizeOptions extends RunOptions {
  /** A registry id (`quantize --list`); or give `recipe`. */
  scheme?: SchemeId;
  /** Which Linears to quantize (default as the CLI). */
  targets?: Targets;
  /** Group size of a scheme with a group option (`quantize --list`; w4a16: default 128). */
  groupSize?: number;
  /** A recipe file (YAML or JSON) instead of scheme/targets/groupSize (see core/quantize/recipe.ts). */
  recipe?: string;
  /** With a recipe: also quantize the default-ignored embeddings and lm_head its rules match. */
  forceIgnored?: boolean;
}

/**
 * Quantize a checkpoint into a layout engines read: any scheme of the registry (`SCHEME_IDS`, `quantize --list`).
 * @example const r = await quantize('in', 'out-fp8', { scheme: 'fp8-block' }); r.errorSummary
 */
export async function quantize(input: string, output: string, o: QuantizeOptions): Promise<RunResult> {
  const { scheme, targets, groupSize, recipe, forceIgnored, ...rest } = o;
  const quant: NonNullable<RunParams['quant']> = recipe !== undefined
    ? defined({ recipe: await loadRecipe(recipe), forceIgnored })
    : defined({ scheme, targets: targets ?? 'all', group: groupSize });
  return runConversion({ ...rest, kind: 'quantize', input, output, quant });
}

/**
 * Restore BF16 (or `dtype`) from a checkpoint quantized by m1kit.
 * @example await dequantize('out-fp8', 'restored')
 */
export async function dequantize(input: string, output: string, o: RunOptions = {}): Promise<RunResult> {
  return runConversion({ ...o, kind: 'dequantize', input, output });
}

// ---------------------------------------------------------------- fixture

/**
 * Write a deterministic MiniMax-M1-shaped checkpoint with random weights.
 * @example await fixture('/tmp/m1-tiny', { preset: 'tiny', seed: 1 })
 */
export async function fixture(out: string, o: Omit<GenerateParams, 'out'> = {}): Promise<GenerateResult> {
  return generateCheckpoint({ preset: 'tiny', ...o, out });
}

// ---------------------------------------------------------------- forward

/**
 * The CPU reference forward pass: logits [n, vocab], row i after token i.
 * @example const logits = await forward('fixtures/tiny', [1, 2, 3]); logits.length === 3 * 512
 */
export async function forward(checkpoint: string | CheckpointLike, tokens: number[], o: Omit<ForwardOptions, 'checkpoint' | 'tokens'> = {}): Promise<Float32Array> {
  return withCheckpoint(checkpoint, o.signal, (ck) => forwardCore({ ...o, checkpoint: ck, tokens }));
}

// ---------------------------------------------------------------- text

export { loadTokenizer, TextTokenizer, type ChatMessage } from './core/text/tokenizer.js';
export { readTextFile } from './core/text/text-file.js';
export { resolveTextInput, type TextInput, type TextInputSpec } from './core/text/input.js';
export { topK, type NextToken } from './core/generation/next-token.js';
export type { StopReason } from './core/generation/generate.js';
export type GenerateOptions = Omit<GenerateCoreOptions, 'checkpoint' | 'prompt'>;
export type { GenerationResult };

/**
 * Sample up to `maxTokens` tokens after the prompt ids on the reference runtime (the library form of
 * `m1kit generate`; tokenize text with `loadTokenizer`). `onToken` sees each token as it is drawn.
 * @example const tok = await loadTokenizer('fixtures/tiny'); const r = await generate('fixtures/tiny', tok.encode('Hello'), { maxTokens: 8, temperature: 0 });
 */
export async function generate(checkpoint: string | CheckpointLike, prompt: number[], o: GenerateOptions): Promise<GenerationResult> {
  return withCheckpoint(checkpoint, o.signal, (ck) => generateCore({ ...o, checkpoint: ck, prompt }));
}
export { sample, type SamplerOptions } from './core/generation/sampler.js';

// ---------------------------------------------------------------- verify

/** How verify runs the checkpoints and judges the comparison (shared by `verify` and `verifyCorpus`). */
export interface CompareRunOptions extends CommonOptions {
  precision?: 'fp32' | 'bf16';
  lmHead?: 'fp32' | 'bf16';
  /** Fail (`pass: false`) when the mean KLD is above this. */
  maxKld?: number;
  /** Fail when same-top-1 is below this percentage (0–100). */
  minTop1?: number;
  maxMemory?: number;
  threads?: number;
  /** m1kit runtime's kernels: 'auto' (default), 'native' or the TypeScript reference 'ts'. */
  kernels?: KernelChoice;
}

export interface VerifyOptions extends CompareRunOptions {
  /** Reference checkpoint (path or an open checkpoint). */
  against: string | CheckpointLike;
  /** 'llama.cpp' runs `checkpoint` (a .gguf path) in node-llama-cpp. */
  engine?: 'm1kit' | 'llama.cpp';
  /** Token sequences; default `sequences` random sequences of `seqLen` tokens from `seed`. */
  tokens?: number[][];
  sequences?: number;
  seqLen?: number;
  seed?: number;
}

/**
 * Compare a checkpoint (or a GGUF in llama.cpp) with a reference on the same tokens: KLD, same top-1,
 * Δp, PPL ratio. The result's `pass` and `failures` apply the thresholds; it never throws for a miss.
 * @example const r = await verify('out-fp8', { against: 'in', maxKld: 0.01, minTop1: 95 }); r.pass
 */
export async function verify(checkpoint: string | CheckpointLike, o: VerifyOptions): Promise<CompareResult> {
  if (o.minTop1 !== undefined && !(o.minTop1 >= 0 && o.minTop1 <= 100)) throw new UsageError(`minTop1 is a percentage in [0, 100], got ${o.minTop1}`);
  return withCheckpoint(o.against, o.signal, async (ref) => {
    const sequences = o.tokens ?? randomSequences(o.seed ?? 0, o.sequences ?? 4, o.seqLen ?? 300, ref.config.vocabSize);
    const common = defined({
      reference: ref, sequences, precision: o.precision, lmHead: o.lmHead, maxMemory: o.maxMemory, threads: o.threads, signal: o.signal, onProgress: o.onProgress,
      thresholds: defined({ maxKld: o.maxKld, minTop1: o.minTop1 === undefined ? undefined : o.minTop1 / 100 }),
    });
    if (o.engine === 'llama.cpp') {
      if (typeof checkpoint !== 'string') throw new UsageError('engine llama.cpp takes the .gguf path');
      return verifyLlamaCppAgainst({ ...common, gguf: checkpoint });
    }
    return withCheckpoint(checkpoint, o.signal, (ck) => verifyAgainst({ ...common, ...defined({ kernels: o.kernels }), checkpoint: ck }));
  });
}

/**
 * The train-vs-inference probability experiment (the tech report's Figure 3) on a checkpoint.
 * @example const r = await verifyTrainVsInfer('m1-small', { promptLen: 300, genLen: 300, sequences: 2, logitScale: 40 });
 */
export async function verifyTrainVsInfer(checkpoint: string | CheckpointLike, o: Partial<Omit<TrainVsInferOptions, 'checkpoint'>> = {}): Promise<TrainVsInferResult> {
  return withCheckpoint(checkpoint, o.signal, (ck) => trainVsInfer({ promptLen: 300, genLen: 1000, sequences: 20, seed: 0, ...o, checkpoint: ck }));
}

export interface CorpusVerifyOptions extends CompareRunOptions, Omit<CorpusOptions, 'label'> {
  /** Reference checkpoint; without it the checkpoint's perplexity alone is computed. */
  against?: string | CheckpointLike;
  /** Write llama.cpp's --kl-divergence-base file of the reference's (else the checkpoint's) logits here. */
  klDivergenceBase?: string;
  /** Chunks per layer-major pass (default all). */
  batchChunks?: number;
}

/**
 * Perplexity / KLD over a token corpus chunked as llama-perplexity chunks it (`verify --ctx`).
 * @example const r = await verifyCorpus('out-q8', ids, { against: 'in', ctx: 512, chunks: 20 }); r.stats?.kld.mean
 */
export async function verifyCorpus(checkpoint: string | CheckpointLike, tokens: number[], o: CorpusVerifyOptions = {}): Promise<CorpusEvalResult> {
  if (o.minTop1 !== undefined && !(o.minTop1 >= 0 && o.minTop1 <= 100)) throw new UsageError(`minTop1 is a percentage in [0, 100], got ${o.minTop1}`);
  const corpus = chunkCorpus(tokens, defined({ ctx: o.ctx, chunks: o.chunks, bos: o.bos }));
  const run = async (ck: CheckpointLike, ref: CheckpointLike | undefined) => {
    const writer = o.klDivergenceBase !== undefined ? await KldBaseWriter.create(o.klDivergenceBase, corpus.ctx, ck.config.vocabSize, corpus.chunks) : undefined;
    try {
      const r = await evaluateCorpus(defined({
        checkpoint: ck, reference: ref, corpus, kldBase: writer, batchChunks: o.batchChunks, precision: o.precision, lmHead: o.lmHead, maxMemory: o.maxMemory,
        threads: o.threads, kernels: o.kernels, signal: o.signal, onProgress: o.onProgress,
        thresholds: defined({ maxKld: o.maxKld, minTop1: o.minTop1 === undefined ? undefined : o.minTop1 / 100 }),
      }));
      await writer?.finish();
      return r;
    } catch (e) {
      await writer?.abort();
      throw e;
    }
  };
  return withCheckpoint(checkpoint, o.signal, (ck) => (o.against === undefined ? run(ck, undefined) : withCheckpoint(o.against, o.signal, (ref) => run(ck, ref))));
}

// ---------------------------------------------------------------- imatrix

export interface ImatrixOptions extends CommonOptions, Omit<CorpusOptions, 'label'> {
  /** Output file (llama.cpp's GGUF imatrix format). */
  out: string;
  /** Names stored in imatrix.datasets (default none). */
  datasets?: string[];
  processOutput?: boolean;
  batchChunks?: number;
  precision?: 'fp32' | 'bf16';
  maxMemory?: number;
  threads?: number;
  kernels?: KernelChoice;
}

/**
 * An importance matrix over a token corpus, written for `llama-quantize --imatrix` (`m1kit imatrix`).
 * @example const m = await imatrix('/models/MiniMax-M1-40k', ids, { out: 'm1.imatrix.gguf', ctx: 512, chunks: 100 });
 */
export async function imatrix(checkpoint: string | CheckpointLike, tokens: number[], o: ImatrixOptions): Promise<ImatrixResult & { bytes: number }> {
  const corpus = chunkCorpus(tokens, defined({ ctx: o.ctx, chunks: o.chunks, bos: o.bos }));
  return withCheckpoint(checkpoint, o.signal, async (ck) => {
    const m = await computeImatrix(defined({
      checkpoint: ck, corpus, processOutput: o.processOutput, batchChunks: o.batchChunks, precision: o.precision, maxMemory: o.maxMemory,
      threads: o.threads, kernels: o.kernels, signal: o.signal, onProgress: o.onProgress,
    }));
    return { ...m, bytes: await writeImatrix(o.out, m, o.datasets ?? []) };
  });
}

// ---------------------------------------------------------------- bench

export interface BenchOptions {
  /** Context length in tokens (default 1,000,000). */
  ctx?: number;
  /** Context lengths of the model tables (default 8K … 1M). */
  sweep?: number[];
  convention?: Convention;
  /** config.json path (or checkpoint dir) of the subject model (default: the released MiniMax-M1). */
  config?: string;
  /** Include the peer models' tables (default true). */
  peers?: boolean;
  /** Time the kernels too (default false: modelled figures only, instant). */
  kernels?: boolean | { device?: DeviceChoice; threads?: number; repeat?: number; heads?: number; seconds?: number };
  signal?: AbortSignal;
  onProgress?: (p: BenchProgress) => void;
}

/**
 * The FLOPs/memory model at `ctx` against the peers and, with `kernels`, timed kernels (schema m1kit.bench/1).
 * @example const r = await bench({ ctx: 2 ** 20 }); r.metrics['ratio.minimax-m1/deepseek-r1.generation_flops@1048576']
 */
export async function bench(o: BenchOptions = {}): Promise<BenchResult> {
  const subject = await loadSubject(o.config);
  const k = o.kernels === true ? {} : o.kernels || undefined;
  const kernels = k ? { backend: await loadBackend(k.device ?? 'auto'), threads: k.threads ?? (await import('node:os')).availableParallelism(), repeat: k.repeat ?? 1, ...defined({ heads: k.heads, seconds: k.seconds }) } : undefined;
  return runBench(defined({
    subject: subject.arch, configLabel: subject.label, peers: o.peers === false ? [] : [...PEERS], ctx: o.ctx ?? 1_000_000, sweep: o.sweep ?? DEFAULT_SWEEP,
    convention: o.convention ?? 'physical', kernels, onProgress: o.onProgress, signal: o.signal,
  }));
}
