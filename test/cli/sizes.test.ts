/**
 * Every option that takes a byte size reads it with the one parser (core/units.ts) and the README's rule:
 * `5GB` decimal, `2GiB` and `8G` binary. `--max-shard-size` (convert, quantize, dequantize) and
 * `--max-memory` (forward, verify) accept and refuse the same texts (built CLI: `npx tsc -p .` first).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonDoc, m1kit } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const TINY = 'fixtures/tiny';

describe('byte sizes on the command line', () => {
  it('--max-shard-size and --max-memory both take 8G', async () => {
    const dir = await tmpDir();
    const plan = await m1kit(['convert', TINY, join(dir, 'out'), '--max-shard-size', '8G', '--dry-run', '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(jsonDoc(plan.stdout).result.dryRun).toBe(true);
    const fwd = await m1kit(['forward', TINY, '--tokens', '1,2,3', '--max-memory', '8G', '--out', join(dir, 'logits.safetensors'), '--json']);
    expect(fwd.code, fwd.stderr).toBe(0);
  });

  it('both refuse a size with an unknown unit in the same words, naming the option (exit 2)', async () => {
    const dir = await tmpDir();
    const a = await m1kit(['convert', TINY, join(dir, 'out'), '--max-shard-size', '8X']);
    const b = await m1kit(['forward', TINY, '--tokens', '1,2,3', '--max-memory', '8X', '--out', join(dir, 'logits.safetensors')]);
    for (const [r, flag] of [[a, '--max-shard-size'], [b, '--max-memory']] as const) {
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`error E_USAGE: ${flag} expects a size such as 5GB, 500MB, 2GiB, 8G or a byte count, got "8X"`);
    }
  });
});
