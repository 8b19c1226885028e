import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downloadRepo } from '../../../src/core/hub/download-repo.js';
import { verifyDownload } from '../../../src/core/hub/verify-download.js';
import { tmpDir } from '../../helpers/tmp.js';
import { REPO_ID, repoFiles, sha256, start, type HubServer } from '../../helpers/hub/repo.js';

const files = repoFiles();
let server: HubServer;
let commit: string;
beforeEach(async () => {
  server = await start();
  commit = server.addCommit(REPO_ID, files);
});
afterEach(() => server.close());

async function flipByte(file: string, at: number): Promise<void> {
  const d = await readFile(file);
  d[at] = (d[at]! ^ 0x01) & 0xff;
  await writeFile(file, d);
}

describe('verify an existing download', () => {
  it('cache: ok, then a flipped byte and a missing file are reported (online and offline)', async () => {
    const cacheDir = await tmpDir();
    const destination = { kind: 'cache' as const, cacheDir };
    await downloadRepo({ repo: REPO_ID, destination, endpoint: server.url });
    const ok = await verifyDownload({ repo: REPO_ID, destination, endpoint: server.url });
    expect(ok).toMatchObject({ ok: true, commit, listingChecked: true });
    expect(ok.files).toHaveLength(files.length);

    await flipByte(join(cacheDir, 'models--org--m1', 'blobs', sha256(files[2]!.content)), 2_999_999);
    await rm(join(ok.path, 'config.json'));
    const bad = await verifyDownload({ repo: REPO_ID, destination, endpoint: server.url });
    expect(bad.ok).toBe(false);
    const status = Object.fromEntries(bad.files.map((f) => [f.path, f.status]));
    expect(status).toMatchObject({ 'config.json': 'missing', 'model-00000-of-00002.safetensors': 'hash-mismatch', 'model-00001-of-00002.safetensors': 'ok' });

    server.log.length = 0;
    const offline = await verifyDownload({ repo: REPO_ID, destination, endpoint: server.url, offline: true });
    expect(server.log).toEqual([]);
    expect(offline.listingChecked).toBe(false);
    expect(offline.files.find((f) => f.path === 'model-00000-of-00002.safetensors')!.status).toBe('hash-mismatch');
    expect(offline.files.find((f) => f.path === 'model-00001-of-00002.safetensors')!.status).toBe('ok');
  });

  it('local dir: verified from its metadata alone, and against the listing when the repo is given', async () => {
    const dir = await tmpDir();
    const destination = { kind: 'local' as const, dir };
    await downloadRepo({ repo: REPO_ID, destination, endpoint: server.url });
    const own = await verifyDownload({ destination, endpoint: server.url, offline: true });
    expect(own).toMatchObject({ ok: true, commit, listingChecked: false });
    expect(own.files.map((f) => f.path).sort()).toEqual(files.map((f) => f.path).sort());
    await flipByte(join(dir, 'docs', 'notes.md'), 0);
    const listed = await verifyDownload({ repo: REPO_ID, destination, endpoint: server.url });
    expect(listed.listingChecked).toBe(true);
    expect(listed.files.filter((f) => f.status !== 'ok').map((f) => [f.path, f.status])).toEqual([['docs/notes.md', 'hash-mismatch']]);
  });
});

describe('injected fetch', () => {
  it('carries every request (listing and bodies) and still keeps the token off the CDN', async () => {
    await server.close();
    server = await start({ token: 'tok-without-prefix' });
    server.addCommit(REPO_ID, files);
    const seen: string[] = [];
    const counting: typeof fetch = (input, init) => {
      seen.push(String(input instanceof Request ? input.url : input));
      return fetch(input, init);
    };
    const cacheDir = await tmpDir();
    const r = await downloadRepo({ repo: REPO_ID, destination: { kind: 'cache', cacheDir }, endpoint: server.url, token: 'tok-without-prefix', fetch: counting });
    for (const f of files) expect((await readFile(join(r.path, f.path))).equals(f.content), f.path).toBe(true);
    expect(seen.filter((u) => u.startsWith(server.cdnUrl))).toHaveLength(2);
    expect(seen.length).toBe(server.log.length);
    expect(server.log.filter((l) => l.server === 'cdn').every((l) => l.authorization === undefined)).toBe(true);
  });
});
