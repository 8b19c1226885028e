/**
 * Kernel benchmark harness with injected kernels: a float64-reference-backed "good" kernel is timed and
 * labelled; kernels that disagree with the reference are refused before any timing.
 */
import { describe, expect, it } from 'vitest';
import type { KernelBackend, LightningPrefillParams } from '../../../src/core/bench/backend.js';
import { layerDecays } from '../../../src/core/arch/minimax-m1/slopes.js';
import { lightningRecurrent } from '../../../src/core/ops/lightning.ref.js';
import { softmaxAttentionRef } from '../../../src/core/ops/softmax-attention.ref.js';
import { runBench } from '../../../src/core/bench/run.js';
import { selfCheck, SELF_CHECK_REL_TOL } from '../../../src/core/bench/selfcheck.js';
import { M1kitError } from '../../../src/core/errors.js';
import { roundBf16 } from '../../../src/core/dtype/convert.js';
import { parseConfig } from '../../../src/core/checkpoint/config.js';
import { M1_CONFIG } from '../../../src/core/checkpoint/presets.js';
import { minimaxArch } from '../../../src/core/arch/minimax-m1/flops.js';

const f32 = (a: Float64Array) => Float32Array.from(a);

/** Correct kernels built on the float64 reference, with knobs to break them. */
function refBackend(bug: { decayScale?: number; dropState?: boolean; softmaxNoScale?: boolean; bf16?: 'ok' | 'unrounded-decay' } = {}): KernelBackend & { prefillCalls: number } {
  const b = {
    name: 'test reference',
    device: 'cpu' as const,
    info: {},
    prefillCalls: 0,
    async lightningPrefill(p: LightningPrefillParams) {
      b.prefillCalls++;
      const slopes = bug.decayScale ? p.slopes.map((s) => s * bug.decayScale!) : p.slopes;
      const r = lightningRecurrent({ ...p, slopes, state: bug.dropState ? undefined : p.state });
      return { o: f32(r.o), state: f32(r.state) };
    },
    ...(bug.bf16
      ? {
          async lightningPrefillBf16(p: LightningPrefillParams) {
            const r16 = (a: Float32Array) => a.map(roundBf16);
            const slopes = bug.bf16 === 'unrounded-decay' ? p.slopes.map((s) => s * 1.05) : p.slopes;
            const r = lightningRecurrent({ ...p, q: r16(p.q), k: r16(p.k), v: r16(p.v), slopes });
            return { o: f32(r.o), state: f32(r.state) };
          },
        }
      : {}),
    async lightningDecode(p: Parameters<KernelBackend['lightningDecode']>[0]) {
      const r = lightningRecurrent({ ...p, n: 1 });
      return { o: f32(r.o), state: f32(r.state) };
    },
    async softmaxAttention(p: Parameters<KernelBackend['softmaxAttention']>[0]) {
      if (bug.softmaxNoScale) return f32(softmaxAttentionRef({ ...p, d: p.d, q: p.q.map((x) => x * Math.sqrt(p.d)) }));
      return f32(softmaxAttentionRef(p));
    },
  };
  return b;
}

const slopes = layerDecays(0, 80, 64);
const m1 = minimaxArch(parseConfig(M1_CONFIG));

describe('reference used by the self-check', () => {
  it('recurrence equals the closed form o_t = Σ_{j≤t} λ^{t−j} (q_t·k_j) v_j', () => {
    const n = 7, h = 2, d = 3;
    const q = Float32Array.from({ length: n * h * d }, (_, i) => Math.sin(i));
    const k = Float32Array.from({ length: n * h * d }, (_, i) => Math.cos(i * 0.7));
    const v = Float32Array.from({ length: n * h * d }, (_, i) => Math.sin(i * 1.3 + 1));
    const s = Float32Array.from([0.5, 0.05]);
    const r = lightningRecurrent({ q, k, v, n, h, d, slopes: s });
    for (let j = 0; j < h; j++)
      for (let t = 0; t < n; t++)
        for (let c = 0; c < d; c++) {
          let want = 0;
          for (let u = 0; u <= t; u++) {
            let dot = 0;
            for (let a = 0; a < d; a++) dot += q[(t * h + j) * d + a]! * k[(u * h + j) * d + a]!;
            want += Math.exp(-s[j]! * (t - u)) * dot * v[(u * h + j) * d + c]!;
          }
          expect(Math.abs(r.o[(t * h + j) * d + c]! - want)).toBeLessThan(1e-12);
        }
  });

  it('ALiBi slopes: slope_0 = 2^(−1/8), slope_63 = 2^(−8) at layer 0 (× 1.00001)', () => {
    expect(slopes[0]).toBeCloseTo(0.9170040432 * 1.00001, 6);
    expect(slopes[63]).toBeCloseTo(0.00390625 * 1.00001, 9);
    expect(layerDecays(39, 80, 64)[0]! / 0.9170040432).toBeCloseTo(0.506339, 5);
  });
});

describe('self-check gate', () => {
  it('passes correct kernels', async () => {
    const r = await selfCheck(refBackend(), 128, 256, slopes);
    expect(r.every((x) => x.ok && x.relError < SELF_CHECK_REL_TOL)).toBe(true);
  });

  for (const [what, bug] of [
    ['a decay off by a factor', { decayScale: 1.05 }],
    ['a dropped carried state (broken streaming)', { dropState: true }],
    ['unscaled softmax scores', { softmaxNoScale: true }],
  ] as const) {
    it(`refuses to time a kernel with ${what} (VerificationError, exit 4)`, async () => {
      const b = refBackend(bug);
      const err = await runBench({ subject: m1, configLabel: 'preset:minimax-m1', peers: [], ctx: 4096, sweep: [], convention: 'physical', kernels: { backend: b, threads: 1, repeat: 1, seconds: 1, peakSeconds: 0.05 } }).catch((e) => e);
      expect(err).toBeInstanceOf(M1kitError);
      expect(err.code).toBe('E_SELF_CHECK');
      expect(err.exitCode).toBe(4);
      expect(err.message).toMatch(/refusing to time/);
      expect(b.prefillCalls).toBe(2); // the two self-check chunks only: nothing was timed
    });
  }
});

describe('bf16 lightning prefill row', () => {
  it('is self-checked, timed and reported as kernel.lightning_prefill_bf16.head_tokens_per_s (measured)', async () => {
    const r = await runBench({ subject: m1, configLabel: 'preset:minimax-m1', peers: [], ctx: 2048, sweep: [], convention: 'physical', kernels: { backend: refBackend({ bf16: 'ok' }), threads: 1, repeat: 1, heads: 1, seconds: 0.4, peakSeconds: 0.05 } });
    const f = r.metrics['kernel.lightning_prefill_bf16.head_tokens_per_s']!;
    expect(f.kind).toBe('measured');
    expect(f.better).toBe('higher');
    expect(f.value).toBeGreaterThan(0);
    expect(r.metrics['kernel.lightning_prefill.head_tokens_per_s']!.kind).toBe('measured');
    expect(r.metrics['kernel.lightning_prefill_bf16.self_check_rel_error']!.value).toBeLessThan(1e-6);
  });

  it('refuses a bf16 prefill with a wrong decay', async () => {
    const err = await runBench({ subject: m1, configLabel: 'preset:minimax-m1', peers: [], ctx: 2048, sweep: [], convention: 'physical', kernels: { backend: refBackend({ bf16: 'unrounded-decay' }), threads: 1, repeat: 1, seconds: 0.4, peakSeconds: 0.05 } }).catch((e) => e);
    expect(err).toBeInstanceOf(M1kitError);
    expect(err.code).toBe('E_SELF_CHECK');
    expect(err.message).toMatch(/lightning_prefill_bf16/);
  });
});

describe('timed run with injected kernels', () => {
  it('labels measured, derived and extrapolated figures; repeats give median and spread', async () => {
    const b = refBackend();
    const ctx = 2048;
    const r = await runBench({ subject: m1, configLabel: 'preset:minimax-m1', peers: [], ctx, sweep: [], convention: 'physical', kernels: { backend: b, threads: 1, repeat: 2, heads: 1, seconds: 0.4, peakSeconds: 0.05 } });
    const m = r.metrics;
    const gated = Object.entries(m).filter(([, f]) => f.better);
    expect(gated.map(([id]) => id).sort()).toEqual(['kernel.lightning_decode.layer_tokens_per_s', 'kernel.lightning_prefill.head_tokens_per_s', 'kernel.softmax_decode.head_keys_per_s', 'kernel.softmax_prefill.head_pairs_per_s']);
    for (const [, f] of gated) {
      expect(f.kind).toBe('measured');
      expect(f.samples).toHaveLength(2);
      expect(f.value).toBe((f.samples![0]! + f.samples![1]!) / 2);
      expect(f.spread!.rel).toBeGreaterThanOrEqual(0);
    }
    expect(m['kernel.lightning_prefill.gflops']!.kind).toBe('derived');
    expect(m['kernel.lightning_prefill.gflops']!.value).toBeCloseTo((m['kernel.lightning_prefill.head_tokens_per_s']!.value * (4 * 128 * 128 + 4 * 256 * 128)) / 1e9, 9);
    expect(m[`kernel.softmax_prefill.layer_seconds@${ctx}`]!.kind).toBe('extrapolated');
    expect(m[`kernel.minimax-m1.attention_prefill_seconds@${ctx}`]!.kind).toBe('extrapolated');
    expect(m['machine.fma_gflops']!.kind).toBe('measured');
    expect(m['machine.bandwidth_gbs']!.value).toBeGreaterThan(0);
    expect(r.params.kernels).toMatchObject({ device: 'cpu', threads: 1, repeat: 2, heads: 1 });
    // A prefill that finished all ctx tokens is measured; one cut by the budget is extrapolated.
    const pre = m[`kernel.lightning_prefill.seconds@${ctx}`]!;
    expect(['measured', 'extrapolated']).toContain(pre.kind);
    if (pre.kind === 'extrapolated') expect(pre.note).toMatch(/of 2048 tokens run/);
  });
});
