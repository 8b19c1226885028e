/**
 * Copy a byte range between two open files: in the kernel (copy_file_range through the native addon)
 * when it is loaded, else a positioned read/write loop through reusable 16 MiB buffers. The bytes never
 * change; the file positions of both descriptors are not used or moved.
 */
import type { FileHandle } from 'node:fs/promises';
import { read, write } from 'node:fs';
import { promisify } from 'node:util';
import { InputError } from '../errors.js';
import { COPY_LOOP_BUFFER_BYTES, COPY_LOOP_BUFFERS_KEPT, WRITEBACK_CALL_BYTES } from '../io-tuning.js';
import * as native from '../../native/index.js';
import { useNative, type Backend } from './common.js';

const readAsync = promisify(read);
const writeAsync = promisify(write);

const idleBuffers: Buffer[] = [];

export interface CopyRangeOptions {
  /** 'auto' (native when loaded), 'native' (UnavailableError without the addon) or 'ref' (TypeScript loop). */
  backend?: Backend;
  /** Named in error messages. */
  label?: string;
  /**
   * Then start writing the copied output range to disk without waiting (native only: the loop leaves it
   * to the kernel's flusher), so that a later fsync has less left to do.
   */
  writeback?: boolean;
  /**
   * Copy in 2 MiB calls with a 20 µs pause after each (native only), so that a long copy leaves its CPU
   * now and then: on VMs whose disk needs idle vCPUs it keeps the writeback moving.
   */
  paced?: boolean;
}

const fdOf = (f: FileHandle | number): number => (typeof f === 'number' ? f : f.fd);

function checkRange(op: string, dims: Record<string, number>): void {
  for (const [k, v] of Object.entries(dims)) {
    if (!Number.isSafeInteger(v) || v < 0) throw new InputError('E_COPY_RANGE', `${op}: ${k} must be a non-negative integer, got ${v}`);
  }
}

async function copyLoop(fdIn: number, offIn: number, fdOut: number, offOut: number, length: number): Promise<number> {
  const buf = idleBuffers.pop() ?? Buffer.allocUnsafeSlow(COPY_LOOP_BUFFER_BYTES);
  try {
    let copied = 0;
    while (copied < length) {
      const { bytesRead: n } = await readAsync(fdIn, buf, 0, Math.min(buf.length, length - copied), offIn + copied);
      if (n === 0) break; // end of input
      let w = 0;
      while (w < n) w += (await writeAsync(fdOut, buf, w, n - w, offOut + copied + w)).bytesWritten;
      copied += n;
    }
    return copied;
  } finally {
    if (idleBuffers.length < COPY_LOOP_BUFFERS_KEPT) idleBuffers.push(buf);
  }
}

/**
 * Copy `length` bytes at `offIn` of `fdIn` to `offOut` of `fdOut`. Throws InputError E_TRUNCATED when
 * the input ends first. Resolves with `length`.
 * @example await copyRange(src.fd, src.absoluteOffset('w'), out.fd, out.absoluteOffset('w'), bytes);
 */
export async function copyRange(fdIn: FileHandle | number, offIn: number, fdOut: FileHandle | number, offOut: number, length: number, o: CopyRangeOptions = {}): Promise<number> {
  checkRange('copyRange', { offIn, offOut, length });
  if (length === 0) return 0;
  const a = fdOf(fdIn);
  const b = fdOf(fdOut);
  const copied = useNative(o, 'copyRange')
    ? await native.copyFileRange({ fdIn: a, offIn, fdOut: b, offOut, length, writeback: o.writeback === true, paced: o.paced === true }, 'copyRange')
    : await copyLoop(a, offIn, b, offOut, length);
  if (copied !== length) {
    throw new InputError('E_TRUNCATED', `${o.label ?? `fd ${a}`}: input ends after ${copied} of ${length} bytes copied from offset ${offIn}`);
  }
  return copied;
}

/**
 * Start writing `[offset, offset + length)` of `fd` to disk without waiting for the disk (native only;
 * without the addon the kernel's flusher does it later). Advisory: it resolves once the range is queued,
 * which can take a while when the device queue is full, so callers run it beside their copies and await
 * it only before fsync or close. Errors surface at the caller's fsync.
 */
export async function startWriteback(fd: FileHandle | number, offset: number, length: number): Promise<void> {
  checkRange('startWriteback', { offset, length });
  if (length === 0 || !useNative({}, 'writeback')) return;
  await native.writeback({ fd: fdOf(fd), offset, length });
}

/**
 * Reserve the disk blocks of `[offset, offset + length)` of `fd` before writing them (native only;
 * advisory). `keepSize` leaves the file size alone (a download's size is its progress); otherwise the
 * file grows to at least offset + length. True when the blocks were reserved; false without the addon,
 * on file systems that cannot, or when the disk is too full (the writes then fail as they would have).
 */
export async function preallocate(fd: FileHandle | number, offset: number, length: number, o: { keepSize?: boolean } = {}): Promise<boolean> {
  checkRange('preallocate', { offset, length });
  if (length === 0 || !useNative({}, 'fallocate')) return false;
  return (await native.fallocate({ fd: fdOf(fd), offset, length, keepSize: o.keepSize === true })) === 1;
}

/**
 * Grow the file to `size` bytes, reserving the blocks from `from` on when the file system can (writes
 * into reserved blocks cost less than filling a sparse file; both read as zeros until written).
 */
export async function extendFile(fd: FileHandle, from: number, size: number): Promise<void> {
  if (!(await preallocate(fd, from, Math.max(0, size - from)))) await fd.truncate(size);
}

export { WRITEBACK_CALL_BYTES };

/**
 * Writeback of ranges as they are written, one call in flight per file (a call can block on a full device
 * queue, and several would hold the thread pool's threads that reads and writes need); ranges added
 * meanwhile are merged and go out in calls of at most WRITEBACK_CALL_BYTES. `settle()` before fsync or close.
 */
export class WritebackPump {
  private running: Promise<void> | undefined;
  private next: [number, number] | undefined;
  constructor(private readonly fd: FileHandle | number) {}

  /** Queue [offset, offset + length) for writeback. */
  add(offset: number, length: number): void {
    if (length <= 0) return;
    const n = this.next;
    this.next = n ? [Math.min(n[0], offset), Math.max(n[0] + n[1], offset + length) - Math.min(n[0], offset)] : [offset, length];
    this.running ??= this.pump();
  }

  private async pump(): Promise<void> {
    while (this.next) {
      const [o, all] = this.next;
      const l = Math.min(all, WRITEBACK_CALL_BYTES);
      this.next = all > l ? [o + l, all - l] : undefined;
      await startWriteback(this.fd, o, l).catch(() => undefined); // advisory: fsync reports errors
    }
    this.running = undefined;
  }

  /** Drop what is not started yet and wait for the call in flight. */
  async settle(): Promise<void> {
    this.next = undefined;
    await this.running;
  }
}

