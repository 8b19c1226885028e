/**
 * Opening untrusted input files: only regular files (symlinks are followed, as in the HF cache, but the
 * target must be a regular file), never blocking (a FIFO is refused before it is opened, and the open
 * itself is non-blocking in case one is swapped in), with errors that name the file.
 */
import { constants } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Stats } from 'node:fs';
import { InputError } from '../errors.js';

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function accessError(e: unknown, path: string, what: string): InputError | undefined {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return new InputError('E_NOT_FOUND', `${path}: no such file (expected ${what})`);
  if (code === 'ELOOP') return new InputError('E_NOT_REGULAR_FILE', `${path}: symbolic link loop; expected ${what} (a regular file)`);
  if (code === 'ENOTDIR') return new InputError('E_NOT_FOUND', `${path}: a path component is not a directory (expected ${what})`);
  if (code === 'EACCES' || code === 'EPERM') return new InputError('E_PERMISSION', `${path}: permission denied (reading ${what})`);
  if (code === 'ENAMETOOLONG') return new InputError('E_BAD_PATH', `${path}: name too long`);
  return undefined;
}

/**
 * Names of the regular files directly in `dir`, symlinks to regular files included (a HF cache snapshot
 * is all symlinks), FIFOs, devices, directories and dangling or looping links left out.
 */
export async function regularFilesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const out: string[] = [];
  for (const e of entries) {
    if (e.isFile()) out.push(e.name);
    else if (e.isSymbolicLink() && (await stat(join(dir, e.name)).catch(() => undefined))?.isFile()) out.push(e.name);
  }
  return out.sort();
}

/** stat(path) (following symlinks) that must be a regular file; errors name the file and what was expected. */
export async function statRegular(path: string, what = 'a regular file'): Promise<Stats> {
  let st: Stats;
  try {
    st = await stat(path);
  } catch (e) {
    throw accessError(e, path, what) ?? e;
  }
  if (!st.isFile()) throw new InputError('E_NOT_REGULAR_FILE', `${path}: is ${kindOf(st)}; expected ${what} (a regular file)`);
  return st;
}

/**
 * Open a regular file read-only without ever blocking; returns the handle and its size.
 * @example const { fd, size } = await openRegular('config.json', 'config.json');
 */
export async function openRegular(path: string, what = 'a regular file'): Promise<{ fd: FileHandle; size: number }> {
  const st = await statRegular(path, what);
  let fd: FileHandle;
  try {
    fd = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw accessError(e, path, what) ?? e;
  }
  const now = await fd.stat();
  if (!now.isFile() || now.ino !== st.ino || now.dev !== st.dev) {
    await fd.close();
    throw new InputError('E_NOT_REGULAR_FILE', `${path}: changed while being opened; expected ${what} (a regular file)`);
  }
  return { fd, size: now.size };
}

/** The whole content of a regular file of at most `maxBytes` (checked before reading). */
export async function readRegular(path: string, maxBytes: number, what = 'a regular file', tooLargeCode = 'E_FILE_TOO_LARGE'): Promise<Buffer> {
  const { fd, size } = await openRegular(path, what);
  try {
    if (size > maxBytes) throw new InputError(tooLargeCode, `${path}: ${size} bytes exceeds the ${maxBytes}-byte cap for ${what}`);
    const buf = Buffer.alloc(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await fd.read(buf, done, size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    if (done !== size) throw new InputError('E_TRUNCATED', `${path}: shrank while being read (${done} of ${size} bytes); expected ${what}`);
    return buf;
  } finally {
    await fd.close();
  }
}
