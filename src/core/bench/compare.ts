/**
 * Regression gate: compare a bench result against a baseline. Only measured throughput figures that carry
 * `better` are gated (relative change beyond `maxRegression` in the bad direction fails); modelled figures
 * are deterministic and must be identical; a gated or modelled figure missing from the run fails; figures
 * that are derived or extrapolated follow from the gated ones and are not compared.
 */
import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { parsePercent as parseUnitPercent } from '../units.js';
import { BENCH_SCHEMA, type BenchResult, type Figure } from './schema.js';

export type DeltaStatus = 'ok' | 'improved' | 'regressed' | 'missing' | 'new' | 'changed';

export interface MetricDelta {
  id: string;
  unit: string;
  kind: Figure['kind'];
  baseline: number | null;
  current: number | null;
  /** Relative change in percent (current vs baseline), signed as measured (not by direction). */
  deltaPct: number | null;
  status: DeltaStatus;
  /** Relative spread of the current repeats, percent, when repeated. */
  spreadPct?: number;
}

export interface CompareReport {
  maxRegressionPct: number;
  passed: boolean;
  counts: Record<DeltaStatus, number>;
  /** Gated measured metrics (every status) and every modelled figure that is not `ok`. */
  rows: MetricDelta[];
  notes: string[];
}

/** Parse a regression threshold: "10%" or "10" → 10, in [0, 100). */
export const parsePercent = (text: string, what = '--max-regression'): number => parseUnitPercent(text, what, { below100: true });

/**
 * Read a bench result: the whole `m1kit bench --json` document or its bare `result` object.
 * @example await readBenchResult('baseline.json')
 */
export async function readBenchResult(path: string): Promise<BenchResult> {
  const text = await readFile(path, 'utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InputError('E_BAD_JSON', `${path}: not valid JSON (${(err as Error).message})`, { file: path });
  }
  const obj = (doc ?? {}) as Record<string, unknown>;
  if (obj.error && typeof obj.error === 'object') {
    const e = obj.error as { message?: string };
    throw new InputError('E_FAILED_RUN', `${path}: records a failed run, not a result (${e.message ?? 'no message'})`, { file: path });
  }
  const result = (obj.result && typeof obj.result === 'object' ? obj.result : obj) as Record<string, unknown>;
  if (result.schema !== BENCH_SCHEMA) {
    throw new InputError('E_SCHEMA_MISMATCH', `${path}: expected a bench result with schema "${BENCH_SCHEMA}", found ${result.schema === undefined ? 'no schema field' : `"${String(result.schema)}"`}`, {
      file: path,
      hint: 'produce both files with the same m1kit version: m1kit bench --json > run.json',
    });
  }
  if (!result.metrics || typeof result.metrics !== 'object' || !result.params || typeof result.params !== 'object') {
    throw new InputError('E_SCHEMA_MISMATCH', `${path}: bench result lacks "metrics" or "params"`, { file: path });
  }
  return result as unknown as BenchResult;
}

/** Parameters that must agree for two runs to be comparable. */
function comparableParams(r: BenchResult): Record<string, unknown> {
  const k = r.params.kernels;
  return { ctx: r.params.ctx, convention: r.params.convention, models: r.params.models.join(','), config: r.params.config, device: k?.device, heads: k?.heads };
}

const gated = (f: Figure | undefined): boolean => !!f && f.kind === 'measured' && (f.better === 'higher' || f.better === 'lower');

/**
 * Compare `run` against `baseline`.
 * @example compareResults(base, run, 10).passed
 */
export function compareResults(baseline: BenchResult, run: BenchResult, maxRegressionPct: number): CompareReport {
  const pb = comparableParams(baseline);
  const pr = comparableParams(run);
  const diff = Object.keys(pb).filter((k) => String(pb[k]) !== String(pr[k]));
  if (diff.length > 0) {
    const what = diff.map((k) => `${k} ${String(pb[k])} vs ${String(pr[k])}`).join(', ');
    throw new InputError('E_NOT_COMPARABLE', `runs are not comparable: baseline and run differ in ${what}`, { hint: 'run the bench with the same options as the baseline' });
  }
  const rows: MetricDelta[] = [];
  const notes: string[] = [];
  for (const [id, b] of Object.entries(baseline.metrics)) {
    const c = run.metrics[id];
    if (gated(b)) {
      if (!c) {
        rows.push({ id, unit: b.unit, kind: b.kind, baseline: b.value, current: null, deltaPct: null, status: 'missing' });
        continue;
      }
      const deltaPct = ((c.value - b.value) / b.value) * 100;
      const worse = b.better === 'higher' ? -deltaPct : deltaPct;
      const status: DeltaStatus = c.unit !== b.unit || c.kind !== b.kind ? 'changed' : worse > maxRegressionPct ? 'regressed' : worse < -maxRegressionPct ? 'improved' : 'ok';
      const row: MetricDelta = { id, unit: b.unit, kind: b.kind, baseline: b.value, current: c.value, deltaPct, status };
      if (c.spread) row.spreadPct = c.spread.rel * 100;
      rows.push(row);
    } else if (b.kind === 'modelled') {
      if (!c) rows.push({ id, unit: b.unit, kind: b.kind, baseline: b.value, current: null, deltaPct: null, status: 'missing' });
      else if (c.value !== b.value || c.unit !== b.unit || c.kind !== b.kind) {
        rows.push({ id, unit: b.unit, kind: b.kind, baseline: b.value, current: c.value, deltaPct: ((c.value - b.value) / b.value) * 100, status: 'changed' });
      }
    }
  }
  for (const [id, c] of Object.entries(run.metrics)) {
    if (!(id in baseline.metrics) && (gated(c) || c.kind === 'modelled')) rows.push({ id, unit: c.unit, kind: c.kind, baseline: null, current: c.value, deltaPct: null, status: 'new' });
  }
  if (baseline.machine.cpu !== run.machine.cpu || baseline.machine.cores !== run.machine.cores) {
    notes.push(`different machines: baseline "${baseline.machine.cpu}" × ${baseline.machine.cores}, run "${run.machine.cpu}" × ${run.machine.cores}`);
  }
  if (!rows.some((r) => gated(run.metrics[r.id]) || gated(baseline.metrics[r.id]))) notes.push('no measured throughput figures to compare (was the kernel run skipped?)');
  const counts: Record<DeltaStatus, number> = { ok: 0, improved: 0, regressed: 0, missing: 0, new: 0, changed: 0 };
  for (const r of rows) counts[r.status]++;
  const passed = counts.regressed === 0 && counts.missing === 0 && counts.changed === 0;
  return { maxRegressionPct, passed, counts, rows, notes };
}

/** "id regressed -20.0%; id missing" for every failing row. */
export function failureSummary(c: CompareReport): string {
  return c.rows
    .filter((r) => r.status === 'regressed' || r.status === 'missing' || r.status === 'changed')
    .map((r) => `${r.id} ${r.status}${r.deltaPct !== null ? ` ${r.deltaPct >= 0 ? '+' : ''}${r.deltaPct.toFixed(1)}%` : ''}`)
    .join('; ');
}
