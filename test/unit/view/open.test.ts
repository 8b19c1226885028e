/**
 * The tensor view of a rank layout answers every canonical tensor with the source checkpoint's bytes:
 * whole tensors and arbitrary byte ranges (not aligned to rows) of them, for TP-split, EP-split and
 * stacked/fused-expert layouts; an HF checkpoint is read as stored.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Checkpoint } from '../../../src/core/checkpoint/checkpoint.js';
import { openTensorView } from '../../../src/core/view/open.js';
import { m1kit } from '../../helpers/cli.js';
import { tmpDir } from '../../helpers/tmp.js';

const TINY = 'fixtures/tiny';

/** Deterministic pseudo-random integers (xorshift32), so a failure reproduces. */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}

describe('openTensorView', () => {
  it('a layout gives every canonical tensor, whole and in unaligned byte ranges, as the source holds it', async () => {
    const root = await tmpDir();
    const src = await Checkpoint.open(TINY);
    try {
      for (const [name, args] of [['tp2', ['--tp', '2']], ['ep2', ['--ep', '2']], ['fused', ['--tp', '2', '--ep', '2', '--experts', 'fused-w13']]] as const) {
        const dir = join(root, name);
        const r = await m1kit(['convert', TINY, dir, ...args, '-q']);
        expect(r.code, r.stderr).toBe(0);
        const v = await openTensorView(dir);
        try {
          expect(v.kind).toBe('layout');
          expect(v.layout?.world).toBe(2);
          const rand = rng(name.length * 7919);
          for (const [t, { info }] of src.tensors) {
            expect(v.has(t), `${name}: ${t}`).toBe(true);
            expect(v.info(t)).toEqual({ dtype: info.dtype, shape: info.shape });
            const bytes = info.end - info.begin;
            expect(Buffer.from(await v.read(t)).equals(await src.read(t)), `${name}: ${t}`).toBe(true);
            for (let i = 0; i < 3; i++) {
              const off = rand(bytes);
              const len = 1 + rand(bytes - off);
              expect(Buffer.from(await v.read(t, off, len)).equals(await src.read(t, off, len)), `${name}: ${t} [${off}, +${len})`).toBe(true);
            }
          }
          expect(v.has('model.layers.0.block_sparse_moe.experts.w13.weight')).toBe(false);
          const first = [...src.tensors.keys()][0]!;
          await expect(v.read(first, 0, (src.tensors.get(first)!.info.end - src.tensors.get(first)!.info.begin) + 1)).rejects.toThrow(/outside tensor/);
        } finally {
          await v.close();
        }
      }
    } finally {
      await src.close();
    }
  }, 120_000);

  it('an HF checkpoint is read as stored', async () => {
    const v = await openTensorView(TINY);
    const ck = await Checkpoint.open(TINY);
    try {
      expect(v.kind).toBe('hf');
      expect(v.layout).toBeUndefined();
      for (const t of ck.tensors.keys()) expect(Buffer.from(await v.read(t, 2, 6)).equals(await ck.read(t, 2, 6))).toBe(true);
    } finally {
      await v.close();
      await ck.close();
    }
  });
});
