/**
 * A checkpoint argument as transformers and vLLM read one: a local path, or a repo id (`org/name`,
 * optionally `org/name@revision`) found in the Hugging Face cache as
 * `models--org--name/snapshots/<commit>`, the commit named by `refs/<revision>` (default `main`) or
 * given directly. A local path of the same name wins. Nothing is fetched: a repo id that is not in the
 * cache is a one-line error that says how to download it.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import { readCachedRef, repoFolderName } from './cache-layout.js';
import { assertRevision, isCommitSha, isRepoId } from './names.js';

export interface ResolvedCheckpoint {
  /** What the user gave. */
  input: string;
  /** The path to open: the argument itself, or the snapshot folder in the cache. */
  path: string;
  /** Set when the argument was resolved as a repo id. */
  repo?: string;
  revision?: string;
  commit?: string;
}

export interface ResolveCheckpointOptions {
  /** Hub cache folder (HF_HUB_CACHE / HF_HOME/hub / --cache-dir, as `download` uses). */
  cacheDir: string;
  /** Revision for a repo id (else the `@revision` suffix, else `main`). */
  revision?: string;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/**
 * Resolve a checkpoint argument to a path.
 * @example await resolveCheckpoint('MiniMaxAI/MiniMax-M1-40k', { cacheDir: hubCacheDir() }) // → …/snapshots/<commit>
 */
export async function resolveCheckpoint(arg: string, opts: ResolveCheckpointOptions): Promise<ResolvedCheckpoint> {
  if (await exists(arg)) return { input: arg, path: arg };
  const at = arg.indexOf('@');
  const repo = at >= 0 ? arg.slice(0, at) : arg;
  if (!isRepoId(repo)) return { input: arg, path: arg }; // not a repo id: the command reports the missing path
  const suffix = at >= 0 ? arg.slice(at + 1) : undefined;
  if (suffix !== undefined && opts.revision !== undefined && suffix !== opts.revision) {
    throw new UsageError(`${arg} names revision "${suffix}" but --revision says "${opts.revision}"`);
  }
  const revision = opts.revision ?? suffix ?? 'main';
  assertRevision(revision);
  const repoDir = join(opts.cacheDir, repoFolderName(repo));
  const commit = isCommitSha(revision) ? revision : await readCachedRef(opts.cacheDir, repo, revision);
  const snapshot = commit ? join(repoDir, 'snapshots', commit) : undefined;
  if (!snapshot || !(await exists(snapshot))) {
    const where = !(await exists(repoDir)) ? `not in the Hugging Face cache ${opts.cacheDir}` : commit ? `snapshot ${commit} is not in ${repoDir}` : `no refs/${revision} in ${repoDir}`;
    const rev = revision !== 'main' ? ` --revision ${revision}` : '';
    throw new InputError('E_NOT_CACHED', `${arg}: no such local directory, and ${where}`, {
      hint: `download it first: m1kit download ${repo}${rev} (or pass --cache-dir / set HF_HUB_CACHE to where it is)`,
    });
  }
  return { input: arg, path: snapshot, repo, revision, commit: commit! };
}
