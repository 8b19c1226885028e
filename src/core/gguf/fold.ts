/**
 * Residual folding for llama.cpp's single `residual_scale` (GGUF quirk 1).
 *
 * The checkpoint computes, per sub-layer with its own α and β (postnorm):
 *   u = norm(x)·γ,  out = α·u + β·f(u)
 * llama.cpp computes  n = norm(x)·γ',  out = s·n + f'(n)  with one s and no β.
 * With s = the linear-attention α: γ' = γ·α/s makes s·n = α·u; the sub-layer's input maps
 * (q/k/v, qkv, gate, router, w1, w3) scaled by s/α see n·s/α = u, so f' computes f(u) exactly; its
 * output maps (o_proj/out_proj, w2) scaled by β give β·f(u). With equal alphas and betas of 1 every
 * factor is 1 and no weight changes.
 */
import type { M1Config } from '../checkpoint/config.js';
import { InputError } from '../errors.js';

export interface SublayerFold {
  /** Multiplier of the pre-norm weight (α/s). */
  norm: number;
  /** Multiplier of the sub-layer's input maps (s/α). */
  input: number;
  /** Multiplier of the sub-layer's output maps (β). */
  output: number;
}

export interface ResidualFold {
  residualScale: number;
  /** Per layer: attention sub-layer and MoE sub-layer factors. */
  layers: { attn: SublayerFold; mlp: SublayerFold }[];
  /** True when every factor is exactly 1 (the released MiniMax-M1). */
  identity: boolean;
}

/**
 * Compute the fold factors, or refuse a configuration that cannot be folded exactly.
 * @example residualFold(parseConfig(raw)).identity // true for MiniMax-M1
 */
export function residualFold(c: M1Config, file = 'config.json'): ResidualFold {
  const named: [string, number][] = [
    ['layernorm_linear_attention_alpha', c.linearAlpha], ['layernorm_full_attention_alpha', c.fullAlpha], ['layernorm_mlp_alpha', c.mlpAlpha],
    ['layernorm_linear_attention_beta', c.linearBeta], ['layernorm_full_attention_beta', c.fullBeta], ['layernorm_mlp_beta', c.mlpBeta],
  ];
  for (const [k, v] of named) {
    if (!Number.isFinite(v)) throw new InputError('E_GGUF_FOLD', `${file}: ${k} = ${v} cannot be expressed with llama.cpp's residual_scale`);
    if (k.endsWith('alpha') && v === 0) {
      throw new InputError('E_GGUF_FOLD', `${file}: ${k} = 0 cannot be folded into llama.cpp's single residual_scale (the input maps would be divided by 0)`);
    }
  }
  const s = c.linearAlpha;
  const sub = (alpha: number, beta: number): SublayerFold => ({ norm: alpha / s, input: s / alpha, output: beta });
  const layers = c.attnTypes.map((t) => ({
    attn: t === 1 ? sub(c.fullAlpha, c.fullBeta) : sub(c.linearAlpha, c.linearBeta),
    mlp: sub(c.mlpAlpha, c.mlpBeta),
  }));
  const identity = layers.every((l) => [l.attn, l.mlp].every((f) => f.norm === 1 && f.input === 1 && f.output === 1));
  return { residualScale: s, layers, identity };
}
