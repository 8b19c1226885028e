#!/usr/bin/env node
// CUDA kernel suite (`npm run test:cuda`): compares the CUDA kernels with the CPU kernels on the
// same bf16-rounded inputs. Without a CUDA device (or without the compiled library) it prints the
// reason and exits 0; any mismatch beyond the named budgets exits 4. Needs the TypeScript build
// (npx tsc -p .) and the native addon (npm run build:native).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = (p) => path.join(root, 'dist', p);
if (!existsSync(dist('core/ops/cuda.js'))) {
  console.error('test:cuda: dist/ not built; run `npx tsc -p .` first');
  process.exit(1);
}
const { nativeInfo } = await import(dist('core/ops/info.js'));
const { cudaLightningPrefill, cudaLightningDecode, cudaQuantizeFp8Blocks } = await import(dist('core/ops/cuda.js'));
const { lightningPrefill, lightningDecode } = await import(dist('core/ops/lightning.js'));
const { quantizeFp8Blocks } = await import(dist('core/ops/quant.js'));
const { f32ToBf16, bf16ToF32 } = await import(dist('core/dtype/convert.js'));

/** CUDA fp32 accumulation (different order) vs CPU fp32 kernel on identical bf16 inputs, relative to max |ref|. */
const CUDA_LIGHTNING_REL_BUDGET = 3e-5;

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

for (const [n, h, d] of [[1, 1, 128], [257, 2, 128], [513, 3, 48], [4096, 4, 128]]) {
  const q = rand(n * h * d, 1), k = rand(n * h * d, 2), v = rand(n * h * d, 3), state = rand(h * d * d, 4);
  const slopes = Float32Array.from({ length: h }, (_, j) => 2 ** (-(j + 1) / 8));
  for (const [name, gpu, cpu] of [['prefill', cudaLightningPrefill, lightningPrefill], ['decode', cudaLightningDecode, lightningDecode]]) {
    if (name === 'decode' && n > 600) continue;
    const t0 = performance.now();
    const g = await gpu({ q, k, v, n, h, d, slopes, state });
    const ms = performance.now() - t0;
    const c = await cpu({ q, k, v, n, h, d, slopes, state });
    const eo = relErr(g.o, c.o), es = relErr(g.state, c.state);
    check(`lightning ${name} n=${n} h=${h} d=${d}`, eo <= CUDA_LIGHTNING_REL_BUDGET && es <= CUDA_LIGHTNING_REL_BUDGET,
      `rel err o ${eo.toExponential(2)}, state ${es.toExponential(2)} (budget ${CUDA_LIGHTNING_REL_BUDGET}); ${ms.toFixed(1)} ms incl. transfers`);
  }
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

if (failed) {
  console.log(`test:cuda: ${failed} check(s) failed`);
  process.exit(4);
}
console.log('test:cuda: all checks passed');
