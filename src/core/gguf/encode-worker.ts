/** Worker module of the encode pool: runs encode jobs and moves the result bytes back. */
import { serve, type CallContext } from '../worker/serve.js';
import { ownBuffer, runEncodeJob, type EncodeJob } from './encode-job.js';

export const encodeWorker = {
  encode(job: EncodeJob, ctx: CallContext): Uint8Array {
    const out = ownBuffer(runEncodeJob(job));
    ctx.transfer(out.buffer as ArrayBuffer);
    return out;
  },
};

export type EncodeWorker = typeof encodeWorker;

serve(encodeWorker);
