/** GGUF BF16 (ggml type 30): the upper 16 bits of float32, rounded to nearest even. */
import { bf16ToF32, f32ToBf16 } from '../../dtype/convert.js';
import { aligned, bytesOf } from '../common.js';
import type { GgufType } from '../format.js';

export const ggufBf16: GgufType = {
  id: 'bf16',
  ggml: 'BF16',
  typeId: 30,
  blockSize: 1,
  typeSize: 2,
  encode: (src) => bytesOf(f32ToBf16(src)),
  decode: (src) => bf16ToF32(new Uint16Array(aligned(src))),
};
