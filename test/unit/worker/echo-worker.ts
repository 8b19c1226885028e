/** A worker module for the worker tests: each operation exercises one part of the protocol. */
import { InputError } from '../../../src/core/errors.js';
import { serve, type CallContext } from '../../../src/core/worker/serve.js';

export const echoWorker = {
  add(a: { x: number; y: number }): number {
    return a.x + a.y;
  },
  async count(n: number, ctx: CallContext<number>): Promise<string> {
    for (let i = 0; i < n; i++) ctx.emit(i);
    return 'counted';
  },
  fail(code: string): never {
    throw new InputError(code, `failed with ${code}`, { hint: 'a hint', file: 'x.bin' });
  },
  /** Waits until cancelled; resolves with how it ended. */
  wait(_: null, ctx: CallContext): Promise<string> {
    return new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve('cancelled')));
  },
  /** Doubles every byte and moves the buffer back. */
  double(b: Uint8Array, ctx: CallContext): Uint8Array {
    for (let i = 0; i < b.length; i++) b[i] = b[i]! * 2;
    ctx.transfer(b.buffer as ArrayBuffer);
    return b;
  },
  exit(code: number): void {
    process.exit(code);
  },
};

export type EchoWorker = typeof echoWorker;

serve(echoWorker);
