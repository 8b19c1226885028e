/**
 * Where an assemble job's bytes can be copied file to file: byte ranges contiguous both in an input file
 * and in the output tensor (unchanged dtype, whole input rows), in output order.
 */
import { dtypeBytes } from '../dtype/dtypes.js';
import type { Job } from './jobs.js';
import { view2d, type Rect } from './geometry.js';
import type { InputPiece, PipelineInput } from './input.js';

/** One contiguous byte range of an input file that lands at `dst` (bytes into the output tensor). */
export interface Segment {
  piece: InputPiece;
  /** Byte offset of the first byte inside the piece's input tensor. */
  srcOffset: number;
  dst: number;
  length: number;
}

/** Byte ranges of rectangle `rect` (full rows of the output) that are contiguous in piece order. */
function pieceSegments(pieces: InputPiece[], rect: Rect, eb: number, dst0: number): Segment[] | undefined {
  const cols = rect.c1 - rect.c0;
  const out: Segment[] = [];
  for (const p of pieces) {
    const r0 = Math.max(p.rect.r0, rect.r0);
    const r1 = Math.min(p.rect.r1, rect.r1);
    const c0 = Math.max(p.rect.c0, rect.c0);
    const c1 = Math.min(p.rect.c1, rect.c1);
    if (r0 >= r1 || c0 >= c1) continue;
    const srcCol0 = p.origin[1] + (c0 - p.rect.c0);
    if (c0 !== rect.c0 || c1 !== rect.c1 || srcCol0 !== 0 || p.srcCols !== cols) return undefined;
    const srcRow0 = p.origin[0] + (r0 - p.rect.r0);
    out.push({ piece: p, srcOffset: srcRow0 * cols * eb, dst: dst0 + (r0 - rect.r0) * cols * eb, length: (r1 - r0) * cols * eb });
  }
  return out;
}

/**
 * The bytes of assemble job `job` as ranges that are contiguous both in the input and in the output, in
 * output order; undefined unless every item is unchanged bytes of whole input rows tiling the output.
 */
export function contiguousSegments(job: Extract<Job, { kind: 'assemble' }>, src: PipelineInput): Segment[] | undefined {
  const [R, C] = view2d(job.out.shape);
  const eb = dtypeBytes(job.out.dtype);
  const out: Segment[] = [];
  for (const it of job.items) {
    const t = src.byName.get(it.src);
    if (!t || t.quant || it.dst[1] !== 0 || it.rect.c1 - it.rect.c0 !== C || !t.pieces.every((p) => p.dtype === job.out.dtype)) return undefined;
    const segs = pieceSegments(t.pieces, it.rect, eb, it.dst[0] * C * eb);
    if (!segs) return undefined;
    out.push(...segs);
  }
  out.sort((a, b) => a.dst - b.dst);
  let at = 0;
  for (const s of out) {
    if (s.dst !== at) return undefined; // a gap or an overlap: the banded path reports it
    at += s.length;
  }
  return at === R * C * eb ? out : undefined;
}
