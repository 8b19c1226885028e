/**
 * Read a rectangle of a canonical tensor from its input pieces, as raw little-endian bytes of the input
 * dtype (no decoding), or as fp32 for a quantized input. Rows that are contiguous in the input are read
 * with one positioned read; a column slice reads the covering byte range and compacts it.
 */
import { dtypeBytes, type DType } from '../dtype/dtypes.js';
import { InputError } from '../errors.js';
import { readExactly } from '../safetensors/reader.js';
import { dequantizeRows } from '../quantize/source-quant.js';
import type { Rect } from '../pipeline/geometry.js';
import type { Piece, SourceTensor } from './source.js';

export interface RectData {
  dtype: DType;
  /** Row-major [rect rows, rect cols] bytes. */
  data: Buffer;
}

/**
 * A column slice is read as its covering byte range (one read, then compacted) while that range is at
 * most this many times the bytes wanted; beyond, row by row, so memory stays the slice's size.
 */
const SPAN_READ_FACTOR = 4;

const intersect = (a: Rect, b: Rect): Rect | null => {
  const r = { r0: Math.max(a.r0, b.r0), r1: Math.min(a.r1, b.r1), c0: Math.max(a.c0, b.c0), c1: Math.min(a.c1, b.c1) };
  return r.r0 < r.r1 && r.c0 < r.c1 ? r : null;
};

/** Read canonical rectangle `want` (inside piece `p`) into `out` at row stride `outStride` bytes. */
async function readFromPiece(p: Piece, want: Rect, out: Buffer, outOffset: number, outStride: number): Promise<void> {
  const eb = dtypeBytes(p.dtype);
  const reader = await p.ckpt.reader(p.file);
  const base = reader.absoluteOffset(p.tensor);
  const srcRow0 = p.origin[0] + (want.r0 - p.rect.r0);
  const srcCol0 = p.origin[1] + (want.c0 - p.rect.c0);
  const nRows = want.r1 - want.r0;
  const rowBytes = (want.c1 - want.c0) * eb;
  const start = base + (srcRow0 * p.srcCols + srcCol0) * eb;
  if (rowBytes === p.srcCols * eb && outStride === rowBytes) {
    await readExactly(reader.fd, out.subarray(outOffset, outOffset + nRows * rowBytes), start, reader.path);
    return;
  }
  const span = ((nRows - 1) * p.srcCols + (want.c1 - want.c0)) * eb;
  if (span > SPAN_READ_FACTOR * nRows * rowBytes) {
    // a narrow slice of wide rows: one read per row, never the whole covering range
    for (let r = 0; r < nRows; r++) await readExactly(reader.fd, out.subarray(outOffset + r * outStride, outOffset + r * outStride + rowBytes), start + r * p.srcCols * eb, reader.path);
    return;
  }
  const tmp = Buffer.allocUnsafe(span);
  await readExactly(reader.fd, tmp, start, reader.path);
  for (let r = 0; r < nRows; r++) tmp.copy(out, outOffset + r * outStride, r * p.srcCols * eb, r * p.srcCols * eb + rowBytes);
}

/**
 * Rectangle `rect` of canonical tensor `t` (into `into` when given, for unquantized inputs).
 * @example const { dtype, data } = await readRect(src.byName.get('model.norm.weight')!, { r0: 0, r1: 1, c0: 0, c1: 96 });
 */
export async function readRect(t: SourceTensor, rect: Rect, into?: Buffer): Promise<RectData> {
  const nRows = rect.r1 - rect.r0;
  const nCols = rect.c1 - rect.c0;
  if (t.quant) {
    const f = await dequantizeRows(t.quant, rect.r0, rect.r1);
    const C = t.quant.cols;
    const out = Buffer.allocUnsafeSlow(nRows * nCols * 4);
    const o = new Float32Array(out.buffer, out.byteOffset, nRows * nCols);
    if (nCols === C) o.set(f);
    else for (let r = 0; r < nRows; r++) o.set(f.subarray(r * C + rect.c0, r * C + rect.c1), r * nCols);
    return { dtype: 'F32', data: out };
  }
  const dtype = t.pieces[0]!.dtype;
  const eb = dtypeBytes(dtype);
  const out = into ?? Buffer.allocUnsafe(nRows * nCols * eb);
  if (out.length !== nRows * nCols * eb) throw new InputError('E_RANGE', `"${t.name}": buffer of ${out.length} bytes for a ${nRows}×${nCols} ${dtype} rectangle`);
  let covered = 0;
  for (const p of t.pieces) {
    const w = intersect(p.rect, rect);
    if (!w) continue;
    await readFromPiece(p, w, out, ((w.r0 - rect.r0) * nCols + (w.c0 - rect.c0)) * eb, nCols * eb);
    covered += (w.r1 - w.r0) * (w.c1 - w.c0);
  }
  if (covered !== nRows * nCols) throw new InputError('E_LAYOUT', `"${t.name}": input pieces cover ${covered} of the ${nRows * nCols} elements requested`);
  return { dtype, data: out };
}
