/**
 * The package entry point as a user sees it: a plain .mjs script in its own directory imports 'm1kit' by
 * package name (resolved through package.json "exports" to dist/index.js, via node_modules/m1kit) and
 * runs each command's library function — with string paths, onProgress and an AbortSignal — in a child
 * process. Built output is used (npm test runs tsc first).
 */
import { execa } from 'execa';
import { copyFile, mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { REPO_ID, repoFiles, start, type HubServer } from '../helpers/hub/repo.js';

const CONSUMER = fileURLToPath(new URL('./consumer/consumer.mjs', import.meta.url));
const TYPED = fileURLToPath(new URL('./consumer/typed.mts', import.meta.url));
const TYPED_WRONG = fileURLToPath(new URL('./consumer/typed-wrong.mts', import.meta.url));
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');

/** A directory where `m1kit` resolves by package name to this checkout. */
async function appDir(): Promise<string> {
  const app = await tmpDir();
  await mkdir(join(app, 'node_modules'));
  await symlink(REPO, join(app, 'node_modules', 'm1kit'), 'dir');
  await symlink(join(REPO, 'node_modules', '@types'), join(app, 'node_modules', '@types'), 'dir');
  return app;
}

/** tsc --noEmit on one .mts file as a NodeNext consumer; returns exit code and diagnostics. */
async function typecheck(app: string, file: string) {
  await copyFile(file, join(app, 'main.mts'));
  const args = ['--noEmit', '--strict', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--types', 'node', '--skipLibCheck', 'main.mts'];
  const r = await execa('node', [TSC, ...args], { cwd: app, reject: false });
  return { code: r.exitCode, out: String(r.stdout) };
}
let server: HubServer | undefined;
afterEach(() => server?.close());

describe("import 'm1kit' from a plain .mjs consumer", () => {
  it('exports a typed function per command, each runs with string paths, progress and abort', async () => {
    const app = await appDir();
    await copyFile(CONSUMER, join(app, 'consumer.mjs'));
    server = await start();
    server.addCommit(REPO_ID, repoFiles());
    const r = await execa('node', [join(app, 'consumer.mjs'), join(REPO, 'fixtures/tiny')], { cwd: app, reject: false, env: { M1KIT_CONSUMER_HUB: server.url, HF_TOKEN: '', HF_HUB_OFFLINE: '' } });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const out = JSON.parse(String(r.stdout));
    for (const f of ['download', 'verifyDownload', 'inspect', 'inspectCheckpoint', 'convert', 'quantize', 'dequantize', 'forward', 'verify', 'verifyTrainVsInfer', 'verifyCorpus', 'imatrix', 'bench', 'fixture', 'Checkpoint', 'M1kitError']) {
      expect(out.exports, f).toContain(f);
    }
    expect(out.inspect).toBe(1024);
    expect(out.inspectCheckpoint).toBe(98);
    expect(out.fixture).toBe(1);
    expect(out.convert).toBe(2);
    expect(out.gguf).toBe(true);
    expect(out.quantize).toEqual(['attention', 'experts']);
    expect(out.dequantize).toBe('dequantize');
    expect(out.forward).toBe(3 * 512);
    expect(out.verify.pass).toBe(true);
    expect(out.verify.kldMean).toBeGreaterThan(0);
    expect(out.verifyCorpus.chunks).toBe(2);
    expect(out.verifyCorpus.kldMean).toBeGreaterThan(0);
    expect(out.imatrix).toBe(2);
    expect(out.bench).toEqual({ schema: 'm1kit.bench/1', hasRatio: true });
    expect(out.download).toBe(repoFiles().length);
    expect(out.verifyDownload).toBe(true);
    expect(out.abort).toEqual({ isM1kitError: true, code: 'E_INTERRUPTED', exitCode: 130 });
    expect(out.missing).toEqual({ code: 'E_NOT_FOUND', exitCode: 3 });
    // progress reached its total where the work is counted in bytes or passes
    for (const name of ['fixture', 'convert', 'gguf', 'quantize', 'forward', 'verify', 'verifyCorpus', 'imatrix', 'download']) {
      const c = out.calls[name];
      expect(c?.count, name).toBeGreaterThan(0);
      expect(c.last[0], name).toBe(c.last[1]);
    }
  });

  it('the package types describe those functions (a TypeScript consumer compiles, a wrong one does not)', async () => {
    const app = await appDir();
    const ok = await typecheck(app, TYPED);
    expect(ok.out).toBe('');
    expect(ok.code).toBe(0);
    const bad = await typecheck(app, TYPED_WRONG);
    expect(bad.code).not.toBe(0);
    // one diagnostic per broken call: a number for a path, an unknown scheme, an unknown GGUF dtype
    expect(bad.out.match(/main\.mts\(\d+,\d+\): error TS/g)).toHaveLength(3);
  });
});
