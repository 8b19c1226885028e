// False alarms of `bench compare` on back-to-back runs with no change in between: runs the default
// `m1kit bench --json` 2 × PAIRS times (nice'd, one after the other), compares each pair with the
// default 10% gate, and prints how many pairs and gated rates failed, next to the same files judged
// by one repeat's raw rates (the gate without repeats and CPU shares).
//   node bench/compare-noise.mjs            (M1KIT_NOISE_PAIRS=10, M1KIT_NOISE_ARGS="--ctx 1000000")
// Needs the build (npx tsc -p .). Takes about 1.5 minutes per run on 2 cores.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { compareResults } = await import(join(root, 'dist/core/bench/compare.js'));
const pairs = Number(process.env.M1KIT_NOISE_PAIRS ?? 10);
const extra = (process.env.M1KIT_NOISE_ARGS ?? '--ctx 1000000').split(' ').filter(Boolean);
const dir = mkdtempSync(join(tmpdir(), 'm1kit-noise-'));

const runs = [];
for (let i = 0; i < 2 * pairs; i++) {
  const t0 = Date.now();
  const out = execFileSync('nice', ['node', join(root, 'bin/m1kit.js'), 'bench', ...extra, '--json'], { maxBuffer: 1 << 26 });
  writeFileSync(join(dir, `run${i}.json`), out);
  runs.push(JSON.parse(String(out)).result);
  console.error(`run ${i + 1}/${2 * pairs}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

/** The same result as a single-repeat run without CPU shares (the first repeat's raw rates). */
function single(r) {
  const c = structuredClone(r);
  for (const [id, f] of Object.entries(c.metrics)) {
    if (id.endsWith('.cpu_share')) delete c.metrics[id];
    else if (f.better && f.samples) (f.value = f.samples[0]), delete f.samples, delete f.spread;
  }
  return c;
}

const tally = { gate: { pairs: 0, rates: 0 }, single: { pairs: 0, rates: 0 } };
let rates = 0;
for (let p = 0; p < pairs; p++) {
  for (const [mode, a, b] of [['gate', runs[2 * p], runs[2 * p + 1]], ['single', single(runs[2 * p]), single(runs[2 * p + 1])]]) {
    const rep = compareResults(a, b, 10);
    const bad = rep.rows.filter((r) => r.status === 'regressed');
    if (mode === 'gate') rates += rep.rows.filter((r) => r.deltaPct !== null).length;
    if (!rep.passed) tally[mode].pairs++;
    tally[mode].rates += bad.length;
    console.log(`pair ${p + 1} ${mode}: ${rep.passed ? 'pass' : 'FAIL'} ${rep.rows.map((r) => `${r.id.split('.')[1]} ${r.deltaPct?.toFixed(1)}%${r.noisePct !== undefined ? ` ±${r.noisePct.toFixed(0)}%` : ''} ${r.status}`).join(', ')}`);
  }
}
console.log(`false alarms over ${pairs} pairs (${rates} gated rates): bench compare ${tally.gate.pairs} pairs / ${tally.gate.rates} rates; one repeat, raw rates ${tally.single.pairs} pairs / ${tally.single.rates} rates (files in ${dir})`);
