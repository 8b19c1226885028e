/**
 * Facts about the machine and the build that go into every bench result: CPU, cores, memory, Node, and
 * the git revision of the m1kit checkout (from $GITHUB_SHA, else read from .git without running git).
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism, cpus, platform, arch, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MachineInfo } from './schema.js';

/** Package root: this file is dist/core/bench/machine.js (or src/core/bench/machine.ts under vitest). */
const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export function machineInfo(native: Record<string, unknown>): MachineInfo {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryBytes: totalmem(),
    platform: `${platform()}-${arch()}`,
    node: process.version,
    native,
  };
}

/** The package version from package.json. */
export async function toolVersion(root = PACKAGE_ROOT): Promise<string> {
  try {
    return (JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * The checkout's git directory (HEAD) and the directory holding its refs: both `.git` in a plain clone;
 * in a linked worktree `.git` is a file `gitdir: <dir>`, and that dir's `commondir` names where refs live.
 */
async function gitDirsOf(root: string): Promise<{ gitDir: string; commonDir: string }> {
  const dotGit = join(root, '.git');
  const link = await readFile(dotGit, 'utf8').catch(() => undefined); // fails (EISDIR) for a directory
  const gitDir = link === undefined ? dotGit : resolve(root, /^gitdir: (.+)$/m.exec(link)?.[1]?.trim() ?? dotGit);
  const common = await readFile(join(gitDir, 'commondir'), 'utf8').catch(() => undefined);
  return { gitDir, commonDir: common === undefined ? gitDir : resolve(gitDir, common.trim()) };
}

/** Commit hash of the checkout (a clone or a linked worktree), or null when not in a git checkout. */
export async function gitRevision(root = PACKAGE_ROOT, env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  if (env.GITHUB_SHA && /^[0-9a-f]{40}$/i.test(env.GITHUB_SHA)) return env.GITHUB_SHA.toLowerCase();
  try {
    const { gitDir, commonDir } = await gitDirsOf(root);
    const head = (await readFile(join(gitDir, 'HEAD'), 'utf8')).trim();
    if (/^[0-9a-f]{40}$/i.test(head)) return head;
    const ref = /^ref: (refs\/[\w./-]+)$/.exec(head)?.[1];
    if (!ref) return null;
    const loose = await readFile(join(commonDir, ref), 'utf8').catch(() => undefined);
    if (loose && /^[0-9a-f]{40}/i.test(loose.trim())) return loose.trim().slice(0, 40);
    const packed = await readFile(join(commonDir, 'packed-refs'), 'utf8').catch(() => '');
    for (const line of packed.split('\n')) {
      const [hash, name] = line.trim().split(' ');
      if (name === ref && hash && /^[0-9a-f]{40}$/i.test(hash)) return hash;
    }
    return null;
  } catch {
    return null;
  }
}
