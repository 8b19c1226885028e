import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonDoc, m1kit, REPO } from '../helpers/cli.js';
import { realIndex, writeRealShapedCheckpoint } from '../helpers/real-shaped.js';
import { tmpDir } from '../helpers/tmp.js';

const TINY = join(REPO, 'fixtures/tiny');
const MALFORMED = join(REPO, 'fixtures/malformed');

describe('m1kit inspect', () => {
  it('prints one documented JSON document for the committed tiny fixture', async () => {
    const r = await m1kit(['inspect', TINY, '--json']);
    expect(r.code).toBe(0);
    const doc = jsonDoc(r.stdout);
    expect(doc).toMatchObject({ schemaVersion: 1, command: 'inspect' });
    const res = doc.result;
    const cfg = JSON.parse(readFileSync(join(TINY, 'config.json'), 'utf8'));
    expect(res.complete).toBe(true);
    expect(res.problems).toEqual([]);
    expect(res.layers.softmax).toEqual(cfg.attn_type_list.flatMap((t: number, i: number) => (t === 1 ? [i] : [])));
    expect(res.params.total).toBe(res.params.actual);
    expect(res.dataBytes).toBe(res.indexTotalSize);
    expect(Object.keys(res.bytesByDtype).sort()).toEqual(['BF16', 'F32']);
    expect(res.bytesByDtype.F32).toBe(cfg.num_hidden_layers * cfg.num_local_experts * cfg.hidden_size * 4);
    expect(res.memoryPlan.formats.map((f: { format: string }) => f.format)).toEqual(['bf16', 'fp8-block', 'int8-channel', 'w4a16', 'nvfp4', 'mxfp4', 'mxfp8']);
    expect(r.stderr).toBe('');
  });

  it('refuses every malformed fixture with its documented code and exit 3', async () => {
    const cases = JSON.parse(readFileSync(join(MALFORMED, 'cases.json'), 'utf8')) as Record<string, { code: string; exitCode: number }>;
    expect(Object.keys(cases).length).toBeGreaterThanOrEqual(12);
    for (const [name, want] of Object.entries(cases)) {
      const r = await m1kit(['inspect', join(MALFORMED, name), '--json', '--strict']);
      expect(r.code, name).toBe(want.exitCode);
      const doc = jsonDoc(r.stdout);
      expect(doc.error.code, name).toBe(want.code);
      // one line naming the file, no stack trace without --verbose
      const msg = r.stderr.trim().split('\n');
      expect(msg.length, `${name}: ${r.stderr}`).toBeLessThanOrEqual(2);
      expect(r.stderr, name).toContain(name);
      expect(r.stderr, name).not.toMatch(/\n\s+at /);
    }
  });

  it('reads only headers of a 912 GB real-shaped checkpoint and reproduces the spec numbers', async () => {
    const dir = await tmpDir();
    await writeRealShapedCheckpoint(dir);
    const r = await m1kit(['inspect', dir, '--json', '--tp', '8', '--ctx', String(2 ** 20)]);
    expect(r.code, r.stderr).toBe(0);
    const res = jsonDoc(r.stdout).result;
    expect(res.complete).toBe(true);
    expect(res.shards.count).toBe(413);
    expect(res.params.total).toBe(456_089_655_296);
    expect(res.params.activated).toBe(45_927_628_800);
    expect(res.dataBytes).toBe(realIndex().metadata.total_size);
    expect(res.bytesByDtype.F32).toBe(80 * 32 * 6144 * 4);
    const mp = res.memoryPlan;
    expect(mp.kvCacheBytesPerToken).toBe(10 * 2 * 8 * 128 * 2); // 40,960 (docs/architecture.md §5.6)
    expect(mp.kvCacheBytesTotal).toBe(40_960 * 2 ** 20); // 40 GiB
    expect(mp.lightningStateBytesTotal).toBe(70 * 64 * 128 * 128 * 4); // 280 MiB
    expect(mp.formats[0].weightBytesTotal).toBe(realIndex().metadata.total_size);
  });

  it('reports missing shards as incompleteness (exit 3 with --strict)', async () => {
    const dir = await tmpDir();
    await writeRealShapedCheckpoint(dir, { dropShard: 'model-00321-of-00413.safetensors' });
    const ok = await m1kit(['inspect', dir, '--json']);
    expect(ok.code).toBe(0);
    const res = jsonDoc(ok.stdout).result;
    expect(res.complete).toBe(false);
    expect(res.shards.missing).toEqual(['model-00321-of-00413.safetensors']);
    const names = res.problems.map((p: { tensor: string }) => p.tensor);
    expect(names).toContain('lm_head.weight'); // lm_head and model.norm live in shard 00321
    expect(names).toContain('model.norm.weight');
    const strict = await m1kit(['inspect', dir, '--strict']);
    expect(strict.code).toBe(3);
    await rm(dir, { recursive: true, force: true });
  });

  it('checks one rank of an m1kit TP/EP layout against its rank-local shapes', async () => {
    const dir = await tmpDir();
    const out = join(dir, 'tp2');
    expect((await m1kit(['convert', TINY, out, '--tp', '2', '--ep', '2', '--quiet'])).code).toBe(0);
    const r = await m1kit(['inspect', join(out, 'rank-00001-of-00002'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const res = jsonDoc(r.stdout).result;
    expect(res.rank).toEqual({ rank: 1, world: 2, tp: 2, ep: 2, experts: 'per-expert' });
    expect(res.problems).toEqual([]);
    // the same directory judged as a whole model is incomplete (rank-local shapes, half the experts)
    const layout = join(out, 'm1kit-layout.json');
    await rm(layout);
    const whole = jsonDoc((await m1kit(['inspect', join(out, 'rank-00001-of-00002'), '--json'])).stdout).result;
    expect(whole.rank).toBeNull();
    expect(whole.complete).toBe(false);
    expect(whole.problems.some((p: { kind: string }) => p.kind === 'shape')).toBe(true);
  });

  it('usage errors exit 2; a missing directory exits 3', async () => {
    expect((await m1kit(['inspect'])).code).toBe(2);
    expect((await m1kit(['inspect', TINY, '--tp', 'zero'])).code).toBe(2);
    const r = await m1kit(['inspect', join(REPO, 'no-such-dir'), '--json']);
    expect(r.code).toBe(3);
    expect(jsonDoc(r.stdout).error.code).toBe('E_NOT_FOUND');
  });
});
