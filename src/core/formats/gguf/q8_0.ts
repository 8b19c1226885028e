/** GGUF Q8_0 (ggml type 8): blocks of 32, fp16 scale d + 32 × int8 (reference: core/quant/ggml.ts). */
import { dequantizeQ8_0, quantizeQ8_0, QK } from '../../quant/ggml.js';
import type { GgufType } from '../format.js';

export const ggufQ8_0: GgufType = {
  id: 'q8_0',
  ggml: 'Q8_0',
  typeId: 8,
  blockSize: QK,
  typeSize: 34,
  encode: (src) => quantizeQ8_0(src),
  decode: (src) => dequantizeQ8_0(src),
};
