/**
 * Worker module for file transfers: HTTP parsing, hashing and writing of a file run off the main thread,
 * so several files use several cores (one Node thread tops out well below a fast link plus sha256).
 * One operation, `fetch`, whose events are the transfer's byte counts and retry/resume events.
 */
import { workerData } from 'node:worker_threads';
import { serve, type CallContext } from '../worker/serve.js';
import { fetchFile, type FetchFileParams, type FetchFileResult, type TransferEvent } from './fetch-file.js';
import { rawTransport } from './transport.js';

/** What a worker needs to fetch one file (structured-clone safe). */
export type TransferJob = Omit<FetchFileParams, 'transport' | 'signal' | 'onBytes' | 'onEvent'>;

/** The hub endpoint and token a transfer thread is started with. */
export interface TransferAuth {
  endpoint: string;
  token?: string;
}

export type TransferProgress = { kind: 'bytes'; delta: number } | { kind: 'event'; event: TransferEvent };

const auth = workerData as TransferAuth;
const transport = rawTransport(auth.token !== undefined ? { endpoint: auth.endpoint, token: auth.token } : { endpoint: auth.endpoint });

export const transferThread = {
  fetch(job: TransferJob, ctx: CallContext<TransferProgress>): Promise<FetchFileResult> {
    return fetchFile({
      ...job,
      transport,
      signal: ctx.signal,
      onBytes: (delta) => ctx.emit({ kind: 'bytes', delta }),
      onEvent: (event) => ctx.emit({ kind: 'event', event }),
    });
  },
};

export type TransferThread = typeof transferThread;

serve(transferThread);
