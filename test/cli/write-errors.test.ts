/**
 * Write failures come back as their class, naming the file: a full disk is E_DISK_FULL (exit 3) from
 * in-kernel copies, buffered writes and the GGUF writer alike, and convert/quantize refuse up front when
 * the output cannot fit; a read-only output is E_READ_ONLY (exit 3), never an internal error. Real file
 * systems: a small tmpfs and a read-only tmpfs (mounting needs root; without it those tests say why they
 * skip), plus injected errors that always run.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { execa } from 'execa';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCheckpoint } from '../../src/core/fixture/generate.js';
import { runConversion } from '../../src/core/convert/run.js';
import { convertToGguf } from '../../src/core/gguf/convert.js';
import { ExitCode, M1kitError } from '../../src/core/errors.js';
import { checkFreeSpace, writeError } from '../../src/core/fs/write-errors.js';
import { hashTree, rmrf, tmp } from '../helpers/naive-safetensors.js';
import { BIN, m1kit } from '../helpers/cli.js';

let root: string;
let input: string;
let inputHashes: Map<string, string>;
let canMount = true;
let whyNot = '';
const mounts: string[] = [];

/** Mount a tmpfs of `size` at a new directory (read-only when `ro`), or undefined when not permitted. */
function tmpfs(name: string, size: string, ro = false): string | undefined {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}${ro ? ',ro' : ''}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    canMount = false;
    whyNot = (e as Error).message.split('\n')[0]!;
    return undefined;
  }
  mounts.push(dir);
  return dir;
}

beforeAll(async () => {
  root = tmp('write-errors');
  input = join(root, 'in');
  await generateCheckpoint({ out: input, preset: 'tiny', seed: 6, shards: 2 });
  inputHashes = hashTree(input);
}, 60_000);
afterAll(() => {
  for (const m of mounts) execFileSync('umount', [m]);
  rmrf(root);
});

const skipUnlessMounted = (ctx: { skip: (note?: string) => void }, dir: string | undefined): dir is string => {
  if (dir === undefined) {
    console.warn(`skipped: cannot mount a tmpfs here (${whyNot}); the injected-error tests still ran`);
    ctx.skip(`skipped: cannot mount a tmpfs here (${whyNot}); the injected-error tests still ran`);
  }
  return dir !== undefined;
};

const noSpace = async () => 1e15; // skip the up-front check: the writes themselves hit the full disk

describe('a full disk', () => {
  it('convert and quantize refuse up front when the output cannot fit (CLI, exit 3, nothing written)', async (ctx) => {
    const small = tmpfs('small', '512k');
    if (!skipUnlessMounted(ctx, small)) return;
    for (const args of [['convert', input, join(small, 'c')], ['quantize', input, join(small, 'q'), '--scheme', 'fp8-block'], ['convert', input, join(small, 'm.gguf')]]) {
      const r = await m1kit(['--json', ...args]);
      expect(r.code, r.stderr).toBe(3);
      const err = JSON.parse(r.stdout).error;
      expect(err.code).toBe('E_DISK_FULL');
      expect(err.message).toMatch(/not enough free space: the output needs .* available/);
      expect(r.stderr).not.toMatch(/internal error/);
    }
    const left = execFileSync('find', [small, '-type', 'f'], { encoding: 'utf8' }).split('\n').filter((f) => /\.(safetensors|gguf|incomplete)$/.test(f));
    expect(left).toEqual([]);
  });

  it('ENOSPC in the middle of in-kernel copies (convert), buffered writes (quantize) and the GGUF writer is E_DISK_FULL naming the file', async (ctx) => {
    const small = tmpfs('full', '600k');
    if (!skipUnlessMounted(ctx, small)) return;
    const cases: [string, () => Promise<unknown>][] = [
      ['convert', () => runConversion({ kind: 'convert', input, output: join(small, 'c'), freeBytes: noSpace })],
      ['quantize', () => runConversion({ kind: 'quantize', input, output: join(small, 'q'), quant: { scheme: 'int8-channel', targets: 'all' }, freeBytes: noSpace })],
      ['gguf', () => convertToGguf({ input, output: join(small, 'm.gguf'), dtype: 'f32', threads: 1, freeBytes: noSpace })],
    ];
    for (const [what, run] of cases) {
      const e = await run().then(() => undefined, (x: unknown) => x);
      expect(e, what).toBeInstanceOf(M1kitError);
      const err = e as M1kitError;
      expect(err.code, `${what}: ${err.message}`).toBe('E_DISK_FULL');
      expect(err.exitCode).toBe(ExitCode.badInput);
      expect(err.message).toMatch(new RegExp(`^${small}/.*: no space left on device`));
      execFileSync('sh', ['-c', `rm -rf ${small}/* ${small}/.m1kit*`]);
    }
    expect(hashTree(input)).toEqual(inputHashes);
  });
});

describe('a read-only output', () => {
  it('is a one-line E_READ_ONLY (exit 3) for every command that writes, found before the work', async (ctx) => {
    const ro = tmpfs('ro', '1m', true);
    if (!skipUnlessMounted(ctx, ro)) return;
    const runs = [
      ['convert', input, join(ro, 'c')],
      ['quantize', input, join(ro, 'q'), '--scheme', 'w4a16', '--group-size', '32'],
      ['convert', input, join(ro, 'm.gguf')],
      ['forward', input, '--tokens', '1,2', '--out', join(ro, 'l.safetensors')],
      ['fixture', join(ro, 'f')],
      ['bench', 'flops', '--plot', join(ro, 'f.svg')],
      ['verify', input, '--train-vs-infer', '--sequences', '1', '--prompt-len', '2', '--gen-len', '2', '--plot', join(ro, 'p.svg')],
    ];
    for (const args of runs) {
      const r = await m1kit(['--json', ...args]);
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(3);
      expect(JSON.parse(r.stdout).error.code).toBe('E_READ_ONLY');
      expect(r.stderr.trim().split('\n')[0]).toMatch(/read-only file system/);
      expect(r.stderr).not.toMatch(/internal error|please report/);
    }
    expect(existsSync(join(ro, 'c'))).toBe(false);
  });
});

describe('a directory this user may not write (EACCES)', () => {
  it('is a one-line E_PERMISSION (exit 3) before the work, run as an unprivileged user', async (ctx) => {
    const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
    if (process.getuid?.() !== 0 || !setpriv) {
      console.warn(`skipped: needs root and setpriv to run as another user (uid ${process.getuid?.()}, setpriv ${setpriv ?? 'missing'})`);
      ctx.skip(`skipped: needs root and setpriv to run as another user (uid ${process.getuid?.()}, setpriv ${setpriv ?? 'missing'})`);
      return;
    }
    const dir = join(root, 'locked');
    mkdirSync(dir);
    chmodSync(root, 0o755);
    chmodSync(dir, 0o555);
    execFileSync('chmod', ['-R', 'a+rX', input]);
    const as = (args: string[]) => execa(setpriv, ['--reuid=65534', '--regid=65534', '--clear-groups', 'node', BIN, '--json', ...args], { reject: false, env: { NO_COLOR: '1', HOME: '/tmp' } });
    // a checkout inside a private folder (mktemp -d is mode 700) cannot be run by another user at all
    const reach = await execa(setpriv, ['--reuid=65534', '--regid=65534', '--clear-groups', 'node', '-e', `require('fs').accessSync(${JSON.stringify(BIN)})`], { reject: false });
    if (reach.exitCode !== 0) {
      const why = `skipped: the unprivileged user cannot reach ${BIN} (a parent folder is private)`;
      console.warn(why);
      ctx.skip(why);
      return;
    }
    for (const args of [['convert', input, join(dir, 'c')], ['quantize', input, join(dir, 'q'), '--scheme', 'int8-channel'], ['forward', input, '--tokens', '1,2', '--out', join(dir, 'l.safetensors')], ['fixture', join(dir, 'f')]]) {
      const r = await as(args);
      expect(r.exitCode, `${args[0]}: ${String(r.stderr)}`).toBe(3);
      expect(JSON.parse(String(r.stdout)).error.code).toBe('E_PERMISSION');
      expect(String(r.stderr)).toMatch(/is not writable \(EACCES\)/);
      expect(String(r.stderr)).not.toMatch(/internal error|please report/);
    }
  });
});

describe('injected errors (always run)', () => {
  it('errno and native strerror forms of each class map to one typed error naming the file', () => {
    const cases: [unknown, string][] = [
      [Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }), 'E_DISK_FULL'],
      [Object.assign(new Error('EDQUOT: disk quota exceeded'), { code: 'EDQUOT' }), 'E_DISK_FULL'],
      [new M1kitError('E_IO', ExitCode.internal, 'copyRange: write at offset 4096: No space left on device'), 'E_DISK_FULL'],
      [new M1kitError('E_IO', ExitCode.internal, 'copyRange: copy_file_range at offset 0: Disk quota exceeded'), 'E_DISK_FULL'],
      [Object.assign(new Error('EROFS: read-only file system, open'), { code: 'EROFS' }), 'E_READ_ONLY'],
      [new M1kitError('E_IO', ExitCode.internal, 'copyRange: write at offset 0: Read-only file system'), 'E_READ_ONLY'],
      [Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }), 'E_PERMISSION'],
      [Object.assign(new Error('EPERM: operation not permitted'), { code: 'EPERM' }), 'E_PERMISSION'],
    ];
    for (const [e, code] of cases) {
      const t = writeError(e, '/out/model-00001-of-00002.safetensors.incomplete') as M1kitError;
      expect(t).toBeInstanceOf(M1kitError);
      expect(t.code).toBe(code);
      expect(t.exitCode).toBe(3);
      expect(t.message).toMatch(/^\/out\/model-00001-of-00002\.safetensors\.incomplete: /);
      expect(t.message).not.toContain('\n');
    }
    const other = Object.assign(new Error('EIO'), { code: 'EIO' });
    expect(writeError(other, '/x')).toBe(other);
  });

  it('the up-front check counts the bytes still to write against the free bytes', async () => {
    await expect(checkFreeSpace('/out', 2e9, async () => 1e9)).rejects.toMatchObject({ code: 'E_DISK_FULL', exitCode: 3 });
    await expect(checkFreeSpace('/out', 1e9, async () => 2e9)).resolves.toBeUndefined();
    const out = join(root, 'upfront');
    await expect(runConversion({ kind: 'convert', input, output: out, freeBytes: async () => 1000 })).rejects.toMatchObject({ code: 'E_DISK_FULL' });
    expect(readdirSync(out).filter((n) => n.endsWith('.safetensors') || n.endsWith('.incomplete'))).toEqual([]);
  });
});
