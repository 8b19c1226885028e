/**
 * Lightning-attention kernel sizing for one layer (docs/architecture.md §6): FLOPs, bytes and arithmetic
 * intensity of the block-form prefill and the recurrent decode, and the same-shape softmax layer.
 */

export interface LightningShape {
  /** Heads h. */
  heads: number;
  /** Head dim d. */
  headDim: number;
  /** Block size B. */
  blockSize: number;
}

/** Block-form prefill FLOPs per token per head with dense diagonal blocks: 4d² + 4Bd. */
export const prefillFlopsPerTokenHead = (s: LightningShape): number => 4 * s.headDim * s.headDim + 4 * s.blockSize * s.headDim;
/** Same with the causal upper triangle of diagonal blocks skipped: 4d² + 2Bd. */
export const prefillFlopsPerTokenHeadCausalSkip = (s: LightningShape): number => 4 * s.headDim * s.headDim + 2 * s.blockSize * s.headDim;
/** Recurrent decode FLOPs per token per head: 4d² (kᵀv accumulate + q·S). */
export const decodeFlopsPerTokenHead = (s: LightningShape): number => 4 * s.headDim * s.headDim;
/** Bytes of q, k, v read and o written per token per head. */
export const ioBytesPerTokenHead = (s: LightningShape, bytesPerElement: number): number => 4 * s.headDim * bytesPerElement;
/** Decode bytes per token per head: state read + write (fp32 unless given) + q, k, v, o. */
export const decodeBytesPerTokenHead = (s: LightningShape, ioBytes = 2, stateBytes = 4): number =>
  2 * s.headDim * s.headDim * stateBytes + 4 * s.headDim * ioBytes;
/** FLOPs of one same-shape causal softmax layer over n tokens: 2·h·d·n(n+1). */
export const softmaxLayerPrefillFlops = (s: LightningShape, n: number): number => 2 * s.heads * s.headDim * n * (n + 1);

export interface LayerSizing {
  n: number;
  prefillFlops: number;
  prefillFlopsCausalSkip: number;
  /** q, k, v read + o written, bf16, state on-chip. */
  ioBytesBf16: number;
  /** FLOP per byte with bf16 IO (and with fp32 IO). */
  intensityBf16: number;
  intensityF32: number;
  /** IO bytes plus per-block fp32 states written, reduced and read (≈ 3·(n/B)·h·d²·4 extra). */
  bytesMaterialisedStates: number;
  softmaxPrefillFlops: number;
  /** softmaxPrefillFlops / prefillFlops. */
  softmaxOverLightning: number;
}

/**
 * One layer of §6's table at n tokens.
 * @example layerSizing({ heads: 64, headDim: 128, blockSize: 256 }, 2 ** 20).prefillFlops // ≈ 1.32e13
 */
export function layerSizing(s: LightningShape, n: number): LayerSizing {
  const prefillFlops = n * s.heads * prefillFlopsPerTokenHead(s);
  const ioBytesBf16 = n * s.heads * ioBytesPerTokenHead(s, 2);
  const softmaxPrefillFlops = softmaxLayerPrefillFlops(s, n);
  return {
    n,
    prefillFlops,
    prefillFlopsCausalSkip: n * s.heads * prefillFlopsPerTokenHeadCausalSkip(s),
    ioBytesBf16,
    intensityBf16: prefillFlops / ioBytesBf16,
    intensityF32: prefillFlops / (2 * ioBytesBf16),
    bytesMaterialisedStates: ioBytesBf16 + 3 * (n / s.blockSize) * s.heads * s.headDim * s.headDim * 4,
    softmaxPrefillFlops,
    softmaxOverLightning: softmaxPrefillFlops / prefillFlops,
  };
}
