/**
 * One process per partial file: `<partial>.lock` is created exclusively and holds `pid host`. A lock
 * whose process is gone (killed run) is taken over; a live one makes this run fail fast instead of two
 * processes appending to the same partial file.
 */
import { hostname } from 'node:os';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InputError } from '../errors.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Take the lock for `partial`; returns the release function.
 * @example const release = await lockPartial(blob + '.incomplete'); try { … } finally { await release() }
 */
export async function lockPartial(partial: string, what: string): Promise<() => Promise<void>> {
  const lock = `${partial}.lock`;
  await mkdir(dirname(lock), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = await open(lock, 'wx');
      await fd.writeFile(`${process.pid} ${hostname()}\n`);
      await fd.close();
      return () => unlink(lock).catch(() => {});
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const [pid, host] = (await readFile(lock, 'utf8').catch(() => '')).trim().split(' ');
      const owner = Number(pid);
      if (host === hostname() && Number.isInteger(owner) && owner !== process.pid && alive(owner)) {
        throw new InputError('E_BUSY', `${what} is being downloaded by another process (pid ${owner})`, {
          hint: `wait for it to finish, or remove ${lock} if that process is not m1kit`,
        });
      }
      if (host !== undefined && host !== hostname()) {
        throw new InputError('E_BUSY', `${what} is locked by host ${host} (${lock})`, { hint: 'remove the lock file if no download is running there' });
      }
      await unlink(lock).catch(() => {}); // left by a run that was killed
    }
  }
  throw new InputError('E_BUSY', `could not lock ${lock}`);
}
