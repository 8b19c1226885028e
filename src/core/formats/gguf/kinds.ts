/**
 * The two kinds of GGUF type beside F32: a 16-bit float per value (F16, BF16), whose bytes are the
 * little-endian halves, and a ggml block type of QK values (Q8_0, Q4_0), whose codec is its bit-exact
 * reference in core/quant/ggml.ts. Each type module gives the facts that differ; the kind supplies the rest.
 */
import { QK } from '../../quant/ggml.js';
import { aligned, bytesOf } from '../common.js';
import type { GgufType } from '../format.js';

type Naming = Pick<GgufType, 'id' | 'ggml' | 'typeId'>;

/** A 16-bit float type: one value per 2-byte block, converted from and to float32 by `toHalf`/`fromHalf`. */
export function halfFloatType({ toHalf, fromHalf, ...naming }: Naming & { toHalf: (src: Float32Array) => Uint16Array; fromHalf: (src: Uint16Array) => Float32Array }): GgufType {
  return { ...naming, blockSize: 1, typeSize: 2, encode: (src) => bytesOf(toHalf(src)), decode: (src) => fromHalf(new Uint16Array(aligned(src))) };
}

/** A ggml block type of QK values in `typeSize` bytes, quantized and dequantized by its reference. */
export function ggmlBlockType({ typeSize, quantize, dequantize, ...naming }: Naming & { typeSize: number; quantize: (src: Float32Array) => Uint8Array; dequantize: (src: Uint8Array) => Float32Array }): GgufType {
  return { ...naming, blockSize: QK, typeSize, encode: (src) => quantize(src), decode: (src) => dequantize(src) };
}
