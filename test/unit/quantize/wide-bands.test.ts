/**
 * Quantization bands are bounded in bytes, not rows: a tensor too wide for one 128-row block per band is
 * cut into fewer rows (int8, w4a16) or into column pieces of whole 128×128 blocks (fp8), and the weight
 * files, index and config are byte-identical to bands of whole blocks; the manifest lists the same files
 * and sha256, and the same error statistics up to float64 summation order.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE_PRESETS } from '../../../src/core/checkpoint/presets.js';
import { runConversion } from '../../../src/core/convert/run.js';
import { bandingOf } from '../../../src/core/quantize/quantize-job.js';
import { hashTree } from '../../helpers/naive-safetensors.js';
import { checkpointRoot } from '../../helpers/checkpoints.js';

/**
 * Relative difference allowed in the manifest's error statistics: they are float64 sums of squares,
 * accumulated per band, so bands cut differently add the same terms in another order (a few ulps).
 */
const SUMMATION_ORDER_TOLERANCE = 1e-12;

/** Every output file byte for byte, except the manifest, whose error statistics are compared apart. */
function expectSameOutput(a: string, b: string): void {
  const ha = hashTree(a);
  const hb = hashTree(b);
  ha.delete('m1kit-manifest.json');
  hb.delete('m1kit-manifest.json');
  expect(hb).toEqual(ha);
  const ma = JSON.parse(readFileSync(join(a, 'm1kit-manifest.json'), 'utf8'));
  const mb = JSON.parse(readFileSync(join(b, 'm1kit-manifest.json'), 'utf8'));
  expect(mb.files).toEqual(ma.files);
  expect(mb.planHash).toBe(ma.planHash);
  expect(mb.errors.length).toBe(ma.errors.length);
  ma.errors.forEach((e: Record<string, number | string>, i: number) => {
    const f = mb.errors[i];
    expect(f.tensor).toBe(e.tensor);
    expect(f.sampledRows).toBe(e.sampledRows);
    for (const k of ['relRmse', 'maxAbs', 'snrDb']) {
      const x = e[k] as number;
      expect(Math.abs((f[k] as number) - x), `${e.tensor} ${k}`).toBeLessThanOrEqual(SUMMATION_ORDER_TOLERANCE * Math.abs(x));
    }
  });
}

/** Bytes of the fp32 working set of one band at most (the 16 MiB default band). */
const BAND_BYTES = 16 * 1024 * 1024;

// input widths 320 and 200: column pieces of 128 end in a partial fp8 block
const WIDE = { ...FIXTURE_PRESETS.tiny!, hidden_size: 320, intermediate_size: 200, num_hidden_layers: 2, attn_type_list: [0, 1] };
const { root, input } = checkpointRoot('wide-bands', { config: WIDE, seed: 9, shards: 2 }, 60_000);

describe('bandingOf', () => {
  it('keeps whole 128-row blocks while they fit (the bands used so far, unchanged)', () => {
    expect(bandingOf('fp8-block', 128, 6144, 9216)).toEqual({ rows: 384, cols: 9216 });
    expect(bandingOf('int8-channel', 0, 9216, 6144)).toEqual({ rows: 640, cols: 6144 });
    expect(bandingOf('w4a16', 128, 100, 96)).toEqual({ rows: 43648, cols: 96 });
  });

  it('a 1 GB tensor 524,288 columns wide: every band ≤ 16 MiB of fp32 working set', () => {
    for (const [scheme, g] of [['fp8-block', 128], ['int8-channel', 0], ['w4a16', 128]] as const) {
      const b = bandingOf(scheme, g, 1024, 524_288);
      expect(b.rows * b.cols * 4, scheme).toBeLessThanOrEqual(BAND_BYTES);
      if (scheme === 'fp8-block') expect(b).toEqual({ rows: 128, cols: 32768 });
      else expect(b).toEqual({ rows: 8, cols: 524_288 });
    }
    // before: one 128-row block per band whatever the width, 256 MiB of fp32 here
    expect(128 * 524_288 * 4).toBe(16 * BAND_BYTES);
  });

  it('row bands of wide int8/w4a16 rows are powers of two, so they tile the 128-row error blocks', () => {
    for (const C of [40_000, 100_000, 300_000, 3_000_000, 5_000_000]) {
      const { rows } = bandingOf('int8-channel', 0, 4096, C);
      expect(128 % rows).toBe(0);
      expect(rows === 1 || rows * C <= BAND_BYTES / 4).toBe(true);
    }
  });
});

describe('output bytes do not depend on how wide rows are cut', () => {
  it.each([
    ['fp8-block', { scheme: 'fp8-block' as const, targets: 'all' as const }],
    ['int8-channel', { scheme: 'int8-channel' as const, targets: 'all' as const }],
    ['w4a16 group 8', { scheme: 'w4a16' as const, targets: 'all' as const, group: 8 }],
  ])('%s', async (name, quant) => {
    const whole = join(root, `whole-${name}`);
    const pieces = join(root, `pieces-${name}`);
    await runConversion({ kind: 'quantize', input, output: whole, quant });
    // 64 KiB bands: 128 × 128 fp32 (fp8: 128-column pieces of 320/200-wide rows; int8/w4a16: 32-row bands)
    await runConversion({ kind: 'quantize', input, output: pieces, quant, bandBytes: 64 * 1024, exactErrors: false });
    expectSameOutput(whole, pieces);
    // and with every row measured
    const exactA = join(root, `exact-whole-${name}`);
    const exactB = join(root, `exact-pieces-${name}`);
    await runConversion({ kind: 'quantize', input, output: exactA, quant, exactErrors: true });
    await runConversion({ kind: 'quantize', input, output: exactB, quant, exactErrors: true, bandBytes: 64 * 1024 });
    expectSameOutput(exactA, exactB);
  });
});
