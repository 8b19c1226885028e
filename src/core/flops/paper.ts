/**
 * The counting convention that reproduces the tech report's Figure 1 (right) exactly (docs/architecture.md §5.4):
 * cumulative generation from an empty prompt, F(n) = linear·n + quadratic·n² with
 * - linear = 2·(attention projections + activated experts + LM head) (+ lightning term), no embedding or router;
 * - quadratic = Σ over softmax layers h·(d_qk + 2·d_v) (QKᵀ causally halved, PV not); MLA in naive form.
 * The figure's three quirks (M1 layout 8/72, lightning 2·(h·d)², R1's extra dense FFNs) are applied from
 * `arch.figure1`; `{ quirks: false }` gives the same formulas on the real layouts (§5.5 b).
 */
import { attentionMatmulParams, ffnActiveParams, ffnUnitParams, type ArchSpec, type AttentionSpec, type LayerGroup } from '../arch/spec.js';
import type { QuadraticCurve } from './model.js';

function quadraticPerLayer(a: AttentionSpec): number {
  switch (a.kind) {
    case 'lightning':
      return 0;
    case 'gqa':
      return a.heads * (a.headDim + 2 * a.headDim);
    case 'mla':
      return a.heads * (a.qkNopeDim + a.qkRopeDim + 2 * a.vHeadDim);
  }
}

/** Quirk 1: replace the layer layout by `softmax` softmax layers and the rest lightning. */
function relayout(layers: LayerGroup[], softmax: number): LayerGroup[] {
  const total = layers.reduce((s, g) => s + g.count, 0);
  const lin = layers.find((g) => g.attention.kind === 'lightning');
  const sm = layers.find((g) => g.attention.kind !== 'lightning');
  if (!lin || !sm) return layers;
  return [
    { ...lin, count: total - softmax },
    { ...sm, count: softmax },
  ];
}

/**
 * Figure-1 coefficients of a model.
 * @example figure1Curve(QWEN3_235B) // { linear: 43,036,704,768, quadratic: 2,310,144 }
 */
export function figure1Curve(arch: ArchSpec, opts: { quirks?: boolean } = {}): QuadraticCurve {
  const quirks = opts.quirks ?? true;
  const q = quirks ? (arch.figure1 ?? {}) : {};
  const H = arch.hiddenSize;
  const layers = q.softmaxLayers !== undefined ? relayout(arch.layers, q.softmaxLayers) : arch.layers;
  let weights = arch.vocabSize * H; // LM head
  let lightning = 0;
  let quadratic = 0;
  for (const g of layers) {
    const a = g.attention;
    weights += g.count * (attentionMatmulParams(a, H) + ffnActiveParams(g.ffn, H));
    quadratic += g.count * quadraticPerLayer(a);
    if (a.kind === 'lightning') {
      const hd = a.heads * a.headDim;
      lightning += g.count * (q.lightningFullWidthState ? 2 * hd * hd : 4 * a.heads * a.headDim * a.headDim);
    }
  }
  if (q.extraDenseFfnLayers) weights += q.extraDenseFfnLayers.count * ffnUnitParams(q.extraDenseFfnLayers.intermediate, H);
  return { linear: 2 * weights + lightning, quadratic };
}
