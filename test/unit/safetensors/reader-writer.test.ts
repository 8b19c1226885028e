import { open, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SafetensorsReader } from '../../../src/core/safetensors/reader.js';
import { SafetensorsWriter, writeSafetensors } from '../../../src/core/safetensors/writer.js';
import { MAX_READ_BYTES } from '../../../src/core/limits.js';
import { tmpDir } from '../../helpers/tmp.js';

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) & 0xff);

describe('safetensors reader/writer', () => {
  it('round-trips BF16, F8, odd-sized and empty tensors byte for byte', async () => {
    const dir = await tmpDir();
    const path = join(dir, 'a.safetensors');
    const tensors = [
      { spec: { name: 'bf16', dtype: 'BF16' as const, shape: [3, 7] }, data: bytes(42, 1) },
      { spec: { name: 'e4m3', dtype: 'F8_E4M3' as const, shape: [5] }, data: bytes(5, 2) },
      { spec: { name: 'e5m2', dtype: 'F8_E5M2' as const, shape: [1, 3] }, data: bytes(3, 3) },
      { spec: { name: 'empty', dtype: 'F32' as const, shape: [0, 4] }, data: new Uint8Array(0) },
      { spec: { name: 'i32', dtype: 'I32' as const, shape: [2] }, data: bytes(8, 4) },
    ];
    await writeSafetensors(path, tensors, { format: 'pt', note: 'x' });
    const r = await SafetensorsReader.open(path);
    try {
      expect(r.header.metadata).toEqual({ format: 'pt', note: 'x' });
      expect(r.header.dataStart % 8).toBe(0);
      for (const t of tensors) {
        expect(r.tensor(t.spec.name).shape).toEqual(t.spec.shape);
        expect(new Uint8Array(await r.read(t.spec.name))).toEqual(t.data);
      }
      expect(new Uint8Array(await r.read('bf16', 10, 6))).toEqual(tensors[0]!.data.subarray(10, 16));
      await expect(r.read('bf16', 40, 4)).rejects.toMatchObject({ code: 'E_RANGE' });
      await expect(r.read('nope')).rejects.toMatchObject({ code: 'E_TENSOR_MISSING' });
    } finally {
      await r.close();
    }
  });

  it('streams chunks that reassemble the tensor', async () => {
    const dir = await tmpDir();
    const path = join(dir, 'c.safetensors');
    const data = bytes(1000, 5);
    await writeSafetensors(path, [{ spec: { name: 'w', dtype: 'U8', shape: [1000] }, data }]);
    const r = await SafetensorsReader.open(path);
    const parts: Uint8Array[] = [];
    for await (const c of r.chunks('w', 64)) {
      expect(c.data.length).toBeLessThanOrEqual(64);
      parts.push(c.data);
    }
    await r.close();
    expect(Buffer.concat(parts)).toEqual(Buffer.from(data));
  });

  it('accepts positioned writes in any order and renames only when complete', async () => {
    const dir = await tmpDir();
    const path = join(dir, 'p.safetensors');
    const w = await SafetensorsWriter.create(path, [{ name: 'a', dtype: 'F32', shape: [4] }, { name: 'b', dtype: 'U8', shape: [3] }]);
    await w.write('a', bytes(8, 1), 8);
    expect(await readdir(dir)).toEqual(['p.safetensors.incomplete']);
    await w.write('b', bytes(3, 2));
    await w.write('a', bytes(8, 3), 0);
    await expect(w.write('b', bytes(2, 2), 2)).rejects.toMatchObject({ code: 'E_RANGE' });
    await w.finish();
    expect(await readdir(dir)).toEqual(['p.safetensors']);
    const r = await SafetensorsReader.open(path);
    expect(new Uint8Array(await r.read('a'))).toEqual(Uint8Array.from([...bytes(8, 3), ...bytes(8, 1)]));
    await r.close();
  });

  it('copies one input range into consecutive tensors with a single copy run, and refuses a run with a gap', async () => {
    const dir = await tmpDir();
    const src = bytes(4000, 9);
    const srcPath = join(dir, 'src.bin');
    await writeFile(srcPath, src);
    const path = join(dir, 'run.safetensors');
    const w = await SafetensorsWriter.create(path, [
      { name: 'a', dtype: 'U8', shape: [1000] },
      { name: 'b', dtype: 'U8', shape: [1500] },
      { name: 'c', dtype: 'U8', shape: [500] },
    ]);
    const fdIn = await open(srcPath, 'r');
    try {
      // b's tail and all of c come from one input range; a from two pieces of another
      await w.copyRunFrom([{ name: 'b', byteOffset: 700, length: 800 }, { name: 'c', byteOffset: 0, length: 500 }], fdIn, 2000);
      await w.copyRunFrom([{ name: 'a', byteOffset: 0, length: 1000 }, { name: 'b', byteOffset: 0, length: 700 }], fdIn, 10);
      await expect(w.copyRunFrom([{ name: 'a', byteOffset: 0, length: 10 }, { name: 'c', byteOffset: 0, length: 10 }], fdIn, 0)).rejects.toMatchObject({ code: 'E_RANGE' });
      await w.finish();
    } finally {
      await fdIn.close();
    }
    const r = await SafetensorsReader.open(path);
    try {
      expect(new Uint8Array(await r.read('a'))).toEqual(src.subarray(10, 1010));
      expect(new Uint8Array(await r.read('b'))).toEqual(Uint8Array.from([...src.subarray(1010, 1710), ...src.subarray(2000, 2800)]));
      expect(new Uint8Array(await r.read('c'))).toEqual(src.subarray(2800, 3300));
    } finally {
      await r.close();
    }
  });

  it('refuses to finish a file with unwritten tensors and leaves nothing behind', async () => {
    const dir = await tmpDir();
    const w = await SafetensorsWriter.create(join(dir, 'x.safetensors'), [{ name: 'a', dtype: 'F32', shape: [4] }]);
    await w.write('a', bytes(8, 1));
    await expect(w.finish()).rejects.toMatchObject({ code: 'E_WRITE_INCOMPLETE' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('never reads more than the read cap at once', async () => {
    const dir = await tmpDir();
    const path = join(dir, 'big.safetensors');
    // sparse file: header says 300 MiB of U8; the data is holes (zeros), costing no disk
    const w = await SafetensorsWriter.create(path, [{ name: 'big', dtype: 'U8', shape: [300 * 1024 * 1024] }]);
    await w.fd.close();
    const { rename } = await import('node:fs/promises');
    await rename(w.tmpPath, path);
    expect((await stat(path)).size).toBeGreaterThan(MAX_READ_BYTES);
    const r = await SafetensorsReader.open(path);
    await expect(r.read('big')).rejects.toMatchObject({ code: 'E_READ_TOO_LARGE' });
    expect((await r.read('big', 299 * 1024 * 1024, 16)).length).toBe(16);
    await r.close();
  });
});
