/**
 * safetensors header parsing and validation (pure). File layout: 8-byte little-endian u64 N, N bytes of
 * JSON header, then the data region. Every number from the file is checked against the named caps in
 * limits.ts before it is used; offsets must tile the data region exactly (no gaps, no overlap), as the
 * reference implementation requires.
 */
import { InputError } from '../errors.js';
import { MAX_DIM, MAX_HEADER_BYTES, MAX_METADATA_ENTRIES, MAX_TENSOR_NAME_LENGTH, MAX_RANK, MAX_TENSORS_PER_FILE, MAX_TENSOR_ELEMENTS } from '../limits.js';
import { decodeUtf8Strict, parseJsonText } from './json-guard.js';
import { type DType, dtypeBytes, isDType } from '../dtype/dtypes.js';

export interface TensorInfo {
  name: string;
  dtype: DType;
  shape: number[];
  /** Byte offsets relative to the start of the data region. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** Tensors in data-offset order. */
  tensors: TensorInfo[];
  byName: Map<string, TensorInfo>;
  metadata: Record<string, string>;
  /** Length N of the JSON header. */
  headerBytes: number;
  /** File offset of the data region (8 + N). */
  dataStart: number;
}

/** Validate the 8-byte length prefix against the file size; returns N. */
export function parseHeaderLength(prefix: Uint8Array, fileSize: number, file: string): number {
  if (fileSize < 8 || prefix.length < 8) throw new InputError('E_SAFETENSORS_TRUNCATED', `${file}: file is ${fileSize} bytes, expected at least 8 (header length prefix)`);
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) throw new InputError('E_SAFETENSORS_HEADER', `${file}: header length ${n} exceeds the cap of ${MAX_HEADER_BYTES} bytes`);
  const len = Number(n);
  if (8 + len > fileSize) throw new InputError('E_SAFETENSORS_HEADER', `${file}: header length ${len} runs past end of file (file is ${fileSize} bytes)`);
  if (len < 2) throw new InputError('E_SAFETENSORS_HEADER', `${file}: header length ${len} is too small for a JSON object`);
  return len;
}

const isNonNegInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Parse and validate the JSON header bytes of a file of `fileSize` bytes.
 * @example parseHeader(jsonBytes, stat.size, 'model-00000-of-00413.safetensors')
 */
export function parseHeader(jsonBytes: Uint8Array, fileSize: number, file: string, dataHead?: Uint8Array): SafetensorsHeader {
  const headerBytes = jsonBytes.length;
  const dataStart = 8 + headerBytes;
  const dataLen = fileSize - dataStart;
  if (dataLen < 0) throw new InputError('E_SAFETENSORS_HEADER', `${file}: header runs past end of file`);
  const what = 'safetensors header';
  const code = 'E_SAFETENSORS_HEADER';
  const text = decodeUtf8Strict(jsonBytes, file, code, what);
  // bounded before parsing: nesting, entry count, duplicate names (JSON.parse would keep the last)
  const raw = parseJsonText(text, file, { code, duplicateCode: 'E_SAFETENSORS_DUPLICATE', maxTopLevelKeys: MAX_TENSORS_PER_FILE + 1, what });
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InputError(code, `${file}: header must be a JSON object`);
  const metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  for (const [name, entry] of Object.entries(raw as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new InputError('E_SAFETENSORS_HEADER', `${file}: __metadata__ must be an object of strings`);
      if (Object.keys(entry).length > MAX_METADATA_ENTRIES) throw new InputError('E_SAFETENSORS_HEADER', `${file}: __metadata__ has more than ${MAX_METADATA_ENTRIES} entries (the cap)`);
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') throw new InputError('E_SAFETENSORS_HEADER', `${file}: __metadata__[${JSON.stringify(k.slice(0, 60))}] must be a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (name.length > MAX_TENSOR_NAME_LENGTH) throw new InputError('E_SAFETENSORS_HEADER', `${file}: tensor name ${JSON.stringify(name.slice(0, 60))}… is ${name.length} characters long, more than the cap of ${MAX_TENSOR_NAME_LENGTH}`);
    tensors.push(parseEntry(name, entry, file));
  }
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const t of tensors) {
    if (t.end > dataLen) throw new InputError('E_SAFETENSORS_OFFSETS', `${file}: tensor "${t.name}" has data_offsets [${t.begin}, ${t.end}] beyond the data region of ${dataLen} bytes`);
    if (t.begin < cursor) throw new InputError('E_SAFETENSORS_OFFSETS', `${file}: tensor "${t.name}" data_offsets [${t.begin}, ${t.end}] overlap the previous tensor (ends at ${cursor})`);
    if (t.begin > cursor) throw new InputError('E_SAFETENSORS_OFFSETS', `${file}: gap of ${t.begin - cursor} bytes before tensor "${t.name}" (offsets must be contiguous)`);
    cursor = t.end;
  }
  if (cursor < dataLen && dataHead && continuesHeader(dataHead, dataLen - cursor)) {
    throw new InputError('E_SAFETENSORS_HEADER', `${file}: header length ${headerBytes} is ${dataLen - cursor} byte(s) short: the JSON header runs on into the data region (tensors cover ${cursor} of ${dataLen} bytes)`);
  }
  if (cursor !== dataLen) throw new InputError('E_SAFETENSORS_OFFSETS', `${file}: tensors cover ${cursor} bytes but the data region is ${dataLen} bytes`);
  return { tensors, byName: new Map(tensors.map((t) => [t.name, t])), metadata, headerBytes, dataStart };
}

/** Bytes a JSON header can end with (padding and closing brackets). */
const HEADER_TAIL = new Set([0x20, 0x09, 0x0a, 0x0d, 0x7d, 0x5d]);

/**
 * True when the first `extra` bytes of the data region look like the end of the JSON header (padding
 * or closing brackets): the length prefix, not the offsets, is then at fault.
 */
function continuesHeader(dataHead: Uint8Array, extra: number): boolean {
  if (extra > dataHead.length) return false;
  for (let i = 0; i < extra; i++) if (!HEADER_TAIL.has(dataHead[i]!)) return false;
  return true;
}

function parseEntry(name: string, entry: unknown, file: string): TensorInfo {
  const where = `${file}: tensor "${name}"`;
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new InputError('E_SAFETENSORS_HEADER', `${where} must be an object with dtype, shape, data_offsets`);
  const e = entry as Record<string, unknown>;
  if (!isDType(e.dtype)) throw new InputError('E_SAFETENSORS_DTYPE', `${where} has unknown dtype ${JSON.stringify(e.dtype)}`);
  const shape = e.shape;
  if (!Array.isArray(shape) || shape.length > MAX_RANK) throw new InputError('E_SAFETENSORS_SHAPE', `${where}: shape must be an array of at most ${MAX_RANK} dims, got ${JSON.stringify(shape)?.slice(0, 80)}`);
  let count = 1;
  for (const d of shape) {
    if (!isNonNegInt(d) || d > MAX_DIM) throw new InputError('E_SAFETENSORS_SHAPE', `${where}: dimension ${JSON.stringify(d)} is not an integer in [0, ${MAX_DIM}]`);
    count *= d;
    if (count > MAX_TENSOR_ELEMENTS) throw new InputError('E_SAFETENSORS_SHAPE', `${where}: shape ${JSON.stringify(shape)} exceeds the cap of ${MAX_TENSOR_ELEMENTS} elements`);
  }
  const off = e.data_offsets;
  if (!Array.isArray(off) || off.length !== 2 || !isNonNegInt(off[0]) || !isNonNegInt(off[1]) || off[1] < off[0]) {
    throw new InputError('E_SAFETENSORS_OFFSETS', `${where}: data_offsets must be [begin, end] with 0 ≤ begin ≤ end, got ${JSON.stringify(off)}`);
  }
  const [begin, end] = off as [number, number];
  const expected = count * dtypeBytes(e.dtype);
  if (end - begin !== expected) {
    throw new InputError('E_SAFETENSORS_SIZE', `${where}: ${e.dtype} ${JSON.stringify(shape)} needs ${expected} bytes but data_offsets span ${end - begin}`);
  }
  return { name, dtype: e.dtype, shape: shape as number[], begin, end };
}

/** Serialise a header (tensors in the given order, contiguous) padded with spaces to a multiple of 8 bytes. */
export function encodeHeader(specs: { name: string; dtype: DType; shape: number[] }[], metadata?: Record<string, string>): { bytes: Buffer; offsets: Map<string, [number, number]> } {
  const obj: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) obj.__metadata__ = metadata;
  const offsets = new Map<string, [number, number]>();
  let cursor = 0;
  for (const s of specs) {
    if (s.name === '__metadata__') throw new InputError('E_SAFETENSORS_HEADER', 'tensor name "__metadata__" is reserved');
    if (offsets.has(s.name)) throw new InputError('E_SAFETENSORS_DUPLICATE', `tensor "${s.name}" given twice`);
    const size = s.shape.reduce((a, b) => a * b, 1) * dtypeBytes(s.dtype);
    offsets.set(s.name, [cursor, cursor + size]);
    obj[s.name] = { dtype: s.dtype, shape: s.shape, data_offsets: [cursor, cursor + size] };
    cursor += size;
  }
  const json = Buffer.from(JSON.stringify(obj), 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  const bytes = Buffer.alloc(8 + padded, 0x20);
  bytes.writeBigUInt64LE(BigInt(padded), 0);
  json.copy(bytes, 8);
  return { bytes, offsets };
}
