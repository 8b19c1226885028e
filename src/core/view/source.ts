/**
 * Input side of a conversion: every canonical (HF per-expert) tensor resolved to the pieces of input
 * tensors that hold it. Three kinds of input are understood:
 * - a plain HF checkpoint (each canonical tensor is one whole input tensor);
 * - an m1kit layout (`m1kit-layout.json`: per-rank directories and/or stacked experts), inverted from the
 *   same job rules that wrote it;
 * - a checkpoint quantized by m1kit (`quantization_config` in config.json), read through a dequantizer.
 * Opening reads JSON and safetensors headers only, and refuses bad input before anything is written.
 */
import { join } from 'node:path';
import { readdir } from 'node:fs/promises';
import { Checkpoint } from '../checkpoint/checkpoint.js';
import type { M1Config } from '../checkpoint/config.js';
import { expectedTensors } from '../checkpoint/layout.js';
import { architectureProblem, assertCheckpoint } from '../checkpoint/validate.js';
import { InputError } from '../errors.js';
import { readJsonFile } from '../safetensors/index-json.js';
import { checkLayoutMeta } from '../checkpoint/layout-meta.js';
import { canonicalOf, rankJobs, type CanonicalTensor, type ExpertsLayout } from '../pipeline/jobs.js';
import { makeGrid } from '../pipeline/rank-split.js';
import { view2d } from '../pipeline/geometry.js';
import type { InputPiece } from '../pipeline/input.js';
import type { Sharding } from '../pipeline/plan.js';
import { quantSourceOf, type QuantSource } from '../quantize/source-quant.js';

export const LAYOUT_FILE = 'm1kit-layout.json';

/** A rectangle of canonical tensor coordinates stored in input tensor `tensor` at (row, col) `origin` of its 2-D view (the pipeline's InputPiece, read from an open checkpoint). */
export interface Piece extends InputPiece {
  ckpt: Checkpoint;
}

export interface SourceTensor extends CanonicalTensor {
  pieces: Piece[];
  quant?: QuantSource;
}

export interface LayoutMeta {
  format: 'm1kit-layout';
  version: 1;
  tp: number;
  ep: number;
  world: number;
  experts: ExpertsLayout;
  ranks: string[];
  /** The HF file assignment the layout was made from (restored by a merge). */
  source?: Sharding;
}

export interface Source {
  dir: string;
  config: M1Config;
  kind: 'hf' | 'layout' | 'quantized';
  canon: SourceTensor[];
  byName: Map<string, SourceTensor>;
  /** File assignment to keep for an HF-layout output, when known. */
  sharding?: Sharding;
  layout?: LayoutMeta;
  /** Identity of the input for the plan hash: weight files and sizes. */
  identity: [string, number][];
  checkpoints: Checkpoint[];
  close(): Promise<void>;
}

function assertM1(c: M1Config, dir: string): void {
  const p = architectureProblem(c);
  if (p) throw new InputError('E_NOT_M1', `${join(dir, p.message)}`);
}

async function shardingOf(ck: Checkpoint): Promise<Sharding> {
  const files = [];
  for (const f of ck.files) {
    const r = await ck.reader(f);
    files.push({ name: f, tensors: r.header.tensors.map((t) => t.name), metadata: { ...r.header.metadata } });
  }
  return { files };
}

/** Sharding of a quantized input in canonical names: each quantized weight takes its codes' place; scales are dropped. */
function canonicalSharding(sh: Sharding, canon: SourceTensor[]): Sharding {
  const rename = new Map<string, string>();
  const drop = new Set<string>();
  for (const t of canon) {
    if (!t.quant) continue;
    rename.set(t.quant.codes, t.name);
    for (const n of t.quant.extra) drop.add(n);
  }
  return { files: sh.files.map((f) => ({ ...f, tensors: f.tensors.filter((n) => !drop.has(n)).map((n) => rename.get(n) ?? n) })) };
}

/**
 * Open and validate an input directory.
 * @example const src = await openSource('in/'); … await src.close();
 */
export async function openSource(dir: string, signal?: AbortSignal): Promise<Source> {
  const entries = await readdir(dir).catch(() => {
    throw new InputError('E_NOT_FOUND', `${dir}: no such checkpoint directory`);
  });
  if (entries.includes(LAYOUT_FILE)) {
    const file = join(dir, LAYOUT_FILE);
    const meta = checkLayoutMeta(await readJsonFile(file, LAYOUT_FILE), file) as unknown as LayoutMeta;
    if (meta.world > 1 || meta.experts !== 'per-expert') return openLayout(dir, meta, signal);
  }
  const ck = await Checkpoint.open(dir, signal ? { signal } : {});
  try {
    assertCheckpoint(ck);
    const quantCfg = ck.configRaw.quantization_config;
    const canon: SourceTensor[] = [];
    for (const spec of expectedTensors(ck.config)) {
      const t = canonicalOf([spec])[0]!;
      if (quantCfg !== undefined) {
        const q = await quantSourceOf(ck, quantCfg, t, dir);
        if (q) {
          canon.push({ ...t, dtype: 'BF16', pieces: [], quant: q });
          continue;
        }
      }
      const loc = ck.info(spec.name);
      const [, cols] = view2d(loc.info.shape);
      const [R, C] = view2d(spec.shape);
      canon.push({ ...t, dtype: loc.info.dtype, pieces: [{ ckpt: ck, file: loc.file, tensor: spec.name, rect: { r0: 0, r1: R, c0: 0, c1: C }, origin: [0, 0], srcCols: cols, dtype: loc.info.dtype }] });
    }
    let sharding: Sharding | undefined;
    if (entries.includes(LAYOUT_FILE)) sharding = ((await readJsonFile(join(dir, LAYOUT_FILE), LAYOUT_FILE)) as LayoutMeta).source;
    sharding ??= await shardingOf(ck);
    if (quantCfg !== undefined) sharding = canonicalSharding(sharding, canon);
    const src: Source = {
      dir,
      config: ck.config,
      kind: quantCfg !== undefined ? 'quantized' : 'hf',
      canon,
      byName: new Map(canon.map((t) => [t.name, t])),
      sharding,
      identity: ck.files.map((f) => [f, ck.fileSizes.get(f) ?? 0]),
      checkpoints: [ck],
      close: () => ck.close(),
    };
    return src;
  } catch (e) {
    await ck.close();
    throw e;
  }
}

async function openLayout(dir: string, meta: LayoutMeta, signal?: AbortSignal): Promise<Source> {
  const opened: Checkpoint[] = [];
  try {
    const dirs = meta.world > 1 ? meta.ranks : [''];
    if (!Array.isArray(dirs) || dirs.length !== meta.world) throw new InputError('E_LAYOUT', `${join(dir, LAYOUT_FILE)}: "ranks" must list ${meta.world} directories`);
    for (const d of dirs) opened.push(await Checkpoint.open(join(dir, d), signal ? { signal } : {}));
    const config = opened[0]!.config;
    assertM1(config, dir);
    const grid = makeGrid(config, meta.tp, meta.ep);
    const expected = canonicalOf(expectedTensors(config));
    const byNameExpected = new Map(expected.map((t) => [t.name, t]));
    const pieces = new Map<string, Piece[]>(expected.map((t) => [t.name, []]));
    const seen = new Set<string>();
    for (let r = 0; r < meta.world; r++) {
      const ck = opened[r]!;
      for (const job of rankJobs(config, expected, byNameExpected, { grid, experts: meta.experts }, r)) {
        if (job.kind !== 'assemble') continue;
        const loc = ck.tensors.get(job.out.name);
        const where = `${join(dir, dirs[r]!)}: tensor "${job.out.name}"`;
        if (!loc) throw new InputError('E_LAYOUT', `${where} is missing (required by ${LAYOUT_FILE}: tp ${meta.tp}, ep ${meta.ep}, experts ${meta.experts})`);
        if (JSON.stringify(loc.info.shape) !== JSON.stringify(job.out.shape)) throw new InputError('E_LAYOUT', `${where} has shape ${JSON.stringify(loc.info.shape)}, expected ${JSON.stringify(job.out.shape)}`);
        const [, srcCols] = view2d(loc.info.shape);
        for (const it of job.items) {
          const key = `${it.src}|${it.rect.r0},${it.rect.r1},${it.rect.c0},${it.rect.c1}`;
          if (seen.has(key)) continue; // replicated on several ranks: read the first copy
          seen.add(key);
          pieces.get(it.src)!.push({ ckpt: ck, file: loc.file, tensor: job.out.name, rect: it.rect, origin: it.dst, srcCols, dtype: loc.info.dtype });
        }
      }
    }
    const canon: SourceTensor[] = expected.map((t) => {
      const ps = pieces.get(t.name)!;
      const [R, C] = view2d(t.shape);
      const area = ps.reduce((a, p) => a + (p.rect.r1 - p.rect.r0) * (p.rect.c1 - p.rect.c0), 0);
      if (area !== R * C) throw new InputError('E_LAYOUT', `${dir}: pieces of "${t.name}" cover ${area} of ${R * C} elements`);
      const dtypes = new Set(ps.map((p) => p.dtype));
      if (dtypes.size !== 1) throw new InputError('E_LAYOUT', `${dir}: pieces of "${t.name}" have mixed dtypes ${[...dtypes].join(', ')}`);
      return { ...t, dtype: ps[0]!.dtype, pieces: ps };
    });
    const identity: [string, number][] = opened.flatMap((ck, i) => ck.files.map((f) => [join(dirs[i]!, f), ck.fileSizes.get(f) ?? 0] as [string, number]));
    const src: Source = {
      dir,
      config,
      kind: 'layout',
      canon,
      byName: new Map(canon.map((t) => [t.name, t])),
      layout: meta,
      identity,
      checkpoints: opened,
      close: async () => {
        await Promise.all(opened.map((c) => c.close()));
      },
    };
    if (meta.source) src.sharding = meta.source;
    return src;
  } catch (e) {
    await Promise.all(opened.map((c) => c.close()));
    throw e;
  }
}
