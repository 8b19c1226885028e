/**
 * The worker side of the protocol (protocol.ts): a worker module calls `serve` once with its operations.
 * Each operation gets its arguments and a context (an AbortSignal the host's cancel aborts, `emit` for
 * events, `transfer` to move buffers of the result instead of copying them) and returns its result or a
 * promise of it; a throw becomes the call's error. The module's `typeof handlers` is the type the host
 * is parameterised with, so both sides are checked against the same signatures.
 */
import { parentPort, type TransferListItem } from 'node:worker_threads';
import { plainError, type HostMessage, type WorkerMessage } from './protocol.js';

export interface CallContext<E = never> {
  /** Aborted when the host cancels this call. */
  readonly signal: AbortSignal;
  /** Send an event for this call to the host (before its result). */
  emit(event: E): void;
  /** Move these buffers to the host with the result, instead of copying them. */
  transfer(...list: TransferListItem[]): void;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Handler = (args: any, ctx: CallContext<any>) => unknown;
export type Handlers = Record<string, Handler>;

const isThenable = (v: unknown): v is PromiseLike<unknown> => typeof (v as { then?: unknown } | null)?.then === 'function';

/** Answer the host's calls with `handlers` (in a worker thread); returns them, for `typeof`. */
export function serve<H extends Handlers>(handlers: H): H {
  const port = parentPort;
  if (!port) throw new Error('serve() runs inside a worker thread');
  const running = new Map<number, AbortController>();
  const post = (m: WorkerMessage, transfer: TransferListItem[] = []) => port.postMessage(m, transfer);
  port.on('message', (m: HostMessage) => {
    if (m.t === 'cancel') {
      running.get(m.id)?.abort();
      return;
    }
    const { id } = m;
    const ac = new AbortController();
    const transfer: TransferListItem[] = [];
    const ctx: CallContext<unknown> = {
      signal: ac.signal,
      emit: (event) => post({ t: 'event', id, event }),
      transfer: (...list) => void transfer.push(...list),
    };
    const fail = (err: unknown) => post({ t: 'error', id, error: plainError(err) });
    let value: unknown;
    try {
      const h = Object.hasOwn(handlers, m.op) ? handlers[m.op] : undefined;
      if (!h) throw new Error(`worker has no operation "${m.op}"`);
      value = h(m.args, ctx);
    } catch (e) {
      fail(e);
      return;
    }
    if (!isThenable(value)) {
      post({ t: 'result', id, value }, transfer);
      return;
    }
    running.set(id, ac);
    value.then(
      (v) => post({ t: 'result', id, value: v }, transfer),
      fail,
    ).then(() => running.delete(id));
  });
  return handlers;
}
