#!/usr/bin/env node
// I/O benchmark: read every tensor of a generated multi-GB checkpoint through m1kit's safetensors reader
// and compare with `cat shard… > /dev/null` of the same files in the same run. Target ratio ≥ 0.9.
// Env: M1KIT_BENCH_DIR (default .bench/io-large), M1KIT_BENCH_PRESET (default large, ~2.2 GB), M1KIT_BENCH_REPEAT (3).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { generateCheckpoint } from '../dist/core/fixture/generate.js';
import { Checkpoint } from '../dist/core/checkpoint/checkpoint.js';

const dir = process.env.M1KIT_BENCH_DIR ?? '.bench/io-large';
const preset = process.env.M1KIT_BENCH_PRESET ?? 'large';
const repeat = Number(process.env.M1KIT_BENCH_REPEAT ?? 3);
const CHUNK = 16 * 1024 * 1024;

if (!existsSync(join(dir, 'config.json'))) {
  console.error(`generating ${preset} checkpoint in ${dir} …`);
  await generateCheckpoint({ out: dir, preset, seed: 1, shards: 8 });
}

// Two reads in flight (one per core), each into its own reused buffer.
const IN_FLIGHT = 2;
async function readAll() {
  const ckpt = await Checkpoint.open(dir);
  const jobs = [];
  for (const [name, { file, info }] of ckpt.tensors) {
    const size = info.end - info.begin;
    for (let off = 0; off < size; off += CHUNK) jobs.push({ name, file, off, n: Math.min(CHUNK, size - off) });
  }
  let bytes = 0;
  const t0 = process.hrtime.bigint();
  const worker = async () => {
    const buf = new Uint8Array(CHUNK);
    for (let j = jobs.shift(); j; j = jobs.shift()) {
      const r = await ckpt.reader(j.file);
      await r.readInto(j.name, j.n === CHUNK ? buf : buf.subarray(0, j.n), j.off);
      bytes += j.n;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await ckpt.close();
  return { bytes, s };
}

function catAll(files) {
  const t0 = process.hrtime.bigint();
  execFileSync('sh', ['-c', `cat ${files.map((f) => `'${f}'`).join(' ')} > /dev/null`]);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const ck = await Checkpoint.open(dir);
const files = ck.files.map((f) => join(dir, f));
const fileBytes = [...ck.fileSizes.values()].reduce((a, b) => a + b, 0);
await ck.close();
catAll(files); // warm the page cache so both sides read from memory
let bestCat = Infinity;
let bestReader = Infinity;
let tensorBytes = 0;
for (let i = 0; i < repeat; i++) {
  bestCat = Math.min(bestCat, catAll(files));
  const r = await readAll();
  tensorBytes = r.bytes;
  bestReader = Math.min(bestReader, r.s);
}
const gbps = (b, s) => (b / s / 1e9).toFixed(2);
console.log(`checkpoint: ${dir} (${(fileBytes / 1e9).toFixed(2)} GB in ${files.length} files, ${(tensorBytes / 1e9).toFixed(2)} GB of tensors)`);
console.log(`cat > /dev/null : ${gbps(fileBytes, bestCat)} GB/s (best of ${repeat})`);
console.log(`m1kit reader    : ${gbps(tensorBytes, bestReader)} GB/s (best of ${repeat}, ${CHUNK >> 20} MiB positioned reads, every tensor)`);
console.log(`ratio reader/cat: ${(tensorBytes / bestReader / (fileBytes / bestCat)).toFixed(2)} (target ≥ 0.90)`);
