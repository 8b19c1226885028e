/**
 * copyRange (in-kernel copy_file_range, or the positioned read/write loop) must reproduce the source
 * bytes exactly at odd offsets and lengths, leave every other destination byte alone, and report a
 * source that ends early.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { open, readFile, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { copyRange, preallocate, startWriteback } from '../../src/core/ops/copy.js';
import { InputError } from '../../src/core/errors.js';
import { announceSkip, nativeLoaded } from './helpers.js';
import { fileTmpDir } from '../helpers/tmp.js';

/** Source size: larger than the native fallback buffer (1 MiB) and not a multiple of any block size. */
const SRC_BYTES = 3 * 1024 * 1024 + 12345;
/** Destination size: the copies below land inside it; untouched bytes keep this fill value. */
const DST_BYTES = SRC_BYTES + 4099;
const FILL = 0xa5;

const dir = fileTmpDir('m1kit-copy-');
const srcPath = join(dir, 'src.bin');
let src: Buffer;

beforeAll(async () => {
  src = Buffer.alloc(SRC_BYTES);
  let x = 0x9e3779b9;
  for (let i = 0; i < src.length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    src[i] = x & 0xff;
  }
  await writeFile(srcPath, src);
});

/** Expected destination: FILL everywhere except the copied ranges (built with plain Buffer copies). */
function expected(copies: [number, number, number][]): Buffer {
  const d = Buffer.alloc(DST_BYTES, FILL);
  for (const [offIn, offOut, len] of copies) src.copy(d, offOut, offIn, offIn + len);
  return d;
}

const CASES: [number, number, number][][] = [
  [[0, 0, SRC_BYTES]], // whole file
  [[1, 3, 1], [7, 17, 0], [12345, 999, 1048577], [SRC_BYTES - 5, DST_BYTES - 5, 5]], // odd offsets/lengths, zero length, last bytes
  [[2_000_001, 1_048_575, 1_100_000], [3, 2_200_000, 65537]],
];

announceSkip('copy.test.ts');

for (const backend of ['ref', 'native'] as const) {
  describe.skipIf(backend === 'native' && !nativeLoaded())(`copyRange (${backend})`, () => {
    let n = 0;
    const withFiles = async (fn: (i: FileHandle, o: FileHandle, path: string) => Promise<void>): Promise<Buffer> => {
      const path = join(dir, `dst-${backend}-${n++}.bin`);
      await writeFile(path, Buffer.alloc(DST_BYTES, FILL));
      const i = await open(srcPath, 'r');
      const o = await open(path, 'r+');
      try {
        await fn(i, o, path);
      } finally {
        await i.close();
        await o.close();
      }
      return readFile(path);
    };

    for (const [k, copies] of CASES.entries()) {
      it(`copies byte-identical ranges (case ${k})`, async () => {
        const got = await withFiles(async (i, o) => {
          for (const [offIn, offOut, len] of copies) expect(await copyRange(i, offIn, o, offOut, len, { backend })).toBe(len);
        });
        expect(got.equals(expected(copies))).toBe(true);
      });
    }

    it('copies the same bytes when asked to start writeback', async () => {
      const copies = CASES[1]!;
      const got = await withFiles(async (i, o) => {
        for (const [offIn, offOut, len] of copies) await copyRange(i, offIn, o, offOut, len, { backend, writeback: true });
      });
      expect(got.equals(expected(copies))).toBe(true);
    });

    it('copies the same bytes when paced (2 MiB calls with pauses; the whole file crosses several)', async () => {
      for (const copies of [CASES[0]!, CASES[1]!]) {
        const got = await withFiles(async (i, o) => {
          for (const [offIn, offOut, len] of copies) expect(await copyRange(i, offIn, o, offOut, len, { backend, paced: true })).toBe(len);
        });
        expect(got.equals(expected(copies))).toBe(true);
      }
      await withFiles(async (i, o) => {
        const err = await copyRange(i, SRC_BYTES - 10, o, 0, 11, { backend, paced: true }).catch((e: unknown) => e);
        expect((err as InputError).code).toBe('E_TRUNCATED');
      });
    });

    it('runs concurrent copies on numeric descriptors', async () => {
      const copies: [number, number, number][] = [[0, 0, 1_500_000], [1_500_000, 1_500_000, SRC_BYTES - 1_500_000]];
      const got = await withFiles(async (i, o) => {
        await Promise.all(copies.map(([a, b, len]) => copyRange(i.fd, a, o.fd, b, len, { backend })));
      });
      expect(got.equals(expected(copies))).toBe(true);
    });

    it('copies an overlapping range inside one file as memmove does (the kernel refuses it: fallback path)', async () => {
      const path = join(dir, `same-${backend}.bin`);
      await writeFile(path, src);
      const f = await open(path, 'r+');
      try {
        expect(await copyRange(f, 1000, f, 1500, 3000, { backend })).toBe(3000);
      } finally {
        await f.close();
      }
      const want = Buffer.from(src);
      want.copy(want, 1500, 1000, 4000);
      expect((await readFile(path)).equals(want)).toBe(true);
    });

    it('rejects a source that ends before `length` bytes', async () => {
      await withFiles(async (i, o) => {
        const err = await copyRange(i, SRC_BYTES - 10, o, 0, 11, { backend, label: 'src.bin' }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(InputError);
        expect((err as InputError).code).toBe('E_TRUNCATED');
      });
    });

    it('rejects negative or fractional offsets before touching the files', async () => {
      await withFiles(async (i, o) => {
        await expect(copyRange(i, -1, o, 0, 1, { backend })).rejects.toThrow(/offIn/);
        await expect(copyRange(i, 0, o, 0.5, 1, { backend })).rejects.toThrow(/offOut/);
      });
    });
  });
}

describe.skipIf(!nativeLoaded())('copyRange (native errors)', () => {
  it('turns a bad descriptor into a rejected promise, not a crash', async () => {
    const i = await open(srcPath, 'r');
    try {
      // writing into a read-only descriptor: EBADF from copy_file_range
      await expect(copyRange(i, 0, i.fd, 0, 16, { backend: 'native' })).rejects.toThrow(/copyRange/);
    } finally {
      await i.close();
    }
  });
});

describe('startWriteback', () => {
  it('queues a written range for disk without changing its bytes, and refuses bad ranges', async () => {
    const path = join(dir, 'writeback.bin');
    await writeFile(path, src);
    const f = await open(path, 'r+');
    try {
      await startWriteback(f, 4096, 1 << 20);
      await startWriteback(f.fd, 0, 0);
      await expect(startWriteback(f, -1, 10)).rejects.toThrow(/offset/);
      await f.sync();
    } finally {
      await f.close();
    }
    expect((await readFile(path)).equals(src)).toBe(true);
  });
});

describe.skipIf(!nativeLoaded())('preallocate', () => {
  it('reserves blocks, growing the file or (keepSize) leaving its size alone; the bytes read back as zeros', async () => {
    const { stat } = await import('node:fs/promises');
    const path = join(dir, 'prealloc.bin');
    await writeFile(path, Buffer.from('head'));
    const f = await open(path, 'r+');
    try {
      const LEN = 8 * 1024 * 1024;
      // Linux file systems used here (ext4, tmpfs, overlay on either) all support fallocate
      expect(await preallocate(f, 4, LEN, { keepSize: true })).toBe(process.platform === 'linux');
      let st = await stat(path);
      expect(st.size).toBe(4);
      if (process.platform === 'linux') expect(st.blocks * 512).toBeGreaterThanOrEqual(LEN);
      expect(await preallocate(f, 4, LEN)).toBe(process.platform === 'linux');
      st = await stat(path);
      expect(st.size).toBe(process.platform === 'linux' ? 4 + LEN : 4);
      const back = await readFile(path);
      expect(back.subarray(0, 4).toString()).toBe('head');
      expect(back.subarray(4).every((b) => b === 0)).toBe(true);
      await expect(preallocate(f, -1, 10)).rejects.toThrow(/offset/);
    } finally {
      await f.close();
    }
  });
});
