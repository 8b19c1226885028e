import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { describe, expect, it } from 'vitest';
import { encodeGgufHeader } from '../../../src/core/gguf/header.js';
import { GgufWriter } from '../../../src/core/gguf/writer.js';
import type { GgufKv } from '../../../src/core/gguf/format.js';
import { tmpDir } from '../../helpers/tmp.js';

const KVS: GgufKv[] = [
  { key: 'general.architecture', type: 'STRING', value: 'minimax-01' },
  { key: 't.u8', type: 'UINT8', value: 255 },
  { key: 't.i8', type: 'INT8', value: -128 },
  { key: 't.u16', type: 'UINT16', value: 65535 },
  { key: 't.i16', type: 'INT16', value: -32768 },
  { key: 't.u32', type: 'UINT32', value: 4294967295 },
  { key: 't.i32', type: 'INT32', value: -2147483648 },
  { key: 't.f32', type: 'FLOAT32', value: 3.5565588200778455 },
  { key: 't.bool', type: 'BOOL', value: true },
  { key: 't.u64', type: 'UINT64', value: 2n ** 63n + 5n },
  { key: 't.i64', type: 'INT64', value: -(2n ** 62n) },
  { key: 't.f64', type: 'FLOAT64', value: 1e-300 },
  { key: 't.utf8', type: 'STRING', value: 'ĠΩ✓' },
  { key: 't.bools', type: 'ARRAY', itemType: 'BOOL', values: [true, false, true] },
  { key: 't.strs', type: 'ARRAY', itemType: 'STRING', values: ['a', '', 'Ċ'] },
  { key: 't.i32s', type: 'ARRAY', itemType: 'INT32', values: [1, -2, 3] },
  { key: 't.empty', type: 'ARRAY', itemType: 'STRING', values: [] },
];

describe('GGUF header encoding', () => {
  it('starts with magic, version 3 and 64-bit counts (hand-derived bytes)', () => {
    const h = encodeGgufHeader([{ key: 'a', type: 'UINT8', value: 7 }], []);
    // "GGUF" · u32 3 · u64 0 tensors · u64 1 kv · u64 1 "a" · u32 0 (UINT8) · u8 7, then zero padding to 32
    const expected = [0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0, ...[0, 0, 0, 0, 0, 0, 0, 0], ...[1, 0, 0, 0, 0, 0, 0, 0], ...[1, 0, 0, 0, 0, 0, 0, 0], 0x61, 0, 0, 0, 0, 7];
    expect([...h.bytes.subarray(0, expected.length)]).toEqual(expected);
    expect(h.bytes.length).toBe(64);
    expect([...h.bytes.subarray(expected.length)].every((b) => b === 0)).toBe(true);
  });
  it('aligns the data section and every tensor to 32 bytes', () => {
    const h = encodeGgufHeader(KVS, [
      { name: 'a', ne: [3], type: 'F32' },
      { name: 'b', ne: [5, 3], type: 'F16' },
      { name: 'c', ne: [64, 2, 3], type: 'Q8_0' },
      { name: 'd', ne: [32], type: 'Q4_0' },
    ]);
    expect(h.dataStart % 32).toBe(0);
    expect(h.tensors.map((t) => [t.offset, t.bytes])).toEqual([[0, 12], [32, 30], [64, 2 * 34 * 6], [480, 18]]);
    expect(h.fileSize).toBe(h.dataStart + 512);
  });
  it('refuses values that do not fit their type, duplicate keys and partial blocks', () => {
    expect(() => encodeGgufHeader([{ key: 'x', type: 'UINT8', value: 256 }], [])).toThrow(/does not fit/);
    expect(() => encodeGgufHeader([{ key: 'x', type: 'UINT32', value: -1 }], [])).toThrow(/does not fit/);
    expect(() => encodeGgufHeader([{ key: 'x', type: 'BOOL', value: 1 }], [])).toThrow(/does not fit/);
    expect(() => encodeGgufHeader([{ key: 'x', type: 'UINT64', value: -1 }], [])).toThrow(/does not fit/);
    expect(() => encodeGgufHeader([{ key: 'x', type: 'INT64', value: 2n ** 63n }], [])).toThrow(/does not fit/);
    expect(() => encodeGgufHeader([{ key: 'x', type: 'STRING', value: 'a' }, { key: 'x', type: 'STRING', value: 'b' }], [])).toThrow(/twice/);
    expect(() => encodeGgufHeader([], [{ name: 'q', ne: [48, 2], type: 'Q8_0' }])).toThrow(/multiple of the Q8_0 block size/);
  });
});

describe('GgufWriter', () => {
  it('writes a file that an independent parser reads back (metadata, tensor infos, data)', async () => {
    const dir = await tmpDir();
    const path = join(dir, 'm.gguf');
    const a = new Float32Array([1.5, -2, 3.25]);
    const c = new Uint8Array(2 * 34 * 6).map((_, i) => i & 0xff);
    const w = await GgufWriter.create(path, KVS, [
      { name: 'a', ne: [3], type: 'F32' },
      { name: 'c', ne: [64, 2, 3], type: 'Q8_0' },
    ]);
    // out of order and in pieces, as expert stacking does
    await w.write('c', c.subarray(200), 200);
    await w.write('a', new Uint8Array(a.buffer));
    await w.write('c', c.subarray(0, 200), 0);
    await w.finish();
    expect(await readdir(dir)).toEqual(['m.gguf']);

    const parsed = await gguf(path, { allowLocalFile: true });
    const md = parsed.metadata as Record<string, unknown>;
    expect(md.version).toBe(3);
    expect(md.tensor_count).toBe(2n);
    expect(md.kv_count).toBe(BigInt(KVS.length));
    expect(md['general.architecture']).toBe('minimax-01');
    expect([md['t.u8'], md['t.i8'], md['t.u16'], md['t.i16'], md['t.u32'], md['t.i32']]).toEqual([255, -128, 65535, -32768, 4294967295, -2147483648]);
    expect(md['t.f32']).toBe(Math.fround(3.5565588200778455));
    expect(md['t.bool']).toBe(true);
    expect(md['t.u64']).toBe(2n ** 63n + 5n);
    expect(md['t.i64']).toBe(-(2n ** 62n));
    expect(md['t.f64']).toBe(1e-300);
    expect(md['t.utf8']).toBe('ĠΩ✓');
    expect(md['t.bools']).toEqual([true, false, true]);
    expect(md['t.strs']).toEqual(['a', '', 'Ċ']);
    expect(md['t.i32s']).toEqual([1, -2, 3]);
    expect(md['t.empty']).toEqual([]);
    expect(parsed.tensorInfos.map((t) => ({ name: t.name, shape: t.shape, dtype: t.dtype, offset: t.offset }))).toEqual([
      { name: 'a', shape: [3n], dtype: 0, offset: 0n },
      { name: 'c', shape: [64n, 2n, 3n], dtype: 8, offset: 32n },
    ]);
    const start = Number(parsed.tensorDataOffset);
    expect(start % 32).toBe(0);
    const bytes = await readFile(path);
    expect(new Float32Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + 12))).toEqual(a);
    expect(bytes.subarray(start + 32, start + 32 + c.length).equals(Buffer.from(c))).toBe(true);
    expect(bytes.length).toBe(start + 32 + 416); // 408 bytes of c padded to 416
  });
  it('leaves no final file when a tensor is incomplete, and rejects writes outside a tensor', async () => {
    const dir = await tmpDir();
    const path = join(dir, 'm.gguf');
    const w = await GgufWriter.create(path, [], [{ name: 'a', ne: [4], type: 'F32' }]);
    await expect(w.write('a', new Uint8Array(20))).rejects.toThrow(/outside tensor "a"/);
    await expect(w.write('zz', new Uint8Array(4))).rejects.toThrow(/no tensor "zz"/);
    await w.write('a', new Uint8Array(8));
    await expect(w.finish()).rejects.toThrow(/received 8 of 16 bytes/);
    expect(await readdir(dir)).toEqual([]);
  });
  it('reports an output path that cannot be created as bad input', async () => {
    await expect(GgufWriter.create('/nonexistent-dir/m.gguf', [], [])).rejects.toMatchObject({ code: 'E_OUTPUT', exitCode: 3 });
  });
  it('writes <path>.incomplete until finish and removes it on abort', async () => {
    const dir = await tmpDir();
    const path = join(dir, 'm.gguf');
    const w = await GgufWriter.create(path, [], [{ name: 'a', ne: [4], type: 'F32' }]);
    expect((await stat(path + '.incomplete')).isFile()).toBe(true);
    await w.abort();
    expect(await readdir(dir)).toEqual([]);
  });
});
