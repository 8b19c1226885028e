import { describe, expect, it } from 'vitest';
import { encodeHeader, parseHeader, parseHeaderLength } from '../../../src/core/safetensors/header.js';
import { scanJson } from '../../../src/core/safetensors/json-guard.js';
import { MAX_HEADER_BYTES } from '../../../src/core/limits.js';

const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
const t = (dtype: string, shape: number[], b: number, e: number) => ({ dtype, shape, data_offsets: [b, e] });

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

describe('safetensors header', () => {
  it('parses tensors, metadata and offsets relative to the data region', () => {
    const json = enc({ __metadata__: { format: 'pt' }, b: t('F32', [2], 4, 12), a: t('BF16', [2], 0, 4) });
    const h = parseHeader(json, 8 + json.length + 12, 'x.safetensors');
    expect(h.metadata).toEqual({ format: 'pt' });
    expect(h.tensors.map((x) => x.name)).toEqual(['a', 'b']); // sorted by offset
    expect(h.dataStart).toBe(8 + json.length);
    expect(h.byName.get('b')).toMatchObject({ dtype: 'F32', shape: [2], begin: 4, end: 12 });
  });

  it('accepts empty tensors and scalars', () => {
    const json = enc({ e: t('F16', [0, 5], 0, 0), s: t('I32', [], 0, 4) });
    const h = parseHeader(json, 8 + json.length + 4, 'x');
    expect(h.byName.get('e')!.end - h.byName.get('e')!.begin).toBe(0);
    expect(h.byName.get('s')!.shape).toEqual([]);
  });

  it('knows the byte size of every dtype of the spec list', () => {
    const sizes: Record<string, number> = { BF16: 2, F16: 2, F32: 4, F8_E4M3: 1, F8_E5M2: 1, I8: 1, U8: 1, I32: 4 };
    for (const [d, b] of Object.entries(sizes)) {
      const json = enc({ x: t(d, [3], 0, 3 * b) });
      expect(() => parseHeader(json, 8 + json.length + 3 * b, 'x')).not.toThrow();
      const bad = enc({ x: t(d, [3], 0, 3 * b + 1) });
      expect(code(() => parseHeader(bad, 8 + bad.length + 3 * b + 1, 'x'))).toBe('E_SAFETENSORS_SIZE');
    }
  });

  it('rejects gaps, overlaps, out-of-bounds and trailing bytes', () => {
    const gap = enc({ a: t('U8', [2], 0, 2), b: t('U8', [2], 3, 5) });
    expect(code(() => parseHeader(gap, 8 + gap.length + 5, 'x'))).toBe('E_SAFETENSORS_OFFSETS');
    const overlap = enc({ a: t('U8', [2], 0, 2), b: t('U8', [2], 1, 3) });
    expect(code(() => parseHeader(overlap, 8 + overlap.length + 3, 'x'))).toBe('E_SAFETENSORS_OFFSETS');
    const oob = enc({ a: t('U8', [4], 0, 4) });
    expect(code(() => parseHeader(oob, 8 + oob.length + 2, 'x'))).toBe('E_SAFETENSORS_OFFSETS');
    expect(code(() => parseHeader(oob, 8 + oob.length + 6, 'x'))).toBe('E_SAFETENSORS_OFFSETS');
  });

  it('rejects duplicate names that JSON.parse would silently merge', () => {
    const json = new TextEncoder().encode('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}');
    expect(code(() => parseHeader(json, 8 + json.length + 2, 'x'))).toBe('E_SAFETENSORS_DUPLICATE');
    // a brace or quote inside a string is not structure: 2 top-level keys
    expect(scanJson('{"a":{"b":1,"c":"}\\""},"d":[1,{"e":2}]}', 'x')).toBe(2);
  });

  it('rejects absurd dims and ranks before allocating anything', () => {
    const huge = enc({ a: t('BF16', [2 ** 41], 0, 2) });
    expect(code(() => parseHeader(huge, 8 + huge.length + 2, 'x'))).toBe('E_SAFETENSORS_SHAPE');
    const rank = enc({ a: t('U8', [1, 1, 1, 1, 1, 1, 1, 1, 1], 0, 1) });
    expect(code(() => parseHeader(rank, 8 + rank.length + 1, 'x'))).toBe('E_SAFETENSORS_SHAPE');
    const neg = enc({ a: t('U8', [-1], 0, 0) });
    expect(code(() => parseHeader(neg, 8 + neg.length, 'x'))).toBe('E_SAFETENSORS_SHAPE');
  });

  it('checks the length prefix against the cap and the file size', () => {
    const p = new Uint8Array(8);
    new DataView(p.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES + 1), true);
    expect(code(() => parseHeaderLength(p, 1e12, 'x'))).toBe('E_SAFETENSORS_HEADER');
    new DataView(p.buffer).setBigUint64(0, 100n, true);
    expect(code(() => parseHeaderLength(p, 50, 'x'))).toBe('E_SAFETENSORS_HEADER');
    expect(parseHeaderLength(p, 108, 'x')).toBe(100);
    expect(code(() => parseHeaderLength(p.subarray(0, 4), 4, 'x'))).toBe('E_SAFETENSORS_TRUNCATED');
  });

  it('encodes a header padded to 8 bytes that parses back', () => {
    const { bytes, offsets } = encodeHeader([{ name: 'w', dtype: 'BF16', shape: [3, 5] }, { name: 'r', dtype: 'F32', shape: [7] }], { format: 'pt' });
    expect((bytes.length - 8) % 8).toBe(0);
    expect(offsets.get('r')).toEqual([30, 58]);
    const n = Number(bytes.readBigUInt64LE(0));
    const h = parseHeader(bytes.subarray(8, 8 + n), 8 + n + 58, 'x');
    expect(h.byName.get('w')!.shape).toEqual([3, 5]);
    expect(h.metadata.format).toBe('pt');
  });
});
