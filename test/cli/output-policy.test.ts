/**
 * The output policy of every command, through the built CLI: -q prints nothing but errors (and the
 * --json document when asked for); every error path under --json — commander's own parse errors, option
 * parsers, flag combinations, no command at all — prints exactly one JSON document on stdout; human
 * errors name their code; `m1kit` alone prints the help.
 */
import { cp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { commands } from '../../src/commands/index.js';
import { jsonDoc, m1kit } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { REPO_ID, repoFiles, start, type HubServer } from '../helpers/hub/repo.js';

const TINY = 'fixtures/tiny';
let server: HubServer | undefined;
afterEach(() => server?.close());

/** stdout holds exactly one JSON document (JSON.parse of the whole text), and it is an error with `code`. */
function oneErrorDoc(stdout: string, code: string) {
  const doc = jsonDoc(stdout);
  expect(doc).toMatchObject({ schemaVersion: 1, error: { code } });
  expect(typeof doc.error.message).toBe('string');
  return doc;
}

describe('-q prints nothing but errors', () => {
  it('every command that succeeds prints nothing at all, on stdout or stderr', async () => {
    const d = await tmpDir();
    server = await start();
    server.addCommit(REPO_ID, repoFiles());
    const hubEnv = { HF_HOME: d, HF_HUB_CACHE: join(d, 'hub'), HF_ENDPOINT: server.url, HF_TOKEN: '', HUGGING_FACE_HUB_TOKEN: '', HF_HUB_OFFLINE: '' };
    const runs: [string[], Record<string, string>?][] = [
      [['download', REPO_ID], hubEnv],
      [['inspect', TINY]],
      [['fixture', join(d, 'fx'), '--preset', 'tiny']],
      [['convert', TINY, join(d, 'c')]],
      [['quantize', TINY, join(d, 'q'), '--scheme', 'int8-channel']],
      [['dequantize', join(d, 'q'), join(d, 'dq')]],
      [['forward', TINY, '--tokens', '1,2,3', '--out', join(d, 'logits.safetensors')]],
      [['generate', TINY, '--prompt', 'Hello', '--max-tokens', '4']],
      [['verify', join(d, 'q'), '--against', TINY, '--sequences', '1', '--seq-len', '8']],
      [['generate', TINY, '--prompt', 'hi', '--max-tokens', '4', '--seed', '1']],
      [['imatrix', TINY, '--tokens', Array.from({ length: 16 }, (_, i) => i + 1).join(','), '--ctx', '16', '--out', join(d, 'im.gguf')]],
      [['bench', 'flops']],
      [['doctor', '--no-self-test']],
    ];
    // every registered command is covered by a run above
    expect(new Set(runs.map(([a]) => a[0]))).toEqual(new Set(commands.map((c) => c.name)));
    for (const [args, env] of runs) {
      const r = await m1kit(['-q', ...args], env ? { env } : {});
      expect({ args, code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ args, code: 0, stdout: '', stderr: '' });
    }
  });

  it('with --json, -q prints the document and nothing else', async () => {
    const d = await tmpDir();
    const r = await m1kit(['-q', '--json', 'convert', TINY, join(d, 'c')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(jsonDoc(r.stdout)).toMatchObject({ command: 'convert', result: { files: 3 } });
  });

  it('a failure under -q is its one error line (with the code), and the exit code', async () => {
    const r = await m1kit(['-q', 'inspect', 'no/such/dir']);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^m1kit inspect: error E_NOT_FOUND: no\/such\/dir/);
  });

  it('a failed verify gate under -q says why in one error line (exit 4)', async () => {
    const d = await tmpDir();
    expect((await m1kit(['-q', 'quantize', TINY, join(d, 'q'), '--scheme', 'w4a16', '--group-size', '32'])).code).toBe(0);
    const r = await m1kit(['-q', 'verify', join(d, 'q'), '--against', TINY, '--sequences', '1', '--seq-len', '8', '--max-kld', '0']);
    // an int4 checkpoint never has exactly the reference's logits: a mean KLD above 0 fails the gate
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^m1kit verify: error E_VERIFY_FAILED: .*mean KLD/);
  });
});

describe('--json: every error path prints exactly one JSON document', () => {
  it('usage errors of every kind, exit 2', async () => {
    const cases: string[][] = [
      ['inspect', 'x', '--json', '--tp', 'abc'], // an option parser
      ['inspect', '--json'], // commander: missing argument
      ['--json', 'no-such-command'], // commander: unknown command
      ['--json'], // no command at all
      ['--threads', '0', '--json', 'doctor'], // a global option parser
      ['bench', 'compare', '--json'], // a nested subcommand
      ['verify', TINY, '--json'], // a flag combination checked in the action
      ['verify', TINY, '--against', TINY, '--min-top1', '101', '--json'], // a percentage out of range
      ['quantize', TINY, 'out', '--scheme', 'nope', '--json'],
      ['inspect', TINY, '--ctx', 'lots', '--json'],
      // commander's own parse errors in every command
      ...commands.map((c) => [c.name, '--json', '--no-such-flag']),
    ];
    for (const args of cases) {
      const r = await m1kit(args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      oneErrorDoc(r.stdout, 'E_USAGE');
      expect(r.stderr, args.join(' ')).toMatch(/error E_USAGE: /);
    }
  });

  it('input errors too (exit 3), and the document names the command', async () => {
    const r = await m1kit(['inspect', 'no/such/dir', '--json']);
    expect(r.code).toBe(3);
    expect(oneErrorDoc(r.stdout, 'E_NOT_FOUND').command).toBe('inspect');
  });
});

describe('human errors show their code', () => {
  it('the Troubleshooting codes appear in the one-line error', async () => {
    const cases = JSON.parse(await readFile('fixtures/malformed/cases.json', 'utf8')) as Record<string, { code: string; exitCode: number }>;
    for (const name of ['header-not-json', 'shard-path-traversal', 'index-missing-shard']) {
      const r = await m1kit(['inspect', join('fixtures/malformed', name), '--strict']);
      expect(r.code, name).toBe(cases[name]!.exitCode);
      expect(r.stderr, name).toContain(`error ${cases[name]!.code}: `);
    }
    const usage = await m1kit(['inspect', TINY, '--tp', 'x']);
    expect(usage.stderr).toMatch(/^m1kit inspect: error E_USAGE: --tp expects an integer/);
  });
});

describe('m1kit with no command', () => {
  it('prints the help with the exit codes and exits 0', async () => {
    const r = await m1kit([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: m1kit/);
    expect(r.stdout).toContain('Exit codes: 0 ok');
    expect(r.stderr).toBe('');
  });
});

describe('small consistencies', () => {
  it('inspect --ctx takes the same counts as bench (1m = 2^20, 128k)', async () => {
    const kv = async (ctx: string) => jsonDoc((await m1kit(['inspect', TINY, '--ctx', ctx, '--json'])).stdout).result.memoryPlan;
    expect((await kv('1m')).ctx).toBe(1_048_576);
    expect((await kv('128k')).ctx).toBe(131_072);
    expect((await kv('1000000')).ctx).toBe(1_000_000);
    expect((await kv('1m')).kvCacheBytesTotal).toBe((await kv('1048576')).kvCacheBytesTotal);
  });

  it('verify --min-top1 takes a percentage as bench --max-regression does (99% or 99)', async () => {
    for (const pct of ['99%', '99']) {
      const r = await m1kit(['verify', TINY, '--against', TINY, '--sequences', '1', '--seq-len', '8', '--min-top1', pct, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(jsonDoc(r.stdout).result.thresholds.minTop1).toBeCloseTo(0.99, 12);
    }
  });

  it('verify --prompt-len/--gen-len take counts too (2k accepted; the next bad value is the error)', async () => {
    const r = await m1kit(['verify', TINY, '--train-vs-infer', '--prompt-len', '2k', '--gen-len', 'x', '--json']);
    expect(r.code).toBe(2);
    expect(jsonDoc(r.stdout).error.message).toMatch(/^--gen-len must be an integer or use a k\/m suffix/);
  });

  it('doctor --no-self-test says it skipped the self-test, with no empty table', async () => {
    const r = await m1kit(['doctor', '--no-self-test']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('self-test       skipped (--no-self-test)');
    expect(r.stdout).not.toMatch(/kernel\s+result\s+detail/);
  });

  it('inspect --strict prints the report on stdout and only the error on stderr (exit 3)', async () => {
    const d = await tmpDir();
    await cp(TINY, join(d, 'ck'), { recursive: true });
    await rm(join(d, 'ck', 'model-00001-of-00003.safetensors'));
    const r = await m1kit(['inspect', join(d, 'ck'), '--strict']);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('Memory plan:');
    expect(r.stdout).toMatch(/complete\s+no/);
    expect(r.stderr).toMatch(/^m1kit inspect: error E_INCOMPLETE: /);
    expect(r.stderr).not.toContain('Memory plan');
    const j = await m1kit(['inspect', join(d, 'ck'), '--strict', '--json']);
    expect(j.code).toBe(3);
    oneErrorDoc(j.stdout, 'E_INCOMPLETE');
  });
});
