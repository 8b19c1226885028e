/**
 * The worker layer: a typed worker module runs from the TypeScript sources (here, under the test runner)
 * as it does from dist/, answers calls by name over the one protocol, streams events, returns errors
 * with their m1kit class, is cancelled through an AbortSignal, moves buffers, and a thread that dies
 * rejects its pending and later calls.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { InputError, M1kitError } from '../../../src/core/errors.js';
import { workerEntry } from '../../../src/core/worker/entry.js';
import { WorkerHost } from '../../../src/core/worker/host.js';
import type { EchoWorker } from './echo-worker.js';

const hosts: WorkerHost<EchoWorker>[] = [];
function start(): WorkerHost<EchoWorker> {
  const entry = workerEntry('./echo-worker.js', import.meta.url);
  if (!entry) throw new Error('echo-worker.ts not found');
  const h = new WorkerHost<EchoWorker>(entry, { crashError: (c) => new Error(c.kind === 'exit' ? `exited ${c.code}` : c.error.message) });
  hosts.push(h);
  return h;
}
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.close()));
});

describe('worker modules', () => {
  it('finds the source module when no compiled one exists, and nothing for a missing module', () => {
    expect(workerEntry('./echo-worker.js', import.meta.url)?.url.pathname).toMatch(/echo-worker\.ts$/);
    expect(workerEntry('./no-such-worker.js', import.meta.url)).toBeUndefined();
  });

  it('answers calls by name, with the events of a call before its result', async () => {
    const h = start();
    expect(await h.call('add', { x: 2, y: 40 })).toBe(42);
    const seen: number[] = [];
    expect(await h.call('count', 3, { onEvent: (e) => seen.push(e) })).toBe('counted');
    expect(seen).toEqual([0, 1, 2]);
  });

  it('rebuilds a worker error with its class, code, hint and file', async () => {
    const e = await start().call('fail', 'E_SOMETHING').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect(e).toMatchObject({ code: 'E_SOMETHING', message: 'failed with E_SOMETHING', hint: 'a hint', file: 'x.bin' });
    expect(e).toBeInstanceOf(M1kitError);
  });

  it('cancels a call through its AbortSignal', async () => {
    const ac = new AbortController();
    const p = start().call('wait', null, { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    expect(await p).toBe('cancelled');
  });

  it('moves buffers both ways', async () => {
    const b = new Uint8Array([1, 2, 3]);
    const out = await start().call('double', b, { transfer: [b.buffer] });
    expect(b.byteLength).toBe(0); // moved, not copied
    expect([...out]).toEqual([2, 4, 6]);
  });

  it('rejects pending and later calls once the thread has died', async () => {
    const h = start();
    const pending = h.call('wait', null);
    await expect(h.call('exit', 3)).rejects.toThrow('exited 3');
    await expect(pending).rejects.toThrow('exited 3');
    await expect(h.call('add', { x: 1, y: 1 })).rejects.toThrow('exited 3');
  });
});

describe('worker threads under a parent started with V8 or per-process options', () => {
  it('still start (node --expose-gc --max-old-space-size=… runs a command whose hashing uses a thread)', async () => {
    const { execa } = await import('execa');
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'm1kit-argv-'));
    try {
      const bin = new URL('../../../bin/m1kit.js', import.meta.url).pathname;
      const tiny = new URL('../../../fixtures/tiny', import.meta.url).pathname;
      const r = await execa('node', ['--expose-gc', '--max-old-space-size=3000', bin, 'convert', tiny, join(dir, 'out'), '-q'], { reject: false });
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
