#!/usr/bin/env node
// Kernel benchmark (`npm run bench:kernels`, needs `npx tsc -p .` and the native addon).
// Prints, from one run on this machine, for head_dim 128:
//   - fp32 FMA peak (register-only FMA chains) and an SGEMM (1024³, same threads) as the compute roofs;
//   - lightning prefill GFLOP/s counted as the spec does (docs/architecture.md §5.1/§6: 4hd² + 4hBd per
//     token, dense diagonal blocks) and its ratio to both roofs;
//   - lightning decode GB/s (fp32 state read + written once per token: 2·h·d²·4 B, plus q,k,v,o)
//     next to a threaded memcpy (bytes read + written);
//   - quantizer GB/s (fp32 read + codes/scales written) next to the same memcpy, after a bit-exact
//     check of each quantizer against its TypeScript reference;
//   - steep vs shallow decay: the same prefill with every head at M1's steepest slope (0.917, whose
//     decay powers would go subnormal without the floor and FTZ/DAZ) and at its shallowest (0.0127),
//     interleaved; their time ratio should be ≈ 1 (a denormal stall shows up as ≫ 1);
//   - speedup of every SIMD path over the TypeScript reference;
//   - a 1,000,000-token single-head prefill streamed in 65,536-token chunks, with peak RSS.
//   - GEMM fp32 and bf16 at M=512, K=6144, N=8192 and the grouped expert GEMM, each next to the peak
//     that bounds it (fp32 FMA peak; vdpbf16ps / AMX peak for bf16), measured in alternation with it;
//   - lightning prefill fp32 and bf16 at n = 65,536 (streamed in chunks), h = 8 and h = 1, as % of
//     the fp32 FMA peak / the bf16 peak; decode as % of an in-place stream of the same bytes.
// All "% of peak" figures are medians of ROUNDS alternations of kernel and peak (the machine is shared).
// Every kernel is checked against its reference before it is timed. Each measurement is interleaved
// with its roof (SGEMM or memcpy) and both take the best of 5, so a busy machine affects both alike.
// `--json` prints one JSON document.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const imp = (p) => import(path.join(root, 'dist', p));
const { nativeInfo, selectSimdPath } = await imp('core/ops/info.js');
const { lightningPrefill, lightningDecode, LightningPrefillStream } = await imp('core/ops/lightning.js');
const { gemm } = await imp('core/ops/gemm.js');
const { quantizeFp8Blocks, quantizeInt8, quantizeInt4 } = await imp('core/ops/quant.js');
const { lightningNaive } = await imp('core/ops/lightning.ref.js');
const native = await imp('native/index.js');
const { gemmGrouped } = await imp('core/ops/gemm.js');
const { f32ToBf16 } = await imp('core/dtype/convert.js');
const { headSlopes } = await imp('core/arch/minimax-m1/slopes.js');

/** Decay rates from M1's 64-head schedule (arch/minimax-m1/slopes.ts): head j of h takes slope (j·stride) mod 64. */
function m1Slopes(h, stride = 1) {
  const s = headSlopes(64);
  return Float32Array.from({ length: h }, (_, j) => s[(j * stride) % 64]);
}

const json = process.argv.includes('--json');
const info = nativeInfo();
if (!info.loaded) {
  console.error(`bench:kernels: native addon not loaded (${info.reason}); build it with npm run build:native`);
  process.exit(5);
}
const T = info.threads;
const D = 128;
const out = { threads: T, simd: info.simd, simdAvailable: info.simdAvailable, results: {} };
const log = (s) => { if (!json) console.log(s); };

function rand(n, seed, scale = 1) {
  let x = seed >>> 0 || 1;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    a[i] = (x / 2 ** 31 - 1) * scale;
  }
  return a;
}
/** Best wall times of `a` and `b`, run alternately `reps` times after one warm-up each. */
async function paired(a, b, reps = 5) {
  await a();
  await b();
  let ta = Infinity, tb = Infinity;
  for (let i = 0; i < reps; i++) {
    let t0 = performance.now();
    await a();
    ta = Math.min(ta, (performance.now() - t0) / 1000);
    t0 = performance.now();
    await b();
    tb = Math.min(tb, (performance.now() - t0) / 1000);
  }
  return [ta, tb];
}
/** Best wall time in seconds over `reps` runs after one warm-up. */
async function best(fn, reps = 3) {
  await fn();
  let t = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    t = Math.min(t, (performance.now() - t0) / 1000);
  }
  return t;
}
const f1 = (x) => x.toFixed(1);
const pct = (x) => `${(100 * x).toFixed(0)}%`;
function relErr(a, b) {
  let d = 0, s = 0;
  for (let i = 0; i < b.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); s = Math.max(s, Math.abs(b[i])); }
  return d / s;
}
function verify(name, err, budget) {
  if (!(err <= budget)) {
    console.error(`bench:kernels: ${name} disagrees with its reference (rel err ${err}); not timing a wrong kernel`);
    process.exit(4);
  }
}

async function roofs() {
  const lanes = { avx512: 16, avx2: 8, scalar: 1 }[info.slots.fma_peak] ?? 1;
  const iters = info.simd === 'scalar' ? 20_000_000 : 50_000_000;
  const tp = await best(() => native.fmaPeak({ iters, threads: T }), 2);
  const peak = (T * iters * 12 * lanes * 2) / tp / 1e9;
  const [tg, tc] = await paired(sgemmRun, copyRun, 3);
  return { fmaPeakGflops: peak, sgemmGflops: SGEMM_FLOP / tg / 1e9, memcpyGBs: COPY_BYTES / tc / 1e9 };
}
const SN = 1024, SGEMM_FLOP = 2 * SN ** 3;
const sx = rand(SN * SN, 1), sw = rand(SN * SN, 2); // 4 MiB each
const sgemmRun = () => gemm({ x: sx, w: sw, m: SN, k: SN, nOut: SN, threads: T });
const CM = 64 * 2 ** 20, COPY_BYTES = 2 * 4 * CM; // 256 MiB of fp32, read + written
let cbuf; // allocated on first use, after the streamed prefill has measured its peak RSS
const copyRun = () => {
  cbuf ??= { src: rand(CM, 3), dst: new Float32Array(CM) };
  return native.copy({ src: cbuf.src, dst: cbuf.dst, n: CM, threads: T });
};

async function prefill(roof) {
  const h = Math.max(2, T * 2), n = 8192;
  const q = rand(n * h * D, 4, 0.1), k = rand(n * h * D, 5, 0.1), v = rand(n * h * D, 6);
  const slopes = m1Slopes(h);
  const nn = 300, ref = lightningNaive({ q: q.subarray(0, nn * h * D), k: k.subarray(0, nn * h * D), v: v.subarray(0, nn * h * D), n: nn, h, d: D, slopes });
  const chk = await lightningPrefill({ q: q.subarray(0, nn * h * D), k: k.subarray(0, nn * h * D), v: v.subarray(0, nn * h * D), n: nn, h, d: D, slopes });
  verify('lightning prefill', relErr(chk.o, ref.o), 3e-5);
  const [t, tg] = await paired(() => lightningPrefill({ q, k, v, n, h, d: D, slopes, threads: T }), sgemmRun);
  const B = 256;
  const spec = n * h * (4 * D * D + 4 * B * D);
  const skip = n * h * (4 * D * D + 2 * B * D);
  const sgemm = SGEMM_FLOP / tg / 1e9;
  return { n, h, d: D, seconds: t, specGflops: spec / t / 1e9, causalSkipGflops: skip / t / 1e9, sgemmGflops: sgemm,
    ofSgemm: spec / t / 1e9 / sgemm, ofFmaPeak: spec / t / 1e9 / roof.fmaPeakGflops };
}

async function slopeRatio() {
  const h = Math.max(2, T * 2), n = 8192;
  const q = rand(n * h * D, 24, 0.1), k = rand(n * h * D, 25, 0.1), v = rand(n * h * D, 26);
  const steep = new Float32Array(h).fill(0.9170040432), shallow = new Float32Array(h).fill(0.0126683);
  const [ts, tf] = await paired(() => lightningPrefill({ q, k, v, n, h, d: D, slopes: steep, threads: T }),
    () => lightningPrefill({ q, k, v, n, h, d: D, slopes: shallow, threads: T }), 5);
  return { n, h, steepSeconds: ts, shallowSeconds: tf, steepOverShallow: ts / tf };
}

async function decode(roof) {
  const h = 2048, steps = 4; // 2048 heads (e.g. 32 sequences × 64 heads): 128 MiB of fp32 state, 4× the L3 here
  const q = rand(steps * h * D, 7), k = rand(steps * h * D, 8), v = rand(steps * h * D, 9);
  const slopes = m1Slopes(h);
  const state = new Float32Array(h * D * D);
  const o = new Float32Array(h * D);
  const [t, tc] = await paired(async () => {
    for (let s = 0; s < steps; s++) {
      const sl = (a) => a.subarray(s * h * D, (s + 1) * h * D);
      await lightningDecode({ q: sl(q), k: sl(k), v: sl(v), n: 1, h, d: D, slopes, state, inPlace: true, out: o, threads: T });
    }
  }, copyRun);
  const bytes = steps * (2 * h * D * D * 4 + 4 * h * D * 4);
  const gbs = bytes / t / 1e9, memcpy = COPY_BYTES / tc / 1e9;
  return { heads: h, steps, seconds: t, GBs: gbs, memcpyGBs: memcpy, ofMemcpy: gbs / memcpy };
}

/** Byte-identical typed arrays (the quantizers must match their TypeScript references bit for bit). */
function sameBytes(a, b) {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength), y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

async function quantizers(roof) {
  const rows = 4096, cols = 6144, w = rand(rows * cols, 10, 0.02);
  // bit-exact check on the first 256 rows (two FP8 bands) before timing
  const cr = 256, cw = w.subarray(0, cr * cols);
  for (const [name, run, parts] of [
    ['fp8', (backend) => quantizeFp8Blocks(cw, cr, cols, 128, { backend, threads: T }), ['codes', 'scaleInv']],
    ['int8', (backend) => quantizeInt8(cw, cr, cols, { backend, threads: T }), ['q', 'scale']],
    ['int4', (backend) => quantizeInt4(cw, cr, cols, 128, { backend, threads: T }), ['packed', 'scale']],
  ]) {
    const [nat, ref] = [await run('native'), await run('ref')];
    for (const k of parts) {
      if (sameBytes(nat[k], ref[k])) continue;
      console.error(`bench:kernels: quantize ${name} (${k}) is not bit-identical to its TypeScript reference; not timing a wrong kernel`);
      process.exit(4);
    }
  }
  // outputs allocated once and reused, as a band loop does (fresh arrays would time page faults)
  const out = { codes: new Uint8Array(rows * cols), q: new Int8Array(rows * cols), packed: new Int32Array(rows * cols / 8) };
  const s8 = new Float32Array(rows), s4 = new Float32Array(rows * cols / 128), sf = new Float32Array(32 * 48);
  const r = {};
  for (const [name, fn, outBytes] of [
    ['fp8 block 128×128', () => quantizeFp8Blocks(w, rows, cols, 128, { threads: T, out: { codes: out.codes, scale: sf } }), rows * cols + 4 * sf.length],
    ['int8 per row', () => quantizeInt8(w, rows, cols, { threads: T, out: { q: out.q, scale: s8 } }), rows * cols + 4 * rows],
    ['int4 group 128', () => quantizeInt4(w, rows, cols, 128, { threads: T, out: { packed: out.packed, scale: s4 } }), rows * cols / 2 + 4 * s4.length],
  ]) {
    const [t, tc] = await paired(fn, copyRun, 5);
    const gbs = (4 * rows * cols + outBytes) / t / 1e9, memcpy = COPY_BYTES / tc / 1e9;
    r[name] = { seconds: t, GBs: gbs, memcpyGBs: memcpy, ofMemcpy: gbs / memcpy };
  }
  return r;
}

async function speedups() {
  const n = 2048, h = 2;
  const q = rand(n * h * D, 11, 0.1), k = rand(n * h * D, 12, 0.1), v = rand(n * h * D, 13);
  const slopes = Float32Array.from([0.5, 0.01]);
  const w = rand(512 * 6144, 14, 0.02);
  const tRef = await best(() => lightningPrefill({ q, k, v, n, h, d: D, slopes, backend: 'ref' }), 1);
  const tRefQ = await best(() => quantizeFp8Blocks(w, 512, 6144, 128, { backend: 'ref' }), 1);
  const r = {};
  for (const simd of info.simdAvailable) {
    selectSimdPath(simd);
    const tp = await best(() => lightningPrefill({ q, k, v, n, h, d: D, slopes, threads: T }));
    const tq = await best(() => quantizeFp8Blocks(w, 512, 6144, 128, { threads: T }));
    r[simd] = { prefillSpeedup: tRef / tp, fp8QuantSpeedup: tRefQ / tq, prefillSeconds: tp };
  }
  selectSimdPath('auto');
  return { tsPrefillSeconds: tRef, tsFp8Seconds: tRefQ, paths: r };
}

async function million() {
  const n = 1_000_000, chunk = 65_536, d = D;
  const q = rand(chunk * d, 15, 0.1), k = rand(chunk * d, 16, 0.1), v = rand(chunk * d, 17);
  const stream = new LightningPrefillStream({ h: 1, d, slopes: Float32Array.from([0.0126683]), threads: T });
  const o = new Float32Array(chunk * d);
  const rss0 = process.memoryUsage().rss; // includes the 3 × 32 MiB chunk inputs and the 32 MiB output
  const t0 = performance.now();
  for (let done = 0; done < n; done += chunk) {
    const m = Math.min(chunk, n - done);
    await stream.push(q.subarray(0, m * d), k.subarray(0, m * d), v.subarray(0, m * d), m, o.subarray(0, m * d));
  }
  const t = (performance.now() - t0) / 1000;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  const finite = stream.state.every(Number.isFinite);
  return { tokens: stream.tokens, seconds: t, specGflops: (n * (4 * d * d + 4 * 256 * d)) / t / 1e9, chunkTokens: chunk,
    rssGrowthMiB: (process.memoryUsage().rss - rss0) / 2 ** 20, peakRssMiB: peakRss / 2 ** 20,
    fullActivationsMiB: (4 * n * d * 4) / 2 ** 20, stateFinite: finite };
}

const ROUNDS = 5;
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const time = async (fn) => { const t0 = performance.now(); await fn(); return (performance.now() - t0) / 1000; };
const fmaLanes = { avx512: 16, avx2: 8, scalar: 1 }[info.slots.fma_peak] ?? 1;
/** fp32 FMA peak, GFLOP/s, from one ~0.2 s probe. */
async function fmaNow() {
  const iters = 1e7;
  const t = await time(() => native.fmaPeak({ iters, threads: T }));
  return (T * iters * 12 * fmaLanes * 2) / t / 1e9;
}
/** bf16 dot-product peak (the level filling bf16_peak), GFLOP/s, or undefined without one. */
async function bf16Now() {
  if (!info.slots.bf16_peak) return undefined;
  let flops = 0;
  const t = await time(async () => { flops = await native.bf16Peak({ iters: 1e7, threads: T }); });
  return flops / t / 1e9;
}
/** Median over ROUNDS of (rate of fn, peak measured right after it). */
async function vsPeak(fn, work, peakFn) {
  await fn();
  await peakFn();
  const rates = [], peaks = [], ratios = [];
  for (let i = 0; i < ROUNDS; i++) {
    const r = work / (await time(fn));
    const p = await peakFn();
    rates.push(r); peaks.push(p); ratios.push(r / p);
  }
  return { rate: median(rates), peak: median(peaks), ofPeak: median(ratios) };
}

async function gemmRows() {
  const M = 512, K = 6144, N = 8192, flop = 2 * M * K * N;
  const x = rand(M * K, 51, 0.1), wf = rand(N * K, 52, 0.1), wb = f32ToBf16(wf), y = new Float32Array(M * N);
  const r = {};
  r.fp32 = await vsPeak(() => gemm({ x, w: wf, m: M, k: K, nOut: N, out: y, threads: T }), flop / 1e9, fmaNow);
  r.fp32Bf16Weights = await vsPeak(() => gemm({ x, w: wb, m: M, k: K, nOut: N, out: y, threads: T }), flop / 1e9, fmaNow);
  if (info.slots.bf16_peak) r.bf16 = await vsPeak(() => gemm({ x, w: wb, m: M, k: K, nOut: N, out: y, threads: T, precision: 'bf16' }), flop / 1e9, bf16Now);
  // grouped experts: 16 experts × 1536 × 6144 bf16 (302 MB), 3 routed tokens each: weight-bandwidth-bound
  const E = 16, EN = 1536, rows = Array(E).fill(3), offset = rows.map((_, e) => 3 * e);
  const gx = rand(3 * E * K, 53, 0.1), gw = f32ToBf16(rand(E * EN * K, 54, 0.1)), gy = new Float32Array(3 * E * EN);
  const gbytes = E * EN * K * 2;
  const g = await vsPeak(() => gemmGrouped({ x: gx, w: gw, offset, rows, experts: E, k: K, nOut: EN, out: gy, threads: T, precision: 'bf16' }), gbytes / 1e9,
    async () => COPY_BYTES / (await time(copyRun)) / 1e9);
  r.grouped = { experts: E, nOut: EN, k: K, rowsPerExpert: 3, GBs: g.rate, memcpyGBs: g.peak, ofMemcpy: g.ofPeak };
  return { M, K, N, ...r };
}

async function lightningRows() {
  const n = 65536, chunk = 8192, d = D, r = {};
  for (const h of [8, 1]) {
    const q = rand(chunk * h * d, 61, 0.1), k = rand(chunk * h * d, 62, 0.1), v = rand(chunk * h * d, 63);
    const slopes = m1Slopes(h, 64 / h); // the first h heads of a 64-head layer, steep ones included
    const o = new Float32Array(chunk * h * d);
    const run = (precision) => async () => {
      const s = new LightningPrefillStream({ h, d, slopes, threads: T, precision });
      for (let t = 0; t < n; t += chunk) await s.push(q, k, v, chunk, o);
    };
    const flop = (n * h * (4 * d * d + 4 * 256 * d)) / 1e9;
    r[`fp32_h${h}`] = { n, h, ...(await vsPeak(run('fp32'), flop, fmaNow)) };
    if (info.slots.bf16_peak) r[`bf16_h${h}`] = { n, h, ...(await vsPeak(run('bf16'), flop, bf16Now)), ofFmaPeak: undefined };
  }
  return r;
}

async function decodeVsStream() {
  const r = {};
  for (const h of [64, 2048]) { // one M1 layer (4 MiB of state) and 32 sequences of it (128 MiB)
    const steps = h === 64 ? 64 : 4;
    const q = rand(h * D, 71), k = rand(h * D, 72), v = rand(h * D, 73);
    const slopes = m1Slopes(h);
    const state = new Float32Array(h * D * D), o = new Float32Array(h * D);
    const sbuf = new Float32Array(h * D * D).fill(1);
    const bytes = steps * 2 * h * D * D * 4; // the state read + written per step (q, k, v, o are < 0.1% more)
    const res = await vsPeak(async () => {
      for (let s = 0; s < steps; s++) await lightningDecode({ q, k, v, n: 1, h, d: D, slopes, state, inPlace: true, out: o, threads: T });
    }, bytes / 1e9, async () => {
      const t = await time(async () => { for (let s = 0; s < steps; s++) await native.stream({ buf: sbuf, n: sbuf.length, threads: T }); });
      return bytes / t / 1e9;
    });
    r[`h${h}`] = { heads: h, stateMiB: (h * D * D * 4) / 2 ** 20, steps, GBs: res.rate, streamGBs: res.peak, ofStream: res.ofPeak };
  }
  return r;
}

const mm = await million(); // first, so peak RSS reflects the streamed prefill, not the other benchmarks
const roof = await roofs();
out.results.roofs = roof;
log(`m1kit kernel benchmark — ${info.simd}, ${T} threads, head_dim ${D}`);
log(`  fp32 FMA peak            ${f1(roof.fmaPeakGflops)} GFLOP/s`);
log(`  SGEMM 1024³              ${f1(roof.sgemmGflops)} GFLOP/s`);
log(`  memcpy (read+write)      ${f1(roof.memcpyGBs)} GB/s`);
const p = await prefill(roof);
out.results.prefill = p;
log(`lightning prefill n=${p.n} h=${p.h}: ${f1(p.specGflops)} GFLOP/s (spec count, dense diagonal blocks; ${f1(p.causalSkipGflops)} counting only the causal half)`);
log(`  = ${pct(p.ofSgemm)} of SGEMM (${f1(p.sgemmGflops)} GFLOP/s, interleaved), ${pct(p.ofFmaPeak)} of FMA peak   [target ≥ 50% of SGEMM]`);
const gr = await gemmRows();
out.results.gemm = gr;
log(`gemm M=${gr.M} K=${gr.K} N=${gr.N} (median of ${ROUNDS}, each next to its peak):`);
log(`  fp32 (exact)          ${f1(gr.fp32.rate)} GFLOP/s = ${pct(gr.fp32.ofPeak)} of fp32 FMA peak (${f1(gr.fp32.peak)})   [target ≥ 70%]`);
log(`  fp32, bf16 weights    ${f1(gr.fp32Bf16Weights.rate)} GFLOP/s = ${pct(gr.fp32Bf16Weights.ofPeak)} of fp32 FMA peak`);
if (gr.bf16) log(`  bf16 (${info.slots.gemm_bf16})   ${f1(gr.bf16.rate)} GFLOP/s = ${pct(gr.bf16.ofPeak)} of the ${info.slots.bf16_peak} bf16 peak (${f1(gr.bf16.peak)})`);
log(`  grouped experts ${gr.grouped.experts}×${gr.grouped.nOut}×${gr.grouped.k} bf16, ${gr.grouped.rowsPerExpert} rows each: ${f1(gr.grouped.GBs)} GB/s of weights = ${pct(gr.grouped.ofMemcpy)} of memcpy`);
const lr = await lightningRows();
out.results.lightning = lr;
for (const [key, x] of Object.entries(lr)) {
  const bf = key.startsWith('bf16');
  log(`lightning prefill ${bf ? 'bf16' : 'fp32'} n=${x.n} h=${x.h}: ${f1(x.rate)} GFLOP/s = ${pct(x.ofPeak)} of ${bf ? `the ${info.slots.bf16_peak} bf16 peak` : 'fp32 FMA peak'} (${f1(x.peak)})${bf ? '' : '   [target ≥ 50%]'}`);
}
const ds = await decodeVsStream();
out.results.decodeVsStream = ds;
for (const x of Object.values(ds)) log(`lightning decode ${x.heads} heads (${f1(x.stateMiB)} MiB state): ${f1(x.GBs)} GB/s = ${pct(x.ofStream)} of an in-place stream of the same bytes (${f1(x.streamGBs)} GB/s)   [target ≥ 80%]`);
const sr = await slopeRatio();
out.results.slopeRatio = sr;
log(`steep (s=0.917) vs shallow (s=0.0127) prefill n=${sr.n} h=${sr.h}: time ratio ${sr.steepOverShallow.toFixed(3)}   [≈ 1: no denormal stall]`);
const dcd = await decode(roof);
out.results.decode = dcd;
log(`lightning decode ${dcd.heads} heads × ${dcd.steps} steps: ${f1(dcd.GBs)} GB/s = ${pct(dcd.ofMemcpy)} of memcpy (${f1(dcd.memcpyGBs)} GB/s, interleaved)   [target ≥ 50%]`);
const qz = await quantizers(roof);
out.results.quantizers = qz;
for (const [k, r] of Object.entries(qz)) log(`quantize ${k.padEnd(18)} ${f1(r.GBs)} GB/s = ${pct(r.ofMemcpy)} of memcpy (${f1(r.memcpyGBs)} GB/s)   [target ≥ 50%]`);
const sp = await speedups();
out.results.speedups = sp;
log(`speedup over the TypeScript reference (prefill n=2048 h=2; fp8 quantize 512×6144):`);
for (const [simd, r] of Object.entries(sp.paths)) log(`  ${simd.padEnd(7)} prefill ×${f1(r.prefillSpeedup)}   fp8 quantize ×${f1(r.fp8QuantSpeedup)}`);
out.results.million = mm;
log(`1,000,000-token single-head prefill (streamed, ${mm.chunkTokens}-token chunks): ${f1(mm.seconds)} s, ${f1(mm.specGflops)} GFLOP/s,`);
log(`  peak RSS ${f1(mm.peakRssMiB)} MiB (all of q,k,v,o at once would be ${f1(mm.fullActivationsMiB)} MiB), state finite: ${mm.stateFinite}`);
if (json) console.log(JSON.stringify({ schemaVersion: 1, command: 'bench:kernels', result: out }, null, 2));
