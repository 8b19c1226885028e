/**
 * Recognise one rank directory of an m1kit tensor/expert-parallel layout (`<out>/rank-XXXXX-of-YYYYY/`
 * beside `<out>/m1kit-layout.json`) and derive the tensors that rank must hold, so inspect checks a rank
 * against its rank-local shapes instead of the full model's.
 */
import { stat } from 'node:fs/promises';
import { readJsonFile } from '../safetensors/index-json.js';
import { checkLayoutMeta } from '../checkpoint/layout-meta.js';
import { basename, dirname, join } from 'node:path';
import type { M1Config } from '../checkpoint/config.js';
import { expectedTensors } from '../checkpoint/layout.js';
import { canonicalOf, EXPERTS_LAYOUTS, jobTensors, rankJobs, type ExpertsLayout } from '../pipeline/jobs.js';
import { makeGrid } from '../pipeline/rank-split.js';
import { LAYOUT_FILE } from '../convert/source.js';
import type { TensorSpec } from '../safetensors/writer.js';

export interface RankExpectation {
  rank: number;
  world: number;
  tp: number;
  ep: number;
  experts: ExpertsLayout;
  expected: TensorSpec[];
}

/** The expectation for `dir` if it is a rank of an m1kit layout, else undefined. */
export async function rankExpectation(dir: string, c: M1Config): Promise<RankExpectation | undefined> {
  let doc: { tp?: unknown; ep?: unknown; experts?: unknown; ranks?: unknown };
  const file = join(dirname(dir.replace(/\/+$/, '')), LAYOUT_FILE);
  if (!(await stat(file).catch(() => undefined))) return undefined;
  const raw = await readJsonFile(file, LAYOUT_FILE);
  doc = checkLayoutMeta(raw, file);
  const ranks = Array.isArray(doc.ranks) ? doc.ranks : [];
  const rank = ranks.indexOf(basename(dir.replace(/\/+$/, '')));
  const { tp, ep, experts } = doc;
  if (rank < 0 || typeof tp !== 'number' || typeof ep !== 'number' || !EXPERTS_LAYOUTS.includes(experts as ExpertsLayout)) return undefined;
  const canon = canonicalOf(expectedTensors(c));
  const byName = new Map(canon.map((t) => [t.name, t]));
  const jobs = rankJobs(c, canon, byName, { grid: makeGrid(c, tp, ep), experts: experts as ExpertsLayout }, rank);
  return { rank, world: ranks.length, tp, ep, experts: experts as ExpertsLayout, expected: jobs.flatMap(jobTensors) };
}
