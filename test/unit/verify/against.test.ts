import { describe, expect, it } from 'vitest';
import { compareOnSequences, randomSequences, verifyAgainst } from '../../../src/core/verify/against.js';
import { memorySource, smallRawConfig } from '../model/helpers.js';

describe('checkpoint vs checkpoint', () => {
  it('identical checkpoints: zero KLD, full top-1 agreement, PPL ratio 1', async () => {
    const a = memorySource(smallRawConfig(), 41);
    const r = await verifyAgainst({ checkpoint: a, reference: a, sequences: randomSequences(1, 2, 10, 40), thresholds: { maxKld: 0, minTop1: 1 } });
    expect(r).toMatchObject({ sequences: 2, tokens: 20, vocab: 40, pass: true, failures: [] });
    expect(r.metrics.kld.max).toBe(0);
    expect(r.metrics.sameTop1).toBe(1);
    expect(r.metrics.pplRatio).toBe(1);
  });

  it('a perturbed checkpoint shows KLD > 0 and fails tight thresholds', async () => {
    const a = memorySource(smallRawConfig(), 41);
    const b = memorySource(smallRawConfig(), 41, 0.21); // same seed, weights 5% larger
    const r = await verifyAgainst({ checkpoint: b, reference: a, sequences: randomSequences(2, 2, 12, 40), thresholds: { maxKld: 1e-9, minTop1: 1 } });
    expect(r.metrics.kld.mean).toBeGreaterThan(1e-9);
    expect(r.pass).toBe(false);
    expect(r.failures[0]).toMatch(/^mean KLD .* > 1e-9$/);
  });

  it('rejects different vocabularies and wrongly shaped logits', async () => {
    const a = memorySource(smallRawConfig(), 41);
    const b = memorySource(smallRawConfig({ vocab_size: 41 }), 41);
    await expect(verifyAgainst({ checkpoint: b, reference: a, sequences: [[1, 2]] })).rejects.toThrow(/vocab sizes differ/);
    await expect(compareOnSequences({ sequences: [[1, 2]], vocab: 4, reference: async () => new Float32Array(8), test: async () => new Float32Array(4) })).rejects.toThrow(/sequence 0: expected 2×4 logits/);
  });

  it('random sequences are seeded', () => {
    expect(randomSequences(3, 2, 5, 100)).toEqual(randomSequences(3, 2, 5, 100));
    expect(randomSequences(3, 2, 5, 100)).not.toEqual(randomSequences(4, 2, 5, 100));
  });
});
