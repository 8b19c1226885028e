/**
 * generate() on the tiny fixture: greedy tokens checked against an independent prefill of the whole
 * sequence, and each stop rule on its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Checkpoint } from '../../../src/core/checkpoint/checkpoint.js';
import { forward } from '../../../src/core/model/forward.js';
import { generate } from '../../../src/core/generation/generate.js';
import { generate as libGenerate, loadTokenizer } from '../../../src/library.js';

/**
 * Decode (recurrent, one token at a time) and prefill (block form) agree to float32 rounding on the
 * fixture (docs/architecture.md); a greedy token may differ from the prefill argmax only when the two
 * best logits are closer than this.
 */
const PATH_AGREEMENT = 1e-4;

let ckpt: Checkpoint;
beforeAll(async () => { ckpt = await Checkpoint.open('fixtures/tiny'); });
afterAll(async () => { await ckpt.close(); });

const prompt = [262, 267, 44, 258, 270];

describe('generate', () => {
  it('greedy tokens are the argmax of a prefill over prompt + generated prefix', async () => {
    const r = await generate({ checkpoint: ckpt, prompt, maxTokens: 12, temperature: 0, kernels: 'ts', earlyTruncation: { window: 0 } });
    expect(r.tokens).toHaveLength(12);
    expect(r.stop).toBe('max-tokens');
    const seq = [...prompt, ...r.tokens];
    const V = ckpt.config.vocabSize;
    const logits = await forward({ checkpoint: ckpt, tokens: seq.slice(0, -1), kernels: 'ts' });
    for (let t = 0; t < r.tokens.length; t++) {
      const row = logits.subarray((prompt.length - 1 + t) * V, (prompt.length + t) * V);
      let max = -Infinity;
      for (const x of row) max = Math.max(max, x);
      expect(row[r.tokens[t]!]!, `token ${t}`).toBeGreaterThanOrEqual(max - PATH_AGREEMENT);
      let z = 0;
      for (const x of row) z += Math.exp(x - max);
      expect(r.probs[t]!).toBeCloseTo(Math.exp(row[r.tokens[t]!]! - max) / z, 5);
    }
  });

  it('the same seed gives the same tokens; another seed other tokens', async () => {
    const run = (seed: number) => generate({ checkpoint: ckpt, prompt, maxTokens: 8, seed, topP: 0.95 });
    const a = await run(1);
    expect((await run(1)).tokens).toEqual(a.tokens);
    expect((await run(2)).tokens).not.toEqual(a.tokens);
  });

  it('stops at a stop token, at the context, and by early truncation, each saying so', async () => {
    const g = await generate({ checkpoint: ckpt, prompt, maxTokens: 4, temperature: 0 });
    const s = await generate({ checkpoint: ckpt, prompt, maxTokens: 10, temperature: 0, stopIds: [g.tokens[1]!] });
    expect([s.stop, s.tokens]).toEqual(['stop-token', g.tokens.slice(0, 2)]);
    const c = await generate({ checkpoint: ckpt, prompt, maxTokens: 10, temperature: 0, maxContext: prompt.length + 3 });
    expect([c.stop, c.tokens.length]).toEqual(['context', 3]);
    // every token of the random fixture has p ≈ 1/512 > 0.001: a window of 3 fires on the third
    const e = await generate({ checkpoint: ckpt, prompt, maxTokens: 10, seed: 5, earlyTruncation: { minProb: 0.001, window: 3 } });
    expect(e.probs.every((p) => p > 0.001)).toBe(true);
    expect([e.stop, e.tokens.length, e.earlyTruncationRun]).toEqual(['early-truncation', 3, 3]);
    // the report's default (3,000 tokens above 0.99) never fires on it
    const d = await generate({ checkpoint: ckpt, prompt, maxTokens: 5, seed: 5 });
    expect([d.stop, d.earlyTruncationRun]).toEqual(['max-tokens', 0]);
  });

  it('never draws an id outside the allowed set', async () => {
    const r = await generate({ checkpoint: ckpt, prompt, maxTokens: 30, seed: 9, allowed: (id) => id < 295 });
    expect(r.tokens.every((t) => t < 295)).toBe(true);
  });

  it('the library form opens a path, tokenized with loadTokenizer, and gives the same tokens', async () => {
    const tok = await loadTokenizer('fixtures/tiny');
    const ids = tok.encode('Hello world, the cat');
    expect(ids).toEqual(prompt);
    const a = await libGenerate('fixtures/tiny', ids, { maxTokens: 6, seed: 4, kernels: 'ts' });
    const b = await generate({ checkpoint: ckpt, prompt, maxTokens: 6, seed: 4, kernels: 'ts' });
    expect(a.tokens).toEqual(b.tokens);
  });
});
