/**
 * Errors of writes, named by the file written: a full disk or quota (ENOSPC, EDQUOT) is E_DISK_FULL,
 * a read-only file system (EROFS) E_READ_ONLY, a permission refusal (EACCES, EPERM) E_PERMISSION, all
 * exit 3 with a one-line message, from buffered writes, fsync, rename, fallocate and in-kernel copies
 * alike. Anything else is passed through unchanged.
 */
import { ExitCode, M1kitError } from '../errors.js';
import { freeBytes } from './disk-space.js';

const DISK_FULL_HINT = 'free disk space (or choose another output) and run the same command again; finished files are kept';

/** Errno names and strerror texts (the native copy reports the latter) of each class. */
const CLASSES: { code: string; errnos: string[]; texts: RegExp; what: string; hint: string }[] = [
  { code: 'E_DISK_FULL', errnos: ['ENOSPC', 'EDQUOT'], texts: /No space left on device|Disk quota exceeded/i, what: 'no space left on device', hint: DISK_FULL_HINT },
  { code: 'E_READ_ONLY', errnos: ['EROFS'], texts: /Read-only file system/i, what: 'read-only file system', hint: 'choose an output on a writable file system' },
  { code: 'E_PERMISSION', errnos: ['EACCES', 'EPERM'], texts: /Permission denied|Operation not permitted/i, what: 'permission denied', hint: 'choose an output directory you can write to' },
];

/**
 * The typed error for a failed write of `file`, or `e` itself when it is of no write class.
 * @example try { await fd.write(buf) } catch (e) { throw writeError(e, path) }
 */
export function writeError(e: unknown, file: string): unknown {
  if (e instanceof M1kitError && CLASSES.some((c) => c.code === e.code) && e.file !== undefined) return e; // already named
  const err = e as { code?: unknown; message?: unknown; errno?: unknown };
  const code = typeof err?.code === 'string' ? err.code : undefined;
  const message = typeof err?.message === 'string' ? err.message : '';
  for (const c of CLASSES) {
    const native = e instanceof M1kitError && (e.code === c.code || (e.code === 'E_IO' && c.texts.test(message)));
    if ((code !== undefined && c.errnos.includes(code)) || native) {
      return new M1kitError(c.code, ExitCode.badInput, `${file}: ${c.what}${code && c.errnos.includes(code) && code !== c.errnos[0] ? ` (${code})` : ''}`, { hint: c.hint, cause: e, file });
    }
  }
  return e;
}

/** Run `fn`; a write-class failure comes back as a typed error naming `file`. */
export async function writing<T>(file: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw writeError(e, file);
  }
}

/** Bytes kept free beyond the files themselves (index, config, manifest, state records, file system slack). */
export const FREE_SPACE_MARGIN = 16 * 1024 * 1024;

/**
 * Refuse to start (E_DISK_FULL, exit 3) when `needed` bytes do not fit where `path` will be written.
 * @example await checkFreeSpace('out', plan.totalBytes, 'convert')
 */
export async function checkFreeSpace(path: string, needed: number, free: (path: string) => Promise<number> = freeBytes): Promise<void> {
  if (needed <= 0) return;
  const have = await free(path);
  if (have < needed + FREE_SPACE_MARGIN) {
    const gb = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : `${(n / 1e6).toFixed(1)} MB`);
    throw new M1kitError('E_DISK_FULL', ExitCode.badInput, `${path}: not enough free space: the output needs ${gb(needed)}, ${gb(have)} available`, { hint: 'free disk space or choose another output; nothing was written', file: path });
  }
}
