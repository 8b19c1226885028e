/**
 * Serialize a GGUF v3 header: magic, counts, metadata KVs and tensor infos, padded to the alignment.
 * Pure (no I/O). Tensor data offsets are assigned here, in the given order, each aligned.
 */
import { InputError } from '../errors.js';
import { GGML_TYPES, GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_VERSION, GgufValueType, tensorBytes, type GgmlType, type GgufKv, type GgufScalarType } from './format.js';

export interface GgufTensorSpec {
  name: string;
  /** GGUF dims: ne[0] is the contiguous (fastest) dimension, i.e. the PyTorch shape reversed. */
  ne: number[];
  type: GgmlType;
}

export interface GgufTensorLayout extends GgufTensorSpec {
  /** Offset of the tensor's first byte from the start of the data section. */
  offset: number;
  bytes: number;
}

export interface GgufHeader {
  bytes: Buffer;
  tensors: GgufTensorLayout[];
  /** Absolute file offset of the data section (header length, aligned). */
  dataStart: number;
  /** Absolute file size once every tensor (and the trailing padding) is written. */
  fileSize: number;
}

export const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** Growable little-endian byte builder. */
class ByteBuilder {
  private buf = Buffer.alloc(1 << 16);
  length = 0;
  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = Buffer.alloc(cap);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u8(v: number): void { this.ensure(1); this.buf.writeUInt8(v, this.length); this.length += 1; }
  i8(v: number): void { this.ensure(1); this.buf.writeInt8(v, this.length); this.length += 1; }
  u16(v: number): void { this.ensure(2); this.buf.writeUInt16LE(v, this.length); this.length += 2; }
  i16(v: number): void { this.ensure(2); this.buf.writeInt16LE(v, this.length); this.length += 2; }
  u32(v: number): void { this.ensure(4); this.buf.writeUInt32LE(v, this.length); this.length += 4; }
  i32(v: number): void { this.ensure(4); this.buf.writeInt32LE(v, this.length); this.length += 4; }
  f32(v: number): void { this.ensure(4); this.buf.writeFloatLE(v, this.length); this.length += 4; }
  f64(v: number): void { this.ensure(8); this.buf.writeDoubleLE(v, this.length); this.length += 8; }
  u64(v: number | bigint): void { this.ensure(8); this.buf.writeBigUInt64LE(BigInt(v), this.length); this.length += 8; }
  i64(v: number | bigint): void { this.ensure(8); this.buf.writeBigInt64LE(BigInt(v), this.length); this.length += 8; }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.ensure(b.length);
    b.copy(this.buf, this.length);
    this.length += b.length;
  }
  zeros(n: number): void { this.ensure(n); this.buf.fill(0, this.length, this.length + n); this.length += n; }
  take(): Buffer { return this.buf.subarray(0, this.length); }
}

/** Integer ranges of the fixed-width integer value types. */
const INT_RANGES: Partial<Record<GgufScalarType, [number, number]>> = {
  UINT8: [0, 255], INT8: [-128, 127], UINT16: [0, 65535], INT16: [-32768, 32767], UINT32: [0, 2 ** 32 - 1], INT32: [-(2 ** 31), 2 ** 31 - 1],
};

function writeScalar(b: ByteBuilder, type: GgufScalarType, v: number | bigint | boolean | string, key: string): void {
  const bad = (): never => { throw new InputError('E_GGUF_METADATA', `GGUF key "${key}": value ${String(v)} does not fit type ${type}`); };
  const range = INT_RANGES[type];
  if (range && (typeof v !== 'number' || !Number.isInteger(v) || v < range[0] || v > range[1])) bad();
  switch (type) {
    case 'STRING': return typeof v === 'string' ? b.str(v) : bad();
    case 'BOOL': return typeof v === 'boolean' ? b.u8(v ? 1 : 0) : bad();
    case 'UINT64': return (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) || (typeof v === 'bigint' && v >= 0n && v < 2n ** 64n) ? b.u64(v) : bad();
    case 'INT64': return (typeof v === 'number' && Number.isSafeInteger(v)) || (typeof v === 'bigint' && v >= -(2n ** 63n) && v < 2n ** 63n) ? b.i64(v) : bad();
    case 'FLOAT32': return typeof v === 'number' ? b.f32(v) : bad();
    case 'FLOAT64': return typeof v === 'number' ? b.f64(v) : bad();
    case 'UINT8': return b.u8(v as number);
    case 'INT8': return b.i8(v as number);
    case 'UINT16': return b.u16(v as number);
    case 'INT16': return b.i16(v as number);
    case 'UINT32': return b.u32(v as number);
    case 'INT32': return b.i32(v as number);
  }
}

/**
 * Build the header bytes and the data layout for the given metadata and tensors.
 * @example const h = encodeGgufHeader([{key: 'general.architecture', type: 'STRING', value: 'minimax-01'}], [{name: 'w', ne: [32, 2], type: 'F32'}]);
 */
export function encodeGgufHeader(kvs: readonly GgufKv[], specs: readonly GgufTensorSpec[], alignment = GGUF_DEFAULT_ALIGNMENT): GgufHeader {
  const seen = new Set<string>();
  for (const kv of kvs) {
    if (seen.has(kv.key)) throw new InputError('E_GGUF_METADATA', `GGUF key "${kv.key}" is given twice`);
    seen.add(kv.key);
  }
  const b = new ByteBuilder();
  b.u32(GGUF_MAGIC);
  b.u32(GGUF_VERSION);
  b.u64(specs.length);
  b.u64(kvs.length);
  for (const kv of kvs) {
    b.str(kv.key);
    b.u32(GgufValueType[kv.type]);
    if (kv.type === 'ARRAY') {
      b.u32(GgufValueType[kv.itemType]);
      b.u64(kv.values.length);
      for (const v of kv.values) writeScalar(b, kv.itemType, v, kv.key);
    } else {
      writeScalar(b, kv.type, kv.value, kv.key);
    }
  }
  const tensors: GgufTensorLayout[] = [];
  const names = new Set<string>();
  let offset = 0;
  for (const t of specs) {
    if (names.has(t.name)) throw new InputError('E_GGUF_TENSOR', `GGUF tensor "${t.name}" is given twice`);
    names.add(t.name);
    const { blockSize } = GGML_TYPES[t.type];
    if (t.ne.length < 1 || t.ne.length > 4 || t.ne.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new InputError('E_GGUF_TENSOR', `GGUF tensor "${t.name}": dims [${t.ne.join(', ')}] must be 1–4 positive integers`);
    }
    if (t.ne[0]! % blockSize !== 0) throw new InputError('E_GGUF_TENSOR', `GGUF tensor "${t.name}": row length ${t.ne[0]} is not a multiple of the ${t.type} block size ${blockSize}`);
    const bytes = tensorBytes(t.type, t.ne);
    b.str(t.name);
    b.u32(t.ne.length);
    for (const d of t.ne) b.u64(d);
    b.u32(GGML_TYPES[t.type].id);
    b.u64(offset);
    tensors.push({ ...t, offset, bytes });
    offset = alignUp(offset + bytes, alignment);
  }
  const dataStart = alignUp(b.length, alignment);
  b.zeros(dataStart - b.length);
  return { bytes: b.take(), tensors, dataStart, fileSize: dataStart + offset };
}
