/**
 * Lazy, memory-bounded weight access for the runtime. Every weight goes through `readWeightRows`
 * (dequant.ts). Decoded fp32 tensors are kept in an LRU cache bounded by `cacheBytes`; a tensor whose
 * fp32 form is larger than a quarter of the budget (or than `streamBytes`) is never held whole: `linear`
 * streams it in row chunks, so peak memory stays ≈ cache budget + one chunk + activations.
 */
import { InputError, throwIfAborted } from '../errors.js';
import { gemm } from './math.js';
import { gemm as nativeGemm } from '../ops/gemm.js';
import { nativeAvailable } from '../../native/index.js';
import { readScale, readWeightRows, resolveLayout, type ScaleTable, type WeightLayout } from './dequant.js';
import type { WeightSource } from './source.js';

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
   * 'ts': always the TypeScript loop (float64 accumulation; bit-reproducible everywhere).
   */
  kernels?: 'auto' | 'ts' | undefined;
  threads?: number | undefined;
}

export class WeightStore {
  readonly src: WeightSource;
  private readonly cacheBytes: number;
  private readonly chunkBytes: number;
  private readonly native: boolean;
  private readonly threads: number | undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly layouts = new Map<string, Promise<WeightLayout>>();
  private readonly scales = new Map<string, Promise<ScaleTable | undefined>>();
  private readonly cache = new Map<string, Float32Array>();
  private cached = 0;
  /** Bytes of decoded weights read so far (for benchmarks). */
  bytesDecoded = 0;

  constructor(src: WeightSource, opts: WeightStoreOptions = {}) {
    this.src = src;
    this.cacheBytes = opts.cacheBytes ?? DEFAULT_CACHE_BYTES;
    this.chunkBytes = opts.chunkBytes ?? STREAM_CHUNK_BYTES;
    this.native = (opts.kernels ?? 'auto') === 'auto' && nativeAvailable();
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
      p = resolveLayout(this.src, name);
      this.layouts.set(name, p);
    }
    return p;
  }

  private scale(lay: WeightLayout): Promise<ScaleTable | undefined> {
    let p = this.scales.get(lay.name);
    if (!p) {
      p = lay.scale ? readScale(this.src, lay) : Promise.resolve(undefined);
      this.scales.set(lay.name, p);
    }
    return p;
  }

  /** fp32 rows [row0, row0 + n) of weight `name`. */
  async rows(name: string, row0: number, n: number): Promise<Float32Array> {
    throwIfAborted(this.signal);
    const hit = this.cache.get(name);
    const lay = await this.layout(name);
    if (hit) return hit.subarray(row0 * lay.cols, (row0 + n) * lay.cols);
    const out = await readWeightRows(this.src, lay, row0, n, await this.scale(lay));
    this.bytesDecoded += out.byteLength;
    return out;
  }

  private cacheable(lay: WeightLayout): boolean {
    const bytes = lay.rows * lay.cols * 4;
    return bytes <= this.cacheBytes / 4 && bytes <= 4 * this.chunkBytes;
  }

  /** The whole weight as fp32 (cached when it fits the budget). Only for tensors that are cacheable or small. */
  async full(name: string): Promise<Float32Array> {
    const hit = this.cache.get(name);
    if (hit) {
      this.cache.delete(name);
      this.cache.set(name, hit); // LRU: most recent last
      return hit;
    }
    const lay = await this.layout(name);
    const w = await this.rows(name, 0, lay.rows);
    if (this.cacheable(lay)) this.insert(name, w);
    return w;
  }

  private insert(name: string, w: Float32Array): void {
    while (this.cached + w.byteLength > this.cacheBytes && this.cache.size > 0) {
      const [oldest, arr] = this.cache.entries().next().value as [string, Float32Array];
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
   * y [m, nOut] = x [m, k] · Wᵀ for weight `name` [nOut, k]; streams W in row chunks when it is too
   * large to cache.
   */
  async linear(name: string, x: Float32Array, m: number): Promise<Float32Array> {
    const lay = await this.layout(name);
    const k = lay.cols;
    if (x.length !== m * k) throw new InputError('E_TENSOR_SHAPE', `${name}: shape [${lay.rows}, ${k}] does not fit an input of width ${x.length / m} (check config.json dimensions)`);
    if (this.cacheable(lay) || this.cache.has(name)) return this.product(x, await this.full(name), m, k, lay.rows);
    const y = new Float32Array(m * lay.rows);
    const step = Math.max(1, Math.floor(this.chunkBytes / (4 * k)));
    for (let r0 = 0; r0 < lay.rows; r0 += step) {
      const n = Math.min(step, lay.rows - r0);
      const part = await this.product(x, await this.rows(name, r0, n), m, k, n);
      for (let i = 0; i < m; i++) y.set(part.subarray(i * n, (i + 1) * n), i * lay.rows + r0);
    }
    return y;
  }

  /** x [m, k] · w[nOut, k]ᵀ with the selected kernel. */
  private async product(x: Float32Array, w: Float32Array, m: number, k: number, nOut: number): Promise<Float32Array> {
    if (!this.native || m * k * nOut < NATIVE_MIN_MACS) return gemm(x, w, m, k, nOut);
    return nativeGemm({ x, w, m, k, nOut, ...(this.threads !== undefined ? { threads: this.threads } : {}) });
  }

  /** Logical [rows, cols] of a weight. */
  async shape(name: string): Promise<[number, number]> {
    const lay = await this.layout(name);
    return [lay.rows, lay.cols];
  }

  clear(): void {
    this.cache.clear();
    this.cached = 0;
  }
}
