/**
 * Lazy, memory-bounded weight access for the runtime. Every weight goes through the one decoder of
 * stored weights (formats/decode.ts, convert's too), except that with native kernels plain BF16 weights go to the GEMM kernel as the stored
 * bf16 bits (widened exactly inside the kernel, half the bytes of fp32). Operands are kept in an LRU
 * cache bounded by `cacheBytes`; a tensor larger than a quarter of the budget (or than 4 chunks) is
 * never held whole: `linear` streams it in row chunks, so peak memory stays ≈ cache budget + one chunk
 * + activations. Bytes read from the source and the time spent waiting for them are counted.
 */
import { InputError, throwIfAborted } from '../errors.js';
import { bf16ToF32 } from '../dtype/convert.js';
import { gemm } from './math.js';
import { gemm as nativeGemm, type GemmPrecision } from '../ops/gemm.js';
import { decodeStoredRows, resolveStored } from '../formats/decode.js';
import type { StoredLayout as WeightLayout } from '../formats/index.js';
import { resolveNative, type KernelChoice } from './kernels.js';
import type { WeightSource } from './source.js';

/** A Linear weight as handed to the GEMM: fp32 values or bf16 bit patterns. */
type Operand = Float32Array | Uint16Array;

/** Default cache budget for decoded weights (fp32 bytes). */
export const DEFAULT_CACHE_BYTES = 2 * 1024 ** 3;
/**
 * Smallest product (m·k·nOut multiply-adds) handed to the native kernel: below it the call overhead of
 * the addon's worker dominates (measured: tiny-fixture decode 304 tok/s in TS vs 43 tok/s native).
 */
export const NATIVE_MIN_MACS = 1 << 18;
/** Largest fp32 row chunk materialised while streaming a weight (also the largest tensor decoded whole when uncached). */
export const STREAM_CHUNK_BYTES = 64 * 1024 ** 2;

export interface WeightStoreOptions {
  cacheBytes?: number | undefined;
  /** Row-chunk size (fp32 bytes) when streaming an uncached weight. */
  chunkBytes?: number | undefined;
  signal?: AbortSignal | undefined;
  /**
   * 'auto': matrix products use the native gemm kernel (fp32 accumulation) when the addon is loaded;
   * 'native': the same, an UnavailableError without the addon; 'ts': always the TypeScript loop
   * (float64 accumulation; bit-reproducible everywhere).
   */
  kernels?: KernelChoice | undefined;
  threads?: number | undefined;
}

export class WeightStore {
  readonly src: WeightSource;
  private readonly cacheBytes: number;
  private readonly chunkBytes: number;
  /** Matrix products (and, for the layers, attention) run on the native kernels. */
  readonly native: boolean;
  readonly threads: number | undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly layouts = new Map<string, Promise<WeightLayout>>();
  /** LRU of whole tensors: fp32 under the tensor name, bf16 GEMM operands under "bf16:" + name. */
  private readonly cache = new Map<string, Operand>();
  private cached = 0;
  /** Bytes of weights produced for the runtime so far, in the form used (fp32 or bf16). */
  bytesDecoded = 0;
  /** Bytes read from the source so far. */
  bytesRead = 0;
  /** Seconds spent in source reads (for benchmarks; reads started by `prefetch` overlap compute). */
  readSeconds = 0;
  /** Seconds `linear` spent waiting for its weight (reads not hidden behind compute). */
  waitSeconds = 0;
  /** Whole-tensor reads started ahead of use by `prefetch`, by cache key. */
  private readonly pending = new Map<string, Promise<Operand>>();

  constructor(src: WeightSource, opts: WeightStoreOptions = {}) {
    this.native = resolveNative(opts.kernels ?? 'auto');
    const read = src.read.bind(src);
    // count every byte the runtime reads, whoever asks (dequant, scales, bf16 operands)
    this.src = {
      config: src.config,
      has: (n) => src.has(n),
      info: (n) => src.info(n),
      read: async (n, off, len) => {
        const t0 = performance.now();
        const b = await read(n, off, len);
        this.readSeconds += (performance.now() - t0) / 1000;
        this.bytesRead += b.byteLength;
        return b;
      },
    };
    this.cacheBytes = opts.cacheBytes ?? DEFAULT_CACHE_BYTES;
    this.chunkBytes = opts.chunkBytes ?? STREAM_CHUNK_BYTES;
    this.threads = opts.threads;
    this.signal = opts.signal;
  }

  has(name: string): boolean {
    const s = name.endsWith('.weight') ? name.slice(0, -7) : name;
    return this.src.has(name) || this.src.has(`${s}.weight_packed`);
  }

  layout(name: string): Promise<WeightLayout> {
    let p = this.layouts.get(name);
    if (!p) {
      p = resolveStored(this.src, name, this.src.config.raw.quantization_config);
      this.layouts.set(name, p);
    }
    return p;
  }

  /** fp32 rows [row0, row0 + n) of weight `name`. */
  async rows(name: string, row0: number, n: number): Promise<Float32Array> {
    throwIfAborted(this.signal);
    const hit = this.cache.get(name) as Float32Array | undefined;
    const lay = await this.layout(name);
    if (hit) return hit.subarray(row0 * lay.cols, (row0 + n) * lay.cols);
    const out = await decodeStoredRows(this.src, lay, row0, n, { backend: this.native ? 'auto' : 'ref', ...(this.threads !== undefined ? { threads: this.threads } : {}) });
    this.bytesDecoded += out.byteLength;
    return out;
  }

  /** Plain BF16 weights go to the native GEMM as stored bits. */
  private bf16Operand(lay: WeightLayout): boolean {
    return this.native && lay.format === 'plain' && lay.dtype === 'BF16';
  }

  private operandBytes(lay: WeightLayout): number {
    return this.bf16Operand(lay) ? 2 : 4;
  }

  /** GEMM operand rows [row0, row0 + n): bf16 bits (copied out of the read buffer) or fp32. */
  private async operandRows(name: string, lay: WeightLayout, row0: number, n: number): Promise<Operand> {
    if (!this.bf16Operand(lay)) return this.rows(name, row0, n);
    throwIfAborted(this.signal);
    const raw = await this.src.read(lay.tensors[0]!, row0 * lay.cols * 2, n * lay.cols * 2);
    const out = new Uint16Array(n * lay.cols);
    new Uint8Array(out.buffer).set(raw);
    this.bytesDecoded += out.byteLength;
    return out;
  }

  private cacheable(lay: WeightLayout): boolean {
    const bytes = lay.rows * lay.cols * this.operandBytes(lay);
    return bytes <= this.cacheBytes / 4 && bytes <= 4 * this.chunkBytes;
  }

  /** The whole weight as fp32 (cached when it fits the budget). Only for tensors that are cacheable or small. */
  async full(name: string): Promise<Float32Array> {
    const lay = await this.layout(name);
    return (await this.whole(name, lay, () => this.rows(name, 0, lay.rows))) as Float32Array;
  }

  private async whole(key: string, lay: WeightLayout, load: () => Promise<Operand>): Promise<Operand> {
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit); // LRU: most recent last
      return hit;
    }
    const ahead = this.pending.get(key);
    this.pending.delete(key);
    const w = await (ahead ?? load());
    const bytes = lay.rows * lay.cols * (w instanceof Uint16Array ? 2 : 4);
    if (bytes <= this.cacheBytes / 4 && bytes <= 4 * this.chunkBytes) this.insert(key, w);
    return w;
  }

  private insert(name: string, w: Operand): void {
    while (this.cached + w.byteLength > this.cacheBytes && this.cache.size > 0) {
      const [oldest, arr] = this.cache.entries().next().value as [string, Operand];
      this.cache.delete(oldest);
      this.cached -= arr.byteLength;
    }
    if (w.byteLength <= this.cacheBytes) {
      this.cache.set(name, w);
      this.cached += w.byteLength;
    }
  }

  /** A 1-D weight (norm γ, …) of `n` values as fp32. */
  async vector(name: string, n: number): Promise<Float32Array> {
    const v = await this.full(name);
    if (v.length !== n) throw new InputError('E_TENSOR_SHAPE', `${name}: expected ${n} values, found ${v.length} (check config.json dimensions)`);
    return v;
  }

  /**
   * Start reading the GEMM operand of weight `name` now, so that a later `linear` finds it (reads run on
   * the I/O threads while the kernels compute). Only weights small enough to cache (read whole anyway);
   * the caller bounds how far ahead it reads (the MoE reads one expert ahead).
   */
  prefetch(name: string): void {
    if (!this.has(name)) return;
    const p = this.layout(name).then((lay) => {
      const key = this.bf16Operand(lay) ? `bf16:${name}` : name;
      if (!this.cacheable(lay) || this.cache.has(key) || this.pending.has(key)) return;
      const read = this.operandRows(name, lay, 0, lay.rows);
      read.catch(() => this.pending.delete(key)); // a failed read is retried (and reported) by linear
      this.pending.set(key, read);
    });
    p.catch(() => undefined);
  }

  /**
   * y [m, nOut] = x [m, k] · Wᵀ for weight `name` [nOut, k]; streams W in row chunks when it is too
   * large to cache.
   */
  async linear(name: string, x: Float32Array, m: number, numerics: GemmPrecision = 'fp32'): Promise<Float32Array> {
    const lay = await this.layout(name);
    const k = lay.cols;
    if (x.length !== m * k) throw new InputError('E_TENSOR_SHAPE', `${name}: shape [${lay.rows}, ${k}] does not fit an input of width ${x.length / m} (check config.json dimensions)`);
    const key = this.bf16Operand(lay) ? `bf16:${name}` : name;
    if (this.cacheable(lay) || this.cache.has(key)) {
      const t0 = performance.now();
      const w = await this.whole(key, lay, () => this.operandRows(name, lay, 0, lay.rows));
      this.waitSeconds += (performance.now() - t0) / 1000;
      return this.product(x, w, m, k, lay.rows, numerics);
    }
    const y = new Float32Array(m * lay.rows);
    const step = Math.max(1, Math.floor(this.chunkBytes / (this.operandBytes(lay) * k)));
    for (let r0 = 0; r0 < lay.rows; r0 += step) {
      const n = Math.min(step, lay.rows - r0);
      const t0 = performance.now();
      const w = await this.operandRows(name, lay, r0, n);
      this.waitSeconds += (performance.now() - t0) / 1000;
      const part = await this.product(x, w, m, k, n, numerics);
      for (let i = 0; i < m; i++) y.set(part.subarray(i * n, (i + 1) * n), i * lay.rows + r0);
    }
    return y;
  }

  /**
   * x [m, k] · w[nOut, k]ᵀ with the selected kernel. `numerics` 'bf16' (for activations already on the
   * bf16 grid, as in bf16 emulation) lets the native kernel multiply bf16 × bf16 with vdpbf16ps.
   */
  private async product(x: Float32Array, w: Operand, m: number, k: number, nOut: number, numerics: GemmPrecision): Promise<Float32Array> {
    if (!this.native || m * k * nOut < NATIVE_MIN_MACS) return gemm(x, w instanceof Uint16Array ? bf16ToF32(w) : w, m, k, nOut);
    const precision = numerics === 'bf16' && w instanceof Uint16Array ? 'bf16' : 'fp32';
    return nativeGemm({ x, w, m, k, nOut, precision, ...(this.threads !== undefined ? { threads: this.threads } : {}) });
  }

  /** Logical [rows, cols] of a weight. */
  async shape(name: string): Promise<[number, number]> {
    const lay = await this.layout(name);
    return [lay.rows, lay.cols];
  }

  clear(): void {
    this.pending.clear();
    this.cache.clear();
    this.cached = 0;
  }
}
