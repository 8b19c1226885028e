#!/usr/bin/env node
// Runtime benchmark.
// 1. Real dimensions (runtime-slice.mjs): S × T tokens layer-major through a real-slice checkpoint on the
//    native kernels, fp32 and bf16: per layer tokens/s, GFLOP/s and % of the same-run FMA peak and SGEMM,
//    disk read GB/s, and the projected wall time of `verify --against` on the 80-layer model, 4 × 2048 tokens.
//    M1KIT_BENCH_SLICE names the checkpoint (make it with `m1kit fixture DIR --preset real-slice`, 27.4 GB);
//    without it a slice shrunk 8× (~0.2 GB) is generated in .bench/runtime-slice-8.
// 2. Reference paths: prefill and decode tokens/s (fp32 and bf16, default kernels) on the committed tiny
//    fixture and a generated larger preset, then peak RSS of a forward pass over a generated checkpoint
//    whose decoded weights are far larger than the --max-memory budget (streaming holds), next to the same
//    run with the default budget. Each measurement runs in its own child process so maxRSS is its own.
// Env: M1KIT_BENCH_SLICE, M1KIT_BENCH_SEQUENCES (default 4), M1KIT_BENCH_TOKENS (per sequence, default 128),
//      M1KIT_BENCH_PRECISIONS (default fp32,bf16), M1KIT_BENCH_ONLY=slice|paths,
//      M1KIT_BENCH_DIR (default .bench/runtime-small), M1KIT_BENCH_PRESET (default small, ~270 MB bf16),
//      M1KIT_BENCH_BUDGET (default 64MiB), M1KIT_THREADS, M1KIT_BENCH_JSON=1 for one JSON document on stdout.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCheckpoint } from '../dist/core/fixture/generate.js';
import { realSliceConfig } from '../dist/core/checkpoint/presets.js';
import { nativeAvailable } from '../dist/native/index.js';
import { benchSlice, sliceAvailable } from './runtime-slice.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const dist = join(here, '../dist');
const dir = process.env.M1KIT_BENCH_DIR ?? '.bench/runtime-small';
const preset = process.env.M1KIT_BENCH_PRESET ?? 'small';
const budget = process.env.M1KIT_BENCH_BUDGET ?? '64MiB';
const asJson = process.env.M1KIT_BENCH_JSON === '1';
const only = process.env.M1KIT_BENCH_ONLY;
const log = (s) => process.stderr.write(s + '\n');
log(`CPU: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.availableParallelism()} threads`);

let slice;
if (only !== 'paths') {
  if (!nativeAvailable()) {
    log('real-dimension runtime: skipped, the native addon is not loaded (npm run build:native)');
  } else {
    let sliceDir = process.env.M1KIT_BENCH_SLICE;
    if (!sliceDir) {
      sliceDir = '.bench/runtime-slice-8';
      if (!sliceAvailable(sliceDir)) {
        log(`generating a real-slice shrunk 8× in ${sliceDir} (set M1KIT_BENCH_SLICE to a \`fixture --preset real-slice\` directory for real sizes) …`);
        await generateCheckpoint({ out: sliceDir, config: realSliceConfig([0, 1], 8), seed: 1, shards: 2, fill: 'table' });
      }
    }
    log(`real-dimension runtime on ${sliceDir}:`);
    slice = await benchSlice({
      dist, dir: sliceDir, log,
      sequences: Number(process.env.M1KIT_BENCH_SEQUENCES ?? 4), tokens: Number(process.env.M1KIT_BENCH_TOKENS ?? 128),
      threads: Number(process.env.M1KIT_THREADS ?? os.availableParallelism()),
      precisions: (process.env.M1KIT_BENCH_PRECISIONS ?? 'fp32,bf16').split(','),
    });
  }
  if (only === 'slice') {
    if (asJson) process.stdout.write(JSON.stringify({ schemaVersion: 2, bench: 'runtime', slice }, null, 2) + '\n');
    process.exit(0);
  }
}

if (!existsSync(join(dir, 'config.json'))) {
  log(`generating ${preset} checkpoint in ${dir} …`);
  await generateCheckpoint({ out: dir, preset, seed: 1, shards: 4 });
}

// One measurement in a fresh process: prefill `n` tokens, then decode `d` tokens; prints JSON.
// Steady state: the weights are read and decoded during the warm-up (within the budget), so tokens/s is compute.
const child = `
const { Checkpoint } = await import(${JSON.stringify(join(dist, 'core/checkpoint/checkpoint.js'))});
const { createSession } = await import(${JSON.stringify(join(dist, 'core/model/session.js'))});
const { parseByteSize } = await import(${JSON.stringify(join(dist, 'core/model/budget.js'))});
const [ckptDir, n, d, precision, maxMem] = process.argv.slice(1);
const ckpt = await Checkpoint.open(ckptDir);
const V = ckpt.config.vocabSize;
const opts = { checkpoint: ckpt, precision, ...(maxMem !== '-' ? { maxMemory: parseByteSize(maxMem) } : {}) };
const s = createSession(opts);
const toks = Array.from({ length: Number(n) + Number(d) }, (_, i) => (i * 7919 + 13) % V);
// warm-up: the same prefill once (page cache, JIT, decoded-weight cache), then a fresh state
await s.prefill(toks.slice(0, Number(n)), { logits: false }); s.reset();
let t0 = performance.now();
await s.prefill(toks.slice(0, Number(n)), { lastOnly: true });
const prefillS = (performance.now() - t0) / 1000;
t0 = performance.now();
for (let i = 0; i < Number(d); i++) await s.decodeStep(toks[Number(n) + i]);
const decodeS = (performance.now() - t0) / 1000;
process.stdout.write(JSON.stringify({ prefillTokPerS: Number(n) / prefillS, decodeTokPerS: Number(d) / decodeS, maxRssBytes: process.resourceUsage().maxRSS * 1024, decodedBytes: s.bytesDecoded }));
await ckpt.close();
`;
const run = (ckptDir, n, d, precision, maxMem = '-') =>
  JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', child, ckptDir, String(n), String(d), precision, maxMem], { encoding: 'utf8', maxBuffer: 1 << 20 }));

const mib = (b) => (b / 2 ** 20).toFixed(0) + ' MiB';
const results = [];
for (const [name, path, n, d] of [['tiny', 'fixtures/tiny', 512, 128], [preset, dir, 64, 16]]) {
  for (const precision of ['fp32', 'bf16']) {
    const r = run(path, n, d, precision);
    results.push({ checkpoint: name, precision, prefillTokens: n, decodeTokens: d, ...r });
    log(`${name.padEnd(6)} ${precision}: prefill ${r.prefillTokPerS.toFixed(1)} tok/s (${n} tokens), decode ${r.decodeTokPerS.toFixed(2)} tok/s (${d} tokens), peak RSS ${mib(r.maxRssBytes)}`);
  }
}

// Streaming: the same forward under a budget far below the decoded (fp32) weight size vs the default budget.
const { Checkpoint } = await import(join(dist, 'core/checkpoint/checkpoint.js'));
const ck = await Checkpoint.open(dir);
const diskBytes = ck.dataBytes;
await ck.close();
const bounded = run(dir, 32, 4, 'fp32', budget);
const unbounded = run(dir, 32, 4, 'fp32');
const streaming = {
  checkpoint: preset,
  weightBytesOnDisk: diskBytes,
  weightBytesDecodedFp32: 2 * diskBytes,
  budget,
  bounded: { maxRssBytes: bounded.maxRssBytes, decodedBytes: bounded.decodedBytes, prefillTokPerS: bounded.prefillTokPerS, decodeTokPerS: bounded.decodeTokPerS },
  defaultBudget: { maxRssBytes: unbounded.maxRssBytes, decodedBytes: unbounded.decodedBytes, prefillTokPerS: unbounded.prefillTokPerS, decodeTokPerS: unbounded.decodeTokPerS },
  rssRatio: bounded.maxRssBytes / unbounded.maxRssBytes,
};
log(`streaming (${preset}, ${mib(diskBytes)} bf16 on disk = ${mib(2 * diskBytes)} fp32 decoded):`);
log(`  --max-memory ${budget}: peak RSS ${mib(bounded.maxRssBytes)}, weights re-read ${mib(bounded.decodedBytes)}, decode ${bounded.decodeTokPerS.toFixed(2)} tok/s`);
log(`  default budget:      peak RSS ${mib(unbounded.maxRssBytes)}, weights read ${mib(unbounded.decodedBytes)}, decode ${unbounded.decodeTokPerS.toFixed(2)} tok/s`);
log(`  RSS ratio bounded/default = ${streaming.rssRatio.toFixed(2)}`);
if (asJson) process.stdout.write(JSON.stringify({ schemaVersion: 2, bench: 'runtime', slice, results, streaming }, null, 2) + '\n');
