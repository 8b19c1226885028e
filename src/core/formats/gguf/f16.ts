/** GGUF F16 (ggml type 1): IEEE half, rounded to nearest even from float32. */
import { f16ToF32, f32ToF16 } from '../../dtype/convert.js';
import { halfFloatType } from './kinds.js';

export const ggufF16 = halfFloatType({ id: 'f16', ggml: 'F16', typeId: 1, toHalf: f32ToF16, fromHalf: f16ToF32 });
