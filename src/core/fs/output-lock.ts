/**
 * One writer per output: a run that writes an output directory (or a GGUF file) holds a lock on it for
 * the whole run. The lock is a directory of holder records, `<lock>/<host>.<pid>.<n>.json`, each naming the
 * process (pid, host, process start time), the command, since when, and the plan it writes. Records
 * appear atomically (written aside, then renamed).
 *
 * Holders may share an output only when they write the same plan in disjoint pieces: `--part i/N` runs
 * of one plan (same N, different i) and `--finalize` runs. Anything else is refused at once, naming the
 * holder, or waited for (`wait`). A record whose process is gone (same host, pid not running, or running
 * but started at another time: a reused pid) is stale and removed. Two runs starting at the same instant
 * may both see each other and both refuse; neither writes, which is the safe outcome.
 */
import { hostname } from 'node:os';
import { mkdir, readdir, readFile, rename, rmdir, unlink, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, M1kitError, throwIfAborted } from '../errors.js';
import { processAlive } from './process-alive.js';

/** Name of the lock directory inside an output directory. */
export const LOCK_DIR = '.m1kit-lock';
/** Pause between two looks at the holders while waiting. */
const WAIT_POLL_MS = 1000;

export interface LockHolder {
  pid: number;
  host: string;
  /** Process start time (clock ticks since boot, /proc/<pid>/stat field 22) when known: tells a reused pid apart. */
  started?: number;
  command: string;
  since: string;
  /** Identity of what is written (plan hash); holders of different plans never share. */
  plan: string;
  /** Part i of N (a disjoint slice of the plan's files) or "finalize"; absent: the whole output. */
  share?: { part: number; count: number } | 'finalize';
}

export interface LockOptions {
  /** Identity of the plan written. */
  plan: string;
  share?: LockHolder['share'];
  /** Wait for incompatible holders to finish instead of failing. */
  wait?: boolean;
  /** Called once when this run starts waiting, with the holder it waits for. */
  onWait?: (holder: LockHolder, lockFile: string) => void;
  signal?: AbortSignal;
  /** Shown to other runs (default: this process's command line). */
  command?: string;
  /** What the lock protects, for messages (default: the lock directory's parent). */
  what?: string;
}

export interface OutputLock {
  readonly file: string;
  release(): Promise<void>;
}

function startTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) is in parentheses and may hold spaces: count from the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = Number(fields[19]);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** True when the holder's process is known to be gone (only decidable on this host). */
function stale(h: LockHolder): boolean {
  if (h.host !== hostname()) return false;
  if (h.pid === process.pid) return false; // another run of this process: alive
  if (!processAlive(h.pid)) return true;
  const now = startTime(h.pid);
  return h.started !== undefined && now !== undefined && now !== h.started;
}

/** Can holders `a` and `b` write the same output at once? */
export function compatible(a: Pick<LockHolder, 'plan' | 'share'>, b: Pick<LockHolder, 'plan' | 'share'>): boolean {
  if (a.plan !== b.plan || a.share === undefined || b.share === undefined) return false;
  if (a.share === 'finalize' || b.share === 'finalize') return true;
  return a.share.count === b.share.count && a.share.part !== b.share.part;
}

const describe = (h: LockHolder) => `pid ${h.pid} on ${h.host}, "${h.command}", since ${h.since}${h.share === undefined ? '' : h.share === 'finalize' ? ', finalizing' : `, part ${h.share.part}/${h.share.count}`}`;

/** Locks taken by this process so far: each gets its own record, so two runs in one process exclude each other too. */
let taken = 0;
const recordName = () => `${hostname().replace(/[^A-Za-z0-9_.-]/g, '_')}.${process.pid}.${++taken}.json`;

async function holders(dir: string, mine: string): Promise<{ file: string; holder: LockHolder }[]> {
  const out: { file: string; holder: LockHolder }[] = [];
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const n of names) {
    if (!n.endsWith('.json') || n === mine) continue;
    const file = join(dir, n);
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue; // released meanwhile
    let h: LockHolder;
    try {
      h = JSON.parse(text) as LockHolder;
    } catch {
      h = { pid: 0, host: '?', command: '(unreadable lock record)', since: '?', plan: '?' };
    }
    out.push({ file, holder: h });
  }
  return out;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((res) => {
    const t = setTimeout(res, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), res()), { once: true });
  });

/**
 * Take the lock in directory `dir` (created) for one run.
 * @example const lock = await lockOutput(join(out, LOCK_DIR), { plan: hash }); try { … } finally { await lock.release(); }
 */
export async function lockOutput(dir: string, o: LockOptions): Promise<OutputLock> {
  const name = recordName();
  const file = join(dir, name);
  const started = startTime(process.pid);
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    ...(started === undefined ? {} : { started }),
    command: o.command ?? ['m1kit', ...process.argv.slice(2)].join(' '),
    since: new Date().toISOString(),
    plan: o.plan,
    ...(o.share === undefined ? {} : { share: o.share }),
  };
  let waited = false;
  for (;;) {
    throwIfAborted(o.signal);
    await mkdir(dir, { recursive: true });
    const tmp = `${file}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify(me) + '\n');
      await rename(tmp, file);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // the directory was removed by a release meanwhile
      throw e;
    }
    let blocker: { file: string; holder: LockHolder } | undefined;
    for (const h of await holders(dir, name)) {
      if (stale(h.holder)) {
        await unlink(h.file).catch(() => undefined);
        continue;
      }
      if (!compatible(me, h.holder)) blocker ??= h;
    }
    if (!blocker) {
      return {
        file,
        release: async () => {
          await unlink(file).catch(() => undefined);
          await rmdir(dir).catch(() => undefined); // only when no other holder is left
        },
      };
    }
    await unlink(file).catch(() => undefined);
    const what = o.what ?? join(dir, '..');
    const plan = blocker.holder.plan === me.plan ? 'the same plan' : 'a different plan';
    if (!o.wait) {
      throw new M1kitError('E_BUSY', ExitCode.badInput, `${what}: another m1kit run is writing it (${describe(blocker.holder)}; ${plan})`, {
        hint: `wait for it to finish, rerun with --wait, or remove ${blocker.file} if that run is gone`,
      });
    }
    if (!waited) o.onWait?.(blocker.holder, blocker.file);
    waited = true;
    await sleep(WAIT_POLL_MS * (0.5 + Math.random()), o.signal);
  }
}
