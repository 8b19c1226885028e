/**
 * What every run that writes an output (convert's directory, a GGUF file) takes about sharing that
 * output with other runs and the space it needs, and how those options reach the output's lock.
 */
import type { LockHolder, LockOptions } from './output-lock.js';

export interface OutputRunOptions {
  /** Wait for another run writing the same output to finish, instead of failing at once (E_BUSY). */
  wait?: boolean;
  /** Called once when this run starts waiting for the holder of the output's lock. */
  onWait?: (holder: LockHolder, lockFile: string) => void;
  /** Free bytes where the output is written (default: statfs of the file system; injectable for tests). */
  freeBytes?: (dir: string) => Promise<number>;
  signal?: AbortSignal;
}

/** The lock options that say how a run waits for the output's other holders. */
export const waitOptions = (p: OutputRunOptions): Pick<LockOptions, 'wait' | 'onWait' | 'signal'> => ({
  wait: Boolean(p.wait),
  ...(p.onWait ? { onWait: p.onWait } : {}),
  ...(p.signal ? { signal: p.signal } : {}),
});
