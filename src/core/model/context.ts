/** Shared per-session settings handed to each layer implementation. */
import type { M1Config } from '../checkpoint/config.js';
import { roundBf16InPlace } from './math.js';
import type { WeightStore } from './weights.js';

export type Precision = 'fp32' | 'bf16';

export interface LayerContext {
  config: M1Config;
  store: WeightStore;
  /** Emulate the official bf16 rounding points (docs/architecture.md §3.7). */
  bf16: boolean;
  /** Lightning q/k/v SiLU on the fp32 projection (vLLM) instead of on bf16 with a bf16 result ([HF]). */
  siluFp32: boolean;
  /**
   * In bf16 emulation with native kernels, run the lightning core in TypeScript with the official
   * internal rounding points (QKᵀ, decayed K, state increments, recurrent kᵀv rounded to bf16) instead of
   * the fp32 kernel on bf16 q/k/v. The block and recurrent forms only disagree through those points.
   */
  emulateLightning: boolean;
}

/** Linear layer y = x·Wᵀ; in bf16 emulation the output is rounded to bf16 (bf16 in, fp32 accumulate, bf16 out). */
export async function linear(ctx: LayerContext, name: string, x: Float32Array, m: number): Promise<Float32Array> {
  const y = await ctx.store.linear(name, x, m, ctx.bf16 ? 'bf16' : 'fp32');
  return ctx.bf16 ? roundBf16InPlace(y) : y;
}

/** Round to bf16 in bf16 emulation, identity otherwise. */
export const maybeRound = (ctx: LayerContext, a: Float32Array): Float32Array => (ctx.bf16 ? roundBf16InPlace(a) : a);
