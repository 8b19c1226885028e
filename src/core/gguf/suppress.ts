/**
 * Suppressed tokens, as llama.cpp's converter writes them for MiniMax-01/M1 (conversion/minimax.py,
 * `_get_suppress_tokens`): every embedding row from the tokenizer's base vocabulary size (tokenizer.json
 * `model.vocab`, without added tokens) to the end of `model.embed_tokens.weight` whose values are all
 * zero (±0) becomes an entry of `tokenizer.ggml.suppress_tokens` (INT32 array), so samplers never
 * draw it. The released model's rows past id 200,031 are such rows. Detected from the data, streamed
 * in bounded chunks.
 */
import { InputError, throwIfAborted } from '../errors.js';
import type { DType } from '../dtype/dtypes.js';

export const SUPPRESS_TOKENS_KEY = 'tokenizer.ggml.suppress_tokens';

/** Bytes of the embedding read per call while scanning. */
const SCAN_CHUNK_BYTES = 8 * 1024 * 1024;

export interface EmbeddingSource {
  info(name: string): { info: { dtype: DType; shape: number[] } };
  read(name: string, byteOffset?: number, byteLength?: number): Promise<Uint8Array>;
}

/** Whether `n` elements of `dtype` in `b` are all ±0 (the sign bit ignored, as `x == 0` compares). */
function allZero(b: Uint8Array, dtype: DType): boolean {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (dtype === 'F32') {
    for (let i = 0; i + 4 <= b.length; i += 4) if ((dv.getUint32(i, true) & 0x7fffffff) !== 0) return false;
    return true;
  }
  for (let i = 0; i + 2 <= b.length; i += 2) if ((dv.getUint16(i, true) & 0x7fff) !== 0) return false;
  return true;
}

/**
 * Ids in [from, rows of `name`) whose embedding row is all zero.
 * @example await zeroEmbeddingRows(ckpt, 200000) // [200032, …, 200063] for the released model
 */
export async function zeroEmbeddingRows(src: EmbeddingSource, from: number, o: { name?: string; signal?: AbortSignal } = {}): Promise<number[]> {
  const name = o.name ?? 'model.embed_tokens.weight';
  const { dtype, shape } = src.info(name).info;
  if (dtype !== 'BF16' && dtype !== 'F16' && dtype !== 'F32') throw new InputError('E_DTYPE', `${name}: dtype ${dtype}; scanning for zero rows reads BF16, F16 or F32`);
  const [rows, cols] = shape as [number, number];
  const rowBytes = cols * (dtype === 'F32' ? 4 : 2);
  const perChunk = Math.max(1, Math.floor(SCAN_CHUNK_BYTES / rowBytes));
  const out: number[] = [];
  for (let r0 = Math.max(0, from); r0 < rows; r0 += perChunk) {
    throwIfAborted(o.signal);
    const n = Math.min(perChunk, rows - r0);
    const bytes = await src.read(name, r0 * rowBytes, n * rowBytes);
    for (let r = 0; r < n; r++) if (allZero(bytes.subarray(r * rowBytes, (r + 1) * rowBytes), dtype)) out.push(r0 + r);
  }
  return out;
}
