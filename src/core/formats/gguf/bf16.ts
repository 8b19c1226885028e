/** GGUF BF16 (ggml type 30): the upper 16 bits of float32, rounded to nearest even. */
import { bf16ToF32, f32ToBf16 } from '../../dtype/convert.js';
import { halfFloatType } from './kinds.js';

export const ggufBf16 = halfFloatType({ id: 'bf16', ggml: 'BF16', typeId: 30, toHalf: f32ToBf16, fromHalf: bf16ToF32 });
