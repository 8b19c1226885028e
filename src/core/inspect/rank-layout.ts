/**
 * Recognise an m1kit tensor/expert-parallel layout for inspect: either its root (`<out>/` holding
 * `m1kit-layout.json` and the rank directories, or the stacked-expert tensors themselves) or one rank
 * directory of it (`<out>/rank-XXXXX-of-YYYYY/`), and derive the tensors each rank must hold, so inspect
 * checks a rank against its rank-local shapes instead of the full model's.
 */
import { stat } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { readJsonFile } from '../safetensors/index-json.js';
import { checkLayoutMeta } from '../checkpoint/layout-meta.js';
import { basename, dirname, join } from 'node:path';
import type { M1Config } from '../checkpoint/config.js';
import { expectedTensors } from '../checkpoint/layout.js';
import { canonicalOf, EXPERTS_LAYOUTS, jobTensors, rankJobs, type ExpertsLayout } from '../pipeline/jobs.js';
import { makeGrid } from '../pipeline/rank-split.js';
import { LAYOUT_FILE } from '../view/source.js';
import type { TensorSpec } from '../safetensors/writer.js';

/** The fields of a layout file inspect uses, checked. */
export interface LayoutDoc {
  tp: number;
  ep: number;
  experts: ExpertsLayout;
  /** Rank directories (one entry, '', for a one-rank layout held in the root itself). */
  ranks: string[];
}

export interface RankExpectation extends Omit<LayoutDoc, 'ranks'> {
  rank: number;
  world: number;
  expected: TensorSpec[];
}

/** The layout described by `dir`/m1kit-layout.json, or undefined when there is none (or it is not one inspect knows). */
export async function layoutDoc(dir: string): Promise<LayoutDoc | undefined> {
  const file = join(dir, LAYOUT_FILE);
  if (!(await stat(file).catch(() => undefined))) return undefined;
  const doc = checkLayoutMeta(await readJsonFile(file, LAYOUT_FILE), file);
  const { tp, ep, experts, world } = doc;
  if (typeof tp !== 'number' || typeof ep !== 'number' || !EXPERTS_LAYOUTS.includes(experts as ExpertsLayout)) return undefined;
  const n = typeof world === 'number' ? world : 1;
  if (n === 1) return { tp, ep, experts: experts as ExpertsLayout, ranks: [''] };
  const ranks = Array.isArray(doc.ranks) ? (doc.ranks as string[]) : [];
  if (ranks.length !== n) throw new InputError('E_LAYOUT', `${file}: "ranks" must list ${n} directories`);
  return { tp, ep, experts: experts as ExpertsLayout, ranks };
}

/** Tensors rank `rank` of layout `doc` must hold. */
export function rankTensors(c: M1Config, doc: Omit<LayoutDoc, 'ranks'>, rank: number): TensorSpec[] {
  const canon = canonicalOf(expectedTensors(c));
  const byName = new Map(canon.map((t) => [t.name, t]));
  return rankJobs(c, canon, byName, { grid: makeGrid(c, doc.tp, doc.ep), experts: doc.experts }, rank).flatMap(jobTensors);
}

/** The expectation for `dir` if it is a rank of an m1kit layout, else undefined. */
export async function rankExpectation(dir: string, c: M1Config): Promise<RankExpectation | undefined> {
  const doc = await layoutDoc(dirname(dir.replace(/\/+$/, '')));
  if (!doc) return undefined;
  const rank = doc.ranks.indexOf(basename(dir.replace(/\/+$/, '')));
  if (rank < 0) return undefined;
  return { rank, world: doc.ranks.length, tp: doc.tp, ep: doc.ep, experts: doc.experts, expected: rankTensors(c, doc, rank) };
}
