/**
 * The LM head: bf16 emulation of the [HF] head (docs/architecture.md §3.6) and which tensor a tied checkpoint uses (§1.1).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Checkpoint } from '../../../src/core/checkpoint/checkpoint.js';
import { generateCheckpoint } from '../../../src/core/fixture/generate.js';
import { forward } from '../../../src/core/model/forward.js';
import { InputError } from '../../../src/core/errors.js';
import { tmpDir } from '../../helpers/tmp.js';
import { referenceForward } from './reference.js';
import { BF16_EPS, cfg, HEAD_EXACT_FRACTION, type Raw, REL_BUDGET, relErr, STD, tokensFor } from './reference-util.js';

async function build(config: Raw, writtenConfig: Raw = config): Promise<Checkpoint> {
  const dir = await tmpDir('m1kit-xhead-');
  await generateCheckpoint({ out: dir, config, seed: 5, shards: 2, std: STD });
  if (writtenConfig !== config) await writeFile(join(dir, 'config.json'), JSON.stringify(writtenConfig));
  return Checkpoint.open(dir);
}

describe('LM head', () => {
  it('lmHead bf16 = [HF] head: hidden state rounded to bf16, fp32 accumulate, logits rounded to bf16 (§3.6)', async () => {
    const config = cfg({ attn_type_list: [0, 1], num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 200, hidden_size: 64 });
    const ck = await build(config);
    try {
      const tokens = tokensFor(200, 20, 9);
      const want = await referenceForward(ck, tokens, 'lm-head-bf16');
      const scale = Math.max(...want.map(Math.abs));
      for (const mode of ['prefill', 'decode'] as const) {
        const got = await forward({ checkpoint: ck, tokens, mode, precision: 'fp32', lmHead: 'bf16' });
        let exact = 0;
        let worst = 0;
        for (let i = 0; i < got.length; i++) {
          if (got[i] === want[i]) exact++;
          worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
        }
        // fp32 (runtime) vs float64 (here) hidden states can land on opposite sides of a bf16 rounding
        // boundary of the head input, so a few logits may differ; rounding only the output instead of the
        // input matches ~57% of logits exactly, so the exact-match floor separates the two.
        expect({ mode, exactFraction: exact / got.length >= HEAD_EXACT_FRACTION, worst: worst <= BF16_EPS * scale }).toEqual({ mode, exactFraction: true, worst: true });
      }
    } finally {
      await ck.close();
    }
  });

  it('tie_word_embeddings true with an lm_head.weight tensor also present: the head is the embedding', async () => {
    // "tie_word_embeddings: false ⇒ lm_head.weight is a separate tensor" (§1.1): tied means the head
    // weights are the embedding rows. vLLM's loaders skip lm_head.weight when tied (such a copy "might
    // appear unnecessarily in the files" after quantization or fine-tuning), so a stray tensor is not used.
    const untied = cfg({ attn_type_list: [0, 1], num_attention_heads: 4, num_key_value_heads: 2 });
    const ck = await build(untied, { ...untied, tie_word_embeddings: true });
    try {
      expect(ck.has('lm_head.weight')).toBe(true);
      const tokens = tokensFor(96, 10, 2);
      const ref = await referenceForward(ck, tokens);
      for (const mode of ['prefill', 'decode'] as const) {
        const e = relErr(await forward({ checkpoint: ck, tokens, mode, precision: 'fp32', lmHead: 'fp32' }), ref);
        expect({ mode, ok: e < REL_BUDGET, e }).toMatchObject({ mode, ok: true });
      }
    } finally {
      await ck.close();
    }
  });

  it('tie_word_embeddings false without lm_head.weight is an input error, not a silent tie', async () => {
    const tied = cfg({ attn_type_list: [0, 1], num_attention_heads: 4, num_key_value_heads: 2, tie_word_embeddings: true });
    const ck = await build(tied, { ...tied, tie_word_embeddings: false });
    try {
      expect(ck.has('lm_head.weight')).toBe(false);
      const err = await forward({ checkpoint: ck, tokens: [1, 2, 3], mode: 'prefill', precision: 'fp32', lmHead: 'fp32' }).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toContain('lm_head');
    } finally {
      await ck.close();
    }
  });
});
