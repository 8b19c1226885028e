import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPAT } from '../../../src/core/engines/compat.js';
import { checkVllm } from '../../../src/core/engines/vllm-check.js';
import { QKV_PACKED } from '../../../src/core/engines/vllm-rules.js';
import { runConversion } from '../../../src/core/convert/run.js';
import { checkpointRoot } from '../../helpers/checkpoints.js';

/** Every vLLM row marked "loads" or "rejected" is checked on m1kit's real output of the tiny fixture. */
const { root, input } = checkpointRoot('compat', { preset: 'tiny', seed: 5, shards: 2 });

function read(dir: string) {
  const index = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { quantization_config?: Record<string, unknown>; num_local_experts: number };
  return { names: Object.keys(index.weight_map), qc: cfg.quantization_config, experts: cfg.num_local_experts };
}

describe('engine-compatibility table, vLLM rows', () => {
  const rows = COMPAT.filter((r) => r.engine === 'vllm' && r.versions === '<= 0.23' && r.status !== 'not known');
  it('has a checked row for every scheme and target', () => expect(rows.length).toBe(10));
  for (const row of rows)
    it(`${row.scheme} ${row.targets}: ${row.status}`, async () => {
      let dir = input;
      if (row.scheme !== 'bf16' && row.scheme !== 'gguf') {
        dir = join(root, `${row.scheme}-${row.targets}`);
        // the tiny fixture's hidden size 96 is not a multiple of w4a16's default group 128
        await runConversion({ kind: 'quantize', input, output: dir, quant: { scheme: row.scheme, targets: row.targets === '-' ? 'all' : row.targets, group: row.scheme === 'w4a16' ? 32 : undefined } });
      }
      const { names, qc, experts } = read(dir);
      for (const fused of [{}, QKV_PACKED]) {
        const problems = checkVllm(names, qc, experts, fused);
        if (row.status === 'loads') expect(problems).toEqual([]);
        else {
          expect(problems.length).toBeGreaterThan(0);
          // the renamed scales land nowhere, so the quantized method also lacks its scales; nothing else is wrong
          expect(problems.some((p) => /experts\.\d+\.w[123]\.weight_scale/.test(p.where) && /"w(13|2)_scale/.test(p.message))).toBe(true);
          expect(problems.every((p) => /w(13|2)_(weight_)?scale/.test(p.message))).toBe(true);
        }
      }
    });
});

describe('README', () => {
  it('lists every row of the table as data', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    for (const r of COMPAT) expect(readme).toContain(`| ${r.engine} | ${r.versions} | ${r.scheme} | ${r.targets} | ${r.status} | ${r.why} |`);
  });
});
