/** Write a logits matrix [n, vocab] as tensor `logits` (F32) of a safetensors file, in bounded chunks. */
import { SafetensorsWriter } from '../safetensors/writer.js';
import { DEFAULT_CHUNK_BYTES } from '../limits.js';

export async function writeLogits(path: string, logits: Float32Array, n: number, vocab: number, metadata?: Record<string, string>): Promise<number> {
  const w = await SafetensorsWriter.create(path, [{ name: 'logits', dtype: 'F32', shape: [n, vocab] }], metadata);
  try {
    const bytes = new Uint8Array(logits.buffer, logits.byteOffset, logits.byteLength);
    for (let off = 0; off < bytes.length; off += DEFAULT_CHUNK_BYTES) {
      await w.write('logits', bytes.subarray(off, Math.min(bytes.length, off + DEFAULT_CHUNK_BYTES)), off);
    }
  } catch (e) {
    await w.abort();
    throw e;
  }
  await w.finish();
  return w.totalBytes;
}
