/**
 * Dequantize a block of codes of any m1kit scheme into a caller-owned fp32 buffer (the error sampler
 * reuses one per band instead of faulting in a fresh multi-MiB array per sampled block).
 */
import { dequantizeFp8Blocks, dequantizeInt4, dequantizeInt8 } from '../ops/quant.js';
import type { KernelOptions } from '../ops/common.js';
import type { SchemeName } from './formats.js';

export interface Codes {
  scheme: SchemeName;
  /** fp8: Uint8Array codes; int8-channel: Int8Array; w4a16: Int32Array packed words. */
  codes: Uint8Array | Int8Array | Int32Array;
  /** fp8: scaleInv blocks of these rows; int8: one per row; w4a16: one per row and group. */
  scale: Float32Array;
  rows: number;
  cols: number;
  group: number;
}

/** Dequantize `c` into `out` (exactly rows × cols elements); returns `out`. */
export function dequantizeInto(c: Codes, out: Float32Array, k: KernelOptions): Promise<Float32Array> {
  const o = { ...k, out };
  if (c.scheme === 'fp8-block') return dequantizeFp8Blocks(c.codes as Uint8Array, c.scale, c.rows, c.cols, c.group, o);
  if (c.scheme === 'int8-channel') return dequantizeInt8(c.codes as Int8Array, c.scale, c.rows, c.cols, o);
  return dequantizeInt4(c.codes as Int32Array, c.scale, c.rows, c.cols, c.group, o);
}
