/**
 * The GGUF encode pool runs its worker module from the TypeScript sources as from dist: chunks encoded
 * on its threads equal the same jobs run inline, byte for byte, and a job that fails in a worker comes
 * back as E_GGUF_ENCODE naming what failed.
 */
import { describe, expect, it } from 'vitest';
import { EncodePool } from '../../../src/core/gguf/encode-pool.js';
import { runEncodeJob, type EncodeJob } from '../../../src/core/gguf/encode-job.js';

/** A chunk above the pool's inline threshold (1 MiB), so it goes to a worker. */
const ROWS = 64;
const COLS = 8192;

function job(seed: number, type: EncodeJob['type']): EncodeJob {
  const f = new Float32Array(ROWS * COLS);
  for (let i = 0; i < f.length; i++) f[i] = Math.sin(i * 0.37 + seed) * (1 + (i % 7));
  return { raw: new Uint8Array(f.buffer), srcDtype: 'F32', scale: 0.5, type };
}

describe('EncodePool', () => {
  it('encodes on worker threads started from the sources, equal to inline', async () => {
    const pool = EncodePool.create(2);
    try {
      expect(pool.threads).toBe(2);
      const types = ['Q8_0', 'Q4_0', 'F16', 'BF16'] as const;
      const got = await Promise.all(types.map((t, i) => pool.encode(job(i, t))));
      types.forEach((t, i) => expect(Buffer.from(got[i]!).equals(Buffer.from(runEncodeJob(job(i, t)))), t).toBe(true));
    } finally {
      await pool.close();
    }
  });

  it('reports a job that fails in a worker as E_GGUF_ENCODE', async () => {
    const pool = EncodePool.create(2);
    try {
      const bad = { ...job(0, 'Q8_0'), type: 'NOPE' as EncodeJob['type'] };
      await expect(pool.encode(bad)).rejects.toMatchObject({ code: 'E_GGUF_ENCODE', message: expect.stringContaining('encoding a tensor chunk failed') });
    } finally {
      await pool.close();
    }
  });
});
