/**
 * One process per partial file: `<partial>.lock` holds `pid host` and is created atomically with its
 * content (written to a private file, then hard-linked into place), so a reader never sees it empty.
 * A lock whose process is gone (killed run) is taken over; a live one is waited for (polling, abortable),
 * as huggingface_hub's file locks are, or with `wait: false` makes this run fail at once naming the holder.
 * Taking over renames the stale lock first and checks it was the one judged stale, so two runs that
 * both find the same stale lock never delete each other's fresh one.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InputError } from '../errors.js';
import { sleep } from './retry.js';
import { processAlive } from '../fs/process-alive.js';

/** How often a waiting run looks at the lock again (ms). */
export const LOCK_POLL_MS = 500;
/** A lock file without a readable owner older than this is left from a crash of an older m1kit (ms). */
export const UNREADABLE_LOCK_STALE_MS = 10_000;

export interface LockOptions {
  /** Wait for a live holder (default true); false: fail at once with E_BUSY naming it. */
  wait?: boolean;
  signal?: AbortSignal;
  /** Called when this run starts waiting and then about every `notifyEveryMs`. */
  onWait?: (w: { holder: string; lock: string; waitedMs: number; first: boolean }) => void;
  notifyEveryMs?: number;
  pollMs?: number;
}

/** Locks this process holds (a second download in the same process waits for the first, too). */
const held = new Set<string>();

/** Create `lock` holding `content`, atomically; false when it already exists. */
async function create(lock: string, content: string): Promise<boolean> {
  const tmp = `${lock}.${process.pid}.${randomBytes(6).toString('hex')}.new`;
  await writeFile(tmp, content, { flag: 'wx' });
  try {
    await link(tmp, lock);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

type Holder = { state: 'gone' } | { state: 'stale'; content: string } | { state: 'live'; who: string; content: string };

async function holderOf(lock: string): Promise<Holder> {
  let content: string;
  try {
    content = await readFile(lock, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'gone' };
    throw err;
  }
  const [pid, host] = content.trim().split(' ');
  const owner = Number(pid);
  if (!Number.isInteger(owner) || owner <= 0 || !host) {
    const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
    return age > UNREADABLE_LOCK_STALE_MS ? { state: 'stale', content } : { state: 'live', who: 'an unknown process', content };
  }
  if (host !== hostname()) return { state: 'live', who: `pid ${owner} on host ${host}`, content };
  if (owner === process.pid) return held.has(lock) ? { state: 'live', who: 'another download in this process', content } : { state: 'stale', content };
  if (!processAlive(owner)) return { state: 'stale', content };
  return { state: 'live', who: `pid ${owner}`, content };
}

/** Remove a stale lock, unless it changed since it was judged stale (then it is put back). */
async function takeOver(lock: string, staleContent: string): Promise<void> {
  const aside = `${lock}.${process.pid}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(lock, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const content = await readFile(aside, 'utf8').catch(() => staleContent);
  if (content !== staleContent) await link(aside, lock).catch(() => {}); // a fresh lock moved by mistake: restore it
  await unlink(aside).catch(() => {});
}

/**
 * Take the lock for `partial` (`what` names the file in messages); returns the release function.
 * @example const release = await lockPartial(blob + '.incomplete', 'model-00001.safetensors', { signal }); try { … } finally { await release() }
 */
export async function lockPartial(partial: string, what: string, opts: LockOptions = {}): Promise<() => Promise<void>> {
  const lock = `${partial}.lock`;
  const content = `${process.pid} ${hostname()}\n`;
  await mkdir(dirname(lock), { recursive: true });
  const started = Date.now();
  let notified = -Infinity;
  for (;;) {
    if (await create(lock, content)) {
      held.add(lock);
      return async () => {
        held.delete(lock);
        await unlink(lock).catch(() => {});
      };
    }
    const h = await holderOf(lock);
    if (h.state === 'gone') continue;
    if (h.state === 'stale') {
      await takeOver(lock, h.content);
      continue;
    }
    if (opts.wait === false) {
      throw new InputError('E_BUSY', `${what} is being downloaded by ${h.who} (lock ${lock})`, {
        hint: `run without --no-wait to wait for it; if no download is running there, remove ${lock}`,
      });
    }
    const waitedMs = Date.now() - started;
    if (waitedMs - notified >= (opts.notifyEveryMs ?? 10_000)) {
      opts.onWait?.({ holder: h.who, lock, waitedMs, first: notified === -Infinity });
      notified = waitedMs;
    }
    await sleep(opts.pollMs ?? LOCK_POLL_MS, opts.signal);
  }
}
