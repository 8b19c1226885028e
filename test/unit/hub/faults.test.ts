import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downloadRepo, type DownloadEvent, type DownloadParams } from '../../../src/core/hub/download-repo.js';
import { tmpDir } from '../../helpers/tmp.js';
import { REPO_ID, bodyRequests, repoFiles, sha256, start, type HubServer } from '../../helpers/hub/repo.js';

/** Backoff shortened so fault tests stay fast; attempts as in production. */
const FAST_RETRY = { maxAttempts: 6, baseDelayMs: 5, maxDelayMs: 20 };
/** Stall detection in the stall test: the stalled response sends nothing more, so any value works; short keeps it fast. */
const STALL_MS = 400;
/** Everywhere else: far above any pause of the loopback server, even on a loaded machine, so no spurious retries. */
const NO_STALL_MS = 10_000;

const files = repoFiles();
const SHARD = files[2]!; // 3,000,000 bytes, LFS
let server: HubServer;

beforeEach(async () => {
  server = await start();
  server.addCommit(REPO_ID, files);
});
afterEach(() => server.close());

async function run(extra: Partial<DownloadParams> = {}) {
  const cache = await tmpDir();
  const events: DownloadEvent[] = [];
  const r = await downloadRepo({
    repo: REPO_ID, destination: { kind: 'cache', cacheDir: cache }, endpoint: server.url, retry: FAST_RETRY, stallTimeoutMs: NO_STALL_MS,
    include: [SHARD.path], onEvent: (e) => events.push(e), ...extra,
  });
  const data = await readFile(join(r.path, SHARD.path));
  return { cache, r, events, data };
}

const cdnGets = () => bodyRequests(server).filter((l) => l.server === 'cdn');

describe('fault injection (loopback CDN)', () => {
  it('a dropped connection resumes with Range from the bytes already written', async () => {
    server.fault({ path: SHARD.path, kind: 'drop', after: 1_234_567 });
    const { data, events } = await run();
    expect(data.equals(SHARD.content)).toBe(true);
    expect(cdnGets().map((l) => l.range)).toEqual([undefined, 'bytes=1234567-']);
    expect(events.filter((e) => e.type === 'retry')).toHaveLength(1);
  });

  it('a stalled transfer is abandoned after the stall timeout and resumed', async () => {
    server.fault({ path: SHARD.path, kind: 'stall', after: 500_000 });
    const { data } = await run({ stallTimeoutMs: STALL_MS });
    expect(data.equals(SHARD.content)).toBe(true);
    expect(cdnGets().map((l) => l.range)).toEqual([undefined, 'bytes=500000-']);
  });

  it('a corrupted byte is caught by sha256, the file is fetched again', async () => {
    server.fault({ path: SHARD.path, kind: 'corrupt', at: 2_999_999 });
    const { data, events } = await run();
    expect(data.equals(SHARD.content)).toBe(true);
    expect(events.some((e) => e.type === 'restart' && /sha256 mismatch/.test(e.reason))).toBe(true);
    expect(cdnGets().map((l) => l.range)).toEqual([undefined, undefined]);
  });

  it('a byte that stays corrupted fails naming the file (exit 4) and leaves no blob or partial', async () => {
    server.fault({ path: SHARD.path, kind: 'corrupt', at: 10, times: 1000 });
    const cache = await tmpDir();
    const p = downloadRepo({ repo: REPO_ID, destination: { kind: 'cache', cacheDir: cache }, endpoint: server.url, retry: FAST_RETRY, include: [SHARD.path] });
    await expect(p).rejects.toMatchObject({ code: 'E_HASH_MISMATCH', exitCode: 4, message: expect.stringContaining(SHARD.path) });
    expect(await readdir(join(cache, 'models--org--m1', 'blobs'))).toEqual([]);
    expect(cdnGets()).toHaveLength(FAST_RETRY.maxAttempts);
  });

  it('500 and 429 (Retry-After) are retried', async () => {
    server.fault({ path: SHARD.path, kind: 'status', status: 500, times: 2 });
    server.fault({ path: SHARD.path, kind: 'status', status: 429, retryAfter: 0 });
    const { data, events } = await run();
    expect(data.equals(SHARD.content)).toBe(true);
    expect(cdnGets().map((l) => l.status)).toEqual([500, 500, 429, 200]);
    expect(events.filter((e) => e.type === 'retry').map((e) => (e as { reason: string }).reason)).toEqual(['HTTP 500', 'HTTP 500', 'HTTP 429']);
  });

  it('a server that ignores Range (200 to a Range request) restarts the file cleanly', async () => {
    server.fault({ path: SHARD.path, kind: 'drop', after: 1_000_000 });
    server.fault({ path: SHARD.path, kind: 'ignoreRange' });
    const { data, events } = await run();
    expect(data.equals(SHARD.content)).toBe(true);
    expect(cdnGets().map((l) => [l.range, l.status])).toEqual([[undefined, 200], ['bytes=1000000-', 200]]);
    expect(events.some((e) => e.type === 'restart' && /ignored the Range/.test(e.reason))).toBe(true);
  });

  it('continues a partial file left by an earlier run (re-hashing its prefix)', async () => {
    const cache = await tmpDir();
    const blobs = join(cache, 'models--org--m1', 'blobs');
    await mkdir(blobs, { recursive: true });
    await writeFile(join(blobs, `${sha256(SHARD.content)}.incomplete`), SHARD.content.subarray(0, 777_777));
    const { data, r } = await run({ destination: { kind: 'cache', cacheDir: cache } });
    expect(data.equals(SHARD.content)).toBe(true);
    expect(cdnGets().map((l) => l.range)).toEqual(['bytes=777777-']);
    expect(r.files[0]).toMatchObject({ status: 'downloaded', resumedFrom: 777_777 });
  });

  it('a partial file with wrong bytes (content changed between runs) is detected and refetched', async () => {
    const cache = await tmpDir();
    const blobs = join(cache, 'models--org--m1', 'blobs');
    await mkdir(blobs, { recursive: true });
    await writeFile(join(blobs, `${sha256(SHARD.content)}.incomplete`), Buffer.alloc(777_777, 1));
    const { data } = await run({ destination: { kind: 'cache', cacheDir: cache } });
    expect(data.equals(SHARD.content)).toBe(true);
    expect(cdnGets().map((l) => l.range)).toEqual(['bytes=777777-', undefined]);
  });

  it('a partial file longer than the file restarts from zero', async () => {
    const cache = await tmpDir();
    const blobs = join(cache, 'models--org--m1', 'blobs');
    await mkdir(blobs, { recursive: true });
    await writeFile(join(blobs, `${sha256(SHARD.content)}.incomplete`), Buffer.alloc(SHARD.content.length + 5));
    const { data } = await run({ destination: { kind: 'cache', cacheDir: cache } });
    expect(data.equals(SHARD.content)).toBe(true);
    expect(cdnGets().map((l) => l.range)).toEqual([undefined]);
  });

  it('a partial file locked by a live process is refused at once without waiting (E_BUSY naming it); a stale lock from a killed run is taken over', async () => {
    const cache = await tmpDir();
    const blobs = join(cache, 'models--org--m1', 'blobs');
    await mkdir(blobs, { recursive: true });
    const lock = join(blobs, `${sha256(SHARD.content)}.incomplete.lock`);
    await writeFile(lock, `${process.ppid} ${hostname()}\n`);
    await expect(run({ destination: { kind: 'cache', cacheDir: cache }, waitForLock: false })).rejects.toMatchObject({
      code: 'E_BUSY', exitCode: 3, message: expect.stringContaining(`${SHARD.path} is being downloaded by pid ${process.ppid}`),
    });
    await writeFile(lock, `${2 ** 22 + 12345} ${hostname()}\n`); // above Linux's pid_max: never alive
    const { data } = await run({ destination: { kind: 'cache', cacheDir: cache } });
    expect(data.equals(SHARD.content)).toBe(true);
    expect(await readdir(blobs)).toEqual([sha256(SHARD.content)]);
  });

  it('faults on several files at once with concurrency still give the exact bytes', async () => {
    server.fault({ path: files[2]!.path, kind: 'drop', after: 100_000 });
    server.fault({ path: files[3]!.path, kind: 'corrupt', at: 5 });
    server.fault({ path: 'config.json', kind: 'status', status: 503 });
    const cache = await tmpDir();
    const r = await downloadRepo({ repo: REPO_ID, destination: { kind: 'cache', cacheDir: cache }, endpoint: server.url, retry: FAST_RETRY, stallTimeoutMs: NO_STALL_MS, concurrency: 3 });
    for (const f of files) expect((await readFile(join(r.path, f.path))).equals(f.content), f.path).toBe(true);
  });
});
