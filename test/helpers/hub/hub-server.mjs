// Loopback Hugging Face hub for tests and the download benchmark (node:http, 127.0.0.1 only).
// Follows the contract in docs/ecosystem.md §1.4: revision and tree APIs (with Link pagination),
// paths-info, resolve with Range/206/Content-Range, ETag / X-Linked-Etag / X-Linked-Size / X-Repo-Commit,
// 302 of LFS files to a CDN on a second loopback port, 404 with X-Error-Code. Faults can be injected
// per file: drop the connection, stall, corrupt a byte, answer 500/429, ignore Range, reset the TCP
// connection (RST) mid-body or before the head, redirect to a port that refuses connections. Hostile
// servers: a raw listing served as given (`setListing`), and any revision resolved (`anyRevision`).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import http from 'node:http';

const gitSha1 = (buf) => createHash('sha1').update(`blob ${buf.length}\0`).update(buf).digest('hex');
const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

/**
 * Start the hub and its CDN.
 * @param {{ pageSize?: number, token?: string, echoAuthOnError?: boolean, anyRevision?: boolean }} opts
 *   anyRevision: unknown revisions resolve to the main branch (a hostile or careless mirror).
 *   token: when set, the hub answers 401 without it and 403 with another one (CDN never checks).
 */
export async function startHubServer(opts = {}) {
  /** repo → { branches: Map<rev, commit>, commits: Map<commit, Map<path, entry>> } */
  const repos = new Map();
  /** sha256 → entry (what the CDN serves) */
  const cdnBlobs = new Map();
  const log = [];
  const faults = [];
  const stalled = new Set();
  /** repo → raw tree entries served instead of the real listing */
  const rawListings = new Map();
  let commitCounter = 0;
  // a port with nothing listening: connections to it are refused
  const deadPort = await new Promise((ok) => {
    const s = http.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => ok(port));
    });
  });

  function addCommit(repo, files, branch = 'main') {
    let r = repos.get(repo);
    if (!r) repos.set(repo, (r = { branches: new Map(), commits: new Map() }));
    const commit = createHash('sha1').update(`${repo}:${++commitCounter}:${files.map((f) => f.path).join(',')}`).digest('hex');
    const map = new Map();
    for (const f of files) {
      // entries given as { path, content } (held in memory) or { path, file, size, sha256 } (served from disk)
      const size = f.content ? f.content.length : f.size;
      const e = { path: f.path, lfs: Boolean(f.lfs), size, content: f.content, file: f.file };
      e.sha256 = f.sha256 ?? sha256(f.content);
      e.oid = f.content ? gitSha1(f.content) : createHash('sha1').update(e.sha256).digest('hex');
      map.set(f.path, e);
      if (e.lfs) cdnBlobs.set(e.sha256, e);
    }
    r.commits.set(commit, map);
    r.branches.set(branch, commit);
    return commit;
  }

  function resolveRev(repo, rev) {
    const r = repos.get(repo);
    if (!r) return { error: 'RepoNotFound' };
    const commit = r.commits.has(rev) ? rev : r.branches.get(rev) ?? (opts.anyRevision ? r.branches.get('main') : undefined);
    if (!commit) return { error: 'RevisionNotFound' };
    return { commit, files: r.commits.get(commit) };
  }

  const takeFault = (path, kinds) => {
    const i = faults.findIndex((f) => f.path === path && kinds.includes(f.kind) && f.times > 0);
    if (i < 0) return undefined;
    const f = faults[i];
    f.times -= 1;
    return f;
  };

  function sendJson(res, status, body, headers = {}) {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  function notFound(res, code, message) {
    sendJson(res, 404, { error: message }, { 'x-error-code': code });
  }

  /** Serve entry bytes honouring Range, with the faults registered for its path. */
  function serveBody(req, res, entry, headers) {
    if (takeFault(entry.path, ['resetHead'])) return req.socket.resetAndDestroy(); // no response at all
    const statusFault = takeFault(entry.path, ['status']);
    if (statusFault) {
      res.writeHead(statusFault.status, statusFault.retryAfter !== undefined ? { 'retry-after': String(statusFault.retryAfter) } : {});
      return res.end(`injected ${statusFault.status}`);
    }
    const ignoreRange = req.headers.range !== undefined && Boolean(takeFault(entry.path, ['ignoreRange']));
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = entry.size - 1;
    let status = 200;
    if (m && !ignoreRange) {
      start = Number(m[1]);
      if (m[2] !== '') end = Math.min(end, Number(m[2]));
      if (start >= entry.size) {
        res.writeHead(416, { 'content-range': `bytes */${entry.size}` });
        return res.end();
      }
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${entry.size}`;
    }
    res.writeHead(status, { ...headers, 'accept-ranges': 'bytes', 'content-length': String(end - start + 1), 'content-type': 'application/octet-stream' });
    if (req.method === 'HEAD') return res.end();
    const reset = takeFault(entry.path, ['reset']);
    if (reset) {
      // RST after `after` bytes: the client sees ECONNRESET in the middle of the body
      const body = entry.content.subarray(start, end + 1);
      res.write(body.subarray(0, Math.min(body.length, reset.after)));
      setTimeout(() => res.socket?.resetAndDestroy(), 20);
      return;
    }
    const cut = takeFault(entry.path, ['drop', 'stall']);
    const corrupt = takeFault(entry.path, ['corrupt']);
    if (!entry.content && !cut && !corrupt) {
      createReadStream(entry.file, { start, end, highWaterMark: 1 << 20 }).pipe(res);
      return;
    }
    let body = entry.content.subarray(start, end + 1);
    if (corrupt && corrupt.at >= start && corrupt.at <= end) {
      body = Buffer.from(body);
      body[corrupt.at - start] ^= 0xff;
    }
    if (cut) {
      res.write(body.subarray(0, Math.min(body.length, cut.after)));
      if (cut.kind === 'drop') setTimeout(() => res.destroy(), 20);
      else stalled.add(res);
      return;
    }
    res.end(body);
  }

  function record(server, req, status) {
    log.push({ server, method: req.method, url: req.url, range: req.headers.range, authorization: req.headers.authorization, status });
  }

  const hub = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const auth = req.headers.authorization;
    res.on('finish', () => record('hub', req, res.statusCode));
    res.on('close', () => !res.writableFinished && record('hub', req, res.statusCode));
    if (opts.token !== undefined && auth !== `Bearer ${opts.token}`) {
      const status = auth ? 403 : 401;
      const body = { error: auth ? 'Access to this resource is restricted' : 'Invalid credentials in Authorization header' };
      if (opts.echoAuthOnError && auth) body.error += ` (received ${auth})`;
      return sendJson(res, status, body);
    }
    // faults on the API itself: path 'api:revision' or 'api:tree'
    const api = url.pathname.includes('/revision/') ? 'api:revision' : url.pathname.includes('/tree/') ? 'api:tree' : undefined;
    if (api && takeFault(api, ['resetHead'])) return req.socket.resetAndDestroy();
    const apiStatus = api && takeFault(api, ['status']);
    if (apiStatus) return sendJson(res, apiStatus.status, { error: `injected ${apiStatus.status}` });
    let m = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    if (m) {
      const r = resolveRev(m[1], decodeURIComponent(m[2]));
      if (r.error) return notFound(res, r.error, `${r.error} ${m[1]}`);
      return sendJson(res, 200, { _id: `id-${m[1]}`, id: m[1], sha: r.commit, private: opts.token !== undefined, gated: false, downloads: 0, likes: 0, lastModified: '2025-06-16T00:00:00.000Z', pipeline_tag: 'text-generation' });
    }
    m = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)(\/.*)?$/.exec(url.pathname);
    if (m) {
      const r = resolveRev(m[1], decodeURIComponent(m[2]));
      if (r.error) return notFound(res, r.error, `${r.error} ${m[1]}`);
      const prefix = m[3] ? decodeURIComponent(m[3].slice(1)) + '/' : '';
      const recursive = url.searchParams.get('recursive') === 'true';
      const entries = [];
      const dirs = new Set();
      if (rawListings.has(m[1])) entries.push(...rawListings.get(m[1]));
      else for (const e of r.files.values()) {
        if (!e.path.startsWith(prefix)) continue;
        const rest = e.path.slice(prefix.length);
        const parts = rest.split('/');
        for (let i = 1; i < parts.length; i++) dirs.add(prefix + parts.slice(0, i).join('/'));
        if (!recursive && parts.length > 1) continue;
        const item = { type: 'file', oid: e.oid, size: e.size, path: e.path };
        if (e.lfs) item.lfs = { oid: e.sha256, size: e.size, pointerSize: 134 };
        entries.push(item);
      }
      for (const d of dirs) if (recursive || !d.slice(prefix.length).includes('/')) entries.push({ type: 'directory', oid: '0'.repeat(40), size: 0, path: d });
      if (!rawListings.has(m[1])) entries.sort((a, b) => (a.path < b.path ? -1 : 1));
      const cursor = Number(url.searchParams.get('cursor') ?? 0);
      const size = opts.pageSize ?? 1000;
      const page = entries.slice(cursor, cursor + size);
      const headers = {};
      if (cursor + size < entries.length) {
        const next = new URL(url.href.replace('http://x', `http://127.0.0.1:${hub.address().port}`));
        next.searchParams.set('cursor', String(cursor + size));
        headers.link = `<${next.href}>; rel="next"`;
      }
      return sendJson(res, 200, page, headers);
    }
    m = /^\/api\/models\/([^/]+\/[^/]+)\/paths-info\/([^/]+)$/.exec(url.pathname);
    if (m && req.method === 'POST') {
      let raw = '';
      for await (const c of req) raw += c;
      const r = resolveRev(m[1], decodeURIComponent(m[2]));
      if (r.error) return notFound(res, r.error, r.error);
      const { paths = [] } = JSON.parse(raw || '{}');
      const out = paths.map((p) => r.files.get(p)).filter(Boolean).map((e) => ({
        type: 'file', path: e.path, size: e.size, oid: e.oid, ...(e.lfs ? { lfs: { oid: e.sha256, size: e.size, pointerSize: 134 } } : {}),
        lastCommit: { id: r.commit, title: 'upload', date: '2025-06-16T00:00:00.000Z' }, securityFileStatus: { status: 'safe' },
      }));
      return sendJson(res, 200, out);
    }
    m = /^\/([^/]+\/[^/]+)\/(resolve|raw)\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (m) {
      const r = resolveRev(m[1], decodeURIComponent(m[3]));
      if (r.error) return notFound(res, r.error, r.error);
      const path = m[4].split('/').map(decodeURIComponent).join('/');
      const e = r.files.get(path);
      if (!e) return notFound(res, 'EntryNotFound', `${path} does not exist at ${r.commit}`);
      if (e.lfs && m[2] === 'resolve') {
        const refused = takeFault(e.path, ['refuseAfterRedirect']);
        res.writeHead(302, {
          location: `http://127.0.0.1:${refused ? deadPort : cdn.address().port}/cdn/${e.sha256}`, 'x-linked-etag': `"${e.sha256}"`, 'x-linked-size': String(e.size),
          'x-repo-commit': r.commit, etag: `"${e.oid}"`,
        });
        return res.end();
      }
      return serveBody(req, res, e, { etag: `"${e.oid}"`, 'x-repo-commit': r.commit });
    }
    notFound(res, 'NotFound', `no route for ${url.pathname}`);
  });

  const cdn = http.createServer((req, res) => {
    res.on('finish', () => record('cdn', req, res.statusCode));
    res.on('close', () => !res.writableFinished && record('cdn', req, res.statusCode));
    const m = /^\/cdn\/([0-9a-f]{64})$/.exec(new URL(req.url, 'http://x').pathname);
    const e = m && cdnBlobs.get(m[1]);
    if (!e) {
      res.writeHead(404);
      return res.end();
    }
    serveBody(req, res, e, { etag: `"${e.sha256}"` });
  });

  await Promise.all([hub, cdn].map((s) => new Promise((ok) => s.listen(0, '127.0.0.1', ok))));
  return {
    url: `http://127.0.0.1:${hub.address().port}`,
    cdnUrl: `http://127.0.0.1:${cdn.address().port}`,
    log,
    faults,
    addCommit,
    /**
     * Serve these raw tree entries (in this order, unchecked) as the listing of `repo` at any revision;
     * `entry(path, content, lfs?)` builds a well-formed one.
     */
    setListing(repo, entries) {
      rawListings.set(repo, entries);
    },
    entry(path, content, lfs = false) {
      const item = { type: 'file', oid: gitSha1(content), size: content.length, path };
      if (lfs) item.lfs = { oid: sha256(content), size: content.length, pointerSize: 134 };
      return item;
    },
    deadPort,
    /**
     * Add a fault: { path, kind: 'drop'|'stall'|'corrupt'|'status'|'ignoreRange'|'reset'|'resetHead'|'refuseAfterRedirect',
     * after?, at?, status?, retryAfter?, times? }
     */
    fault(f) {
      faults.push({ times: 1, after: 0, ...f });
    },
    clearFaults() {
      faults.length = 0;
      for (const r of stalled) r.destroy();
      stalled.clear();
    },
    async close() {
      for (const r of stalled) r.destroy();
      for (const s of [hub, cdn]) s.closeAllConnections();
      await Promise.all([hub, cdn].map((s) => new Promise((ok) => s.close(ok))));
    },
  };
}

/** Deterministic pseudo-random bytes (xorshift32), so tests need no fixtures on disk. */
export function pseudoRandomBytes(n, seed = 1) {
  const out = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
