/**
 * Partial rotary embedding, GPT-NeoX "rotate-half" (docs/architecture.md §3.4): on the first `rotaryDim`
 * dims of every head, for i < rotaryDim/2 with ω_i = θ^(−2i/rotaryDim) and angle φ = fp32(p·ω_i):
 *   y_i = x_i cos φ − x_{i+half} sin φ,  y_{i+half} = x_{i+half} cos φ + x_i sin φ;
 * dims ≥ rotaryDim are copied unchanged. ω and φ are rounded to fp32 as [HF] computes them;
 * cos/sin of the fp32 angle are evaluated in double and the result rounded to fp32.
 */
import { InputError } from '../errors.js';
import { checkLength } from './common.js';

/**
 * Apply RoPE to x [n, h, headDim] at absolute positions `positions` [n]; returns a new array.
 * @example const qr = applyRope(q, positions, 64, 1e7, 128); // M1: rotary_dim 64, θ = 1e7, head_dim 128
 */
export function applyRope(
  x: Float32Array,
  positions: ArrayLike<number>,
  rotaryDim: number,
  theta: number,
  headDim: number,
): Float32Array {
  const n = positions.length;
  const dd = headDim;
  const hh = n === 0 ? 0 : x.length / n / dd;
  if (!Number.isInteger(hh) || !Number.isInteger(dd) || rotaryDim % 2 !== 0 || rotaryDim > dd || rotaryDim < 0) {
    throw new InputError('E_KERNEL_SHAPE', `applyRope: need even rotaryDim ≤ head dim and x of [n, h, d]; got rotaryDim ${rotaryDim}, head dim ${dd}`);
  }
  checkLength('applyRope', 'x', x, n * hh * dd);
  const half = rotaryDim / 2;
  const omega = new Float32Array(half);
  for (let i = 0; i < half; i++) omega[i] = Math.pow(theta, (-2 * i) / rotaryDim);
  const out = Float32Array.from(x);
  const cos = new Float64Array(half);
  const sin = new Float64Array(half);
  for (let t = 0; t < n; t++) {
    const p = Math.fround(positions[t]!);
    for (let i = 0; i < half; i++) {
      const phi = Math.fround(p * omega[i]!);
      cos[i] = Math.cos(phi);
      sin[i] = Math.sin(phi);
    }
    for (let j = 0; j < hh; j++) {
      const b = (t * hh + j) * dd;
      for (let i = 0; i < half; i++) {
        const a0 = x[b + i]!, a1 = x[b + i + half]!;
        out[b + i] = a0 * cos[i]! - a1 * sin[i]!;
        out[b + i + half] = a1 * cos[i]! + a0 * sin[i]!;
      }
    }
  }
  return out;
}
