import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hubSettings, normalizeEndpoint, redactToken } from '../../../src/core/hub/env.js';
import { filterPaths, globMatch } from '../../../src/core/hub/glob.js';
import { createContentHasher, hashKindOf } from '../../../src/core/hub/hashing.js';
import { isRepoId, isSafeRepoPath } from '../../../src/core/hub/names.js';
import { backoffDelay, parseRetryAfter, withRetry, RetryableError } from '../../../src/core/hub/retry.js';
import { resolveUrl } from '../../../src/core/hub/download-repo.js';
import { repoFolderName } from '../../../src/core/hub/cache-layout.js';

describe('glob (fnmatch semantics of hf download)', () => {
  it('matches like fnmatch.fnmatchcase', () => {
    expect(globMatch('*.json', 'config.json')).toBe(true);
    expect(globMatch('*.json', 'sub/config.json')).toBe(true); // * crosses /
    expect(globMatch('*.JSON', 'config.json')).toBe(false); // case-sensitive
    expect(globMatch('model-0000?-of-00413.safetensors', 'model-00007-of-00413.safetensors')).toBe(true);
    expect(globMatch('model-0000[0-4]-*', 'model-00005-of-00413.safetensors')).toBe(false);
    expect(globMatch('model-0000[!0-4]-*', 'model-00005-of-00413.safetensors')).toBe(true);
    expect(globMatch('sub/', 'sub/a/b.txt')).toBe(true); // trailing / = everything under it
    expect(globMatch('a.b', 'axb')).toBe(false); // dots are literal
    expect(globMatch('[', '[')).toBe(true); // unterminated class is literal
  });
  it('include then exclude', () => {
    const files = ['config.json', 'a.safetensors', 'b.safetensors', 'README.md'];
    expect(filterPaths(files, { include: ['*.safetensors', '*.json'], exclude: ['b.*'] }, (f) => f)).toEqual(['config.json', 'a.safetensors']);
    expect(filterPaths(files, { exclude: ['*.md'] }, (f) => f)).toEqual(files.slice(0, 3));
    expect(filterPaths(files, {}, (f) => f)).toEqual(files);
  });
});

describe('retry policy', () => {
  const policy = { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 30_000 };
  it('doubles, honours Retry-After, caps', () => {
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, policy))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffDelay(1, policy, 7000)).toBe(7000);
    expect(backoffDelay(10, policy)).toBe(30_000);
    expect(backoffDelay(1, policy, 3_600_000)).toBe(30_000);
  });
  it('parses Retry-After seconds and dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(10_000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
  it('gives up after maxAttempts with a network error (bounded loop)', async () => {
    let calls = 0;
    const p = withRetry(async () => {
      calls++;
      throw new RetryableError('HTTP 500');
    }, { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 }, { label: 'x' });
    await expect(p).rejects.toMatchObject({ code: 'E_NETWORK', exitCode: 6 });
    expect(calls).toBe(3);
  });
});

describe('hashes', () => {
  it('git blob sha1 equals `git hash-object` (hello\\n → ce0136…)', () => {
    const h = createContentHasher('git-sha1', 6);
    h.update('hello\n');
    expect(h.digest('hex')).toBe('ce013625030ba8dba906f756967f9e9ca394464a');
  });
  it('sha256 is plain sha256', () => {
    const h = createContentHasher('sha256', 3);
    h.update(Buffer.from('abc'));
    expect(h.digest('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
  it('kinds by digest length', () => {
    expect(hashKindOf('a'.repeat(64))).toBe('sha256');
    expect(hashKindOf('a'.repeat(40))).toBe('git-sha1');
    expect(hashKindOf('A'.repeat(40))).toBeUndefined();
    expect(hashKindOf(createHash('md5').update('').digest('hex'))).toBeUndefined();
  });
});

describe('environment and names', () => {
  it('reads HF_ENDPOINT, HF_TOKEN of any format, HF_HUB_CACHE, HF_HUB_OFFLINE', () => {
    const s = hubSettings({ HF_ENDPOINT: 'https://hf-mirror.com/', HF_TOKEN: 'mirror-token-123', HF_HUB_CACHE: '/c', HF_HUB_OFFLINE: '1', HF_HOME: '/nonexistent' });
    expect(s).toEqual({ endpoint: 'https://hf-mirror.com', token: 'mirror-token-123', cacheDir: '/c', offline: true });
    const d = hubSettings({ HF_HOME: '/h' });
    expect(d).toEqual({ endpoint: 'https://huggingface.co', cacheDir: '/h/hub', offline: false });
    expect(hubSettings({ HF_HOME: '/h' }, { endpoint: 'http://127.0.0.1:9', cacheDir: '/x' }).endpoint).toBe('http://127.0.0.1:9');
  });
  it('rejects endpoints that are not http(s) or carry credentials', () => {
    expect(() => normalizeEndpoint('ftp://x')).toThrow(/http or https/);
    expect(() => normalizeEndpoint('https://u:p@x')).toThrow(/credentials/);
    expect(() => normalizeEndpoint('not a url')).toThrow(/not a URL/);
  });
  it('redacts the token', () => {
    expect(redactToken('got Bearer abcd1234 back', 'abcd1234')).toBe('got Bearer *** back');
  });
  it('repo ids, safe paths, URLs, folder names', () => {
    expect(isRepoId('MiniMaxAI/MiniMax-M1-40k')).toBe(true);
    expect(isRepoId('../x')).toBe(false);
    expect(isRepoId('/tmp/dir')).toBe(false);
    expect(isSafeRepoPath('a/b.json')).toBe(true);
    for (const bad of ['../a', 'a/../b', '/etc/passwd', 'a\\b', 'a//b', '']) expect(isSafeRepoPath(bad), bad).toBe(false);
    expect(resolveUrl('http://h', 'o/n', 'c', 'dir/a b#.txt')).toBe('http://h/o/n/resolve/c/dir/a%20b%23.txt');
    expect(repoFolderName('MiniMaxAI/MiniMax-M1-40k')).toBe('models--MiniMaxAI--MiniMax-M1-40k');
  });
});
