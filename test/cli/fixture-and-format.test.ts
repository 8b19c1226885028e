/**
 * `fixture` never overwrites a checkpoint by surprise and never mixes two; `convert` takes the output
 * format from a .gguf extension and refuses a contradiction; output paths are validated before the work,
 * and a plot that cannot be written still leaves the results printed.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateCheckpoint } from '../../src/core/fixture/generate.js';
import { outputFormat } from '../../src/commands/convert.js';
import { hashTree, rmrf } from '../helpers/naive-safetensors.js';
import { m1kit } from '../helpers/cli.js';
import { checkpointRoot } from '../helpers/checkpoints.js';

const { root, input } = checkpointRoot('fixture-format', { preset: 'tiny', seed: 8, shards: 1 }, 60_000);

describe('fixture into a non-empty directory', () => {
  it('is refused without --force, and the checkpoint there is untouched', async () => {
    const dir = join(root, 'real');
    await generateCheckpoint({ out: dir, preset: 'tiny', seed: 1, shards: 3 });
    const before = hashTree(dir);
    const r = await m1kit(['--json', 'fixture', dir]);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'E_OUTPUT_EXISTS' });
    expect(JSON.parse(r.stdout).error.message).toMatch(/directory is not empty .*--force/);
    expect(hashTree(dir)).toEqual(before);
    // any entry counts, not only checkpoint files
    const other = join(root, 'notes');
    mkdirSync(other);
    writeFileSync(join(other, 'README.md'), 'mine\n');
    expect((await m1kit(['fixture', other])).code).toBe(3);
  });

  it('with --force replaces the old checkpoint: no old shard or index is left beside the new files', async () => {
    const dir = join(root, 'replaced');
    await generateCheckpoint({ out: dir, preset: 'tiny', seed: 1, shards: 3 });
    writeFileSync(join(dir, 'notes.txt'), 'kept\n');
    const r = await m1kit(['fixture', dir, '--force', '--seed', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'model.safetensors', 'notes.txt', 'tokenizer.json', 'tokenizer_config.json']);
    const fresh = join(root, 'fresh');
    await generateCheckpoint({ out: fresh, preset: 'tiny', seed: 2, shards: 1 });
    const a = hashTree(dir);
    a.delete('notes.txt');
    expect(a).toEqual(hashTree(fresh));
    // inspect reads it as one consistent checkpoint
    expect((await m1kit(['inspect', dir])).code).toBe(0);
  });

  it('an empty or missing directory needs no --force', async () => {
    mkdirSync(join(root, 'empty'));
    expect((await m1kit(['fixture', join(root, 'empty')])).code).toBe(0);
    expect((await m1kit(['fixture', join(root, 'missing', 'deeper')])).code).toBe(0);
  });
});

describe('convert output format', () => {
  it('out.gguf without --to writes a GGUF file, not a directory', async () => {
    const out = join(root, 'out.gguf');
    const r = await m1kit(['convert', input, out, '--dtype', 'f16']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(readdirSync(root)).toContain('out.gguf');
    const { statSync, readFileSync } = await import('node:fs');
    expect(statSync(out).isFile()).toBe(true);
    expect(readFileSync(out).subarray(0, 4).toString('latin1')).toBe('GGUF');
  });

  it('--to safetensors with a .gguf output is refused before anything is written (exit 2)', async () => {
    const out = join(root, 'contradiction.GGUF');
    const r = await m1kit(['convert', input, out, '--to', 'safetensors']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--to safetensors writes a directory, but .*contradiction\.GGUF ends in \.gguf/);
    expect(existsSync(out)).toBe(false);
    // rank options with an output that is GGUF by its extension say why they do not apply
    const tp = await m1kit(['convert', input, join(root, 'ranks.gguf'), '--tp', '2']);
    expect(tp.code).toBe(2);
    expect(tp.stderr).toMatch(/--tp applies to safetensors output only, not GGUF \(.*ranks\.gguf ends in \.gguf\)/);
  });

  it('outputFormat()', () => {
    expect(outputFormat(undefined, 'a/b.gguf')).toBe('gguf');
    expect(outputFormat(undefined, 'a/b')).toBe('safetensors');
    expect(outputFormat(undefined, 'a/gguf')).toBe('safetensors');
    expect(outputFormat('gguf', 'a/b.bin')).toBe('gguf');
    expect(() => outputFormat('onnx', 'a')).toThrow(/--to must be safetensors or gguf/);
  });
});

describe('output paths are validated before the work', () => {
  it('verify --plot in a missing directory fails at once, before any computation', async () => {
    const t0 = Date.now();
    const r = await m1kit(['verify', input, '--train-vs-infer', '--sequences', '50', '--gen-len', '400', '--plot', join(root, 'no-such-dir', 'fig.svg')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/--plot .*fig\.svg: directory .*no-such-dir does not exist/);
    expect(r.stdout).toBe('');
    expect(Date.now() - t0).toBeLessThan(15_000); // the computation asked for takes minutes
  });

  it('forward --out in a missing directory, or naming a directory, fails before the pass', async () => {
    expect((await m1kit(['forward', input, '--tokens', '1,2', '--out', join(root, 'nope', 'l.safetensors')])).stderr).toMatch(/directory .*nope does not exist/);
    mkdirSync(join(root, 'adir'));
    const r = await m1kit(['forward', input, '--tokens', '1,2', '--out', join(root, 'adir')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/is a directory; expected a file path/);
  });

  it('a plot that fails only while being written still prints the results first', async (ctx) => {
    // the directory exists at validation time and is replaced by a file while the pass runs
    const dir = join(root, 'vanishing');
    mkdirSync(dir);
    const { execa } = await import('execa');
    const { BIN } = await import('../helpers/cli.js');
    const child = execa('node', [BIN, 'verify', input, '--train-vs-infer', '--sequences', '2', '--prompt-len', '4', '--gen-len', '300', '--plot', join(dir, 'fig.svg')], { reject: false, env: { NO_COLOR: '1' } });
    // Replace the directory once the child has used CPU_PAST_VALIDATION_S of CPU time: start-up and the
    // output-path checks take well under that, the pass itself several times more, on a loaded machine too
    // (a wall-clock sleep raced with start-up there).
    const CPU_PAST_VALIDATION_S = 2.5;
    const USER_HZ = 100; // clock ticks of /proc/<pid>/stat on Linux
    const cpuSeconds = () => {
      try {
        const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return (Number(f[11]) + Number(f[12])) / USER_HZ;
      } catch {
        return Infinity; // exited
      }
    };
    while (cpuSeconds() < CPU_PAST_VALIDATION_S) await new Promise((r) => setTimeout(r, 50));
    rmrf(dir);
    writeFileSync(dir, 'now a file\n');
    const r = await child;
    if (r.exitCode === 0) {
      console.warn('skipped: the pass ended before the directory could be replaced');
      ctx.skip('skipped: the pass ended before the directory could be replaced');
    }
    expect(r.exitCode).toBe(3);
    expect(String(r.stdout)).toMatch(/train vs inference/); // the table came first
    expect(String(r.stderr)).toMatch(/fig\.svg/);
  });
});
