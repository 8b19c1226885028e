import { lstat, readFile, readdir, readlink, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { scanCacheDir } from '@huggingface/hub';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downloadRepo, type DownloadEvent, type DownloadParams } from '../../../src/core/hub/download-repo.js';
import { tmpDir } from '../../helpers/tmp.js';
import { REPO_ID, bodyRequests, readBack, repoFiles, sha256, start, type HubServer } from '../../helpers/hub/repo.js';

/** Backoff shortened so fault tests stay fast; attempts as in production. */
const FAST_RETRY = { maxAttempts: 6, baseDelayMs: 5, maxDelayMs: 20 };

let server: HubServer;
let commit: string;
const files = repoFiles();

beforeEach(async () => {
  server = await start({ pageSize: 2 }); // small pages: the listing must follow Link headers
  commit = server.addCommit(REPO_ID, files);
});
afterEach(() => server.close());

function params(cacheDir: string, extra: Partial<DownloadParams> = {}): DownloadParams {
  return { repo: REPO_ID, destination: { kind: 'cache', cacheDir }, endpoint: server.url, retry: FAST_RETRY, ...extra };
}

describe('download into the Hugging Face cache', () => {
  it('writes refs, content-addressed blobs and relative snapshot links', async () => {
    const cache = await tmpDir();
    const r = await downloadRepo(params(cache));
    const repoDir = join(cache, 'models--org--m1');
    expect(r.commit).toBe(commit);
    expect(r.path).toBe(join(repoDir, 'snapshots', commit));
    expect((await readFile(join(repoDir, 'refs', 'main'), 'utf8')).trim()).toBe(commit);
    const back = await readBack(r.path, files);
    for (const f of files) expect(back.get(f.path)!.equals(f.content), f.path).toBe(true);
    const shard = join(r.path, 'model-00000-of-00002.safetensors');
    expect((await lstat(shard)).isSymbolicLink()).toBe(true);
    expect(await readlink(shard)).toBe(`../../blobs/${sha256(files[2]!.content)}`);
    expect(await readlink(join(r.path, 'docs', 'notes.md'))).toMatch(/^\.\.\/\.\.\/\.\.\/blobs\/[0-9a-f]{40}$/);
    expect((await readdir(join(repoDir, 'blobs'))).filter((n) => n.endsWith('.incomplete'))).toEqual([]);
    expect(r.totals).toMatchObject({ files: 5, downloadedFiles: 5, presentFiles: 0 });
    // LFS bodies came from the CDN, small files from the hub
    expect(bodyRequests(server).filter((l) => l.server === 'cdn' && l.status === 200)).toHaveLength(2);
  });

  it('is readable by @huggingface/hub scanCacheDir', async () => {
    const cache = await tmpDir();
    await downloadRepo(params(cache));
    const info = await scanCacheDir(cache);
    expect(info.warnings).toEqual([]);
    expect(info.repos).toHaveLength(1);
    const repo = info.repos[0]!;
    expect(repo.id).toEqual({ name: REPO_ID, type: 'model' });
    expect(repo.revisions.map((v) => v.commitOid)).toEqual([commit]);
    expect(repo.revisions[0]!.refs).toEqual(['main']);
    // the JS scanner (2.17.5) does not descend into snapshot sub-folders, so docs/notes.md is not counted
    const topLevel = files.filter((f) => !f.path.includes('/'));
    expect(repo.filesCount).toBe(topLevel.length);
    expect(repo.size).toBe(topLevel.reduce((a, f) => a + f.content.length, 0));
    expect(repo.revisions[0]!.files.map((f) => f.blob.size).sort()).toEqual(topLevel.map((f) => f.content.length).sort());
  });

  it('skips finished files on a second run without fetching or hashing them', async () => {
    const cache = await tmpDir();
    await downloadRepo(params(cache));
    const before = bodyRequests(server).length;
    const r = await downloadRepo(params(cache));
    expect(bodyRequests(server).length).toBe(before);
    expect(r.files.every((f) => f.status === 'present')).toBe(true);
  });

  it('applies --include/--exclude', async () => {
    const cache = await tmpDir();
    const r = await downloadRepo(params(cache, { include: ['*.json', 'docs/'], exclude: ['model.safetensors.index.json'] }));
    expect(r.files.map((f) => f.path)).toEqual(['config.json', 'docs/notes.md']);
    expect(await readdir(r.path)).toEqual(expect.arrayContaining(['config.json', 'docs']));
    expect(bodyRequests(server).some((l) => l.server === 'cdn')).toBe(false);
  });

  it('dry run writes nothing and counts the missing bytes', async () => {
    const cache = await tmpDir();
    const r = await downloadRepo(params(cache, { dryRun: true }));
    expect(r.totals.bytesToFetch).toBe(files.reduce((a, f) => a + f.content.length, 0));
    expect(await readdir(cache)).toEqual([]);
    expect(bodyRequests(server)).toEqual([]);
  });

  it('a new commit on the branch fetches only the changed file and keeps both snapshots', async () => {
    const cache = await tmpDir();
    await downloadRepo(params(cache));
    const changed = files.map((f) => (f.path === 'model-00001-of-00002.safetensors' ? { ...f, content: Buffer.from(f.content).fill(7, 0, 10) } : f));
    const commit2 = server.addCommit(REPO_ID, changed);
    server.log.length = 0;
    const r = await downloadRepo(params(cache));
    expect(r.commit).toBe(commit2);
    expect(bodyRequests(server).filter((l) => l.server === 'cdn').map((l) => l.url)).toEqual([`/cdn/${sha256(changed[3]!.content)}`]);
    expect((await readFile(join(r.path, 'model-00001-of-00002.safetensors'))).equals(changed[3]!.content)).toBe(true);
    const info = await scanCacheDir(cache);
    expect(info.repos[0]!.revisions.map((v) => v.commitOid).sort()).toEqual([commit, commit2].sort());
  });

  it('files with identical content are fetched once and share one blob', async () => {
    const same = files[3]!.content;
    server.addCommit(REPO_ID, [
      { path: 'a.safetensors', content: same, lfs: true },
      { path: 'copy/a.safetensors', content: same, lfs: true },
      { path: 'LICENSE', content: Buffer.from('MIT\n') },
      { path: 'copy/LICENSE', content: Buffer.from('MIT\n') },
    ]);
    const cache = await tmpDir();
    const r = await downloadRepo(params(cache));
    expect(r.files.every((f) => f.status === 'downloaded')).toBe(true);
    for (const p of ['a.safetensors', 'copy/a.safetensors']) expect((await readFile(join(r.path, p))).equals(same)).toBe(true);
    expect((await readFile(join(r.path, 'copy/LICENSE'), 'utf8'))).toBe('MIT\n');
    expect(bodyRequests(server).filter((l) => l.server === 'cdn')).toHaveLength(1);
    expect(bodyRequests(server).filter((l) => l.url.endsWith('LICENSE'))).toHaveLength(1);
    expect(r.totals.bytesToFetch).toBe(same.length + 4);
  });

  it('an empty file is created without a body request (git blob sha1 e69de29…)', async () => {
    const c = server.addCommit(REPO_ID, [{ path: 'empty.txt', content: Buffer.alloc(0) }]);
    const cache = await tmpDir();
    const r = await downloadRepo(params(cache));
    expect(r.commit).toBe(c);
    expect(r.files).toEqual([{ path: 'empty.txt', size: 0, hashKind: 'git-sha1', hash: 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391', status: 'downloaded' }]);
    expect((await readFile(join(r.path, 'empty.txt'))).length).toBe(0);
    expect(bodyRequests(server)).toEqual([]);
  });

  it('refuses to start when the free space is too small (E_DISK_FULL, exit 3)', async () => {
    const cache = await tmpDir();
    await expect(downloadRepo(params(cache, { freeBytes: async () => 1000 }))).rejects.toMatchObject({ code: 'E_DISK_FULL', exitCode: 3 });
    expect(bodyRequests(server)).toEqual([]);
  });

  it('--local-dir writes real files and huggingface_hub metadata, then skips them', async () => {
    const dir = await tmpDir();
    const r = await downloadRepo(params(dir, { destination: { kind: 'local', dir } }));
    expect(r.path).toBe(dir);
    const back = await readBack(dir, files);
    for (const f of files) expect(back.get(f.path)!.equals(f.content), f.path).toBe(true);
    expect((await lstat(join(dir, 'config.json'))).isFile()).toBe(true);
    const meta = (await readFile(join(dir, '.cache/huggingface/download/model-00000-of-00002.safetensors.metadata'), 'utf8')).split('\n');
    expect(meta[0]).toBe(commit);
    expect(meta[1]).toBe(sha256(files[2]!.content));
    expect(Number(meta[2])).toBeGreaterThan(1.7e9);
    const n = bodyRequests(server).length;
    const again = await downloadRepo(params(dir, { destination: { kind: 'local', dir } }));
    expect(again.totals.presentFiles).toBe(files.length);
    expect(bodyRequests(server).length).toBe(n);
  });

  it('HF_HUB_OFFLINE uses the cache without any request', async () => {
    const cache = await tmpDir();
    await downloadRepo(params(cache));
    server.log.length = 0;
    const r = await downloadRepo(params(cache, { offline: true }));
    expect(server.log).toEqual([]);
    expect(r.commit).toBe(commit);
    expect(r.files.map((f) => f.path).sort()).toEqual(files.map((f) => f.path).sort());
    const empty = await tmpDir();
    await expect(downloadRepo(params(empty, { offline: true }))).rejects.toMatchObject({ code: 'E_OFFLINE', exitCode: 6 });
  });
});

describe('remote errors', () => {
  it('404 for an unknown repository or revision: one line, exit 6, no retries', async () => {
    const cache = await tmpDir();
    await expect(downloadRepo(params(cache, { repo: 'org/none' }))).rejects.toMatchObject({ code: 'E_REMOTE_NOT_FOUND', exitCode: 6, message: expect.stringContaining('org/none') });
    await expect(downloadRepo(params(cache, { revision: 'v9' }))).rejects.toMatchObject({ code: 'E_REMOTE_NOT_FOUND', message: expect.stringContaining('"v9"') });
    expect(server.log.filter((l) => l.url.includes('/revision/'))).toHaveLength(2);
  });

  it('a file that stays 500 fails after a bounded number of attempts, naming the file', async () => {
    const cache = await tmpDir();
    server.fault({ path: 'config.json', kind: 'status', status: 500, times: 1000 });
    await expect(downloadRepo(params(cache, { include: ['config.json'] }))).rejects.toMatchObject({ code: 'E_NETWORK', exitCode: 6, message: expect.stringContaining('config.json') });
    expect(bodyRequests(server)).toHaveLength(FAST_RETRY.maxAttempts);
  });
});

describe('sizes', () => {
  it('every file in the snapshot has its listed size', async () => {
    const cache = await tmpDir();
    const r = await downloadRepo(params(cache));
    for (const f of files) expect((await stat(join(r.path, f.path))).size).toBe(f.content.length);
  });
});


describe('files already in place: size checked by default, re-hashed with --repair', () => {
  const SHARD = files[3]!;
  /** Requests that carried a body (the hub's 302 to the CDN does not). */
  const bodies = () => bodyRequests(server).filter((l) => l.status !== 302);
  async function flipByte(path: string, at: number) {
    const data = await readFile(path);
    data[at] = data[at]! ^ 0x01;
    await writeFile(path, data);
  }

  it('a corrupt blob is reported as present but not re-hashed (verified false); --repair fetches it again', async () => {
    const cache = await tmpDir();
    const first = await downloadRepo(params(cache));
    expect(first).toMatchObject({ verified: true, presentCheck: 'size' });
    const blob = join(cache, 'models--org--m1', 'blobs', sha256(SHARD.content));
    await flipByte(blob, 1234);
    server.log.length = 0;
    const again = await downloadRepo(params(cache));
    expect(bodies()).toEqual([]);
    expect(again).toMatchObject({ verified: false, presentCheck: 'size', totals: expect.objectContaining({ presentFiles: 5, downloadedFiles: 0, repairedFiles: 0 }) });
    const events: DownloadEvent[] = [];
    const repaired = await downloadRepo(params(cache, { repair: true, onEvent: (e) => events.push(e) }));
    expect(bodies().map((l) => l.url)).toEqual([`/cdn/${sha256(SHARD.content)}`]);
    expect(repaired).toMatchObject({ verified: true, presentCheck: 'hash', totals: expect.objectContaining({ presentFiles: 4, downloadedFiles: 1, repairedFiles: 1 }) });
    expect(repaired.files.find((f) => f.path === SHARD.path)).toMatchObject({ status: 'downloaded', repaired: true });
    expect((await readFile(join(repaired.path, SHARD.path))).equals(SHARD.content)).toBe(true);
    const checked = events.filter((e) => e.type === 'check') as { doneBytes: number; totalBytes: number }[];
    expect(checked.at(-1)).toEqual(expect.objectContaining({ doneBytes: checked.at(-1)!.totalBytes }));
    expect(checked.at(-1)!.totalBytes).toBe(files.reduce((a, f) => a + f.content.length, 0));
  });

  it('--repair in a local dir replaces an edited-in-place file whose size and mtime still match', async () => {
    const dir = await tmpDir();
    await downloadRepo(params(dir, { destination: { kind: 'local', dir } }));
    const file = join(dir, SHARD.path);
    const before = await stat(file);
    await flipByte(file, 10);
    await utimes(file, before.atime, before.mtime); // a bit flip on disk keeps the metadata
    server.log.length = 0;
    expect((await downloadRepo(params(dir, { destination: { kind: 'local', dir } }))).totals.downloadedFiles).toBe(0);
    const r = await downloadRepo(params(dir, { destination: { kind: 'local', dir }, repair: true }));
    expect(r.totals).toMatchObject({ downloadedFiles: 1, repairedFiles: 1 });
    expect((await readFile(file)).equals(SHARD.content)).toBe(true);
  });

  it('--force-download fetches every file again, ignoring files in place and partial files', async () => {
    const cache = await tmpDir();
    await downloadRepo(params(cache));
    const other = files[2]!;
    const partial = join(cache, 'models--org--m1', 'blobs', `${sha256(other.content)}.incomplete`);
    await writeFile(partial, other.content.subarray(0, 1000));
    server.log.length = 0;
    const r = await downloadRepo(params(cache, { forceDownload: true }));
    expect(r.totals).toMatchObject({ downloadedFiles: 5, presentFiles: 0 });
    expect(bodies()).toHaveLength(5);
    expect(bodies().every((l) => l.range === undefined)).toBe(true);
    for (const f of files) expect((await readFile(join(r.path, f.path))).equals(f.content), f.path).toBe(true);
  });
});
