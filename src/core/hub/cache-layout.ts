/**
 * Where downloaded files go. Two layouts:
 * - the Hugging Face cache (what transformers/vLLM read):
 *   `models--org--name/{refs/<rev>, blobs/<sha256|git-sha1>, snapshots/<commit>/<path> → ../../blobs/<hash>}`,
 *   partial data in `blobs/<hash>.incomplete` (kept across runs for resume);
 * - a plain directory (`--local-dir`): real files, plus huggingface_hub's metadata
 *   `.cache/huggingface/download/<path>.metadata` (commit, etag, timestamp) and partial data next to it.
 * A file is only put in place after its size and hash were checked, so "in place" means "verified".
 */
import { copyFile, mkdir, readFile, rename, stat, symlink, readlink, unlink, writeFile, lstat } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { basename, dirname, join, relative } from 'node:path';
import { MAX_NAME_BYTES, MAX_PATH_BYTES, assertRepoId, assertRevision, isCommitSha } from './names.js';
import type { RemoteFile } from './repo-files.js';

export interface DownloadTarget {
  kind: 'cache' | 'local';
  /** Repo folder in the cache, or the local directory. */
  root: string;
  /** Folder that holds the files under their repo paths (snapshot folder or the local directory). */
  filesDir: string;
  /** Create folders and (cache) write `refs/<revision>`. */
  begin(): Promise<void>;
  /** Path of the partial download of `f` (persists across runs). */
  partialPath(f: RemoteFile): string;
  /** True when `f` is already in place with the right size (no hashing, no change on disk). */
  isComplete(f: RemoteFile): Promise<boolean>;
  /** Make a file that is already in place visible at this commit (cache: snapshot link). */
  relink(f: RemoteFile): Promise<void>;
  /** Move the verified partial file into place and link or record it. */
  place(f: RemoteFile): Promise<void>;
  /** The path a user opens for `f`. */
  filePath(f: RemoteFile): string;
  /** Why `f` cannot be written in this layout (a path or name too long once joined, a clash with the layout's own files), or undefined. */
  pathProblem(f: RemoteFile): { code: 'E_PATH_TOO_LONG' | 'E_PATH_CONFLICT'; why: string } | undefined;
  /** Remove `f`'s content from this layout (a copy that failed verification, before it is fetched again). */
  discard(f: RemoteFile): Promise<void>;
}

/** `org/name` → `models--org--name` (huggingface_hub's repo folder name); the id is checked first. */
export function repoFolderName(repo: string): string {
  assertRepoId(repo);
  return ['models', ...repo.split('/')].join('--');
}

/** Room kept after a partial file's name for its lock and the lock's temporary names (file-lock.ts). */
const LOCK_SUFFIX_BYTES = 40;

/** Why the paths `f` needs are too long for the file system, or undefined. */
function lengthProblem(paths: string[]): { code: 'E_PATH_TOO_LONG'; why: string } | undefined {
  const tooLong = (why: string) => ({ code: 'E_PATH_TOO_LONG' as const, why });
  for (const p of paths) {
    if (Buffer.byteLength(p) >= MAX_PATH_BYTES) return tooLong(`its path in the target (${Buffer.byteLength(p)} bytes) is longer than the system allows (${MAX_PATH_BYTES - 1})`);
    const name = basename(p);
    if (Buffer.byteLength(name) > MAX_NAME_BYTES) return tooLong(`the file name "${name.slice(0, 40)}…" it needs has ${Buffer.byteLength(name)} bytes (at most ${MAX_NAME_BYTES})`);
  }
  return undefined;
}

async function sizeOf(p: string): Promise<number | undefined> {
  try {
    const s = await stat(p);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

async function writeAtomic(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  // a short temporary name: `<name>.<pid>.tmp` would not fit beside a name near the 255-byte limit
  const tmp = join(dirname(file), `.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  await writeFile(tmp, text);
  await rename(tmp, file);
}

/** Point `link` at `target` with a relative symlink (copy when the file system refuses symlinks). */
async function linkRelative(link: string, target: string): Promise<void> {
  await mkdir(dirname(link), { recursive: true });
  const rel = relative(dirname(link), target);
  try {
    if ((await readlink(link)) === rel) return;
  } catch {
    /* absent or not a link */
  }
  await unlink(link).catch(() => {});
  try {
    await symlink(rel, link);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
    await copyFile(target, link);
  }
}

/**
 * The Hugging Face cache layout for `repo` at `commit`, reached through `revision`.
 * @example cacheTarget('~/.cache/huggingface/hub', 'MiniMaxAI/MiniMax-M1-40k', sha, 'main')
 */
export function cacheTarget(cacheDir: string, repo: string, commit: string, revision: string): DownloadTarget {
  assertRevision(revision);
  if (!isCommitSha(commit)) throw new Error(`cacheTarget: "${commit}" is not a commit sha`);
  const root = join(cacheDir, repoFolderName(repo));
  const blob = (f: RemoteFile) => join(root, 'blobs', f.hash.hex);
  const snapshot = join(root, 'snapshots', commit);
  const filePath = (f: RemoteFile) => join(snapshot, ...f.path.split('/'));
  return {
    kind: 'cache',
    root,
    filesDir: snapshot,
    async begin() {
      await mkdir(join(root, 'blobs'), { recursive: true });
      // refs/ exists even for a download by commit: @huggingface/hub's scanCacheDir skips a repo without it
      await mkdir(join(root, 'refs'), { recursive: true });
      await mkdir(snapshot, { recursive: true });
      // refs are written after the snapshot folder exists: cache scanners reject refs to missing snapshots
      if (revision !== commit) await writeAtomic(join(root, 'refs', ...revision.split('/')), commit);
    },
    partialPath: (f) => `${blob(f)}.incomplete`,
    isComplete: async (f) => (await sizeOf(blob(f))) === f.size,
    relink: (f) => linkRelative(filePath(f), blob(f)),
    async place(f) {
      await rename(`${blob(f)}.incomplete`, blob(f));
      await linkRelative(filePath(f), blob(f));
    },
    filePath,
    pathProblem: (f) => lengthProblem([filePath(f), `${blob(f)}.incomplete${'.'.repeat(LOCK_SUFFIX_BYTES)}`]),
    discard: (f) => unlink(blob(f)).catch(() => {}),
  };
}

/** Read `refs/<revision>` of a cached repo; undefined when absent. */
export async function readCachedRef(cacheDir: string, repo: string, revision: string): Promise<string | undefined> {
  assertRevision(revision);
  try {
    const sha = (await readFile(join(cacheDir, repoFolderName(repo), 'refs', ...revision.split('/')), 'utf8')).trim();
    return /^[0-9a-f]{40}$/.test(sha) ? sha : undefined;
  } catch {
    return undefined;
  }
}

/** huggingface_hub's per-file metadata folder inside a local directory. */
export function localMetadataDir(dir: string): string {
  return join(dir, '.cache', 'huggingface', 'download');
}

/** Parse a local-dir `.metadata` file: commit, etag, timestamp (seconds). */
export async function readLocalMetadata(file: string): Promise<{ commit: string; etag: string; timestamp: number } | undefined> {
  try {
    const [commit, etag, ts] = (await readFile(file, 'utf8')).split('\n');
    if (!commit || !etag || !ts) return undefined;
    return { commit: commit.trim(), etag: etag.trim(), timestamp: Number(ts) };
  } catch {
    return undefined;
  }
}

/**
 * A plain directory with real files (`--local-dir`), compatible with `hf download --local-dir`.
 * @example localTarget('/models/m1', sha)
 */
export function localTarget(dir: string, commit: string): DownloadTarget {
  const meta = localMetadataDir(dir);
  const filePath = (f: RemoteFile) => join(dir, ...f.path.split('/'));
  const metaPath = (f: RemoteFile) => join(meta, ...f.path.split('/')) + '.metadata';
  // `<name>.<hash>.incomplete` beside the metadata; a name too long for that gets a short digest of it
  const partialPath = (f: RemoteFile) => {
    const name = `${basename(f.path)}.${f.hash.hex}.incomplete`;
    const short = Buffer.byteLength(name) > MAX_NAME_BYTES - LOCK_SUFFIX_BYTES ? `${createHash('sha1').update(basename(f.path)).digest('hex')}.${f.hash.hex}.incomplete` : name;
    return join(dirname(metaPath(f)), short);
  };
  return {
    kind: 'local',
    root: dir,
    filesDir: dir,
    async begin() {
      await mkdir(meta, { recursive: true });
    },
    partialPath,
    relink: async () => {},
    async isComplete(f) {
      const m = await readLocalMetadata(metaPath(f));
      if (!m || m.etag !== f.hash.hex) return false;
      try {
        const s = await lstat(filePath(f));
        // a file edited after it was recorded is not trusted (same rule as huggingface_hub)
        return s.isFile() && s.size === f.size && s.mtimeMs / 1000 <= m.timestamp + 1;
      } catch {
        return false;
      }
    },
    async place(f) {
      await mkdir(dirname(filePath(f)), { recursive: true });
      await rename(partialPath(f), filePath(f));
      await writeAtomic(metaPath(f), `${commit}\n${f.hash.hex}\n${Date.now() / 1000}\n`);
    },
    filePath,
    pathProblem(f) {
      // the metadata folder is m1kit's (and huggingface_hub's) own: a listed file there would overwrite it
      if (f.path === '.cache/huggingface' || f.path.startsWith('.cache/huggingface/')) {
        return { code: 'E_PATH_CONFLICT', why: 'it lies in .cache/huggingface/, where --local-dir keeps its download metadata' };
      }
      return lengthProblem([filePath(f), metaPath(f), `${partialPath(f)}${'.'.repeat(LOCK_SUFFIX_BYTES)}`]);
    },
    discard: (f) => unlink(filePath(f)).catch(() => {}),
  };
}
