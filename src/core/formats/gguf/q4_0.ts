/** GGUF Q4_0 (ggml type 2): blocks of 32, fp16 scale d + 16 bytes of nibbles (reference: core/quant/ggml.ts). */
import { dequantizeQ4_0, quantizeQ4_0, QK } from '../../quant/ggml.js';
import type { GgufType } from '../format.js';

export const ggufQ4_0: GgufType = {
  id: 'q4_0',
  ggml: 'Q4_0',
  typeId: 2,
  blockSize: QK,
  typeSize: 18,
  encode: (src) => quantizeQ4_0(src),
  decode: (src) => dequantizeQ4_0(src),
};
