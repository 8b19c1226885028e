/**
 * Worker-thread entry for file transfers: HTTP parsing, hashing and writing of a file run off the main
 * thread, so several files use several cores (one Node thread tops out well below a fast link plus sha256).
 * Messages: in {run, id, job} / {abort, id}; out {bytes|event|done|error, id, …}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { fetchFile, type FetchFileResult, type TransferEvent } from './fetch-file.js';
import type { TransferJob } from './transfer-threads.js';
import { rawTransport } from './transport.js';

const port = parentPort!;
const { endpoint, token } = workerData as { endpoint: string; token?: string };
const transport = rawTransport(token !== undefined ? { endpoint, token } : { endpoint });
const running = new Map<number, AbortController>();

function plainError(err: unknown): Record<string, unknown> {
  const e = err as Record<string, unknown> & Error;
  const out: Record<string, unknown> = { name: e?.name, message: e?.message ?? String(err) };
  for (const k of ['code', 'exitCode', 'hint', 'file', 'syscall', 'errno', 'path']) if (e && e[k] !== undefined) out[k] = e[k];
  return out;
}

port.on('message', (m: { type: 'run'; id: number; job: TransferJob } | { type: 'abort'; id: number }) => {
  if (m.type === 'abort') return running.get(m.id)?.abort();
  const ac = new AbortController();
  running.set(m.id, ac);
  fetchFile({
    ...m.job,
    transport,
    signal: ac.signal,
    onBytes: (delta) => port.postMessage({ type: 'bytes', id: m.id, delta }),
    onEvent: (event: TransferEvent) => port.postMessage({ type: 'event', id: m.id, event }),
  }).then(
    (result: FetchFileResult) => port.postMessage({ type: 'done', id: m.id, result }),
    (err: unknown) => port.postMessage({ type: 'error', id: m.id, error: plainError(err) }),
  ).finally(() => running.delete(m.id));
});
