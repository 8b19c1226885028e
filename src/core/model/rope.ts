/**
 * Partial rotate-half RoPE (docs/architecture.md §3.4 item 2): the first `rotaryDim` dims of each head are rotated
 * (GPT-NeoX pairing i ↔ i + rotaryDim/2), the rest pass through. Frequencies and angles are fp32 as in
 * the official code: ω_i = 1 / θ^(2i/rotaryDim), φ = fp32(p·ω_i), cos/sin rounded to fp32; the rotation
 * itself is computed in fp32.
 */

/** ω_i = fp32(1 / fp32(θ^(fp32(2i / rotaryDim)))) for i = 0 … rotaryDim/2 − 1. */
export function ropeFrequencies(rotaryDim: number, theta: number): Float32Array {
  const half = rotaryDim / 2;
  const w = new Float32Array(half);
  for (let i = 0; i < half; i++) w[i] = 1 / Math.fround(theta ** Math.fround((2 * i) / rotaryDim));
  return w;
}

/** cos and sin tables [rotaryDim/2] for absolute position `pos` (fp32 angle p·ω, fp32 cos/sin). */
export function ropeAngles(pos: number, freqs: Float32Array): { cos: Float32Array; sin: Float32Array } {
  const cos = new Float32Array(freqs.length);
  const sin = new Float32Array(freqs.length);
  for (let i = 0; i < freqs.length; i++) {
    const phi = Math.fround(pos * freqs[i]!);
    cos[i] = Math.cos(phi);
    sin[i] = Math.sin(phi);
  }
  return { cos, sin };
}

/**
 * Rotate, in place, `nHeads` heads of width `headDim` stored contiguously at `x[offset…]` for one
 * position: for i < r/2, y_i = x_i cos − x_{i+r/2} sin, y_{i+r/2} = x_{i+r/2} cos + x_i sin.
 */
export function applyRopeRow(
  x: Float32Array,
  offset: number,
  nHeads: number,
  headDim: number,
  rotaryDim: number,
  cos: Float32Array,
  sin: Float32Array,
): void {
  const half = rotaryDim / 2;
  for (let hh = 0; hh < nHeads; hh++) {
    const b = offset + hh * headDim;
    for (let i = 0; i < half; i++) {
      const a = x[b + i]!;
      const c = x[b + i + half]!;
      x[b + i] = Math.fround(a * cos[i]!) - Math.fround(c * sin[i]!);
      x[b + i + half] = Math.fround(c * cos[i]!) + Math.fround(a * sin[i]!);
    }
  }
}
