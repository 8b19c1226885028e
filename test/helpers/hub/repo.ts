// Shared fixtures for the hub tests: a small MiniMax-M1-shaped repository served by the loopback hub.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
// @ts-expect-error plain .mjs helper shared with the benchmark
import { pseudoRandomBytes, startHubServer } from './hub-server.mjs';

export interface HubServer {
  url: string;
  cdnUrl: string;
  log: { server: 'hub' | 'cdn'; method: string; url: string; range?: string; authorization?: string; status: number }[];
  faults: unknown[];
  addCommit(repo: string, files: { path: string; content: Buffer; lfs?: boolean }[], branch?: string): string;
  fault(f: {
    path: string;
    kind: 'drop' | 'stall' | 'corrupt' | 'status' | 'ignoreRange' | 'reset' | 'resetHead' | 'refuseAfterRedirect';
    after?: number; at?: number; status?: number; retryAfter?: number | string; times?: number;
  }): void;
  /** Serve raw tree entries as the listing of `repo` (hostile listings). */
  setListing(repo: string, entries: ListingEntry[]): void;
  /** A well-formed listing entry for `content`. */
  entry(path: string, content: Buffer, lfs?: boolean): ListingEntry;
  /** A loopback port that refuses connections. */
  deadPort: number;
  clearFaults(): void;
  close(): Promise<void>;
}

export interface ListingEntry {
  type: string;
  oid: string;
  size: number;
  path: string;
  lfs?: { oid: string; size: number; pointerSize: number };
}

export const start = startHubServer as (opts?: { pageSize?: number; token?: string; echoAuthOnError?: boolean; anyRevision?: boolean }) => Promise<HubServer>;
export const bytes = pseudoRandomBytes as (n: number, seed?: number) => Buffer;

export const REPO_ID = 'org/m1';

/** Two 0-based shards (LFS, served by the CDN), an index, a config and a nested small file. */
export function repoFiles(): { path: string; content: Buffer; lfs?: boolean }[] {
  return [
    { path: 'config.json', content: Buffer.from('{"model_type":"minimax_m1","num_hidden_layers":4}\n') },
    { path: 'model.safetensors.index.json', content: Buffer.from('{"metadata":{"total_size":5000000},"weight_map":{}}\n') },
    { path: 'model-00000-of-00002.safetensors', content: bytes(3_000_000, 11), lfs: true },
    { path: 'model-00001-of-00002.safetensors', content: bytes(2_000_000, 12), lfs: true },
    { path: 'docs/notes.md', content: Buffer.from('# notes\n') },
  ];
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Body requests (GET of a file's bytes) in the server log, by server. */
export function bodyRequests(s: HubServer): HubServer['log'] {
  return s.log.filter((l) => l.method === 'GET' && (l.server === 'cdn' || l.url.includes('/resolve/')));
}

/** Assert-friendly: every file of `files` read back from `dir` equals its content. */
export async function readBack(dir: string, files: { path: string }[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const f of files) out.set(f.path, await readFile(join(dir, ...f.path.split('/'))));
  return out;
}
