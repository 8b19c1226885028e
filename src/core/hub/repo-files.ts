/**
 * Repository listing through @huggingface/hub (`modelInfo` for the commit, `listFiles` for the tree),
 * with the hub URL and fetch injected, bounded retries, and hub errors turned into typed one-line errors.
 */
import { HubApiError, listFiles, modelInfo } from '@huggingface/hub';
import { M1kitError, NetworkError } from '../errors.js';
import type { ContentHash } from './hashing.js';
import { checkListingPaths, printable, repoPathProblem } from './names.js';
import { RetryableError, describeNetworkFailure, isRetryableStatus, withRetry, type RetryPolicy } from './retry.js';

/** One file of the repository at a commit. */
export interface RemoteFile {
  /** Path inside the repo, `/`-separated, validated as a safe relative path. */
  path: string;
  size: number;
  /** Stored through LFS (served by a CDN redirect). */
  lfs: boolean;
  /** sha256 for LFS files, git blob sha1 otherwise; its hex is also the blob name in the cache. */
  hash: ContentHash;
}

export interface HubAccess {
  endpoint: string;
  fetch: typeof fetch;
  retry: RetryPolicy;
  signal?: AbortSignal;
  /** Called before each retry of a listing call: what failed, why, the attempt that failed, the delay. */
  onRetry?: (e: { what: string; attempt: number; delayMs: number; reason: string }) => void;
}

/** Most entries accepted from one listing (M1 has ~420 files). */
export const MAX_LISTED_FILES = 1_000_000;

/** Map a failed hub API call to a typed error; `what` names the object ("repository org/m1"). */
export function hubError(err: unknown, what: string): M1kitError | RetryableError | unknown {
  if (!(err instanceof HubApiError)) return err;
  const s = err.statusCode;
  if (isRetryableStatus(s)) return new RetryableError(`HTTP ${s} from the hub for ${what}`);
  if (s === 401 || s === 403) {
    // the hub answers 401 for a missing repo as well as a private one when no token is sent
    const msg = s === 401 ? `${what}: not found or not accessible without a token (HTTP 401)` : `access to ${what} denied (HTTP 403)`;
    return new NetworkError('E_AUTH', msg, {
      hint: 'check the repository id; if it is gated or private, accept its terms on the hub and set HF_TOKEN to a token with read access',
    });
  }
  if (s === 404) return new NetworkError('E_REMOTE_NOT_FOUND', `${what} not found (HTTP 404)`, { hint: 'check the repository id, the --revision and the endpoint' });
  return new NetworkError('E_HTTP', `HTTP ${s} from the hub for ${what}`);
}

async function call<T>(hub: HubAccess, what: string, fn: () => Promise<T>): Promise<T> {
  return withRetry(
    async () => {
      try {
        return await fn();
      } catch (err) {
        throw hubError(err, what);
      }
    },
    hub.retry,
    {
      label: what,
      ...(hub.signal ? { signal: hub.signal } : {}),
      onRetry: (attempt, delayMs, err) => hub.onRetry?.({ what, attempt, delayMs, reason: describeNetworkFailure(err) }),
    },
  );
}

/**
 * Resolve a branch, tag or commit to the 40-hex commit it names, once per download.
 * @example await resolveCommit(hub, 'MiniMaxAI/MiniMax-M1-40k', 'main')
 */
export async function resolveCommit(hub: HubAccess, repo: string, revision: string): Promise<string> {
  const info = await call(hub, `repository ${repo} at revision "${revision}"`, () =>
    modelInfo({ name: repo, revision, hubUrl: hub.endpoint, fetch: hub.fetch, additionalFields: ['sha'] }),
  );
  const sha = (info as { sha?: unknown }).sha;
  if (typeof sha !== 'string' || !/^[0-9a-f]{40}$/.test(sha)) {
    throw new NetworkError('E_BAD_LISTING', `the hub returned no commit for ${repo} at "${revision}" (sha: ${JSON.stringify(sha)})`);
  }
  // a commit asked for is the commit served: otherwise refs/<that sha> would name another snapshot
  if (/^[0-9a-f]{40}$/.test(revision) && sha !== revision) {
    throw new NetworkError('E_BAD_LISTING', `asked for commit ${revision} of ${repo}, the hub answered commit ${sha}`);
  }
  return sha;
}

function toRemoteFile(e: { type: string; path: string; size: number; oid?: string; lfs?: { oid: string; size: number } }, repo: string): RemoteFile {
  const bad = (why: string) => new NetworkError('E_BAD_LISTING', `listing of ${repo}: entry "${printable(e.path)}" ${why}`, { hint: 'the hub (or mirror) sent a path m1kit will not write; nothing was downloaded' });
  const unsafe = typeof e.path === 'string' ? repoPathProblem(e.path) : 'has no path';
  if (unsafe !== undefined) throw bad(unsafe);
  if (e.lfs) {
    if (!/^[0-9a-f]{64}$/.test(e.lfs.oid)) throw bad(`has LFS oid "${e.lfs.oid}", expected 64 hex digits`);
    if (!Number.isSafeInteger(e.lfs.size) || e.lfs.size < 0) throw bad(`has LFS size ${e.lfs.size}`);
    return { path: e.path, size: e.lfs.size, lfs: true, hash: { kind: 'sha256', hex: e.lfs.oid } };
  }
  if (typeof e.oid !== 'string' || !/^[0-9a-f]{40}$/.test(e.oid)) throw bad(`has git oid "${e.oid}", expected 40 hex digits`);
  if (!Number.isSafeInteger(e.size) || e.size < 0) throw bad(`has size ${e.size}`);
  return { path: e.path, size: e.size, lfs: false, hash: { kind: 'git-sha1', hex: e.oid } };
}

/**
 * Every file of `repo` at `commit` (recursive, pages followed), sorted by path.
 * @example await listRepoFiles(hub, 'org/m1', commit)
 */
export async function listRepoFiles(hub: HubAccess, repo: string, commit: string): Promise<RemoteFile[]> {
  return call(hub, `file list of ${repo} at ${commit.slice(0, 12)}`, async () => {
    const out: RemoteFile[] = [];
    for await (const e of listFiles({ repo: { type: 'model', name: repo }, revision: commit, recursive: true, hubUrl: hub.endpoint, fetch: hub.fetch })) {
      if (e.type !== 'file') continue;
      out.push(toRemoteFile(e, repo));
      if (out.length > MAX_LISTED_FILES) throw new NetworkError('E_BAD_LISTING', `listing of ${repo} has more than ${MAX_LISTED_FILES} files`);
    }
    return checkListingPaths(out, repo).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  });
}
