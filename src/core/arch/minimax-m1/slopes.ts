/**
 * Lightning-attention decay rates (docs/architecture.md §3.3.2): the ALiBi slope schedule per head, scaled per layer by
 * (1 − l/(L−1) + 1e−5), computed in fp32 like the official code (slopes built as fp32, the layer
 * factor a double, the product stored as fp32).
 */

/** Power-of-two ALiBi slopes for `n` heads (n a power of two): start^(j+1), start = 2^(−2^(−(log₂n − 3))). */
function powerOfTwoSlopes(n: number): number[] {
  const start = 2 ** -(2 ** -(Math.log2(n) - 3));
  return Array.from({ length: n }, (_, j) => start * start ** j);
}

/**
 * Per-head slopes for `h` heads (fp32 values), docs/architecture.md §3.3.2.
 * @example headSlopes(64)[0] // 0.9170040..., headSlopes(64)[63] // 0.00390625
 */
export function headSlopes(h: number): Float32Array {
  let list: number[];
  if (Number.isInteger(Math.log2(h))) {
    list = powerOfTwoSlopes(h);
  } else {
    const p = 2 ** Math.floor(Math.log2(h));
    const extra = powerOfTwoSlopes(2 * p).filter((_, i) => i % 2 === 0).slice(0, h - p);
    list = [...powerOfTwoSlopes(p), ...extra];
  }
  return Float32Array.from(list);
}

/** Layer factor 1 − l/(L−1) + 1e−5 (a double; L ≤ 1 gives 1 + 1e−5 as in the engines). */
export function layerFactor(layer: number, numLayers: number): number {
  if (numLayers <= 1) return 1 + 1e-5;
  return 1 - layer / (numLayers - 1) + 1e-5;
}

/** s_{l,j} for every head j of layer l, as fp32: slope_j · factor_l (fp32 tensor × Python scalar: the
 * scalar is taken as fp32 and the product rounded to fp32, as PyTorch computes it). */
export function layerDecays(layer: number, numLayers: number, h: number): Float32Array {
  const f = Math.fround(layerFactor(layer, numLayers));
  const s = headSlopes(h);
  return s.map((v) => Math.fround(v * f));
}
