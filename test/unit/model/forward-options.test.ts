/**
 * Runtime options that must not change the math: a tiny weight-memory bound (tensors streamed), thread
 * counts, and --logit-scale x (multiplies the final-norm weight, so logits scale by exactly x in the
 * float64 reference).
 */
import { describe, expect, it } from 'vitest';
import { Checkpoint } from '../../../src/core/checkpoint/checkpoint.js';
import { generateCheckpoint } from '../../../src/core/fixture/generate.js';
import { forward } from '../../../src/core/model/forward.js';
import { tmpDir } from '../../helpers/tmp.js';
import { referenceForward } from './reference.js';
import { cfg, REL_BUDGET, relErr, STD, tokensFor } from './reference-util.js';

describe('forward options keep the reference semantics', () => {
  it('maxMemory 1 byte, threads 1 and 3, logitScale 2.5 — prefill and decode', async () => {
    const dir = await tmpDir('m1kit-xopt-');
    const config = cfg({ attn_type_list: [1, 0, 1, 0], vocab_size: 300, hidden_size: 64, intermediate_size: 48 });
    await generateCheckpoint({ out: dir, config, seed: 2, shards: 3, std: STD });
    const ck = await Checkpoint.open(dir);
    try {
      const tokens = tokensFor(300, 24, 6);
      const ref = await referenceForward(ck, tokens);
      for (const extra of [{ maxMemory: 1 }, { threads: 1 }, { threads: 3 }, { logitScale: 2.5 }]) {
        const scale = 'logitScale' in extra ? (extra.logitScale ?? 1) : 1;
        const want = ref.map((x) => x * scale);
        for (const mode of ['prefill', 'decode'] as const) {
          const e = relErr(await forward({ checkpoint: ck, tokens, mode, precision: 'fp32', lmHead: 'fp32', ...extra }), want);
          expect({ extra, mode, ok: e < REL_BUDGET, e }).toMatchObject({ extra, mode, ok: true });
        }
      }
    } finally {
      await ck.close();
    }
  });
});
