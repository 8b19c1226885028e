/** GGUF F16 (ggml type 1): IEEE half, rounded to nearest even from float32. */
import { f16ToF32, f32ToF16 } from '../../dtype/convert.js';
import { aligned, bytesOf } from '../common.js';
import type { GgufType } from '../format.js';

export const ggufF16: GgufType = {
  id: 'f16',
  ggml: 'F16',
  typeId: 1,
  blockSize: 1,
  typeSize: 2,
  encode: (src) => bytesOf(f32ToF16(src)),
  decode: (src) => f16ToF32(new Uint16Array(aligned(src))),
};
