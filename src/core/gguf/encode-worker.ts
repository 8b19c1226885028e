/** Worker entry of the encode pool: runs encode jobs and transfers the result bytes back. */
import { parentPort } from 'node:worker_threads';
import { runEncodeJob, type EncodeJob } from './encode-job.js';

parentPort?.on('message', (msg: { id: number; job: EncodeJob }) => {
  try {
    const out = runEncodeJob(msg.job);
    const own = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out : new Uint8Array(out);
    parentPort!.postMessage({ id: msg.id, out: own }, [own.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ id: msg.id, error: (e as Error).message });
  }
});
