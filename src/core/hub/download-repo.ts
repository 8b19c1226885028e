/**
 * `download` in core: resolve the revision once, list the files at that commit, filter them, skip what is
 * already in place, check free space, then fetch the rest with a worker pool into the chosen layout.
 * Never prints: progress and events go to callbacks.
 */
import { readdir, realpath, stat, unlink } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import { InputError, NetworkError, throwIfAborted } from '../errors.js';
import { cacheTarget, localTarget, readCachedRef, repoFolderName, type DownloadTarget } from './cache-layout.js';
import { checkFreeSpace, freeBytes } from '../fs/disk-space.js';
import type { FetchFileResult, TransferEvent } from './fetch-file.js';
import { lockPartial } from './file-lock.js';
import { filterPaths } from './glob.js';
import { hashKindOf } from './hashing.js';
import { createHubFetch } from './hub-fetch.js';
import { runPool } from './pool.js';
import { fetchTransport, rawTransport } from './transport.js';
import { inlineRunner, threadRunner, threadsAvailable, type TransferJob, type TransferRunner } from './transfer-threads.js';
import { assertRepoId, assertRevision, isCommitSha, printable } from './names.js';
import { listRepoFiles, resolveCommit, type HubAccess, type RemoteFile } from './repo-files.js';
import { hashFile } from './hashing.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';

/** Files fetched at once by default (huggingface_hub uses 8 workers too). */
export const DEFAULT_CONCURRENCY = 8;
/** An attempt with no byte for this long is abandoned and retried. */
export const DEFAULT_STALL_TIMEOUT_MS = 60_000;

export type DownloadDestination = { kind: 'cache'; cacheDir: string } | { kind: 'local'; dir: string };

/** Which files of which snapshot, where, and from which endpoint (what download and verify share). */
export interface RepoSelection {
  /** Branch, tag or commit (default `main`). */
  revision?: string;
  include?: string[];
  exclude?: string[];
  destination: DownloadDestination;
  endpoint: string;
  /** Bearer token for the endpoint's origin only. */
  token?: string;
  /** Base fetch (tests inject one); wrapped with token and redirect handling. */
  fetch?: typeof fetch;
  /** HF_HUB_OFFLINE: use the cache only, no network. */
  offline?: boolean;
  retry?: Partial<RetryPolicy>;
  signal?: AbortSignal;
}

export interface DownloadParams extends RepoSelection {
  /** Model repo id, `org/name`. */
  repo: string;
  concurrency?: number;
  /** Plan only: list what would be downloaded. */
  dryRun?: boolean;
  stallTimeoutMs?: number;
  /** Worker threads for transfers (default: one per concurrent file, at most the number of cores). */
  threads?: number;
  /** Re-hash files already in place; fetch again those that fail (default: sizes checked only). */
  repair?: boolean;
  /** Fetch every file again, ignoring files in place and partial files. */
  forceDownload?: boolean;
  /** Wait for another process downloading the same file (default true); false: fail at once (E_BUSY). */
  waitForLock?: boolean;
  /** Free-space probe (tests inject one). */
  freeBytes?: (dir: string) => Promise<number>;
  onEvent?: (e: DownloadEvent) => void;
}

export type DownloadEvent =
  | { type: 'plan'; commit: string; files: RemoteFile[]; totalBytes: number; doneBytes: number }
  | { type: 'start'; path: string; size: number; slot: number }
  | { type: 'bytes'; path: string; delta: number; slot: number }
  | { type: 'done'; path: string; slot: number }
  /** --repair: bytes of the files in place re-hashed so far. */
  | { type: 'check'; path: string; doneBytes: number; totalBytes: number }
  /** Another process holds the lock of this file: waiting for it. */
  | { type: 'wait'; path: string; holder: string; lock: string; waitedMs: number; first: boolean }
  /** TransferEvent's retry covers bodies; listing and commit requests report theirs with `path` naming the request. */
  | TransferEvent;

export type FileStatus = 'downloaded' | 'present' | 'planned';

export interface DownloadedFile {
  path: string;
  size: number;
  hashKind: RemoteFile['hash']['kind'];
  hash: string;
  status: FileStatus;
  /** Bytes kept from an earlier run (resumed files). */
  resumedFrom?: number;
  /** --repair: the copy in place failed its hash check and was fetched again. */
  repaired?: boolean;
}

export interface DownloadSummary {
  repo: string;
  revision: string;
  commit: string;
  /** Folder holding the files under their repo paths (snapshot folder or local dir). */
  path: string;
  layout: DownloadDestination['kind'];
  dryRun: boolean;
  files: DownloadedFile[];
  totals: { files: number; bytes: number; downloadedFiles: number; presentFiles: number; bytesToFetch: number; repairedFiles: number };
  /**
   * How files already in place were checked in this run: 'hash' (--repair: re-hashed), 'size' (the
   * default: size only, not re-hashed), 'none' (offline: only listed from the cache).
   */
  presentCheck: 'hash' | 'size' | 'none';
  /** Every file in the result had its size and hash checked in this run (downloaded, or re-hashed with --repair). */
  verified: boolean;
}

async function sizeIfFile(p: string): Promise<number> {
  try {
    const s = await stat(p);
    return s.isFile() ? s.size : 0;
  } catch {
    return 0;
  }
}

/** The resolve URL of one file at a commit (each path segment encoded). */
export function resolveUrl(endpoint: string, repo: string, commit: string, path: string): string {
  return `${endpoint}/${repo}/resolve/${commit}/${path.split('/').map(encodeURIComponent).join('/')}`;
}

async function offlineSummary(p: DownloadParams, revision: string): Promise<DownloadSummary> {
  if (p.destination.kind !== 'cache') {
    throw new NetworkError('E_OFFLINE', 'HF_HUB_OFFLINE is set: --local-dir downloads need the network', { hint: 'unset HF_HUB_OFFLINE' });
  }
  const commit = isCommitSha(revision) ? revision : await readCachedRef(p.destination.cacheDir, p.repo, revision);
  const snap = commit && join(p.destination.cacheDir, repoFolderName(p.repo), 'snapshots', commit);
  const entries = snap ? await readdir(snap, { recursive: true, withFileTypes: true }).catch(() => undefined) : undefined;
  if (!commit || !snap || !entries) {
    throw new NetworkError('E_OFFLINE', `HF_HUB_OFFLINE is set and ${p.repo}@${revision} is not in the cache ${p.destination.cacheDir}`, {
      hint: 'unset HF_HUB_OFFLINE to download it',
    });
  }
  const files: DownloadedFile[] = [];
  for (const e of entries) {
    if (e.isDirectory()) continue;
    const full = join(e.parentPath ?? (e as { path?: string }).path ?? snap, e.name);
    const rel = full.slice(snap.length + 1).split('\\').join('/');
    const size = await sizeIfFile(full);
    const blobName = basename(await realpath(full).catch(() => full));
    const kind = hashKindOf(blobName);
    files.push({ path: rel, size, hashKind: kind ?? 'sha256', hash: kind ? blobName : '', status: 'present' });
  }
  const bytes = files.reduce((a, f) => a + f.size, 0);
  return {
    repo: p.repo, revision, commit, path: snap, layout: 'cache', dryRun: Boolean(p.dryRun), files, presentCheck: 'none', verified: false,
    totals: { files: files.length, bytes, downloadedFiles: 0, presentFiles: files.length, bytesToFetch: 0, repairedFiles: 0 },
  };
}

/**
 * Download `repo` at one commit into the cache or a local directory.
 * @example await downloadRepo({ repo: 'MiniMaxAI/MiniMax-M1-40k', destination: { kind: 'cache', cacheDir }, endpoint })
 */
export async function downloadRepo(p: DownloadParams): Promise<DownloadSummary> {
  const revision = p.revision ?? 'main';
  // both become path components (models--org--name, refs/<revision>): checked before anything else
  assertRepoId(p.repo);
  assertRevision(revision);
  if (p.offline) return offlineSummary(p, revision);
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...p.retry };
  const hubFetch = createHubFetch({
    endpoint: p.endpoint,
    headersTimeoutMs: p.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
    ...(p.token !== undefined ? { token: p.token } : {}),
    ...(p.fetch ? { fetch: p.fetch } : {}),
  });
  const auth = { endpoint: p.endpoint, ...(p.token !== undefined ? { token: p.token } : {}) };
  const hub: HubAccess = {
    endpoint: p.endpoint, fetch: hubFetch, retry, ...(p.signal ? { signal: p.signal } : {}),
    onRetry: (e) => p.onEvent?.({ type: 'retry', path: e.what, attempt: e.attempt, delayMs: e.delayMs, reason: e.reason }),
  };
  // bodies over raw sockets in worker threads unless a fetch was injected (then everything goes through
  // it); the threads start now, so that they are ready when the listing is done
  const concurrency = p.concurrency ?? DEFAULT_CONCURRENCY;
  const threads = p.threads ?? Math.min(concurrency, availableParallelism());
  const threaded = !p.dryRun && !p.fetch && threads > 1 && threadsAvailable() ? threadRunner(threads, auth) : undefined;
  try {
    return await download(p, revision, retry, hub, auth, concurrency, threaded);
  } finally {
    await threaded?.close();
  }
}

async function download(
  p: DownloadParams,
  revision: string,
  retry: RetryPolicy,
  hub: HubAccess,
  auth: { endpoint: string; token?: string },
  concurrency: number,
  threaded: TransferRunner | undefined,
): Promise<DownloadSummary> {
  const commit = await resolveCommit(hub, p.repo, revision);
  const listed = await listRepoFiles(hub, p.repo, commit);
  const files = filterPaths(listed, { include: p.include ?? [], exclude: p.exclude ?? [] }, (f) => f.path);
  const target: DownloadTarget =
    p.destination.kind === 'cache' ? cacheTarget(p.destination.cacheDir, p.repo, commit, revision) : localTarget(p.destination.dir, commit);

  for (const f of files) {
    const bad = target.pathProblem(f);
    if (bad !== undefined) {
      throw new InputError(bad.code, `${printable(f.path)}: cannot be written in ${target.root}: ${bad.why}`, {
        hint: bad.code === 'E_PATH_TOO_LONG' ? 'choose a shorter --cache-dir or --local-dir, or --exclude the file' : 'download into the cache instead, or --exclude the file',
      });
    }
  }

  // files in place: size checked (the default), or re-hashed (--repair); --force-download ignores them
  const done = new Set<string>();
  const repairs = new Set<string>();
  if (!p.forceDownload) {
    for (const f of files) {
      throwIfAborted(p.signal);
      if (await target.isComplete(f)) done.add(f.path);
    }
  }
  if (p.repair && done.size > 0) {
    const present = files.filter((f) => done.has(f.path));
    const checkTotal = present.reduce((a, f) => a + f.size, 0);
    let checked = 0;
    for (const f of present) {
      const digest = await hashFile(target.filePath(f), f.hash.kind, f.size, {
        ...(p.signal ? { signal: p.signal } : {}),
        onBytes: (n) => p.onEvent?.({ type: 'check', path: f.path, doneBytes: (checked += n), totalBytes: checkTotal }),
      });
      if (digest !== f.hash.hex) {
        done.delete(f.path);
        repairs.add(f.path);
      }
    }
  }
  const todo = files.filter((f) => !done.has(f.path));
  // files with identical content share one blob in the cache: fetch it once, link the others after
  const byPartial = new Map<string, RemoteFile[]>();
  for (const f of todo) byPartial.set(target.partialPath(f), [...(byPartial.get(target.partialPath(f)) ?? []), f]);
  const unique = [...byPartial.values()].map((group) => group[0]!);
  let partialBytes = 0;
  for (const f of unique) partialBytes += Math.min(f.size, await sizeIfFile(target.partialPath(f)));
  const sum = (list: RemoteFile[]) => list.reduce((a, f) => a + f.size, 0);
  const totalBytes = sum(files);
  const presentBytes = sum(files.filter((f) => done.has(f.path)));
  const bytesToFetch = sum(unique) - partialBytes;
  p.onEvent?.({ type: 'plan', commit, files, totalBytes: presentBytes + sum(unique), doneBytes: presentBytes + partialBytes });

  const outcome = new Map<string, DownloadedFile>();
  for (const f of files) {
    outcome.set(f.path, { path: f.path, size: f.size, hashKind: f.hash.kind, hash: f.hash.hex, status: done.has(f.path) ? 'present' : 'planned' });
  }
  if (!p.dryRun) {
    // a copy that failed its hash goes before anything is fetched (in the cache, the blob every snapshot links to)
    for (const f of files) if (repairs.has(f.path)) await target.discard(f);
    await target.begin();
    await checkFreeSpace(target.root, bytesToFetch, p.freeBytes ?? freeBytes);
    for (const f of files) if (done.has(f.path)) await target.relink(f); // blobs shared with an earlier commit
    const runner: TransferRunner = p.fetch ? inlineRunner(fetchTransport({ ...auth, fetch: p.fetch })) : (threaded ?? inlineRunner(rawTransport(auth)));
    await runPool(
      unique,
      concurrency,
      async (f, slot, signal) => {
        p.onEvent?.({ type: 'start', path: f.path, size: f.size, slot });
        const job: TransferJob = {
          url: resolveUrl(p.endpoint, p.repo, commit, f.path),
          file: f,
          partial: target.partialPath(f),
          retry,
          stallTimeoutMs: p.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
        };
        const release = await lockPartial(job.partial, f.path, {
          wait: p.waitForLock !== false,
          ...(signal ? { signal } : {}),
          onWait: (w) => p.onEvent?.({ type: 'wait', path: f.path, ...w }),
        });
        const group = byPartial.get(target.partialPath(f))!;
        let r: FetchFileResult | undefined;
        try {
          // another process may have finished this file while this one waited for its lock
          if (p.forceDownload || repairs.has(f.path) || !(await target.isComplete(f))) {
            if (p.forceDownload) await unlink(job.partial).catch(() => {});
            r = await runner.run(job, slot, signal, (delta) => p.onEvent?.({ type: 'bytes', path: f.path, delta, slot }), (e) => p.onEvent?.(e));
            await target.place(f);
          } else {
            await target.relink(f);
          }
        } finally {
          await release();
        }
        for (const twin of group.slice(1)) await target.relink(twin);
        for (const g of group) {
          const o = outcome.get(g.path)!;
          o.status = r ? 'downloaded' : 'present';
          if (r && repairs.has(g.path)) o.repaired = true;
        }
        if (r && r.resumedFrom > 0) outcome.get(f.path)!.resumedFrom = r.resumedFrom;
        p.onEvent?.({ type: 'done', path: f.path, slot });
      },
      p.signal,
    );
  }
  const list = [...outcome.values()];
  const count = (st: FileStatus) => list.filter((f) => f.status === st).length;
  const presentCheck = p.repair ? 'hash' : 'size';
  return {
    repo: p.repo,
    revision,
    commit,
    path: target.filesDir,
    layout: target.kind,
    dryRun: Boolean(p.dryRun),
    files: list,
    totals: {
      files: files.length, bytes: totalBytes, downloadedFiles: p.dryRun ? 0 : count('downloaded'), presentFiles: p.dryRun ? done.size : count('present'), bytesToFetch,
      repairedFiles: list.filter((f) => f.repaired).length,
    },
    presentCheck,
    verified: !p.dryRun && (presentCheck === 'hash' || count('present') === 0),
  };
}
