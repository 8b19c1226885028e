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
import { dirname, join, relative } from 'node:path';
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
}

/** `org/name` → `models--org--name` (huggingface_hub's repo folder name). */
export function repoFolderName(repo: string): string {
  return ['models', ...repo.split('/')].join('--');
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
  const tmp = `${file}.${process.pid}.tmp`;
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
  };
}

/** Read `refs/<revision>` of a cached repo; undefined when absent. */
export async function readCachedRef(cacheDir: string, repo: string, revision: string): Promise<string | undefined> {
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
  return {
    kind: 'local',
    root: dir,
    filesDir: dir,
    async begin() {
      await mkdir(meta, { recursive: true });
    },
    partialPath: (f) => `${join(meta, ...f.path.split('/'))}.${f.hash.hex}.incomplete`,
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
      await rename(this.partialPath(f), filePath(f));
      await writeAtomic(metaPath(f), `${commit}\n${f.hash.hex}\n${Date.now() / 1000}\n`);
    },
    filePath,
  };
}
