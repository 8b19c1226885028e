/**
 * A hostile or broken hub: revisions, repo ids and listed paths that must never become path components,
 * inconsistent listings, and connections that are reset or refused. Every refusal is a typed one-line
 * error with a documented exit code, before any body is fetched and without a byte written outside the
 * cache; every transient socket failure is retried and, when it persists, reported as a network error
 * naming the file.
 */
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downloadRepo, type DownloadEvent, type DownloadParams } from '../../../src/core/hub/download-repo.js';
import { isTransientNetworkError, permanentNetworkError } from '../../../src/core/hub/retry.js';
import { rebuildError } from '../../../src/core/worker/protocol.js';
import { NetworkError, InputError } from '../../../src/core/errors.js';
import { tmpDir } from '../../helpers/tmp.js';
import { REPO_ID, bodyRequests, bytes, repoFiles, start, type HubServer } from '../../helpers/hub/repo.js';

/** Backoff shortened so fault tests stay fast; attempts as in production. */
const FAST_RETRY = { maxAttempts: 6, baseDelayMs: 5, maxDelayMs: 20 };
/** Far above any pause of the loopback server, so no spurious stall retries. */
const NO_STALL_MS = 10_000;

let server: HubServer;
const files = repoFiles();
const SHARD = files[2]!; // 3,000,000 bytes, LFS (served by the CDN after a redirect)

beforeEach(async () => {
  server = await start({ anyRevision: true });
  server.addCommit(REPO_ID, files);
});
afterEach(() => server.close());

/** A cache folder inside a fresh parent, so anything written beside or above the cache is seen. */
async function sandbox(): Promise<{ parent: string; cache: string }> {
  const parent = await tmpDir();
  const cache = join(parent, 'a', 'b', 'c', 'cache');
  await mkdir(cache, { recursive: true });
  return { parent, cache };
}

/** Every path under `dir` (recursive), relative. */
async function tree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

function params(cacheDir: string, extra: Partial<DownloadParams> = {}): DownloadParams {
  return { repo: REPO_ID, destination: { kind: 'cache', cacheDir }, endpoint: server.url, retry: FAST_RETRY, stallTimeoutMs: NO_STALL_MS, ...extra };
}

describe('revisions and repo ids never become unchecked path components', () => {
  const hostileRevisions = [
    '../../../../X', '..', '../x', 'a/../b', 'a/..', '/abs', '/etc/passwd', 'a\\b', '..\\..\\x', 'a\0b', '\0', '.hidden', 'a/.b', 'x.lock', 'a/x.lock',
    'a//b', 'a/', '@{-1}', '@', 'a b', 'a:b', '~1', 'a^', 'a?', 'a*', 'a[b', 'new\nline', 'tab\there', '\u007f', `${'x'.repeat(256)}`, 'a.', '',
  ];
  it.each(hostileRevisions.map((r) => [JSON.stringify(r), r]))('revision %s is refused before any request (E_BAD_REVISION, exit 2)', async (_, rev) => {
    const { parent, cache } = await sandbox();
    await expect(downloadRepo(params(cache, { revision: rev }))).rejects.toMatchObject({ code: 'E_BAD_REVISION', exitCode: 2 });
    expect(server.log).toEqual([]);
    expect(await tree(parent)).toEqual(['a', 'a/b', 'a/b/c', 'a/b/c/cache']);
  });

  it('branch, tag, pull-request ref and commit revisions are accepted; refs stay inside the repo folder', async () => {
    const { parent, cache } = await sandbox();
    const commit = server.addCommit(REPO_ID, files.slice(0, 1));
    for (const rev of ['main', 'v1.0', 'release/2025-06', 'refs/pr/1', commit]) {
      const r = await downloadRepo(params(cache, { revision: rev }));
      expect(r.commit).toBe(commit);
    }
    const repoDir = join(cache, 'models--org--m1');
    expect((await tree(join(repoDir, 'refs'))).filter((p) => !p.endsWith('/'))).toEqual(['main', 'refs', 'refs/pr', 'refs/pr/1', 'release', 'release/2025-06', 'v1.0']);
    expect((await tree(parent)).every((p) => p.startsWith('a/b/c/cache') || ['a', 'a/b', 'a/b/c'].includes(p))).toBe(true);
  });

  const hostileRepoIds = [
    'a/.', 'a/..', '../x', './x', 'a/b/c', '.a/b', 'a/b.', 'a--b/c', 'a/b--c', 'a/b.git', '-a/b', 'a/-b', 'a/', '/b', 'a/b\0', 'a\\b/c',
    `${'a'.repeat(97)}/b`, 'a/b c', 'a/ü', 'a/b\n', 'ab', '', 'a/b/', 'a/../b',
  ];
  it.each(hostileRepoIds.map((r) => [JSON.stringify(r), r]))('repo id %s is refused before any request (E_BAD_REPO_ID, exit 2)', async (_, repo) => {
    const { parent, cache } = await sandbox();
    await expect(downloadRepo(params(cache, { repo }))).rejects.toMatchObject({ code: 'E_BAD_REPO_ID', exitCode: 2 });
    await expect(downloadRepo(params(cache, { repo, offline: true }))).rejects.toMatchObject({ code: 'E_BAD_REPO_ID', exitCode: 2 });
    expect(server.log).toEqual([]);
    expect(await tree(parent)).toEqual(['a', 'a/b', 'a/b/c', 'a/b/c/cache']);
  });

  it('a hub that answers another commit than the one asked for is refused (no refs/<sha> naming another snapshot)', async () => {
    const { cache } = await sandbox();
    const asked = 'f'.repeat(40); // unknown: the any-revision hub answers main's commit
    await expect(downloadRepo(params(cache, { revision: asked }))).rejects.toMatchObject({ code: 'E_BAD_LISTING', exitCode: 6, message: expect.stringContaining(`asked for commit ${asked}`) });
    expect(bodyRequests(server)).toEqual([]);
    await expect(stat(join(cache, 'models--org--m1', 'refs', asked))).rejects.toThrow();
  });

  it('HF_HUB_OFFLINE with a hostile revision reads nothing outside the cache', async () => {
    const { cache } = await sandbox();
    await expect(downloadRepo(params(cache, { revision: '../../../../etc/hostname', offline: true }))).rejects.toMatchObject({ code: 'E_BAD_REVISION' });
  });
});

describe('hostile listings are refused before anything is downloaded', () => {
  const ok = Buffer.from('{}\n');
  const entry = (path: string, content = ok, lfs = false) => server.entry(path, content, lfs);
  const cases: [string, () => ReturnType<typeof entry>[], RegExp][] = [
    ['..', () => [entry('../evil')], /"\.\."/],
    ['.. deeper', () => [entry('a/../../evil')], /"\.\."/],
    ['.. at the end', () => [entry('a/..')], /"\.\."/],
    ['. component', () => [entry('./a')], /"\."/],
    ['absolute', () => [entry('/etc/evil')], /absolute/],
    ['absolute LFS', () => [entry('/tmp/evil.safetensors', bytes(1000), true)], /absolute/],
    ['NUL', () => [entry('a\0b')], /NUL/],
    ['backslash', () => [entry('a\\..\\b')], /backslash/],
    ['control character', () => [entry('a\nb')], /control/],
    ['empty', () => [entry('')], /empty/],
    ['empty component', () => [entry('a//b')], /empty component/],
    ['trailing slash', () => [entry('a/')], /empty component/],
    ['over-long component', () => [entry(`${'x'.repeat(256)}.json`)], /component of 261 bytes/],
    ['over-long multi-byte component', () => [entry(`d/${'é'.repeat(128)}`)], /component of 256 bytes/],
    ['over-long path', () => [entry(Array.from({ length: 17 }, () => 'y'.repeat(250)).join('/'))], /longer than 4095 bytes/],
    ['same path twice, different content', () => [entry('config.json'), entry('config.json', Buffer.from('{"x":1}\n'))], /listed twice with different content/],
    ['same path twice, different content (LFS)', () => [entry('m.safetensors', bytes(100, 1), true), entry('m.safetensors', bytes(100, 2), true)], /listed twice/],
    ['file and folder clash', () => [entry('a'), entry('a/b')], /"a" is listed as a file and is also the folder of "a\/b"/],
    ['file and folder clash, folder first', () => [entry('a/b/c'), entry('a/b')], /"a\/b" is listed as a file/],
    ['deep clash', () => [entry('x/y'), entry('x/y/z/w')], /"x\/y" is listed as a file/],
    ['bad LFS oid', () => [{ ...entry('m.safetensors', bytes(10), true), lfs: { oid: '../../x', size: 10, pointerSize: 134 } }], /LFS oid/],
    ['bad git oid', () => [{ ...entry('c.json'), oid: '../../../../tmp/x' }], /git oid/],
    ['negative size', () => [{ ...entry('c.json'), size: -1 }], /size -1/],
  ];
  it.each(cases)('%s: E_BAD_LISTING (exit 6), one line, no body request, nothing written', async (_, make, msg) => {
    server.setListing(REPO_ID, make());
    const { parent, cache } = await sandbox();
    const err = await downloadRepo(params(cache)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect(err).toMatchObject({ code: 'E_BAD_LISTING', exitCode: 6, message: expect.stringMatching(msg) });
    expect((err as Error).message).not.toContain('\n');
    expect((err as Error).message).not.toContain('\0');
    expect(bodyRequests(server)).toEqual([]);
    expect(await tree(parent)).toEqual(['a', 'a/b', 'a/b/c', 'a/b/c/cache']);
  });

  it('the same entry twice with the same content (a paging overlap) is fetched once', async () => {
    server.setListing(REPO_ID, [server.entry('config.json', files[0]!.content), server.entry('config.json', files[0]!.content)]);
    const { cache } = await sandbox();
    const r = await downloadRepo(params(cache));
    expect(r.files.map((f) => f.path)).toEqual(['config.json']);
    expect((await readFile(join(r.path, 'config.json'))).equals(files[0]!.content)).toBe(true);
  });

  it('a 255-byte name is written in the cache and, in a local dir, with a short partial name', async () => {
    const name = `${'n'.repeat(240)}.safetensors`.slice(0, 255);
    const content = bytes(5000, 9);
    server.addCommit(REPO_ID, [{ path: name, content, lfs: true }]);
    const { cache } = await sandbox();
    const r = await downloadRepo(params(cache));
    expect((await readFile(join(r.path, name))).equals(content)).toBe(true);
    const local = await tmpDir();
    // 246 bytes leave room for "<name>.metadata"; its partial "<name>.<sha256>.incomplete" would not fit
    const name2 = `${'m'.repeat(234)}.safetensors`;
    server.addCommit(REPO_ID, [{ path: name2, content, lfs: true }]);
    const r2 = await downloadRepo(params(local, { destination: { kind: 'local', dir: local } }));
    expect((await readFile(join(r2.path, name2))).equals(content)).toBe(true);
  });

  it('a name that leaves no room for its .metadata file in a local dir is refused up front (E_PATH_TOO_LONG, exit 3)', async () => {
    server.addCommit(REPO_ID, [{ path: `${'m'.repeat(250)}.json`, content: ok }]);
    const local = await tmpDir();
    await expect(downloadRepo(params(local, { destination: { kind: 'local', dir: local } }))).rejects.toMatchObject({ code: 'E_PATH_TOO_LONG', exitCode: 3 });
    expect(bodyRequests(server)).toEqual([]);
  });

  it('a path that exceeds PATH_MAX once joined to the cache folder is refused up front (E_PATH_TOO_LONG, exit 3)', async () => {
    const deep = Array.from({ length: 16 }, (_, i) => `${i}`.padEnd(250, 'z')).join('/');
    server.addCommit(REPO_ID, [{ path: deep, content: ok }]);
    const { cache } = await sandbox();
    await expect(downloadRepo(params(cache))).rejects.toMatchObject({ code: 'E_PATH_TOO_LONG', exitCode: 3 });
    expect(bodyRequests(server)).toEqual([]);
  });

  it('a listed file inside .cache/huggingface/ of a local dir is refused (it would overwrite the metadata)', async () => {
    server.addCommit(REPO_ID, [{ path: '.cache/huggingface/download/config.json.metadata', content: ok }, { path: 'config.json', content: ok }]);
    const local = await tmpDir();
    await expect(downloadRepo(params(local, { destination: { kind: 'local', dir: local } }))).rejects.toMatchObject({ code: 'E_PATH_CONFLICT', exitCode: 3 });
    expect(bodyRequests(server)).toEqual([]);
  });
});

describe('transient socket errors are retried, then reported as network errors naming the file', () => {
  async function run(extra: Partial<DownloadParams> = {}) {
    const { cache } = await sandbox();
    const events: DownloadEvent[] = [];
    const r = await downloadRepo(params(cache, { include: [SHARD.path], onEvent: (e) => events.push(e), ...extra }));
    return { r, events, data: await readFile(join(r.path, SHARD.path)) };
  }
  const transports: [string, Partial<DownloadParams>][] = [['socket transport', {}], ['fetch transport', { fetch: globalThis.fetch }]];

  describe.each(transports)('%s', (_, transport) => {
    it('a connection reset mid-body resumes with Range', async () => {
      server.fault({ path: SHARD.path, kind: 'reset', after: 1_000_000 });
      const { data, events } = await run(transport);
      expect(data.equals(SHARD.content)).toBe(true);
      expect(events.filter((e) => e.type === 'retry').map((e) => (e as { reason: string }).reason)[0]).toMatch(/ECONNRESET|terminated|closed|socket/i);
    });

    it('a reset before the response head is retried', async () => {
      server.fault({ path: SHARD.path, kind: 'resetHead', times: 2 });
      const { data, events } = await run(transport);
      expect(data.equals(SHARD.content)).toBe(true);
      expect(events.filter((e) => e.type === 'retry')).toHaveLength(2);
    });

    it('a refused connection after the CDN redirect is retried', async () => {
      server.fault({ path: SHARD.path, kind: 'refuseAfterRedirect', times: 2 });
      const { data, events } = await run(transport);
      expect(data.equals(SHARD.content)).toBe(true);
      expect(events.filter((e) => e.type === 'retry').map((e) => (e as { reason: string }).reason)).toEqual(['connection error ECONNREFUSED', 'connection error ECONNREFUSED']);
    });

    it('a reset of a small file served by the hub itself is retried', async () => {
      server.fault({ path: 'config.json', kind: 'reset', after: 10 });
      const { cache } = await sandbox();
      const r = await downloadRepo(params(cache, { include: ['config.json'], ...transport }));
      expect((await readFile(join(r.path, 'config.json'))).equals(files[0]!.content)).toBe(true);
    });

    it('resets and refusals that persist end with E_NETWORK (exit 6) naming the file, after the bounded attempts', async () => {
      for (const kind of ['reset', 'refuseAfterRedirect', 'resetHead'] as const) {
        server.clearFaults();
        server.fault({ path: SHARD.path, kind, after: 100_000, times: 1000 });
        const err = await run(transport).catch((e: unknown) => e);
        expect(err, kind).toBeInstanceOf(NetworkError);
        expect(err, kind).toMatchObject({ code: 'E_NETWORK', exitCode: 6, message: expect.stringContaining(SHARD.path) });
        expect((err as Error).message, kind).toMatch(/gave up after 6 attempts/);
      }
    });
  });

  it('listing requests that are reset or refused with 503 are retried and reported through onEvent', async () => {
    server.fault({ path: 'api:revision', kind: 'resetHead' });
    server.fault({ path: 'api:tree', kind: 'status', status: 503 });
    const { events } = await run();
    const retries = events.filter((e) => e.type === 'retry') as { path: string; reason: string; attempt: number; delayMs: number }[];
    expect(retries.map((e) => e.path)).toEqual([expect.stringContaining('repository org/m1 at revision "main"'), expect.stringContaining('file list of org/m1')]);
    expect(retries.every((e) => e.attempt === 1 && e.delayMs === FAST_RETRY.baseDelayMs)).toBe(true);
  });

  it('a listing that stays unreachable ends with E_NETWORK (exit 6), every retry reported, "1 attempt" in the singular', async () => {
    server.fault({ path: 'api:revision', kind: 'resetHead', times: 1000 });
    const events: DownloadEvent[] = [];
    const { cache } = await sandbox();
    await expect(downloadRepo(params(cache, { onEvent: (e) => events.push(e) }))).rejects.toMatchObject({ code: 'E_NETWORK', exitCode: 6, message: expect.stringMatching(/gave up after 6 attempts/) });
    expect(events.filter((e) => e.type === 'retry')).toHaveLength(FAST_RETRY.maxAttempts - 1);
    await expect(downloadRepo(params(cache, { retry: { ...FAST_RETRY, maxAttempts: 1 } }))).rejects.toMatchObject({ message: expect.stringMatching(/gave up after 1 attempt\)/) });
    server.clearFaults();
    server.fault({ path: 'config.json', kind: 'status', status: 500, times: 1000 });
    await expect(downloadRepo(params(cache, { include: ['config.json'], retry: { ...FAST_RETRY, maxAttempts: 1 } }))).rejects.toMatchObject({ message: expect.stringMatching(/config\.json: .*gave up after 1 attempt\)/) });
  });

  it('an endpoint that refuses connections fails as E_NETWORK (exit 6), not an internal error', async () => {
    const { cache } = await sandbox();
    await expect(downloadRepo(params(cache, { endpoint: `http://127.0.0.1:${server.deadPort}`, retry: { ...FAST_RETRY, maxAttempts: 2 } }))).rejects.toMatchObject({ code: 'E_NETWORK', exitCode: 6 });
  });

  it('classifies socket, TLS and DNS error codes', () => {
    const err = (code: string, wrap = false) => (wrap ? Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('x'), { code }) }) : Object.assign(new Error('x'), { code, syscall: 'read' }));
    const transient = ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'EPROTO', 'UND_ERR_SOCKET', 'ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC'];
    for (const c of transient) for (const w of [false, true]) expect(isTransientNetworkError(err(c, w)), `${c} ${w}`).toBe(true);
    expect(isTransientNetworkError(new Error('socket hang up'))).toBe(true);
    for (const c of ['ENOSPC', 'EIO', 'EACCES', 'EROFS']) expect(isTransientNetworkError(err(c)), c).toBe(false);
    for (const c of ['DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_TLS_CERT_ALTNAME_INVALID']) {
      expect(permanentNetworkError(err(c, true), 'f.bin'), c).toMatchObject({ code: 'E_TLS', exitCode: 6, message: expect.stringContaining('f.bin') });
    }
    expect(permanentNetworkError(err('ENOTFOUND', true), 'hub')).toMatchObject({ code: 'E_DNS', exitCode: 6 });
    expect(permanentNetworkError(err('ECONNRESET', true), 'hub')).toBeUndefined();
  });

  it('errors crossing the transfer-thread boundary keep their class, code, hint and file', () => {
    const net = rebuildError({ name: 'M1kitError', code: 'E_NETWORK', exitCode: 6, message: 'm.safetensors: gave up', hint: 'rerun', file: 'm.safetensors' });
    expect(net).toBeInstanceOf(NetworkError);
    expect(net).toMatchObject({ code: 'E_NETWORK', exitCode: 6, hint: 'rerun', file: 'm.safetensors' });
    expect(rebuildError({ code: 'E_BUSY', exitCode: 3, message: 'busy' })).toBeInstanceOf(InputError);
    expect(rebuildError({ code: 'ENOSPC', syscall: 'write', message: 'no space' })).toMatchObject({ code: 'ENOSPC', syscall: 'write' });
  });
});

describe('a download by commit', () => {
  it('creates an empty refs/ folder, so @huggingface/hub scanCacheDir lists the repo', async () => {
    const { scanCacheDir } = await import('@huggingface/hub');
    const { cache } = await sandbox();
    const commit = server.addCommit(REPO_ID, files.slice(0, 2));
    await downloadRepo(params(cache, { revision: commit }));
    expect((await stat(join(cache, 'models--org--m1', 'refs'))).isDirectory()).toBe(true);
    expect(await readdir(join(cache, 'models--org--m1', 'refs'))).toEqual([]);
    const info = await scanCacheDir(cache);
    expect(info.repos.map((r) => r.id.name)).toEqual([REPO_ID]);
    expect(info.repos[0]!.revisions.map((v) => [v.commitOid, v.refs])).toEqual([[commit, []]]);
  });
});
