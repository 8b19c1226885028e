/**
 * What commands print, through the built CLI (`npx tsc -p .` first): on a real pseudo-terminal (util-linux
 * `script`) and off one; convert's plan → bar → closing line → summary; rerun and Ctrl-C summaries;
 * the inspect error with no bar left above it.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCheckpoint } from '../../src/core/fixture/generate.js';
import { generateMedium } from '../helpers/checkpoints.js';
import { BIN, m1kit } from '../helpers/cli.js';
import { screen } from '../helpers/screen.js';

/** Run the CLI on a pseudo-terminal; returns everything the terminal received. */
async function onTty(args: string[]): Promise<{ code: number; text: string }> {
  const cmd = ['node', BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = await execa('script', ['-qec', cmd, '/dev/null'], { reject: false, env: { NO_COLOR: '1' }, timeout: 120_000 });
  return { code: r.exitCode ?? -1, text: String(r.stdout) };
}

let root: string;
let tiny: string;
let medium: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'm1kit-output-'));
  tiny = join(root, 'tiny');
  await generateCheckpoint({ out: tiny, preset: 'tiny', seed: 3, shards: 2 });
  medium = join(root, 'medium');
  await generateMedium(medium);
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('convert on a terminal', () => {
  it('plan first, then one closing line in place of the bar, then the summary; no bar left on screen', async () => {
    const out = join(root, 'tty-out');
    const r = await onTty(['convert', medium, out, '--max-shard-size', '8MB']);
    expect(r.code, r.text).toBe(0);
    const lines = screen(r.text);
    const plan = lines.findIndex((l) => l.startsWith('convert: ') && l.includes('→'));
    const closing = lines.findIndex((l) => /^convert: wrote \d+ files, .* in .* \(.* MB\/s\)$/.test(l));
    const summary = lines.findIndex((l) => /^convert .*: written \d+, already done 0 of \d+ files; complete/.test(l));
    expect(plan, lines.join('\n')).toBeGreaterThanOrEqual(0);
    expect(closing).toBeGreaterThan(plan);
    expect(summary).toBeGreaterThan(closing);
    expect(lines.some((l) => /\[[#-]{20}\]/.test(l)), lines.join('\n')).toBe(false);
    expect(r.text).not.toMatch(/ETA (LL|NF|NaN|Inf)/);
  });

  it('inspect of a missing directory: the error alone, no "headers 0%" bar above it', async () => {
    const r = await onTty(['inspect', join(root, 'nope')]);
    expect(r.code).toBe(3);
    const lines = screen(r.text);
    expect(lines.some((l) => /headers/.test(l)), lines.join('\n')).toBe(false);
    expect(lines[0]).toMatch(/^m1kit inspect: /);
  });
});

describe('convert off a terminal', () => {
  it('no escape codes on stderr; the plan and closing line on stderr, the summary on stdout', async () => {
    const out = join(root, 'pipe-out');
    const r = await m1kit(['convert', tiny, out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/\x1b/);
    expect(r.stdout).not.toMatch(/\x1b/);
    expect(r.stderr).toMatch(/^convert: .* → /m);
    expect(r.stderr).toMatch(/^group +tensors +input +output$/m);
    expect(r.stderr).toMatch(/^convert: wrote 2 files, .* in /m);
    expect(r.stdout.trim()).toMatch(/^convert .*: written 2, already done 0 of 2 files; complete/);
  });

  it('rerunning a finished convert says every file was already done', async () => {
    const out = join(root, 'rerun-out');
    expect((await m1kit(['convert', tiny, out])).code).toBe(0);
    const again = await m1kit(['convert', tiny, out]);
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toMatch(/written 0, already done 2 of 2 files; complete/);
    const json = JSON.parse((await m1kit(['--json', 'convert', tiny, out])).stdout);
    expect(json.result.skipped).toBe(2);
  });

  it('-q prints the summary only', async () => {
    const r = await m1kit(['-q', 'convert', tiny, join(root, 'quiet-out')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('Ctrl-C says what was kept and that rerunning resumes; the rerun does the rest', async () => {
    const out = join(root, 'int-out');
    const args = ['quantize', medium, out, '--scheme', 'int8-channel', '--max-shard-size', '2MB'];
    const child = execa('node', [BIN, ...args], { reject: false, env: { NO_COLOR: '1' } });
    const doneDir = join(out, '.m1kit-state', 'done');
    const t0 = Date.now();
    while (Date.now() - t0 < 60_000 && child.exitCode === null && !(existsSync(doneDir) && readdirSync(doneDir).length >= 1)) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(130);
    const kept = /interrupted: (\d+) of (\d+) output files finished and kept in /.exec(String(r.stderr));
    expect(kept, String(r.stderr)).not.toBeNull();
    expect(Number(kept![1])).toBeGreaterThanOrEqual(1);
    expect(String(r.stderr)).toMatch(/hint: run the same command again to resume/);
    const again = await m1kit(args);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`already done ${kept![1]} of ${kept![2]} files`));
  });
});
