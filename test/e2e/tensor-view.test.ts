/**
 * One tensor view for every command: forward, verify and inspect run directly on what convert and
 * quantize write (m1kit rank layouts, stacked experts, quantized checkpoints), through the built CLI.
 * A layout holds the source's bytes split over ranks, so with the TypeScript kernels (bit-reproducible)
 * its logits are the source's bit for bit; a quantized checkpoint decodes to fp32 values that
 * `dequantize --dtype fp32` writes out, so both give the same logits.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonDoc, m1kit } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { SafetensorsReader } from '../../src/core/safetensors/reader.js';

const TINY = 'fixtures/tiny';
const TOKENS = '1,2,3,4,5,6,7,300,17';

async function run(args: string[]): Promise<string> {
  const r = await m1kit([...args, '-q']);
  expect(r.code, `m1kit ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** The logits tensor's bytes of a forward output. */
async function logitsBytes(path: string): Promise<Buffer> {
  const r = await SafetensorsReader.open(path);
  try {
    return await r.read('logits');
  } finally {
    await r.close();
  }
}

async function forwardTs(dir: string, out: string): Promise<Buffer> {
  await run(['forward', dir, '--tokens', TOKENS, '--kernels', 'ts', '--out', out]);
  return logitsBytes(out);
}

describe('forward, verify and inspect on rank layouts', () => {
  it('forward on --tp 2, --ep 2, stacked and tp 2 × ep 2 fused-w13 outputs gives the source logits bit for bit (--kernels ts)', async () => {
    const root = await tmpDir();
    const ref = await forwardTs(TINY, join(root, 'ref.safetensors'));
    const layouts: [string, string[]][] = [
      ['tp2', ['--tp', '2']],
      ['ep2', ['--ep', '2']],
      ['stacked', ['--experts', 'stacked']],
      ['tp2ep2', ['--tp', '2', '--ep', '2', '--experts', 'fused-w13']],
    ];
    for (const [name, args] of layouts) {
      const dir = join(root, name);
      await run(['convert', TINY, dir, ...args]);
      const got = await forwardTs(dir, join(root, `${name}.safetensors`));
      expect(got.length, name).toBe(ref.length);
      expect(got.equals(ref), `${name}: logits differ from the source's`).toBe(true);
    }
  }, 240_000);

  it('verify --against the source finds a --tp 2 layout identical (KLD 0, same top-1 everywhere)', async () => {
    const root = await tmpDir();
    const dir = join(root, 'tp2');
    await run(['convert', TINY, dir, '--tp', '2']);
    const doc = jsonDoc(await run(['verify', dir, '--against', TINY, '--sequences', '2', '--kernels', 'ts', '--json']));
    expect(doc.result.kld.max).toBe(0);
    expect(doc.result.sameTop1).toBe(1);
    expect(doc.result.maxAbsLogitDiff).toBe(0);
  }, 120_000);

  it('inspect on a layout root checks every rank against its rank-local shapes and sums them up', async () => {
    const root = await tmpDir();
    const dir = join(root, 'tp2');
    await run(['convert', TINY, dir, '--tp', '2']);
    const doc = jsonDoc(await run(['inspect', dir, '--json'])).result;
    const ranks = ['rank-00000-of-00002', 'rank-00001-of-00002'];
    expect(doc.layout).toEqual({ tp: 2, ep: 1, world: 2, experts: 'per-expert', ranks });
    expect(doc.rank).toBeNull();
    expect(doc.complete).toBe(true);
    expect(doc.problems).toEqual([]);
    // the sums are the ranks' own reports added up
    const per = await Promise.all(ranks.map(async (r) => jsonDoc(await run(['inspect', join(dir, r), '--json'])).result));
    expect(doc.tensors).toBe(per[0].tensors + per[1].tensors);
    expect(doc.dataBytes).toBe(per[0].dataBytes + per[1].dataBytes);
    expect(doc.params.actual).toBe(per[0].params.actual + per[1].params.actual);
    expect(doc.shards.files.map((f: { name: string }) => f.name)).toEqual(ranks.map((r) => `${r}/model-00000-of-00001.safetensors`));
    expect(per.map((p) => p.rank.rank)).toEqual([0, 1]);

    // a stacked-expert layout is checked against its stacked tensors, not reported as 75 missing ones
    const stk = join(root, 'stk');
    await run(['convert', TINY, stk, '--experts', 'stacked']);
    const s = jsonDoc(await run(['inspect', stk, '--json'])).result;
    expect(s.layout).toMatchObject({ experts: 'stacked', world: 1, ranks: [] });
    expect(s.problems).toEqual([]);
  }, 120_000);

  it('a rank with a missing shard: inspect names the rank and file, forward refuses with one line', async () => {
    const root = await tmpDir();
    const dir = join(root, 'tp2');
    await run(['convert', TINY, dir, '--tp', '2']);
    await rm(join(dir, 'rank-00001-of-00002', 'model-00000-of-00001.safetensors'));
    const r = await m1kit(['inspect', dir, '--json']);
    expect(r.code).toBe(0);
    const doc = jsonDoc(r.stdout).result;
    expect(doc.complete).toBe(false);
    expect(doc.shards.missing).toEqual(['rank-00001-of-00002/model-00000-of-00001.safetensors']);
    expect(doc.problems[0].message).toMatch(/^rank-00001-of-00002: shard file "model-00000-of-00001.safetensors" listed in the index is missing/);
    const strict = await m1kit(['inspect', dir, '--strict', '-q']);
    expect(strict.code).toBe(3);
    const f = await m1kit(['forward', dir, '--tokens', TOKENS, '--out', join(root, 'x.safetensors'), '-q']);
    expect(f.code).toBe(3);
    expect(f.stderr.trim().split('\n')[0]).toMatch(/rank-00001-of-00002.*model-00000-of-00001\.safetensors/);
    await expect(readFile(join(root, 'x.safetensors'))).rejects.toThrow();
  }, 120_000);
});

describe('forward on a quantized checkpoint', () => {
  it('equals forward on its dequantized (fp32) copy, for every scheme (--kernels ts)', async () => {
    const root = await tmpDir();
    const schemes: [string, string[]][] = [
      ['fp8-block', []],
      ['int8-channel', []],
      ['w4a16', ['--group-size', '32']],
    ];
    const ref = await forwardTs(TINY, join(root, 'ref.safetensors'));
    for (const [scheme, extra] of schemes) {
      const q = join(root, `q-${scheme}`);
      const dq = join(root, `dq-${scheme}`);
      await run(['quantize', TINY, q, '--scheme', scheme, ...extra]);
      await run(['dequantize', q, dq, '--dtype', 'fp32']);
      const a = await forwardTs(q, join(root, `q-${scheme}.safetensors`));
      const b = await forwardTs(dq, join(root, `dq-${scheme}.safetensors`));
      expect(a.equals(b), `${scheme}: quantized and dequantized logits differ`).toBe(true);
      expect(a.equals(ref), `${scheme}: quantization changed nothing, the test would not see a decoder bug`).toBe(false);
    }
  }, 240_000);
});
