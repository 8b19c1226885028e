/**
 * The input is never modified: every command that writes refuses an output that is an input, lies inside
 * an input directory or contains one — reached directly, through a symlink, a `..` after a symlink, a hard
 * link, or a bind mount — with a one-line error (exit 3) before anything is written. Input hashes are
 * compared before and after every attempt.
 */
import { existsSync, linkSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCheckpoint } from '../../src/core/fixture/generate.js';
import { runConversion } from '../../src/core/convert/run.js';
import { collectInputs, guardOutput, realPathOf } from '../../src/core/fs/output-guard.js';
import { hashTree, rmrf, tmp } from '../helpers/naive-safetensors.js';
import { m1kit } from '../helpers/cli.js';

let root: string;
let input: string;
let single: string;
let quantized: string;
let before: Map<string, string>;
let beforeSingle: Map<string, string>;
let beforeQuantized: Map<string, string>;

beforeAll(async () => {
  root = tmp('guard');
  input = join(root, 'in');
  single = join(root, 'single');
  quantized = join(root, 'q');
  await generateCheckpoint({ out: input, preset: 'tiny', seed: 1, shards: 2 });
  await generateCheckpoint({ out: single, preset: 'tiny', seed: 2, shards: 1 });
  await runConversion({ kind: 'quantize', input, output: quantized, quant: { scheme: 'int8-channel', targets: 'experts' } });
  writeFileSync(join(root, 'tokens.json'), '[1, 2, 3]\n');
  before = hashTree(input);
  beforeSingle = hashTree(single);
  beforeQuantized = hashTree(quantized);
}, 120_000);
afterAll(() => rmrf(root));

/** Expect a refusal naming the output and what it clashes with, and every input unchanged. */
async function refused(args: string[], what: RegExp): Promise<void> {
  const r = await m1kit(args);
  expect(r.code, r.stderr).toBe(3);
  const lines = r.stderr.trim().split('\n');
  expect(lines[0]).toMatch(what);
  expect(r.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
  expect(hashTree(input)).toEqual(before);
  expect(hashTree(single)).toEqual(beforeSingle);
  expect(hashTree(quantized)).toEqual(beforeQuantized);
}

describe('convert / quantize / dequantize', () => {
  it('--force with the output the input reached through a symlink', async () => {
    const link = join(root, 'link-to-in');
    symlinkSync(input, link);
    await refused(['convert', input, link, '--force', '--max-shard-size', '300KB'], /output directory .*link-to-in is the input directory/);
    await refused(['quantize', input, link, '--scheme', 'fp8-block', '--force'], /is the input directory/);
    const qlink = join(root, 'link-to-q');
    symlinkSync(quantized, qlink);
    await refused(['dequantize', quantized, qlink, '--force'], /is the input directory/);
  });

  it('an output inside the input, a `..` taken after a symlink into it, and an output containing the input', async () => {
    await refused(['convert', input, join(input, 'sub'), '--tp', '2'], /lies inside the input directory/);
    await refused(['quantize', input, join(input, 'rank-00000-of-00002'), '--scheme', 'int8-channel', '--force'], /lies inside the input directory/);
    // `deep` is a link to in/sub-dir: "deep/../x" is in/x for the kernel, ./x lexically
    mkdirSync(join(input, 'sub-dir'));
    symlinkSync(join(input, 'sub-dir'), join(root, 'deep'));
    before = hashTree(input);
    await refused(['convert', input, `${join(root, 'deep')}/../x`], /lies inside the input directory/);
    expect(existsSync(join(input, 'x'))).toBe(false);
    await refused(['convert', input, root, '--force'], /contains the input/);
    await refused(['dequantize', quantized, root, '--force'], /contains the input/);
  });

  it('a dangling symlink whose target would be created inside the input (the output itself, or a temporary in it)', async () => {
    symlinkSync(join(input, 'not-yet'), join(root, 'dangling'));
    await refused(['convert', input, join(root, 'dangling')], /output directory .*dangling lies inside the input directory/);
    await refused(['quantize', input, `${join(root, 'dangling')}/deeper`, '--scheme', 'fp8-block'], /lies inside the input directory/);
    expect(existsSync(join(input, 'not-yet'))).toBe(false);
    const out = join(root, 'out-with-dangling');
    mkdirSync(out);
    symlinkSync(join(input, 'new-file'), join(out, 'model-00000-of-00002.safetensors.incomplete'));
    await refused(['convert', input, out, '--force'], /safetensors\.incomplete lies inside the input directory/);
    symlinkSync('in/relative-target', join(root, 'dangling-relative.gguf'));
    await refused(['convert', input, join(root, 'dangling-relative.gguf')], /lies inside the input directory/);
    expect(existsSync(join(input, 'relative-target'))).toBe(false);
  });

  it('an existing output directory holding a link into the input', async () => {
    const out = join(root, 'out-with-link');
    mkdirSync(out);
    symlinkSync(input, join(out, 'rank-00000-of-00002'));
    await refused(['convert', input, out, '--tp', '2', '--force'], /rank-00000-of-00002 is the input directory/);
    // a temporary m1kit would open for writing, linked to an input shard: opening it would truncate the shard
    const out2 = join(root, 'out-with-temp-link');
    mkdirSync(out2);
    symlinkSync(join(input, 'model-00000-of-00002.safetensors'), join(out2, 'model-00000-of-00002.safetensors.incomplete'));
    await refused(['quantize', input, out2, '--scheme', 'fp8-block', '--force'], /safetensors\.incomplete is the input file/);
  });

  it('a bind mount of the input directory', async (ctx) => {
    const mnt = join(root, 'bind');
    mkdirSync(mnt);
    try {
      execFileSync('mount', ['--bind', input, mnt], { stdio: 'pipe' });
    } catch (e) {
      console.warn(`skipped: bind mounts are not permitted here (${(e as Error).message.split('\n')[0]})`);
      ctx.skip(`skipped: bind mounts are not permitted here (${(e as Error).message.split('\n')[0]})`);
    }
    try {
      await refused(['convert', input, join(mnt, 'out')], /lies inside \(another path to\) the input directory/);
      await refused(['convert', input, mnt, '--force'], /is \(another path to\) the input directory/);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });

  it('the library API refuses the same way (before opening the output)', async () => {
    await expect(runConversion({ kind: 'convert', input, output: join(input, 'o') })).rejects.toMatchObject({ code: 'E_OUTPUT_IS_INPUT', exitCode: 3 });
    await expect(runConversion({ kind: 'convert', input, output: input, dryRun: true })).rejects.toMatchObject({ code: 'E_OUTPUT_IS_INPUT' });
  });
});

describe('convert --to gguf', () => {
  it('an input shard, config.json, a hard link or symlink to a shard, and a temporary that links to the input', async () => {
    await refused(['convert', input, join(input, 'model-00000-of-00002.safetensors'), '--to', 'gguf'], /GGUF output .* is the input file/);
    await refused(['convert', input, join(input, 'config.json'), '--to', 'gguf'], /is the input file/);
    await refused(['convert', single, join(single, 'model.safetensors'), '--to', 'gguf'], /is the input file/);
    linkSync(join(single, 'model.safetensors'), join(root, 'hard.gguf'));
    await refused(['convert', single, join(root, 'hard.gguf')], /hard link to\) the input file/);
    symlinkSync(join(input, 'config.json'), join(root, 'soft.gguf'));
    await refused(['convert', input, join(root, 'soft.gguf')], /is the input file/);
    // the exporter writes <out>.incomplete first: a link there would truncate the input
    symlinkSync(join(single, 'model.safetensors'), join(root, 'tmp.gguf.incomplete'));
    await refused(['convert', single, join(root, 'tmp.gguf')], /tmp\.gguf\.incomplete is the input file/);
    await refused(['convert', input, root], /contains the input/);
  });
});

describe('forward, verify, bench, fixture', () => {
  it('forward --out: an input file, the --tokens file, a hard link to an input', async () => {
    await refused(['forward', input, '--tokens', '1,2', '--out', join(input, 'config.json')], /--out .* is the input file/);
    await refused(['forward', input, '--tokens', join(root, 'tokens.json'), '--out', join(root, 'tokens.json')], /is the input file/);
    linkSync(join(input, 'model-00001-of-00002.safetensors'), join(root, 'logits.safetensors'));
    await refused(['forward', input, '--tokens', '1,2', '--out', join(root, 'logits.safetensors')], /hard link to\) the input file/);
    await refused(['forward', input, '--tokens', '1,2', '--out', join(input, 'logits.safetensors')], /lies inside the input directory/);
  });

  it('verify --plot: inside the checkpoint, or the --tokens file itself', async () => {
    await refused(['verify', input, '--train-vs-infer', '--sequences', '1', '--gen-len', '2', '--prompt-len', '2', '--plot', join(input, 'fig.svg')], /--plot .* lies inside the input directory/);
    writeFileSync(join(root, 'prompt.svg'), '[5, 6]\n');
    await refused(['verify', input, '--train-vs-infer', '--tokens', join(root, 'prompt.svg'), '--sequences', '1', '--gen-len', '2', '--plot', join(root, 'prompt.svg')], /is the input file/);
  });

  it('bench flops --plot inside the --config checkpoint', async () => {
    await refused(['bench', 'flops', '--config', input, '--plot', join(input, 'fig.svg')], /--plot .* lies inside the input directory/);
    symlinkSync(join(input, 'config.json'), join(root, 'cfg-link.svg'));
    await refused(['bench', 'flops', '--config', join(input, 'config.json'), '--plot', join(root, 'cfg-link.svg')], /is the input file/);
  });

  it('fixture --force into the directory holding its --config', async () => {
    await refused(['fixture', input, '--config', join(input, 'config.json'), '--force'], /output directory .* contains the input/);
  });
});

describe('guardOutput', () => {
  it('resolves a path that does not exist yet as the kernel would', async () => {
    expect(await realPathOf(`${join(root, 'deep')}/../new/dir`)).toBe(join(input, 'new', 'dir'));
  });

  it('accepts outputs beside the input, and reports whether they exist', async () => {
    const inputs = await collectInputs([{ path: input, label: 'input' }]);
    const a = await guardOutput({ path: join(root, 'fresh', 'x'), kind: 'dir', label: 'out' }, inputs);
    expect(a.exists).toBe(false);
    const b = await guardOutput({ path: join(root, 'tokens.json'), kind: 'file', label: 'out' }, inputs);
    expect(b.exists).toBe(true);
    expect(readdirSync(input).includes('fresh')).toBe(false);
  });
});
