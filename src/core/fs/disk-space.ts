/** Free-space preflight: refuse to start when the bytes still to download do not fit. */
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ExitCode, M1kitError } from '../errors.js';

/** Free bytes available to this user on the file system holding `dir` (nearest existing ancestor). */
export async function freeBytes(dir: string): Promise<number> {
  let d = dir;
  for (;;) {
    try {
      const s = await statfs(d);
      return s.bavail * s.bsize;
    } catch (err) {
      const parent = dirname(d);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === d) throw err;
      d = parent;
    }
  }
}

/**
 * Throw E_DISK_FULL (exit 3) when `needed` bytes do not fit in `dir`.
 * @example await checkFreeSpace('/data/hf', 912e9)
 */
export async function checkFreeSpace(dir: string, needed: number, free: (dir: string) => Promise<number> = freeBytes): Promise<void> {
  if (needed <= 0) return;
  const have = await free(dir);
  if (have < needed) {
    const gb = (n: number) => `${(n / 1e9).toFixed(2)} GB`;
    throw new M1kitError('E_DISK_FULL', ExitCode.badInput, `not enough free space in ${dir}: need ${gb(needed)} more, ${gb(have)} available`, {
      hint: 'free disk space, pick another --cache-dir/--local-dir, or narrow the download with --include',
    });
  }
}
