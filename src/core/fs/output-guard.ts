/**
 * The input is never modified: every path a command is about to write is checked, before the first
 * write, against every input it reads. An output is refused when it is an input, lies inside an input
 * directory, or contains an input, judged on real paths (symlinks resolved) and on device + inode (hard
 * links, bind mounts). The same check validates the output's location (parent exists, is a directory,
 * writable), so a bad path fails before any work instead of after it.
 *
 * @example
 * const inputs = await collectInputs([{ path: 'ckpt', label: 'input checkpoint' }]);
 * const out = await guardOutput({ path: 'out', kind: 'dir', label: 'output directory' }, inputs);
 * // … write under out.real
 */
import { access, constants, lstat, readdir, readlink, realpath, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { ExitCode, M1kitError } from '../errors.js';

/**
 * Directory levels of an input directory whose files are identified by device + inode (top level and
 * rank directories one level down; m1kit writes no deeper).
 */
const INPUT_SCAN_DEPTH = 2;
/** Entries looked at per input directory level at most (the real M1 has 430 files at the top). */
const INPUT_SCAN_ENTRIES = 100_000;

export interface InputSpec {
  path: string;
  /** How the input is named in errors ("input checkpoint", "--tokens file"). */
  label: string;
}

interface InputEntry {
  /** What the user named (for messages). */
  shown: string;
  real: string;
  dir: boolean;
}

const idOf = (s: Stats) => `${s.dev}:${s.ino}`;

/** Every input path, file and directory, with real paths and device + inode identities. */
export class InputSet {
  /** Real path → entry, for the inputs and every file found in input directories. */
  readonly entries: InputEntry[] = [];
  /** dev:ino of every input file and directory. */
  readonly ids = new Map<string, InputEntry>();
  /** dev:ino of every ancestor directory of an input (an output that is one of them contains it). */
  readonly ancestors = new Map<string, InputEntry>();

  add(e: InputEntry, st: Stats): void {
    this.entries.push(e);
    if (!this.ids.has(idOf(st))) this.ids.set(idOf(st), e);
  }
}

/** Absolute form of `p` as the kernel would resolve it (no lexical `..` collapsing). */
const absolute = (p: string) => (isAbsolute(p) ? p : `${process.cwd()}${sep}${p}`);

/**
 * Real path of `p`, which may not exist yet: the longest existing prefix resolved by the kernel
 * (symlinks and `..` included), the rest appended.
 */
export async function realPathOf(p: string, links = MAX_LINKS): Promise<string> {
  const parts = absolute(p).split(sep);
  for (let i = parts.length; i > 0; i--) {
    const head = parts.slice(0, i).join(sep) || sep;
    try {
      const real = await realpath(head);
      return i === parts.length ? real : normalize(join(real, ...parts.slice(i)));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
    }
    // a dangling symlink: writes through it create its target, so the target is where they land
    const ls = await lstat(head).catch(() => undefined);
    if (ls?.isSymbolicLink() && links > 0) {
      const target = await readlink(head);
      const to = isAbsolute(target) ? target : `${dirname(head)}${sep}${target}`;
      return realPathOf([to, ...parts.slice(i)].join(sep), links - 1);
    }
  }
  return resolve(p);
}

/** Symlinks followed in one path at most (the kernel's limit: ELOOP beyond 40). */
const MAX_LINKS = 40;

const inside = (child: string, parent: string) => child !== parent && child.startsWith(parent.endsWith(sep) ? parent : parent + sep);

async function addAncestors(set: InputSet, e: InputEntry, seen: Set<string>): Promise<void> {
  for (let d = dirname(e.real); ; d = dirname(d)) {
    if (seen.has(d)) return;
    seen.add(d);
    const st = await stat(d).catch(() => undefined);
    if (st && !set.ancestors.has(idOf(st))) set.ancestors.set(idOf(st), e);
    if (dirname(d) === d) return;
  }
}

async function scanDir(set: InputSet, dir: string, shown: string, depth: number, seen: Set<string>): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names.slice(0, INPUT_SCAN_ENTRIES)) {
    const p = join(dir, name);
    const st = await stat(p).catch(() => undefined); // follows links: the file a link names is the input
    if (!st) continue;
    const real = await realpath(p).catch(() => p);
    const e: InputEntry = { shown: join(shown, name), real, dir: st.isDirectory() };
    if (st.isFile()) {
      set.add(e, st);
      await addAncestors(set, e, seen);
    } else if (st.isDirectory() && depth > 1) {
      set.add(e, st);
      await addAncestors(set, e, seen);
      await scanDir(set, p, e.shown, depth - 1, seen);
    }
  }
}

/**
 * Identify the inputs of a command: each path (missing ones are skipped: opening them fails later with
 * its own error), and every file in an input directory, through symlinks.
 */
export async function collectInputs(specs: (InputSpec | undefined)[]): Promise<InputSet> {
  const set = new InputSet();
  const seen = new Set<string>();
  for (const s of specs) {
    if (!s) continue;
    const st = await stat(s.path).catch(() => undefined);
    if (!st) continue;
    const e: InputEntry = { shown: s.path, real: await realpath(s.path), dir: st.isDirectory() };
    set.add(e, st);
    await addAncestors(set, e, seen);
    if (e.dir) await scanDir(set, e.real, s.path, INPUT_SCAN_DEPTH, seen);
  }
  return set;
}

export interface OutputSpec {
  path: string;
  /** A directory m1kit creates (with parents) or fills, or a single file written next to its siblings. */
  kind: 'dir' | 'file';
  /** How the output is named in errors ("output directory", "--plot"). */
  label: string;
  /** Also check these sibling paths of a file output (its `.incomplete` temporary, a lock). */
  extra?: string[];
}

export interface GuardedOutput {
  /** The path as given. */
  path: string;
  /** Its real path: write here, so that what was checked is what gets written. */
  real: string;
  exists: boolean;
}

/** An output that would overwrite, or write into, an input. */
export class OutputClashError extends M1kitError {
  constructor(message: string) {
    super('E_OUTPUT_IS_INPUT', ExitCode.badInput, message, { hint: 'choose an output path outside every input (the input is never modified)' });
  }
}

function badOutput(code: string, message: string, hint?: string): M1kitError {
  return new M1kitError(code, ExitCode.badInput, message, hint === undefined ? {} : { hint });
}

function clash(o: OutputSpec, shownAs: string, what: string, e: InputEntry): OutputClashError {
  return new OutputClashError(`${o.label} ${shownAs} ${what} ${e.shown}${e.real !== resolve(e.shown) ? ` (${e.real})` : ''}`);
}

/** Compare one real path (existing or not) with every input. */
async function checkPath(o: OutputSpec, shownAs: string, real: string, set: InputSet): Promise<Stats | undefined> {
  const same = set.entries.find((e) => e.real === real);
  if (same) throw clash(o, shownAs, same.dir ? 'is the input directory' : 'is the input file', same);
  for (const e of set.entries) {
    if (e.dir && inside(real, e.real)) throw clash(o, shownAs, 'lies inside the input directory', e);
    if (inside(e.real, real)) throw clash(o, shownAs, 'contains the input', e);
  }
  // device + inode: hard links, and the same directory reached another way (bind mounts)
  const st = await stat(real).catch(() => undefined);
  if (st) {
    const id = set.ids.get(idOf(st));
    if (id) throw clash(o, shownAs, id.dir ? 'is (another path to) the input directory' : 'is (a hard link to) the input file', id);
    const anc = set.ancestors.get(idOf(st));
    if (anc && st.isDirectory()) throw clash(o, shownAs, 'contains (another path to) the input', anc);
  }
  for (let d = dirname(real); ; d = dirname(d)) {
    const ds = await stat(d).catch(() => undefined);
    const e = ds ? set.ids.get(idOf(ds)) : undefined;
    if (e?.dir) throw clash(o, shownAs, 'lies inside (another path to) the input directory', e);
    if (dirname(d) === d) break;
  }
  return st;
}

/** Nearest existing directory at or above `real`. */
async function existingAncestor(real: string): Promise<{ dir: string; st: Stats }> {
  for (let d = real; ; d = dirname(d)) {
    const st = await stat(d).catch(() => undefined);
    if (st) return { dir: d, st };
    if (dirname(d) === d) return { dir: d, st: await stat(d) };
  }
}

async function checkWritable(o: OutputSpec, dir: string): Promise<void> {
  try {
    await access(dir, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EROFS') throw badOutput('E_READ_ONLY', `${o.label} ${o.path}: ${dir} is on a read-only file system`, 'choose an output on a writable file system');
    throw badOutput('E_PERMISSION', `${o.label} ${o.path}: ${dir} is not writable (${code ?? (e as Error).message})`, 'choose an output directory you can write to');
  }
}

/**
 * Check an output path before anything is written: refuse an output that is, contains or lies inside
 * an input; a file output whose directory is missing or is not a directory; a location that is not
 * writable. An existing output directory is looked into too (a link in it to an input directory would
 * make writes land in the input).
 */
export async function guardOutput(o: OutputSpec, inputs: InputSet): Promise<GuardedOutput> {
  const real = await realPathOf(o.path);
  const st = await checkPath(o, o.path, real, inputs);
  for (const x of o.extra ?? []) await checkPath(o, x, await realPathOf(x), inputs);
  if (o.kind === 'file') {
    if (st?.isDirectory()) throw badOutput('E_BAD_PATH', `${o.label} ${o.path}: is a directory; expected a file path`);
    const parent = dirname(real);
    const ps = await stat(parent).catch(() => undefined);
    if (!ps) throw badOutput('E_NOT_FOUND', `${o.label} ${o.path}: directory ${dirname(o.path)} does not exist`, 'create it first, or choose another path');
    if (!ps.isDirectory()) throw badOutput('E_BAD_PATH', `${o.label} ${o.path}: ${dirname(o.path)} is not a directory`);
    await checkWritable(o, parent);
  } else {
    if (st && !st.isDirectory()) throw badOutput('E_BAD_PATH', `${o.label} ${o.path}: exists and is not a directory`);
    const anc = await existingAncestor(real);
    if (!anc.st.isDirectory()) throw badOutput('E_BAD_PATH', `${o.label} ${o.path}: ${anc.dir} is not a directory`);
    await checkWritable(o, anc.dir);
    if (st) await checkContents(o, real, inputs, INPUT_SCAN_DEPTH);
  }
  return { path: o.path, real, exists: st !== undefined };
}

/** Entries of an existing output directory that lead to an input (links to input files or directories). */
async function checkContents(o: OutputSpec, dir: string, inputs: InputSet, depth: number): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names.slice(0, INPUT_SCAN_ENTRIES)) {
    const p = join(dir, name);
    const ls = await lstat(p).catch(() => undefined);
    if (!ls) continue;
    if (ls.isSymbolicLink() || ls.isDirectory() || ls.nlink > 1) {
      await checkPath(o, join(o.path, name), await realPathOf(p), inputs);
    }
    if (ls.isDirectory() && depth > 1) await checkContents(o, p, inputs, depth - 1);
  }
}

