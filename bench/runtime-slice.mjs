// Runtime benchmark on real dimensions (imported by runtime.mjs): S sequences × T tokens go layer-major
// through every layer of a checkpoint (a `fixture --preset real-slice`, or a shrunk one generated here),
// on the native kernels, fp32 and bf16. Per layer: wall time, tokens/s, bytes read and the time spent
// waiting for them (disk GB/s), FLOPs executed (layer-flops.ts), effective GFLOP/s end to end and on
// compute alone, as % of the fp32 FMA peak and of the SGEMM measured in the same run. Then the LM head
// on a few rows, and the projected wall time of `verify --against` on the released 80-layer model for
// 4 × 2048 tokens (two checkpoints; per layer the larger of compute and reads, since expert reads overlap compute).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export async function benchSlice({ dist, dir, sequences, tokens, threads, precisions, log }) {
  const { Checkpoint } = await import(join(dist, 'core/checkpoint/checkpoint.js'));
  const { createSession, logitChunkRows } = await import(join(dist, 'core/model/session.js'));
  const { layerFlops, headFlops } = await import(join(dist, 'core/model/layer-flops.js'));
  const { measureNativePeak } = await import(join(dist, 'core/bench/native-peak.js'));
  const { M1_CONFIG } = await import(join(dist, 'core/checkpoint/presets.js'));
  const { parseConfig } = await import(join(dist, 'core/checkpoint/config.js'));
  const { expectedTensors } = await import(join(dist, 'core/checkpoint/layout.js'));
  const { nativeStatus } = await import(join(dist, 'native/index.js'));

  const peak = await measureNativePeak({ threads, seconds: 1 });
  log(`same-run peaks (${threads} threads, ${nativeStatus().simd}): fp32 FMA ${peak.fmaGflops.toFixed(1)} GFLOP/s, SGEMM ${peak.sgemmGflops.toFixed(1)} GFLOP/s`);
  // the expert GEMM at the row count a 4 × 2048-token batch gives each expert (8192 · 2 / 32 = 512), bf16 weights
  const { gemm } = await import(join(dist, 'core/ops/gemm.js'));
  const G = { m: 512, k: 6144, n: 9216 };
  const gx = new Float32Array(G.m * G.k).map((_, i) => ((i * 2654435761) % 1000) / 1e4 - 0.05);
  const gw = new Uint16Array(G.n * G.k).map((_, i) => 0x3c00 + ((i * 40503) & 0x3ff));
  await gemm({ x: gx.subarray(0, 16 * G.k), w: gw, m: 16, k: G.k, nOut: G.n, threads, backend: 'native' });
  const tg = performance.now();
  await gemm({ x: gx, w: gw, m: G.m, k: G.k, nOut: G.n, threads, backend: 'native' });
  const expertGemmGflops = (2 * G.m * G.k * G.n) / ((performance.now() - tg) / 1000) / 1e9;
  log(`same-run expert GEMM 512 × 6144 · (9216 × 6144 bf16)ᵀ: ${expertGemmGflops.toFixed(1)} GFLOP/s (${((100 * expertGemmGflops) / peak.fmaGflops).toFixed(0)}% of FMA peak)`);

  const dropCache = () => {
    // cold reads: ask the kernel to drop this checkpoint's pages (GNU dd nocache = posix_fadvise DONTNEED, per file)
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.safetensors'))) {
      try { execFileSync('dd', [`if=${join(dir, f)}`, 'iflag=nocache', 'count=0', 'status=none']); } catch { return false; }
    }
    return true;
  };

  // same-run disk baseline: dd reads 1 GiB of the largest shard, cold
  const shards = readdirSync(dir).filter((f) => f.endsWith('.safetensors')).map((f) => join(dir, f));
  const largest = shards.map((f) => [f, statSync(f).size]).sort((a, b) => b[1] - a[1])[0][0];
  let diskBaselineGBs = null;
  if (dropCache()) {
    const tb = performance.now();
    execFileSync('dd', [`if=${largest}`, 'of=/dev/null', 'bs=8M', 'count=128', 'status=none']);
    diskBaselineGBs = 2 ** 30 / ((performance.now() - tb) / 1000) / 1e9;
    log(`same-run disk baseline: dd of 1 GiB of ${largest}, cold: ${diskBaselineGBs.toFixed(2)} GB/s`);
  }

  const runs = [];
  for (const precision of precisions) {
    const cold = dropCache();
    const ck = await Checkpoint.open(dir);
    const c = ck.config;
    const V = c.vocabSize;
    const seqs = Array.from({ length: sequences }, (_, s) => Array.from({ length: tokens }, (_, i) => (i * 7919 + s * 104729 + 13) % V));
    const marks = [];
    const s = createSession({ checkpoint: ck, precision, kernels: 'native', threads, onProgress: () => marks.push({ t: performance.now(), bytes: s.bytesRead, read: s.readSeconds, wait: s.waitSeconds }) });
    const t0 = performance.now();
    const m0 = { t: t0, bytes: 0, read: 0, wait: 0 };
    const { hidden } = await s.hiddenBatch(seqs);
    const layers = marks.map((m, l) => {
      const prev = l === 0 ? m0 : marks[l - 1];
      const seconds = (m.t - prev.t) / 1000;
      const readSeconds = m.read - prev.read;
      const waitSeconds = m.wait - prev.wait;
      const bytes = m.bytes - prev.bytes;
      const f = layerFlops(c, l, seqs.map((q) => q.length));
      const kind = c.attnTypes[l] === 1 ? 'softmax' : 'lightning';
      const gflops = f.total / seconds / 1e9;
      return {
        layer: l, kind, seconds, tokensPerSecond: (sequences * tokens) / seconds, bytesRead: bytes, readSeconds, waitSeconds,
        diskGBs: readSeconds > 0 ? bytes / readSeconds / 1e9 : null, pctDiskBaseline: readSeconds > 0 && diskBaselineGBs ? (100 * bytes) / readSeconds / 1e9 / diskBaselineGBs : null, flops: f.total, attentionFlops: f.attention,
        gflops, computeGflops: f.total / Math.max(1e-9, seconds - waitSeconds) / 1e9,
        pctFmaPeak: (100 * gflops) / peak.fmaGflops, pctSgemm: (100 * gflops) / peak.sgemmGflops,
      };
    });
    for (const L of layers) {
      log(`${precision} layer ${L.layer} (${L.kind}): ${L.seconds.toFixed(2)} s, ${L.tokensPerSecond.toFixed(1)} tok/s, ${(L.gflops).toFixed(1)} GFLOP/s end to end (${L.pctFmaPeak.toFixed(1)}% of FMA peak, ${L.pctSgemm.toFixed(0)}% of SGEMM), `
        + `${L.computeGflops.toFixed(1)} GFLOP/s compute-only; read ${(L.bytesRead / 1e9).toFixed(2)} GB at ${L.diskGBs === null ? '–' : L.diskGBs.toFixed(2)} GB/s${L.pctDiskBaseline === null ? '' : ` (${L.pctDiskBaseline.toFixed(0)}% of dd)`}, ${L.waitSeconds.toFixed(2)} s of it not hidden behind compute`);
    }
    // LM head on a few rows (its weight is read once per chunk of rows)
    const headRows = Math.min(64, sequences * tokens);
    const hb0 = s.bytesRead, hr0 = s.readSeconds, hw0 = s.waitSeconds, th = performance.now();
    await s.logits(hidden.subarray(0, headRows * c.hiddenSize), headRows);
    const headSeconds = (performance.now() - th) / 1000;
    const head = { rows: headRows, seconds: headSeconds, bytesRead: s.bytesRead - hb0, readSeconds: s.readSeconds - hr0, waitSeconds: s.waitSeconds - hw0, gflops: headFlops(c, headRows) / headSeconds / 1e9 };
    head.computeGflops = headFlops(c, headRows) / Math.max(1e-9, headSeconds - head.waitSeconds) / 1e9;
    log(`${precision} LM head (${headRows} rows): ${headSeconds.toFixed(2)} s, ${head.gflops.toFixed(1)} GFLOP/s end to end, ${head.computeGflops.toFixed(1)} compute-only, read ${(head.bytesRead / 1e9).toFixed(2)} GB in ${head.readSeconds.toFixed(2)} s`);
    await ck.close();

    runs.push({ precision, sequences, tokensPerSequence: tokens, coldCache: cold, layers, head });
  }
  const mods = { M1_CONFIG, parseConfig, expectedTensors, layerFlops, headFlops, logitChunkRows, sequences, tokens };
  for (const r of runs) {
    r.projectionUpperBound = projectVerify(r.layers, r.head, mods);
    r.projection = projectVerify(r.layers, r.head, { ...mods, expertGemmGflops });
    for (const [what, p] of [['at the 512-row GEMM rate', r.projection], ['upper bound, layer rates at this batch', r.projectionUpperBound]]) {
      log(`${r.precision} projected verify --against, MiniMax-M1 80 layers, 4 × 2048 tokens, 2 checkpoints (${what}): ${(p.seconds / 3600).toFixed(1)} h `
        + `(${p.secondsPerLightningLayer.toFixed(0)} s per lightning layer, ${p.secondsPerSoftmaxLayer.toFixed(0)} s per softmax layer, head ${p.headSeconds.toFixed(0)} s, per checkpoint; reads ${p.diskGBs.toFixed(2)} GB/s)`);
    }
  }
  return { checkpoint: dir, threads, diskBaselineGBs, expertGemmGflops, peak: { fmaGflops: peak.fmaGflops, sgemmGflops: peak.sgemmGflops, method: peak.fmaMethod }, runs };
}

/**
 * Projected wall time of `verify --against` on the released model (70 lightning + 10 softmax layers,
 * 4 × 2048 tokens, two checkpoints) from measured rates: per layer the larger of compute (FLOPs at the
 * measured compute-only rate of that layer kind) and reads (its bytes at the measured read rate; the MoE
 * reads overlap compute), and the LM head read once per 1 GiB chunk of logits.
 */
export function projectVerify(layers, head, m) {
  const full = m.parseConfig(m.M1_CONFIG, 'MiniMax-M1');
  const bytesOfLayer = (l) => m.expectedTensors(full).filter((t) => t.name.startsWith(`model.layers.${l}.`)).reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1) * (t.dtype === 'F32' ? 4 : 2), 0);
  const diskRead = layers.reduce((a, L) => a + L.bytesRead, 0) / Math.max(1e-9, layers.reduce((a, L) => a + L.readSeconds, 0));
  const rate = (kind) => {
    const ls = layers.filter((L) => L.kind === kind);
    return ls.length === 0 ? undefined : ls.reduce((a, L) => a + L.flops, 0) / ls.reduce((a, L) => a + Math.max(1e-9, L.seconds - L.waitSeconds), 0);
  };
  const rates = { lightning: rate('lightning') ?? rate('softmax'), softmax: rate('softmax') ?? rate('lightning') };
  const lens = [2048, 2048, 2048, 2048];
  const byKind = { lightning: { layers: 0, seconds: 0 }, softmax: { layers: 0, seconds: 0 } };
  let perCkpt = 0;
  for (let l = 0; l < full.numLayers; l++) {
    const kind = full.attnTypes[l] === 1 ? 'softmax' : 'lightning';
    const f = m.layerFlops(full, l, lens);
    // GEMMs at the 512-row rate measured in the same run when given, else at the layer's measured rate
    const compute = m.expertGemmGflops ? f.gemm / (m.expertGemmGflops * 1e9) + f.attention / rates[kind] : f.total / rates[kind];
    const t = Math.max(compute, bytesOfLayer(l) / diskRead);
    byKind[kind].layers++;
    byKind[kind].seconds += t;
    perCkpt += t;
  }
  const chunks = Math.ceil(8192 / m.logitChunkRows(full.vocabSize));
  const headRate = m.expertGemmGflops ? Math.max(m.expertGemmGflops, head.computeGflops) : head.computeGflops;
  const headSeconds = m.headFlops(full, 8192) / (headRate * 1e9) + (chunks * full.vocabSize * full.hiddenSize * 2) / diskRead;
  return {
    model: 'MiniMax-M1 (80 layers: 70 lightning, 10 softmax)', sequences: 4, tokensPerSequence: 2048, checkpoints: 2,
    diskGBs: diskRead / 1e9, computeGflops: { lightning: rates.lightning / 1e9, softmax: rates.softmax / 1e9, head: head.computeGflops },
    secondsPerLightningLayer: byKind.lightning.seconds / byKind.lightning.layers, secondsPerSoftmaxLayer: byKind.softmax.seconds / byKind.softmax.layers,
    headSeconds, seconds: 2 * (perCkpt + headSeconds),
    assumptions: (m.expertGemmGflops ? `GEMMs at the same-run rate of a 512-row expert GEMM (${m.expertGemmGflops.toFixed(1)} GFLOP/s), attention at the measured layer rate` : `compute rates measured at ${m.sequences} × ${m.tokens} tokens (4 × 2048-token batches give each expert GEMM ~16× more rows, so this is an upper bound)`)
      + `; per layer max(compute, reads at the measured read rate); head read ${chunks}× (once per 1 GiB chunk of logits)`,
  };
}
export function sliceAvailable(dir) {
  return existsSync(join(dir, 'config.json'));
}
