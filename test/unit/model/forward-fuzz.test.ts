/**
 * Seeded random configurations (head counts 1–12 with any divisor as kv heads, odd head_dim/rotary
 * combinations, 1–5 layers of random types, top-k from 1 to E, postnorm on/off, tied head, block sizes
 * down to 1, explicit inner-norm eps) compared between the runtime's fp32 forward and the float64
 * reference. Deterministic: the same configurations every run.
 */
import { describe, expect, it } from 'vitest';
import { Checkpoint } from '../../../src/core/checkpoint/checkpoint.js';
import { generateCheckpoint } from '../../../src/core/fixture/generate.js';
import { forward } from '../../../src/core/model/forward.js';
import { tmpDir } from '../../helpers/tmp.js';
import { referenceForward } from './reference.js';
import { relErr, tokensFor } from './reference-util.js';

/** Same budget and reasoning as forward-crosscheck.test.ts (fp32 rounding observed ≤ 1e-6 here). */
const REL_BUDGET = 1e-4;
const CONFIGS = 12;

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function randomCase(seed: number): { config: Record<string, unknown>; n: number; std: number } {
  const rnd = lcg(seed);
  const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)]!;
  const h = pick([1, 2, 3, 4, 5, 6, 7, 8, 10, 12]);
  const g = pick(Array.from({ length: h }, (_, i) => i + 1).filter((x) => h % x === 0));
  const d = pick([2, 4, 6, 8]);
  const L = 1 + Math.floor(rnd() * 5);
  const E = 1 + Math.floor(rnd() * 5);
  const config: Record<string, unknown> = {
    architectures: ['MiniMaxM1ForCausalLM'], vocab_size: pick([17, 50, 96]), hidden_size: pick([8, 16, 24, 40]), num_hidden_layers: L,
    attn_type_list: Array.from({ length: L }, () => (rnd() < 0.4 ? 1 : 0)), num_attention_heads: h, num_key_value_heads: g, head_dim: d,
    rotary_dim: 2 * (1 + Math.floor(rnd() * (d / 2))), rope_theta: pick([500, 10000, 1e7]), intermediate_size: pick([4, 12, 24]),
    num_local_experts: E, num_experts_per_tok: 1 + Math.floor(rnd() * E), postnorm: rnd() < 0.7, rms_norm_eps: pick([1e-5, 1e-6, 0.1]),
    tie_word_embeddings: rnd() < 0.3,
    layernorm_linear_attention_alpha: 0.5 + 2 * rnd(), layernorm_linear_attention_beta: 0.5 + rnd(),
    layernorm_full_attention_alpha: 0.5 + 2 * rnd(), layernorm_full_attention_beta: 0.5 + rnd(),
    layernorm_mlp_alpha: 0.5 + 2 * rnd(), layernorm_mlp_beta: 0.5 + rnd(),
  };
  if (rnd() < 0.4) config.block = pick([1, 2, 3, 5, 16]);
  if (rnd() < 0.3) config.lightning_norm_eps = pick([1e-5, 0.3]);
  return { config, n: 1 + Math.floor(rnd() * 40), std: pick([0.05, 0.15, 0.25]) };
}

describe('runtime fp32 forward vs float64 reference on seeded random configurations', () => {
  for (let seed = 1; seed <= CONFIGS; seed++) {
    it(`configuration ${seed}`, async () => {
      const { config, n, std } = randomCase(seed * 7919);
      const dir = await tmpDir('m1kit-xfuzz-');
      await generateCheckpoint({ out: dir, config, seed, shards: 1, std });
      const ck = await Checkpoint.open(dir);
      try {
        const tokens = tokensFor(config.vocab_size as number, n, seed);
        const ref = await referenceForward(ck, tokens);
        for (const mode of ['prefill', 'decode'] as const) {
          const e = relErr(await forward({ checkpoint: ck, tokens, mode, precision: 'fp32', lmHead: 'fp32' }), ref);
          expect({ mode, ok: e < REL_BUDGET, e, n, config }).toMatchObject({ mode, ok: true });
        }
      } finally {
        await ck.close();
      }
    });
  }
});
