/**
 * Interleaved sha256: the native lanes (SHA extensions) and the TypeScript reference compress exactly like
 * FIPS 180-4, and LaneSha256 gives node's digests whatever the chunking, the interleaving of streams and
 * the reuse of released buffers.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compressLanes, sha256LanesAvailable, SHA256_IV } from '../../src/core/ops/sha256.js';
import { compressRef } from '../../src/core/ops/sha256.ref.js';
import { LaneSha256 } from '../../src/core/ops/lane-sha256.js';
import { createContentHasher } from '../../src/core/hub/hashing.js';
import { mulberry32 } from '../../src/core/generation/sampling.js';

const randomBytes = (n: number, seed: number) => {
  const r = mulberry32(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
};
/** node's sha256 of `data` as the state after its whole blocks (padding appended by hand). */
const nodeHex = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('compressLanes', () => {
  it('the reference reproduces the FIPS 180-4 example ("abc", one padded block)', () => {
    const block = new Uint8Array(64);
    block.set([0x61, 0x62, 0x63, 0x80]);
    block[63] = 24;
    const s = Uint32Array.from(SHA256_IV);
    compressRef(s, block);
    expect(Array.from(s, (w) => w.toString(16).padStart(8, '0')).join('')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it.skipIf(!sha256LanesAvailable())('native lanes equal the reference for 1–9 lanes of unequal lengths (0–40 blocks)', () => {
    for (let lanes = 1; lanes <= 9; lanes++) {
      const data = Array.from({ length: lanes }, (_, l) => randomBytes(64 * ((l * 7 + lanes) % 41), lanes * 100 + l));
      const nat = data.map((_, l) => Uint32Array.from(SHA256_IV, (w) => (w + l) >>> 0));
      const ref = nat.map((s) => s.slice());
      compressLanes(nat, data, { backend: 'native' });
      data.forEach((d, l) => compressRef(ref[l]!, d));
      expect(nat.map((s) => Array.from(s))).toEqual(ref.map((s) => Array.from(s)));
    }
  });

  it('refuses partial blocks and mismatched lane counts before hashing anything', () => {
    const s = Uint32Array.from(SHA256_IV);
    expect(() => compressLanes([s], [new Uint8Array(65)])).toThrow(expect.objectContaining({ code: 'E_SHA_LANES' }));
    expect(() => compressLanes([s], [])).toThrow(expect.objectContaining({ code: 'E_SHA_LANES' }));
    expect(Array.from(s)).toEqual(SHA256_IV);
  });
});

describe('LaneSha256', () => {
  it('gives node digests for every length around the padding boundaries and for odd chunkings', () => {
    const data = randomBytes(5000, 3);
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 5000]) {
      const h = new LaneSha256();
      const r = mulberry32(n);
      for (let off = 0; off < n; ) {
        const k = Math.min(n - off, 1 + Math.floor(r() * 150));
        h.update(data.subarray(off, off + k));
        off += k;
      }
      expect(h.digest('hex')).toBe(nodeHex(data.subarray(0, n)));
    }
  });

  it('interleaved streams with queued batches and recycled buffers hash exactly their own bytes', () => {
    const files = Array.from({ length: 5 }, (_, i) => randomBytes(40_000 + i * 3333, 50 + i));
    const hashers = files.map(() => new LaneSha256());
    // each stream owns two 4 KiB batch buffers, refilled only after `release` (as BatchWriter does)
    const bufs = files.map(() => [new Uint8Array(4096), new Uint8Array(4096)]);
    const at = files.map(() => 0);
    const turn = files.map(() => 0);
    const r = mulberry32(9);
    while (at.some((a, i) => a < files[i]!.length)) {
      const i = Math.floor(r() * files.length);
      if (at[i]! >= files[i]!.length) continue;
      const buf = bufs[i]![turn[i]! % 2]!;
      hashers[i]!.release(buf.buffer); // before the refill, as the writer would
      const n = Math.min(buf.length - (r() < 0.2 ? 1 + Math.floor(r() * 100) : 0), files[i]!.length - at[i]!);
      buf.set(files[i]!.subarray(at[i]!, at[i]! + n));
      hashers[i]!.enqueue(buf.subarray(0, n));
      at[i]! += n;
      turn[i]!++;
    }
    hashers.forEach((h, i) => expect(h.digest('hex')).toBe(nodeHex(files[i]!)));
  });

  it('a discarded stream is dropped from the queue and refuses more input', () => {
    const a = new LaneSha256();
    const b = new LaneSha256();
    a.enqueue(new Uint8Array(128));
    b.enqueue(new Uint8Array(128).fill(1));
    a.discard();
    expect(b.digest('hex')).toBe(nodeHex(new Uint8Array(128).fill(1)));
    expect(() => a.enqueue(new Uint8Array(1))).toThrow(/digest/);
  });

  it('createContentHasher picks lanes or node and both agree', () => {
    const data = randomBytes(10_000, 77);
    const lane = createContentHasher('sha256', data.length, true);
    const node = createContentHasher('sha256', data.length, false);
    expect(lane).toBeInstanceOf(LaneSha256);
    expect(node).not.toBeInstanceOf(LaneSha256);
    lane.update(data);
    node.update(data);
    expect(lane.digest('hex')).toBe(node.digest('hex'));
  });
});
