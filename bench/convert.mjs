#!/usr/bin/env node
/**
 * bench:convert — throughput of `m1kit convert` (re-shard) and `m1kit quantize` (fp8-block, int8-channel, nvfp4,
 * mxfp4, mxfp8) against `cp -r` + `sync` of the same input, measured in the same run, with each command's peak RSS.
 *
 * Input: a generated MiniMax-M1-shaped checkpoint (preset `large`, ≈ 2.2 GB of bf16 by default).
 *   M1KIT_BENCH_PRESET=small|large        fixture preset (default large)
 *   M1KIT_BENCH_DIR=/path                 work directory (default: a temp dir, removed at the end)
 *   M1KIT_BENCH_KEEP=1                    keep the work directory
 *   M1KIT_BENCH_ROUNDS=3                  rounds; every command runs once per round, medians are compared
 *                                         (single runs of the same command spread by ±15% on a shared VM)
 * The CPU model and the sha256 rates measured on it are printed first (bench/machine.mjs).
 * Throughput = input tensor bytes / wall time (napkin: both sides read every input byte once; m1kit also
 * writes and fsyncs every output byte, cp writes the same amount, so ≥ 0.9× means I/O-bound).
 * Every command runs in its own process under /usr/bin/time for peak RSS; the input is read and `sync`
 * is run beforehand, so every measurement starts from a warm page cache with no dirty pages. cp runs
 * first and last in every round and the median of those runs is the baseline. Note: cp copies with
 * copy_file_range (in the kernel); m1kit also copies unchanged tensors with copy_file_range, but must
 * sha256 every output byte (≈0.95 CPU-s per 1.8 GB, on two hash workers) for its resume manifest. On a
 * 2-vCPU VM that costs twice: the CPU time itself, and disk writes, which slow down ~5× while both vCPUs
 * are busy (measured with O_DIRECT writes: 1.83 GB/s with one vCPU busy, 0.35 GB/s with both), whereas
 * `cp -r + sync` copies on one vCPU and then flushes with both idle.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCheckpoint } from '../dist/core/fixture/generate.js';
import { cpuModel, hashRates, machineLine } from './machine.mjs';

const repo = fileURLToPath(new URL('../', import.meta.url));
const bin = join(repo, 'bin', 'm1kit.js');
const preset = process.env.M1KIT_BENCH_PRESET ?? 'large';
const work = process.env.M1KIT_BENCH_DIR ?? mkdtempSync(join(tmpdir(), 'm1kit-bench-convert-'));
const input = join(work, 'in');
const hasTime = existsSync('/usr/bin/time');

const dirBytes = (d) => readdirSync(d, { recursive: true }).map((f) => join(d, String(f))).filter((p) => statSync(p).isFile()).reduce((a, p) => a + statSync(p).size, 0);
const fmt = (b) => `${(b / 1e9).toFixed(2)} GB`;

/** Run a command, return wall seconds and peak RSS (KiB) of the process tree's largest process. */
function timed(cmd, args) {
  const t0 = process.hrtime.bigint();
  const r = hasTime ? spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { encoding: 'utf8' }) : spawnSync(cmd, args, { encoding: 'utf8' });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const rssKiB = hasTime ? Number(r.stderr.trim().split('\n').pop()) : NaN;
  return { s, rssKiB };
}

function warm() {
  // read every input file once so cp and m1kit start from the same page-cache state
  for (const f of readdirSync(input)) execFileSync('cat', [join(input, f)], { stdio: ['ignore', 'ignore', 'ignore'], maxBuffer: 1 });
}

async function main() {
  if (!existsSync(join(input, 'config.json'))) {
    process.stderr.write(`generating the ${preset} fixture in ${input} …\n`);
    await generateCheckpoint({ out: input, preset, seed: 1, shards: 8 });
  }
  const index = JSON.parse(readFileSync(join(input, 'model.safetensors.index.json'), 'utf8'));
  const bytes = index.metadata.total_size;
  const rounds = Math.max(1, Number(process.env.M1KIT_BENCH_ROUNDS ?? 3));
  const rows = [];
  const run = (label, cmd, args, out) => {
    rmSync(out, { recursive: true, force: true });
    warm();
    execFileSync('sync'); // start every measurement with no dirty pages left by the previous one
    const m = timed(cmd, args);
    const outBytes = dirBytes(out);
    rmSync(out, { recursive: true, force: true });
    rows.push({ label, seconds: m.s, gbPerS: bytes / m.s / 1e9, peakRssMiB: m.rssKiB / 1024, outBytes });
    process.stderr.write(`${label}: ${m.s.toFixed(2)} s\n`);
    return m;
  };
  const cpCmd = ['sh', ['-c', `cp -r "${input}" "${join(work, 'cp')}" && sync`], join(work, 'cp')];
  // the floor for any tool that streams bytes through user space in Node: 16 MiB read → write, one sync
  const loop = `const fs=require('fs');const [s,d]=process.argv.slice(1);fs.mkdirSync(d);const b=Buffer.allocUnsafe(1<<24);for(const f of fs.readdirSync(s)){const a=fs.openSync(s+'/'+f,'r'),o=fs.openSync(d+'/'+f,'w');let p=0,n;while((n=fs.readSync(a,b,0,b.length,p))>0){fs.writeSync(o,b,0,n,p);p+=n}fs.closeSync(a);fs.closeSync(o)}require('child_process').execSync('sync')`;
  const commands = [
    ['convert --max-shard-size 500MB', 'node', [bin, '-q', 'convert', input, join(work, 'reshard'), '--max-shard-size', '500MB'], join(work, 'reshard')],
    ['convert --tp 2 --ep 2', 'node', [bin, '-q', 'convert', input, join(work, 'tp'), '--tp', '2', '--ep', '2'], join(work, 'tp')],
    ['quantize fp8-block', 'node', [bin, '-q', 'quantize', input, join(work, 'fp8'), '--scheme', 'fp8-block'], join(work, 'fp8')],
    ['quantize int8-channel', 'node', [bin, '-q', 'quantize', input, join(work, 'int8'), '--scheme', 'int8-channel'], join(work, 'int8')],
    ['quantize nvfp4', 'node', [bin, '-q', 'quantize', input, join(work, 'nvfp4'), '--scheme', 'nvfp4'], join(work, 'nvfp4')],
    ['quantize mxfp4', 'node', [bin, '-q', 'quantize', input, join(work, 'mxfp4'), '--scheme', 'mxfp4'], join(work, 'mxfp4')],
    ['quantize mxfp8', 'node', [bin, '-q', 'quantize', input, join(work, 'mxfp8'), '--scheme', 'mxfp8'], join(work, 'mxfp8')],
  ];
  /** label → runs; cp runs first and last in every round */
  const runs = new Map();
  const keep = (label, m) => runs.set(label, [...(runs.get(label) ?? []), m]);
  let nodeLoop;
  for (let round = 1; round <= rounds; round++) {
    if (rounds > 1) process.stderr.write(`round ${round} of ${rounds}\n`);
    keep('cp', run('cp -r + sync', ...cpCmd));
    if (round === 1) nodeLoop = run('node read/write loop + sync', 'node', ['-e', loop, input, join(work, 'loop')], join(work, 'loop'));
    for (const [label, cmd, args, out] of commands) keep(label, run(label, cmd, args, out));
    keep('cp', run('cp -r + sync (again)', ...cpCmd));
  }
  const median = (label) => {
    const xs = runs.get(label).map((m) => m.s).sort((a, b) => a - b);
    return { s: xs.length % 2 ? xs[(xs.length - 1) / 2] : (xs[xs.length / 2 - 1] + xs[xs.length / 2]) / 2 };
  };
  const [reshard, tp, fp8, int8, nvfp4, mxfp4, mxfp8] = commands.map(([label]) => median(label));
  const cpS = median('cp').s; // cp runs first and last in every round; the median of all is the baseline
  const ratio = (m) => cpS / m.s;
  // measured after the rounds, so that it never competes with them: every output byte is hashed, so
  // these rates bound the ratios on this CPU
  const rates = hashRates();
  const result = {
    machine: { cpu: cpuModel(), sha256GBps: rates },
    preset,
    rounds,
    inputBytes: bytes,
    rows,
    ratios: {
      nodeLoopVsCp: ratio(nodeLoop),
      reshardVsCp: ratio(reshard),
      reshardVsNodeLoop: nodeLoop.s / reshard.s,
      tpEpVsCp: ratio(tp),
      fp8VsCp: ratio(fp8),
      int8VsCp: ratio(int8),
      nvfp4VsCp: ratio(nvfp4),
      mxfp4VsCp: ratio(mxfp4),
      mxfp8VsCp: ratio(mxfp8),
    },
    targets: { reshardVsCp: 0.9, fp8VsCp: 0.8, int8VsCp: 0.8, nvfp4VsCp: 0.8, mxfp4VsCp: 0.8, mxfp8VsCp: 0.8 },
  };
  console.log(machineLine(rates));
  console.log(`input ${fmt(bytes)} (${preset}), ${rounds} round(s): every run below, ratios from the medians`);
  for (const r of rows) console.log(`${r.label.padEnd(32)} ${r.seconds.toFixed(2).padStart(7)} s  ${r.gbPerS.toFixed(2).padStart(6)} GB/s  peak RSS ${r.peakRssMiB.toFixed(0).padStart(5)} MiB  out ${fmt(r.outBytes)}`);
  console.log(`plain Node read/write loop: ${result.ratios.nodeLoopVsCp.toFixed(2)}× cp; m1kit re-shard vs that loop: ${result.ratios.reshardVsNodeLoop.toFixed(2)}×`);
  console.log(`ratios vs cp: re-shard ${result.ratios.reshardVsCp.toFixed(2)}× (target ≥ 0.9) · tp2/ep2 ${result.ratios.tpEpVsCp.toFixed(2)}× · fp8-block ${result.ratios.fp8VsCp.toFixed(2)}× (target ≥ 0.8) · int8 ${result.ratios.int8VsCp.toFixed(2)}× (target ≥ 0.8)`);
  console.log(`ratios vs cp: nvfp4 ${result.ratios.nvfp4VsCp.toFixed(2)}× · mxfp4 ${result.ratios.mxfp4VsCp.toFixed(2)}× · mxfp8 ${result.ratios.mxfp8VsCp.toFixed(2)}× (target ≥ 0.8 each)`);
  if (process.argv.includes('--json')) console.log(JSON.stringify(result));
  if (!process.env.M1KIT_BENCH_KEEP && !process.env.M1KIT_BENCH_DIR) rmSync(work, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
