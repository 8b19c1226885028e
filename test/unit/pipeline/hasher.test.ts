/**
 * The hash workers: digests mixing in-memory updates and file ranges read back by the worker equal
 * node:crypto's sha256 of the same bytes in the same order, with several digests in flight on
 * different workers; an unreadable range fails that digest with a typed error. Both kinds of worker:
 * node's sha256 and the lane worker, which hashes all digests side by side on the SHA extensions, each
 * started from the TypeScript sources and (the lane worker) from dist.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Hasher as SrcHasher } from '../../../src/core/pipeline/hasher.js';
import { sha256LanesAvailable } from '../../../src/core/ops/sha256.js';
import { fileTmpDir } from '../../helpers/tmp.js';

/** File size: several of the worker's 1 MiB read-back chunks plus an odd tail. */
const FILE_BYTES = 3 * 1024 * 1024 + 777;

const dir = fileTmpDir('m1kit-hasher-');
const files: { path: string; bytes: Buffer }[] = [];

beforeAll(async () => {
  for (let k = 0; k < 3; k++) {
    const bytes = Buffer.alloc(FILE_BYTES);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + k * 7 + (i >> 11)) & 0xff;
    const path = join(dir, `f${k}.bin`);
    await writeFile(path, bytes);
    files.push({ path, bytes });
  }
});

type HasherLike = Pick<SrcHasher, 'begin' | 'update' | 'updateFromFile' | 'digest' | 'fileBacklogBelow' | 'close' | 'fileBacklog'>;
/** The compiled worker runs from dist (built by `npm test` before the tests). */
const dist = (await import('../../../dist/core/pipeline/hasher.js')) as { Hasher: new (workers?: number, lanes?: boolean) => HasherLike };
const variants: [string, boolean, (workers: number) => HasherLike][] = [
  ['node sha256 workers', true, (n) => new SrcHasher(n, false)],
  ['lane worker from the sources', sha256LanesAvailable(), () => new SrcHasher(1, true)],
  ['lane worker from dist', sha256LanesAvailable(), () => new dist.Hasher(1, true)],
];

describe.each(variants)('Hasher (%s)', (_label, runs, make) => {
  it.runIf(runs)('hashes memory and file ranges in order, several digests at once', async () => {
    const h = make(2);
    try {
      const expected: string[] = [];
      const ids: number[] = [];
      for (const [k, f] of files.entries()) {
        const id = h.begin();
        ids.push(id);
        const head = Buffer.from(`header ${k}`);
        h.update(id, head);
        // ranges at odd boundaries, one skipped gap, and memory in between
        h.updateFromFile(id, f.path, 0, 1_000_001);
        h.update(id, new Uint8Array([k, 1, 2, 3]));
        h.updateFromFile(id, f.path, 1_000_001, 1_500_000);
        h.updateFromFile(id, f.path, 2_600_000, FILE_BYTES - 2_600_000);
        expected.push(createHash('sha256').update(head).update(f.bytes.subarray(0, 1_000_001)).update(new Uint8Array([k, 1, 2, 3])).update(f.bytes.subarray(1_000_001, 2_500_001)).update(f.bytes.subarray(2_600_000)).digest('hex'));
      }
      await h.fileBacklogBelow(1);
      expect(h.fileBacklog).toBe(0);
      expect(await Promise.all(ids.map((id) => h.digest(id)))).toEqual(expected);
    } finally {
      await h.close();
    }
  });

  it.runIf(runs)('rejects the digest of a range past the end of its file', async () => {
    const h = make(1);
    try {
      const id = h.begin();
      h.updateFromFile(id, files[0]!.path, FILE_BYTES - 10, 11);
      const err = await h.digest(id).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'E_HASH', message: expect.stringMatching(/ends at byte/) });
      // the worker is still usable for other digests
      const ok = h.begin();
      h.updateFromFile(ok, files[1]!.path, 5, 100);
      expect(await h.digest(ok)).toBe(createHash('sha256').update(files[1]!.bytes.subarray(5, 105)).digest('hex'));
    } finally {
      await h.close();
    }
  });
});
