/**
 * Kernel timings → figures. Rates straight from the clock are `measured` (and the gated ones carry
 * `better`); GFLOP/s and GB/s multiply a measured rate by a modelled count (`derived`); whole-layer and
 * whole-model times at `ctx` scale a measured rate linearly in heads/layers (`derived`) or beyond what was
 * run (`extrapolated`, with the method in `note`).
 */
import type { Figure } from './schema.js';
import type { KernelTimings } from './kernels.js';
import type { PeakResult } from './peak-result.js';
import { sampledFigure } from './stats.js';

export interface ScaleInfo {
  ctx: number;
  d: number;
  blockSize: number;
  /** Heads of one lightning layer / query heads of one softmax layer (64 for M1). */
  layerHeads: number;
  lightningLayers: number;
  softmaxLayers: number;
  /** Subject model id, for the whole-model figures. */
  modelId: string;
  device: string;
}

const derived = (value: number, unit: string, note?: string): Figure => ({ value, unit, kind: 'derived', ...(note ? { note } : {}) });
const maybeExtrap = (value: number, unit: string, extrapolated: boolean, note: string): Figure => ({ value, unit, kind: extrapolated ? 'extrapolated' : 'derived', note });

export function kernelFigures(runs: KernelTimings[], peak: PeakResult, s: ScaleInfo): Record<string, Figure> {
  const out: Record<string, Figure> = {};
  const { ctx, d, blockSize: B, layerHeads: H } = s;
  const first = runs[0]!;
  const pct = (x: number, ref: number) => derived((100 * x) / ref, '%');

  // Lightning prefill.
  const lp = runs.map((r) => (r.prefill.tokens * r.prefill.heads) / r.prefill.seconds);
  const lpm = sampledFigure(lp, 'head·tokens/s', 'measured', {
    better: 'higher',
    note: `block-form prefill, ${first.prefill.heads} heads × d ${d}, B ${B}, streamed in chunks with carried state, ${s.device}`,
  });
  out['kernel.lightning_prefill.head_tokens_per_s'] = lpm;
  const lpFlops = (lpm.value * (4 * d * d + 4 * B * d)) / 1e9;
  const lpBytes = (lpm.value * 4 * d * 4) / 1e9;
  out['kernel.lightning_prefill.gflops'] = derived(lpFlops, 'GFLOP/s', 'measured rate × (4d² + 4Bd) FLOPs per head·token (block-form count)');
  out['kernel.lightning_prefill.pct_fma_peak'] = pct(lpFlops, peak.fmaGflops);
  if (peak.sgemmGflops) out['kernel.lightning_prefill.pct_sgemm'] = pct(lpFlops, peak.sgemmGflops);
  out['kernel.lightning_prefill.gbs'] = derived(lpBytes, 'GB/s', 'q, k, v read + o written, fp32');
  out['kernel.lightning_prefill.pct_bandwidth'] = pct(lpBytes, peak.bandwidthGBs);
  const done = first.prefill.tokens >= ctx;
  const sampleNote = done ? `all ${ctx} tokens run` : `${first.prefill.tokens} of ${ctx} tokens run within the time budget; cost is linear in tokens`;
  out[`kernel.lightning_prefill.seconds@${ctx}`] = done
    ? sampledFigure(runs.map((r) => r.prefill.seconds), 's', 'measured', { note: `${first.prefill.heads} heads` })
    : { value: (ctx * first.prefill.heads) / lpm.value, unit: 's', kind: 'extrapolated', note: `${first.prefill.heads} heads; ${sampleNote}` };
  const lLayer = (ctx * H) / lpm.value;
  out[`kernel.lightning_prefill.layer_seconds@${ctx}`] = maybeExtrap(lLayer, 's', !done, `one layer = ${H} heads, linear in heads; ${sampleNote}`);

  // Lightning prefill in the bf16 numerics, bounded by the bf16 dot-product peak.
  if (first.prefillBf16) {
    const lb = runs.map((r) => (r.prefillBf16!.tokens * r.prefillBf16!.heads) / r.prefillBf16!.seconds);
    const lbm = sampledFigure(lb, 'head·tokens/s', 'measured', {
      better: 'higher',
      note: `bf16 prefill (q, k, v rounded to bf16; fp32 sums and state), ${first.prefillBf16.heads} heads × d ${d}, B ${B}, streamed like the fp32 row, ${s.device}`,
    });
    out['kernel.lightning_prefill_bf16.head_tokens_per_s'] = lbm;
    const lbFlops = (lbm.value * (4 * d * d + 4 * B * d)) / 1e9;
    out['kernel.lightning_prefill_bf16.gflops'] = derived(lbFlops, 'GFLOP/s', 'measured rate × (4d² + 4Bd) FLOPs per head·token (block-form count)');
    if (peak.bf16Gflops) out['kernel.lightning_prefill_bf16.pct_bf16_peak'] = derived((100 * lbFlops) / peak.bf16Gflops, '%', peak.bf16Method);
    out['kernel.lightning_prefill_bf16.pct_fma_peak'] = pct(lbFlops, peak.fmaGflops);
    out[`kernel.lightning_prefill_bf16.layer_seconds@${ctx}`] = maybeExtrap((ctx * H) / lbm.value, 's', first.prefillBf16.tokens < ctx, `one layer = ${H} heads, linear in heads`);
  }

  // Lightning decode (a full layer of heads per step).
  const ld = runs.map((r) => r.decode.steps / r.decode.seconds);
  const ldm = sampledFigure(ld, 'tokens/s', 'measured', { better: 'higher', note: `recurrent step of one layer (${first.decode.heads} heads × d ${d}), fp32 state, ${s.device}` });
  out['kernel.lightning_decode.layer_tokens_per_s'] = ldm;
  const ldFlops = (ldm.value * first.decode.heads * 4 * d * d) / 1e9;
  const ldBytes = (ldm.value * first.decode.heads * (2 * d * d * 4 + 4 * d * 4)) / 1e9;
  out['kernel.lightning_decode.gflops'] = derived(ldFlops, 'GFLOP/s', 'measured rate × 4d² FLOPs per head');
  out['kernel.lightning_decode.gbs'] = derived(ldBytes, 'GB/s', 'fp32 state read + written, q, k, v, o');
  out['kernel.lightning_decode.pct_bandwidth'] = pct(ldBytes, peak.bandwidthGBs);
  if (peak.streamGBs) out['kernel.lightning_decode.pct_stream'] = derived((100 * ldBytes) / peak.streamGBs, '%', peak.streamMethod);

  // Softmax prefill sample.
  const sp = first.softmaxPrefill;
  const spr = runs.map((r) => r.softmaxPrefill.headPairs / r.softmaxPrefill.seconds);
  const spNote = `sample: ${sp.queries} causal queries × ${sp.hq} q heads sharing 1 KV head over the last ${sp.keys} keys`;
  const spm = sampledFigure(spr, 'head·pairs/s', 'measured', { better: 'higher', note: `${spNote}, ${s.device}` });
  out['kernel.softmax_prefill.head_pairs_per_s'] = spm;
  const spFlops = (spm.value * 4 * d) / 1e9;
  out['kernel.softmax_prefill.gflops'] = derived(spFlops, 'GFLOP/s', 'measured rate × 4d FLOPs per (query head, key) pair');
  out['kernel.softmax_prefill.pct_fma_peak'] = pct(spFlops, peak.fmaGflops);
  const sLayer = ((ctx * (ctx + 1)) / 2) * H / spm.value;
  out[`kernel.softmax_prefill.layer_seconds@${ctx}`] = {
    value: sLayer,
    unit: 's',
    kind: 'extrapolated',
    note: `${ctx}(${ctx}+1)/2 causal pairs × ${H} heads at the sampled pair rate (${spNote})`,
  };

  // Softmax decode sample.
  const sd = first.softmaxDecode;
  const sdr = runs.map((r) => r.softmaxDecode.headKeys / r.softmaxDecode.seconds);
  const sdm = sampledFigure(sdr, 'head·keys/s', 'measured', { better: 'higher', note: `one query × ${sd.hq} q heads over ${sd.keys} keys of 1 KV head, ${s.device}` });
  out['kernel.softmax_decode.head_keys_per_s'] = sdm;
  out['kernel.softmax_decode.gbs'] = derived((sdm.value * 2 * d * 4) / sd.hq / 1e9, 'GB/s', 'fp32 K and V read once per KV head');
  const sdLayer = (ctx * H) / sdm.value;
  out[`kernel.softmax_decode.layer_seconds@${ctx}`] = maybeExtrap(sdLayer, 's', ctx > sd.keys, `${H} heads × ${ctx} keys at the sampled rate${ctx > sd.keys ? ` (sample: ${sd.keys} keys; decode is linear in keys)` : ''}`);

  // Whole model (attention kernels only: no projections, experts or LM head).
  const m = `kernel.${s.modelId}`;
  const prefillTotal = s.lightningLayers * lLayer + s.softmaxLayers * sLayer;
  out[`${m}.attention_prefill_seconds@${ctx}`] = { value: prefillTotal, unit: 's', kind: 'extrapolated', note: `${s.lightningLayers} lightning + ${s.softmaxLayers} softmax layers, attention kernels only` };
  out[`${m}.lightning_share_of_prefill@${ctx}`] = { value: (s.lightningLayers * lLayer) / prefillTotal, unit: 'ratio', kind: 'extrapolated' };
  const decodeTotal = s.lightningLayers / ldm.value + s.softmaxLayers * sdLayer;
  out[`${m}.attention_decode_seconds_per_token@${ctx}`] = maybeExtrap(decodeTotal, 's/token', ctx > sd.keys, `${s.lightningLayers} lightning layers (constant) + ${s.softmaxLayers} softmax layers over ${ctx} keys, attention kernels only`);
  out[`${m}.softmax_over_lightning_layer_prefill@${ctx}`] = { value: sLayer / lLayer, unit: 'ratio', kind: 'extrapolated', note: 'measured time ratio, one softmax layer vs one lightning layer' };
  return out;
}

export function peakFigures(peak: PeakResult): Record<string, Figure> {
  const out: Record<string, Figure> = {
    'machine.fma_gflops': { value: peak.fmaGflops, unit: 'GFLOP/s', kind: 'measured', note: peak.fmaMethod },
    'machine.bandwidth_gbs': { value: peak.bandwidthGBs, unit: 'GB/s', kind: 'measured', note: peak.bandwidthMethod },
  };
  if (peak.bf16Gflops !== undefined) out['machine.bf16_gflops'] = { value: peak.bf16Gflops, unit: 'GFLOP/s', kind: 'measured', note: peak.bf16Method ?? 'bf16 peak' };
  if (peak.streamGBs !== undefined) out['machine.stream_gbs'] = { value: peak.streamGBs, unit: 'GB/s', kind: 'measured', note: peak.streamMethod ?? 'in-place stream' };
  if (peak.sgemmGflops !== undefined) out['machine.sgemm_gflops'] = { value: peak.sgemmGflops, unit: 'GFLOP/s', kind: 'measured', note: peak.sgemmMethod ?? 'SGEMM' };
  return out;
}
