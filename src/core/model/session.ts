/**
 * A forward-pass session over one checkpoint: holds the weight cache and the per-sequence state
 * (lightning states, KV caches) so that `prefill(n)` followed by `decodeStep` continues the same
 * sequence. Layers run one after another; each layer's weights are read lazily through the store.
 * `prefillBatch` runs several independent sequences layer-major: every layer processes the rows of all
 * of them before the next layer starts, so each layer's weights are read once per batch.
 *
 * @example
 * const s = createSession({ checkpoint, precision: 'fp32' });
 * const logits = await s.prefill([1, 2, 3]);         // [3, vocab]
 * const next = await s.decodeStep(4);                 // [vocab], position 3
 */
import { InputError, UsageError, throwIfAborted } from '../errors.js';
import type { M1Config } from '../checkpoint/config.js';
import { bf16, rmsNorm, roundBf16InPlace } from './math.js';
import { linear, type LayerContext, type Precision } from './context.js';
import type { KernelChoice } from './kernels.js';
import { lightningLayer, newLightningState, type LightningState } from './lightning.js';
import { newKvCache, softmaxLayer, type KvCache } from './softmax-attn.js';
import { moeLayer } from './moe.js';
import { WeightStore } from './weights.js';
import { weightBudget } from './budget.js';
import type { TensorMeta, WeightSource } from './source.js';
import { EMBED_WEIGHT, FINAL_NORM_WEIGHT, layerPrefix, LM_HEAD_WEIGHT } from '../arch/minimax-m1/tensors.js';

export type { Precision } from './context.js';

/** Anything with a config and named tensors: a `Checkpoint` or a `WeightSource`. */
export interface CheckpointLike {
  readonly config: M1Config;
  has(name: string): boolean;
  info(name: string): TensorMeta | { info: TensorMeta };
  read(name: string, byteOffset?: number, byteLength?: number): Promise<Uint8Array>;
}

export function asWeightSource(c: CheckpointLike): WeightSource {
  return {
    config: c.config,
    has: (n) => c.has(n),
    info: (n) => {
      const i = c.info(n);
      return 'info' in i ? i.info : i;
    },
    read: (n, o, l) => c.read(n, o, l),
  };
}

export interface SessionOptions {
  checkpoint: CheckpointLike;
  /** 'fp32': exact fp32 math on the bf16 weights; 'bf16': emulate the official bf16 rounding points. Default 'fp32'. */
  precision?: Precision;
  /** LM head precision, independent of `precision`. Default 'fp32'. */
  lmHead?: Precision;
  /** Multiplies the final-norm weight (docs/architecture.md §4 knob to reach trained-model logit magnitudes). Default 1. */
  logitScale?: number;
  /** Lightning q/k/v SiLU in fp32 (vLLM) rather than on bf16 ([HF]); only matters in bf16 emulation. */
  siluFp32?: boolean;
  /**
   * bf16 precision only: 'kernel' (default) runs the lightning core on the native kernel (fp32 on bf16
   * q/k/v, output rounded to bf16); 'emulate' runs the TypeScript core with the official internal bf16
   * rounding points (what separates the block form from the recurrence in the train-vs-infer experiment).
   * With kernels 'ts' the core always emulates.
   */
  bf16Lightning?: 'kernel' | 'emulate';
  /** Approximate bound (bytes) on memory held for weights: decoded-weight cache + one streamed chunk (see budget.ts). */
  maxMemory?: number;
  /** 'auto' (default): native kernels when the addon is loaded; 'native': required; 'ts': TypeScript loops only (bit-reproducible). */
  kernels?: KernelChoice;
  /** Threads for native kernels. */
  threads?: number;
  signal?: AbortSignal;
  /** Called after each layer: (layersDone, layersTotal). */
  onProgress?: (done: number, total: number) => void;
  /**
   * Sees the input of every matrix product before it runs: the weight's checkpoint name and the rows
   * x [rows, cols] it multiplies (the activations an importance matrix sums). Must not modify x.
   */
  onLinearInput?: (name: string, x: Float32Array, rows: number) => void;
}

export interface PrefillOptions {
  lastOnly?: boolean;
  logits?: boolean;
  logitsFrom?: number;
}

/** Logits of rows [row0, row0 + rows) of sequence `seq` of a batch, [rows, vocab]. */
export interface LogitRows {
  seq: number;
  row0: number;
  rows: number;
  logits: Float32Array;
}

export interface BatchOptions {
  /** Bound on one chunk of logits handed to `onLogits` (bytes; default LOGIT_CHUNK_BYTES). */
  logitChunkBytes?: number;
}

/** Final hidden states of a batch: rows of every sequence in order, [Σ n, hidden], before the final norm. */
export interface BatchHidden {
  hidden: Float32Array;
  /** Row offset of each sequence (length = sequences + 1). */
  offsets: number[];
}

/**
 * Default bound on one chunk of logits (1 GiB: 1,341 rows of a 200,064 vocabulary). The LM head weight
 * is read once per chunk, so 4 × 2048 rows read the released model's 2.46 GB head 7 times (from the
 * page cache after the first).
 */
export const LOGIT_CHUNK_BYTES = 1024 ** 3;

/** Rows of logits per chunk for a vocabulary of V under `bytes` (default LOGIT_CHUNK_BYTES), at least 1. */
export function logitChunkRows(V: number, bytes = LOGIT_CHUNK_BYTES): number {
  return Math.max(1, Math.floor(bytes / (4 * V)));
}

export interface Session {
  readonly config: M1Config;
  /** Tokens consumed so far (the next position). */
  readonly position: number;
  /**
   * Run `tokens` through the block-form path; returns logits [n, vocab], or only rows from `logitsFrom`
   * (`lastOnly`: the last row; `logits: false`: none).
   */
  prefill(tokens: number[], opts?: PrefillOptions): Promise<Float32Array>;
  /** Feed one token through the recurrent path; returns its logits [vocab]. */
  decodeStep(token: number): Promise<Float32Array>;
  /**
   * Prefill several independent sequences (each from an empty state; the session's own sequence is
   * untouched) layer-major, then hand their logits to `onLogits` in row chunks (the head runs on chunks
   * of up to `logitChunkBytes` across sequences; each piece handed over belongs to one sequence).
   */
  prefillBatch(sequences: number[][], onLogits: (r: LogitRows) => void | Promise<void>, opts?: BatchOptions): Promise<void>;
  /** The layer-major body of `prefillBatch`: final hidden states of every sequence (each from an empty state). */
  hiddenBatch(sequences: number[][]): Promise<BatchHidden>;
  /** Final norm and LM head on `n` rows of hidden states (as returned by hiddenBatch). */
  logits(hidden: Float32Array, n: number): Promise<Float32Array>;
  /** Forget the sequence (keeps the weight cache). Call it after a failed or aborted call: state may be partly updated. */
  reset(): void;
  /** Decoded-weight bytes read so far. */
  readonly bytesDecoded: number;
  /** Bytes read from the checkpoint so far, seconds spent in those reads, and seconds the layers waited for them. */
  readonly bytesRead: number;
  readonly readSeconds: number;
  readonly waitSeconds: number;
  /** Whether the layer ops run on the native kernels. */
  readonly native: boolean;
  /** LM head precision used by the next call (may be switched between calls; the body is unaffected). */
  lmHead: Precision;
}

/** Per-sequence state: lightning states and KV caches by layer, tokens consumed. */
interface SeqState {
  lin: (LightningState | undefined)[];
  kv: (KvCache | undefined)[];
  pos: number;
}

class ModelSession implements Session {
  readonly config: M1Config;
  private readonly ctx: LayerContext;
  lmHead: Precision;
  private readonly logitScale: number;
  private readonly signal: AbortSignal | undefined;
  private readonly onProgress: ((done: number, total: number) => void) | undefined;
  private seq!: SeqState;

  constructor(o: SessionOptions) {
    const src = asWeightSource(o.checkpoint);
    this.config = src.config;
    if (this.config.sharedIntermediateSize > 0) throw new InputError('E_CONFIG', `shared_intermediate_size = ${this.config.sharedIntermediateSize}: shared experts are not supported (MiniMax-M1 has none)`);
    this.signal = o.signal;
    this.onProgress = o.onProgress;
    this.lmHead = o.lmHead ?? 'fp32';
    this.logitScale = o.logitScale ?? 1;
    const store = new WeightStore(src, { ...(o.maxMemory !== undefined ? weightBudget(o.maxMemory) : {}), kernels: o.kernels, threads: o.threads, signal: o.signal });
    const observe = o.onLinearInput;
    if (observe) {
      const product = store.linear.bind(store);
      store.linear = (name, x, m, numerics) => {
        observe(name, x, m);
        return product(name, x, m, numerics);
      };
    }
    this.ctx = { config: this.config, store, bf16: o.precision === 'bf16', siluFp32: Boolean(o.siluFp32), emulateLightning: o.bf16Lightning === 'emulate' };
    this.reset();
  }

  get position(): number {
    return this.seq.pos;
  }

  get bytesDecoded(): number {
    return this.ctx.store.bytesDecoded;
  }

  get bytesRead(): number {
    return this.ctx.store.bytesRead;
  }

  get readSeconds(): number {
    return this.ctx.store.readSeconds;
  }

  get waitSeconds(): number {
    return this.ctx.store.waitSeconds;
  }

  get native(): boolean {
    return this.ctx.store.native;
  }

  private fresh(): SeqState {
    const c = this.config;
    return {
      lin: c.attnTypes.map((t, l) => (t === 0 ? newLightningState(this.ctx, l) : undefined)),
      kv: c.attnTypes.map((t) => (t === 1 ? newKvCache(this.ctx) : undefined)),
      pos: 0,
    };
  }

  reset(): void {
    this.seq = this.fresh();
  }

  async prefill(tokens: number[], opts: PrefillOptions = {}): Promise<Float32Array> {
    if (tokens.length === 0) return new Float32Array(0);
    const from = opts.logits === false ? tokens.length : opts.lastOnly ? tokens.length - 1 : Math.min(tokens.length, Math.max(0, opts.logitsFrom ?? 0));
    return this.single(tokens, false, from);
  }

  async decodeStep(token: number): Promise<Float32Array> {
    return this.single([token], true, 0);
  }

  async hiddenBatch(sequences: number[][]): Promise<BatchHidden> {
    const offsets = [0];
    for (const [i, s] of sequences.entries()) {
      if (s.length === 0) throw new UsageError(`sequence ${i} is empty`);
      offsets.push(offsets[offsets.length - 1]! + s.length);
    }
    const states = sequences.map(() => this.fresh());
    const hidden = await this.body(sequences.flat(), sequences.map((s, i) => ({ n: s.length, st: states[i]! })), false);
    return { hidden, offsets };
  }

  async prefillBatch(sequences: number[][], onLogits: (r: LogitRows) => void | Promise<void>, opts: BatchOptions = {}): Promise<void> {
    const { hidden, offsets } = await this.hiddenBatch(sequences);
    const H = this.config.hiddenSize;
    const V = this.config.vocabSize;
    const chunk = logitChunkRows(V, opts.logitChunkBytes);
    const N = offsets[offsets.length - 1]!;
    let i = 0;
    // chunks run across sequence boundaries, so the head is read once per chunk, not once per sequence
    for (let r0 = 0; r0 < N; r0 += chunk) {
      throwIfAborted(this.signal);
      const rows = Math.min(chunk, N - r0);
      const logits = await this.logits(hidden.subarray(r0 * H, (r0 + rows) * H), rows);
      for (let r = r0; r < r0 + rows; ) {
        while (offsets[i + 1]! <= r) i++;
        const end = Math.min(offsets[i + 1]!, r0 + rows);
        await onLogits({ seq: i, row0: r - offsets[i]!, rows: end - r, logits: logits.subarray((r - r0) * V, (end - r0) * V) });
        r = end;
      }
    }
  }

  private async embed(tokens: number[]): Promise<Float32Array> {
    const { hiddenSize: H, vocabSize: V } = this.config;
    const x = new Float32Array(tokens.length * H);
    for (let t = 0; t < tokens.length; t++) {
      const id = tokens[t]!;
      if (!Number.isInteger(id) || id < 0 || id >= V) throw new InputError('E_TOKEN', `token ${t} = ${id} is outside the vocabulary [0, ${V})`);
      x.set(await this.ctx.store.rows(EMBED_WEIGHT, id, 1), t * H);
    }
    return x;
  }

  /** The session's own sequence: layers over `tokens`, logits for rows [from, n). */
  private async single(tokens: number[], recurrent: boolean, from: number): Promise<Float32Array> {
    const H = this.config.hiddenSize;
    const n = tokens.length;
    const x = await this.body(tokens, [{ n, st: this.seq }], recurrent);
    if (from >= n) return new Float32Array(0);
    return this.logits(x.subarray(from * H), n - from);
  }

  /** Layer loop over the rows of every segment (one sequence each, in order); returns the final hidden states. */
  private async body(tokens: number[], segs: { n: number; st: SeqState }[], recurrent: boolean): Promise<Float32Array> {
    const c = this.config;
    const ctx = this.ctx;
    const n = tokens.length;
    const H = c.hiddenSize;
    let x = await this.embed(tokens);
    for (let l = 0; l < c.numLayers; l++) {
      throwIfAborted(this.signal);
      const p = layerPrefix(l);
      const softmax = c.attnTypes[l] === 1;
      const u = rmsNorm(x, await ctx.store.vector(`${p}input_layernorm.weight`, H), n, H, c.rmsNormEps, ctx.bf16);
      const a = softmax
        ? await softmaxLayer(ctx, l, u, segs.map((s) => ({ n: s.n, cache: s.st.kv[l]! })))
        : await lightningLayer(ctx, l, u, segs.map((s) => ({ n: s.n, state: s.st.lin[l]! })), recurrent);
      const x1 = this.residual(c.postnorm ? u : x, a, softmax ? c.fullAlpha : c.linearAlpha, softmax ? c.fullBeta : c.linearBeta);
      const v = rmsNorm(x1, await ctx.store.vector(`${p}post_attention_layernorm.weight`, H), n, H, c.rmsNormEps, ctx.bf16);
      const m = await moeLayer(ctx, l, v, n);
      x = this.residual(c.postnorm ? v : x1, m, c.mlpAlpha, c.mlpBeta);
      this.onProgress?.(l + 1, c.numLayers);
    }
    for (const s of segs) s.st.pos += s.n;
    return x;
  }

  /** x′ = α·skip + β·branch; in bf16 emulation each product and the sum are rounded to bf16. */
  private residual(skip: Float32Array, branch: Float32Array, alpha: number, beta: number): Float32Array {
    const y = new Float32Array(skip.length);
    const a = Math.fround(alpha);
    const b = Math.fround(beta);
    if (this.ctx.bf16) {
      for (let i = 0; i < y.length; i++) y[i] = bf16(bf16(skip[i]! * a) + bf16(branch[i]! * b));
    } else {
      for (let i = 0; i < y.length; i++) y[i] = Math.fround(skip[i]! * a) + Math.fround(branch[i]! * b);
    }
    return y;
  }

  /** Final norm (weight × logitScale) and LM head. */
  async logits(x: Float32Array, n: number): Promise<Float32Array> {
    const c = this.config;
    const ctx = this.ctx;
    const gamma = Float32Array.from(await ctx.store.vector(FINAL_NORM_WEIGHT, c.hiddenSize), (g) => g * this.logitScale);
    if (ctx.bf16) roundBf16InPlace(gamma);
    const y = rmsNorm(x, gamma, n, c.hiddenSize, c.rmsNormEps, ctx.bf16);
    // tied models use the embedding as the head, even if a stray lm_head.weight was saved (as vLLM's loaders do)
    const headName = c.tieWordEmbeddings ? EMBED_WEIGHT : LM_HEAD_WEIGHT;
    if (this.lmHead !== 'bf16') return ctx.store.linear(headName, y, n);
    return linear({ ...ctx, bf16: true }, headName, roundBf16InPlace(Float32Array.from(y)), n);
  }
}

/** Create a session (no I/O until the first call). */
export function createSession(opts: SessionOptions): Session {
  return new ModelSession(opts);
}
