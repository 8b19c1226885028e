/**
 * SIGTERM and SIGINT end any command within a second or two: exit 130 when it stops at an abort check
 * (busy computing), or by the signal itself after the grace period when it is blocked in an operation
 * that cannot observe the AbortSignal (reading --tokens from a FIFO nobody writes to). Never SIGKILL.
 */
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SIGNAL_GRACE_MS } from '../../src/cli/run.js';
import { BIN, REPO } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'm1kit-signals-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const TINY = join(REPO, 'fixtures', 'tiny');
/** Allowed from the signal to the exit: the grace period plus process teardown on a loaded 2-core machine. */
const MAX_EXIT_MS = SIGNAL_GRACE_MS + 2500;

/** Start the CLI, wait until it has been running for `afterMs`, send `signal`, and time the exit. */
async function interrupt(args: string[], signal: NodeJS.Signals, afterMs: number) {
  const child = execa('node', [BIN, ...args], { reject: false, env: { NO_COLOR: '1' }, timeout: 60_000 });
  await new Promise((r) => setTimeout(r, afterMs));
  const t0 = Date.now();
  child.kill(signal);
  const r = await child;
  return { code: r.exitCode, killedBy: r.signal, ms: Date.now() - t0, stderr: String(r.stderr) };
}

describe('signals end every command promptly', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} while blocked opening --tokens on a FIFO: ends by the signal within the grace period`, async () => {
      const fifo = join(tmp, `tokens-${signal}`);
      execFileSync('mkfifo', [fifo]);
      const out = join(tmp, `out-${signal}.safetensors`);
      const r = await interrupt(['forward', TINY, '--tokens', fifo, '--out', out], signal, 2000);
      // the pending open() cannot be aborted: after the grace period the signal's default action ends it
      expect(r.code === 130 || r.killedBy === signal, `exit ${r.code}, signal ${r.killedBy}: ${r.stderr}`).toBe(true);
      expect(r.ms).toBeLessThan(MAX_EXIT_MS);
      expect(r.stderr).toMatch(/interrupted/);
      expect(existsSync(out)).toBe(false);
    });
  }

  it('SIGTERM while busy computing: exit 130 within the grace period', async () => {
    const r = await interrupt(['verify', TINY, '--train-vs-infer', '--prompt-len', '64', '--gen-len', '100000', '--sequences', '50'], 'SIGTERM', 3000);
    expect(r.killedBy, r.stderr).toBeUndefined();
    expect(r.code, r.stderr).toBe(130);
    expect(r.ms).toBeLessThan(MAX_EXIT_MS);
  });
});
