/** The built CLI (`npx tsc -p .` first): `convert --to gguf` and `verify --engine llama.cpp`, --json output and exit codes. */
import { cp, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { beforeEach, describe, expect, it } from 'vitest';
import { generateCheckpoint } from '../../src/core/fixture/generate.js';
import { jsonDoc, m1kit } from '../helpers/cli.js';
import { skipWithoutLlama } from '../helpers/llama.js';
import { tmpDir } from '../helpers/tmp.js';


describe('m1kit convert --to gguf', () => {
  it('writes a GGUF and prints the summary as one JSON document', async () => {
    const out = join(await tmpDir(), 'fold-q4.gguf');
    const r = await m1kit(['convert', 'fixtures/gguf/fold', out, '--to', 'gguf', '--dtype', 'q4_0', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = jsonDoc(r.stdout);
    expect(doc.command).toBe('convert');
    expect(doc.result).toMatchObject({ architecture: 'minimax-01', dtype: 'q4_0', residualFolded: true, softmaxLayers: [0, 3, 4] });
    const parsed = await gguf(out, { allowLocalFile: true });
    expect(parsed.metadata['general.architecture']).toBe('minimax-01');
    expect(parsed.tensorInfos.find((t) => t.name === 'blk.1.ffn_down_exps.weight')!.dtype).toBe(2); // Q4_0
  });
  it('writes the same bytes with the encode worker pool (--threads 2) as on one thread', async () => {
    const dir = await tmpDir();
    // embed_tokens and lm_head of 8192 × 96 bf16 (1.5 MiB) are large enough to go to the workers (≥ 1 MiB)
    const cfg = JSON.parse(await readFile('fixtures/gguf/fold/config.json', 'utf8'));
    await generateCheckpoint({ out: join(dir, 'ck'), config: { ...cfg, vocab_size: 8192, hidden_size: 96 }, seed: 5, std: 0.05 });
    for (const t of ['1', '2']) {
      const r = await m1kit(['convert', join(dir, 'ck'), join(dir, `t${t}.gguf`), '--to', 'gguf', '--dtype', 'q8_0', '--threads', t, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(jsonDoc(r.stdout).result.threads).toBe(Number(t));
    }
    expect((await readFile(join(dir, 't1.gguf'))).equals(await readFile(join(dir, 't2.gguf')))).toBe(true);
  });
  it('exits 3 on a configuration llama.cpp cannot run, leaving no output', async () => {
    const dir = await tmpDir();
    await cp('fixtures/tiny', join(dir, 'ck'), { recursive: true });
    const cfg = JSON.parse(await readFile(join(dir, 'ck', 'config.json'), 'utf8'));
    await writeFile(join(dir, 'ck', 'config.json'), JSON.stringify({ ...cfg, shared_intermediate_size: 32 }));
    const r = await m1kit(['convert', join(dir, 'ck'), join(dir, 'x.gguf'), '--to', 'gguf', '--json']);
    expect(r.code).toBe(3);
    expect(jsonDoc(r.stdout).error.code).toBe('E_GGUF_UNSUPPORTED');
    expect(await readdir(dir)).toEqual(['ck']);
  });
  it('exits 2 on an unknown GGUF dtype', async () => {
    const r = await m1kit(['convert', 'fixtures/tiny', join(await tmpDir(), 'x.gguf'), '--to', 'gguf', '--dtype', 'q5_k']);
    expect(r.code).toBe(2);
  });
});

describe('m1kit verify --engine llama.cpp', () => {
  beforeEach(skipWithoutLlama);
  it('reports the comparison metrics and passes for a q8_0 export', async () => {
    const dir = await tmpDir();
    const out = join(dir, 'fold-q8.gguf');
    expect((await m1kit(['convert', 'fixtures/gguf/fold', out, '--to', 'gguf', '--dtype', 'q8_0'])).code).toBe(0);
    const r = await m1kit(['verify', out, '--engine', 'llama.cpp', '--against', 'fixtures/gguf/fold', '--json', '--threads', '1']);
    expect(r.code, r.stderr).toBe(0);
    const res = jsonDoc(r.stdout).result;
    expect(res.engine).toBe('llama.cpp');
    expect(res.pass).toBe(true);
    expect(res.kld.max).toBeLessThan(1e-3);
    expect(res.sameTop1Percent).toBeGreaterThan(80);
  });
});
