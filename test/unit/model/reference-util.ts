/** Helpers of the independent cross-check: error metric, token streams, a checkpoint with router ties. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Checkpoint } from '../../../src/core/checkpoint/checkpoint.js';
import { generateCheckpoint } from '../../../src/core/fixture/generate.js';
import { writeSafetensors } from '../../../src/core/safetensors/writer.js';
import { f32ToBf16, f32ToF16 } from '../../../src/core/dtype/convert.js';
import type { DType } from '../../../src/core/dtype/dtypes.js';

/**
 * Budget for max|runtime − reference| / max|reference| over all logits. The runtime computes in fp32
 * (unit roundoff 6e-8); through ≤ 4 re-normalised layers with dot products of ≤ 64 terms, lightning
 * states summed over ≤ 300 steps, and fp32 RoPE angles (one ulp of ω moves an angle near 40 rad by
 * ~4e-6) the observed error is ~1e-6; 1e-4 leaves a wide margin while every spec deviation tried in
 * the power checks of forward-crosscheck.test.ts moves logits by more than 1e-2 (100× the budget).
 */
export const REL_BUDGET = 1e-4;
/** A deliberate deviation must move the reference by at least this many budgets to count as visible. */
export const POWER_FACTOR = 100;
/**
 * Rounding every weight to bf16 (≤ 2^-9 relative each) is itself a rounding-level change, so it moves
 * logits less than a semantic deviation (observed 6.6e-3); 20 budgets still separates it from fp32 noise.
 */
export const ROUNDING_POWER_FACTOR = 20;
/** Share of bf16-head logits that must equal the bf16 emulation bit for bit (observed: all). */
export const HEAD_EXACT_FRACTION = 0.95;
/** bf16 relative spacing 2^-8 (one ulp at the bottom of a binade), bound for the remaining logits. */
export const BF16_EPS = 2 ** -8;
/** Weight std: well above initializer_range so attention, gates and routing are far from linear. */
export const STD = 0.25;

export type Raw = Record<string, unknown>;

/** A small awkward base configuration (raw config.json names); `o` overrides fields. */
export function cfg(o: Partial<Raw> & { attn_type_list: number[] }): Raw {
  const L = o.attn_type_list.length;
  return {
    architectures: ['MiniMaxM1ForCausalLM'], model_type: 'minimax_m1', hidden_act: 'silu', initializer_range: 0.02,
    vocab_size: 96, hidden_size: 40, num_hidden_layers: L, num_attention_heads: 6, num_key_value_heads: 2, head_dim: 8,
    rotary_dim: 4, rope_theta: 10000, intermediate_size: 24, num_local_experts: 4, num_experts_per_tok: 3,
    shared_intermediate_size: 0, postnorm: true, rms_norm_eps: 1e-5, tie_word_embeddings: false, max_position_embeddings: 4096,
    layernorm_linear_attention_alpha: 1.7, layernorm_linear_attention_beta: 0.6,
    layernorm_full_attention_alpha: 2.3, layernorm_full_attention_beta: 1.4,
    layernorm_mlp_alpha: 0.8, layernorm_mlp_beta: 1.9,
    ...o,
  };
}

/** max |a − ref| / max |ref| (normwise; NaN anywhere gives Infinity). */
export function relErr(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (a.length !== ref.length) throw new Error(`length ${a.length} vs reference ${ref.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(a[i]! - ref[i]!);
    if (!Number.isFinite(d)) return Infinity;
    num = Math.max(num, d);
    den = Math.max(den, Math.abs(ref[i]!));
  }
  return num / den;
}

/** Deterministic token ids in [0, vocab) (LCG). */
export function tokensFor(vocab: number, n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % vocab;
  });
}

type Tensor = { spec: { name: string; dtype: DType; shape: number[] }; data: Uint8Array };

/** Generate a random checkpoint, pass every tensor (decoded to fp32) through `edit`, write it with `dtype`. */
async function rewritten(dir: string, config: Record<string, unknown>, std: number, dtype: 'keep' | 'F32' | 'F16' | 'BF16', edit: (name: string, shape: number[], w: Float32Array) => Float32Array): Promise<Checkpoint> {
  const src = join(dir, 'src');
  await generateCheckpoint({ out: src, config, seed: 3, shards: 1, std });
  const ck = await Checkpoint.open(src);
  const tensors: Tensor[] = [];
  try {
    for (const [name, loc] of ck.tensors) {
      const w = edit(name, loc.info.shape, await ck.readF32(name));
      const dt: DType = dtype === 'keep' ? loc.info.dtype : dtype;
      const data = dt === 'F32' ? new Uint8Array(w.buffer) : dt === 'F16' ? new Uint8Array(f32ToF16(w).buffer) : new Uint8Array(f32ToBf16(w).buffer);
      tensors.push({ spec: { name, dtype: dt, shape: loc.info.shape }, data });
    }
  } finally {
    await ck.close();
  }
  const out = join(dir, 'out');
  await mkdir(out);
  await writeSafetensors(join(out, 'model.safetensors'), tensors, { format: 'pt' });
  await writeFile(join(out, 'config.json'), JSON.stringify(config));
  return Checkpoint.open(out);
}

/**
 * A random checkpoint whose routers produce exact ties: in every layer router row 0 = −w and rows
 * 1..E−1 = w, so the logits are (−z, z, z, …) and every selection involves equal probabilities.
 */
export function makeTieCheckpoint(dir: string, config: Record<string, unknown>, std: number): Promise<Checkpoint> {
  return rewritten(dir, config, std, 'keep', (name, shape, w) => {
    if (!name.endsWith('block_sparse_moe.gate.weight')) return w;
    const [E, H] = shape as [number, number];
    const row = w.slice(H, 2 * H);
    for (let e = 0; e < E; e++) w.set(e === 0 ? row.map((x) => -x) : row, e * H);
    return w;
  });
}

/**
 * A random checkpoint stored as F32 (values off the bf16 grid: each weight gets relative noise of 2^-10,
 * so a reader that rounds to bf16 changes it) or as F16; 'BF16' stores the same values rounded to bf16.
 */
export function makeWideCheckpoint(dir: string, config: Record<string, unknown>, std: number, dtype: 'F32' | 'F16' | 'BF16'): Promise<Checkpoint> {
  let s = 12345;
  const jitter = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 4294967296 - 0.5) * 2 ** -9;
  };
  return rewritten(dir, config, std, dtype, (_n, _s, w) => w.map((x) => x * (1 + jitter())));
}
