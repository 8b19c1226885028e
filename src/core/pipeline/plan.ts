/**
 * Output plan (pure): the files of every output directory and the jobs writing each of them.
 *
 * File naming: `model-00000-of-0000N.safetensors` (0-based, like the released checkpoint), one
 * `model.safetensors.index.json` per directory; with `--tp`/`--ep` one directory per rank,
 * `rank-00000-of-00008/`, each with its own index and a copy of config.json. When the output layout is the
 * plain HF one and no `--max-shard-size` is given, the input's file assignment (names, order) is kept.
 *
 * Locality when re-chunking by size: a file is filled with whole units in canonical order — the
 * embedding; per layer the attention unit (layer norms, attention, router), then each expert's w1/w3/w2
 * (or the stacked expert tensors); then final norm and LM head. A unit larger than the shard size is
 * split between tensors, never inside one; a single tensor larger than the shard size gets a file alone.
 */
import { createHash } from 'node:crypto';
import type { M1Config } from '../checkpoint/config.js';
import { dtypeBytes } from '../dtype/dtypes.js';
import { shardName } from '../safetensors/index-json.js';
import { jobBytes, rankJobs, type CanonicalTensor, type Job, type JobOptions } from './jobs.js';
import { rankDirName } from './rank-split.js';

/** transformers' `max_shard_size` default ("5GB", decimal). */
export const DEFAULT_MAX_SHARD_BYTES = 5_000_000_000;

export interface FilePlan {
  /** Directory relative to the output root ('' or a rank directory). */
  dir: string;
  name: string;
  jobs: Job[];
  bytes: number;
  metadata: Record<string, string>;
}

export interface DirPlan {
  dir: string;
  rank?: number;
  files: FilePlan[];
}

export interface Plan {
  dirs: DirPlan[];
  /** All files in processing order, ranks interleaved (the unit of resumption and of `--part`). */
  files: FilePlan[];
  totalBytes: number;
}

export interface Sharding {
  /** Original files in name order, each with its tensors in data order, and its `__metadata__`. */
  files: { name: string; tensors: string[]; metadata?: Record<string, string> }[];
}

export interface PlanParams extends JobOptions {
  config: M1Config;
  canon: CanonicalTensor[];
  maxShardBytes?: number | undefined;
  /** Keep this file assignment when the output is a single HF-layout directory. */
  keepSharding?: Sharding | undefined;
}

const DEFAULT_METADATA = { format: 'pt' };

/** Group jobs into files of at most `max` bytes, keeping units together (see module doc). */
export function packJobs(jobs: Job[], max: number): Job[][] {
  const units: Job[][] = [];
  for (const j of jobs) {
    const last = units[units.length - 1];
    if (last && last[0]!.unit === j.unit) last.push(j);
    else units.push([j]);
  }
  const files: Job[][] = [];
  let cur: Job[] = [];
  let curBytes = 0;
  const add = (group: Job[], bytes: number) => {
    if (cur.length > 0 && curBytes + bytes > max) {
      files.push(cur);
      cur = [];
      curBytes = 0;
    }
    cur.push(...group);
    curBytes += bytes;
  };
  for (const u of units) {
    const bytes = u.reduce((a, j) => a + jobBytes(j, dtypeBytes), 0);
    if (bytes <= max) add(u, bytes);
    else for (const j of u) add([j], jobBytes(j, dtypeBytes));
  }
  if (cur.length > 0) files.push(cur);
  return files;
}

function keepAssignment(jobs: Job[], sharding: Sharding): { name: string; jobs: Job[]; metadata: Record<string, string> }[] {
  const where = new Map<string, [number, number]>();
  sharding.files.forEach((f, fi) => f.tensors.forEach((t, ti) => where.set(t, [fi, ti])));
  const buckets = sharding.files.map((f) => ({ name: f.name, metadata: f.metadata ?? DEFAULT_METADATA, jobs: [] as [number, Job][] }));
  for (const j of jobs) {
    const src = j.kind === 'assemble' ? j.items[0]!.src : j.src;
    const w = where.get(src)!;
    buckets[w[0]]!.jobs.push([w[1], j]);
  }
  return buckets
    .filter((b) => b.jobs.length > 0)
    .map((b) => ({ name: b.name, metadata: b.metadata, jobs: b.jobs.sort((x, y) => x[0] - y[0]).map(([, j]) => j) }));
}

/** True when every canonical tensor maps 1:1 to an output with the same name (per-expert, one rank). */
const isPlainLayout = (p: PlanParams) => p.grid.world === 1 && p.experts === 'per-expert';

/**
 * Build the output plan.
 * @example buildPlan({ config, canon, grid: makeGrid(config, 8, 1), experts: 'per-expert' })
 */
export function buildPlan(p: PlanParams): Plan {
  const dirs: DirPlan[] = [];
  for (let r = 0; r < p.grid.world; r++) {
    const dir = p.grid.world === 1 ? '' : rankDirName(r, p.grid.world);
    const jobs = rankJobs(p.config, p.canon, new Map(p.canon.map((t) => [t.name, t])), p, r);
    let groups: { name: string; jobs: Job[]; metadata: Record<string, string> }[];
    if (p.keepSharding && p.maxShardBytes === undefined && isPlainLayout(p)) {
      groups = keepAssignment(jobs, p.keepSharding);
    } else {
      const packed = packJobs(jobs, p.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES);
      groups = packed.map((g, i) => ({ name: shardName(i, packed.length), jobs: g, metadata: DEFAULT_METADATA }));
    }
    const files = groups.map((g) => ({ dir, name: g.name, jobs: g.jobs, metadata: { ...g.metadata }, bytes: g.jobs.reduce((a, j) => a + jobBytes(j, dtypeBytes), 0) }));
    dirs.push(p.grid.world === 1 ? { dir, files } : { dir, rank: r, files });
  }
  // processing order interleaves the ranks (file 0 of every rank, then file 1, …): rank files with the
  // same index read the same input tensors, so those reads hit the page cache
  const files: FilePlan[] = [];
  const most = Math.max(0, ...dirs.map((d) => d.files.length));
  for (let k = 0; k < most; k++) for (const d of dirs) if (d.files[k]) files.push(d.files[k]!);
  return { dirs, files, totalBytes: files.reduce((a, f) => a + f.bytes, 0) };
}

export const filePath = (f: { dir: string; name: string }): string => (f.dir ? `${f.dir}/${f.name}` : f.name);

/**
 * Files of part `i` of `n` (1-based i): contiguous runs of the file list with about equal bytes, so the
 * parts are disjoint and their union is the whole plan.
 */
export function partFiles(plan: Plan, i: number, n: number): FilePlan[] {
  const total = plan.totalBytes || 1;
  let cum = 0;
  const out: FilePlan[] = [];
  for (const f of plan.files) {
    const mid = cum + f.bytes / 2;
    const part = Math.min(n - 1, Math.floor((mid * n) / total));
    if (part === i - 1) out.push(f);
    cum += f.bytes;
  }
  return out;
}

/** Deterministic identity of a plan plus whatever else defines the output (input sizes, options). */
export function planHash(plan: Plan, extra: unknown): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(extra));
  for (const f of plan.files) h.update(JSON.stringify([f.dir, f.name, f.metadata, f.jobs]));
  return h.digest('hex');
}
