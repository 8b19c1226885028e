/**
 * What the pipeline reads from, as the pipeline needs it (convert/source.ts and read-rect.ts provide
 * it): canonical tensors by name, each made of pieces stored in input files (for verbatim copies), and a
 * reader of any rectangle of a tensor's 2-D view. The pipeline never opens a checkpoint itself.
 */
import type { FileHandle } from 'node:fs/promises';
import type { DType } from '../dtype/dtypes.js';
import type { Rect } from './geometry.js';

/** An open input file. */
export interface InputFile {
  readonly fd: FileHandle;
  readonly path: string;
  /** Absolute file offset of the first byte of stored tensor `tensor`. */
  absoluteOffset(tensor: string): number;
}

/** A rectangle of a canonical tensor stored in one input file. */
export interface InputPiece {
  ckpt: { reader(file: string): Promise<InputFile> };
  file: string;
  /** Name of the stored tensor. */
  tensor: string;
  /** Where it lies in the canonical tensor's 2-D view. */
  rect: Rect;
  /** Row and column of the stored tensor's 2-D view that `rect` starts at. */
  origin: [number, number];
  /** Columns of the stored tensor's 2-D view. */
  srcCols: number;
  dtype: DType;
}

export interface InputTensor {
  name: string;
  shape: number[];
  dtype: DType;
  pieces: InputPiece[];
  /** Set when the tensor is stored quantized (its bytes are decoded, never copied). */
  quant?: unknown;
}

/** The input of a run: its canonical tensors by name. */
export interface PipelineInput {
  byName: Map<string, InputTensor>;
}

/** Row-major bytes of a rectangle, in the dtype they were read as. */
export interface RectData {
  dtype: DType;
  data: Buffer;
}

/** Read rectangle `rect` of `t` (into `into` when given and large enough). */
export type ReadRect = (t: InputTensor, rect: Rect, into?: Buffer) => Promise<RectData>;
