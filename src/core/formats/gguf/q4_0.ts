/** GGUF Q4_0 (ggml type 2): blocks of 32, fp16 scale d + 16 bytes of nibbles (reference: core/quant/ggml.ts). */
import { dequantizeQ4_0, Q4_0_BYTES, quantizeQ4_0 } from '../../quant/ggml.js';
import { ggmlBlockType } from './kinds.js';

export const ggufQ4_0 = ggmlBlockType({ id: 'q4_0', ggml: 'Q4_0', typeId: 2, typeSize: Q4_0_BYTES, quantize: quantizeQ4_0, dequantize: dequantizeQ4_0 });
