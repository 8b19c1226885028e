import { readFileSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { jsonDoc, m1kit, m1kitChild } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { REPO_ID, bytes, repoFiles, sha256, start, type HubServer } from '../helpers/hub/repo.js';

/** A mirror-style token (no hf_ prefix) that must never appear in any output. */
const TOKEN = 'mirror-secret-token-0123456789';
let server: HubServer | undefined;
afterEach(() => server?.close());

/** Environment isolating the CLI from the user's real HF settings. */
async function env(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const home = await tmpDir();
  return { HF_HOME: home, HF_HUB_CACHE: join(home, 'hub'), HF_ENDPOINT: server!.url, HF_TOKEN: '', HUGGING_FACE_HUB_TOKEN: '', HF_HUB_OFFLINE: '', ...extra };
}

/** The blob folder of REPO_ID in the cache of an env() environment. */
const blobsDir = (e: Record<string, string>) => join(e.HF_HUB_CACHE!, 'models--org--m1', 'blobs');

/** Size of a file; 0 while it does not exist. */
const sizeOf = async (path: string) => (await stat(path).catch(() => undefined))?.size ?? 0;

/**
 * Start a hub whose repository holds one LFS file, b.safetensors (`size` seeded bytes), whose transfer
 * stalls for good after `stallAfter` bytes. Returns the file's content, a fresh environment and the path
 * of its partial blob in that environment's cache.
 */
async function stallingDownload(size: number, seed: number, stallAfter: number) {
  server = await start();
  const big = bytes(size, seed);
  server.addCommit(REPO_ID, [{ path: 'b.safetensors', content: big, lfs: true }]);
  server.fault({ path: 'b.safetensors', kind: 'stall', after: stallAfter, times: Infinity });
  const e = await env();
  return { big, e, partial: join(blobsDir(e), `${sha256(big)}.incomplete`) };
}

describe('m1kit download (built CLI)', () => {
  it('--json prints one summary document and exit 0', async () => {
    server = await start();
    const commit = server.addCommit(REPO_ID, repoFiles());
    const e = await env();
    const r = await m1kit(['download', REPO_ID, '--json'], { env: e });
    expect(r.code, r.stderr).toBe(0);
    const doc = jsonDoc(r.stdout);
    expect(doc).toMatchObject({ schemaVersion: 1, command: 'download' });
    expect(doc.result).toMatchObject({ mode: 'download', repo: REPO_ID, revision: 'main', commit, layout: 'cache', dryRun: false, verified: true });
    expect(doc.result.path).toBe(join(e.HF_HUB_CACHE!, 'models--org--m1', 'snapshots', commit));
    const total = repoFiles().reduce((a, f) => a + f.content.length, 0);
    expect(doc.result.totals).toEqual({ files: 5, bytes: total, downloadedFiles: 5, presentFiles: 0, bytesToFetch: total, repairedFiles: 0 });
    expect(doc.result.presentCheck).toBe('size');
    const shard = doc.result.files.find((f: { path: string }) => f.path === 'model-00000-of-00002.safetensors');
    expect(shard).toEqual({ path: 'model-00000-of-00002.safetensors', size: 3_000_000, hashKind: 'sha256', hash: sha256(repoFiles()[2]!.content), status: 'downloaded' });
  });

  it('never prints the token, even with --verbose, on success and on a server that echoes it', async () => {
    server = await start({ token: TOKEN, echoAuthOnError: true });
    server.addCommit(REPO_ID, repoFiles());
    const ok = await m1kit(['--verbose', 'download', REPO_ID], { env: await env({ HF_TOKEN: TOKEN }) });
    expect(ok.code, ok.stderr).toBe(0);
    expect(server.log.filter((l) => l.server === 'hub').every((l) => l.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(server.log.filter((l) => l.server === 'cdn').every((l) => l.authorization === undefined)).toBe(true);
    const wrong = `${TOKEN}-revoked`;
    const bad = await m1kit(['--verbose', 'download', REPO_ID], { env: await env({ HF_TOKEN: wrong }) });
    expect(bad.code).toBe(6);
    expect(bad.stderr).toMatch(/access to repository org\/m1 at revision "main" denied \(HTTP 403\)/);
    const badJson = await m1kit(['--json', '--verbose', 'download', REPO_ID], { env: await env({ HF_TOKEN: wrong }) });
    expect(jsonDoc(badJson.stdout).error.code).toBe('E_AUTH');
    for (const out of [ok.stdout, ok.stderr, bad.stdout, bad.stderr, badJson.stdout, badJson.stderr]) {
      expect(out).not.toContain(TOKEN);
      expect(out).not.toContain(TOKEN.slice(0, 12));
    }
  });

  it('faults on several files at once (transfers in worker threads) end byte-identical', async () => {
    server = await start();
    const files = repoFiles();
    server.addCommit(REPO_ID, files);
    server.fault({ path: files[2]!.path, kind: 'drop', after: 1_500_000 });
    server.fault({ path: files[3]!.path, kind: 'corrupt', at: 1_999_999 });
    server.fault({ path: 'config.json', kind: 'status', status: 503, retryAfter: 0 });
    const e = await env();
    const r = await m1kit(['download', REPO_ID, '--json', '--concurrency', '4', '--threads', '2'], { env: e });
    expect(r.code, r.stderr).toBe(0);
    const snap = jsonDoc(r.stdout).result.path;
    for (const f of files) expect((await readFile(join(snap, f.path))).equals(f.content), f.path).toBe(true);
    const cdn = server.log.filter((l) => l.server === 'cdn');
    expect(cdn.filter((l) => l.range === 'bytes=1500000-')).toHaveLength(1);
    expect(cdn.filter((l) => l.url === `/cdn/${sha256(files[3]!.content)}`)).toHaveLength(2);
  });

  it('--dry-run with --include lists without writing', async () => {
    server = await start();
    server.addCommit(REPO_ID, repoFiles());
    const e = await env();
    const r = await m1kit(['download', REPO_ID, '--include', '*.json', 'docs/', '--dry-run', '--json'], { env: e });
    expect(r.code, r.stderr).toBe(0);
    const res = jsonDoc(r.stdout).result;
    expect(res.files.map((f: { path: string; status: string }) => [f.path, f.status])).toEqual([
      ['config.json', 'planned'], ['docs/notes.md', 'planned'], ['model.safetensors.index.json', 'planned'],
    ]);
    expect(res.dryRun).toBe(true);
    await expect(stat(e.HF_HUB_CACHE!)).rejects.toThrow();
  });

  it('Ctrl-C (SIGINT) mid-file exits 130 and keeps the partial file', async () => {
    const { e, partial } = await stallingDownload(6_000_000, 23, 5_000_000);
    const child = m1kitChild(['download', REPO_ID], { env: e });
    await until('a partial file to appear', async () => (await sizeOf(partial)) > 0);
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(130);
    const kept = (await stat(partial)).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(5_000_000);
    // the partial file is consistent: the next run continues from exactly its size
    server.clearFaults();
    server.log.length = 0;
    const again = await m1kit(['download', REPO_ID, '--quiet'], { env: e });
    expect(again.code, again.stderr).toBe(0);
    expect(server.log.filter((l) => l.server === 'cdn').map((l) => l.range)).toEqual([`bytes=${kept}-`]);
  });

  it('exit codes: 404 → 6 (one line), bad repo id → 2', async () => {
    server = await start();
    server.addCommit(REPO_ID, repoFiles());
    const nf = await m1kit(['download', 'org/missing'], { env: await env() });
    expect(nf.code).toBe(6);
    expect(nf.stderr.split('\n')[0]).toBe('m1kit download: error E_REMOTE_NOT_FOUND: repository org/missing at revision "main" not found (HTTP 404)');
    const usage = await m1kit(['download', 'not-a-repo'], { env: await env() });
    expect(usage.code).toBe(2);
  });

  it('--verify re-hashes a download: 0 when intact, 4 naming the damaged file', async () => {
    server = await start();
    server.addCommit(REPO_ID, repoFiles());
    const e = await env();
    expect((await m1kit(['download', REPO_ID, '--quiet'], { env: e })).code).toBe(0);
    const ok = await m1kit(['download', '--verify', REPO_ID, '--json'], { env: e });
    expect(ok.code, ok.stderr).toBe(0);
    expect(jsonDoc(ok.stdout).result).toMatchObject({ mode: 'verify', ok: true, listingChecked: true });
    const blob = join(blobsDir(e), sha256(repoFiles()[3]!.content));
    const data = await readFile(blob);
    data[100] = (data[100]! + 1) & 0xff;
    await writeFile(blob, data);
    const bad = await m1kit(['download', '--verify', REPO_ID], { env: e });
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain('model-00001-of-00002.safetensors (hash-mismatch');
  });

  it('resumes after the real CLI process is killed mid-file: byte-identical, finished files not fetched again', async () => {
    server = await start();
    const small = bytes(1_000_000, 21);
    const big = bytes(6_000_000, 22);
    server.addCommit(REPO_ID, [
      { path: 'config.json', content: Buffer.from('{}\n') },
      { path: 'a.safetensors', content: small, lfs: true },
      { path: 'b.safetensors', content: big, lfs: true },
    ]);
    // the big file stops after 5 MB and stays silent: the process is mid-file when it is killed
    server.fault({ path: 'b.safetensors', kind: 'stall', after: 5_000_000, times: Infinity });
    const e = await env();
    const blobs = blobsDir(e);
    const child = m1kitChild(['download', REPO_ID, '--quiet'], { env: e });
    const partial = join(blobs, `${sha256(big)}.incomplete`);
    const smallDone = async () => (await stat(join(blobs, sha256(small))).catch(() => undefined)) !== undefined;
    await until('the download to reach the middle of b.safetensors', async () => (await smallDone()) && (await sizeOf(partial)) > 0);
    child.kill('SIGKILL');
    const killed = await child;
    expect(killed.signal).toBe('SIGKILL');
    const kept = (await stat(partial)).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(big.length);

    server.clearFaults();
    server.log.length = 0;
    const again = await m1kit(['download', REPO_ID, '--json'], { env: e });
    expect(again.code, again.stderr).toBe(0);
    const cdn = server.log.filter((l) => l.server === 'cdn');
    expect(cdn.map((l) => [l.url, l.range])).toEqual([[`/cdn/${sha256(big)}`, `bytes=${kept}-`]]);
    const snap = jsonDoc(again.stdout).result.path;
    expect((await readFile(join(snap, 'b.safetensors'))).equals(big)).toBe(true);
    expect((await readFile(join(snap, 'a.safetensors'))).equals(small)).toBe(true);
    const files = jsonDoc(again.stdout).result.files;
    expect(files.find((f: { path: string }) => f.path === 'b.safetensors')).toMatchObject({ status: 'downloaded', resumedFrom: kept });
    expect(files.find((f: { path: string }) => f.path === 'a.safetensors')).toMatchObject({ status: 'present' });
  });
});

/** Wait until `cond` holds (polling), or fail naming `what`. */
async function until(what: string, cond: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('m1kit download: hostile hubs and faults (built CLI)', () => {
  it('resets and refusals in the worker threads are retried; a refusal that persists is exit 6, one line naming the file, no stack trace', async () => {
    server = await start();
    const files = repoFiles();
    server.addCommit(REPO_ID, files);
    server.fault({ path: files[2]!.path, kind: 'reset', after: 1_000_000 });
    server.fault({ path: files[3]!.path, kind: 'refuseAfterRedirect' });
    server.fault({ path: 'config.json', kind: 'resetHead' });
    const e = await env();
    const r = await m1kit(['download', REPO_ID, '--json', '--concurrency', '4', '--threads', '2'], { env: e });
    expect(r.code, r.stderr).toBe(0);
    const snap = jsonDoc(r.stdout).result.path;
    for (const f of files) expect((await readFile(join(snap, f.path))).equals(f.content), f.path).toBe(true);

    server.fault({ path: files[2]!.path, kind: 'refuseAfterRedirect', times: 1000 });
    const bad = await m1kit(['download', REPO_ID, '--force-download', '--retries', '2', '--threads', '2'], { env: await env() });
    expect(bad.code, bad.stderr).toBe(6);
    const lines = bad.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('warning:'));
    expect(lines[0]).toMatch(/^m1kit download: /);
    expect(lines[0]).toContain(`${files[2]!.path}: connection error ECONNREFUSED (gave up after 2 attempts)`);
    expect(bad.stderr).not.toMatch(/^\s+at /m);
    expect(bad.stderr).not.toContain('internal error');
  });

  it('hostile revisions and repo ids are usage errors (exit 2) and nothing is written', async () => {
    server = await start({ anyRevision: true });
    server.addCommit(REPO_ID, repoFiles());
    const e = await env();
    for (const args of [[REPO_ID, '--revision', '../../../../X'], [REPO_ID, '--revision', 'a\\b'], ['a/.'], ['a/..'], ['a--b/c']]) {
      const r = await m1kit(['download', ...args], { env: e });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
    expect(server.log).toEqual([]);
    await expect(stat(e.HF_HUB_CACHE!)).rejects.toThrow();
  });

  it('retries are reported (file, reason, next attempt in N s); "1 attempt" and "1 file" in the singular', async () => {
    server = await start();
    server.addCommit(REPO_ID, repoFiles());
    server.fault({ path: 'api:revision', kind: 'resetHead' });
    server.fault({ path: 'config.json', kind: 'status', status: 500 });
    const e = await env();
    const r = await m1kit(['--verbose', 'download', REPO_ID, '--include', 'config.json'], { env: e });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: repository org\/m1 at revision "main": connection error ECONNRESET; attempt 2 of 6 in 1\.0 s/);
    expect(r.stderr).toMatch(/warning: config\.json: HTTP 500; attempt 2 of 6 in 1\.0 s/);
    expect(r.stderr).toMatch(/commit [0-9a-f]{40}: 1 file,/);
    server.fault({ path: 'config.json', kind: 'status', status: 500, times: 10 });
    const one = await m1kit(['download', REPO_ID, '--include', 'config.json', '--retries', '1', '--force-download'], { env: e });
    expect(one.code).toBe(6);
    expect(one.stderr).toContain('config.json: HTTP 500 (gave up after 1 attempt)');
  });

  it('a second download into the same cache waits for the first (naming it), --no-wait fails at once (exit 3), Ctrl-C ends the wait (130)', async () => {
    const { big, e, partial } = await stallingDownload(4_000_000, 31, 1_000_000);
    const first = m1kitChild(['download', REPO_ID, '--json'], { env: e });
    await until('the first download to hold its lock', async () => (await sizeOf(partial)) > 0);

    const noWait = await m1kit(['download', REPO_ID, '--no-wait'], { env: e });
    expect(noWait.code).toBe(3);
    expect(noWait.stderr).toContain(`b.safetensors is being downloaded by pid ${first.pid}`);

    const interrupted = m1kitChild(['download', REPO_ID], { env: e });
    let err1 = '';
    interrupted.stderr!.on('data', (d) => (err1 += String(d)));
    await until('the waiting message', () => err1.includes('waiting for'));
    const t0 = Date.now();
    interrupted.kill('SIGINT');
    expect((await interrupted).exitCode).toBe(130);
    expect(Date.now() - t0).toBeLessThan(3000);

    const second = m1kitChild(['download', REPO_ID, '--json'], { env: e });
    let err2 = '';
    second.stderr!.on('data', (d) => (err2 += String(d)));
    await until('the waiting message', () => err2.includes('waiting for'));
    expect(err2).toContain(`b.safetensors: waiting for pid ${first.pid}, which is downloading it`);
    server.clearFaults(); // the first download's stalled connection ends; it resumes and finishes
    const [a, b] = await Promise.all([first, second]);
    expect(a.exitCode, String(a.stderr)).toBe(0);
    expect(b.exitCode, String(b.stderr)).toBe(0);
    expect(jsonDoc(String(a.stdout)).result.files[0].status).toBe('downloaded');
    expect(jsonDoc(String(b.stdout)).result.files[0].status).toBe('present');
    expect(server.log.filter((l) => l.server === 'cdn' && l.status === 200 || l.status === 206).length).toBeGreaterThan(0);
    expect((await readFile(join(jsonDoc(String(b.stdout)).result.path, 'b.safetensors'))).equals(big)).toBe(true);
  });

  it('says whether files in place were re-hashed; --repair re-fetches a corrupt blob', async () => {
    server = await start();
    server.addCommit(REPO_ID, repoFiles());
    const e = await env();
    expect((await m1kit(['download', REPO_ID, '--quiet'], { env: e })).code).toBe(0);
    const blob = join(blobsDir(e), sha256(repoFiles()[3]!.content));
    const data = await readFile(blob);
    data[100] = (data[100]! + 1) & 0xff;
    await writeFile(blob, data);
    const again = await m1kit(['download', REPO_ID], { env: e });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/0 downloaded, 5 already present \([^)]*\); downloaded files hash\/size verified; 5 files already present: size checked, not re-hashed \(--repair/);
    expect(again.stdout).not.toContain('sha256/size verified');
    const repaired = await m1kit(['download', REPO_ID, '--repair'], { env: e });
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.stdout).toMatch(/1 downloaded \(1 repaired\), 4 already present \([^)]*\); every file hash\/size verified/);
    expect((await m1kit(['download', '--verify', REPO_ID], { env: e })).code).toBe(0);
  });

  it('TLS: a reset inside a TLS connection is retried; an untrusted certificate fails at once (E_TLS, exit 6)', async () => {
    server = await start();
    server.addCommit(REPO_ID, repoFiles());
    const dir = fileURLToPath(new URL('../helpers/hub/', import.meta.url));
    let resets = 1;
    // a TLS front for the hub: forwards every request, resets the connection once in the middle of config.json
    const front = https.createServer({ key: readFileSync(`${dir}tls-key.pem`), cert: readFileSync(`${dir}tls-cert.pem`) }, (req, res) => {
      const up = http.request(`${server!.url}${req.url}`, { method: req.method, headers: { ...req.headers, host: new URL(server!.url).host } }, (ur) => {
        res.writeHead(ur.statusCode!, ur.headers);
        if (req.url!.endsWith('/config.json') && resets-- > 0) {
          ur.once('data', (c: Buffer) => {
            res.write(c.subarray(0, 5));
            // RST on the TCP connection under TLS (a TLS socket cannot be reset itself)
            setTimeout(() => raw.get(req.socket.remotePort!)?.resetAndDestroy(), 20);
          });
          return;
        }
        ur.pipe(res);
      });
      req.pipe(up);
    });
    const raw = new Map<number, import('node:net').Socket>();
    front.on('connection', (sock: import('node:net').Socket) => {
      raw.set(sock.remotePort!, sock);
      sock.on('error', () => {});
    });
    await new Promise<void>((ok) => front.listen(0, '127.0.0.1', () => ok()));
    try {
      const endpoint = `https://localhost:${(front.address() as { port: number }).port}`;
      const e = await env({ HF_ENDPOINT: endpoint, NODE_EXTRA_CA_CERTS: `${dir}tls-cert.pem` });
      const r = await m1kit(['download', REPO_ID, '--include', 'config.json', '--json', '--timeout', '10'], { env: e });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/config\.json: connection error ECONNRESET; attempt 2 of 6/);
      expect(await readFile(join(jsonDoc(r.stdout).result.path, 'config.json'))).toEqual(repoFiles()[0]!.content);
      const untrusted = await m1kit(['download', REPO_ID, '--include', 'config.json'], { env: { ...e, NODE_EXTRA_CA_CERTS: '' } });
      expect(untrusted.code).toBe(6);
      expect(untrusted.stderr).toMatch(/TLS certificate rejected \(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
      expect(untrusted.stderr).not.toMatch(/attempt 2 of/);
    } finally {
      front.closeAllConnections();
      await new Promise((ok) => front.close(ok));
    }
  });
});
