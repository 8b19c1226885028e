/**
 * Builds a checkpoint with the real MiniMax-M1 names, shapes, dtypes and shard assignment (from
 * fixtures/reference/minimax-m1, the released config and index) as sparse files: real headers, data regions left as holes, so 912 GB of apparent
 * size costs a few MB of disk. Used to prove that header-only commands never touch tensor data.
 */
import { copyFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/core/checkpoint/config.js';
import { expectedTensors } from '../../src/core/checkpoint/layout.js';
import { encodeHeader } from '../../src/core/safetensors/header.js';
import type { TensorSpec } from '../../src/core/safetensors/writer.js';

/** The released MiniMax-M1 config.json and model.safetensors.index.json, committed as data. */
export const REFERENCE_DIR = fileURLToPath(new URL('../../fixtures/reference/minimax-m1/', import.meta.url));

export function realConfigRaw(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(REFERENCE_DIR, 'config.json'), 'utf8'));
}

export function realIndex(): { metadata: { total_size: number }; weight_map: Record<string, string> } {
  return JSON.parse(readFileSync(join(REFERENCE_DIR, 'model.safetensors.index.json'), 'utf8'));
}

export async function writeRealShapedCheckpoint(dir: string, opts: { dropShard?: string } = {}): Promise<void> {
  const specs = new Map(expectedTensors(parseConfig(realConfigRaw())).map((s) => [s.name, s]));
  const byShard = new Map<string, TensorSpec[]>();
  for (const [name, shard] of Object.entries(realIndex().weight_map)) {
    const spec = specs.get(name);
    if (!spec) throw new Error(`layout has no tensor ${name}`);
    byShard.set(shard, [...(byShard.get(shard) ?? []), spec]);
  }
  for (const [shard, list] of byShard) {
    if (shard === opts.dropShard) continue;
    const { bytes, offsets } = encodeHeader(list, { format: 'pt' });
    const dataBytes = Math.max(0, ...[...offsets.values()].map(([, e]) => e));
    const fd = await open(join(dir, shard), 'w');
    await fd.write(bytes, 0, bytes.length, 0);
    await fd.truncate(bytes.length + dataBytes);
    await fd.close();
  }
  await copyFile(join(REFERENCE_DIR, 'config.json'), join(dir, 'config.json'));
  await copyFile(join(REFERENCE_DIR, 'model.safetensors.index.json'), join(dir, 'model.safetensors.index.json'));
}
