/**
 * One writer per output: a run writing an output directory (or GGUF file) holds a lock for the whole
 * run. Another run fails at once naming the holder (pid, host, command, since when), or waits with
 * --wait; a plan mismatch is caught before any file is written; a holder that died is taken over; parts of
 * one plan (--part i/N) still run side by side.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { runConversion } from '../../src/core/convert/run.js';
import { compatible, LOCK_DIR, lockOutput } from '../../src/core/fs/output-lock.js';
import { ggufLockDir } from '../../src/core/gguf/convert.js';
import { hashTree } from '../helpers/naive-safetensors.js';
import { BIN, m1kit } from '../helpers/cli.js';
import { checkpointRoot } from '../helpers/checkpoints.js';

const { root, input } = checkpointRoot('lock', { preset: 'tiny', seed: 4, shards: 2 }, 60_000);

/** Names in `dir` besides the lock directory. */
const written = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((n) => n !== LOCK_DIR) : []);

describe('an output held by another run', () => {
  it('a second run fails at once naming the holder, and writes nothing', async () => {
    const out = join(root, 'busy');
    const lock = await lockOutput(join(out, LOCK_DIR), { plan: 'another plan', command: 'm1kit quantize in busy --scheme w4a16' });
    try {
      for (const args of [
        ['quantize', input, out, '--scheme', 'fp8-block'],
        ['convert', input, out, '--tp', '2'],
        ['quantize', input, out, '--scheme', 'int8-channel', '--part', '1/2'],
        ['convert', input, out, '--finalize'],
      ]) {
        const t0 = Date.now();
        const r = await m1kit(['--json', ...args]);
        expect(r.code, r.stderr).toBe(3);
        const err = JSON.parse(r.stdout).error;
        expect(err.code).toBe('E_BUSY');
        expect(err.message).toContain(`pid ${process.pid} on ${hostname()}`);
        expect(err.message).toContain('"m1kit quantize in busy --scheme w4a16"');
        expect(err.message).toMatch(/since \d{4}-\d\d-\d\dT/);
        expect(err.message).toContain('a different plan');
        expect(Date.now() - t0).toBeLessThan(20_000); // at once, not after the work
        expect(written(out)).toEqual([]);
      }
    } finally {
      await lock.release();
    }
    expect(existsSync(out)).toBe(true);
    expect(readdirSync(out)).toEqual([]); // the lock directory goes with its last holder
  });

  it('--wait waits for the holder, says so, then runs', async () => {
    const out = join(root, 'wait');
    const lock = await lockOutput(join(out, LOCK_DIR), { plan: 'x' });
    const child = execa('node', [BIN, 'quantize', input, out, '--scheme', 'int8-channel', '--wait'], { reject: false, env: { NO_COLOR: '1' } });
    await new Promise((r) => setTimeout(r, 2500));
    expect(written(out)).toEqual([]); // still waiting
    await lock.release();
    const r = await child;
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stderr)).toMatch(/waiting for another m1kit run writing this output \(pid \d+/);
    expect(existsSync(join(out, 'm1kit-manifest.json'))).toBe(true);
    expect(existsSync(join(out, LOCK_DIR))).toBe(false);
  });

  it('a holder that died, or whose pid now belongs to another process, is taken over', async () => {
    const out = join(root, 'stale');
    mkdirSync(join(out, LOCK_DIR), { recursive: true });
    const dead = await execa('node', ['-e', 'process.stdout.write(String(process.pid))']);
    const rec = (pid: number, extra: object) => JSON.stringify({ pid, host: hostname(), command: 'm1kit convert', since: '2020-01-01T00:00:00.000Z', plan: 'old', ...extra });
    writeFileSync(join(out, LOCK_DIR, `${hostname()}.${dead.stdout}.1.json`), rec(Number(dead.stdout), {}));
    // a live pid (this test process) recorded with another start time: the pid was reused
    writeFileSync(join(out, LOCK_DIR, `${hostname()}.${process.pid}.9.json`), rec(process.pid, { started: 1 }));
    const r = await m1kit(['convert', input, out]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(out, LOCK_DIR))).toBe(false);
  });

  it('a holder on another host is never taken over (its pid cannot be checked here)', async () => {
    const out = join(root, 'remote');
    mkdirSync(join(out, LOCK_DIR), { recursive: true });
    writeFileSync(join(out, LOCK_DIR, 'node-7.1234.1.json'), JSON.stringify({ pid: 1234, host: 'node-7', command: 'm1kit convert in out', since: '2026-01-01T00:00:00.000Z', plan: 'p' }));
    const r = await m1kit(['convert', input, out]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/pid 1234 on node-7.*remove .*node-7\.1234\.1\.json if that run is gone/s);
  });

  it('two runs in one process exclude each other too (library use)', async () => {
    const out = join(root, 'same-process');
    const lock = await lockOutput(join(out, LOCK_DIR), { plan: 'p' });
    await expect(runConversion({ kind: 'convert', input, output: out })).rejects.toMatchObject({ code: 'E_BUSY' });
    await lock.release();
  });

  it('two quantize runs with different arguments at once: one output, from one run, never a mix', async () => {
    const out = join(root, 'race');
    const [a, b] = await Promise.all([
      m1kit(['--json', 'quantize', input, out, '--scheme', 'fp8-block']),
      m1kit(['--json', 'quantize', input, out, '--scheme', 'int8-channel']),
    ]);
    const ok = [a, b].filter((r) => r.code === 0);
    expect(ok.length).toBeLessThanOrEqual(1);
    for (const r of [a, b]) if (r.code !== 0) expect(['E_BUSY', 'E_OUTPUT_EXISTS']).toContain(JSON.parse(r.stdout).error.code);
    if (ok.length === 1) {
      const scheme = a.code === 0 ? 'fp8-block' : 'int8-channel';
      const ref = join(root, `race-ref-${scheme}`);
      expect((await m1kit(['quantize', input, ref, '--scheme', scheme])).code).toBe(0);
      expect(hashTree(out)).toEqual(hashTree(ref));
    }
  });
});

describe('parts of one plan', () => {
  it('run side by side; the same part twice, or a different plan, is refused', async () => {
    const out = join(root, 'parts');
    const args = (part: string) => ['quantize', input, out, '--scheme', 'fp8-block', '--max-shard-size', '300KB', '--part', part];
    expect((await m1kit(args('1/3'))).code).toBe(0);
    const plan = (JSON.parse(readFileSync(join(out, '.m1kit-state', 'plan.json'), 'utf8')) as { planHash: string }).planHash;
    // part 1/3 of this plan "still running" elsewhere
    const held = await lockOutput(join(out, LOCK_DIR), { plan, share: { part: 1, count: 3 } });
    try {
      expect((await m1kit(args('1/3'))).stderr).toMatch(/E_BUSY|another m1kit run is writing it .*part 1\/3; the same plan/);
      expect((await m1kit(['quantize', input, out, '--scheme', 'int8-channel', '--part', '2/3'])).code).toBe(3);
      expect((await m1kit(args('2/3'))).code).toBe(0);
      const last = await m1kit(args('3/3'));
      expect(last.code, last.stderr).toBe(0);
      expect(last.stdout).toMatch(/complete/);
    } finally {
      await held.release();
    }
    const ref = join(root, 'parts-ref');
    expect((await m1kit(['quantize', input, ref, '--scheme', 'fp8-block', '--max-shard-size', '300KB'])).code).toBe(0);
    expect(hashTree(out)).toEqual(hashTree(ref));
  });

  it('parts started at the same moment all succeed and finalize one complete output', async () => {
    const out = join(root, 'parts-at-once');
    const args = (part: string) => ['quantize', input, out, '--scheme', 'int8-channel', '--max-shard-size', '300KB', '--part', part];
    const rs = await Promise.all([m1kit(args('1/2')), m1kit(args('2/2'))]);
    for (const r of rs) expect(r.code, r.stderr).toBe(0);
    const ref = join(root, 'parts-at-once-ref');
    expect((await m1kit(['quantize', input, ref, '--scheme', 'int8-channel', '--max-shard-size', '300KB'])).code).toBe(0);
    expect(hashTree(out)).toEqual(hashTree(ref));
  });

  it('compatible(): same plan, same N, different i; finalize with any part; never a whole run', () => {
    const p = (part: number, count = 4) => ({ plan: 'a', share: { part, count } });
    expect(compatible(p(1), p(2))).toBe(true);
    expect(compatible(p(1), p(1))).toBe(false);
    expect(compatible(p(1, 2), p(2, 4))).toBe(false);
    expect(compatible(p(1), { plan: 'b', share: { part: 2, count: 4 } })).toBe(false);
    expect(compatible(p(1), { plan: 'a', share: 'finalize' })).toBe(true);
    expect(compatible(p(1), { plan: 'a' })).toBe(false);
    expect(compatible({ plan: 'a' }, { plan: 'a' })).toBe(false);
  });
});

describe('GGUF output', () => {
  it('is locked too', async () => {
    const out = join(root, 'm.gguf');
    const lock = await lockOutput(ggufLockDir(out), { plan: 'gguf' });
    try {
      const r = await m1kit(['convert', input, out]);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/another m1kit run is writing it/);
      expect(existsSync(out) || existsSync(`${out}.incomplete`)).toBe(false);
    } finally {
      await lock.release();
    }
    expect((await m1kit(['convert', input, out, '--dtype', 'q8_0'])).code).toBe(0);
    expect(existsSync(ggufLockDir(out))).toBe(false);
  });
});
