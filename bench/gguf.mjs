#!/usr/bin/env node
// GGUF export benchmark: convert a generated multi-GB checkpoint to GGUF (bf16 passthrough, f32, q8_0)
// and compare with `cp` of the same safetensors bytes in the same run. Prints throughput ratios
// (cp seconds / convert seconds; target ≥ 0.8 for the bf16 passthrough) and each run's peak RSS.
// Every conversion runs in its own child process so its peak RSS is its own; the page cache is warmed
// by a first `cp` so both sides read from memory.
// Env: M1KIT_BENCH_DIR (default .bench/io-large, shared with bench:io), M1KIT_BENCH_PRESET (large, ~2.2 GB),
//      M1KIT_BENCH_DTYPES (bf16,f32,q8_0), M1KIT_BENCH_REPEAT (3), M1KIT_BENCH_THREADS (encode threads).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateCheckpoint } from '../dist/core/fixture/generate.js';
import { Checkpoint } from '../dist/core/checkpoint/checkpoint.js';

const dir = resolve(process.env.M1KIT_BENCH_DIR ?? '.bench/io-large');
const preset = process.env.M1KIT_BENCH_PRESET ?? 'large';
const dtypes = (process.env.M1KIT_BENCH_DTYPES ?? 'bf16,f32,q8_0').split(',');
const repeat = Number(process.env.M1KIT_BENCH_REPEAT ?? 3);
const threads = process.env.M1KIT_BENCH_THREADS; // encode threads (default: convertToGguf's own, min(CPUs, 8))
const outDir = resolve('.bench/gguf-out');

if (!existsSync(join(dir, 'config.json'))) {
  console.error(`generating ${preset} checkpoint in ${dir} …`);
  await generateCheckpoint({ out: dir, preset, seed: 1, shards: 8 });
}
const ck = await Checkpoint.open(dir);
const files = ck.files.map((f) => join(dir, f));
const bytes = [...ck.fileSizes.values()].reduce((a, b) => a + b, 0);
await ck.close();
mkdirSync(outDir, { recursive: true });

function timeCp() {
  const dst = join(outDir, 'cp');
  rmSync(dst, { recursive: true, force: true });
  mkdirSync(dst);
  const t0 = process.hrtime.bigint();
  // bash's `times` prints the children's user and system CPU time (second line: "0m1.2s 0m3.4s")
  const out = execFileSync('bash', ['-c', 'cp "$@" && sync && times', 'cp', ...files, dst], { encoding: 'utf8' });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  rmSync(dst, { recursive: true, force: true });
  const mins = [...(out.trim().split('\n').pop() ?? '').matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  lastCpCpu = mins.reduce((a, b) => a + b, 0);
  return s;
}
let lastCpCpu = NaN;

// One conversion in a fresh process; prints {seconds, maxRssMiB, bytes}. `sync` is inside the timed
// region for both sides (the writer fsyncs its output; cp is followed by sync).
const child = `
import { convertToGguf } from ${JSON.stringify(resolve('dist/core/gguf/convert.js'))};
const t0 = process.hrtime.bigint();
const s = await convertToGguf({ input: process.argv[1], output: process.argv[2], dtype: process.argv[3], ...(process.argv[4] ? { threads: Number(process.argv[4]) } : {}) });
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const ru = process.resourceUsage();
console.log(JSON.stringify({ seconds, bytes: s.bytes, threads: s.threads, cpuSeconds: (ru.userCPUTime + ru.systemCPUTime) / 1e6, maxRssMiB: ru.maxRSS / 1024 }));
`;
function timeConvert(dtype) {
  const out = join(outDir, `bench-${dtype}.gguf`);
  const r = JSON.parse(execFileSync('node', ['--input-type=module', '-e', child, dir, out, dtype, threads ?? ''], { encoding: 'utf8' }));
  rmSync(out, { force: true });
  return r;
}

timeCp(); // warm the page cache
// Interleave cp and the conversions (cp, bf16, f32, …, cp, bf16, …) and keep each one's best run, so
// a burst of load from other processes on the machine does not favour one side.
let cpBest = Infinity;
let cpCpu = NaN;
const best = {};
for (let i = 0; i < repeat; i++) {
  const t = timeCp();
  if (t < cpBest) [cpBest, cpCpu] = [t, lastCpCpu];
  for (const dtype of dtypes) {
    const r = timeConvert(dtype);
    if (!best[dtype] || r.seconds < best[dtype].seconds) best[dtype] = r;
  }
}
const gb = (n) => (n / 1e9).toFixed(2);
console.log(`source: ${gb(bytes)} GB in ${files.length} files (${dir}); best of ${repeat}`);
console.log(`cp:        ${cpBest.toFixed(2)} s  ${gb(bytes / cpBest)} GB/s (source bytes), ${cpCpu.toFixed(2)} CPU s`);
const results = {};
for (const dtype of dtypes) {
  const b = best[dtype];
  const ratio = cpBest / b.seconds;
  results[dtype] = { seconds: b.seconds, ratio, outBytes: b.bytes, threads: b.threads, cpuSeconds: b.cpuSeconds, maxRssMiB: b.maxRssMiB };
  console.log(`gguf ${dtype.padEnd(5)} ${b.threads} thr ${b.seconds.toFixed(2)} s  ${gb(bytes / b.seconds)} GB/s (source bytes), writes ${gb(b.bytes)} GB, ${b.cpuSeconds.toFixed(2)} CPU s, ratio vs cp ${ratio.toFixed(2)}×, peak RSS ${b.maxRssMiB.toFixed(0)} MiB`);
}
if (results.bf16) console.log(`bf16 passthrough ratio ${results.bf16.ratio.toFixed(2)}× (target ≥ 0.8×): ${results.bf16.ratio >= 0.8 ? 'OK' : 'BELOW TARGET'}`);
console.log(JSON.stringify({ bench: 'gguf', sourceBytes: bytes, cpSeconds: cpBest, cpCpuSeconds: cpCpu, results }));
rmSync(outDir, { recursive: true, force: true });
