/**
 * A checkpoint directory: config.json + either model.safetensors.index.json with shards, or a single
 * model.safetensors (or a set of *.safetensors files). Opening reads only JSON and safetensors headers.
 * Tensor data is read lazily by offset; readers are cached with a bound on open file handles.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, throwIfAborted } from '../errors.js';
import { bf16ToF32, f16ToF32 } from '../dtype/convert.js';
import { dtypeBytes, numel } from '../dtype/dtypes.js';
import type { TensorInfo } from '../safetensors/header.js';
import { INDEX_FILE, readIndex, readJsonFile, shardFiles } from '../safetensors/index-json.js';
import { SafetensorsReader } from '../safetensors/reader.js';
import { regularFilesIn } from '../safetensors/regular-file.js';
import { MAX_CHECKPOINT_HEADER_BYTES, MAX_TENSORS_PER_CHECKPOINT } from '../limits.js';
import { parseConfig, type M1Config } from './config.js';

/** Open file handles kept at most (the real checkpoint has 413 shards). */
const MAX_OPEN_READERS = 32;
/** Shard headers read concurrently while opening. */
const HEADER_CONCURRENCY = 16;

export interface TensorLocation {
  file: string;
  info: TensorInfo;
}

export interface OpenOptions {
  signal?: AbortSignal;
  /** Called after each shard header is read. */
  onProgress?: (done: number, total: number) => void;
  /** Open even if shards listed in the index are absent (their tensors are then missing); see `missingShards`. */
  allowMissingShards?: boolean;
}

export class Checkpoint {
  readonly dir: string;
  readonly config: M1Config;
  readonly configRaw: Record<string, unknown>;
  /** Weight files (relative names), sorted. */
  readonly files: string[];
  /** True when the directory has a model.safetensors.index.json. */
  readonly indexed: boolean;
  readonly indexMetadata: Record<string, unknown>;
  readonly tensors: Map<string, TensorLocation>;
  /** File sizes in bytes by relative name. */
  readonly fileSizes: Map<string, number>;
  /** Shards listed in the index but absent on disk (only with `allowMissingShards`). */
  readonly missingShards: string[];
  private readonly readers = new Map<string, Promise<SafetensorsReader>>();

  private constructor(p: { dir: string; config: M1Config; files: string[]; indexed: boolean; indexMetadata: Record<string, unknown>; tensors: Map<string, TensorLocation>; fileSizes: Map<string, number>; missingShards: string[] }) {
    this.dir = p.dir;
    this.config = p.config;
    this.configRaw = p.config.raw;
    this.files = p.files;
    this.indexed = p.indexed;
    this.indexMetadata = p.indexMetadata;
    this.tensors = p.tensors;
    this.fileSizes = p.fileSizes;
    this.missingShards = p.missingShards;
  }

  /**
   * Open a checkpoint directory (headers only).
   * @example const ckpt = await Checkpoint.open('fixtures/tiny'); const w = await ckpt.readF32('model.norm.weight');
   */
  static async open(dir: string, opts: OpenOptions = {}): Promise<Checkpoint> {
    let st;
    try {
      st = await stat(dir);
    } catch {
      throw new InputError('E_NOT_FOUND', `${dir}: no such checkpoint directory`);
    }
    if (!st.isDirectory()) throw new InputError('E_NOT_A_CHECKPOINT', `${dir}: expected a checkpoint directory (config.json + *.safetensors)`);
    const entries = await readdir(dir);
    if (!entries.includes('config.json')) throw new InputError('E_NOT_A_CHECKPOINT', `${dir}: no config.json found`);
    const configPath = join(dir, 'config.json');
    const config = parseConfig(await readJsonFile(configPath, 'config.json'), configPath);

    let files: string[];
    let weightMap: Map<string, string> | undefined;
    let indexMetadata: Record<string, unknown> = {};
    const missingShards: string[] = [];
    const indexed = entries.includes(INDEX_FILE);
    if (indexed) {
      const idx = await readIndex(join(dir, INDEX_FILE));
      weightMap = idx.weightMap;
      indexMetadata = idx.metadata;
      files = shardFiles(idx);
      const present = new Set(entries);
      for (const f of files) {
        if (present.has(f)) continue;
        if (!opts.allowMissingShards) throw new InputError('E_SHARD_MISSING', `${join(dir, INDEX_FILE)}: shard "${f}" listed in weight_map does not exist`);
        missingShards.push(f);
      }
      files = files.filter((f) => present.has(f));
    } else {
      files = entries.filter((e) => e.endsWith('.safetensors')).sort();
      if (files.length === 0) throw new InputError('E_NOT_A_CHECKPOINT', `${dir}: no *.safetensors files and no ${INDEX_FILE}`);
    }

    const tensors = new Map<string, TensorLocation>();
    const fileSizes = new Map<string, number>();
    let done = 0;
    const queue = [...files];
    let headerBytes = 0;
    let failed = false;
    const charge = (f: string) => (n: number) => {
      headerBytes += n;
      if (headerBytes > MAX_CHECKPOINT_HEADER_BYTES) {
        throw new InputError('E_SAFETENSORS_HEADER', `${join(dir, f)}: the checkpoint's safetensors headers exceed ${MAX_CHECKPOINT_HEADER_BYTES} bytes together (the cap; MiniMax-M1's 413 headers total ≈ 4 MB)`);
      }
    };
    const openAll = async () => {
      for (let f = queue.shift(); f !== undefined && !failed; f = queue.shift()) {
        throwIfAborted(opts.signal);
        const r = await SafetensorsReader.open(join(dir, f), { onHeaderLength: charge(f) });
        try {
          fileSizes.set(f, r.fileSize);
          if (tensors.size + r.header.tensors.length > MAX_TENSORS_PER_CHECKPOINT) {
            throw new InputError('E_TOO_MANY_TENSORS', `${join(dir, f)}: the checkpoint holds more than ${MAX_TENSORS_PER_CHECKPOINT} tensors (the cap; MiniMax-M1 has 8,243)`);
          }
          for (const t of r.header.tensors) {
            const prev = tensors.get(t.name);
            if (prev) throw new InputError('E_DUPLICATE_TENSOR', `${join(dir, f)}: tensor "${t.name}" also appears in ${prev.file}`);
            tensors.set(t.name, { file: f, info: t });
          }
        } finally {
          await r.close();
        }
        opts.onProgress?.(++done, files.length);
      }
    };
    const worker = () =>
      openAll().catch((e: unknown) => {
        failed = true; // the other workers stop at their next file
        throw e;
      });
    await Promise.all(Array.from({ length: Math.min(HEADER_CONCURRENCY, files.length) }, worker));

    if (weightMap) {
      const missing = new Set(missingShards);
      for (const [name, f] of weightMap) {
        if (missing.has(f)) continue;
        const loc = tensors.get(name);
        if (!loc) throw new InputError('E_INDEX_MISMATCH', `${join(dir, INDEX_FILE)}: tensor "${name}" is mapped to ${f} but that file has no such tensor`);
        if (loc.file !== f) throw new InputError('E_INDEX_MISMATCH', `${join(dir, INDEX_FILE)}: tensor "${name}" is mapped to ${f} but found in ${loc.file}`);
      }
      for (const [name, loc] of tensors) {
        if (!weightMap.has(name)) throw new InputError('E_INDEX_MISMATCH', `${join(dir, INDEX_FILE)}: tensor "${name}" in ${loc.file} is not listed in weight_map`);
      }
    }
    return new Checkpoint({ dir, config, files, indexed, indexMetadata, tensors, fileSizes, missingShards });
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorLocation {
    const loc = this.tensors.get(name);
    if (!loc) throw new InputError('E_TENSOR_MISSING', `${this.dir}: checkpoint has no tensor "${name}"`);
    return loc;
  }

  /** Total bytes of all tensors' data. */
  get dataBytes(): number {
    let n = 0;
    for (const { info } of this.tensors.values()) n += info.end - info.begin;
    return n;
  }

  /** A (cached) reader for weight file `file`. */
  async reader(file: string): Promise<SafetensorsReader> {
    let r = this.readers.get(file);
    if (r) {
      this.readers.delete(file); // refresh LRU position
      this.readers.set(file, r);
      return r;
    }
    if (this.readers.size >= MAX_OPEN_READERS) {
      const [oldest, p] = this.readers.entries().next().value as [string, Promise<SafetensorsReader>];
      this.readers.delete(oldest);
      await (await p).close();
    }
    r = SafetensorsReader.open(join(this.dir, file));
    this.readers.set(file, r);
    r.catch(() => this.readers.delete(file));
    return r;
  }

  /** Raw bytes of a tensor (or a byte range of it; ≤ 256 MiB per call). */
  async read(name: string, byteOffset = 0, byteLength?: number): Promise<Buffer> {
    const loc = this.info(name);
    return (await this.reader(loc.file)).read(name, byteOffset, byteLength);
  }

  /** A whole tensor decoded to fp32 (BF16, F16, F32). */
  async readF32(name: string): Promise<Float32Array> {
    return decodeF32(await this.read(name), this.info(name).info, this.dir);
  }

  /** Rows [row0, row0 + nRows) of a tensor (rank ≥ 1, row = product of trailing dims) decoded to fp32. */
  async readRowsF32(name: string, row0: number, nRows: number): Promise<Float32Array> {
    const { info } = this.info(name);
    const rows = info.shape[0] ?? 1;
    if (row0 < 0 || nRows < 0 || row0 + nRows > rows) throw new InputError('E_RANGE', `${this.dir}: rows [${row0}, ${row0 + nRows}) outside tensor "${name}" with ${rows} rows`);
    const rowBytes = (numel(info.shape) / Math.max(rows, 1)) * dtypeBytes(info.dtype);
    return decodeF32(await this.read(name, row0 * rowBytes, nRows * rowBytes), info, this.dir);
  }

  /** Non-weight files in the directory (tokenizer, generation config, custom code, …) to carry over. */
  async otherFiles(): Promise<string[]> {
    return (await regularFilesIn(this.dir)).filter((n) => !n.endsWith('.safetensors') && !n.endsWith('.incomplete') && n !== INDEX_FILE && n !== 'config.json' && !n.startsWith('.m1kit'));
  }

  async close(): Promise<void> {
    const all = [...this.readers.values()];
    this.readers.clear();
    await Promise.all(all.map(async (p) => (await p.catch(() => undefined))?.close()));
  }
}

/** Decode raw little-endian bytes of a float tensor to fp32. */
export function decodeF32(buf: Buffer, info: TensorInfo, where: string): Float32Array {
  const n = buf.length / dtypeBytes(info.dtype);
  // copy into an aligned buffer (Buffer slices from the pool may be unaligned)
  const aligned = new Uint8Array(buf.length);
  aligned.set(buf);
  switch (info.dtype) {
    case 'F32':
      return new Float32Array(aligned.buffer, 0, n);
    case 'BF16':
      return bf16ToF32(new Uint16Array(aligned.buffer, 0, n));
    case 'F16':
      return f16ToF32(new Uint16Array(aligned.buffer, 0, n));
    default:
      throw new InputError('E_DTYPE', `${where}: tensor "${info.name}" has dtype ${info.dtype}; expected BF16, F16 or F32 here`);
  }
}
