/**
 * One writer per partial file, and a second download that waits for the first: the holder is named,
 * the wait is abortable, a stale lock is taken over by exactly one waiter, and a file the holder finished
 * meanwhile is not fetched again.
 */
import { mkdir, readFile, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downloadRepo, type DownloadEvent } from '../../../src/core/hub/download-repo.js';
import { lockPartial, UNREADABLE_LOCK_STALE_MS } from '../../../src/core/hub/file-lock.js';
import { tmpDir } from '../../helpers/tmp.js';
import { REPO_ID, bodyRequests, repoFiles, sha256, start, type HubServer } from '../../helpers/hub/repo.js';

/** Poll quickly in tests; the production interval only changes how soon a waiter notices. */
const POLL_MS = 20;
const FAST_RETRY = { maxAttempts: 6, baseDelayMs: 5, maxDelayMs: 20 };

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A pid above Linux's pid_max: never a live process. */
const DEAD_PID = 2 ** 22 + 12345;

describe('lockPartial', () => {
  it('waits for a live holder, names it, and takes the lock once the holder releases it', async () => {
    const dir = await tmpDir();
    const partial = join(dir, 'x.incomplete');
    await writeFile(`${partial}.lock`, `${process.ppid} ${hostname()}\n`);
    const waits: { holder: string; first: boolean }[] = [];
    let got = false;
    const p = lockPartial(partial, 'x', { pollMs: POLL_MS, onWait: (w) => waits.push(w) }).then((release) => ((got = true), release));
    await tick(150);
    expect(got).toBe(false);
    expect(waits[0]).toMatchObject({ holder: `pid ${process.ppid}`, first: true });
    await unlink(`${partial}.lock`);
    const release = await p;
    expect((await readFile(`${partial}.lock`, 'utf8')).trim()).toBe(`${process.pid} ${hostname()}`);
    await release();
    await expect(stat(`${partial}.lock`)).rejects.toThrow();
  });

  it('the wait ends at once when the signal aborts (E_INTERRUPTED, exit 130)', async () => {
    const dir = await tmpDir();
    const partial = join(dir, 'x.incomplete');
    await writeFile(`${partial}.lock`, `${process.ppid} ${hostname()}\n`);
    const ac = new AbortController();
    const p = lockPartial(partial, 'x', { pollMs: 10_000, signal: ac.signal });
    await tick(50);
    const t0 = Date.now();
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'E_INTERRUPTED', exitCode: 130 });
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('a lock held by another download of this process is waited for, not taken over', async () => {
    const dir = await tmpDir();
    const partial = join(dir, 'x.incomplete');
    const first = await lockPartial(partial, 'x');
    await expect(lockPartial(partial, 'x', { wait: false })).rejects.toMatchObject({ code: 'E_BUSY', message: expect.stringContaining('another download in this process') });
    await first();
  });

  it('two waiters on one stale lock: exactly one takes it over, the other waits for it', async () => {
    const dir = await tmpDir();
    const partial = join(dir, 'x.incomplete');
    for (let round = 0; round < 10; round++) {
      await writeFile(`${partial}.lock`, `${DEAD_PID} ${hostname()}\n`);
      const order: string[] = [];
      const take = (name: string) => lockPartial(partial, name, { pollMs: POLL_MS }).then(async (release) => {
        order.push(`${name}+`);
        await tick(30);
        order.push(`${name}-`);
        await release();
      });
      await Promise.all([take('a'), take('b')]);
      // never both inside at once
      const [x, y] = [order[0]![0]!, order[2]![0]!];
      expect(order).toEqual([`${x}+`, `${x}-`, `${y}+`, `${y}-`]);
      expect(x).not.toBe(y);
    }
  });

  it('an empty lock file is a lock being written (waited for) unless it is old (taken over)', async () => {
    const dir = await tmpDir();
    const partial = join(dir, 'x.incomplete');
    await writeFile(`${partial}.lock`, '');
    await expect(lockPartial(partial, 'x', { wait: false })).rejects.toMatchObject({ code: 'E_BUSY' });
    const old = (Date.now() - UNREADABLE_LOCK_STALE_MS - 5000) / 1000;
    await utimes(`${partial}.lock`, old, old);
    const release = await lockPartial(partial, 'x', { wait: false });
    await release();
  });
});

describe('a second download into the same cache', () => {
  let server: HubServer;
  const files = repoFiles();
  const SHARD = files[2]!;
  beforeEach(async () => {
    server = await start();
    server.addCommit(REPO_ID, files);
  });
  afterEach(() => server.close());

  it('waits for the process downloading a file and does not fetch it again once that process placed it', async () => {
    const cache = await tmpDir();
    const blobs = join(cache, 'models--org--m1', 'blobs');
    await mkdir(blobs, { recursive: true });
    const blob = join(blobs, sha256(SHARD.content));
    await writeFile(`${blob}.incomplete.lock`, `${process.ppid} ${hostname()}\n`);
    const events: DownloadEvent[] = [];
    const p = downloadRepo({ repo: REPO_ID, destination: { kind: 'cache', cacheDir: cache }, endpoint: server.url, retry: FAST_RETRY, include: [SHARD.path], onEvent: (e) => events.push(e) });
    const deadline = Date.now() + 10_000;
    while (!events.some((e) => e.type === 'wait')) {
      if (Date.now() > deadline) throw new Error('no wait event');
      await tick(20);
    }
    expect(events.find((e) => e.type === 'wait')).toMatchObject({ path: SHARD.path, holder: `pid ${process.ppid}` });
    // the other process finishes: the verified blob appears, its lock goes
    await writeFile(blob, SHARD.content);
    await unlink(`${blob}.incomplete.lock`);
    const r = await p;
    expect(r.files).toEqual([expect.objectContaining({ path: SHARD.path, status: 'present' })]);
    expect(bodyRequests(server)).toEqual([]);
    expect((await readFile(join(r.path, SHARD.path))).equals(SHARD.content)).toBe(true);
  });
});
