/**
 * Re-hash an existing download against what it should contain: the hub listing at the commit when the
 * network is available, else what the layout itself records (blob names in the cache, etags in a
 * local directory's metadata). Reports missing files, wrong sizes and wrong hashes; never modifies files.
 */
import { readdir, readlink, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { InputError, throwIfAborted } from '../errors.js';
import { cacheTarget, localMetadataDir, localTarget, readCachedRef, readLocalMetadata, type DownloadTarget } from './cache-layout.js';
import { filterPaths } from './glob.js';
import { hashFile, hashKindOf } from './hashing.js';
import { createHubFetch } from './hub-fetch.js';
import { assertRepoId, assertRevision, isCommitSha } from './names.js';
import { listRepoFiles, resolveCommit, type RemoteFile } from './repo-files.js';
import { DEFAULT_RETRY } from './retry.js';
import type { RepoSelection } from './download-repo.js';

export interface VerifyParams extends RepoSelection {
  /** Repo id; optional for a local directory (then its metadata says what to expect). */
  repo?: string;
  /** Bytes hashed so far, of `total`. */
  onProgress?: (done: number, total: number, path: string) => void;
}

export type VerifyStatus = 'ok' | 'missing' | 'size-mismatch' | 'hash-mismatch';

export interface VerifyResult {
  commit?: string;
  path: string;
  /** True when the expected file list came from the hub (missing files are detected). */
  listingChecked: boolean;
  files: { path: string; size: number; hashKind: string; hash: string; status: VerifyStatus; found?: string }[];
  ok: boolean;
}

async function localExpectations(dir: string): Promise<{ files: RemoteFile[]; commit?: string }> {
  const meta = localMetadataDir(dir);
  const entries = await readdir(meta, { recursive: true }).catch(() => {
    throw new InputError('E_NOT_A_DOWNLOAD', `${dir}: no ${meta} folder; not a directory written by download --local-dir`);
  });
  const files: RemoteFile[] = [];
  let commit: string | undefined;
  for (const e of entries.map(String).sort()) {
    if (!e.endsWith('.metadata')) continue;
    const m = await readLocalMetadata(join(meta, e));
    const kind = m && hashKindOf(m.etag);
    if (!m || !kind) continue;
    commit ??= m.commit;
    const path = e.slice(0, -'.metadata'.length).split('\\').join('/');
    const size = await stat(join(dir, path)).then((s) => s.size, () => 0);
    files.push({ path, size, lfs: kind === 'sha256', hash: { kind, hex: m.etag } });
  }
  return commit ? { files, commit } : { files };
}

/**
 * Verify a download in the cache (`repo` required) or in a local directory.
 * @example await verifyDownload({ repo: 'org/m1', destination: { kind: 'cache', cacheDir }, endpoint })
 */
export async function verifyDownload(p: VerifyParams): Promise<VerifyResult> {
  const revision = p.revision ?? 'main';
  if (p.repo !== undefined) assertRepoId(p.repo);
  assertRevision(revision);
  const hubFetch = createHubFetch({ endpoint: p.endpoint, ...(p.token !== undefined ? { token: p.token } : {}), ...(p.fetch ? { fetch: p.fetch } : {}) });
  const hub = { endpoint: p.endpoint, fetch: hubFetch, retry: { ...DEFAULT_RETRY, ...p.retry }, ...(p.signal ? { signal: p.signal } : {}) };
  let expected: RemoteFile[];
  let commit: string | undefined;
  let listingChecked = false;
  if (p.destination.kind === 'local') {
    const local = await localExpectations(p.destination.dir);
    commit = local.commit;
    expected = local.files;
    if (p.repo && !p.offline) {
      commit = commit ?? (await resolveCommit(hub, p.repo, revision));
      expected = await listRepoFiles(hub, p.repo, commit);
      listingChecked = true;
    }
  } else {
    if (!p.repo) throw new InputError('E_USAGE', 'verifying the cache needs a repository id');
    commit = isCommitSha(revision) ? revision : await readCachedRef(p.destination.cacheDir, p.repo, revision);
    if (!commit && p.offline) throw new InputError('E_NOT_CACHED', `${p.repo}@${revision} is not in the cache ${p.destination.cacheDir}`);
    if (!p.offline) {
      commit = commit ?? (await resolveCommit(hub, p.repo, revision));
      expected = await listRepoFiles(hub, p.repo, commit);
      listingChecked = true;
    } else {
      expected = await cachedExpectations(cacheTarget(p.destination.cacheDir, p.repo, commit!, revision).filesDir);
    }
  }
  expected = filterPaths(expected, { include: p.include ?? [], exclude: p.exclude ?? [] }, (f) => f.path);
  const target: DownloadTarget =
    p.destination.kind === 'cache' ? cacheTarget(p.destination.cacheDir, p.repo!, commit!, revision) : localTarget(p.destination.dir, commit ?? '');
  const total = expected.reduce((a, f) => a + f.size, 0);
  let done = 0;
  const files: VerifyResult['files'] = [];
  for (const f of expected) {
    throwIfAborted(p.signal);
    const row = { path: f.path, size: f.size, hashKind: f.hash.kind, hash: f.hash.hex };
    const file = target.filePath(f);
    const size = await stat(file).then((s) => (s.isFile() ? s.size : -1), () => -1);
    if (size < 0) files.push({ ...row, status: 'missing' });
    else if (size !== f.size) files.push({ ...row, status: 'size-mismatch', found: `${size} bytes` });
    else {
      const base = done;
      const digest = await hashFile(file, f.hash.kind, f.size, {
        ...(p.signal ? { signal: p.signal } : {}),
        onBytes: (n) => p.onProgress?.((done += n), total, f.path),
      });
      done = base + f.size;
      files.push(digest === f.hash.hex ? { ...row, status: 'ok' } : { ...row, status: 'hash-mismatch', found: digest });
    }
  }
  const r: VerifyResult = { path: target.filesDir, listingChecked, files, ok: files.every((f) => f.status === 'ok') };
  if (commit) r.commit = commit;
  return r;
}

/** Offline: what a cached snapshot expects is written in its blob names. */
async function cachedExpectations(snapshot: string): Promise<RemoteFile[]> {
  const entries = await readdir(snapshot, { recursive: true, withFileTypes: true });
  const out: RemoteFile[] = [];
  for (const e of entries) {
    if (e.isDirectory()) continue;
    const full = join(e.parentPath ?? snapshot, e.name);
    const hex = basename(await readlink(full).catch(() => ''));
    const kind = hashKindOf(hex);
    if (!kind) continue;
    const size = await stat(full).then((s) => s.size, () => 0);
    out.push({ path: full.slice(snapshot.length + 1).split('\\').join('/'), size, lfs: kind === 'sha256', hash: { kind, hex } });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}
