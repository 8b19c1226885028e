/**
 * Cross-check of the runtime's fp32 forward pass (prefill and decode) against the independent float64
 * reference in ./reference.ts on small random checkpoints with deliberately awkward configurations.
 */
import { describe, expect, it } from 'vitest';
import { Checkpoint } from '../../../src/core/checkpoint/checkpoint.js';
import { generateCheckpoint } from '../../../src/core/fixture/generate.js';
import { forward } from '../../../src/core/model/forward.js';
import { tmpDir } from '../../helpers/tmp.js';
import { layerFactor, referenceForward, ropeAngle, slopes, type Variant } from './reference.js';
import { cfg, makeTieCheckpoint, makeWideCheckpoint, POWER_FACTOR, type Raw, REL_BUDGET, relErr, ROUNDING_POWER_FACTOR, STD, tokensFor } from './reference-util.js';

/** Same model as `cfg` describes, spelled with the HF-native names instead of the original ones. */
function aliasConfig(): Raw {
  const c = cfg({ attn_type_list: [0, 1, 0], num_attention_heads: 4, num_key_value_heads: 2 });
  const rename: [string, string][] = [
    ['layernorm_linear_attention_alpha', 'linear_attn_alpha_factor'], ['layernorm_linear_attention_beta', 'linear_attn_beta_factor'],
    ['layernorm_full_attention_alpha', 'full_attn_alpha_factor'], ['layernorm_full_attention_beta', 'full_attn_beta_factor'],
    ['layernorm_mlp_alpha', 'mlp_alpha_factor'], ['layernorm_mlp_beta', 'mlp_beta_factor'],
  ];
  for (const [from, to] of rename) {
    c[to] = c[from];
    delete c[from];
  }
  c.layer_types = (c.attn_type_list as number[]).map((t) => (t === 1 ? 'full_attention' : 'linear_attention'));
  delete c.attn_type_list;
  return c;
}

interface Case { name: string; config: Raw; n: number; shards: number; variants: Variant[] }

const CASES: Case[] = [
  {
    // h = 6 (non-power-of-two slopes), h·d = 48 ≠ H = 40, rotary 4 < d = 8, GQA group 3, top-3 of 4,
    // first layer softmax, consecutive softmax layers, every α/β different, β ≠ 1.
    name: 'h6 g2 rot<d top3 softmax-first [1,0,1,1]',
    config: cfg({ attn_type_list: [1, 0, 1, 1] }),
    n: 24, shards: 3,
    variants: ['skip-from-x', 'exclusive-recurrence', 'per-head-inner-norm', 'rope-interleaved', 'rope-full-dim', 'kv-modulo', 'no-renorm', 'slopes-pow2-only', 'no-layer-factor', 'gate-silu'],
  },
  {
    // h = 12, d = 4, GQA group 4 (g = 3), rotary = head_dim, postnorm false, top-1, tied embeddings, softmax at odd positions.
    name: 'h12 g3 rot=d top1 postnorm=false tied [0,1,0,1]',
    config: cfg({ attn_type_list: [0, 1, 0, 1], num_attention_heads: 12, num_key_value_heads: 3, head_dim: 4, rotary_dim: 4, hidden_size: 32, num_experts_per_tok: 1, num_local_experts: 3, postnorm: false, tie_word_embeddings: true, rope_theta: 10000000 }),
    n: 20, shards: 2,
    variants: ['exclusive-recurrence', 'kv-modulo', 'slopes-pow2-only', 'rope-interleaved'],
  },
  {
    // GQA group 1 (g = h = 8, power of two), M1-like layout [0,0,0,1], DeepNet α = (2L)^{1/4}, β = 1.
    name: 'h8 g8 M1-like [0,0,0,1]',
    config: cfg({ attn_type_list: [0, 0, 0, 1], num_attention_heads: 8, num_key_value_heads: 8, head_dim: 8, rotary_dim: 4, hidden_size: 48, num_experts_per_tok: 2, layernorm_linear_attention_alpha: 8 ** 0.25, layernorm_linear_attention_beta: 1, layernorm_full_attention_alpha: 8 ** 0.25, layernorm_full_attention_beta: 1, layernorm_mlp_alpha: 8 ** 0.25, layernorm_mlp_beta: 1, rope_theta: 10000000 }),
    n: 16, shards: 1,
    variants: ['exclusive-recurrence', 'no-layer-factor', 'no-renorm'],
  },
  {
    // rms_norm_eps large and lightning_norm_eps absent: the inner norm must use its own default 1e-6.
    name: 'inner-norm eps default 1e-6 with rms_norm_eps 0.5',
    config: cfg({ attn_type_list: [0, 0], num_attention_heads: 4, num_key_value_heads: 1, rms_norm_eps: 0.5 }),
    n: 12, shards: 1,
    variants: ['lightning-eps-rms', 'exclusive-recurrence'],
  },
  {
    // explicit lightning_norm_eps is honoured.
    name: 'explicit lightning_norm_eps 0.5',
    config: cfg({ attn_type_list: [0, 1], num_attention_heads: 4, num_key_value_heads: 1, lightning_norm_eps: 0.5 }),
    n: 12, shards: 1,
    variants: ['lightning-eps-rms'],
  },
  {
    // HF-native field names (§1.1): layer_types strings and *_alpha_factor / *_beta_factor.
    name: 'HF-native aliases layer_types/*_factor',
    config: aliasConfig(),
    n: 12, shards: 2,
    variants: ['skip-from-x', 'no-renorm'],
  },
  {
    // L = 1: the per-layer factor special case 1 + 1e-5; h = 5 (non-power-of-two), tied embeddings.
    name: 'L=1 lightning h5 tied',
    config: cfg({ attn_type_list: [0], num_attention_heads: 5, num_key_value_heads: 5, tie_word_embeddings: true }),
    n: 12, shards: 1,
    variants: ['exclusive-recurrence', 'slopes-pow2-only'],
  },
];

describe('independent reference: self-consistency of the spec numbers', () => {
  it('slopes and layer factors match the values printed in docs/architecture.md §3.3.2/§3.8', () => {
    const s64 = slopes(64);
    expect(s64[0]).toBeCloseTo(0.9170040432, 9);
    expect(s64[1]).toBeCloseTo(0.8408964153, 9);
    expect(s64[63]).toBeCloseTo(0.00390625, 15);
    expect(layerFactor(39, 80)).toBeCloseTo(0.506339, 6);
    expect(layerFactor(78, 80)).toBeCloseTo(0.0126683, 6);
    // h = 6: list for 4 (0.25^(j+1)), then even-indexed entries of the list for 8 (0.5^(j+1)): 0.5, 0.125.
    expect(slopes(6)).toEqual([0.25, 0.0625, 0.015625, 0.00390625, 0.5, 0.125]);
    expect(layerFactor(0, 1)).toBe(1 + 1e-5);
    // §3.8: ω_1 = 1e7^(−1/32) = 0.6042963902, ω_31 = 1.654817e−7 (rotary_dim 64); angles are fp32.
    expect(ropeAngle(1, 1, 64, 1e7)).toBeCloseTo(0.6042963902, 7);
    expect(ropeAngle(1, 31, 64, 1e7) / 1.654817e-7).toBeCloseTo(1, 6);
  });
});

async function build(c: Case, extra: Partial<Raw> = {}, seed = 7): Promise<Checkpoint> {
  const dir = await tmpDir('m1kit-xcheck-');
  await generateCheckpoint({ out: dir, config: { ...c.config, ...extra }, seed, shards: c.shards, std: STD });
  return Checkpoint.open(dir);
}

async function runtime(ck: Checkpoint, tokens: number[], mode: 'prefill' | 'decode'): Promise<Float32Array> {
  return forward({ checkpoint: ck, tokens, mode, precision: 'fp32', lmHead: 'fp32' });
}

describe('runtime fp32 forward vs independent float64 reference', () => {
  for (const c of CASES) {
    it(`${c.name}: prefill and decode within ${REL_BUDGET}; each listed deviation is visible`, async () => {
      const ck = await build(c);
      try {
        const tokens = tokensFor(c.config.vocab_size as number, c.n, 11);
        const ref = await referenceForward(ck, tokens);
        const pre = await runtime(ck, tokens, 'prefill');
        const dec = await runtime(ck, tokens, 'decode');
        const ePre = relErr(pre, ref);
        const eDec = relErr(dec, ref);
        expect({ prefill: ePre < REL_BUDGET, decode: eDec < REL_BUDGET, ePre, eDec }).toMatchObject({ prefill: true, decode: true });
        for (const v of c.variants) {
          const alt = await referenceForward(ck, tokens, v);
          expect({ v, e: relErr(alt, ref) > POWER_FACTOR * REL_BUDGET }).toEqual({ v, e: true });
        }
      } finally {
        await ck.close();
      }
    });
  }

  it('300 tokens and prefixes at block edges, block 256 and config block 16, prefill and decode', async () => {
    const c: Case = { name: 'long', config: cfg({ attn_type_list: [0, 1, 0], num_attention_heads: 4, num_key_value_heads: 2, head_dim: 8, rotary_dim: 4, hidden_size: 24, vocab_size: 64, num_local_experts: 3, num_experts_per_tok: 2, intermediate_size: 16, rope_theta: 10000000 }), n: 300, shards: 1, variants: [] };
    const tokens = tokensFor(64, c.n, 5);
    const V = 64;
    let ref: Float64Array | undefined;
    // Causality: rows of a prefix equal the first rows of the full reference. Lengths at and around block edges.
    const lengths: Record<number, number[]> = { 256: [256, 257, 300], 16: [16, 17, 32, 300] };
    for (const block of [256, 16]) {
      const ck = await build(c, block === 256 ? {} : { block });
      try {
        ref ??= await referenceForward(ck, tokens);
        for (const n of lengths[block]!) {
          const want = ref.subarray(0, n * V);
          const ePre = relErr(await runtime(ck, tokens.slice(0, n), 'prefill'), want);
          const eDec = n === 300 ? relErr(await runtime(ck, tokens, 'decode'), want) : 0;
          expect({ block, n, prefill: ePre < REL_BUDGET, decode: eDec < REL_BUDGET, ePre, eDec }).toMatchObject({ block, n, prefill: true, decode: true });
        }
      } finally {
        await ck.close();
      }
    }
    const ck = await build(c);
    try {
      expect(relErr(await referenceForward(ck, tokens, 'exclusive-recurrence'), ref!)).toBeGreaterThan(POWER_FACTOR * REL_BUDGET);
    } finally {
      await ck.close();
    }
  });

  it('h = 64 (M1 slopes: λ = e^−0.917 on head 0 of layer 0) over 300 tokens: no overflow of decay powers', async () => {
    // A block form that factorises λ^{r−c} as λ^r·λ^{−c} overflows fp32 here (e^{0.917·255} ≫ 3.4e38).
    const c: Case = { name: 'h64', config: cfg({ attn_type_list: [0, 1, 0], num_attention_heads: 64, num_key_value_heads: 8, head_dim: 2, rotary_dim: 2, hidden_size: 16, vocab_size: 32, num_local_experts: 2, num_experts_per_tok: 1, intermediate_size: 8, rope_theta: 10000000 }), n: 300, shards: 1, variants: [] };
    const ck = await build(c);
    try {
      const tokens = tokensFor(32, c.n, 8);
      const ref = await referenceForward(ck, tokens);
      const ePre = relErr(await runtime(ck, tokens, 'prefill'), ref);
      const eDec = relErr(await runtime(ck, tokens, 'decode'), ref);
      expect({ prefill: ePre < REL_BUDGET, decode: eDec < REL_BUDGET, ePre, eDec }).toMatchObject({ prefill: true, decode: true });
    } finally {
      await ck.close();
    }
  });

  it('router ties pick the lowest expert index (top-1 and top-2)', async () => {
    for (const k of [1, 2]) {
      const config = cfg({ attn_type_list: [0, 1], num_attention_heads: 4, num_key_value_heads: 2, num_local_experts: 4, num_experts_per_tok: k });
      const ck = await makeTieCheckpoint(await tmpDir('m1kit-xcheck-tie-'), config, STD);
      try {
        const tokens = tokensFor(96, 10, 3);
        const ref = await referenceForward(ck, tokens);
        const ePre = relErr(await runtime(ck, tokens, 'prefill'), ref);
        const eDec = relErr(await runtime(ck, tokens, 'decode'), ref);
        expect({ k, prefill: ePre < REL_BUDGET, decode: eDec < REL_BUDGET, ePre, eDec }).toMatchObject({ k, prefill: true, decode: true });
        expect(relErr(await referenceForward(ck, tokens, 'ties-highest'), ref)).toBeGreaterThan(POWER_FACTOR * REL_BUDGET);
      } finally {
        await ck.close();
      }
    }
  });

  it('F32 and F16 weight files are read exactly (fp32 mode does not round weights to bf16)', async () => {
    const config = cfg({ attn_type_list: [0, 1], num_attention_heads: 4, num_key_value_heads: 2 });
    const tokens = tokensFor(96, 10, 4);
    const rounded = await makeWideCheckpoint(await tmpDir('m1kit-xcheck-wide-'), config, STD, 'BF16');
    const refRounded = await referenceForward(rounded, tokens);
    await rounded.close();
    for (const dtype of ['F32', 'F16'] as const) {
      const ck = await makeWideCheckpoint(await tmpDir('m1kit-xcheck-wide-'), config, STD, dtype);
      try {
        expect(ck.info('model.embed_tokens.weight').info.dtype).toBe(dtype);
        const ref = await referenceForward(ck, tokens);
        // Power: the same weights rounded to bf16 move the logits well past the budget.
        expect(relErr(refRounded, ref)).toBeGreaterThan(ROUNDING_POWER_FACTOR * REL_BUDGET);
        const ePre = relErr(await runtime(ck, tokens, 'prefill'), ref);
        const eDec = relErr(await runtime(ck, tokens, 'decode'), ref);
        expect({ dtype, prefill: ePre < REL_BUDGET, decode: eDec < REL_BUDGET, ePre, eDec }).toMatchObject({ dtype, prefill: true, decode: true });
      } finally {
        await ck.close();
      }
    }
  });
});
