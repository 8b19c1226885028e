/** GGUF F32 (ggml type 0): little-endian float32, one value per block. */
import { aligned } from '../common.js';
import type { GgufType } from '../format.js';

export const ggufF32: GgufType = {
  id: 'f32',
  ggml: 'F32',
  typeId: 0,
  blockSize: 1,
  typeSize: 4,
  encode: (src) => new Uint8Array(src.buffer, src.byteOffset, src.byteLength),
  decode: (src) => new Float32Array(aligned(src)),
};
