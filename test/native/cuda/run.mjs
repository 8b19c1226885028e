#!/usr/bin/env node
// CUDA kernel suite (`npm run test:cuda`): compares the CUDA kernels with the CPU kernels and with the
// host emulation of the tensor-core decomposition on the same bf16-rounded inputs, then measures the
// kernels against same-run baselines (bf16 mma peak loop, device-to-device copy) at the released
// model's shape (n = 2^20, 64 heads, d = 128). Without a CUDA device (or without the compiled library)
// it prints the reason and exits 0; any mismatch beyond the named budgets exits 4. `--json FILE` also
// writes the figures. Needs the TypeScript build (npx tsc -p .) and the native addon (npm run build:native).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const dist = (p) => path.join(root, 'dist', p);
if (!existsSync(dist('core/ops/cuda.js'))) {
  console.error('test:cuda: dist/ not built; run `npx tsc -p .` first');
  process.exit(1);
}
const { nativeInfo } = await import(dist('core/ops/info.js'));
const { cudaLightningPrefillEmulated, cudaQuantizeFp8Blocks, cudaBench } = await import(dist('core/ops/cuda.js'));
const { lightningPrefill, lightningDecode } = await import(dist('core/ops/lightning.js'));
const { quantizeFp8Blocks } = await import(dist('core/ops/quant.js'));
const { f32ToBf16, bf16ToF32 } = await import(dist('core/dtype/convert.js'));

/** Decode: fp32 math on both sides, different summation order, relative to max |ref|. */
const CUDA_LIGHTNING_REL_BUDGET = 3e-5;
/**
 * Tensor-core prefill: two bf16 roundings (u = 2⁻⁸ each) on any path, elementwise against the sum of
 * absolute terms (the CPU kernel run on |q|, |k|, |v|, |S|), plus fp32 accumulation slack
 * (test/native/cuda/tc-emulation.test.ts derives the same bound).
 */
const TC_PREFILL_REL = 2 * 2 ** -8 + 2 ** -16;
/** Targets of the tensor-core kernels on an H200 (issue: ≥ 40% of the mma peak, decode ≥ 70% of copy). */
const TARGET_PREFILL_OF_PEAK = 0.4;
const TARGET_DECODE_OF_COPY = 0.7;
const jsonOut = process.argv.includes('--json') ? process.argv[process.argv.indexOf('--json') + 1] : undefined;

const info = nativeInfo();
if (!info.loaded) {
  console.log(`test:cuda skipped: native addon not loaded (${info.reason})`);
  process.exit(0);
}
if (!info.cuda.loaded) {
  console.log(`test:cuda skipped: ${info.cuda.reason ?? 'CUDA unavailable'} (library compiled: ${info.cuda.compiled})`);
  process.exit(0);
}
console.log(`test:cuda on ${info.cuda.devices.join(', ')}`);

function rand(n, seed) {
  let x = seed >>> 0 || 1;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    a[i] = x / 2 ** 31 - 1;
  }
  return bf16ToF32(f32ToBf16(a)); // bf16-representable, so the CUDA upload rounding is exact
}
function relErr(a, b) {
  let d = 0, s = 0;
  for (let i = 0; i < b.length; i++) {
    const e = Math.abs(a[i] - b[i]);
    d = Number.isNaN(e) ? Infinity : Math.max(d, e);
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / Math.max(s, 1e-30);
}

let failed = 0;
function check(name, ok, detail) {
  console.log(`${ok ? '✓' : '✗'} ${name}: ${detail}`);
  if (!ok) failed++;
}

function boundErr(got, ref, absRef, rel) {
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    const r = Math.abs(got[i] - ref[i]) / (rel * absRef[i] + 1e-30);
    worst = Number.isNaN(r) ? Infinity : Math.max(worst, r);
  }
  return worst;
}
const abs = (a) => a.map(Math.abs);

for (const [n, h, d] of [[1, 1, 128], [257, 2, 128], [513, 3, 48], [4096, 4, 128], [70000, 2, 128]]) {
  const q = rand(n * h * d, 1), k = rand(n * h * d, 2), v = rand(n * h * d, 3), state = rand(h * d * d, 4);
  const slopes = Float32Array.from({ length: h }, (_, j) => [0.0039, 0.92, 0.35, 2 ** -0.5][j % 4]);
  const t0 = performance.now();
  const g = await lightningPrefill({ q, k, v, n, h, d, slopes, state, backend: 'cuda' });
  const ms = performance.now() - t0;
  const c = await lightningPrefill({ q, k, v, n, h, d, slopes, state });
  const a = await lightningPrefill({ q: abs(q), k: abs(k), v: abs(v), n, h, d, slopes, state: abs(state) });
  const e = n <= 4096 ? await cudaLightningPrefillEmulated({ q, k, v, n, h, d, slopes, state }) : undefined;
  const go = boundErr(g.o, c.o, a.o, TC_PREFILL_REL), gs = boundErr(g.state, c.state, a.state, TC_PREFILL_REL);
  const eo = e ? boundErr(e.o, c.o, a.o, TC_PREFILL_REL) : 0;
  const ge = e ? relErr(g.o, e.o) : NaN;
  check(`lightning prefill (tensor cores) n=${n} h=${h} d=${d}`, go <= 1 && gs <= 1 && eo <= 1,
    `worst error / bound: o ${go.toFixed(3)}, state ${gs.toFixed(3)}, emulation ${eo.toFixed(3)}; GPU vs emulation ${ge.toExponential(2)} of max; ${ms.toFixed(1)} ms incl. transfers`);
}

for (const [n, h, d] of [[1, 1, 128], [257, 2, 128], [513, 3, 48]]) {
  const q = rand(n * h * d, 1), k = rand(n * h * d, 2), v = rand(n * h * d, 3), state = rand(h * d * d, 4);
  const slopes = Float32Array.from({ length: h }, (_, j) => 2 ** (-(j + 1) / 8));
  const g = await lightningDecode({ q, k, v, n, h, d, slopes, state, backend: 'cuda' });
  const c = await lightningDecode({ q, k, v, n, h, d, slopes, state });
  const eo = relErr(g.o, c.o), es = relErr(g.state, c.state);
  check(`lightning decode n=${n} h=${h} d=${d}`, eo <= CUDA_LIGHTNING_REL_BUDGET && es <= CUDA_LIGHTNING_REL_BUDGET,
    `rel err o ${eo.toExponential(2)}, state ${es.toExponential(2)} (budget ${CUDA_LIGHTNING_REL_BUDGET})`);
}

for (const [rows, cols] of [[1, 1], [130, 257], [1024, 6144]]) {
  const w = rand(rows * cols, rows + cols);
  w[0] = NaN; if (w.length > 3) { w[1] = Infinity; w[2] = -0; w[3] = 1e-42; }
  const g = await cudaQuantizeFp8Blocks(w, rows, cols, 128);
  const c = await quantizeFp8Blocks(w, rows, cols, 128);
  let bad = -1;
  for (let i = 0; i < c.codes.length && bad < 0; i++) if (g.codes[i] !== c.codes[i]) bad = i;
  let badS = -1;
  for (let i = 0; i < c.scaleInv.length && badS < 0; i++) if (!Object.is(g.scaleInv[i], c.scaleInv[i])) badS = i;
  check(`fp8 block quant ${rows}×${cols}`, bad < 0 && badS < 0,
    bad < 0 && badS < 0 ? 'bit-exact with the CPU kernel' : `first differing code ${bad}, scale ${badS}`);
}

const shape = { n: 2 ** 20, h: 64, d: 128, decodeHeads: 64 * 16 };
const b = await cudaBench(shape);
const ofPeak = b.prefillFlopsPerSecond / b.mmaPeakFlopsPerSecond;
const decodeGBps = b.decodeBytes / b.decodeSeconds / 1e9, copyGBps = b.decodeBytes / b.copySeconds / 1e9;
console.log(`bf16 mma peak (same run): ${(b.mmaPeakFlopsPerSecond / 1e12).toFixed(1)} TFLOP/s`);
console.log(`lightning prefill n=2^20 h=64 d=128: ${(b.prefillFlopsPerSecond / 1e12).toFixed(1)} TFLOP/s = ${(100 * ofPeak).toFixed(1)}% of peak `
  + `(${b.prefillSeconds.toFixed(3)} s; target ≥ ${100 * TARGET_PREFILL_OF_PEAK}%)`);
console.log(`lightning decode ${shape.decodeHeads} heads: ${decodeGBps.toFixed(0)} GB/s = ${(100 * decodeGBps / copyGBps).toFixed(1)}% of a device copy of the same bytes `
  + `(${copyGBps.toFixed(0)} GB/s; target ≥ ${100 * TARGET_DECODE_OF_COPY}%)`);
if (jsonOut) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(jsonOut, JSON.stringify({ device: info.cuda.devices[0], shape, ...b, prefillOfPeak: ofPeak, decodeGBps, copyGBps, failed }, null, 2) + '\n');
}

if (failed) {
  console.log(`test:cuda: ${failed} check(s) failed`);
  process.exit(4);
}
console.log('test:cuda: all checks passed');
