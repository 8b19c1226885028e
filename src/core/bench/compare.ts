/**
 * Regression gate: compare a bench result against a baseline. Only measured throughput figures that carry
 * `better` are gated; modelled figures are deterministic and must be identical; a gated or modelled figure
 * missing from the run fails; figures that are derived or extrapolated follow from the gated ones and are
 * not compared.
 *
 * Robust by design on a shared machine:
 * - each repeat's rate is divided by that repeat's CPU share (`kernel.<name>.cpu_share`: CPU time the
 *   process got ÷ wall time × threads), so time other processes took does not count as a slowdown;
 * - the medians of those repeats are compared;
 * - the noise is the half-spread of the repeats (both runs, root-sum-square): a change is a regression
 *   only beyond max(--max-regression, NOISE_FACTOR × noise); a larger drop within the noise is reported
 *   as `noisy` and does not fail.
 */
import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { parsePercent as parseUnitPercent } from '../units.js';
import { BENCH_SCHEMA, type BenchResult, type Figure } from './schema.js';
import { median } from './stats.js';
import { count } from '../plural.js';

export type DeltaStatus = 'ok' | 'improved' | 'regressed' | 'noisy' | 'missing' | 'new' | 'changed';

/**
 * Multiple of the repeats' noise (half-spread) a change must exceed to count. Measured on back-to-back
 * runs (README, bench compare): 2 keeps false alarms rare with 3 repeats while a real 2× slowdown still fails.
 */
export const NOISE_FACTOR = 2;

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
  /** Whether baseline and current are rates per available CPU (divided by the CPU share). */
  perCpu?: boolean;
  /** Noise of the comparison, percent: root-sum-square of both runs' half-spreads (when repeated). */
  noisePct?: number;
  /** The change this row had to exceed to count: max(gate, NOISE_FACTOR × noise), percent. */
  tolerancePct?: number;
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

/** Parameters that must agree for two runs to be comparable, as words for the message. */
function comparableParams(r: BenchResult): Record<string, string> {
  const k = r.params.kernels;
  return {
    ctx: String(r.params.ctx),
    convention: r.params.convention,
    models: r.params.models.join(','),
    config: r.params.config,
    kernels: k ? `run on ${k.device}` : 'not run',
    heads: k ? String(k.heads) : 'none',
  };
}

const gated = (f: Figure | undefined): boolean => !!f && f.kind === 'measured' && (f.better === 'higher' || f.better === 'lower');

/** `kernel.lightning_prefill.head_tokens_per_s` → `kernel.lightning_prefill.cpu_share`. */
const shareId = (id: string): string => `${id.slice(0, id.lastIndexOf('.'))}.cpu_share`;

/** Per-repeat values of a figure (its samples, or its one value). */
const repeats = (f: Figure): number[] => (f.samples && f.samples.length > 0 ? f.samples : [f.value]);

/**
 * The repeats of a gated rate as compared: divided by the CPU share of the same repeat when the run has one.
 */
function comparable(r: BenchResult, id: string, useShare: boolean): { values: number[]; perCpu: boolean } {
  const f = r.metrics[id]!;
  const xs = repeats(f);
  const share = r.metrics[shareId(id)];
  if (!useShare || !share) return { values: xs, perCpu: false };
  const ss = repeats(share);
  const perRepeat = ss.length === xs.length;
  return { values: xs.map((x, i) => x / (perRepeat ? ss[i]! : share.value)), perCpu: true };
}

/** Half of (max − min) / median, as a fraction; undefined for a single repeat. */
function halfSpread(xs: number[]): number | undefined {
  if (xs.length < 2) return undefined;
  const m = median(xs);
  return m === 0 ? undefined : (Math.max(...xs) - Math.min(...xs)) / Math.abs(m) / 2;
}

/**
 * Compare `run` against `baseline`.
 * @example compareResults(base, run, 10).passed
 */
export function compareResults(baseline: BenchResult, run: BenchResult, maxRegressionPct: number): CompareReport {
  const pb = comparableParams(baseline);
  const pr = comparableParams(run);
  const diff = Object.keys(pb).filter((k) => pb[k] !== pr[k]);
  if (diff.length > 0) {
    const what = diff.map((k) => `${k}: ${pb[k]} in the baseline, ${pr[k]} in the run`).join('; ');
    throw new InputError('E_NOT_COMPARABLE', `runs are not comparable (${what})`, { hint: 'run the bench with the same options as the baseline' });
  }
  const rows: MetricDelta[] = [];
  const notes: string[] = [];
  let withoutShare = 0;
  for (const [id, b] of Object.entries(baseline.metrics)) {
    const c = run.metrics[id];
    if (gated(b)) {
      if (!c) {
        rows.push({ id, unit: b.unit, kind: b.kind, baseline: b.value, current: null, deltaPct: null, status: 'missing' });
        continue;
      }
      // per available CPU only when both runs measured their CPU share
      const useShare = !!baseline.metrics[shareId(id)] && !!run.metrics[shareId(id)];
      if (!useShare) withoutShare++;
      const bb = comparable(baseline, id, useShare);
      const cc = comparable(run, id, useShare);
      const bv = median(bb.values);
      const cv = median(cc.values);
      const deltaPct = ((cv - bv) / bv) * 100;
      const worse = b.better === 'higher' ? -deltaPct : deltaPct;
      const hb = halfSpread(bb.values);
      const hc = halfSpread(cc.values);
      const noisePct = hb === undefined && hc === undefined ? undefined : Math.hypot(hb ?? 0, hc ?? 0) * 100;
      const tolerancePct = Math.max(maxRegressionPct, NOISE_FACTOR * (noisePct ?? 0));
      const status: DeltaStatus =
        c.unit !== b.unit || c.kind !== b.kind ? 'changed' : worse > tolerancePct ? 'regressed' : worse > maxRegressionPct ? 'noisy' : worse < -tolerancePct ? 'improved' : 'ok';
      const row: MetricDelta = { id, unit: b.unit, kind: b.kind, baseline: bv, current: cv, deltaPct, status, perCpu: useShare, tolerancePct };
      if (noisePct !== undefined) row.noisePct = noisePct;
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
  const compared = rows.filter((r) => r.baseline !== null && r.current !== null && gated(baseline.metrics[r.id]));
  if (compared.length === 0) notes.push('no measured throughput figures to compare (was the kernel run skipped?)');
  else {
    notes.push(
      withoutShare === 0
        ? 'rates are per available CPU (each repeat divided by its CPU share), medians of the repeats'
        : `${count(withoutShare, 'rate')} compared as measured (no CPU share in ${baseline.metrics[shareId(compared[0]!.id)] ? 'the run' : 'the baseline'}: recorded by newer m1kit versions); medians of the repeats`,
    );
    if (compared.every((r) => r.noisePct === undefined)) notes.push('single repeats: no noise estimate, the gate is --max-regression alone (use --repeat 3 or more in both runs)');
  }
  const noisy = rows.filter((r) => r.status === 'noisy');
  if (noisy.length > 0) {
    notes.push(`${count(noisy.length, 'change')} beyond the ${maxRegressionPct}% gate but within ${NOISE_FACTOR}× the repeats' noise: not counted as ${noisy.length === 1 ? 'a regression' : 'regressions'}; rerun both with more --repeat on a quieter machine for a tighter gate`);
  }
  const counts: Record<DeltaStatus, number> = { ok: 0, improved: 0, regressed: 0, noisy: 0, missing: 0, new: 0, changed: 0 };
  for (const r of rows) counts[r.status]++;
  const passed = counts.regressed === 0 && counts.missing === 0 && counts.changed === 0;
  return { maxRegressionPct, passed, counts, rows, notes };
}

/** The hint of a failed gate, naming only the kinds of failure that happened. */
export function failureHint(c: CompareReport): string {
  const hints: string[] = [];
  if (c.counts.changed > 0) hints.push('a changed modelled figure means the baseline is from another model version or config: record a new baseline');
  if (c.counts.missing > 0) hints.push('a missing figure means the run skipped a kernel or an older/newer m1kit wrote it: use the same version and options');
  if (c.counts.regressed > 0) hints.push('a regression beyond the noise of the repeats: rerun both on the same machine (more --repeat narrows the noise) before blaming a change');
  return hints.join('; ');
}

/** "id regressed -20.0%; id missing" for every failing row. */
export function failureSummary(c: CompareReport): string {
  return c.rows
    .filter((r) => r.status === 'regressed' || r.status === 'missing' || r.status === 'changed')
    .map((r) => `${r.id} ${r.status}${r.deltaPct !== null ? ` ${r.deltaPct >= 0 ? '+' : ''}${r.deltaPct.toFixed(1)}%` : ''}`)
    .join('; ');
}
