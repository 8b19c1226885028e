/** `m1kit imatrix` through the built CLI: a text corpus end to end (the file's format is checked in test/unit/imatrix). */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonDoc, m1kit } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

describe('m1kit imatrix', () => {
  it('--text-file: chunks the tokenized text, records the file as the dataset, leaves the input as it was', async () => {
    const d = await tmpDir();
    const text = join(d, 'calib.txt');
    await writeFile(text, 'the model reads every layer once and keeps the same logits\n'.repeat(12));
    const before = await readFile(text);
    const out = join(d, 'tiny.imatrix.gguf');
    const r = await m1kit(['--json', 'imatrix', 'fixtures/tiny', '--text-file', text, '--ctx', '32', '--chunks', '3', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const res = jsonDoc(r.stdout).result;
    expect(res).toMatchObject({ out, chunks: 3, chunkSize: 32, tokens: 96, batches: 1, entries: 36, datasets: [text] });
    const file = await readFile(out);
    expect(file.subarray(0, 4).toString('latin1')).toBe('GGUF');
    expect(res.bytes).toBe(file.length);
    expect(file.includes(Buffer.from(text))).toBe(true);
    expect(await readFile(text)).toEqual(before);
  });

  it('a corpus is required, and --prompt is refused', async () => {
    let r = await m1kit(['imatrix', 'fixtures/tiny']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/give the corpus/);
    r = await m1kit(['imatrix', 'fixtures/tiny', '--help']);
    expect(r.stdout).toMatch(/m1kit imatrix fixtures\/tiny --text-file calib\.txt/);
    expect(r.stdout).not.toMatch(/--prompt/);
  });
});
