import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runConversion } from '../../../src/core/convert/run.js';
import { listSchemes } from '../../../src/core/quantize/list.js';
import { ctShouldIgnoreLayer } from '../../../src/core/engines/vllm-rules.js';
import { fp8e4m3Decode, quantizeFp8Band } from '../../../src/core/quant/fp8.js';
import { dequantizeInt8Rows, quantizeInt8Rows } from '../../../src/core/quant/int8.js';
import { quantizeInt4Rows } from '../../../src/core/quant/int4.js';
import { f32ToBf16 } from '../../../src/core/dtype/convert.js';
import { bf16Values, f32Values, readDir, tensorIn, type NaiveTensor } from '../../helpers/naive-safetensors.js';
import { checkpointRoot } from '../../helpers/checkpoints.js';

/**
 * Error budgets on the tiny fixture's N(0, 0.02) weights (rows of 64–128 values), each about 1.3× the
 * rounding-step estimate rms = step/√12 (plus bf16 output rounding, 2^-9 relative):
 * - fp8-block: E4M3 has 3 mantissa bits → ≈ 2.7 % (formats/fp8-block.ts); budget 3.5 %;
 * - int8-channel: step = amax/127.5 with amax ≈ 2.5σ over ≤ 128 values → ≈ 0.6 %; budget 1.0 %;
 * - w4a16 group 32: step = amax/7.5 with amax ≈ 2.1σ over 32 values → ≈ 8 %; budget 11 %.
 */
const MAX_FP8_REL_RMSE = 0.035;
const MAX_INT8_REL_RMSE = 0.01;
const MAX_W4_G32_REL_RMSE = 0.11;

const { root, input } = checkpointRoot('quantize', { preset: 'tiny', seed: 11, shards: 2 });
let orig: Map<string, NaiveTensor>;
// after checkpointRoot's hook (vitest runs beforeAll hooks in the order they are declared)
beforeAll(() => {
  orig = readDir(input);
});

const f32 = (t: NaiveTensor) => new Float32Array(bf16Values(t.bytes));
const relRmse = (a: number[], b: number[]) => {
  let e = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    e += (a[i]! - b[i]!) ** 2;
    s += a[i]! ** 2;
  }
  return Math.sqrt(e / s);
};
const QKV = 'model.layers.0.self_attn.qkv_proj.weight'; // [384, 96]: three 128-row blocks, one partial 96-column block
const W2 = 'model.layers.4.block_sparse_moe.experts.2.w2.weight'; // [96, 64]
const UNTOUCHED = ['model.embed_tokens.weight', 'lm_head.weight', 'model.norm.weight', 'model.layers.2.block_sparse_moe.gate.weight', 'model.layers.2.self_attn.norm.weight', 'model.layers.2.input_layernorm.weight'];

async function roundTrip(name: string, quant: Parameters<typeof runConversion>[0]['quant'], exactErrors = false) {
  const q = join(root, name);
  const r = await runConversion({ kind: 'quantize', input, output: q, quant, exactErrors });
  const dq = join(root, `${name}-dq`);
  await runConversion({ kind: 'dequantize', input: q, output: dq });
  return { r, q: readDir(q), dq: readDir(dq), cfg: JSON.parse(readFileSync(join(q, 'config.json'), 'utf8')) };
}

describe('fp8-block', () => {
  let res: Awaited<ReturnType<typeof roundTrip>>;
  beforeAll(async () => {
    res = await roundTrip('fp8', { scheme: 'fp8-block', targets: 'all' });
  });
  it('codes and weight_scale_inv are bit-exact with the TS reference quantizer, band by band', () => {
    for (const n of [QKV, W2]) {
      const w = f32(tensorIn(orig, n));
      const [rows, cols] = tensorIn(orig, n).shape as [number, number];
      const codes = tensorIn(res.q, n);
      const scale = tensorIn(res.q, n.replace(/weight$/, 'weight_scale_inv'));
      expect(codes.dtype).toBe('F8_E4M3');
      expect(scale.shape).toEqual([Math.ceil(rows / 128), Math.ceil(cols / 128)]);
      for (let r0 = 0; r0 < rows; r0 += 128) {
        const n0 = Math.min(128, rows - r0);
        const ref = quantizeFp8Band(w.subarray(r0 * cols, (r0 + n0) * cols), n0, cols);
        expect(Buffer.from(ref.codes).equals(codes.bytes.subarray(r0 * cols, (r0 + n0) * cols))).toBe(true);
        expect(f32Values(scale.bytes).slice((r0 / 128) * ref.scaleInv.length, (r0 / 128 + 1) * ref.scaleInv.length)).toEqual([...ref.scaleInv]);
      }
    }
  });
  it('dequantize = bf16(decode(code) · scale_inv) and stays within the error budget', () => {
    const codes = tensorIn(res.q, QKV).bytes;
    const s = f32Values(tensorIn(res.q, QKV.replace(/weight$/, 'weight_scale_inv')).bytes);
    const got = bf16Values(tensorIn(res.dq, QKV).bytes);
    for (const i of [0, 95, 96 * 130 + 7, 384 * 96 - 1]) {
      const r = Math.floor(i / 96);
      const want = Buffer.from(f32ToBf16(new Float32Array([fp8e4m3Decode(codes[i]!) * s[Math.floor(r / 128)]!])).buffer);
      expect(got[i]).toBe(bf16Values(want)[0]);
    }
    for (const n of [QKV, W2, 'model.layers.1.self_attn.output_gate.weight']) expect(relRmse(bf16Values(tensorIn(orig, n).bytes), bf16Values(tensorIn(res.dq, n).bytes))).toBeLessThan(MAX_FP8_REL_RMSE);
  });
  it('never touches router, embeddings, lm_head or norms; config lists full module names', () => {
    for (const n of UNTOUCHED) {
      expect(tensorIn(res.q, n).bytes.equals(tensorIn(orig, n).bytes)).toBe(true);
      expect(tensorIn(res.dq, n).bytes.equals(tensorIn(orig, n).bytes)).toBe(true);
    }
    expect(tensorIn(res.q, 'model.layers.1.self_attn.output_gate.weight').dtype).toBe('F8_E4M3');
    const qc = res.cfg.quantization_config;
    expect(qc).toMatchObject({ quant_method: 'fp8', fmt: 'e4m3', activation_scheme: 'dynamic', weight_block_size: [128, 128] });
    expect(qc.modules_to_not_convert).toContain('model.layers.3.block_sparse_moe.gate');
    expect(qc.modules_to_not_convert).toContain('lm_head');
    const manifest = JSON.parse(readFileSync(join(root, 'fp8', 'm1kit-manifest.json'), 'utf8')) as { files: { file: string; sha256: string }[] };
    for (const f of manifest.files) expect(f.sha256).toBe(createHash('sha256').update(readFileSync(join(root, 'fp8', f.file))).digest('hex'));
    expect(qc.modules_to_not_convert).not.toContain('gate');
    expect(qc.modules_to_not_convert.some((m: string) => m.endsWith('output_gate'))).toBe(false);
    const e = res.r.errors!.find((x) => x.tensor === QKV)!;
    expect(e.relRmse).toBeLessThan(MAX_FP8_REL_RMSE);
    // default sample: row blocks 0, 8, 16, … of 128 rows → only the first of qkv's three blocks
    expect([e.sampledRows, e.rows]).toEqual([128, 384]);
  });
});

describe('int8-channel and w4a16 (compressed-tensors)', () => {
  it('int8: I8 codes and BF16 [out,1] scales equal the reference; budget holds', async () => {
    const res = await roundTrip('int8', { scheme: 'int8-channel', targets: 'experts' }, true);
    const e = res.r.errors!.find((x) => x.tensor === W2)!;
    expect([e.sampledRows, e.rows]).toEqual([96, 96]);
    // the report agrees with an independent float64 computation over all rows
    expect(e.relRmse).toBeCloseTo(relRmse(bf16Values(tensorIn(orig, W2).bytes), [...dequantizeInt8Rows(new Int8Array(new Uint8Array(tensorIn(res.q, W2).bytes).buffer), new Float32Array(bf16Values(tensorIn(res.q, W2.replace(/weight$/, 'weight_scale')).bytes)), 96, 64)]), 6);
    const w = f32(tensorIn(orig, W2));
    const ref = quantizeInt8Rows(w, 96, 64, { scaleDtype: 'BF16' });
    expect(tensorIn(res.q, W2).dtype).toBe('I8');
    expect(Buffer.from(ref.q.buffer).equals(tensorIn(res.q, W2).bytes)).toBe(true);
    const sc = tensorIn(res.q, W2.replace(/weight$/, 'weight_scale'));
    expect([sc.dtype, sc.shape]).toEqual(['BF16', [96, 1]]);
    expect(sc.bytes.equals(Buffer.from(f32ToBf16(ref.scale).buffer))).toBe(true);
    expect(relRmse(bf16Values(tensorIn(orig, W2).bytes), bf16Values(tensorIn(res.dq, W2).bytes))).toBeLessThan(MAX_INT8_REL_RMSE);
    // targets=experts: attention stays BF16 and is listed in `ignore`
    expect(tensorIn(res.q, QKV).bytes.equals(tensorIn(orig, QKV).bytes)).toBe(true);
    expect(res.cfg.quantization_config).toMatchObject({ quant_method: 'compressed-tensors', format: 'int-quantized' });
    expect(ctShouldIgnoreLayer('model.layers.0.self_attn.qkv_proj', res.cfg.quantization_config.ignore)).toBe(true);
    expect(ctShouldIgnoreLayer('model.layers.4.block_sparse_moe.experts.2.w2', res.cfg.quantization_config.ignore)).toBe(false);
    expect(res.cfg.quantization_config.config_groups.group_0.weights).toMatchObject({ num_bits: 8, strategy: 'channel', symmetric: true });
  });
  it('w4a16 group 32: weight_packed/weight_scale/weight_shape equal the reference; budget holds', async () => {
    const res = await roundTrip('w4', { scheme: 'w4a16', targets: 'all', group: 32 });
    const w = f32(tensorIn(orig, QKV));
    const ref = quantizeInt4Rows(w, 384, 96, 32, { scaleDtype: 'BF16' });
    const p = tensorIn(res.q, QKV.replace(/weight$/, 'weight_packed'));
    expect([p.dtype, p.shape]).toEqual(['I32', [384, 12]]);
    expect(p.bytes.equals(Buffer.from(ref.packed.buffer))).toBe(true);
    expect(tensorIn(res.q, QKV.replace(/weight$/, 'weight_scale')).bytes.equals(Buffer.from(f32ToBf16(ref.scale).buffer))).toBe(true);
    expect([...new Int32Array(new Uint8Array(tensorIn(res.q, QKV.replace(/weight$/, 'weight_shape')).bytes).buffer)]).toEqual([384, 96]);
    expect(res.q.has(QKV)).toBe(false);
    expect(relRmse(bf16Values(tensorIn(orig, QKV).bytes), bf16Values(tensorIn(res.dq, QKV).bytes))).toBeLessThan(MAX_W4_G32_REL_RMSE);
    expect(res.cfg.quantization_config.config_groups.group_0.weights).toMatchObject({ num_bits: 4, strategy: 'group', group_size: 32 });
  });
  it('w4a16 with group 128 on 96 input columns is refused before any output exists', async () => {
    const out = join(root, 'w4-bad');
    await expect(runConversion({ kind: 'quantize', input, output: out, quant: { scheme: 'w4a16', targets: 'all' } })).rejects.toThrow(/96 input columns, not a multiple of the w4a16 group 128/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('plans and the scheme table', () => {
  it('--dry-run total equals the written total_size', async () => {
    const plan = await runConversion({ kind: 'quantize', input, output: join(root, 'dry'), quant: { scheme: 'fp8-block', targets: 'all' }, dryRun: true });
    expect(existsSync(join(root, 'dry'))).toBe(false);
    const index = JSON.parse(readFileSync(join(root, 'fp8', 'model.safetensors.index.json'), 'utf8'));
    expect(plan.totalBytes).toBe(index.metadata.total_size);
    expect(plan.groups.find((g) => g.group === 'experts')!.outputBytes).toBeLessThan(plan.groups.find((g) => g.group === 'experts')!.inputBytes / 1.9);
  });
  it('--list: MiniMax-M1 sizes hand-derived from the spec shapes', () => {
    const rows = listSchemes();
    // 453,613,977,600 quantized weights at 1 byte; fp8 scales: (2560·3·3456 + 70·15360 + 10·6912)·4 bytes;
    // kept: embed + lm_head 2·1,229,193,216·2, norms 1,562,624·2, routers 80·32·6144·4
    expect(rows.find((r) => r.scheme === 'fp8-block')!.m1Bytes).toBe(458_707_535_872);
    // int8 scales: one BF16 per output row
    expect(rows.find((r) => r.scheme === 'int8-channel')!.m1Bytes).toBe(458_728_394_752);
    expect(rows.find((r) => r.scheme === 'w4a16')!.bitsPerWeight).toBeCloseTo(4.125, 10);
  });
});
