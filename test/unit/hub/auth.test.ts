import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { downloadRepo } from '../../../src/core/hub/download-repo.js';
import { createHubFetch, MAX_REDIRECTS } from '../../../src/core/hub/hub-fetch.js';
import { tmpDir } from '../../helpers/tmp.js';
import { REPO_ID, repoFiles, start, type HubServer } from '../../helpers/hub/repo.js';

/** A token in a mirror's own format (no hf_ prefix: @huggingface/hub alone would reject it). */
const TOKEN = 'mirror-secret-token-0123456789';
let server: HubServer | undefined;
afterEach(() => server?.close());

describe('credentials', () => {
  it('sends the token to the hub origin only; the cross-origin CDN never sees Authorization', async () => {
    server = await start({ token: TOKEN });
    server.addCommit(REPO_ID, repoFiles());
    const cache = await tmpDir();
    await downloadRepo({ repo: REPO_ID, destination: { kind: 'cache', cacheDir: cache }, endpoint: server.url, token: TOKEN });
    const hub = server.log.filter((l) => l.server === 'hub');
    const cdn = server.log.filter((l) => l.server === 'cdn');
    expect(cdn.length).toBe(2);
    expect(hub.every((l) => l.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(cdn.every((l) => l.authorization === undefined)).toBe(true);
  });

  it('without a token a private repo is a clear E_AUTH (exit 6) with a hint', async () => {
    server = await start({ token: TOKEN });
    server.addCommit(REPO_ID, repoFiles());
    const cache = await tmpDir();
    const p = downloadRepo({ repo: REPO_ID, destination: { kind: 'cache', cacheDir: cache }, endpoint: server.url });
    await expect(p).rejects.toMatchObject({ code: 'E_AUTH', exitCode: 6, hint: expect.stringContaining('HF_TOKEN') });
  });
});

describe('redirects', () => {
  let loop: http.Server | undefined;
  afterEach(() => new Promise<void>((ok) => (loop ? loop.close(() => ok()) : ok())));

  it('a redirect loop stops after MAX_REDIRECTS hops', async () => {
    let hits = 0;
    loop = http.createServer((_req, res) => {
      hits++;
      res.writeHead(302, { location: '/again' });
      res.end();
    });
    await new Promise<void>((ok) => loop!.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(loop.address() as { port: number }).port}`;
    const f = createHubFetch({ endpoint: url });
    await expect(f(`${url}/start`)).rejects.toMatchObject({ code: 'E_REDIRECTS', exitCode: 6 });
    expect(hits).toBe(MAX_REDIRECTS + 1);
  });

  it('once a chain leaves the hub origin the token is not re-added, even back on the hub', async () => {
    const seen: (string | undefined)[] = [];
    loop = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      if (req.url === '/a') res.writeHead(302, { location: `http://localhost:${(loop!.address() as { port: number }).port}/b` });
      else if (req.url === '/b') res.writeHead(302, { location: `http://127.0.0.1:${(loop!.address() as { port: number }).port}/c` });
      else res.writeHead(200);
      res.end();
    });
    await new Promise<void>((ok) => loop!.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(loop.address() as { port: number }).port}`;
    const res = await createHubFetch({ endpoint: url, token: TOKEN })(`${url}/a`);
    expect(res.status).toBe(200);
    expect(seen).toEqual([`Bearer ${TOKEN}`, undefined, undefined]);
  });
});

describe('API timeouts', () => {
  let silent: http.Server | undefined;
  afterEach(() => {
    silent?.closeAllConnections();
    return new Promise<void>((ok) => (silent ? silent.close(() => ok()) : ok()));
  });

  it('a hub that never answers the revision call is retried, then fails with exit 6 (bounded)', async () => {
    let hits = 0;
    silent = http.createServer(() => {
      hits++; // never respond
    });
    await new Promise<void>((ok) => silent!.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    const cache = await tmpDir();
    const p = downloadRepo({ repo: REPO_ID, destination: { kind: 'cache', cacheDir: cache }, endpoint: url, stallTimeoutMs: 100, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
    await expect(p).rejects.toMatchObject({ code: 'E_NETWORK', exitCode: 6 });
    expect(hits).toBe(3);
  });
});
