import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertSafeShardName, parseIndex, readIndex, shardName, writeIndex } from '../../../src/core/safetensors/index-json.js';
import { REFERENCE_DIR } from '../../helpers/real-shaped.js';
import { tmpDir } from '../../helpers/tmp.js';

const REAL_INDEX = join(REFERENCE_DIR, 'model.safetensors.index.json');

describe('sharded index', () => {
  it('names shards 0-based like the real release, without hard-coding the count', () => {
    expect(shardName(0, 413)).toBe('model-00000-of-00413.safetensors');
    expect(shardName(412, 413)).toBe('model-00412-of-00413.safetensors');
    expect(shardName(5, 414)).toBe('model-00005-of-00414.safetensors');
    expect(shardName(3, 123456)).toBe('model-003-of-123456.safetensors'.replace('003', '000003'));
  });

  it('reads the real MiniMax-M1 index (8,243 tensors in 413 shards)', async () => {
    const idx = await readIndex(REAL_INDEX);
    expect(idx.weightMap.size).toBe(3 + 80 * (2 + 1 + 3 * 32) + 70 * 4 + 10 * 4);
    expect(new Set(idx.weightMap.values()).size).toBe(413);
    expect(idx.metadata.total_size).toBe(912_210_767_872);
  });

  it('refuses unsafe shard names before any file is opened', () => {
    for (const bad of ['../x.safetensors', '/etc/x.safetensors', 'a/b.safetensors', 'a\\b.safetensors', '..', 'C:x.safetensors', 'x.bin', '']) {
      expect(() => assertSafeShardName(bad, 'idx'), bad).toThrow(expect.objectContaining({ code: 'E_UNSAFE_SHARD_NAME' }));
    }
    expect(() => parseIndex({ weight_map: { a: '../../x.safetensors' } }, 'idx')).toThrow(expect.objectContaining({ code: 'E_UNSAFE_SHARD_NAME' }));
    expect(() => parseIndex({ weight_map: [] }, 'idx')).toThrow(expect.objectContaining({ code: 'E_INDEX' }));
    expect(() => parseIndex({ weight_map: {}, metadata: { total_size: -1 } }, 'idx')).toThrow(expect.objectContaining({ code: 'E_INDEX' }));
  });

  it('writes an index that reads back', async () => {
    const dir = await tmpDir();
    const p = join(dir, 'model.safetensors.index.json');
    await writeIndex(p, new Map([['a', shardName(0, 2)], ['b', shardName(1, 2)]]), 1234, { format: 'pt' });
    const idx = await readIndex(p);
    expect(idx.metadata).toEqual({ format: 'pt', total_size: 1234 });
    expect([...idx.weightMap]).toEqual([['a', 'model-00000-of-00002.safetensors'], ['b', 'model-00001-of-00002.safetensors']]);
  });
});
