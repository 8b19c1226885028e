/**
 * The real-slice fixture preset: the released model's sizes (checked against the shipped config.json,
 * not against the preset code), one lightning and one softmax layer, its documented size, and — on a
 * variant shrunk 16× — a generated checkpoint the runtime runs on. The full preset (27.4 GB) is never
 * generated here.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { Checkpoint } from '../../../src/core/checkpoint/checkpoint.js';
import { parseConfig } from '../../../src/core/checkpoint/config.js';
import { checkCompleteness, expectedTensors } from '../../../src/core/checkpoint/layout.js';
import { FIXTURE_FILL, FIXTURE_PRESETS, realSliceConfig } from '../../../src/core/checkpoint/presets.js';
import { dtypeBytes, numel } from '../../../src/core/dtype/dtypes.js';
import { generateCheckpoint } from '../../../src/core/fixture/generate.js';
import { TableFill } from '../../../src/core/fixture/table-fill.js';
import { forward } from '../../../src/core/model/forward.js';
import { nativeAvailable } from '../../../src/native/index.js';
import { REL_BUDGET, relErr, tokensFor } from './reference-util.js';
import { tmpDir } from '../../helpers/tmp.js';

const bytesOf = (raw: Record<string, unknown>) => expectedTensors(parseConfig(raw, 'test')).reduce((a, s) => a + numel(s.shape) * dtypeBytes(s.dtype), 0);

describe('fixture --preset real-slice', () => {
  it('has the released sizes, a lightning and a softmax layer, and the documented 27.4 GB', async () => {
    const released = JSON.parse(await readFile('fixtures/reference/minimax-m1/config.json', 'utf8')) as Record<string, unknown>;
    const p = FIXTURE_PRESETS['real-slice']!;
    for (const k of ['hidden_size', 'num_attention_heads', 'head_dim', 'num_key_value_heads', 'num_local_experts', 'intermediate_size', 'vocab_size', 'rotary_dim', 'rope_theta', 'num_experts_per_tok', 'rms_norm_eps', 'postnorm']) {
      expect({ k, v: p[k] }).toEqual({ k, v: released[k] });
    }
    expect(p.attn_type_list).toEqual([0, 1]);
    expect(p.num_hidden_layers).toBe(2);
    expect(bytesOf(p) / 1e9).toBeCloseTo(27.4, 1);
    // one released layer of either kind: ≈ 11 GB, of which the 32 experts are 10.87 GB
    const lightning = bytesOf(realSliceConfig([0, 0])) - bytesOf(realSliceConfig([0]));
    const softmax = bytesOf(realSliceConfig([0, 1])) - bytesOf(realSliceConfig([0]));
    expect(lightning / 1e9).toBeCloseTo(11.38, 2);
    expect(softmax / 1e9).toBeCloseTo(11.10, 2);
    // 32 experts × 3 matrices 9216 × 6144 in bf16 (hand-derived)
    expect((32 * 3 * 9216 * 6144 * 2) / 1e9).toBeCloseTo(10.87, 2);
    expect(FIXTURE_FILL['real-slice']).toBe('table');
  });

  it('the table fill is seeded, two values per draw, mean ≈ 0 and std ≈ std', () => {
    const a = new TableFill(1, 'w', 0.02).next(1 << 20);
    expect(Array.from(new TableFill(1, 'w', 0.02).next(1 << 20).subarray(0, 64))).toEqual(Array.from(a.subarray(0, 64)));
    expect(Array.from(new TableFill(2, 'w', 0.02).next(64))).not.toEqual(Array.from(a.subarray(0, 64)));
    expect(new TableFill(1, 'w', 0.02).next(7).length).toBe(7);
    const f = new Float32Array(new Uint32Array(Array.from(a, (b) => b << 16)).buffer);
    let s = 0;
    let s2 = 0;
    for (const v of f) {
      s += v;
      s2 += v * v;
    }
    const mean = s / f.length;
    const sd = Math.sqrt(s2 / f.length - mean * mean);
    // 2^20 samples of N(0, 0.02²): standard error of the mean 2e-5, of the std 1.4e-5 (plus the table's own sampling, 256 samples per table entry)
    expect(Math.abs(mean)).toBeLessThan(2e-4);
    expect(Math.abs(sd / 0.02 - 1)).toBeLessThan(0.02);
  });

  it('a 16× smaller variant generates with the table fill, is complete, and runs (native = ts within budget)', async () => {
    const raw = realSliceConfig([0, 1], 16);
    expect(raw).toMatchObject({ hidden_size: 384, num_attention_heads: 4, num_key_value_heads: 1, head_dim: 128, num_local_experts: 2, intermediate_size: 576, vocab_size: 12504 });
    const dir = await tmpDir('m1kit-slice-');
    const r = await generateCheckpoint({ out: dir, config: raw, seed: 1, shards: 2, fill: 'table' });
    expect(r.bytes).toBe(bytesOf(raw));
    const ck = await Checkpoint.open(dir);
    try {
      const actual = new Map([...ck.tensors].map(([n, l]) => [n, { dtype: l.info.dtype, shape: l.info.shape }]));
      expect(checkCompleteness(ck.config, actual)).toEqual([]);
      const tokens = tokensFor(12504, 20, 3);
      const ts = await forward({ checkpoint: ck, tokens, kernels: 'ts' });
      expect(ts.every(Number.isFinite)).toBe(true);
      if (nativeAvailable()) expect(relErr(await forward({ checkpoint: ck, tokens, kernels: 'native' }), ts)).toBeLessThan(REL_BUDGET);
    } finally {
      await ck.close();
    }
  });
});
