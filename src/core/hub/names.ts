/**
 * Names that come from the user or the hub and end up as path components: repository ids, revisions and
 * the paths of a repository listing. Each is checked here, before it is joined to any directory.
 * - repo ids follow huggingface_hub's rules: `org/name`, 1–96 characters of [A-Za-z0-9._-] per part,
 *   starting and ending with a letter, digit or `_`, no `--` or `..`, not ending in `.git`;
 * - revisions are a 40-hex commit or a git ref name (git check-ref-format: no `..`, no component that
 *   starts with `.` or ends with `.lock`, no control characters, space, `~^:?*[\`, no `@{`, no `//`);
 * - listed paths are relative, `/`-separated, with no empty, `.` or `..` component, no NUL, backslash or
 *   control character, and no component longer than a file name may be.
 */
import { ExitCode, M1kitError, NetworkError } from '../errors.js';

/** Longest file name on the file systems models live on (ext4, xfs, btrfs, zfs: 255 bytes). */
export const MAX_NAME_BYTES = 255;
/** Longest path the kernel accepts (PATH_MAX, bytes, including the terminating NUL). */
export const MAX_PATH_BYTES = 4096;
/** huggingface_hub's bound on a repository id's name part. */
export const MAX_REPO_NAME_CHARS = 96;
/** Longest revision accepted: a ref name has at most a few components; 255 bytes each is the file-name bound. */
export const MAX_REVISION_BYTES = 1024;

const REPO_PART = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;
const COMMIT = /^[0-9a-f]{40}$/;

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Why `s` is not a model repo id `org/name`, or undefined when it is one. */
export function repoIdProblem(s: string): string | undefined {
  const parts = s.split('/');
  if (parts.length !== 2) return 'expected org/name';
  for (const p of parts) {
    if (p.length === 0 || p.length > MAX_REPO_NAME_CHARS) return `each part must have 1 to ${MAX_REPO_NAME_CHARS} characters`;
    if (!REPO_PART.test(p)) return 'each part uses letters, digits, "-", "_" and ".", and starts and ends with a letter, digit or "_"';
  }
  if (s.includes('--') || s.includes('..')) return '"--" and ".." are not allowed';
  if (s.endsWith('.git')) return 'must not end with ".git"';
  return undefined;
}

/** Check "org/name" (the form `download` accepts: a model repo id). */
export function isRepoId(s: string): boolean {
  return repoIdProblem(s) === undefined;
}

/** Throw a usage error (exit 2) unless `s` is a repo id. */
export function assertRepoId(s: string): void {
  const why = repoIdProblem(s);
  if (why !== undefined) throw new M1kitError('E_BAD_REPO_ID', ExitCode.usage, `"${printable(s)}" is not a repository id: ${why} (e.g. MiniMaxAI/MiniMax-M1-40k)`);
}

/** True for a full commit sha. */
export function isCommitSha(s: string): boolean {
  return COMMIT.test(s);
}

/** Why `rev` is neither a commit nor a safe git ref name, or undefined when it is fine. */
export function revisionProblem(rev: string): string | undefined {
  if (rev.length === 0) return 'it is empty';
  if (isCommitSha(rev)) return undefined;
  if (bytes(rev) > MAX_REVISION_BYTES) return `it is longer than ${MAX_REVISION_BYTES} bytes`;
  if (CONTROL.test(rev)) return 'it contains a control character or NUL';
  if (/[ ~^:?*[\\]/.test(rev)) return 'it contains one of space ~ ^ : ? * [ \\';
  if (rev.startsWith('/') || rev.endsWith('/')) return 'it starts or ends with "/"';
  if (rev.includes('..')) return 'it contains ".."';
  if (rev.includes('@{') || rev === '@') return 'it contains "@{" or is "@"';
  if (rev.endsWith('.')) return 'it ends with "."';
  for (const c of rev.split('/')) {
    if (c === '') return 'it contains "//"';
    if (c.startsWith('.')) return `its component "${c}" starts with "."`;
    if (c.endsWith('.lock')) return `its component "${c}" ends with ".lock"`;
    if (bytes(c) > MAX_NAME_BYTES) return `a component is longer than ${MAX_NAME_BYTES} bytes`;
  }
  return undefined;
}

/** Throw a usage error (exit 2) unless `rev` is a commit or a safe ref name; called before the revision is used anywhere. */
export function assertRevision(rev: string): void {
  const why = revisionProblem(rev);
  if (why !== undefined) {
    throw new M1kitError('E_BAD_REVISION', ExitCode.usage, `revision "${printable(rev)}" is not a commit or a git ref name: ${why}`, {
      hint: 'use a branch or tag name (main, v1.0, refs/pr/1) or a 40-hex commit',
    });
  }
}

/** Why a listed path is unsafe as a relative path below a directory, or undefined when it is safe. */
export function repoPathProblem(p: string): string | undefined {
  if (typeof p !== 'string' || p.length === 0) return 'is empty';
  if (p.includes('\0')) return 'contains NUL';
  if (p.includes('\\')) return 'contains a backslash';
  if (CONTROL.test(p)) return 'contains a control character';
  if (p.startsWith('/')) return 'is absolute';
  if (bytes(p) >= MAX_PATH_BYTES) return `is longer than ${MAX_PATH_BYTES - 1} bytes`;
  for (const part of p.split('/')) {
    if (part === '') return 'has an empty component';
    if (part === '.' || part === '..') return `has a "${part}" component`;
    if (bytes(part) > MAX_NAME_BYTES) return `has a component of ${bytes(part)} bytes (at most ${MAX_NAME_BYTES})`;
  }
  return undefined;
}

/** Refuse paths that could escape the target directory or cannot be created (see repoPathProblem). */
export function isSafeRepoPath(p: string): boolean {
  return repoPathProblem(p) === undefined;
}

/**
 * Refuse a listing whose paths cannot all be files side by side: the same path twice with different
 * content, or a file that is also a parent folder of another (`a` and `a/b`). Identical repeats (a
 * paging overlap) are dropped. Returns the entries, deduplicated, in their order.
 */
export function checkListingPaths<T extends { path: string; size: number; hash: { hex: string } }>(entries: T[], what: string): T[] {
  const bad = (msg: string) => new NetworkError('E_BAD_LISTING', `listing of ${what}: ${msg}`, { hint: 'the hub (or mirror) sent an inconsistent file list; nothing was downloaded' });
  const byPath = new Map<string, T>();
  const out: T[] = [];
  for (const e of entries) {
    const seen = byPath.get(e.path);
    if (seen) {
      if (seen.size !== e.size || seen.hash.hex !== e.hash.hex) {
        throw bad(`"${printable(e.path)}" is listed twice with different content (${seen.size} bytes ${seen.hash.hex.slice(0, 12)}…, ${e.size} bytes ${e.hash.hex.slice(0, 12)}…)`);
      }
      continue;
    }
    byPath.set(e.path, e);
    out.push(e);
  }
  for (const e of out) {
    const parts = e.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (byPath.has(parent)) throw bad(`"${printable(parent)}" is listed as a file and is also the folder of "${printable(e.path)}"`);
    }
  }
  return out;
}

/** A name safe to put in a one-line message: control characters escaped, long names shortened. */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  const esc = String(s).replace(/[\u0000-\u001f\u007f\\]/g, (c) => (c === '\\' ? '\\\\' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
  return esc.length > 120 ? `${esc.slice(0, 60)}…(${bytes(s)} bytes)…${esc.slice(-20)}` : esc;
}
