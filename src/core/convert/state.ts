/**
 * Resumption state of an output directory.
 *
 * While a conversion runs, `.m1kit-state/plan.json` holds the plan hash and `.m1kit-state/done/<file>.json`
 * one record per finished weight file (size, sha256, quantization error stats). Records are written
 * atomically after the file was fsynced and renamed into place, so a record never points at a partial
 * file; each file is owned by exactly one `--part`, so parts on different machines never write the same
 * record. When every file is done the index, config and `m1kit-manifest.json` (sha256 of every file)
 * are written and the state directory is removed.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { LOCK_DIR } from '../fs/output-lock.js';
import { writing } from '../fs/write-errors.js';
import type { FileRecord } from '../pipeline/write-file.js';
import type { TensorError } from '../quantize/quantize-job.js';

export const STATE_DIR = '.m1kit-state';
export const MANIFEST_FILE = 'm1kit-manifest.json';

export type { TensorError } from '../quantize/quantize-job.js';

/** A file written and durable: size, sha256 and the quantization errors of its tensors. */
export type DoneRecord = FileRecord<TensorError>;

export interface Manifest {
  tool: 'm1kit';
  kind: string;
  planHash: string;
  files: { file: string; size: number; sha256: string }[];
  /** Per-tensor quantization errors (quantize only). */
  errors?: TensorError[];
}

/** Write a small JSON file atomically (unique temporary name, then rename). */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.incomplete`;
  await writing(path, async () => {
    await writeFile(tmp, JSON.stringify(value, null, 2) + '\n');
    await rename(tmp, path);
  });
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InputError('E_STATE', `${path}: unreadable resumption state (${(e as Error).message}); rerun with --force to start over`);
  }
}

const recordName = (file: string) => `${file.replaceAll('/', '__')}.json`;

const exists = async (p: string) => stat(p).then(() => true, () => false);

/** Entries m1kit writes into an output directory (removed by --force). */
const OWNED = (name: string) => name.endsWith('.safetensors') || name.endsWith('.incomplete') || name === 'model.safetensors.index.json' || name.startsWith('m1kit-') || name === STATE_DIR || /^rank-\d+-of-\d+$/.test(name);

export interface Prepared {
  /** The output is already complete for this plan. */
  complete: boolean;
  done: Map<string, DoneRecord>;
}

/**
 * Check the output directory against the plan: resume the same conversion, refuse a different one
 * (unless `force`, which removes what m1kit wrote there before), create it otherwise.
 */
export async function prepareOutput(out: string, kind: string, hash: string, force: boolean): Promise<Prepared> {
  let entries: string[] = [];
  try {
    entries = await readdir(out);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const manifest = await readJson<Manifest>(join(out, MANIFEST_FILE));
  const planRec = await readJson<{ planHash: string }>(join(out, STATE_DIR, 'plan.json'));
  const existing = manifest?.planHash ?? planRec?.planHash;
  if (existing === hash) {
    if (!manifest) return { complete: false, done: await readDone(out) };
    const intact = new Map<string, DoneRecord>();
    for (const f of manifest.files) {
      const st = await stat(join(out, f.file)).catch(() => undefined);
      if (st && st.size === f.size) intact.set(f.file, { ...f }); // (their error stats are not kept)
    }
    if (intact.size === manifest.files.length) return { complete: true, done: new Map() };
    // files were removed after completion: redo those, keep the rest
    await mkdir(join(out, STATE_DIR, 'done'), { recursive: true });
    await writeJsonAtomic(join(out, STATE_DIR, 'plan.json'), { tool: 'm1kit', kind, planHash: hash });
    for (const rec of intact.values()) await recordDone(out, rec);
    await rm(join(out, MANIFEST_FILE), { force: true });
    return { complete: false, done: intact };
  }
  // a directory holding only a state directory without plan.json is a parallel part that just started;
  // the lock directory holds this run's own lock record
  if (entries.some((e) => e !== STATE_DIR && e !== LOCK_DIR)) {
    if (!force) {
      const what = existing ? 'holds a different conversion' : 'is not empty';
      throw new InputError('E_OUTPUT_EXISTS', `${out}: output directory ${what}; choose another directory or pass --force to replace it`);
    }
    for (const e of entries) if (OWNED(e)) await rm(join(out, e), { recursive: true, force: true });
  }
  await writing(out, () => mkdir(join(out, STATE_DIR, 'done'), { recursive: true }));
  await writeJsonAtomic(join(out, STATE_DIR, 'plan.json'), { tool: 'm1kit', kind, planHash: hash });
  return { complete: false, done: new Map() };
}

/** Done records whose file is present with the recorded size. */
async function readDone(out: string): Promise<Map<string, DoneRecord>> {
  const dir = join(out, STATE_DIR, 'done');
  await mkdir(dir, { recursive: true });
  const done = new Map<string, DoneRecord>();
  for (const n of await readdir(dir)) {
    if (!n.endsWith('.json') || n.includes('.incomplete')) continue;
    const rec = await readJson<DoneRecord>(join(dir, n));
    if (!rec) continue;
    const st = await stat(join(out, rec.file)).catch(() => undefined);
    if (st && st.size === rec.size) done.set(rec.file, rec);
  }
  return done;
}

/** Reload records (other parts may have finished files meanwhile). */
export async function reloadDone(out: string): Promise<Map<string, DoneRecord>> {
  return (await exists(join(out, STATE_DIR))) ? readDone(out) : new Map();
}

export async function recordDone(out: string, rec: DoneRecord): Promise<void> {
  await writeJsonAtomic(join(out, STATE_DIR, 'done', recordName(rec.file)), rec);
}

export async function readManifest(out: string): Promise<Manifest | undefined> {
  return readJson<Manifest>(join(out, MANIFEST_FILE));
}

export async function removeState(out: string): Promise<void> {
  await rm(join(out, STATE_DIR), { recursive: true, force: true });
}
