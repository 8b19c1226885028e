import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFile, stat } from 'node:fs/promises';
import { jsonDoc, m1kit } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const TINY = 'fixtures/tiny';

describe('m1kit verify --train-vs-infer (built CLI)', () => {
  it('reports both LM heads with the documented --json schema and draws the scatter', async () => {
    const dir = await tmpDir();
    const plot = join(dir, 'fig3.svg');
    const r = await m1kit(['verify', TINY, '--train-vs-infer', '--prompt-len', '20', '--gen-len', '30', '--sequences', '2', '--logit-scale', '40', '--plot', plot, '--json']);
    expect(r.code).toBe(0);
    const res = jsonDoc(r.stdout).result;
    expect(res).toMatchObject({
      mode: 'train-vs-infer', checkpoint: TINY, promptLen: 20, genLen: 30, sequences: 2, seed: 0, precision: 'bf16', logitScale: 40, logitScaleAuto: false,
      earlyTruncation: { minProb: 0.99, window: 3000 }, paper: { bf16Head: 0.987319, fp32Head: 0.997135 }, warnings: [],
    });
    expect(res.runs.map((x: { lmHead: string }) => x.lmHead)).toEqual(['bf16', 'fp32']);
    for (const run of res.runs) {
      expect(Object.keys(run).sort()).toEqual(['fracAbsDeltaOver01', 'importance', 'lmHead', 'maxAbsDelta', 'maxAbsLogit', 'meanAbsDelta', 'meanRowMaxAbsLogit', 'pearson', 'stoppedEarly', 'tokens'].sort());
      expect(Object.keys(run.importance).sort()).toEqual(['absDeviation', 'all', 'cispoEpsHigh', 'clipEps', 'lowProb', 'lowProbTokens', 'ratio'].sort());
      expect(run.importance).toMatchObject({ clipEps: 0.2, cispoEpsHigh: 4, lowProb: 0.1, ratio: { count: 60 }, all: { tokens: 60 } });
      expect(Object.keys(run.importance.all).sort()).toEqual(['cispoCapped', 'cispoMeanAbsWeightChange', 'clipped', 'clippedAbove', 'clippedBelow', 'tokens'].sort());
      expect(run.stoppedEarly).toBe(0);
      expect(run.tokens).toBe(60);
      expect(run.pearson).toBeGreaterThan(0.9);
      expect(run.pearson).toBeLessThanOrEqual(1);
    }
    expect(res.plot).toMatchObject({ path: plot, format: 'svg' });
    const svg = await readFile(plot, 'utf8');
    expect(svg).toContain('<svg');
    expect(svg).toContain(`r = ${res.runs[0].pearson.toFixed(6)}`);
  });

  it('auto logit scale by default; a scale too small for bf16 rounding to matter is warned about', async () => {
    const a = jsonDoc((await m1kit(['verify', TINY, '--train-vs-infer', '--prompt-len', '16', '--gen-len', '8', '--sequences', '1', '--json'])).stdout).result;
    expect(a.logitScaleAuto).toBe(true);
    expect(a.warnings).toEqual([]);
    // calibrated on the prompt to mean row max |z| = 30; generated rows land near it
    for (const run of a.runs) expect(Math.abs(run.meanRowMaxAbsLogit - 30)).toBeLessThan(10);
    const r = await m1kit(['verify', TINY, '--train-vs-infer', '--prompt-len', '16', '--gen-len', '8', '--sequences', '1', '--logit-scale', '1', '--clip-eps', '0.1', '--json']);
    expect(r.code).toBe(0);
    const w = jsonDoc(r.stdout).result;
    expect(w.warnings.length).toBe(1);
    expect(w.warnings[0]).toMatch(/logits stay small/);
    expect(w.runs[0].importance.clipEps).toBe(0.1);
    expect(r.stderr).toMatch(/warning: logits stay small/);
  });

  it('usage errors exit 2', async () => {
    expect((await m1kit(['verify', TINY, '--train-vs-infer', '--clip-eps', '1.5'])).code).toBe(2);
    expect((await m1kit(['verify', TINY, '--train-vs-infer', '--early-stop-p', '1'])).code).toBe(2);
    expect((await m1kit(['verify', TINY, '--train-vs-infer', '--logit-scale', 'big'])).code).toBe(2);
    expect((await m1kit(['verify', TINY])).code).toBe(2);
    expect((await m1kit(['verify', TINY, '--train-vs-infer', '--against', TINY])).code).toBe(2);
    expect((await m1kit(['verify', TINY, '--train-vs-infer', '--plot', 'x.gif'])).code).toBe(2);
    expect((await m1kit(['verify', TINY, '--against', TINY, '--lm-head', 'both'])).code).toBe(2);
  });
});

describe('m1kit verify --against (built CLI)', () => {
  it('a checkpoint against itself: zero KLD, 100 % top-1, pass', async () => {
    const r = await m1kit(['verify', TINY, '--against', TINY, '--sequences', '2', '--seq-len', '40', '--max-kld', '0', '--min-top1', '100', '--json']);
    expect(r.code).toBe(0);
    const res = jsonDoc(r.stdout).result;
    expect(res).toMatchObject({ mode: 'against', engine: 'm1kit', sequences: 2, tokens: 80, vocab: 512, sameTop1: 1, sameTop1Percent: 100, rmsDeltaP: 0, pplRatio: 1, pass: true, failures: [], thresholds: { maxKld: 0, minTop1: 1 } });
    expect(res.kld).toMatchObject({ count: 80, mean: 0, max: 0 });
    expect(res.deltaP.count).toBe(78); // the last token of each sequence has no next token
  });

  it('a different model fails the thresholds with exit code 4 and still prints the metrics', async () => {
    const dir = await tmpDir();
    const other = join(dir, 'other');
    expect((await m1kit(['fixture', other, '--preset', 'tiny', '--seed', '12345'])).code).toBe(0);
    const r = await m1kit(['verify', other, '--against', TINY, '--tokens', '1,2,3,4,5,6,7,8', '--max-kld', '1e-6', '--min-top1', '99', '--json']);
    expect(r.code).toBe(4);
    const res = jsonDoc(r.stdout).result;
    expect(res.pass).toBe(false);
    expect(res.failures.length).toBe(2);
    expect(res.kld.mean).toBeGreaterThan(1e-6);
    expect(res.tokens).toBe(8);
  });

  it('--engine llama.cpp needs --against, and reports a missing GGUF as bad input', async () => {
    expect((await m1kit(['verify', 'x.gguf', '--engine', 'llama.cpp', '--train-vs-infer'])).code).toBe(2);
    const r = await m1kit(['verify', '/nonexistent/model.gguf', '--engine', 'llama.cpp', '--against', TINY, '--tokens', '1,2', '--json']);
    expect([3, 5]).toContain(r.code); // 3: no such GGUF (engine present), 5: node-llama-cpp missing
    expect(await stat('/nonexistent/model.gguf').catch(() => undefined)).toBeUndefined();
  });
});
