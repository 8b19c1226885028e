import { describe, expect, it } from 'vitest';
import { createSession } from '../../../src/core/model/session.js';
import { forward } from '../../../src/core/model/forward.js';
import { maxDiff, memorySource, randomTokens, smallRawConfig, type MemorySource } from './helpers.js';
import { referenceForward, type ReferenceSource } from './reference.js';

/** The in-memory weights as the independent float64 reference reads them (raw config, exact values). */
const asReference = (src: MemorySource): ReferenceSource => ({ configRaw: src.raw, shape: (n) => src.shapes.get(n)!, values: async (n) => src.values.get(n)! });
const reference = async (src: MemorySource, tokens: number[], logitScale = 1) => referenceForward(asReference(src), tokens, 'none', undefined, { logitScale });

/** fp32 runtime vs the float64 reference (reference.ts): fp32 storage of activations (rel. 2^-24 per op) over a few layers
 * with α ≈ 1.8 residual gains; observed ≈ 3e-7 of the largest logit, 1e-5 leaves a 30× margin and is far
 * below the effect of any wrong formula (≥ 1e-2). */
const FP32_VS_NAIVE_REL = 1e-5;
/** Two fp32 evaluation orders of the same math (block form vs recurrence, batched vs one row) over 600
 * tokens: observed ≈ 2.5e-6 of the largest logit; 2e-5 allows 8×. */
const FP32_PATHS_REL = 2e-5;
/** bf16 emulation vs fp32 with routing fixed (all experts used): bf16 keeps 8 significant bits (rel.
 * 2^-9 per rounding) and errors compound over layers; 3% of the largest logit. */
const BF16_VS_FP32_REL = 0.03;

describe('runtime vs the float64 reference (fp32 mode)', () => {
  it('matches the reference on a layer mix with head_dim ≠ hidden/heads and GQA', async () => {
    const src = memorySource(smallRawConfig(), 7);
    const tokens = randomTokens(19, 40, 3);
    const ref = await reference(src, tokens);
    const got = await forward({ checkpoint: src, tokens });
    const { maxAbs, maxRef } = maxDiff(got, ref);
    expect(maxRef).toBeGreaterThan(0.1);
    expect(maxAbs).toBeLessThan(FP32_VS_NAIVE_REL * maxRef);
  });

  it('applies logitScale to the final-norm weight', async () => {
    const src = memorySource(smallRawConfig(), 8);
    const tokens = randomTokens(5, 40, 4);
    const ref = await reference(src, tokens, 7.5);
    const got = await forward({ checkpoint: src, tokens, logitScale: 7.5 });
    const { maxAbs, maxRef } = maxDiff(got, ref);
    expect(maxAbs).toBeLessThan(FP32_VS_NAIVE_REL * maxRef);
  });

  it('follows postnorm = false (skip branch is x, not the normalised input)', async () => {
    const raw = smallRawConfig({ postnorm: false });
    const src = memorySource(raw, 9);
    const tokens = randomTokens(6, 40, 5);
    const ref = await reference(src, tokens);
    const got = await forward({ checkpoint: src, tokens });
    const { maxAbs, maxRef } = maxDiff(got, ref);
    expect(maxAbs).toBeLessThan(FP32_VS_NAIVE_REL * maxRef);
    const on = await forward({ checkpoint: memorySource(smallRawConfig(), 9), tokens });
    expect(maxDiff(on, got).maxAbs).toBeGreaterThan(1e-3);
  });
});

describe('prefill and decode paths', () => {
  // 2 lightning layers around one softmax layer; block size 256; 601 tokens = 2 full blocks + 89.
  const raw = smallRawConfig({ vocab_size: 32, hidden_size: 16, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 8, intermediate_size: 8, num_local_experts: 3 });

  it('prefill logits == decode logits on 601 tokens (> 2 blocks, not a multiple of 256)', async () => {
    const src = memorySource(raw, 11);
    const tokens = randomTokens(601, 32, 6);
    const pre = await forward({ checkpoint: src, tokens, mode: 'prefill' });
    const dec = await forward({ checkpoint: src, tokens, mode: 'decode' });
    const { maxAbs, maxRef } = maxDiff(dec, pre);
    expect(maxRef).toBeGreaterThan(0.1);
    expect(maxAbs).toBeLessThan(FP32_PATHS_REL * maxRef);
  }, 60_000);

  it('prefill(n) + decode == prefill(n + 1), and prefill continues a state', async () => {
    const src = memorySource(raw, 12);
    const tokens = randomTokens(300, 32, 7);
    const s = createSession({ checkpoint: src });
    await s.prefill(tokens.slice(0, 299), { logits: false });
    const next = await s.decodeStep(tokens[299]!);
    const full = await forward({ checkpoint: src, tokens });
    const last = full.subarray(299 * 32);
    expect(maxDiff(next, last).maxAbs).toBeLessThan(FP32_PATHS_REL * maxDiff(next, last).maxRef);
    // chunked prefill: 260 then 40 tokens
    const s2 = createSession({ checkpoint: src });
    await s2.prefill(tokens.slice(0, 260), { logits: false });
    const tail = await s2.prefill(tokens.slice(260));
    const d = maxDiff(tail, full.subarray(260 * 32));
    expect(d.maxAbs).toBeLessThan(FP32_PATHS_REL * d.maxRef);
    expect(s2.position).toBe(300);
  }, 60_000);

  it('is causal: appending tokens leaves earlier rows bit-identical', async () => {
    const src = memorySource(raw, 13);
    const tokens = randomTokens(40, 32, 8);
    // TypeScript kernels: every output row is its own float64 dot product, so rows are bit-reproducible
    const a = await forward({ checkpoint: src, tokens: tokens.slice(0, 25), kernels: 'ts' });
    const b = await forward({ checkpoint: src, tokens, kernels: 'ts' });
    expect(Array.from(b.subarray(0, 25 * 32))).toEqual(Array.from(a));
  });

  it('bf16 emulation stays close to fp32 but is not identical', async () => {
    // every expert selected, so a near-tie in routing cannot amplify rounding differences
    const src = memorySource(smallRawConfig({ num_experts_per_tok: 4 }), 14, 0.1);
    const tokens = randomTokens(12, 40, 9);
    const f = await forward({ checkpoint: src, tokens });
    const b = await forward({ checkpoint: src, tokens, precision: 'bf16', lmHead: 'bf16' });
    const d = maxDiff(b, f);
    expect(d.maxAbs).toBeGreaterThan(0);
    expect(d.maxAbs).toBeLessThan(BF16_VS_FP32_REL * d.maxRef);
    // a bf16 LM head produces bf16-representable logits
    for (const v of b) expect(Math.fround(v)).toBe(new Float32Array(new Uint32Array([(new Uint32Array(new Float32Array([v]).buffer)[0]! >>> 16) << 16]).buffer)[0]);
  });

  it('rejects tokens outside the vocabulary', async () => {
    const src = memorySource(smallRawConfig(), 15);
    await expect(forward({ checkpoint: src, tokens: [1, 40] })).rejects.toThrow(/outside the vocabulary/);
  });
});
