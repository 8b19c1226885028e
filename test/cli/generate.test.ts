/** m1kit generate (built CLI): streamed text, --json, the stop reason, text-less checkpoints. */
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonDoc, m1kit } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const TINY = 'fixtures/tiny';

describe('m1kit generate', () => {
  it('streams the same text --json reports, and says why it stopped on stderr', async () => {
    const args = ['generate', TINY, '--prompt', 'Hello', '--max-tokens', '24', '--seed', '3', '--kernels', 'ts'];
    const j = await m1kit([...args, '--json']);
    expect(j.code, j.stderr).toBe(0);
    const res = jsonDoc(j.stdout).result;
    expect(res.prompt).toMatchObject({ source: 'prompt', tokens: 35 });
    expect(res.generated.ids).toHaveLength(24);
    expect(res.generated.ids.every((id: number) => id < 295)).toBe(true); // only ids the tokenizer holds
    expect(res.stop).toEqual({ reason: 'max-tokens', message: 'stopped: reached --max-tokens 24' });
    expect(res.sampling).toEqual({ temperature: 1, topP: 0.95, seed: 3 });
    expect(res.earlyTruncation).toMatchObject({ minProb: 0.99, window: 3000 });
    const h = await m1kit(args);
    expect(h.code, h.stderr).toBe(0);
    expect(h.stdout).toBe(res.generated.text); // execa drops the final line feed
    expect(h.stderr).toMatch(/^stopped: reached --max-tokens 24 — 35 prompt tokens in [\d.]+ s, 24 tokens at [\d.]+ tokens\/s \(ts kernels\)$/);
  });

  it('early truncation with its options, named in the output', async () => {
    const r = await m1kit(['generate', TINY, '--text', 'the cat', '--max-tokens', '50', '--early-stop-p', '0.001', '--early-stop-window', '4', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const res = jsonDoc(r.stdout).result;
    expect(res.stop.reason).toBe('early-truncation');
    expect(res.stop.message).toBe('stopped: early truncation, 4 consecutive tokens each with p > 0.001 (after 4 tokens)');
    expect(res.generated.ids).toHaveLength(4);
  });

  it('without a tokenizer: --tokens works, ids are printed, a warning says why', async () => {
    const dir = await tmpDir();
    for (const f of ['config.json', 'model.safetensors.index.json', 'model-00000-of-00003.safetensors', 'model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors']) await copyFile(join(TINY, f), join(dir, f));
    const r = await m1kit(['generate', dir, '--tokens', '1,2,3', '--max-tokens', '3', '--temperature', '0']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\d+,\d+,\d+$/);
    expect(r.stderr).toContain('no tokenizer.json; printing token ids');
    const t = await m1kit(['generate', dir, '--prompt', 'hi']);
    expect(t.code).toBe(3);
    expect(t.stderr).toContain('E_NO_TOKENIZER');
  });

  it('bad options are usage errors; --help has examples', async () => {
    expect((await m1kit(['generate', TINY, '--text', 'a', '--top-p', '0'])).code).toBe(2);
    expect((await m1kit(['generate', TINY, '--text', 'a', '--temperature', '-1'])).code).toBe(2);
    expect((await m1kit(['generate', TINY])).code).toBe(2);
    const h = await m1kit(['generate', '--help']);
    expect(h.stdout).toContain('m1kit generate fixtures/tiny --prompt "Hello" --max-tokens 32');
    expect(h.stdout).toContain('--early-stop-window');
  });
});
