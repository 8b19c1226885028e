import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { BatchWriter, WRITE_BATCH_BYTES, WRITEBACK_BYTES } from '../../../src/core/hub/batch-writer.js';
import type { WritebackPump } from '../../../src/core/ops/copy.js';

/** A fake file that accepts at most `maxPerCall` bytes per write, asynchronously, and can fail on demand. */
function fakeFile(size: number, maxPerCall: number, failAfter = Infinity) {
  const data = Buffer.alloc(size);
  let calls = 0;
  const fd = {
    async write(buf: Buffer, off: number, len: number, pos: number) {
      await new Promise((r) => setImmediate(r));
      if (++calls > failAfter) throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
      const n = Math.min(len, maxPerCall);
      buf.copy(data, pos, off, off + n);
      return { bytesWritten: n, buffer: buf };
    },
  } as unknown as FileHandle;
  return { fd, data };
}

const bytes = (n: number, seed: number) => Buffer.from(Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed * 17 + (i >> 9)) & 0xff));

describe('BatchWriter', () => {
  it('writes every byte in order at its offset, hashes exactly what it wrote, reports each written byte', async () => {
    const start = 1000;
    const body = bytes(2 * WRITE_BATCH_BYTES + 12345, 3); // more than two batches
    const { fd, data } = fakeFile(start + body.length, 70_001); // short writes
    const hash = createHash('sha256');
    let reported = 0;
    const w = new BatchWriter(fd, start, body.length, hash, (n) => (reported += n));
    for (let off = 0, i = 0; off < body.length; i++) {
      const n = Math.min(body.length - off, [1, 65536, 333, 200_000, 7][i % 5]!);
      await w.push(body.subarray(off, off + n));
      off += n;
    }
    await w.finish();
    expect(data.subarray(start).equals(body)).toBe(true);
    expect(data.subarray(0, start).every((b) => b === 0)).toBe(true);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
    expect(reported).toBe(body.length);
  });

  it('surfaces a write error instead of losing it', async () => {
    const body = bytes(3 * WRITE_BATCH_BYTES, 5);
    const { fd } = fakeFile(body.length, 1 << 20, 1);
    const w = new BatchWriter(fd, 0, body.length, createHash('sha256'), () => undefined);
    const run = async () => {
      for (let off = 0; off < body.length; off += 4096) await w.push(body.subarray(off, off + 4096));
      await w.finish();
    };
    await expect(run()).rejects.toMatchObject({ code: 'ENOSPC' });
  });

  it('takes reads in place (space/commit), waits when both batches are busy, and hands written runs to writeback', async () => {
    const start = 77;
    const body = bytes(3 * WRITEBACK_BYTES + 999, 9);
    const { fd, data } = fakeFile(start + body.length, 1 << 20);
    const hash = createHash('sha256');
    const ranges: [number, number][] = [];
    const pump = { add: (o: number, l: number) => ranges.push([o, l]) } as unknown as WritebackPump;
    const w = new BatchWriter(fd, start, body.length, hash, () => undefined, pump);
    let waits = 0;
    for (let off = 0, i = 0; off < body.length; i++) {
      const space = w.space();
      expect(space.length).toBeGreaterThan(0);
      const n = Math.min(space.length, body.length - off, [5000, 100_000, 1][i % 3]!);
      body.copy(space, 0, off, off + n);
      off += n;
      const p = w.commit(n);
      if (p) {
        waits++;
        await p;
      }
    }
    await w.finish();
    expect(data.subarray(start).equals(body)).toBe(true);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
    expect(waits).toBeGreaterThan(0); // the writes are slower than the reads here
    // contiguous runs of at least WRITEBACK_BYTES, in order, from the first written byte
    expect(ranges.length).toBe(3);
    expect(ranges[0]![0]).toBe(start);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBe(ranges[i - 1]![0] + ranges[i - 1]![1]);
    for (const [, l] of ranges) expect(l).toBeGreaterThanOrEqual(WRITEBACK_BYTES);
  });
});
