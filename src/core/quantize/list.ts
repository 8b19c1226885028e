/**
 * The scheme table of `quantize --list`: for each scheme the bits per quantized weight on M1's shapes,
 * the planned size of the whole released MiniMax-M1 (BF16 912.2 GB) with default targets, the expected
 * error, and who loads it. Computed from the plan of the real config (no I/O).
 */
import { parseConfig } from '../checkpoint/config.js';
import { expectedTensors } from '../checkpoint/layout.js';
import { M1_CONFIG } from '../checkpoint/presets.js';
import { canonicalOf } from '../pipeline/jobs.js';
import { buildPlan } from '../pipeline/plan.js';
import { makeGrid } from '../pipeline/rank-split.js';
import { isTarget } from './targets.js';
import { QUANT_FORMATS, type SchemeId } from '../formats/index.js';

export interface SchemeRow {
  scheme: SchemeId;
  summary: string;
  /** Bits per weight of an expert w1 [9216, 6144] including its scales. */
  bitsPerWeight: number;
  /** Output bytes of the full MiniMax-M1 quantized with targets=all. */
  m1Bytes: number;
  expectedRelRmse: number;
  expectedError: string;
  loader: string;
}

/** @example listSchemes()[0].m1Bytes // ≈ 4.6e11 for fp8-block */
export function listSchemes(): SchemeRow[] {
  const config = parseConfig(M1_CONFIG, 'MiniMax-M1 config');
  const canon = canonicalOf(expectedTensors(config));
  const grid = makeGrid(config, 1, 1);
  return QUANT_FORMATS.map((s) => {
    const name = s.id;
    const group = s.defaultGroup;
    const plan = buildPlan({ config, canon, grid, experts: 'per-expert', quant: { scheme: name, group, quantizes: (t) => isTarget(t.info.role, 'all') }, maxShardBytes: 5e9 });
    return {
      scheme: name,
      summary: s.summary,
      bitsPerWeight: s.bitsPerWeight(config.intermediateSize, config.hiddenSize, group),
      m1Bytes: plan.totalBytes,
      expectedRelRmse: s.expectedRelRmse,
      expectedError: s.expectedError,
      loader: s.loader,
    };
  });
}
