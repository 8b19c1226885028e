/**
 * The built CLI (`npx tsc -p .` first): --json documents, exit codes, and resumption after a real child
 * process is killed mid-run.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCheckpoint } from '../../src/core/fixture/generate.js';
import { generateMedium } from '../helpers/checkpoints.js';
import { hashTree, rmrf, tmp } from '../helpers/naive-safetensors.js';

const BIN = join(process.cwd(), 'bin', 'm1kit.js');
const m1kit = (args: string[]) => execa('node', [BIN, ...args], { reject: false });

let root: string;
let input: string;
let medium: string;
beforeAll(async () => {
  if (!existsSync(join(process.cwd(), 'dist', 'commands', 'convert.js'))) throw new Error('dist/ is missing: run `npx tsc -p .` before the CLI tests');
  root = tmp('convert-cli');
  input = join(root, 'tiny');
  await generateCheckpoint({ out: input, preset: 'tiny', seed: 3, shards: 2 });
  medium = join(root, 'medium');
  await generateMedium(medium);
}, 120_000);
afterAll(() => rmrf(root));

describe('m1kit convert / quantize / dequantize CLI', () => {
  it('--json prints one result document', async () => {
    const r = await m1kit(['--json', 'convert', input, join(root, 'tp2'), '--tp', '2']);
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ schemaVersion: 1, command: 'convert', result: { finalized: true, layout: { tp: 2, world: 2 } } });
    const q = await m1kit(['--json', 'quantize', input, join(root, 'q'), '--scheme', 'int8-channel', '--dry-run']);
    expect(q.exitCode).toBe(0);
    expect(JSON.parse(q.stdout).result.groups.map((g: { group: string }) => g.group)).toEqual(['experts', 'attention', 'embeddings', 'norms+router']);
    const list = await m1kit(['--json', 'quantize', '--list']);
    expect(JSON.parse(list.stdout).result.schemes.map((s: { scheme: string }) => s.scheme)).toEqual(['fp8-block', 'int8-channel', 'w4a16', 'nvfp4', 'mxfp4', 'mxfp8']);
  });

  it('output bytes do not depend on the thread count', async () => {
    const a = join(root, 'threads-1');
    const b = join(root, 'threads-2');
    expect((await m1kit(['--threads', '1', 'quantize', input, a, '--scheme', 'fp8-block'])).exitCode).toBe(0);
    expect((await m1kit(['--threads', '2', 'quantize', input, b, '--scheme', 'fp8-block'])).exitCode).toBe(0);
    expect(hashTree(a)).toEqual(hashTree(b));
  });

  it('--to gguf dispatches to the GGUF exporter; rank options are refused for it', async () => {
    const g = await m1kit(['--json', 'convert', input, join(root, 'tiny.gguf'), '--to', 'gguf', '--dtype', 'q8_0']);
    expect(g.exitCode, g.stderr).toBe(0);
    expect(existsSync(join(root, 'tiny.gguf'))).toBe(true);
    expect((await m1kit(['convert', input, join(root, 'x.gguf'), '--to', 'gguf', '--tp', '2'])).exitCode).toBe(2);
    expect((await m1kit(['convert', input, join(root, 'x.gguf'), '--to', 'gguf', '--dtype', 'fp8'])).exitCode).toBe(2);
  });

  it('exit codes: 2 for usage, 3 for bad input, with an error document', async () => {
    expect((await m1kit(['convert', input, join(root, 'x'), '--experts', 'sideways'])).exitCode).toBe(2);
    expect((await m1kit(['convert', input, join(root, 'x'), '--tp', '0'])).exitCode).toBe(2);
    expect((await m1kit(['convert', input, join(root, 'x'), '--dtype', 'q4_0'])).exitCode).toBe(2);
    expect((await m1kit(['quantize', input, join(root, 'x'), '--scheme', 'nf4'])).exitCode).toBe(2);
    const bad = await m1kit(['--json', 'dequantize', input, join(root, 'x')]);
    expect(bad.exitCode).toBe(3);
    expect(JSON.parse(bad.stdout).error.code).toBe('E_NOT_QUANTIZED');
    const different = await m1kit(['--json', 'convert', input, join(root, 'tp2'), '--ep', '2']);
    expect(different.exitCode).toBe(3);
    expect(JSON.parse(different.stdout).error.code).toBe('E_OUTPUT_EXISTS');
    expect(existsSync(join(root, 'x'))).toBe(false);
  });

  it('SIGKILL mid-run, then the same command: finishes, redoes only unfinished files, byte-identical to an uninterrupted run', async () => {
    const args = (out: string) => ['--json', 'quantize', medium, out, '--scheme', 'fp8-block', '--max-shard-size', '2MB'];
    const ref = join(root, 'ref');
    expect((await m1kit(args(ref))).exitCode).toBe(0);
    const out = join(root, 'killed');
    const child = execa('node', [BIN, ...args(out)], { reject: false });
    const doneDir = join(out, '.m1kit-state', 'done');
    const t0 = Date.now();
    while (Date.now() - t0 < 60_000 && child.exitCode === null) {
      if (existsSync(doneDir) && readdirSync(doneDir).filter((f) => f.endsWith('.json')).length >= 2) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGKILL');
    const killed = await child;
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(join(out, 'm1kit-manifest.json'))).toBe(false);
    const resumed = await m1kit(args(out));
    expect(resumed.exitCode).toBe(0);
    const res = JSON.parse(resumed.stdout).result;
    expect(res.skipped).toBeGreaterThanOrEqual(2);
    expect(res.written.length).toBeLessThan(res.files);
    expect(hashTree(out)).toEqual(hashTree(ref));
  });

  it('SIGINT stops with exit 130 and leaves no *.incomplete; rerun completes', async () => {
    const out = join(root, 'interrupted');
    const args = ['quantize', medium, out, '--scheme', 'int8-channel', '--max-shard-size', '2MB'];
    const child = execa('node', [BIN, ...args], { reject: false });
    const t0 = Date.now();
    while (Date.now() - t0 < 60_000 && child.exitCode === null && !(existsSync(out) && readdirSync(out).some((f) => f.endsWith('.incomplete')))) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(130);
    expect(readdirSync(out).filter((f) => f.endsWith('.incomplete'))).toEqual([]);
    expect((await m1kit(args)).exitCode).toBe(0);
    expect(existsSync(join(out, 'm1kit-manifest.json'))).toBe(true);
  });

  /**
   * The quantized fixture run by m1kit's runtime against the original (random-weight tiny model, so the
   * logits are close to uniform and a wrong scale layout would blow the KLD up by orders of magnitude).
   * Budgets: fp8-block mean KLD ≤ 1e-4 and top-1 ≥ 90 % (measured ≈ 1e-6 and 98 %);
   * w4a16/g32 KLD ≤ 1e-3 and top-1 ≥ 85 % (measured ≈ 1e-5 and 95 %).
   */
  it.each([
    ['fp8-block', [], '0.0001', '90'],
    ['w4a16', ['--group-size', '32'], '0.001', '85'],
  ])('verify --against the original passes its budget for %s', async (scheme, extra, kld, top1) => {
    const out = join(root, `v-${scheme}`);
    expect((await m1kit(['quantize', input, out, '--scheme', scheme, ...extra])).exitCode).toBe(0);
    const v = await m1kit(['--json', 'verify', out, '--against', input, '--sequences', '2', '--seq-len', '32', '--max-kld', kld, '--min-top1', top1]);
    expect(v.exitCode, v.stdout).toBe(0);
    expect(JSON.parse(v.stdout).result.kld.mean).toBeGreaterThan(0);
  });
});
