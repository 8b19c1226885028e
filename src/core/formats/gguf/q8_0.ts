/** GGUF Q8_0 (ggml type 8): blocks of 32, fp16 scale d + 32 × int8 (reference: core/quant/ggml.ts). */
import { dequantizeQ8_0, Q8_0_BYTES, quantizeQ8_0 } from '../../quant/ggml.js';
import { ggmlBlockType } from './kinds.js';

export const ggufQ8_0 = ggmlBlockType({ id: 'q8_0', ggml: 'Q8_0', typeId: 8, typeSize: Q8_0_BYTES, quantize: quantizeQ8_0, dequantize: dequantizeQ8_0 });
