/**
 * The regression gate on synthetic result files: unit tests of compareResults/readBenchResult and the
 * built CLI's exit codes (`npx tsc -p .` first).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareResults, failureHint, NOISE_FACTOR, parsePercent, readBenchResult } from '../../src/core/bench/compare.js';
import { M1kitError } from '../../src/core/errors.js';
import { jsonDoc, m1kit } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

type Fig = { value: number; unit: string; kind: string; better?: string; samples?: number[]; spread?: { min: number; max: number; rel: number } };

/** A hand-written result document with two gated throughputs, one derived and two modelled figures. */
function fake(over: { metrics?: Record<string, Fig | undefined>; schema?: string; ctx?: number; cpu?: string } = {}) {
  const metrics: Record<string, Fig | undefined> = {
    'kernel.lightning_prefill.head_tokens_per_s': { value: 1000, unit: 'head·tokens/s', kind: 'measured', better: 'higher' },
    'kernel.softmax_decode.head_keys_per_s': { value: 2000, unit: 'head·keys/s', kind: 'measured', better: 'higher' },
    'kernel.lightning_prefill.layer_seconds@1000000': { value: 5, unit: 's', kind: 'derived' },
    'model.minimax-m1.decode_flops@1000000': { value: 421_287_245_312, unit: 'FLOP/token', kind: 'modelled' },
    'model.minimax-m1.params_total': { value: 456_089_655_296, unit: 'params', kind: 'modelled' },
    ...over.metrics,
  };
  for (const k of Object.keys(metrics)) if (metrics[k] === undefined) delete metrics[k];
  return {
    schema: over.schema ?? 'm1kit.bench/1',
    createdAt: '2026-01-01T00:00:00.000Z',
    tool: { name: 'm1kit', version: '0.1.0', git: null },
    machine: { cpu: over.cpu ?? 'Test CPU', cores: 2, memoryBytes: 1, platform: 'linux-x64', node: 'v20', native: {} },
    params: { ctx: over.ctx ?? 1_000_000, sweep: [8192], convention: 'physical', models: ['minimax-m1'], config: 'preset:minimax-m1', kernels: { device: 'cpu', threads: 2, repeat: 1, heads: 2, tokens: 1_000_000 } },
    metrics,
    notes: [],
  } as any;
}
const PREFILL = 'kernel.lightning_prefill.head_tokens_per_s';
const gated = (value: number): Fig => ({ value, unit: 'head·tokens/s', kind: 'measured', better: 'higher' });

describe('compareResults', () => {
  it('identical runs pass', () => {
    const r = compareResults(fake(), fake(), 10);
    expect(r.passed).toBe(true);
    expect(r.counts.ok).toBe(2);
    expect(r.rows.map((x) => x.id).sort()).toEqual([PREFILL, 'kernel.softmax_decode.head_keys_per_s'].sort());
  });

  it('an improvement passes and is reported as improved', () => {
    const r = compareResults(fake(), fake({ metrics: { [PREFILL]: gated(1500) } }), 10);
    expect(r.passed).toBe(true);
    const row = r.rows.find((x) => x.id === PREFILL)!;
    expect(row.status).toBe('improved');
    expect(row.deltaPct).toBeCloseTo(50, 9);
  });

  it('a drop within the threshold passes; beyond it fails', () => {
    expect(compareResults(fake(), fake({ metrics: { [PREFILL]: gated(901) } }), 10).passed).toBe(true);
    const r = compareResults(fake(), fake({ metrics: { [PREFILL]: gated(899) } }), 10);
    expect(r.passed).toBe(false);
    expect(r.counts.regressed).toBe(1);
    expect(r.rows.find((x) => x.id === PREFILL)!.status).toBe('regressed');
  });

  it('for lower-is-better figures an increase is the regression', () => {
    const t = (value: number): Fig => ({ value, unit: 's', kind: 'measured', better: 'lower' });
    expect(compareResults(fake({ metrics: { 'x.seconds': t(10) } }), fake({ metrics: { 'x.seconds': t(12) } }), 10).counts.regressed).toBe(1);
    expect(compareResults(fake({ metrics: { 'x.seconds': t(10) } }), fake({ metrics: { 'x.seconds': t(8) } }), 10).counts.improved).toBe(1);
  });

  it('a gated metric missing from the run fails; a new one does not', () => {
    const r = compareResults(fake(), fake({ metrics: { [PREFILL]: undefined } }), 10);
    expect(r.passed).toBe(false);
    expect(r.counts.missing).toBe(1);
    const n = compareResults(fake({ metrics: { [PREFILL]: undefined } }), fake(), 10);
    expect(n.passed).toBe(true);
    expect(n.counts.new).toBe(1);
  });

  it('derived figures are not gated, modelled figures must be identical', () => {
    expect(compareResults(fake(), fake({ metrics: { 'kernel.lightning_prefill.layer_seconds@1000000': { value: 50, unit: 's', kind: 'derived' } } }), 10).passed).toBe(true);
    const r = compareResults(fake(), fake({ metrics: { 'model.minimax-m1.params_total': { value: 456_089_655_297, unit: 'params', kind: 'modelled' } } }), 10);
    expect(r.passed).toBe(false);
    expect(r.counts.changed).toBe(1);
  });

  it('runs with different parameters are refused as not comparable (exit 3)', () => {
    expect(() => compareResults(fake(), fake({ ctx: 8192 }), 10)).toThrow(/not comparable \(ctx: 1000000 in the baseline, 8192 in the run\)/);
    try {
      compareResults(fake(), fake({ ctx: 8192 }), 10);
    } catch (e) {
      expect((e as M1kitError).exitCode).toBe(3);
    }
  });

  it('notes a machine change', () => {
    expect(compareResults(fake(), fake({ cpu: 'Other CPU' }), 10).notes.join(' ')).toMatch(/different machines/);
  });

  it('parses thresholds', () => {
    expect(parsePercent('10%')).toBe(10);
    expect(parsePercent('2.5')).toBe(2.5);
    expect(() => parsePercent('ten')).toThrow(/percentage/);
    expect(() => parsePercent('150%')).toThrow(/percentage/);
  });
});

/** A gated rate measured in repeats, and the CPU share of each repeat. */
const repeated = (samples: number[]): Fig => ({ value: [...samples].sort((a, b) => a - b)[samples.length >> 1]!, unit: 'head·tokens/s', kind: 'measured', better: 'higher', samples });
const share = (samples: number[]): Fig => ({ value: [...samples].sort((a, b) => a - b)[samples.length >> 1]!, unit: 'ratio', kind: 'measured', samples });
const SHARE = 'kernel.lightning_prefill.cpu_share';

describe('compareResults: robust by design', () => {
  it('a run that got half the CPU (other processes) is not a regression: rates are per available CPU', () => {
    const base = fake({ metrics: { [PREFILL]: repeated([1000, 1010, 990]), [SHARE]: share([1, 1, 1]) } });
    const busy = fake({ metrics: { [PREFILL]: repeated([500, 505, 495]), [SHARE]: share([0.5, 0.5, 0.5]) } });
    const r = compareResults(base, busy, 10);
    const row = r.rows.find((x) => x.id === PREFILL)!;
    expect(row.perCpu).toBe(true);
    expect(row.deltaPct).toBeCloseTo(0, 9);
    expect(row.status).toBe('ok');
    expect(r.passed).toBe(true);
    // the same raw figures without CPU shares: a −50% regression
    const raw = compareResults(fake({ metrics: { [PREFILL]: repeated([1000, 1010, 990]) } }), fake({ metrics: { [PREFILL]: repeated([500, 505, 495]) } }), 10);
    expect(raw.rows.find((x) => x.id === PREFILL)!.status).toBe('regressed');
  });

  it('medians of the repeats: one disturbed repeat does not move the figure', () => {
    const base = fake({ metrics: { [PREFILL]: repeated([1000, 1000, 1000]) } });
    const run = fake({ metrics: { [PREFILL]: repeated([1000, 400, 1000]) } });
    const row = compareResults(base, run, 10).rows.find((x) => x.id === PREFILL)!;
    expect(row.current).toBe(1000);
  });

  it('a drop beyond the gate but within NOISE_FACTOR × the repeats\' noise is "noisy" and passes; beyond it fails', () => {
    // half-spreads: baseline (1150 − 850) / 1000 / 2 = 15%, run 15% → noise = hypot(15, 15) = 21.2%
    const base = fake({ metrics: { [PREFILL]: repeated([850, 1000, 1150]) } });
    const noisyRun = fake({ metrics: { [PREFILL]: repeated([680, 800, 920]) } }); // −20%, half-spread 15%
    const r = compareResults(base, noisyRun, 10);
    const row = r.rows.find((x) => x.id === PREFILL)!;
    expect(row.noisePct).toBeCloseTo(Math.hypot(15, 15), 9);
    expect(row.tolerancePct).toBeCloseTo(NOISE_FACTOR * Math.hypot(15, 15), 9);
    expect(row.status).toBe('noisy');
    expect(r.passed).toBe(true);
    expect(r.notes.join(' ')).toMatch(/within 2× the repeats' noise/);
    const slow = fake({ metrics: { [PREFILL]: repeated([425, 500, 575]) } }); // −50% > 42.4%
    expect(compareResults(base, slow, 10).rows.find((x) => x.id === PREFILL)!.status).toBe('regressed');
  });

  it('the hint names only what failed; the device message says whether kernels ran', () => {
    const reg = compareResults(fake(), fake({ metrics: { [PREFILL]: gated(500) } }), 10);
    expect(failureHint(reg)).not.toMatch(/modelled/);
    expect(failureHint(reg)).toMatch(/regression beyond the noise/);
    const changed = compareResults(fake(), fake({ metrics: { 'model.minimax-m1.params_total': { value: 1, unit: 'params', kind: 'modelled' } } }), 10);
    expect(failureHint(changed)).toMatch(/changed modelled figure/);
    const noKernels = fake();
    delete noKernels.params.kernels;
    expect(() => compareResults(noKernels, fake(), 10)).toThrow(/kernels: not run in the baseline, run on cpu in the run/);
    expect(() => compareResults(noKernels, fake(), 10)).not.toThrow(/undefined/);
  });
});

describe('readBenchResult', () => {
  it('accepts the full --json document or the bare result', async () => {
    const dir = await tmpDir();
    await writeFile(join(dir, 'a.json'), JSON.stringify({ schemaVersion: 1, command: 'bench', result: fake() }));
    await writeFile(join(dir, 'b.json'), JSON.stringify(fake()));
    expect((await readBenchResult(join(dir, 'a.json'))).params.ctx).toBe(1_000_000);
    expect((await readBenchResult(join(dir, 'b.json'))).params.ctx).toBe(1_000_000);
  });

  it('rejects a schema mismatch, a failed run and invalid JSON with exit code 3', async () => {
    const dir = await tmpDir();
    const cases: [string, string, RegExp][] = [
      ['old.json', JSON.stringify(fake({ schema: 'm1kit.bench/0' })), /expected a bench result with schema "m1kit\.bench\/1", found "m1kit\.bench\/0"/],
      ['none.json', JSON.stringify({ result: { metrics: {} } }), /found no schema field/],
      ['err.json', JSON.stringify({ schemaVersion: 1, command: 'bench', error: { code: 'E_X', message: 'boom' } }), /records a failed run.*boom/],
      ['bad.json', '{ not json', /not valid JSON/],
    ];
    for (const [name, text, re] of cases) {
      await writeFile(join(dir, name), text);
      const err = await readBenchResult(join(dir, name)).catch((e) => e);
      expect(err).toBeInstanceOf(M1kitError);
      expect(err.message).toMatch(re);
      expect(err.exitCode).toBe(3);
    }
  });
});

describe('m1kit bench compare (built CLI)', () => {
  async function files(base: object, run: object) {
    const dir = await tmpDir();
    const b = join(dir, 'baseline.json');
    const r = join(dir, 'run.json');
    await writeFile(b, JSON.stringify({ schemaVersion: 1, command: 'bench', result: base }));
    await writeFile(r, JSON.stringify({ schemaVersion: 1, command: 'bench', result: run }));
    return [b, r] as const;
  }

  it('exit 0 and a JSON report when nothing regressed', async () => {
    const [b, r] = await files(fake(), fake({ metrics: { [PREFILL]: gated(1200) } }));
    const out = await m1kit(['bench', 'compare', b, r, '--json']);
    expect(out.code).toBe(0);
    const doc = jsonDoc(out.stdout);
    expect(doc.command).toBe('bench compare');
    expect(doc.result.passed).toBe(true);
    expect(doc.result.counts.improved).toBe(1);
  });

  it('exit 4 on a regression beyond --max-regression (one JSON error document), exit 0 within it', async () => {
    const [b, r] = await files(fake(), fake({ metrics: { [PREFILL]: gated(800) } }));
    const fail = await m1kit(['bench', 'compare', b, r, '--max-regression', '10%', '--json']);
    expect(fail.code).toBe(4);
    const doc = jsonDoc(fail.stdout); // JSON.parse would throw on two documents
    expect(doc.error.code).toBe('E_REGRESSION');
    expect(doc.error.message).toMatch(/kernel\.lightning_prefill\.head_tokens_per_s regressed -20\.0%/);
    const human = await m1kit(['bench', 'compare', b, r]);
    expect(human.code).toBe(4);
    expect(human.stdout).toMatch(/REGRESSED/);
    expect(human.stderr).toMatch(/regression gate failed/);
    const pass = await m1kit(['bench', 'compare', b, r, '--max-regression', '25%']);
    expect(pass.code).toBe(0);
    expect(pass.stdout).toMatch(/PASS/);
  });

  it('exit 4 on a missing metric, exit 3 on a schema mismatch, exit 2 on a bad threshold', async () => {
    const [b, r] = await files(fake(), fake({ metrics: { [PREFILL]: undefined } }));
    const missing = await m1kit(['bench', 'compare', b, r]);
    expect(missing.code).toBe(4);
    expect(missing.stdout).toMatch(/MISSING/);
    expect(jsonDoc((await m1kit(['bench', 'compare', b, r, '--json'])).stdout).error.message).toMatch(/head_tokens_per_s missing/);
    const [b2, r2] = await files(fake(), fake({ schema: 'm1kit.bench/2' }));
    const schema = await m1kit(['bench', 'compare', b2, r2, '--json']);
    expect(schema.code).toBe(3);
    expect(jsonDoc(schema.stdout).error.code).toBe('E_SCHEMA_MISMATCH');
    const usage = await m1kit(['bench', 'compare', b, r, '--max-regression', 'lots']);
    expect(usage.code).toBe(2);
  });
});
