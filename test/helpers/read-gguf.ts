/** Test helper: parse a GGUF with the independent @huggingface/gguf parser and slice tensor bytes out of the file. */
import { readFile } from 'node:fs/promises';
import { gguf } from '@huggingface/gguf';

export interface ReadBack {
  metadata: Record<string, unknown>;
  tensors: Map<string, { shape: number[]; dtype: number; bytes: Buffer }>;
  order: string[];
}

/** Bytes per ggml type id for the types m1kit writes: [elements per block, bytes per block]. */
const SIZES: Record<number, [number, number]> = { 0: [1, 4], 1: [1, 2], 2: [32, 18], 8: [32, 34], 30: [1, 2] };

export async function readGguf(path: string): Promise<ReadBack> {
  const parsed = await gguf(path, { allowLocalFile: true });
  const file = await readFile(path);
  const start = Number(parsed.tensorDataOffset);
  const tensors = new Map<string, { shape: number[]; dtype: number; bytes: Buffer }>();
  for (const t of parsed.tensorInfos) {
    const shape = t.shape.map(Number);
    const [bs, ts] = SIZES[t.dtype]!;
    const n = (shape.reduce((a, b) => a * b, 1) / bs) * ts;
    const off = start + Number(t.offset);
    tensors.set(t.name, { shape, dtype: t.dtype, bytes: file.subarray(off, off + n) });
  }
  return { metadata: parsed.metadata as Record<string, unknown>, tensors, order: parsed.tensorInfos.map((t) => t.name) };
}

export const asF32 = (b: Buffer): Float32Array => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
