/**
 * The hostile-input corpus (fixtures/gen/hostile.mjs + fixtures/malformed) through every command that
 * reads a checkpoint: inspect, convert, convert --to gguf, quantize, dequantize, forward, and verify
 * --against with the case on either side. For each case × command: the documented exit code and error
 * code, one error line naming the file, no stack trace, ≤ 10 s, bounded RSS, the input unchanged, no
 * output that looks complete. All runs happen in one child process (corpus-runner.mjs, through the
 * built CLI's main()), so the corpus costs about a minute, not hundreds of Node start-ups.
 */
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { m1kit, REPO } from '../helpers/cli.js';
// @ts-expect-error plain-JS generator without type declarations
import { writeHostileCorpus } from '../../fixtures/gen/hostile.mjs';

const TINY = join(REPO, 'fixtures', 'tiny');
/** The issue's bound per command on a broken input (typical runs take 5–300 ms). */
const MAX_RUN_MS = 10_000;
/**
 * Peak RSS allowed for the runner process while it works through the whole corpus: Node with every
 * command's modules loaded is ≈ 150 MiB; the largest legal header (caps in src/core/limits.ts) adds
 * well under 100 MiB. Before the caps a header of 10^6 zero-size tensors alone took 1.2–1.7 GB.
 */
const MAX_RSS_BYTES = 512 * 1024 ** 2;
/** Commands of the corpus; "{in}" is the case directory, "{out}" a fresh path per run. */
const COMMANDS = [
  { id: 'inspect', argv: ['--json', 'inspect', '{in}', '--strict'] },
  { id: 'convert', argv: ['--json', 'convert', '{in}', '{out}'] },
  { id: 'gguf', argv: ['--json', 'convert', '{in}', '{out}.gguf', '--to', 'gguf', '--dtype', 'f32'], output: '{out}.gguf' },
  { id: 'quantize', argv: ['--json', 'quantize', '{in}', '{out}', '--scheme', 'fp8-block'] },
  { id: 'dequantize', argv: ['--json', 'dequantize', '{in}', '{out}'] },
  { id: 'forward', argv: ['--json', 'forward', '{in}', '--tokens', '1,2,3', '--out', '{out}.safetensors'], output: '{out}.safetensors' },
  { id: 'verify-test', argv: ['--json', 'verify', '{in}', '--against', TINY, '--tokens', '1,2,3'] },
  { id: 'verify-ref', argv: ['--json', 'verify', TINY, '--against', '{in}', '--tokens', '1,2,3'] },
];
/** Codes of checkpoint problems, which `inspect --strict` reports as E_INCOMPLETE (it lists them all). */
const PROBLEM_CODES = new Set(['E_CHECKPOINT_INCOMPLETE', 'E_NOT_M1', 'E_QUANT_LAYOUT', 'E_SHARD_MISSING']);
/** Output entries that would make a failed run look complete. */
const COMPLETE_LOOKING = /(^|\/)(config\.json|model\.safetensors\.index\.json|m1kit-manifest\.json|m1kit-layout\.json)$|\.(safetensors|gguf)$|^\.$/;

interface Case {
  name: string;
  dir: string;
  code: string;
  codeFor?: Record<string, string>;
  okFor?: string[];
}
interface Row {
  case: string;
  command: string;
  exitCode?: number;
  stdout: string;
  stderr: string;
  ms: number;
  rssPeak: number;
  inputChanged: boolean;
  outputs: string[];
  error?: string;
  timedOut?: boolean;
}

let root: string;
let cases: Case[] = [];
let rows: Row[] = [];
let maxRssKiB = 0;
const byKey = new Map<string, Row>();

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'm1kit-hostile-'));
  const fp8 = join(root, 'fp8');
  const q = await m1kit(['quantize', TINY, fp8, '--scheme', 'fp8-block', '-q']);
  expect(q.code, q.stderr).toBe(0);
  cases = writeHostileCorpus(join(root, 'corpus'), { fp8 }) as Case[];
  const plan = join(root, 'plan.json');
  const results = join(root, 'results.jsonl');
  writeFileSync(plan, JSON.stringify({ cases: cases.map(({ name, dir }) => ({ name, dir })), commands: COMMANDS, outRoot: join(root, 'out'), limitMs: MAX_RUN_MS }));
  const r = await execa('node', ['--expose-gc', join(REPO, 'test/e2e/hostile-corpus-runner.mjs'), plan, results], { reject: false, env: { NO_COLOR: '1' }, timeout: 400_000 });
  const lines = readFileSync(results, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Row & { done?: boolean; maxRssKiB?: number });
  const done = lines.find((l) => l.done);
  maxRssKiB = done?.maxRssKiB ?? 0;
  rows = lines.filter((l) => !l.done);
  for (const row of rows) byKey.set(`${row.case}|${row.command}`, row);
  if (!done) throw new Error(`corpus runner stopped early (exit ${r.exitCode}) after ${rows.length} runs; last: ${JSON.stringify(rows.at(-1)).slice(0, 600)}\n${r.stderr}`);
}, 600_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Expected exit and error code of `command` on case `c`. */
function expected(c: Case, command: string): { exit: number; code?: string } {
  if (c.okFor?.includes(command)) return { exit: 0 };
  const code = c.codeFor?.[command] ?? c.code;
  return { exit: 3, code: command === 'inspect' && PROBLEM_CODES.has(code) ? 'E_INCOMPLETE' : code };
}

const errorCode = (stdout: string): string | undefined => {
  try {
    return (JSON.parse(stdout) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
};

/** Collect one message per violation, so a failure lists every case × command at fault. */
function violations(check: (c: Case, cmd: string, r: Row) => string | undefined): string[] {
  const out: string[] = [];
  for (const c of cases) {
    for (const { id } of COMMANDS) {
      const r = byKey.get(`${c.name}|${id}`);
      const v = r ? check(c, id, r) : 'did not run';
      if (v) out.push(`${c.name} × ${id}: ${v}`);
    }
  }
  return out;
}

describe('hostile-input corpus × every checkpoint-reading command', () => {
  it('covers the listed classes with many cases, every case run by every command', () => {
    expect(cases.length).toBeGreaterThanOrEqual(80);
    for (const name of ['config-deep-nesting', 'index-deep-nesting', 'header-deep-nesting', 'config-fifo', 'index-fifo', 'shard-fifo', 'config-dev-zero', 'shard-dev-zero',
      'config-experts-1e7', 'config-experts-2p31', 'config-attn-list-4e6', 'config-head-dim-huge', 'header-many-entries', 'header-50k-zero-size', 'header-bom', 'config-not-utf8', 'headers-over-budget',
      'index-empty-weight-map', 'header-long-name', 'lm-head-wrong-rank', 'header-short-by-one', 'fp8-scale-transposed', 'arch-llama', 'tied-with-lm-head']) {
      expect(cases.map((c) => c.name)).toContain(name);
    }
    expect(rows.length).toBe(cases.length * COMMANDS.length);
  });

  it('exits with the documented code and reports the expected error code', () => {
    expect(violations((c, cmd, r) => {
      const e = expected(c, cmd);
      if (r.timedOut) return `still running after ${MAX_RUN_MS} ms`;
      if (r.exitCode !== e.exit) return `exit ${r.exitCode}, expected ${e.exit}: ${r.stderr.trim().slice(0, 200)}`;
      const code = errorCode(r.stdout);
      if (e.code && code !== e.code) return `error code ${code}, expected ${e.code}: ${r.stderr.trim().slice(0, 200)}`;
      return undefined;
    })).toEqual([]);
  });

  it('prints one error line naming the file, never a stack trace or an internal error', () => {
    expect(violations((c, cmd, r) => {
      if (r.error) return `threw out of main(): ${r.error.slice(0, 300)}`;
      if (/\n\s+at .+:\d+:\d+\)?/.test(r.stderr) || /internal error|E_INTERNAL/.test(r.stderr + r.stdout)) return `stack trace or internal error: ${r.stderr.slice(0, 300)}`;
      if (expected(c, cmd).exit === 0) return undefined;
      const lines = r.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('  hint:'));
      if (lines.length !== 1) return `${lines.length} stderr lines: ${JSON.stringify(lines.slice(0, 3))}`;
      const name = cmd.startsWith('verify') ? 'verify' : cmd === 'gguf' ? 'convert' : cmd;
      if (!lines[0]!.startsWith(`m1kit ${name}: `)) return `unexpected line ${lines[0]}`;
      if (!lines[0]!.includes(c.dir)) return `does not name the input: ${lines[0]}`;
      return undefined;
    })).toEqual([]);
  });

  it(`finishes each run within ${MAX_RUN_MS / 1000} s with bounded memory`, () => {
    expect(violations((_c, _cmd, r) => (r.ms > MAX_RUN_MS ? `${Math.round(r.ms)} ms` : r.rssPeak > MAX_RSS_BYTES ? `RSS ${r.rssPeak} bytes` : undefined))).toEqual([]);
    expect(maxRssKiB * 1024).toBeLessThan(MAX_RSS_BYTES);
    const peak = rows.reduce((a, r) => (r.rssPeak > a.rssPeak ? r : a), rows[0]!);
    process.stderr.write(`hostile corpus: ${rows.length} runs, peak RSS ${(maxRssKiB / 1024).toFixed(0)} MiB (runner maxRSS); largest polled ${(peak.rssPeak / 1024 ** 2).toFixed(0)} MiB at ${peak.case} × ${peak.command}; slowest ${[...rows].sort((a, b) => b.ms - a.ms).slice(0, 3).map((r) => `${r.case} × ${r.command} ${Math.round(r.ms)} ms`).join(', ')}; total ${Math.round(rows.reduce((a, r) => a + r.ms, 0) / 1000)} s\n`);
  });

  it('leaves every input file as it was (hashes before and after)', () => {
    expect(violations((_c, _cmd, r) => (r.inputChanged ? 'input changed' : undefined))).toEqual([]);
  });

  it('leaves no output that looks complete after a refusal, and a complete one after success', () => {
    expect(violations((c, cmd, r) => {
      if (expected(c, cmd).exit === 0) return cmd.startsWith('verify') || cmd === 'inspect' || r.outputs.length > 0 ? undefined : 'succeeded without output';
      const bad = r.outputs.filter((o) => COMPLETE_LOOKING.test(o));
      return bad.length > 0 ? `left ${bad.join(', ')}` : undefined;
    })).toEqual([]);
  });
});
