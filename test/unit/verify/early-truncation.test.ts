import { describe, expect, it } from 'vitest';
import { EARLY_TRUNCATION_DEFAULTS, EarlyTruncationGuard } from '../../../src/core/generation/early-truncation.js';
import { trainVsInfer } from '../../../src/core/verify/train-vs-infer.js';
import { UsageError } from '../../../src/core/errors.js';
import { memorySource, smallRawConfig } from '../model/helpers.js';

describe('early-truncation guard', () => {
  it('defaults are the report rule: 3,000 consecutive tokens above 0.99', () => {
    expect(EARLY_TRUNCATION_DEFAULTS).toEqual({ minProb: 0.99, window: 3000 });
    const g = new EarlyTruncationGuard();
    for (let i = 0; i < 2999; i++) expect(g.push(0.995)).toBe(false);
    expect(g.push(0.995)).toBe(true);
    expect(g.stopped).toBe(true);
  });

  it('counts consecutive tokens strictly above the threshold; any other token restarts the run', () => {
    const g = new EarlyTruncationGuard({ minProb: 0.9, window: 3 });
    expect([0.95, 0.99, 0.9, 0.95, 0.96].map((p) => g.push(p))).toEqual([false, false, false, false, false]);
    expect(g.currentRun).toBe(2);
    expect(g.push(0.97)).toBe(true);
    g.reset();
    expect(g.stopped).toBe(false);
    expect(g.currentRun).toBe(0);
  });

  it('window 0 never stops; bad settings are refused', () => {
    const g = new EarlyTruncationGuard({ window: 0 });
    for (let i = 0; i < 10; i++) expect(g.push(1)).toBe(false);
    expect(() => new EarlyTruncationGuard({ minProb: 1 })).toThrow(RangeError);
    expect(() => new EarlyTruncationGuard({ window: 2.5 })).toThrow(RangeError);
  });
});

describe('train-vs-infer with early truncation', () => {
  const src = memorySource(smallRawConfig({ vocab_size: 64 }), 21);
  const base = { checkpoint: src, promptLen: 6, genLen: 20, sequences: 3, seed: 2, logitScale: 6, lmHeads: ['fp32' as const] };

  it('stops a sequence after the window of counted tokens and scores only what was generated', async () => {
    // threshold 0: every sampled token counts, so every sequence stops after exactly 5 tokens
    const r = await trainVsInfer({ ...base, earlyTruncation: { minProb: 0, window: 5 } });
    const run = r.runs[0]!;
    expect(run.stoppedEarly).toBe(3);
    expect(run.sequences.map((s) => s.length)).toEqual([11, 11, 11]);
    expect(run.pInfer.length).toBe(15);
    expect(run.pTrain.length).toBe(15);
    expect(run.importance.ratio.count).toBe(15);
    expect(r.earlyTruncation).toEqual({ minProb: 0, window: 5 });
    // the stopped sequences are the prefixes of the untruncated ones (same seed stream)
    const full = (await trainVsInfer({ ...base, earlyTruncation: { window: 0 } })).runs[0]!;
    expect(full.stoppedEarly).toBe(0);
    expect(full.sequences.map((s) => s.slice(0, 11))).toEqual(run.sequences);
    expect(Array.from(full.pInfer).filter((_, i) => i % 20 < 5)).toEqual(Array.from(run.pInfer));
  });

  it('a window as long as the generation does not count as stopping early; the default guard needs 3,000 tokens', async () => {
    expect((await trainVsInfer({ ...base, earlyTruncation: { minProb: 0, window: 20 } })).runs[0]!.stoppedEarly).toBe(0);
    expect((await trainVsInfer(base)).runs[0]!.stoppedEarly).toBe(0);
  });

  it('bad guard settings are usage errors before any work', async () => {
    await expect(trainVsInfer({ ...base, earlyTruncation: { minProb: 1.5 } })).rejects.toBeInstanceOf(UsageError);
    await expect(trainVsInfer({ ...base, importance: { clipEps: 2 } })).rejects.toBeInstanceOf(UsageError);
  });
});
