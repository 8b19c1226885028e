/**
 * A small version of the README's Figure-3 command on the committed tiny fixture: same bf16 body,
 * logit scale 40, both LM heads. The report's direction must hold: the fp32 head raises Pearson r and
 * lowers the share of tokens whose importance ratio a PPO/GRPO clip would cut. (Observed on seeds
 * 0–5 at these sizes: r 0.99940–0.99955 → 0.99973–0.99981, share 12–15 % → 4.7–7.5 %.)
 */
import { describe, expect, it } from 'vitest';
import { jsonDoc, m1kit } from '../helpers/cli.js';

/** ε tighter than the default 0.2 so that a 576-token run has tens of clipped tokens, not one or two. */
const CLIP_EPS = 0.05;

describe('Figure 3, small version', () => {
  it('the fp32 LM head raises r and lowers the share clipped', async () => {
    const r = await m1kit(['verify', 'fixtures/tiny', '--train-vs-infer', '--prompt-len', '64', '--gen-len', '192', '--sequences', '3',
      '--logit-scale', '40', '--clip-eps', String(CLIP_EPS), '--json']);
    expect(r.code).toBe(0);
    const res = jsonDoc(r.stdout).result;
    expect(res.warnings).toEqual([]);
    const [bf16, fp32] = res.runs;
    expect([bf16.lmHead, fp32.lmHead]).toEqual(['bf16', 'fp32']);
    expect(fp32.pearson).toBeGreaterThan(bf16.pearson);
    expect(bf16.importance.all.clipped).toBeGreaterThan(0);
    expect(fp32.importance.all.clipped).toBeLessThan(bf16.importance.all.clipped);
    expect(fp32.meanAbsDelta).toBeLessThan(bf16.meanAbsDelta);
  });
});
