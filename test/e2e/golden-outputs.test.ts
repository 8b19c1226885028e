/**
 * Every output m1kit writes from the committed tiny fixture is byte-identical to the one recorded in
 * `golden-outputs.sha256`. The list was recorded once from the CLI and is the contract for any
 * restructuring of the code: re-shard, rank layouts, quantize (every scheme and target set),
 * dequantize, GGUF (every dtype) and forward logits (the TypeScript reference kernels, which are
 * bit-reproducible on every CPU). A change that means to alter an output re-records its lines and
 * says why in its commit.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { m1kit } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const TINY = 'fixtures/tiny';
/** The runs whose outputs are recorded; each entry is [output name, CLI arguments with OUT for the output path]. */
const RUNS: Array<[string, string[]]> = [
  ['tp2', ['convert', TINY, 'OUT', '--tp', '2']],
  ['ep2', ['convert', TINY, 'OUT', '--ep', '2']],
  ['stk', ['convert', TINY, 'OUT', '--experts', 'stacked']],
  ['fp16', ['convert', TINY, 'OUT', '--dtype', 'fp16']],
  ...(['fp8-block', 'int8-channel', 'w4a16'] as const).flatMap((s) =>
    (['all', 'experts', 'attention'] as const).map((t): [string, string[]] => [
      `q-${s}-${t}`,
      ['quantize', TINY, 'OUT', '--scheme', s, '--targets', t, ...(s === 'w4a16' ? ['--group-size', '32'] : [])],
    ]),
  ),
  ...(['f32', 'f16', 'bf16', 'q8_0', 'q4_0'] as const).map((d): [string, string[]] => [`m-${d}.gguf`, ['convert', TINY, 'OUT', '--dtype', d]]),
  ['logits.safetensors', ['forward', TINY, '--tokens', '1,2,3,4,5,6,7', '--out', 'OUT', '--kernels', 'ts']],
];
/** Runs that read an earlier run's output: [output name, input name, arguments after the input]. */
const DERIVED: Array<[string, string, string[]]> = [
  ['dq-fp8', 'q-fp8-block-all', ['dequantize']],
  ['logits-w4.safetensors', 'q-w4a16-all', ['forward', '--tokens', '1,2,3,4,5', '--kernels', 'ts']],
];

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const p = join(e.parentPath, e.name);
    if (!p.includes('.m1kit-lock')) out.push(relative(dir, p));
  }
  return out.sort();
}

async function recorded(): Promise<Map<string, string>> {
  const text = await readFile(new URL('./golden-outputs.sha256', import.meta.url), 'utf8');
  return new Map(text.trim().split('\n').map((l) => { const [h, p] = l.split(/\s+/); return [p!, h!]; }));
}

describe('outputs stay byte-identical to the recorded hashes', () => {
  it('convert, quantize, dequantize, gguf and forward on the tiny fixture', async () => {
    const root = await tmpDir();
    for (const [name, args] of RUNS) {
      const r = await m1kit([...args.map((a) => (a === 'OUT' ? join(root, name) : a)), '-q']);
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
    }
    for (const [name, input, args] of DERIVED) {
      const [cmd, ...rest] = args;
      const outArgs = cmd === 'forward' ? ['--out', join(root, name)] : [join(root, name)];
      const r = await m1kit([cmd!, join(root, input), ...outArgs, ...rest, '-q']);
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
    }
    const want = await recorded();
    const got = new Map<string, string>();
    for (const f of await listFiles(root)) got.set(f, createHash('sha256').update(await readFile(join(root, f))).digest('hex'));
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    const differ = [...want].filter(([p, h]) => got.get(p) !== h).map(([p]) => p);
    expect(differ).toEqual([]);
  }, 300_000);
});
