/**
 * Test helpers written independently of the code under test: a naive safetensors reader (whole file,
 * JSON header, plain slicing), bf16 decoding by bit shifting, and temp directories.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NaiveTensor {
  dtype: string;
  shape: number[];
  bytes: Buffer;
}

/** Parse a whole safetensors file (test files are small). */
export function readSafetensors(path: string): Map<string, NaiveTensor> {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out = new Map<string, NaiveTensor>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    out.set(name, { dtype: e.dtype, shape: e.shape, bytes: buf.subarray(8 + n + e.data_offsets[0], 8 + n + e.data_offsets[1]) });
  }
  return out;
}

/** Every tensor of every *.safetensors file directly in `dir`. */
export function readDir(dir: string): Map<string, NaiveTensor> {
  const all = new Map<string, NaiveTensor>();
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.safetensors')).sort()) {
    for (const [k, v] of readSafetensors(join(dir, f))) all.set(k, v);
  }
  return all;
}

/** The tensor `name` of a map from readDir/readSafetensors; throws naming it when it is missing. */
export function tensorIn(m: Map<string, NaiveTensor>, name: string): NaiveTensor {
  const t = m.get(name);
  if (!t) throw new Error(`missing ${name}`);
  return t;
}

/** Element size of the dtypes used in tests. */
export const ESIZE: Record<string, number> = { BF16: 2, F16: 2, F32: 4, F8_E4M3: 1, I8: 1, I32: 4 };

/** Rows [r0,r1) × cols [c0,c1) of a 2-D (or 1-D as one row) tensor, as raw bytes, by plain loops. */
export function sliceBytes(t: NaiveTensor, r0: number, r1: number, c0: number, c1: number): Buffer {
  const cols = t.shape[t.shape.length - 1]!;
  const es = ESIZE[t.dtype]!;
  const parts: Buffer[] = [];
  for (let r = r0; r < r1; r++) parts.push(t.bytes.subarray((r * cols + c0) * es, (r * cols + c1) * es));
  return Buffer.concat(parts);
}

/** bf16 bytes → numbers (append 16 zero bits). */
export function bf16Values(b: Buffer): number[] {
  const out: number[] = [];
  const f = Buffer.alloc(4);
  for (let i = 0; i < b.length; i += 2) {
    f.writeUInt32LE(b.readUInt16LE(i) << 16 >>> 0, 0);
    out.push(f.readFloatLE(0));
  }
  return out;
}

export function f32Values(b: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i < b.length; i += 4) out.push(b.readFloatLE(i));
  return out;
}

export const tmp = (prefix: string): string => mkdtempSync(join(tmpdir(), `m1kit-${prefix}-`));
export const rmrf = (p: string): void => rmSync(p, { recursive: true, force: true });

/** sha256 of every regular file under `dir` (relative path → hex), recursively. */
export function hashTree(dir: string, base = dir, out = new Map<string, string>()): Map<string, string> {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) hashTree(p, base, out);
    else out.set(p.slice(base.length + 1), createHash('sha256').update(readFileSync(p)).digest('hex'));
  }
  return out;
}
