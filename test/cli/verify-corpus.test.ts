/**
 * `m1kit verify` corpus mode through the built CLI: identical checkpoints, a quantized checkpoint, the
 * --kl-divergence-base file, and the one-line errors for corpora that cannot be scored.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { jsonDoc, m1kit } from '../helpers/cli.js';
import { fileTmpDir } from '../helpers/tmp.js';
import { loadTokenizer } from '../../src/core/text/tokenizer.js';

const TINY = 'fixtures/tiny';
const V = 512;

/** A deterministic token stream of n ids below V. */
function stream(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % V;
  });
}

/** Plain English words, so the fixture's BPE has merges to apply. */
function prose(n: number, seed: number): string {
  const words = 'the model reads every layer once and the quantized weights keep the same logits while long context costs little'.split(' ');
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return words[(s >>> 8) % words.length];
  }).join(' ') + '\n';
}

// one directory for the whole file: the quantized checkpoint is made once
const dir = fileTmpDir('m1kit-corpus-');
const ids = join(dir, 'corpus-ids.json');
const q8 = join(dir, 'q8');
beforeAll(async () => {
  await writeFile(ids, JSON.stringify(stream(200, 11)));
  const r = await m1kit(['-q', 'quantize', TINY, q8, '--scheme', 'int8-channel']);
  expect(r.code).toBe(0);
}, 120_000);

describe('m1kit verify corpus mode', () => {
  it('identical checkpoints: PPL ratio 1, KLD 0, same top-1 100 %', async () => {
    const r = await m1kit(['--json', 'verify', TINY, '--against', TINY, '--tokens', ids, '--ctx', '32']);
    expect(r.code).toBe(0);
    const res = jsonDoc(r.stdout).result;
    expect(res).toMatchObject({ mode: 'corpus', ctx: 32, chunks: 6, corpusTokens: 200, scoredPerChunk: 15, scored: 90, batches: 1, bos: null, pass: true });
    expect(res.pplRatio.value).toBe(1);
    expect(res.kld.max).toBe(0);
    expect(res.kld.mean).toBe(0);
    expect(res.sameTop1.value).toBe(1);
    expect(res.ppl.value).toBe(res.pplReference.value);
  });

  it('a quantized checkpoint: KLD above 0, every llama-perplexity statistic reported, gates apply', async () => {
    const r = await m1kit(['--json', 'verify', q8, '--against', TINY, '--tokens', ids, '--ctx', '32', '--chunks', '4', '--bos', '1']);
    expect(r.code).toBe(0);
    const res = jsonDoc(r.stdout).result;
    expect(res).toMatchObject({ chunks: 4, scored: 60, bos: 1 });
    expect(res.kld.mean).toBeGreaterThan(0);
    expect(Object.keys(res.kld)).toEqual(['mean', 'meanError', 'max', 'p999', 'p99', 'p95', 'p90', 'median', 'p10', 'p05', 'p01', 'p001', 'min']);
    expect(res.kld.min).toBeLessThanOrEqual(res.kld.median);
    expect(res.kld.median).toBeLessThanOrEqual(res.kld.max);
    const gated = await m1kit(['-q', 'verify', q8, '--against', TINY, '--tokens', ids, '--ctx', '32', '--max-kld', '0']);
    expect(gated.code).toBe(4);
    expect(gated.stderr).toMatch(/^m1kit verify: error E_VERIFY_FAILED: .*mean KLD/);
  });

  it('the human report lists the statistics in llama-perplexity\'s order', async () => {
    const r = await m1kit(['verify', q8, '--against', TINY, '--tokens', ids, '--ctx', '32']);
    expect(r.code).toBe(0);
    const order = ['Mean PPL(Q)', 'Mean PPL(base)', 'Mean PPL(Q)/PPL(base)', 'Mean KLD', 'Maximum KLD', '99.9% KLD', 'Median KLD', '0.1% KLD', 'Minimum KLD', 'RMS Δp', 'Same top p'];
    const at = order.map((s) => r.stdout.indexOf(s));
    expect(at.every((x) => x >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  it('writes the --kl-divergence-base file from the reference, sized as the format says', async () => {
    const out = join(dir, 'base.kld');
    const r = await m1kit(['--json', 'verify', TINY, '--tokens', ids, '--ctx', '32', '--kl-divergence-base', out]);
    expect(r.code).toBe(0);
    const res = jsonDoc(r.stdout).result;
    const buf = await readFile(out);
    // 8-byte magic, 3 int32, 6 × 32 int32 tokens, 6 × 15 rows of (512 + 4) uint16
    expect(buf.length).toBe(8 + 12 + 4 * 6 * 32 + 6 * 15 * (V + 4) * 2);
    expect(res.klDivergenceBase).toEqual({ path: out, bytes: buf.length });
    expect(res.reference).toBeNull();
    expect(res.ppl.value).toBeGreaterThan(1);
    expect((await readdir(dir)).filter((f) => f.endsWith('.incomplete'))).toEqual([]);
  });

  it('bad corpora get one error line and leave no output; the input is untouched', async () => {
    const short = join(dir, 'short.json');
    await writeFile(short, JSON.stringify(stream(20, 3)));
    const before = await readFile(short);
    let r = await m1kit(['verify', TINY, '--tokens', short, '--ctx', '32', '--kl-divergence-base', join(dir, 'never.kld')]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')[0]).toMatch(/E_CORPUS: --tokens .*short\.json: 20 tokens is less than one chunk of --ctx 32/);
    expect(await readFile(short)).toEqual(before);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify(stream(40, 3).map((t, i) => (i === 36 ? 99999 : t))));
    r = await m1kit(['verify', TINY, '--tokens', bad, '--ctx', '8', '--kl-divergence-base', join(dir, 'never.kld')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/E_TOKEN: --tokens: token 36 is 99999, outside the vocabulary \[0, 512\)/);
    const left = await readdir(dir);
    expect(left.filter((f) => f.startsWith('never'))).toEqual([]);
    r = await m1kit(['verify', TINY, '--tokens', ids, '--ctx', '8', '--kl-divergence-base', ids]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/E_OUTPUT_IS_INPUT/);
    r = await m1kit(['verify', TINY, '--ctx', '8']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/give the corpus: --text-file <corpus\.txt>, --text <text> or --tokens <ids\.json>/);
  });

  it('--text-file gives the same figures as --tokens with the same token ids (int8 checkpoint vs the reference)', async () => {
    const text = join(dir, 'corpus.txt');
    await writeFile(text, prose(120, 7));
    const tok = await loadTokenizer(TINY);
    const textIds = join(dir, 'corpus-text-ids.json');
    const encoded = tok.encode(await readFile(text, 'utf8'));
    expect(encoded.length).toBeGreaterThan(4 * 32);
    await writeFile(textIds, JSON.stringify(encoded));
    const a = await m1kit(['--json', 'verify', q8, '--against', TINY, '--text-file', text, '--ctx', '32']);
    const b = await m1kit(['--json', 'verify', q8, '--against', TINY, '--tokens', textIds, '--ctx', '32']);
    expect([a.code, b.code]).toEqual([0, 0]);
    const ra = jsonDoc(a.stdout).result;
    const rb = jsonDoc(b.stdout).result;
    expect(ra.corpusTokens).toBe(encoded.length);
    expect(ra.kld.mean).toBeGreaterThan(0);
    expect(ra).toEqual(rb);
    // the reference against itself through the text path: ratio 1, KLD 0
    const same = jsonDoc((await m1kit(['--json', 'verify', TINY, '--against', TINY, '--text-file', text, '--ctx', '32'])).stdout).result;
    expect([same.pplRatio.value, same.kld.max, same.sameTop1.value]).toEqual([1, 0, 1]);
  });

  it('invalid UTF-8 and empty text files are one-line errors', async () => {
    const bad = join(dir, 'latin1.txt');
    await writeFile(bad, Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
    let r = await m1kit(['verify', TINY, '--text-file', bad]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')[0]).toMatch(/latin1\.txt: --text-file is not valid UTF-8 at byte 3/);
    const empty = join(dir, 'empty.txt');
    await writeFile(empty, '');
    r = await m1kit(['verify', TINY, '--text-file', empty]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/empty\.txt: --text-file is empty/);
    const short = join(dir, 'short.txt');
    await writeFile(short, 'the model\n');
    r = await m1kit(['verify', TINY, '--text-file', short, '--ctx', '64']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/short\.txt: \d+ tokens is less than one chunk of --ctx 64/);
  });

  it('--help shows corpus examples', async () => {
    const r = await m1kit(['verify', '--help']);
    expect(r.stdout).toMatch(/--kl-divergence-base <file>/);
    expect(r.stdout).toMatch(/m1kit verify .* --ctx 64 --kl-divergence-base tiny\.kld/);
  });
});
