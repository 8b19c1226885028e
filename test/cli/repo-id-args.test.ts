/**
 * Every command that takes a checkpoint accepts a repo id and finds its snapshot in the Hugging Face
 * cache, as transformers and vLLM do: refs/<revision> → snapshots/<commit>, `--revision` or `org/name@rev`,
 * `--cache-dir` / HF_HUB_CACHE / HF_HOME. A local directory of that name wins; a repo id that is not in
 * the cache is a one-line error saying how to download it.
 */
import { cp, mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveCheckpoint } from '../../src/core/hub/resolve-checkpoint.js';
import { jsonDoc, m1kit } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { start, type HubServer } from '../helpers/hub/repo.js';

/** The committed tiny fixture, as repo files (safetensors through LFS, like the real release). */
async function filesOf(dir: string): Promise<{ path: string; content: Buffer; lfs?: boolean }[]> {
  const names = (await readdir(dir)).sort();
  return Promise.all(names.map(async (n) => ({ path: n, content: await readFile(join(dir, n)), lfs: n.endsWith('.safetensors') })));
}

let server: HubServer;
let home: string;
let env: Record<string, string>;
let commit: string;

beforeAll(async () => {
  server = await start();
  commit = server.addCommit('org/tiny', await filesOf('fixtures/tiny'));
  home = await mkdtemp(join(tmpdir(), 'm1kit-repoid-')); // shared by the tests of this file (tmpDir is per test)
  env = { HF_HOME: home, HF_HUB_CACHE: join(home, 'hub'), HF_ENDPOINT: server.url, HF_TOKEN: '', HF_HUB_OFFLINE: '' };
  const r = await m1kit(['download', 'org/tiny', '--quiet'], { env });
  expect(r.code, r.stderr).toBe(0);
});
afterAll(async () => {
  await server.close();
  await rm(home, { recursive: true, force: true });
});

describe('resolveCheckpoint', () => {
  it('finds refs/main, a commit, an @revision suffix; refuses a mismatch and an id not in the cache', async () => {
    const cacheDir = env.HF_HUB_CACHE!;
    const snap = join(cacheDir, 'models--org--tiny', 'snapshots', commit);
    expect(await resolveCheckpoint('org/tiny', { cacheDir })).toEqual({ input: 'org/tiny', path: snap, repo: 'org/tiny', revision: 'main', commit });
    expect((await resolveCheckpoint('org/tiny', { cacheDir, revision: commit })).path).toBe(snap);
    expect((await resolveCheckpoint(`org/tiny@${commit}`, { cacheDir })).path).toBe(snap);
    expect((await resolveCheckpoint('org/tiny@main', { cacheDir })).path).toBe(snap);
    await expect(resolveCheckpoint('org/tiny@main', { cacheDir, revision: 'v2' })).rejects.toMatchObject({ exitCode: 2 });
    await expect(resolveCheckpoint('org/tiny', { cacheDir, revision: 'v2' })).rejects.toMatchObject({ code: 'E_NOT_CACHED', exitCode: 3, message: expect.stringContaining('no refs/v2') });
    await expect(resolveCheckpoint('org/none', { cacheDir })).rejects.toMatchObject({ code: 'E_NOT_CACHED', exitCode: 3, hint: expect.stringContaining('m1kit download org/none') });
    await expect(resolveCheckpoint('org/tiny', { cacheDir, revision: '../../x' })).rejects.toMatchObject({ code: 'E_BAD_REVISION' });
    // not a repo id, not a path: left for the command to report
    expect((await resolveCheckpoint('./nowhere', { cacheDir })).path).toBe('./nowhere');
    expect((await resolveCheckpoint('fixtures/tiny', { cacheDir })).path).toBe('fixtures/tiny');
  });
});

describe('commands take a repo id (built CLI)', () => {
  it('inspect, convert (safetensors and gguf), quantize, forward and verify --against read the cached snapshot', async () => {
    const out = await tmpDir();
    const ins = await m1kit(['inspect', 'org/tiny', '--json'], { env });
    expect(ins.code, ins.stderr).toBe(0);
    expect(jsonDoc(ins.stdout).result.complete).toBe(true);
    const local = await m1kit(['inspect', 'fixtures/tiny', '--json'], { env });
    expect(jsonDoc(ins.stdout).result.tensors).toBe(jsonDoc(local.stdout).result.tensors);

    const byCommit = await m1kit(['inspect', 'org/tiny', '--revision', commit, '--json'], { env });
    expect(byCommit.code, byCommit.stderr).toBe(0);
    const conv = await m1kit(['convert', 'org/tiny', join(out, 'conv'), '--json'], { env });
    expect(conv.code, conv.stderr).toBe(0);
    const gguf = await m1kit(['convert', 'org/tiny', join(out, 'tiny.gguf'), '--to', 'gguf', '--dtype', 'f32', '--json'], { env });
    expect(gguf.code, gguf.stderr).toBe(0);
    const q = await m1kit(['quantize', 'org/tiny', join(out, 'q'), '--scheme', 'fp8-block', '--json'], { env });
    expect(q.code, q.stderr).toBe(0);
    const fwd = await m1kit(['forward', 'org/tiny', '--tokens', '1,2,3', '--out', join(out, 'l.safetensors'), '--json'], { env });
    expect(fwd.code, fwd.stderr).toBe(0);
    const ver = await m1kit(['verify', join(out, 'q'), '--against', `org/tiny@${commit.slice(0, 40)}`, '--sequences', '1', '--seq-len', '4', '--json'], { env });
    expect(ver.code, ver.stderr).toBe(0);
  });

  it('dequantize and verify take a repo id for the checkpoint itself', async () => {
    const out = await tmpDir();
    expect((await m1kit(['quantize', 'fixtures/tiny', join(out, 'q'), '--scheme', 'fp8-block', '--quiet'], { env })).code).toBe(0);
    server.addCommit('org/tiny-fp8', await filesOf(join(out, 'q')));
    expect((await m1kit(['download', 'org/tiny-fp8', '--quiet'], { env })).code).toBe(0);
    const dq = await m1kit(['dequantize', 'org/tiny-fp8', join(out, 'dq'), '--json'], { env });
    expect(dq.code, dq.stderr).toBe(0);
    const ver = await m1kit(['verify', 'org/tiny-fp8', '--against', 'org/tiny', '--sequences', '1', '--seq-len', '4', '--json'], { env });
    expect(ver.code, ver.stderr).toBe(0);
  });

  it('a repo id not in the cache is one line naming m1kit download (exit 3); a local directory of that name wins', async () => {
    for (const args of [['inspect', 'org/none'], ['convert', 'org/none', '/tmp/never-written'], ['forward', 'org/none', '--tokens', '1', '--out', '/tmp/never.safetensors'], ['verify', 'fixtures/tiny', '--against', 'org/none']]) {
      const r = await m1kit(args, { env });
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.stderr, args.join(' ')).toMatch(/org\/none: no such local directory, and not in the Hugging Face cache/);
      expect(r.stderr).toContain('m1kit download org/none');
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
    const cwd = await tmpDir();
    await mkdir(join(cwd, 'org'), { recursive: true });
    await cp('fixtures/tiny', join(cwd, 'org', 'tiny'), { recursive: true });
    const r = await m1kit(['inspect', 'org/tiny', '--json'], { env, cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(jsonDoc(r.stdout).result.dir).toBe('org/tiny');
  });

  it('--cache-dir points at another cache', async () => {
    const r = await m1kit(['inspect', 'org/tiny', '--cache-dir', env.HF_HUB_CACHE!, '--json'], { env: { ...env, HF_HUB_CACHE: '/nonexistent', HF_HOME: '/nonexistent' } });
    expect(r.code, r.stderr).toBe(0);
  });
});
