import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { jsonDoc, m1kit } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { SafetensorsReader } from '../../src/core/safetensors/reader.js';
import { Checkpoint } from '../../src/core/checkpoint/checkpoint.js';
import { forward } from '../../src/core/model/forward.js';

const TINY = 'fixtures/tiny';

async function readLogits(path: string): Promise<{ shape: number[]; data: Float32Array }> {
  const r = await SafetensorsReader.open(path);
  try {
    const info = r.tensor('logits');
    const buf = await r.read('logits');
    const data = new Float32Array(buf.length / 4);
    new Uint8Array(data.buffer).set(buf);
    return { shape: info.shape, data };
  } finally {
    await r.close();
  }
}

describe('m1kit forward (built CLI)', () => {
  it('writes F32 logits [n, vocab] equal to the library call, with the documented --json result', async () => {
    const dir = await tmpDir();
    const out = join(dir, 'logits.safetensors');
    const r = await m1kit(['forward', TINY, '--tokens', '5,17,300,2,9', '--out', out, '--json']);
    expect(r.code).toBe(0);
    const doc = jsonDoc(r.stdout);
    expect(doc.command).toBe('forward');
    expect(doc.result).toMatchObject({ out, tokens: 5, vocab: 512, mode: 'prefill', precision: 'fp32', lmHead: 'fp32', logitScale: 1 });
    expect(doc.result.tokensPerSecond).toBeGreaterThan(0);
    const { shape, data } = await readLogits(out);
    expect(shape).toEqual([5, 512]);
    const ckpt = await Checkpoint.open(TINY);
    const lib = await forward({ checkpoint: ckpt, tokens: [5, 17, 300, 2, 9] });
    await ckpt.close();
    expect(Array.from(data)).toEqual(Array.from(lib));
  });

  it('decode mode from a {"input_ids"} file matches prefill to the fp32 path budget', async () => {
    const dir = await tmpDir();
    const ids = join(dir, 'ids.json');
    await writeFile(ids, JSON.stringify({ input_ids: [1, 2, 3, 4, 5, 6, 7] }));
    const a = await m1kit(['forward', TINY, '--tokens', ids, '--out', join(dir, 'p.safetensors'), '--quiet']);
    const b = await m1kit(['forward', TINY, '--tokens', ids, '--mode', 'decode', '--out', join(dir, 'd.safetensors'), '--quiet']);
    expect([a.code, b.code]).toEqual([0, 0]);
    const p = (await readLogits(join(dir, 'p.safetensors'))).data;
    const d = (await readLogits(join(dir, 'd.safetensors'))).data;
    let max = 0;
    for (let i = 0; i < p.length; i++) max = Math.max(max, Math.abs(p[i]! - d[i]!));
    expect(max).toBeGreaterThan(0); // different summation order, so not bit-identical…
    expect(max).toBeLessThan(1e-5); // …but fp32-close (logits are O(1) on this fixture)
  });

  it('exit codes: bad tokens → 3, bad option value → 2, missing checkpoint → 3', async () => {
    const dir = await tmpDir();
    const out = join(dir, 'x.safetensors');
    const big = await m1kit(['forward', TINY, '--tokens', '1,512', '--out', out, '--json']);
    expect(big.code).toBe(3);
    expect(jsonDoc(big.stdout).error.code).toBe('E_TOKEN');
    expect((await m1kit(['forward', TINY, '--tokens', 'nope.json', '--out', out])).code).toBe(3);
    expect((await m1kit(['forward', TINY, '--tokens', '1', '--out', out, '--precision', 'fp8'])).code).toBe(2);
    expect((await m1kit(['forward', join(dir, 'none'), '--tokens', '1', '--out', out])).code).toBe(3);
  });
});
